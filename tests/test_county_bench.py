"""The county benchmark harness: the manual baseline keeps the rules, the bound is a bound, quick mode runs."""

from __future__ import annotations

import csv
import dataclasses
import json
import pickle
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, make_problem, yudu_rules

from benchmarks import county
from benchmarks.check import check_county_plan
from benchmarks.county_day import CountyDay, load_day
from benchmarks.county_methods import run_baseline
from benchmarks.county_run import big_flow_fallback
from fixtures.generate import write_scenario
from scheduler.model import BusType, Problem
from scheduler.plan import Stop
from scheduler.policy import PolicyRules
from scheduler.solve import SolveParams, solve


@pytest.fixture(scope="module")
def small_day(tmp_path_factory: pytest.TempPathFactory) -> CountyDay:
    """The busiest day of a generated 1,500-traveller county (seed 7)."""
    folder = tmp_path_factory.mktemp("county") / "scenario"
    write_scenario(folder, travellers=1500, seed=7)
    return load_day(folder)


@pytest.fixture(scope="module")
def quick_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    """The CSV rows of one ``--quick`` run (a 2,000-traveller county, every method)."""
    out = tmp_path_factory.mktemp("quick") / "county.csv"
    assert county.main(["--quick", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_baseline_respects_threshold_fleet_and_rules(small_day: CountyDay) -> None:
    """Every baseline bus carries one flow of at least the threshold, within the fleet; the checker finds nothing."""
    plan = run_baseline(small_day).plan
    assert plan is not None and plan.buses
    rules = small_day.rules
    for bus in plan.buses:
        assert bus.load >= rules.charter_min_group
        assert len(bus.stops) == 2 and bus.stops[0].kind == "pickup" and bus.stops[1].kind == "dropoff"
    used = Counter(b.vehicle_type for b in plan.buses)
    fleet = {b.vehicle_type: b.count for b in small_day.problem.fleet}
    assert all(n <= fleet[v] for v, n in used.items())
    assert all(n == 0 for n in check_county_plan(small_day, plan).values())
    # No flow left on the fallback is big enough for a bus of its own.
    left: Counter[tuple[str, str]] = Counter()
    for f in plan.fallback:
        if f.mode != "unplaced":
            t = small_day.travellers[f.traveller_id]
            left[(t.township_id, t.factory_id)] += 1
    assert all(n < rules.charter_min_group for n in left.values()) or sum(used.values()) == sum(fleet.values())


def test_big_flow_fallback_counts_the_travellers_of_flows_at_the_threshold(small_day: CountyDay) -> None:
    """With everyone on the fallback it counts every reachable traveller of a flow of at least the threshold; the
    baseline, which gives each such flow its buses, leaves fewer."""
    everyone_off = small_day.plan([], small_day.fallback_for(small_day.parties))
    flows = Counter((t.township_id, t.factory_id) for t in small_day.problem.travellers)
    travellers = [small_day.travellers[i] for p in small_day.parties for i in p.traveller_ids]
    big = sum(flows[(t.township_id, t.factory_id)] >= small_day.rules.charter_min_group for t in travellers)
    assert big_flow_fallback(small_day, everyone_off) == big > 0
    assert big_flow_fallback(small_day, run_baseline(small_day).plan) < big


def test_checker_counts_stop_limit_and_capacity_violations(small_day: CountyDay) -> None:
    """A bus with too many riders or too many pickup stops is reported, not silently accepted."""
    plan = run_baseline(small_day).plan
    assert plan is not None
    bus = plan.buses[0]
    crowded = dataclasses.replace(bus, seats=bus.load - 1)
    extra = [dataclasses.replace(bus.stops[0], place_id=p, board=()) for p in list(small_day.townships)[:4]]
    many_stops = dataclasses.replace(bus, stops=(*extra, *bus.stops))
    found = check_county_plan(small_day, dataclasses.replace(plan, buses=(crowded, many_stops, *plan.buses[1:])))
    assert found["capacity"] >= 1
    assert found["pickup_stops"] >= 1


def test_the_planners_checker_and_the_independent_one_agree(small_day: CountyDay) -> None:
    """On fanggang's plan of a generated day and on eight ways of breaking it, scheduler.check.check_plan and
    benchmarks.check.check_county_plan agree whether the plan keeps the rules."""
    from scheduler.check import check_plan

    plan = solve(small_day.problem, SolveParams(time_limit_s=3))
    bus = max(plan.buses, key=lambda b: len(b.stops))
    first, last = bus.stops[0], bus.stops[-1]
    rider = last.alight[0]
    broken = {
        "seats": dataclasses.replace(bus, seats=bus.load - 1),
        "early start": dataclasses.replace(
            bus, stops=(dataclasses.replace(first, arrival_s=3600, departure_s=3600 + 900), *bus.stops[1:])
        ),
        "night arrival": dataclasses.replace(bus, stops=(*bus.stops[:-1], _moved(last, 20 * 3600))),
        "too fast": dataclasses.replace(
            bus, stops=(*bus.stops[:-1], _moved(last, bus.stops[-2].departure_s + 1 - last.arrival_s))
        ),
        "never alights": dataclasses.replace(
            bus,
            stops=(*bus.stops[:-1], dataclasses.replace(last, alight=tuple(t for t in last.alight if t != rider))),
        ),
    }
    plans = {
        name: dataclasses.replace(plan, buses=(b, *[x for x in plan.buses if x is not bus]))
        for name, b in broken.items()
    }
    plans["missing"] = dataclasses.replace(plan, fallback=plan.fallback[1:])
    plans["doubled"] = dataclasses.replace(
        plan, fallback=(*plan.fallback, dataclasses.replace(plan.fallback[0], traveller_id=rider))
    )
    plans["fleet"] = dataclasses.replace(plan, buses=(*plan.buses, *plan.buses))
    assert check_plan(small_day.problem, plan) == []
    assert not any(check_county_plan(small_day, plan).values())
    for name, variant in plans.items():
        assert check_plan(small_day.problem, variant), name
        assert any(check_county_plan(small_day, variant).values()), name


def _moved(stop: Stop, by_s: int) -> Stop:
    return dataclasses.replace(stop, arrival_s=stop.arrival_s + by_s, departure_s=stop.departure_s + by_s)


def test_quick_mode_writes_every_method(quick_rows: list[dict[str, str]]) -> None:
    """``--quick`` writes one CSV row per method, each with a cost, and fanggang's ratios are 1."""
    methods = {r["method"]: r for r in quick_rows}
    assert set(methods) == set(county.METHODS)
    assert all(r["cost"] not in ("", None) for r in quick_rows), [r["notes"] for r in quick_rows]
    assert float(methods["fanggang"]["cost_ratio"]) == 1.0
    for name in ("fanggang", "baseline", "vroom", "pyvrp"):
        assert float(methods[name]["peak_mb"]) > 0
        assert int(methods[name]["buses"]) >= 0


def test_lower_bound_is_below_fanggang_and_the_baseline(quick_rows: list[dict[str, str]]) -> None:
    """On the same small county, the bound is at most fanggang's cost and the baseline's."""
    cost = {r["method"]: float(r["cost"]) for r in quick_rows}
    assert 0 < cost["bound"] <= cost["fanggang"]
    assert cost["bound"] <= cost["baseline"]
    assert cost["bound"] <= cost["vroom"]


def test_markdown_table_has_one_line_per_method(quick_rows: list[dict[str, str]], tmp_path: Path) -> None:
    """The markdown table the lead pastes into benchmarks/README.md lists every method."""
    rows = [dict(r, cost=float(r["cost"])) for r in quick_rows]
    text = county.markdown(rows)
    assert all(f"| {m} |" in text for m in county.METHODS)


def test_bound_knows_the_stop_limits() -> None:
    """Nine townships with five travellers each for one factory: a coach boarding at three places carries at
    most 15, below the threshold of 20, so no plan charters anything. The bound must find exactly that cost
    (fanggang's plan is all fallback too); with room for ten pickups it must drop below it."""
    fleet = (BusType("coach53", 53, 5, 1800.0, 5.5),)
    problem, all_fallback = _nine_flows_of_five(fleet, yudu_rules())

    bound = _bound_in_fresh_process(problem)
    plan = solve(problem, SolveParams(time_limit_s=2))
    assert not plan.buses
    assert bound == pytest.approx(all_fallback, rel=1e-6)
    assert bound <= plan.totals.total_cost + 0.01 * len(problem.travellers)  # totals are rounded to fen

    roomy, _ = _nine_flows_of_five(fleet, yudu_rules(max_pickup_stops=10))
    assert _bound_in_fresh_process(roomy) < all_fallback - 100


def _nine_flows_of_five(fleet: tuple[BusType, ...], rules: PolicyRules) -> tuple[Problem, float]:
    """Nine townships with five travellers each for one factory, and what they cost all on the fallback."""
    problem = make_problem([(township, 0, [1] * 5) for township in range(9)], fleet, rules)
    day = CountyDay(problem)
    return problem, sum(day.fallback_per_person(p.township_id, p.factory_id) * p.size for p in day.parties)


def _in_fresh_process(problem: Problem, expression: str) -> str:
    """``expression`` of ``day`` (the problem's CountyDay), evaluated where OR-Tools is not loaded (its bundled
    HiGHS symbols clash with highspy's). HiGHS may print its banner on stdout first: the answer is the last line."""
    code = (
        "import dataclasses, json, pickle, sys; from benchmarks.county_day import CountyDay; "
        "from benchmarks.county_methods import lower_bound; from benchmarks.county_bound import configuration_bound; "
        f"day = CountyDay(pickle.load(sys.stdin.buffer)); print({expression})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(problem), capture_output=True, cwd=REPO, check=True
    )
    return done.stdout.decode().strip().splitlines()[-1]


def _bound_in_fresh_process(problem: Problem) -> float:
    return float(_in_fresh_process(problem, "lower_bound(day, 10.0).bound_cny"))


def _configuration_in_fresh_process(problem: Problem) -> dict:
    """The configuration LP bound alone (``benchmarks.county_bound``)."""
    return json.loads(_in_fresh_process(problem, "json.dumps(dataclasses.asdict(configuration_bound(day, 120.0)))"))


def test_configuration_bound_is_the_optimum_of_one_full_coach() -> None:
    """One flow of 53 travellers and one 53-seat coach: the only better plan than the fallback is that coach,
    so the bound over whole coach loads must equal fanggang's plan to the fen."""
    fleet = (BusType("coach53", 53, 1, 1800.0, 5.5),)
    problem = make_problem([(0, 0, [1] * 53)], fleet, yudu_rules())
    plan = solve(problem, SolveParams(time_limit_s=2))
    assert len(plan.buses) == 1 and plan.buses[0].load == 53

    bound = _configuration_in_fresh_process(problem)
    assert bound["converged"]
    assert bound["bound_cny"] == pytest.approx(plan.totals.total_cost, abs=0.02)


def test_configuration_bound_counts_places_per_coach() -> None:
    """Nine townships with five travellers each for one factory: boarding at three places carries 15, below the
    threshold of 20, so the bound is the all-fallback cost; a fourth pickup lets a coach reach 20, and (the coach
    being cheap) the bound drops below it."""
    fleet = (BusType("coach53", 53, 5, 300.0, 2.0),)
    problem, all_fallback = _nine_flows_of_five(fleet, yudu_rules())

    three = _configuration_in_fresh_process(problem)
    four = _configuration_in_fresh_process(_nine_flows_of_five(fleet, yudu_rules(max_pickup_stops=4))[0])
    assert three["converged"] and four["converged"]
    assert three["bound_cny"] == pytest.approx(all_fallback, rel=1e-9)
    assert four["bound_cny"] < all_fallback - 100


def test_configuration_bound_is_below_the_plans_of_a_generated_day(small_day: CountyDay) -> None:
    """On a generated 1,500-traveller county the converged bound is at most what fanggang and the baseline pay."""
    bound = _configuration_in_fresh_process(small_day.problem)
    plan = solve(small_day.problem, SolveParams(time_limit_s=5))
    assert bound["converged"] and bound["iterations"] > 1
    assert 0 < bound["bound_cny"] <= plan.totals.total_cost
    assert bound["bound_cny"] <= run_baseline(small_day).plan.totals.total_cost
