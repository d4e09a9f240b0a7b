"""Shared test fixtures: small county problems built from the real Yudu coordinates.

``make_problem`` builds a Problem from compact descriptions; ``tiny_problem`` is the base case
(three townships, two Dongguan factories, one Kunshan factory, a two-type fleet) that tests vary
with ``dataclasses.replace``.

The rules assume no county, so these Yudu problems say so: ``yudu_rules`` gives Yudu's home settings
(county, province, depot as in fixtures/yudu/policy.toml), and ``make_problem`` fills in whichever of
them the rules a test passes leave unset.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from fixtures.generate import YUDU_HOME
from scheduler.model import BusType, Factory, Problem, Township, Traveller
from scheduler.policy import PolicyRules

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "fixtures" / "data"
DAY = dt.date(2026, 2, 20)


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


TOWNSHIPS = tuple(
    Township(r["code"], r["name"], float(r["lat_wgs84"]), float(r["lon_wgs84"]))
    for r in _rows("county_yudu_townships.csv")
)
FACTORIES = tuple(
    Factory(
        f"F{i:02d}",
        r["name"] + "工厂",
        float(r["lat_wgs84"]),
        float(r["lon_wgs84"]),
        r["city"],
        r["province"],
        8 * 3600,
        20 * 3600,
    )
    for i, r in enumerate(_rows("destination_towns.csv"))
)


def yudu_rules(**settings: object) -> PolicyRules:
    """Rules for the fixture county: Yudu's county, province and depot, then ``settings`` (policy.toml names)."""
    return PolicyRules(**(YUDU_HOME | settings))


def with_yudu_home(rules: PolicyRules) -> PolicyRules:
    """``rules`` with each home setting it leaves unset (county, province, depot) taken from Yudu's."""
    return replace(rules, **{name: YUDU_HOME[name] for name in rules.missing_home_settings()})


def traveller(
    tid: str, township: Township, factory: Factory, group: str = "", poor: bool = False, report_days: int = 3
) -> Traveller:
    return Traveller(
        tid,
        f"旅客{tid}",
        "360731199001011234",
        "13800000000",
        township.township_id,
        factory.factory_id,
        DAY,
        DAY + dt.timedelta(days=report_days),
        group,
        poor,
    )


def make_problem(
    flows: list[tuple[int, int, list[int]]],
    fleet: tuple[BusType, ...],
    rules: PolicyRules | None = None,
    townships: tuple[Township, ...] = TOWNSHIPS,
    factories: tuple[Factory, ...] = FACTORIES,
) -> Problem:
    """``flows``: (township index, factory index, party sizes); a size of 1 travels alone, larger
    sizes are registered groups. ``rules`` default to ``yudu_rules()``; home settings they leave unset are
    Yudu's."""
    people = []
    for township_index, factory_index, sizes in flows:
        for size in sizes:
            group = f"G{len(people):04d}" if size > 1 else ""
            for _ in range(size):
                tid = f"T{len(people):04d}"
                people.append(traveller(tid, townships[township_index], factories[factory_index], group))
    return Problem(DAY, townships, factories, tuple(people), fleet, with_yudu_home(rules or PolicyRules()))


@pytest.fixture
def tiny_problem() -> Problem:
    """Three townships, two Dongguan factories and one Kunshan factory; small coaches, threshold 5."""
    fleet = (BusType("c12", 12, 3, 300.0, 1.0), BusType("c8", 8, 2, 250.0, 0.8))
    rules = yudu_rules(charter_min_group=5)
    return make_problem([(0, 0, [4, 3, 1]), (1, 0, [2, 2]), (2, 1, [5]), (0, 50, [6, 1])], fleet, rules)


__all__ = ["DAY", "FACTORIES", "TOWNSHIPS", "make_problem", "replace", "traveller", "with_yudu_home", "yudu_rules"]
