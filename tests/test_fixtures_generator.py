"""The Yudu fixture generator: realistic, deterministic, and in step with the committed files."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

import pytest
from stdnum.cn import ric

from fixtures.generate import (
    YUDU_HOME,
    busiest_day,
    expected_path,
    generate_county,
    policy_toml,
    write_invalid,
    write_scenario,
)
from scheduler.policy import PolicyRules, load_policy
from scheduler.validation import check_traveller_rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
Row = dict[str, str]


@pytest.fixture(scope="module")
def county() -> dict[str, list[Row]]:
    """The default county: 20,000 travellers, seed 7 (what fixtures/yudu/ holds)."""
    return generate_county(20000, 7)


def _read(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_same_seed_same_rows_and_different_seed_different_rows() -> None:
    """The generator is a pure function of its arguments."""
    assert generate_county(800, 3) == generate_county(800, 3)
    assert generate_county(800, 3)["travellers"] != generate_county(800, 4)["travellers"]


@pytest.mark.parametrize("travellers", [0, 1, 7, 999, 2500])
def test_exact_traveller_count(travellers: int) -> None:
    """Exactly the requested number of travellers, with unique ids."""
    rows = generate_county(travellers, 1)["travellers"]
    assert len(rows) == travellers
    assert len({r["traveller_id"] for r in rows}) == travellers


def test_id_numbers_valid_and_unique(county: dict[str, list[Row]]) -> None:
    """Every ID number passes stdnum (checksum, birth date, birth place) and none repeats."""
    numbers = [r["id_number"] for r in county["travellers"]]
    assert all(ric.is_valid(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert {n[:6] for n in numbers} == {"360731", "362132"}  # Yudu's code from 1998, and before


def test_phones_unique_mainland_mobiles(county: dict[str, list[Row]]) -> None:
    """Phones are unique 11-digit mainland mobile numbers."""
    phones = [r["phone"] for r in county["travellers"]]
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)
    assert len(set(phones)) == len(phones)


def test_groups_share_township_factory_and_dates(county: dict[str, list[Row]]) -> None:
    """All members of a group travel from one township to one factory in one date window."""
    shared: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for r in county["travellers"]:
        if r["group_id"]:
            shared[r["group_id"]].add((r["township_id"], r["factory_id"], r["earliest_date"], r["report_date"]))
    assert shared
    assert all(len(values) == 1 for values in shared.values())


def test_groups_larger_than_a_coach_exist(county: dict[str, list[Row]]) -> None:
    """Some groups need more than one 53-seat coach."""
    sizes: dict[str, int] = defaultdict(int)
    for r in county["travellers"]:
        if r["group_id"]:
            sizes[r["group_id"]] += 1
    assert max(sizes.values()) > 53


def test_factories_spread_over_cities(county: dict[str, list[Row]]) -> None:
    """At least 40 distinct factories in at least 5 cities, every traveller going to one of them."""
    factories = county["factories"]
    assert len(factories) >= 40
    assert len({f["city"] for f in factories}) >= 5
    assert len({(f["lat"], f["lon"]) for f in factories}) == len(factories)
    assert {r["factory_id"] for r in county["travellers"]} <= {f["factory_id"] for f in factories}


def test_rows_pass_the_scenario_checks(county: dict[str, list[Row]]) -> None:
    """The generated travellers are clean for scheduler.validation."""
    township_ids = {t["township_id"] for t in county["townships"]}
    factory_ids = {f["factory_id"] for f in county["factories"]}
    travellers, problems = check_traveller_rows(county["travellers"], township_ids, factory_ids)
    assert problems == []
    assert len(travellers) == 20000


def test_busiest_day_after_spring_festival(county: dict[str, list[Row]]) -> None:
    """The busiest day falls on the 4th-8th day of the new year."""
    day, _ = busiest_day(county["travellers"])
    assert dt.date(2026, 2, 20) <= day <= dt.date(2026, 2, 24)


def test_policy_loads_with_assembly_point(tmp_path: Path) -> None:
    """policy.toml loads, and its commented-out lines are exactly the defaults."""
    path = tmp_path / "policy.toml"
    text = policy_toml()
    path.write_text(text, encoding="utf-8")
    rules = load_policy(path)
    assert rules.county == "于都县"
    (point,) = rules.assembly_points
    assert point.point_id == "yudu_station" and 6 <= len(point.township_ids) <= 8
    assert point.township_ids[0] == "360731100"  # the county seat itself
    uncommented = re.sub(r"^# (\w+ = )", r"\1", text, flags=re.MULTILINE)
    path.write_text(uncommented, encoding="utf-8")
    assert load_policy(path) == rules == PolicyRules(**YUDU_HOME, assembly_points=rules.assembly_points)


def test_committed_fixture_matches_generator(tmp_path: Path) -> None:
    """fixtures/yudu/ and the invalid file are exactly what the script writes (regenerate on purpose)."""
    write_scenario(tmp_path / "yudu", 20000, 7)
    write_invalid(tmp_path / "invalid_travellers.csv")
    names = ["townships.csv", "factories.csv", "travellers.csv", "fleet.csv", "policy.toml"]
    for name in names:
        assert (tmp_path / "yudu" / name).read_bytes() == (FIXTURES / "yudu" / name).read_bytes(), name
    for name in ["invalid_travellers.csv", "invalid_travellers.expected.csv"]:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name


def test_invalid_file_lists_its_problems() -> None:
    """The invalid travellers file has at least 10 bad rows, and the checks find exactly those."""
    path = FIXTURES / "invalid_travellers.csv"
    expected = _read(expected_path(path))
    assert len(expected) >= 10
    assert len({e["row"] for e in expected}) == len(expected)  # one mistake per bad row
    rows = _read(path)
    county = generate_county(0)
    township_ids = {t["township_id"] for t in county["townships"]}
    factory_ids = {f["factory_id"] for f in county["factories"]}
    _, problems = check_traveller_rows(rows, township_ids, factory_ids)
    assert {(str(p.row), p.field) for p in problems} == {(e["row"], e["field"]) for e in expected}
