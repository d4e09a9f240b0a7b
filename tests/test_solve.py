"""The planner's invariants, on hand-made and on random small county days."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from conftest import DAY, FACTORIES, TOWNSHIPS, make_problem
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from scheduler.check import check_plan as check
from scheduler.model import BusType, Problem
from scheduler.output import summary_lines
from scheduler.plan import Plan
from scheduler.policy import AssemblyPoint, PolicyRules
from scheduler.solve import SolveParams, solve
from scheduler.travel import GeodesicTravel

QUICK = SolveParams(time_limit_s=1.0, workers=1)


def check_plan(problem: Problem, plan: Plan) -> None:
    """Every invariant a plan must hold, whatever the search found: the planner's own checker finds nothing,
    and the planner said so in its stats."""
    violations = check(problem, plan)
    assert violations == [], "\n".join(map(str, violations[:20]))
    assert plan.stats["violations"] == 0
    for f in plan.fallback:
        assert f.reason and f.reason_zh


def test_tiny_problem_plan_holds_every_invariant(tiny_problem: Problem) -> None:
    """The base case gives a plan with buses and fallback that satisfies every invariant."""
    plan = solve(tiny_problem, QUICK)
    check_plan(tiny_problem, plan)
    assert plan.totals.buses >= 1


def test_same_input_gives_same_plan(tiny_problem: Problem) -> None:
    """Planning twice with the same seed gives the same plan.json."""
    first = solve(tiny_problem, QUICK).to_dict()
    second = solve(tiny_problem, QUICK).to_dict()
    first.pop("stats")
    second.pop("stats")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_big_flow_gets_full_direct_coaches() -> None:
    """A flow of 110 fills two 53-seat coaches going straight to the factory; the rest is pooled."""
    fleet = (BusType("c53", 53, 5, 1800.0, 5.5),)
    problem = make_problem([(0, 0, [1] * 110)], fleet)
    plan = solve(problem, QUICK)
    check_plan(problem, plan)
    full = [b for b in plan.buses if b.load == 53]
    assert len(full) >= 2
    assert all(len(b.stops) == 2 for b in full)


def test_group_larger_than_a_coach_splits_into_parts_of_min_split() -> None:
    """A group of 60 with 53-seat coaches rides as parts of at least min_split people."""
    fleet = (BusType("c53", 53, 3, 1800.0, 5.5),)
    problem = make_problem([(0, 0, [60])], fleet, PolicyRules(charter_min_group=10, price_alternatives=False))
    plan = solve(problem, QUICK)
    check_plan(problem, plan)
    loads = sorted(b.load for b in plan.buses)
    assert sum(loads) == 60
    assert min(loads) >= problem.rules.min_split


def test_small_scattered_flows_fall_back_with_the_rule_in_words() -> None:
    """Two travellers alone get free tickets, and the reason names township, factory and threshold."""
    fleet = (BusType("c53", 53, 2, 1800.0, 5.5),)
    problem = make_problem([(3, 2, [1, 1])], fleet)
    plan = solve(problem, QUICK)
    check_plan(problem, plan)
    assert plan.totals.buses == 0
    assert {f.mode for f in plan.fallback} == {"free_ticket"}
    reason = plan.fallback[0].reason
    assert TOWNSHIPS[3].name in reason and FACTORIES[2].name in reason and "20" in reason
    assert "fleet" not in reason
    km = GeodesicTravel().leg(TOWNSHIPS[3], FACTORIES[2]).distance_km
    assert abs(plan.fallback[0].est_cost - 0.45 * km) < 0.01


def test_group_of_four_gets_township_transport() -> None:
    """A group above scattered_max that cannot fill a bus is moved by its township and reimbursed."""
    fleet = (BusType("c53", 53, 2, 1800.0, 5.5),)
    problem = make_problem([(5, 1, [4])], fleet)
    plan = solve(problem, QUICK)
    assert {f.mode for f in plan.fallback} == {"township_transport"}
    assert "group of 4" in plan.fallback[0].reason
    assert plan.totals.reimbursement_cost > 0


def test_fleet_exhaustion_is_named_in_the_reason() -> None:
    """With one coach for 80 travellers, the plan says the fleet ran out for those left."""
    fleet = (BusType("c53", 53, 1, 1800.0, 5.5),)
    problem = make_problem([(0, 0, [1] * 40), (1, 0, [1] * 40)], fleet)
    plan = solve(problem, QUICK)
    check_plan(problem, plan)
    assert plan.totals.buses == 1
    assert any("fleet" in f.reason for f in plan.fallback)


def test_report_date_today_with_closed_gate_is_unplaced() -> None:
    """A flow that cannot reach a gate open only 05:00-06:00 on its report date is unplaced, not bussed."""
    fleet = (BusType("c53", 53, 3, 1800.0, 5.5),)
    early_gate = replace(FACTORIES[0], receive_from_s=5 * 3600, receive_until_s=6 * 3600)
    base = make_problem([(0, 0, [1] * 60)], fleet, factories=(early_gate, *FACTORIES[1:]))
    problem = replace(base, travellers=tuple(replace(t, report_date=t.earliest_date) for t in base.travellers))
    plan = solve(problem, QUICK)
    check_plan(problem, plan)
    assert plan.totals.buses == 0
    assert {(f.mode, f.cause) for f in plan.fallback} == {("unplaced", "timetable")}
    city = FACTORIES[0].city
    assert f"no coach from the depot can reach {city} by 06:00 on the report date" in plan.fallback[0].reason
    assert f"06:00前到达{city}" in plan.fallback[0].reason_zh
    summary = dict(summary_lines(plan))
    assert summary[f"无法按时到达 {city} 06:00（报到日 {DAY}）"].startswith("60: no coach from the depot")


def test_morning_gate_far_away_means_leaving_later_not_waiting_on_board() -> None:
    """A Kunshan gate open 08:00-12:00 cannot be reached on the day; coaches leave in the afternoon and
    arrive next morning, within the 16 h on board, instead of boarding at dawn and waiting all night."""
    fleet = (BusType("c53", 53, 3, 1800.0, 5.5), BusType("c35", 35, 2, 1200.0, 4.2))
    morning_gate = replace(FACTORIES[50], receive_from_s=8 * 3600, receive_until_s=12 * 3600)
    factories = (*FACTORIES[:50], morning_gate, *FACTORIES[51:])
    problem = make_problem([(0, 50, [1] * 60), (1, 50, [6, 6, 5])], fleet, factories=factories)
    plan = solve(problem, SolveParams(time_limit_s=2.0, workers=1))
    check_plan(problem, plan)
    assert plan.totals.on_buses >= 60
    assert all(b.stops[0].arrival_s > 12 * 3600 for b in plan.buses)


def test_registered_poor_subsidy_depends_on_province() -> None:
    """500 CNY for a factory in the county's province, 1000 CNY out of province; in-county none."""
    fleet = (BusType("c53", 53, 2, 1800.0, 5.5),)
    in_province = replace(FACTORIES[0], factory_id="FJX", province="江西省")
    in_county = replace(FACTORIES[1], factory_id="FYD", province="江西省", city="于都县")
    factories = (*FACTORIES, in_province, in_county)
    base = make_problem(
        [(0, 0, [1]), (0, len(FACTORIES), [1]), (0, len(FACTORIES) + 1, [1])], fleet, factories=factories
    )
    people = tuple(replace(t, registered_poor=True) for t in base.travellers)
    problem = replace(base, travellers=people)
    plan = solve(problem, QUICK)
    assert sorted(plan.subsidies.values()) == [500.0, 1000.0]
    assert plan.totals.subsidy_cost == 1500.0


def test_assembly_point_lets_small_flows_share_a_coach() -> None:
    """Four townships of 6 each exceed 3 pickup stops, but feeding two of them into the county bus
    station lets one coach carry all 24."""
    seat = TOWNSHIPS[0]
    point = AssemblyPoint(
        "station",
        "汽车站",
        seat.lat,
        seat.lon,
        (TOWNSHIPS[1].township_id, TOWNSHIPS[2].township_id, TOWNSHIPS[3].township_id, TOWNSHIPS[4].township_id),
        5.0,
    )
    rules = PolicyRules(assembly_points=(point,), max_pickup_stops=1, price_alternatives=False)
    fleet = (BusType("c35", 35, 1, 1200.0, 4.2),)
    problem = make_problem([(1, 0, [6]), (2, 0, [6]), (3, 0, [6]), (4, 0, [6])], fleet, rules)
    plan = solve(problem, SolveParams(time_limit_s=2.0, workers=1))
    check_plan(problem, plan)
    assert plan.totals.on_buses == 24
    assert plan.buses[0].stops[0].place_id == "station"


def test_parallel_areas_give_a_valid_plan() -> None:
    """Flows to Dongguan and to Kunshan are pooled in separate areas on two processes."""
    fleet = (BusType("c12", 12, 6, 300.0, 1.0),)
    rules = PolicyRules(charter_min_group=5)
    problem = make_problem([(0, 0, [3, 4]), (1, 1, [5]), (2, 50, [4, 4]), (3, 51, [6])], fleet, rules)
    plan = solve(problem, SolveParams(time_limit_s=2.0, workers=2))
    check_plan(problem, plan)
    assert len({b.area for b in plan.buses}) == 2


def test_scheduler_imports_no_web_or_database_code() -> None:
    """Importing the planning core pulls in no HTTP or database library."""
    import subprocess

    code = (
        "import sys, scheduler.solve, scheduler.scenario, scheduler.output, scheduler.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi','sqlmodel','sqlalchemy','api'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@st.composite
def small_days(draw: st.DrawFn) -> Problem:
    """Random small county days: a few townships and factories, groups, a small mixed fleet."""
    n_townships = draw(st.integers(1, 4))
    factory_pool = [0, 1, 2, 14, 50]  # Dongguan x3, Shenzhen, Kunshan
    flows = []
    for _ in range(draw(st.integers(1, 6))):
        sizes = draw(st.lists(st.integers(1, 9), min_size=1, max_size=4))
        flows.append((draw(st.integers(0, n_townships - 1)), draw(st.sampled_from(factory_pool)), sizes))
    fleet = tuple(
        BusType(f"c{seats}", seats, draw(st.integers(0, 3)), 100.0 * seats, 0.2 * seats)
        for seats in sorted(set(draw(st.lists(st.sampled_from([8, 12, 20]), min_size=1, max_size=3))))
    )
    rules = PolicyRules(
        charter_min_group=draw(st.integers(1, 8)),
        max_pickup_stops=draw(st.integers(1, 3)),
        max_dropoff_stops=draw(st.integers(1, 3)),
        min_split=draw(st.integers(1, 4)),
        price_alternatives=draw(st.booleans()),
    )
    return make_problem(flows, fleet, rules)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking re-solves: too slow to be useful
)
@given(small_days())
def test_random_small_days_hold_every_invariant(problem: Problem) -> None:
    """Whatever the flows, fleet and limits, the plan holds every invariant."""
    plan = solve(problem, SolveParams(time_limit_s=0.5, workers=1))
    check_plan(problem, plan)


def test_a_flow_at_the_threshold_rides_even_when_tickets_cost_less() -> None:
    """21 people alone from one township to Kunshan: tickets (about 0.45 CNY/km each) cost less than a coach
    that is not full, but the county's rule gives a flow of at least 20 a bus; planning by cost alone
    (threshold_is_entitlement = false) sends them by ticket, and the reason says the cost rule decided."""
    fleet = (BusType("c53", 53, 2, 1800.0, 5.5),)
    entitled = make_problem([(0, 50, [1] * 21)], fleet)
    plan = solve(entitled, QUICK)
    check_plan(entitled, plan)
    assert plan.totals.on_buses == 21
    by_cost = replace(entitled, rules=replace(entitled.rules, threshold_is_entitlement=False))
    cheaper = solve(by_cost, QUICK)
    check_plan(by_cost, cheaper)
    assert cheaper.totals.buses == 0
    assert cheaper.totals.total_cost < plan.totals.total_cost
    line = cheaper.fallback[0]
    assert line.cause == "no_seat" and line.params["priced"] and line.params["flow_size"] == 21
    assert "one of 21 travellers" in line.reason and "travelling alone" not in line.reason
    assert "21" in line.reason_zh and "元" in line.reason_zh


def test_what_a_direct_coach_leaves_of_an_entitled_flow_still_rides() -> None:
    """60 people of one flow and 53-seat coaches: a full coach goes direct and the other 7, entitled with
    their flow, get seats too, on a coach below the threshold that the rule allows."""
    fleet = (BusType("c53", 53, 3, 1800.0, 5.5),)
    problem = make_problem([(0, 0, [1] * 60)], fleet)
    plan = solve(problem, QUICK)
    check_plan(problem, plan)
    assert plan.totals.on_buses == 60
    assert min(b.load for b in plan.buses) < problem.rules.charter_min_group


def test_people_alone_of_a_small_flow_are_named_with_their_flow() -> None:
    """Three people alone on one flow get tickets; the reason counts the three, never 'travelling alone'."""
    fleet = (BusType("c53", 53, 2, 1800.0, 5.5),)
    problem = make_problem([(2, 1, [1, 1, 1])], fleet)
    plan = solve(problem, QUICK)
    check_plan(problem, plan)
    assert {f.cause for f in plan.fallback} == {"small_flow"}
    assert all("one of 3 travellers" in f.reason and "同线路3名旅客之一" in f.reason_zh for f in plan.fallback)
