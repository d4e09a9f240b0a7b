"""The county benchmark's lower bound is a proof: on instances small enough to enumerate every plan, both
relaxations (``county_methods.aggregate_bound`` and ``county_bound.configuration_bound``) stay at or below the
exact optimum, including coaches that unload and board again within the route span.

The enumeration is written from the rules, not from the planner or the benchmark's pricing: a coach boards at
its riders' township or assembly point and drops them at their factory, all in one destination area; at most
``max_pickup_stops`` distinct boarding places and ``max_dropoff_stops`` distinct factories; seats limit who is on
board at once; from its first stop's arrival to its last's at most ``max_ride_hours``, driving with the rest
rule per leg, boarding and alighting times, waiting at a gate for its hours on the plan date or the next day,
leaving its first stop at ``depart_from`` or later; at least ``charter_min_group`` riders, or where the threshold
is an entitlement someone of a flow that large; groups ride whole; whoever is not on a coach pays the policy
fallback. Those are the rules ``scheduler.check.check_plan`` enforces, or weaker ones (a coach also leaves the
depot at ``depart_from`` and boards by midnight; the planner counts stops rather than places, charters no coach
smaller than the threshold, and seats entitled flows while coaches last), so the optimum here is at most any
valid plan's cost and the bound must be at most the optimum.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import pickle
import random
import subprocess
import sys
from dataclasses import dataclass, replace
from typing import Any

import pytest
from conftest import DAY, FACTORIES, REPO, TOWNSHIPS, traveller, with_yudu_home

from scheduler.areas import cluster_factories
from scheduler.check import check_plan
from scheduler.model import BusType, Factory, Place, Problem
from scheduler.policy import AssemblyPoint, PolicyRules
from scheduler.travel import GeodesicTravel

TRAVEL = GeodesicTravel()
DAY_S = 24 * 3600
TOWNSHIP = {t.township_id: t for t in TOWNSHIPS}
# The fixture county's contract, with few coaches of each type (no plan here needs more).
COACHES = (
    BusType("coach53", 53, 2, 1800.0, 5.5),
    BusType("coach45", 45, 2, 1500.0, 5.0),
    BusType("coach35", 35, 2, 1200.0, 4.2),
    BusType("minibus19", 19, 2, 800.0, 3.0),
)
# Two factories near Ji'an (吉安市, in the province, a 2.4 h drive from the county), 50 km apart by road: a
# coach can unload at one and come back for a second load within the 16 h span.
JIAN = (
    Factory("J1", "吉安吉州工厂", 27.1117, 114.9793, "吉安市", "江西省", 8 * 3600, 20 * 3600),
    Factory("J2", "吉安泰和工厂", 26.755, 114.91, "吉安市", "江西省", 8 * 3600, 20 * 3600),
)
# Two factories in the county itself (their city is the county): many loads fit in a day, and no subsidy is due.
IN_COUNTY = (
    Factory("Y1", "于都工业园工厂", 25.985, 115.445, "于都县", "江西省", 7 * 3600, 22 * 3600),
    Factory("Y2", "于都梓山工厂", 25.950, 115.530, "于都县", "江西省", 0, 24 * 3600),
)
FAR = FACTORIES[0]  # a Dongguan factory, 6 h away: one load only
_SEAT = TOWNSHIPS[0]
# The fixture county's assembly point: the bus station, fed by the county seat and its six nearest townships.
STATION = AssemblyPoint(
    "yudu_station",
    "于都汽车站集中乘车点",
    _SEAT.lat,
    _SEAT.lon,
    tuple(
        t.township_id
        for t in sorted(TOWNSHIPS, key=lambda t: TRAVEL.leg(_SEAT, t).distance_km)[:7]  # the seat itself first
    ),
    15.0,
)


def make_day(
    units: list[tuple[str, Factory, int, int]],
    rules: PolicyRules | None = None,
    fleet: tuple[BusType, ...] = COACHES,
    factories: tuple[Factory, ...] = JIAN + IN_COUNTY + (FAR,),
) -> Problem:
    """A day from (township id, factory, group size, registered-poor members) per unit: a size of 1 travels
    alone, larger sizes are registered groups."""
    people = []
    for township_id, factory, size, poor in units:
        group = f"G{len(people):04d}" if size > 1 else ""
        for k in range(size):
            people.append(traveller(f"T{len(people):04d}", TOWNSHIP[township_id], factory, group, k < poor))
    return Problem(DAY, TOWNSHIPS, factories, tuple(people), fleet, with_yudu_home(rules or PolicyRules()))


# ---------------------------------------------------------------------- the enumeration
@dataclass(frozen=True)
class Unit:
    """Travellers who ride together: a registered group, or one person alone."""

    size: int
    flow: tuple[str, str]  # (township, factory)
    places: tuple[Place, ...]  # the township, and its assembly point if it has one
    factory: Factory
    last_day: int  # the last day after the plan date on which they may arrive (0 or 1)
    fallback_cny: float  # what the policy pays instead of a coach, for all of them


@functools.cache
def _leg(a: Place, b: Place) -> tuple[float, int]:
    leg = TRAVEL.leg(a, b)
    return leg.distance_km, leg.drive_s


def _with_rests_s(rules: PolicyRules, drive_s: int) -> float:
    """A leg's driving time with the rests the driver rules require: one per full block of continuous driving."""
    block = rules.max_continuous_drive_hours * 3600
    return drive_s + max(0, math.ceil(drive_s / block) - 1) * rules.rest_minutes * 60


def _units(problem: Problem) -> list[Unit]:
    rules = problem.rules
    point = {t: p for p in rules.assembly_points for t in p.township_ids}
    members: dict[tuple[str, str, str], list] = {}
    for t in problem.travellers:
        key = (t.group_id or t.traveller_id, t.township_id, t.factory_id)
        members.setdefault(key, []).append(t)
    units = []
    for (_, township_id, factory_id), people in sorted(members.items()):
        township, factory = problem.township(township_id), problem.factory(factory_id)
        places = (township,) + ((point[township_id],) if township_id in point else ())
        last_day = min(1, min((t.report_date - DAY).days for t in people))
        fallback = rules.reimburse_per_km * _leg(township, factory)[0] * len(people)
        units.append(Unit(len(people), (township_id, factory_id), places, factory, last_day, fallback))
        # Every unit here can reach its gate (nobody is unplaced), even counting the drive from the depot.
        boarding = rules.boarding_minutes_per_stop * 60 + rules.boarding_seconds_per_person
        earliest = rules.depart_from_s + _with_rests_s(rules, _leg(problem.depot, township)[1]) + boarding
        earliest += _with_rests_s(rules, _leg(township, factory)[1])
        assert earliest <= last_day * DAY_S + factory.receive_until_s
    return units


def _subsidies(problem: Problem) -> float:
    rules = problem.rules
    total = 0.0
    for t in problem.travellers:
        factory = problem.factory(t.factory_id)
        if t.registered_poor and factory.city != rules.county:
            total += rules.subsidy_in_province if factory.province == rules.province else rules.subsidy_out_of_province
    return total


Stops = tuple[tuple[Place, str, frozenset[int]], ...]  # (place, "pickup" | "dropoff", units boarding or alighting)


def _walks(units: list[Unit], rules: PolicyRules, largest_seats: int, reboard: bool) -> dict[Stops, int]:
    """Every stop sequence of a coach carrying exactly ``units`` (each boards once, then alights once at its
    factory) within the stop limits and the largest seats, with the most on board at once. Without ``reboard``,
    nobody boards after the first drop-off."""
    found: dict[Stops, int] = {}

    def add(stops: Stops, place: Place, kind: str, unit: int) -> Stops | None:
        if stops and stops[-1][0] == place and stops[-1][1] == kind:
            return (*stops[:-1], (place, kind, stops[-1][2] | {unit}))
        new = (*stops, (place, kind, frozenset({unit})))
        boarding = {s[0].place_id for s in new if s[1] == "pickup"}
        dropping = {s[0].place_id for s in new if s[1] == "dropoff"}
        if len(boarding) > rules.max_pickup_stops or len(dropping) > rules.max_dropoff_stops:
            return None
        return new

    def extend(stops: Stops, state: tuple[int, ...], on_board: int, most: int, dropped: bool) -> None:
        if all(s == 2 for s in state):
            found[stops] = most
            return
        for i, unit in enumerate(units):
            if state[i] == 0 and (reboard or not dropped) and on_board + unit.size <= largest_seats:
                for place in unit.places:
                    new = add(stops, place, "pickup", i)
                    if new is not None:
                        now = on_board + unit.size
                        extend(new, (*state[:i], 1, *state[i + 1 :]), now, max(most, now), dropped)
            elif state[i] == 1:
                new = add(stops, unit.factory, "dropoff", i)
                if new is not None:
                    extend(new, (*state[:i], 2, *state[i + 1 :]), on_board - unit.size, most, True)

    extend((), (0,) * len(units), 0, 0, False)
    return found


def _least_span_s(stops: Stops, units: list[Unit], rules: PolicyRules) -> float:
    """The shortest span (first stop's arrival to the last's) of a coach driving ``stops``, leaving the first at
    ``depart_from`` or later and waiting at a gate only until it opens; inf when some gate cannot be met.

    The span is piecewise linear in the start time, breaking only where some stop, reached without waiting,
    meets a window's opening or closing: trying those start times (and the earliest) finds the least."""
    dwell, legs = [], []
    for (place, kind, members), following in itertools.zip_longest(stops, stops[1:]):
        riders = sum(units[i].size for i in members)
        if kind == "pickup":
            dwell.append(rules.boarding_minutes_per_stop * 60 + rules.boarding_seconds_per_person * riders)
        else:
            dwell.append(rules.alighting_minutes_per_stop * 60)
        if following is not None:
            legs.append(_with_rests_s(rules, _leg(place, following[0])[1]))
    windows = []
    for place, kind, members in stops:
        if kind == "pickup":
            windows.append(None)
            continue
        last_day = min(units[i].last_day for i in members)
        windows.append(
            [(d * DAY_S + place.receive_from_s, d * DAY_S + place.receive_until_s) for d in range(last_day + 1)]
        )
    offset = [0.0]
    for k in range(len(stops) - 1):
        offset.append(offset[-1] + dwell[k] + legs[k])
    starts = {float(rules.depart_from_s)}
    for k, allowed in enumerate(windows):
        for opens, closes in allowed or ():
            starts.update((opens - offset[k], closes - offset[k]))
    best = math.inf
    for start in starts:
        if start < rules.depart_from_s:
            continue
        t, ok = start, True
        for k, allowed in enumerate(windows):
            if k:
                t += dwell[k - 1] + legs[k - 1]
            if allowed is not None:
                t = next((max(t, opens) for opens, closes in allowed if t <= closes), math.inf)
                if t == math.inf:
                    ok = False
                    break
        if ok:
            best = min(best, t - start)
    return best


def _coach_cost(bus: BusType, stops: Stops, units: list[Unit], problem: Problem) -> float:
    """Fixed + per km (one way and the billed empty return) + the second driver when the one-way trip is over
    either driver limit + the shuttle of everyone boarding at an assembly point."""
    rules = problem.rules
    path = [problem.depot, *(s[0] for s in stops)]
    one_way_km = sum(_leg(a, b)[0] for a, b in itertools.pairwise(path))
    one_way_h = sum(_leg(a, b)[1] for a, b in itertools.pairwise(path)) / 3600
    back_km = _leg(path[-1], problem.depot)[0]
    two_drivers = one_way_km > rules.second_driver_km or one_way_h > rules.second_driver_hours
    shuttles = sum(
        place.shuttle_cost_per_person * sum(units[i].size for i in members)
        for place, kind, members in stops
        if isinstance(place, AssemblyPoint)
    )
    return (
        bus.fixed_cost
        + bus.cost_per_km * (one_way_km + rules.empty_return_factor * back_km)
        + (rules.second_driver_cost if two_drivers else 0.0)
        + shuttles
    )


def optimum(problem: Problem, reboard: bool = True) -> float:
    """The least total cost of any plan (coaches, fallback, subsidies), by enumeration: every subset of units a
    coach could carry and its cheapest stop sequence per coach type, then the best split of the units into such
    coaches and the fallback within the fleet. Where the threshold is an entitlement, a coach carrying someone
    of a flow of at least the threshold may carry fewer (and nobody is made to ride: weaker still)."""
    rules = problem.rules
    units = _units(problem)
    sizes: dict[tuple[str, str], int] = {}
    for u in units:
        sizes[u.flow] = sizes.get(u.flow, 0) + u.size
    entitled = {f for f, n in sizes.items() if rules.threshold_is_entitlement and n >= rules.charter_min_group}
    wanted = sorted({u.factory.factory_id for u in units})
    area = cluster_factories([problem.factory(f) for f in wanted], TRAVEL, rules.area_radius_km)
    types = [b for b in problem.fleet if b.count > 0]
    largest = max((b.seats for b in types), default=0)
    cheapest: dict[int, list[float]] = {}
    for mask in range(1, 1 << len(units)):
        members = [u for k, u in enumerate(units) if mask >> k & 1]
        costs = [math.inf] * len(types)
        riders = sum(u.size for u in members)
        enough = riders >= rules.charter_min_group or any(u.flow in entitled for u in members)
        if len({area[u.factory.factory_id] for u in members}) == 1 and enough:
            for stops, most in _walks(members, rules, largest, reboard).items():
                if _least_span_s(stops, members, rules) > rules.max_ride_hours * 3600:
                    continue
                for k, bus in enumerate(types):
                    if most <= bus.seats:
                        costs[k] = min(costs[k], _coach_cost(bus, stops, members, problem))
        cheapest[mask] = costs

    @functools.cache
    def best(mask: int, left: tuple[int, ...]) -> float:
        if mask == 0:
            return 0.0
        low = mask & -mask
        result = units[low.bit_length() - 1].fallback_cny + best(mask ^ low, left)
        sub = mask
        while sub:
            if sub & low:
                for k, cost in enumerate(cheapest[sub]):
                    if left[k] and cost < math.inf:
                        fewer = (*left[:k], left[k] - 1, *left[k + 1 :])
                        result = min(result, cost + best(mask ^ sub, fewer))
            sub = (sub - 1) & mask
        return result

    fleet = tuple(min(b.count, len(units)) for b in types)
    return best((1 << len(units)) - 1, fleet) + _subsidies(problem)


# ---------------------------------------------------------------------- the bounds, where OR-Tools is not loaded
_BOUNDS = """
import json, pickle, sys
from benchmarks.county_day import CountyDay
from benchmarks.county_methods import aggregate_bound, lower_bound
from benchmarks import county_bound
from benchmarks.county_bound import configuration_bound
out = []
for problem in pickle.load(sys.stdin.buffer):
    day = CountyDay(problem)
    aggregate = aggregate_bound(day, 30.0)
    configuration = configuration_bound(day, 60.0)
    exact_walks, county_bound.MAX_WALK_WORK = county_bound.MAX_WALK_WORK, 0  # km from the legs alone
    legs = configuration_bound(day, 60.0)
    county_bound.MAX_WALK_WORK = exact_walks
    out.append({
        "aggregate": aggregate.bound_cny, "simple": aggregate.simple_cny, "status": aggregate.status,
        "configuration": configuration.bound_cny, "converged": configuration.converged and legs.converged,
        "configuration_legs": legs.bound_cny, "loads": configuration.loads, "bound": lower_bound(day, 60.0).bound_cny,
    })
print(json.dumps(out))
"""


def bounds(problems: list[Problem]) -> list[dict[str, Any]]:
    """Both relaxations (the configuration LP also with the km of re-boarding coaches from their legs alone, as
    on areas too big for the exact walks) and the combined bound of each problem, in one fresh process
    (OR-Tools' bundled HiGHS clashes with highspy; HiGHS may print its banner first, so the answer is the last
    line)."""
    done = subprocess.run(
        [sys.executable, "-c", _BOUNDS], input=pickle.dumps(problems), capture_output=True, cwd=REPO, check=True
    )
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def assert_below(found: dict[str, Any], exact: float, what: str) -> None:
    assert found["status"] == "Optimal", what
    assert found["converged"], what
    for relaxation in ("aggregate", "simple", "configuration", "configuration_legs", "bound"):
        assert found[relaxation] <= exact + 0.01, f"{what}: {relaxation} {found[relaxation]:.2f} > {exact:.2f}"
    # The km from the legs alone never exceed the shortest walks', so that LP is never above the exact one.
    assert found["configuration_legs"] <= found["configuration"] + 0.01, what


# ---------------------------------------------------------------------- the cases
def short_haul() -> Problem:
    """50 travellers from 利村乡 to a factory near Ji'an (a group of 45 and one of 5) and a group of 42 from
    段屋乡 to another 50 km away; the fixture's coach types, default rules, planning by cost."""
    return make_day(
        [("360731202", JIAN[0], 45, 0), ("360731202", JIAN[0], 5, 0), ("360731213", JIAN[1], 42, 0)],
        PolicyRules(threshold_is_entitlement=False),
    )


def test_short_haul_bound_is_below_a_coach_that_boards_again() -> None:
    """Near Ji'an one coach carries the first flow, unloads and boards the second, which beats a coach per flow;
    both relaxations stay below that optimum, and the planner's own plan costs at least the optimum."""
    from scheduler.solve import SolveParams, solve

    problem = short_haul()
    exact = optimum(problem)
    one_load_each = optimum(problem, reboard=False)
    assert exact < one_load_each - 500  # boarding again is what makes the optimum

    [found] = bounds([problem])
    assert_below(found, exact, "short haul")
    assert found["loads"]["吉安市"] >= 2
    assert found["bound"] >= 0.85 * exact  # and the bound still counts what a second load drives

    plan = solve(problem, SolveParams(time_limit_s=3, workers=1))
    assert check_plan(problem, plan) == []
    assert exact <= plan.totals.total_cost + 0.01


def test_in_county_bound_with_subsidies_assembly_point_and_a_small_coach() -> None:
    """Three groups to two in-county factories (no subsidy due there; several loads fit in the span) and one to
    Ji'an with a registered-poor traveller (500 CNY), the county seat's neighbours boarding at the bus station, in
    a county paying 3 CNY/km instead of a coach: the optimum runs a 19-seater that reaches the threshold of 20
    only by boarding again, and both relaxations stay below it."""
    units = [
        ("360731100", IN_COUNTY[0], 14, 2),
        ("360731103", IN_COUNTY[1], 9, 0),
        ("360731108", IN_COUNTY[0], 12, 1),
        ("360731202", JIAN[0], 24, 1),
    ]
    rules = PolicyRules(assembly_points=(STATION,), reimburse_per_km=3.0, threshold_is_entitlement=False)
    problem = make_day(units, rules)
    exact = optimum(problem)
    no_minibus = make_day(units, rules, tuple(replace(b, count=0) if b.seats < 20 else b for b in COACHES))
    assert exact < optimum(no_minibus) - 100
    assert exact < optimum(problem, reboard=False) - 100
    assert _subsidies(problem) == 500.0

    [found] = bounds([problem])
    assert_below(found, exact, "in county")
    assert found["loads"]["于都县"] >= 2


def test_entitled_flow_on_a_coach_below_the_threshold() -> None:
    """Where the threshold is an entitlement, a bus may run below it with riders of a flow of at least the
    threshold: a group of 19 and one traveller alone (a flow of 20) to Dongguan, whose 19-seater costs less than
    the group's fallback. That plan is cheaper than any planned by cost alone, and both relaxations stay below
    it (they count that coach type with any number of riders there)."""
    units = [("360731100", FAR, 19, 0), ("360731100", FAR, 1, 0)]
    fleet = tuple(replace(b, count=1 if b.seats < 20 else 0) for b in COACHES)
    by_right = make_day(units, PolicyRules(), fleet)
    by_cost = make_day(units, PolicyRules(threshold_is_entitlement=False), fleet)
    exact = optimum(by_right)
    assert exact < optimum(by_cost) - 100

    right, cost = bounds([by_right, by_cost])
    assert_below(right, exact, "entitled")
    assert_below(cost, optimum(by_cost), "by cost")
    assert cost["bound"] > exact  # planning by cost, the 19-seater is not counted, and need not be


def random_day(seed: int) -> Problem:
    """Three or four units from random townships to the factories of one or two of: in the county, near Ji'an,
    Dongguan; random coach counts, threshold, fallback rate, stop limits, span, return billing, gate hours,
    sometimes the assembly point, and the threshold as an entitlement or not."""
    rng = random.Random(seed)
    pool = [*rng.choice([JIAN, IN_COUNTY, JIAN + IN_COUNTY, (*IN_COUNTY, FAR), (*JIAN, FAR)])]
    pool = [replace(f, receive_from_s=0, receive_until_s=DAY_S) if rng.random() < 0.3 else f for f in pool]
    units = []
    for _ in range(rng.choice([3, 4, 4])):
        township = rng.choice(TOWNSHIPS).township_id
        size = rng.choice([1, rng.randint(2, 15), rng.randint(15, 50)])
        units.append((township, rng.choice(pool), size, rng.choice([0, 0, 1])))
    fleet = tuple(replace(b, count=rng.choice([0, 1, 1, 2])) for b in COACHES)
    if not any(b.count for b in fleet):
        fleet = (replace(COACHES[0], count=1), *fleet[1:])
    rules = PolicyRules(
        charter_min_group=rng.choice([10, 15, 20]),
        reimburse_per_km=rng.choice([0.45, 1.5, 3.0]),
        max_pickup_stops=rng.choice([1, 2, 3]),
        max_dropoff_stops=rng.choice([1, 2, 3]),
        max_ride_hours=rng.choice([8.0, 12.0, 16.0]),
        empty_return_factor=rng.choice([1.0, 0.6]),
        assembly_points=(STATION,) if rng.random() < 0.4 else (),
        threshold_is_entitlement=rng.random() < 0.5,
    )
    return make_day(units, rules, fleet, tuple(pool))


RANDOM_SEEDS = range(40)


@pytest.fixture(scope="module")
def random_bounds() -> list[dict[str, Any]]:
    """The bounds of every random day, computed in one fresh process."""
    return bounds([random_day(seed) for seed in RANDOM_SEEDS])


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_small_days_bound_is_below_the_optimum(seed: int, random_bounds: list[dict[str, Any]]) -> None:
    """On random small days both relaxations stay at or below the enumerated optimum."""
    problem = random_day(seed)
    assert_below(random_bounds[seed], optimum(problem), f"seed {seed}")


def test_random_days_include_some_where_boarding_again_pays() -> None:
    """The random days exercise what the bound must allow: on several, the optimum boards again after a
    drop-off and is cheaper than any plan without."""
    pays = [seed for seed in RANDOM_SEEDS if optimum(random_day(seed)) < optimum(random_day(seed), reboard=False) - 1]
    assert len(pays) >= 4, pays


@pytest.mark.parametrize("seed", range(6))
def test_planner_plans_cost_at_least_the_enumerated_optimum(seed: int) -> None:
    """The enumeration is no stricter than the planner: its optimum is at most the planner's checked plan."""
    from scheduler.solve import SolveParams, solve

    problem = random_day(seed)
    plan = solve(problem, SolveParams(time_limit_s=2, workers=1))
    assert check_plan(problem, plan) == []
    assert optimum(problem) <= plan.totals.total_cost + 0.01 * len(problem.travellers)  # totals are in fen


# ---------------------------------------------------------------------- the pieces of the proof
_FIXTURE_LOADS = """
import json, sys, tempfile
from collections import defaultdict
from pathlib import Path
from benchmarks.county_bound import area_loads, coach_types, fewest_riders
from benchmarks.county_day import load_day
from fixtures.generate import write_scenario
folder = Path(tempfile.mkdtemp()) / "scenario"
write_scenario(folder, travellers=1500, seed=7)
day = load_day(folder)
parties = defaultdict(list)
for party in day.parties:
    parties[day.area_of[party.factory_id]].append(party)
out = {}
for area, members in parties.items():
    places = {p.place_id: p for party in members for p in day.pickup_places(party.township_id)}
    factories = {party.factory_id: day.factories[party.factory_id] for party in members}
    keys = sorted({(party.township_id, party.factory_id) for party in members})
    fewest = min(fewest_riders(day, keys, coach_types(day)))
    travellers = sum(p.size for p in members)
    loads = area_loads(day, list(places.values()), list(factories.values()), travellers, fewest)
    out[area] = [loads.max_loads, loads.span_s[1] / 3600, fewest]
print(json.dumps(out))
"""


def _fresh(code: str, stdin: bytes = b"") -> Any:
    done = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, cwd=REPO, check=True)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_fixture_destinations_leave_no_room_for_a_second_load() -> None:
    """On the fixture county's destinations (Pearl River Delta, Kunshan, Cixi) a coach that came back for a
    second load would need more than the 16 h span, so each coach there makes one load; the nearest area,
    Huizhou, needs 17.2 h (the figure in ``county_bound``'s proof)."""
    found = _fresh(_FIXTURE_LOADS)
    assert all(loads == 1 for loads, _, _ in found.values()), found
    assert min(span_h for _, span_h, _ in found.values()) > 16.0
    assert found["惠州市"][1] == pytest.approx(17.2, abs=0.05)


_WALKS = """
import json, sys
import numpy as np
from benchmarks.county_bound import _shortest_walks
out = []
for case in json.load(sys.stdin):
    one_way, billed = _shortest_walks(
        np.array(case["nodes"], dtype=np.int64), case["board"], np.array(case["km"]), case["loads"], case["back"]
    )
    out.append([one_way.tolist(), billed.tolist()])
print(json.dumps(out))
"""


def _walks_by_enumeration(km: list[list[float]], board: int, n: int, loads: int, back: float) -> list[list[float]]:
    """Least one-way and billed km of walks from the depot (0) over places 1..n (the first ``board`` boarding
    places), visiting all, starting at a boarding place, ending at a factory, with exactly r runs of boarding
    places, by trying every walk of up to n + 2 x loads stops (enough: in a shortest walk every stop is a first
    visit or alone in its run)."""
    one_way = [math.inf] * loads
    billed = [math.inf] * loads

    def go(walk: list[int], runs: int, km_so_far: float) -> None:
        last = walk[-1]
        if last > board and len(set(walk)) == n:
            one_way[runs - 1] = min(one_way[runs - 1], km_so_far)
            billed[runs - 1] = min(billed[runs - 1], km_so_far + back * km[last][0])
        if len(walk) == n + 2 * loads:
            return
        for node in range(1, n + 1):
            if node == last:
                continue
            more = runs + (last > board and node <= board)
            if more <= loads:
                go([*walk, node], more, km_so_far + km[last][node])

    for first in range(1, board + 1):
        go([first], 1, km[0][first])
    return [one_way, billed]


def test_shortest_walks_with_several_loads_are_exact() -> None:
    """The dynamic programme behind the columns that board again finds exactly the shortest walk with r runs of
    boarding places, for r = 1 to 3, on random township and factory sets (a longer answer would overstate the
    bound, a shorter one weaken it)."""
    rng = random.Random(5)
    cases, expected = [], []
    depot = make_day([]).depot
    for _ in range(6):
        board = rng.choice([1, 2, 2, 3])
        places = [*rng.sample(TOWNSHIPS, board), *rng.sample(JIAN + IN_COUNTY, rng.choice([1, 2]))]
        everything = [depot, *places]
        km = [[_leg(a, b)[0] for b in everything] for a in everything]
        back = rng.choice([1.0, 0.6])
        cases.append({"nodes": list(range(1, len(everything))), "board": board, "km": km, "loads": 3, "back": back})
        expected.append(_walks_by_enumeration(km, board, len(places), 3, back))
    found = _fresh(_WALKS, json.dumps(cases).encode())
    for (one_way, billed), (one_way_enum, billed_enum) in zip(found, expected, strict=True):
        assert one_way == pytest.approx(one_way_enum, abs=1e-9)
        assert billed == pytest.approx(billed_enum, abs=1e-9)
