"""check_plan finds each kind of rule violation on a hand-broken plan, and nothing on a valid one."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import DAY, FACTORIES, TOWNSHIPS, make_problem

from scheduler.areas import destination_areas
from scheduler.check import VIOLATION_KINDS, check_plan
from scheduler.fallback import Unserved, fallback_lines, flow_sizes, subsidies
from scheduler.grouping import form_parties
from scheduler.model import BusType, Problem
from scheduler.plan import Plan, Stop
from scheduler.policy import PolicyRules
from scheduler.timetable import Timetable

FLEET = (BusType("c53", 53, 2, 1800.0, 5.5), BusType("c35", 35, 1, 1200.0, 4.2))


@pytest.fixture
def day() -> tuple[Problem, Plan]:
    """One coach boards 25 people alone at township 0 and a group of 4 at township 1, both for F00 in Dongguan;
    two people alone for F01 and a group of 5 for Kunshan fall back; two riders are registered-poor."""
    base = make_problem([(0, 0, [1] * 25), (1, 0, [4]), (2, 1, [1, 1]), (3, 50, [5])], FLEET)
    people = tuple(replace(t, registered_poor=t.traveller_id in ("T0000", "T0026")) for t in base.travellers)
    problem = replace(base, travellers=people)
    timetable = Timetable(problem)
    first = tuple(t.traveller_id for t in problem.travellers[:25])
    group = tuple(t.traveller_id for t in problem.travellers[25:29])
    stops = [
        Stop(TOWNSHIPS[0].township_id, TOWNSHIPS[0].name, "pickup", 0, 0, board=first),
        Stop(TOWNSHIPS[1].township_id, TOWNSHIPS[1].name, "pickup", 0, 0, board=group),
        Stop(FACTORIES[0].factory_id, FACTORIES[0].name, "dropoff", 0, 0, alight=first + group),
    ]
    area = destination_areas(problem, timetable)[FACTORIES[0].factory_id]
    bus = timetable.make_bus(FLEET[0], area, stops, bus_id="0220-001")
    assert bus is not None
    on_bus = set(first + group)
    left = [Unserved(p, "pool", "") for p in form_parties(problem) if p.traveller_ids[0] not in on_bus]
    fallback = fallback_lines(timetable, left, flow_sizes(problem.travellers))
    plan = Plan(DAY, (bus,), tuple(fallback), subsidies(problem, set()))
    return problem, plan


def kinds(problem: Problem, plan: Plan) -> set[str]:
    found = check_plan(problem, plan)
    assert all(v.kind in VIOLATION_KINDS and v.message for v in found)
    return {v.kind for v in found}


def with_bus(plan: Plan, **changes: object) -> Plan:
    return replace(plan, buses=(replace(plan.buses[0], **changes),))


def with_stops(plan: Plan, *stops: Stop) -> Plan:
    return with_bus(plan, stops=stops)


def test_a_valid_plan_has_no_violation(day: tuple[Problem, Plan]) -> None:
    """The hand-made plan keeps every rule."""
    problem, plan = day
    assert check_plan(problem, plan) == []
    assert plan.buses[0].load == 29 and len(plan.fallback) == 7


def test_a_missing_or_doubled_traveller_is_coverage(day: tuple[Problem, Plan]) -> None:
    """Dropping a fallback line, or listing a rider in the fallback too, breaks coverage."""
    problem, plan = day
    assert kinds(problem, replace(plan, fallback=plan.fallback[1:])) == {"coverage"}
    doubled = replace(plan.fallback[0], traveller_id=plan.buses[0].traveller_ids[0])
    assert "coverage" in kinds(problem, replace(plan, fallback=(*plan.fallback, doubled)))


def test_boarding_elsewhere_or_alighting_first_is_boarding(day: tuple[Problem, Plan]) -> None:
    """A rider boarding at another township's stop, or a drop-off before the pickup, is a boarding violation."""
    problem, plan = day
    first, second, drop = plan.buses[0].stops
    moved = replace(first, board=first.board[1:])
    elsewhere = replace(second, board=(*second.board, first.board[0]))
    assert "boarding" in kinds(problem, with_stops(plan, moved, elsewhere, drop))
    assert "boarding" in kinds(problem, with_stops(plan, drop, first, second))


def test_more_riders_than_seats(day: tuple[Problem, Plan]) -> None:
    """Twenty-nine riders on a coach said to have 20 seats, or a coach type not in the contract."""
    problem, plan = day
    assert "seats" in kinds(problem, with_bus(plan, seats=20))
    assert "seats" in kinds(problem, with_bus(plan, vehicle_type="c99"))


def test_too_many_boarding_places_is_stops(day: tuple[Problem, Plan]) -> None:
    """Two boarding places where the county allows one."""
    problem, plan = day
    strict = replace(problem, rules=replace(problem.rules, max_pickup_stops=1))
    assert "stops" in kinds(strict, plan)


def test_two_destination_areas_is_area(day: tuple[Problem, Plan]) -> None:
    """A bus that also drops someone off in Kunshan serves two destination areas."""
    problem, plan = day
    first, second, drop = plan.buses[0].stops
    kunshan = FACTORIES[50]
    far = Stop(kunshan.factory_id, kunshan.name, "dropoff", drop.departure_s + 60, drop.departure_s + 660, (), ())
    assert "area" in kinds(problem, with_stops(plan, first, second, drop, far))


def test_arriving_outside_receiving_hours_is_gates(day: tuple[Problem, Plan]) -> None:
    """Arriving at 03:00 the next day, when the gate opens at 08:00."""
    problem, plan = day
    first, second, drop = plan.buses[0].stops
    night = replace(drop, arrival_s=27 * 3600, departure_s=27 * 3600 + 600)
    assert "gates" in kinds(problem, with_stops(plan, first, second, night))


def test_boarding_before_a_coach_can_be_there_is_gates(day: tuple[Problem, Plan]) -> None:
    """A coach leaves the depot at 05:00 at the earliest: it cannot board at 04:00."""
    problem, plan = day
    first, second, drop = plan.buses[0].stops
    early = replace(first, arrival_s=4 * 3600, departure_s=first.departure_s - first.arrival_s + 4 * 3600)
    assert "gates" in kinds(problem, with_stops(plan, early, second, drop))


def test_a_long_ride_is_ride(day: tuple[Problem, Plan]) -> None:
    """The same plan where the county allows 2 hours on board."""
    problem, plan = day
    assert "ride" in kinds(replace(problem, rules=replace(problem.rules, max_ride_hours=2.0)), plan)


def test_too_little_time_between_stops_is_driving(day: tuple[Problem, Plan]) -> None:
    """Arriving in Dongguan a minute after leaving the township, or one driver where the county's rules (a
    second driver beyond 400 km one way) need two."""
    problem, plan = day
    first, second, drop = plan.buses[0].stops
    fast = replace(drop, arrival_s=second.departure_s + 60, departure_s=second.departure_s + 660)
    assert "driving" in kinds(problem, with_stops(plan, first, second, fast))
    assert plan.buses[0].drivers == 1 and plan.buses[0].distance_km > 2 * 400
    two_drivers = replace(problem, rules=replace(problem.rules, second_driver_km=400.0))
    assert "driving" in kinds(two_drivers, plan)


def test_below_the_threshold_is_threshold(day: tuple[Problem, Plan]) -> None:
    """A bus of 29 where the county charters from 30."""
    problem, plan = day
    assert "threshold" in kinds(replace(problem, rules=replace(problem.rules, charter_min_group=30)), plan)


def test_a_split_group_is_groups(day: tuple[Problem, Plan]) -> None:
    """One member of the group of 4 left behind in the fallback list."""
    problem, plan = day
    first, second, drop = plan.buses[0].stops
    left_behind = second.board[0]
    bus_stops = (
        first,
        replace(second, board=second.board[1:]),
        replace(drop, alight=drop.alight[:-4] + second.board[1:]),
    )
    party = next(p for p in form_parties(problem) if left_behind in p.traveller_ids)
    timetable = Timetable(problem)
    line = fallback_lines(timetable, [Unserved(party, "pool", "")], flow_sizes(problem.travellers))[0]
    broken = replace(with_stops(plan, *bus_stops), fallback=(*plan.fallback, replace(line, traveller_id=left_behind)))
    assert "groups" in kinds(problem, broken)


def test_more_coaches_than_the_contract_is_fleet(day: tuple[Problem, Plan]) -> None:
    """The plan's coach53 where the contract has none."""
    problem, plan = day
    no_53 = (replace(FLEET[0], count=0), FLEET[1])
    assert "fleet" in kinds(replace(problem, fleet=no_53), plan)


def test_a_coach_not_contracted_or_on_two_trips_at_once_is_coaches(day: tuple[Problem, Plan]) -> None:
    """The contract has two c53: a third is not there; one coach cannot drive two buses of the same day."""
    problem, plan = day
    assert "coaches" not in kinds(problem, with_bus(plan, coach_id="c53-002"))
    assert "coaches" in kinds(problem, with_bus(plan, coach_id="c53-003"))
    first = replace(plan.buses[0], coach_id="c53-001")
    for twin_coach, clash in (("c53-002", False), ("c53-001", True)):
        twin = replace(first, bus_id="0220-002", coach_id=twin_coach)
        assert ("coaches" in kinds(problem, replace(plan, buses=(first, twin)))) == clash


def test_the_wrong_mode_or_an_unplaced_reachable_traveller_is_fallback(day: tuple[Problem, Plan]) -> None:
    """Township transport for someone alone (the rule gives a ticket), and "unplaced" for a reachable one."""
    problem, plan = day
    alone = next(f for f in plan.fallback if f.mode == "free_ticket")
    wrong = replace(alone, mode="township_transport")
    others = tuple(f for f in plan.fallback if f is not alone)
    assert "fallback" in kinds(problem, replace(plan, fallback=(*others, wrong)))
    unplaced = replace(alone, mode="unplaced", est_cost=0.0)
    assert "fallback" in kinds(problem, replace(plan, fallback=(*others, unplaced)))


def test_wrong_prices_and_subsidies_are_money(day: tuple[Problem, Plan]) -> None:
    """A bus priced below its contract, a fallback paid above the rule, a subsidy for the wrong amount."""
    problem, plan = day
    assert "money" in kinds(problem, with_bus(plan, cost=plan.buses[0].cost - 100))
    dearer = replace(plan.fallback[0], est_cost=plan.fallback[0].est_cost + 5)
    assert "money" in kinds(problem, replace(plan, fallback=(dearer, *plan.fallback[1:])))
    assert plan.subsidies == {"T0000": 1000.0, "T0026": 1000.0}
    assert "money" in kinds(problem, replace(plan, subsidies={"T0000": 500.0, "T0026": 1000.0}))


def test_the_planner_reports_no_violation_on_its_own_plan() -> None:
    """A solved day passes the checker, and its stats carry the count."""
    from scheduler.solve import SolveParams, solve

    problem = make_problem([(0, 0, [1] * 25), (1, 0, [4]), (2, 1, [1, 1])], FLEET, PolicyRules())
    plan = solve(problem, SolveParams(time_limit_s=1.0, workers=1))
    assert plan.stats["violations"] == 0
    assert check_plan(problem, plan) == []
    coaches = [b.coach_id for b in plan.buses]
    assert plan.buses and all(coaches) and len(set(coaches)) == len(coaches)
