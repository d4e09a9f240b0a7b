"""An independent feasibility checker for Li & Lim solutions (uses no solver code, only the instance file).

A solution is a list of routes, each the customer nodes a vehicle visits between leaving and returning to
the depot. Times and distances are recomputed from coordinates with unrounded Euclidean distances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.lilim_data import LilimInstance

# Float slack when comparing recomputed times with the integer windows of the files.
EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class CheckResult:
    feasible: bool
    vehicles: int
    distance: float
    problems: tuple[str, ...] = field(default=())


def check_solution(instance: LilimInstance, routes: Sequence[Sequence[int]]) -> CheckResult:
    """Every request once, pickup before its delivery on one route, load within [0, Q], service starts
    within windows (waiting allowed), back at the depot by its due time. Returns vehicles (non-empty
    routes), total distance and every problem found."""
    nodes = instance.nodes
    problems: list[str] = []
    routes = [list(r) for r in routes if len(r) > 0]
    if len(routes) > instance.vehicles:
        problems.append(f"{len(routes)} routes but only {instance.vehicles} vehicles.")
    seen: dict[int, int] = {}
    total = 0.0
    for k, route in enumerate(routes):
        load = 0
        t = float(nodes[0].ready)
        previous = 0
        picked: set[int] = set()
        for node in route:
            if not 0 < node < len(nodes):
                problems.append(f"route {k}: unknown node {node}.")
                break
            if node in seen:
                problems.append(f"node {node} visited more than once.")
            seen[node] = k
            info = nodes[node]
            total += instance.distance(previous, node)
            t += nodes[previous].service + instance.distance(previous, node)
            if t > info.due + EPSILON:
                problems.append(f"route {k}: node {node} served at {t:.3f} after its window closes at {info.due}.")
            t = max(t, float(info.ready))
            load += info.demand
            if load > instance.capacity:
                problems.append(f"route {k}: load {load} above capacity {instance.capacity} at node {node}.")
            if load < 0:
                problems.append(f"route {k}: negative load at node {node}.")
            if info.delivery_sibling:
                picked.add(node)
            elif info.pickup_sibling and info.pickup_sibling not in picked:
                problems.append(f"route {k}: delivery {node} before (or without) its pickup {info.pickup_sibling}.")
            previous = node
        total += instance.distance(previous, 0)
        t += nodes[previous].service + instance.distance(previous, 0)
        if t > nodes[0].due + EPSILON:
            problems.append(f"route {k}: back at the depot at {t:.3f} after the horizon {nodes[0].due}.")
    customers = set(range(1, len(nodes)))
    missing = sorted(customers - set(seen))
    if missing:
        problems.append(f"{len(missing)} nodes not served, e.g. {missing[:5]}.")
    return CheckResult(not problems, len(routes), total, tuple(problems))
