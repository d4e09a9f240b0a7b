"""The campaign benchmark harness: quick mode runs every method in its own process, every plan passes the
independent checker, the bound is below every plan, the manual method keeps its own rule, and the sparse shape is
what it says."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import campaign
from benchmarks.campaign_check import check_campaign
from benchmarks.campaign_methods import merged_day, run_manual
from fixtures.generate import generate_county, write_scenario
from scheduler.scenario import load_scenario


@pytest.fixture(scope="module")
def quick_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("quick") / "campaign.csv"
    assert campaign.main(["--quick", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_quick_mode_plans_both_shapes_every_way_and_checks_each_plan(quick_rows: list[dict[str, str]]) -> None:
    assert {(r["shape"], r["method"]) for r in quick_rows} == {
        (shape, method) for shape in ("fixture", "sparse") for method in campaign.METHODS
    }
    for shape in ("fixture", "sparse"):
        rows = {r["method"]: r for r in quick_rows if r["shape"] == shape}
        bound = float(rows["bound"]["cost"])
        assert bound > 0
        for method in ("day_by_day", "manual", "campaign"):
            row = rows[method]
            assert row["violations"] == "0", row
            assert float(row["cost"]) >= bound - 0.01, (shape, method, row["cost"], bound)
            # Everybody once: on a bus, on a fallback or overdue.
            assert int(row["on_buses"]) + int(row["fallback"]) + int(row["overdue"]) == int(row["travellers"])
        assert rows["day_by_day"]["wait_person_days"] == "0"  # everybody leaves on the first date they can
        assert rows["campaign"]["x_day_by_day"] == str(
            round(float(rows["campaign"]["cost"]) / float(rows["day_by_day"]["cost"]), 3)
        )


def test_manual_fills_each_coach_from_one_flow_on_a_date_every_rider_can_take(tmp_path: Path) -> None:
    write_scenario(tmp_path, travellers=1500, seed=3)
    scenario = load_scenario(tmp_path)
    start, end = campaign.season(tmp_path)
    plan = run_manual(scenario, start, end)
    assert all(n == 0 for n in check_campaign(scenario, plan).values())
    threshold = scenario.rules.charter_min_group
    people = {t.traveller_id: t for t in scenario.travellers}
    buses = [(d.plan.date, b) for d in plan.days for b in d.plan.buses]
    assert buses
    for day, bus in buses:
        riders = [people[t] for t in bus.traveller_ids]
        assert len({(t.township_id, t.factory_id) for t in riders}) == 1
        assert bus.load >= threshold and len(bus.stops) == 2
        assert all(t.earliest_date <= day <= t.report_date for t in riders)
    # Flows are gathered around a date: fewer buses leave than there are dates with riders of their flow.
    assert plan.wait_person_days > 0


def test_the_bound_day_lets_everyone_leave_on_one_day_with_their_own_window(tmp_path: Path) -> None:
    write_scenario(tmp_path, travellers=300, seed=5)
    scenario = load_scenario(tmp_path)
    start, end = campaign.season(tmp_path)
    day = merged_day(scenario, start, end)
    dates = (end - start).days + 1
    assert day.date == start and {t.earliest_date for t in day.travellers} == {start}
    by_id = {t.traveller_id: t for t in scenario.travellers}
    for t in day.travellers:
        was = by_id[t.traveller_id]
        assert t.report_date - t.earliest_date == was.report_date - max(was.earliest_date, start)
    assert [b.count for b in day.fleet] == [b.count * dates for b in scenario.fleet]


def test_the_sparse_shape_spreads_people_over_many_small_flows() -> None:
    sparse, fixture = generate_county(20000, 7, shape="sparse"), generate_county(20000, 7)
    assert len(sparse["factories"]) > 2 * len(fixture["factories"])

    def share_below_a_coach(county: dict) -> float:
        flows = Counter((r["township_id"], r["factory_id"]) for r in county["travellers"])
        return sum(n for n in flows.values() if n < 45) / len(county["travellers"])

    assert share_below_a_coach(sparse) > 0.8 > share_below_a_coach(fixture)
    assert len(sparse["travellers"]) == 20000
    with pytest.raises(ValueError, match="shape"):
        generate_county(10, shape="dense")


def test_season_is_the_first_earliest_to_the_last_report_date(tmp_path: Path) -> None:
    rows = write_scenario(tmp_path, travellers=200, seed=2)["travellers"]
    start, end = campaign.season(tmp_path)
    assert start == min(dt.date.fromisoformat(r["earliest_date"]) for r in rows)
    assert end == max(dt.date.fromisoformat(r["report_date"]) for r in rows)
