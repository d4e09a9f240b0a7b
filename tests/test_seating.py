"""Re-seating travellers over fixed routes: the seating's invariants, exact answers on tiny problems, and what it
does for a planned day."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace

from conftest import DAY, FACTORIES, TOWNSHIPS, traveller, yudu_rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_solve import check_plan

from scheduler.grouping import form_parties, split_sizes
from scheduler.model import BusType, Problem
from scheduler.plan import Stop
from scheduler.reseat import _rider_units
from scheduler.routing import solve_seating
from scheduler.seating import RiderUnit, Seating, SeatingProblem, SeatRoute, seating_cost
from scheduler.solve import SolveParams, solve
from scheduler.timetable import Timetable

# Two coach types: 50 seats for 1000, 30 seats for 700.
SEATS = (50, 30)


def check_seating(problem: SeatingProblem, seating: Seating) -> None:
    """Every rule a seating must hold, whatever the solver found."""
    loads = [0] * len(problem.routes)
    for unit, rides in zip(problem.units, seating.riding, strict=True):
        allowed = dict(unit.options)
        assert all(r in allowed and n > 0 for r, n in rides)
        assert sum(n for _, n in rides) <= unit.size
        if unit.whole:
            assert rides == () or (len(rides) == 1 and rides[0][1] == unit.size)
        for r, n in rides:
            loads[r] += n
    used: Counter[int] = Counter()
    for route, coach, load in zip(problem.routes, seating.coach, loads, strict=True):
        if coach is None:
            assert load == 0
            continue
        assert route.price[coach] is not None
        assert problem.min_riders <= load <= min(problem.seats[coach], route.max_load)
        used[coach] += 1
    assert all(used[k] <= count for k, count in enumerate(problem.fleet))
    start = seating_cost(problem, tuple(r.coach for r in problem.routes), [u.riding for u in problem.units])
    assert seating.cost == seating_cost(problem, seating.coach, seating.riding)
    assert seating.saving == start - seating.cost >= 0


def test_half_empty_coach_is_cancelled_when_its_riders_fit_on_the_other() -> None:
    """Two coaches with 20 riders each of one flow: one coach takes all 40 and the other is cancelled."""
    routes = (SeatRoute((1000, 700), 50, 0), SeatRoute((1000, 700), 50, 0))
    unit = RiderUnit(40, False, 100, ((0, 0), (1, 0)), ((0, 20), (1, 20)))
    problem = SeatingProblem(routes, (unit,), SEATS, (2, 2), 20)
    seating = solve_seating(problem, 5.0)
    check_seating(problem, seating)
    assert sorted(c is None for c in seating.coach) == [False, True]
    assert seating.riding[0] == ((seating.coach.index(0), 40),)
    assert seating.saving == 1000


def test_route_gets_the_smaller_coach_that_fits_its_riders() -> None:
    """A 50-seat coach with 28 riders becomes a 30-seat one."""
    problem = SeatingProblem(
        (SeatRoute((1000, 700), 50, 0),), (RiderUnit(28, False, 100, ((0, 0),), ((0, 28),)),), SEATS, (1, 1), 20
    )
    seating = solve_seating(problem, 5.0)
    check_seating(problem, seating)
    assert seating.coach == (1,)
    assert seating.saving == 300


def test_fleet_limits_how_many_routes_get_the_larger_coach() -> None:
    """Two full 30-seat coaches leave 15 people each behind; only one 50-seat coach exists to take more."""
    routes = (SeatRoute((1000, 700), 50, 1), SeatRoute((1000, 700), 50, 1))
    units = (
        RiderUnit(45, False, 100, ((0, 0),), ((0, 30),)),
        RiderUnit(45, False, 100, ((1, 0),), ((1, 30),)),
    )
    problem = SeatingProblem(routes, units, SEATS, (1, 2), 20)
    seating = solve_seating(problem, 5.0)
    check_seating(problem, seating)
    assert sorted(seating.coach, key=str) == [0, 1]
    assert seating.saving == 15 * 100 - 300


def test_timetable_limit_keeps_riders_off_a_route() -> None:
    """A route whose timetable takes 32 riders gets no more, though its coach has 50 seats."""
    problem = SeatingProblem(
        (SeatRoute((1000, 700), 32, 0),), (RiderUnit(45, False, 100, ((0, 0),), ((0, 30),)),), SEATS, (1, 0), 20
    )
    seating = solve_seating(problem, 5.0)
    check_seating(problem, seating)
    assert seating.riding[0] == ((0, 32),)


def _brute_force(problem: SeatingProblem) -> int:
    """The cheapest seating, by trying every coach choice and every way to seat every unit."""
    per_unit = []
    for unit in problem.units:
        routes = [r for r, _ in unit.options]
        if unit.whole:
            choices = [()] + [((r, unit.size),) for r in routes]
        else:
            choices = []
            for counts in itertools.product(range(unit.size + 1), repeat=len(routes)):
                if sum(counts) <= unit.size:
                    choices.append(tuple((r, n) for r, n in zip(routes, counts, strict=True) if n))
        per_unit.append(choices)
    coach_choices = [[None, *range(len(problem.seats))] for _ in problem.routes]
    best = None
    for coach in itertools.product(*coach_choices):
        if any(k is not None and problem.routes[r].price[k] is None for r, k in enumerate(coach)):
            continue
        if any(Counter(k for k in coach if k is not None)[k] > n for k, n in enumerate(problem.fleet)):
            continue
        for riding in itertools.product(*per_unit):
            loads = Counter()
            for rides in riding:
                for r, n in rides:
                    loads[r] += n
            fits = all(
                loads[r] == 0
                if k is None
                else problem.min_riders <= loads[r] <= min(problem.seats[k], problem.routes[r].max_load)
                for r, k in enumerate(coach)
            )
            if fits:
                cost = seating_cost(problem, coach, list(riding))
                best = cost if best is None else min(best, cost)
    assert best is not None
    return best


@st.composite
def tiny_seatings(draw: st.DrawFn) -> SeatingProblem:
    """Two routes, two coach types, up to three units that may ride one or both routes; nobody seated yet."""
    seats = (draw(st.integers(3, 6)), draw(st.integers(2, 4)))
    routes = tuple(
        SeatRoute(
            (draw(st.integers(5, 40)), draw(st.one_of(st.none(), st.integers(3, 30)))), draw(st.integers(2, 6)), None
        )
        for _ in range(2)
    )
    units = []
    for _ in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 4))
        on = draw(st.sampled_from([(0,), (1,), (0, 1)]))
        options = tuple((r, draw(st.integers(0, 3))) for r in on)
        units.append(RiderUnit(size, draw(st.booleans()), draw(st.integers(1, 12)), options))
    return SeatingProblem(routes, tuple(units), seats, (draw(st.integers(0, 2)), draw(st.integers(0, 2))), 2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(tiny_seatings())
def test_tiny_seatings_are_optimal(problem: SeatingProblem) -> None:
    """On problems small enough to enumerate, the seating holds every rule and costs what brute force finds."""
    seating = solve_seating(problem, 5.0)
    check_seating(problem, seating)
    assert seating.cost == _brute_force(problem)


def test_traveller_left_over_from_a_direct_coach_takes_its_free_seat() -> None:
    """52 travellers fill a direct coach; one more on the same route, due at the factory today, is too few for a
    bus of their own, and rides in the coach's free seat rather than be reimbursed."""
    township, factory = TOWNSHIPS[0], FACTORIES[0]
    people = [traveller(f"T{i:03d}", township, factory) for i in range(52)]
    people.append(traveller("T999", township, factory, report_days=0))
    fleet = (BusType("c53", 53, 2, 1800.0, 5.5),)
    problem = Problem(DAY, TOWNSHIPS, FACTORIES, tuple(people), fleet, yudu_rules())
    plan = solve(problem, SolveParams(time_limit_s=2.0, workers=1))
    check_plan(problem, plan)
    assert [bus.load for bus in plan.buses] == [53]
    assert plan.fallback == ()
    assert plan.stats["seating_saving_cny"] > 0
    assert plan.buses[0].stops[-1].arrival_s < 24 * 3600  # in time for today's report


def test_a_seat_is_not_offered_where_the_timetable_arrives_a_day_too_late() -> None:
    """A coach for two factories whose second gate closes at noon: its earliest pass reaches the first factory
    on the plan date, but the second gate then waits for the next morning, so the bus's timetable leaves after
    midnight and drops off at the first factory the next day. Someone due there today must not be offered its
    free seat (re-seating once did, and the rebuilt bus then had no timetable, which undid the whole
    re-seating)."""
    township = TOWNSHIPS[0]
    first = replace(FACTORIES[0], receive_from_s=7 * 3600, receive_until_s=22 * 3600)
    noon = replace(FACTORIES[1], receive_from_s=8 * 3600, receive_until_s=12 * 3600)
    to_first = [traveller(f"A{i:02d}", township, first) for i in range(20)]
    to_noon = [traveller(f"B{i:02d}", township, noon) for i in range(20)]
    due_today = traveller("N00", township, first, report_days=0)
    fleet = (BusType("c53", 53, 2, 1800.0, 5.5),)
    people = (*to_first, *to_noon, due_today)
    problem = Problem(DAY, TOWNSHIPS, (first, noon, *FACTORIES[2:]), people, fleet, yudu_rules())
    timetable = Timetable(problem)
    a_ids, b_ids = tuple(t.traveller_id for t in to_first), tuple(t.traveller_id for t in to_noon)
    stops = [
        Stop(township.township_id, township.name, "pickup", 0, 0, a_ids + b_ids),
        Stop(first.factory_id, first.name, "dropoff", 0, 0, (), a_ids),
        Stop(noon.factory_id, noon.name, "dropoff", 0, 0, (), b_ids),
    ]
    bus = timetable.make_bus(fleet[0], "A", stops, "B1")
    assert bus is not None and bus.stops[1].arrival_s > 24 * 3600  # the first factory the next morning
    earliest = timetable.earliest_times(bus.stops)
    assert earliest is not None and earliest[1] < 22 * 3600  # though the earliest pass is there today
    route_of = {t: 0 for t in bus.traveller_ids}
    units, members, _ = _rider_units(timetable, [bus], form_parties(problem), set(), route_of, [earliest], [400])
    newcomer = next(u for u, ids in zip(units, members, strict=True) if "N00" in ids)
    assert newcomer.options == ()


@given(
    size=st.integers(1, 400),
    largest=st.integers(1, 60),
    min_split=st.integers(1, 70),
)
def test_group_splits_into_positive_parts_no_larger_than_the_largest_coach(
    size: int, largest: int, min_split: int
) -> None:
    parts = split_sizes(size, largest, min_split)
    assert sum(parts) == size
    assert all(0 < p <= largest for p in parts)
    if len(parts) > 1 and min_split <= largest // 2:
        assert parts[-1] >= min_split  # the remainder is never a lone straggler where the coach can spare seats


def test_group_larger_than_the_coach_with_a_minimum_split_above_it_still_splits() -> None:
    assert split_sizes(9, 8, 10) == [8, 1]
