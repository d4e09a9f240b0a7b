"""On instances small enough to enumerate, the planner's cost equals the brute-force optimum."""

from __future__ import annotations

import itertools
import random

import pytest
from conftest import make_problem

from scheduler.model import BusType, Problem
from scheduler.policy import PolicyRules
from scheduler.solve import SolveParams, solve
from scheduler.travel import GeodesicTravel

TRAVEL = GeodesicTravel()
FLEET = (BusType("c12", 12, 2, 300.0, 1.0), BusType("c8", 8, 1, 250.0, 0.8))
RULES = PolicyRules(
    charter_min_group=4, max_pickup_stops=2, max_dropoff_stops=2, second_driver_km=10_000, second_driver_hours=100
)


def random_instance(seed: int) -> Problem:
    """Three or four registered groups, each its own township-to-Dongguan flow."""
    rng = random.Random(seed)
    flows = set()
    while len(flows) < rng.choice([3, 4]):
        flows.add((rng.randrange(6), rng.choice([0, 1, 2, 6])))
    return make_problem([(t, f, [rng.randint(2, 7)]) for t, f in sorted(flows)], FLEET, RULES)


def brute_force_cost(problem: Problem) -> float:
    """Try every assignment of groups to coaches or to the fallback, every order of stops."""
    rules = problem.rules
    depot = problem.depot
    groups: dict[str, list] = {}
    for t in problem.travellers:
        groups.setdefault(t.group_id, []).append(t)
    parties = [
        (problem.township(ts[0].township_id), problem.factory(ts[0].factory_id), len(ts)) for ts in groups.values()
    ]
    vehicles = [b for b in problem.fleet for _ in range(b.count)]

    def fallback(party) -> float:
        township, factory, size = party
        return rules.reimburse_per_km * TRAVEL.leg(township, factory).distance_km * size

    def bus_cost(bus: BusType, members: list) -> float | None:
        load = sum(size for _, _, size in members)
        pickups = list({t.place_id: t for t, _, _ in members}.values())
        drops = list({f.place_id: f for _, f, _ in members}.values())
        if load > bus.seats or load < rules.charter_min_group:
            return None
        if len(pickups) > rules.max_pickup_stops or len(drops) > rules.max_dropoff_stops:
            return None
        best = None
        for p_order in itertools.permutations(pickups):
            for d_order in itertools.permutations(drops):
                path = [depot, *p_order, *d_order]
                km = sum(TRAVEL.leg(a, b).distance_km for a, b in itertools.pairwise(path))
                km += rules.empty_return_factor * TRAVEL.leg(path[-1], depot).distance_km
                cost = bus.fixed_cost + bus.cost_per_km * km
                best = cost if best is None else min(best, cost)
        return best

    best_total = float("inf")
    for assignment in itertools.product(range(-1, len(vehicles)), repeat=len(parties)):
        total = sum(fallback(p) for p, a in zip(parties, assignment, strict=True) if a == -1)
        for v, bus in enumerate(vehicles):
            members = [p for p, a in zip(parties, assignment, strict=True) if a == v]
            if members:
                cost = bus_cost(bus, members)
                if cost is None:
                    total = float("inf")
                    break
                total += cost
        best_total = min(best_total, total)
    return best_total


@pytest.mark.parametrize("seed", range(6))
def test_planner_finds_the_brute_force_optimum(seed: int) -> None:
    """Charter plus fallback cost equals the enumerated optimum (to the yuan)."""
    problem = random_instance(seed)
    plan = solve(problem, SolveParams(time_limit_s=2.0, workers=1))
    optimum = brute_force_cost(problem)
    assert plan.totals.subsidy_cost == 0
    assert plan.totals.total_cost == pytest.approx(optimum, abs=1.0)
