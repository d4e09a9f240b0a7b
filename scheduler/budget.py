"""Sharing out what the day has: coaches among destination areas, and the time limit among routing models
solved in parallel.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import replace
from multiprocessing import get_context

from scheduler.messages import Message
from scheduler.model import BusType
from scheduler.pdp import PdpInstance, PdpSolution
from scheduler.routing import SearchParams, solve_pdp

ProgressCallback = Callable[[float, Message], None]


def allocate_fleet(
    pax_by_area: dict[str, int],
    types: list[BusType],
    fleet_left: dict[str, int],
    min_riders: int,
    entitled_flows_by_area: dict[str, int] | None = None,
) -> tuple[dict[str, list[BusType]], set[str]]:
    """Share the coaches left after direct buses among areas, in proportion to their travellers.

    An area never gets more coaches of a type than it could fill to the charter threshold (or than it has
    flows entitled to seats, which ride whatever their number), nor more than 1.5x what its travellers need
    in that size, so that the routing models stay small. Returns the list of coaches (one entry per vehicle)
    each area may use, and the areas that got fewer than that because the fleet ran short.
    """
    entitled = entitled_flows_by_area or {}
    total = sum(pax_by_area.values())
    allocation: dict[str, list[BusType]] = {a: [] for a in pax_by_area}
    short: set[str] = set()
    if total == 0:
        return allocation, short
    for bus_type in types:
        available = fleet_left.get(bus_type.vehicle_type, 0)
        # Coaches it could fill to the threshold (none of a type smaller than that), or one per entitled flow.
        fillable = {
            a: pax // max(min_riders, 1) if bus_type.seats >= min_riders else 0 for a, pax in pax_by_area.items()
        }
        wants = {
            a: min(max(fillable[a], entitled.get(a, 0)), math.ceil(1.5 * pax / bus_type.seats) + 1)
            for a, pax in pax_by_area.items()
        }
        if sum(wants.values()) <= available:
            shares = wants
        else:
            raw = {a: available * pax / total for a, pax in pax_by_area.items()}
            shares = {a: min(wants[a], math.floor(raw[a])) for a in pax_by_area}
            spare = available - sum(shares.values())
            for a in sorted(pax_by_area, key=lambda a: -(raw[a] - math.floor(raw[a]))):
                if spare <= 0:
                    break
                if shares[a] < wants[a]:
                    shares[a] += 1
                    spare -= 1
        for area, count in shares.items():
            allocation[area].extend([bus_type] * count)
            if count < wants[area]:
                short.add(area)
    return allocation, short


def split_time_budget(sizes: list[int], workers: int, total_s: float, floor_s: float = 0.2) -> list[float]:
    """Time per model, proportional to its size, such that a largest-first schedule on ``workers``
    processes finishes within ``total_s``."""
    if not sizes:
        return []
    weight = sum(sizes) or 1
    budgets = [max(floor_s, min(total_s, workers * total_s * s / weight)) for s in sizes]
    loads = [0.0] * workers
    for i in sorted(range(len(sizes)), key=lambda i: -budgets[i]):
        k = loads.index(min(loads))
        loads[k] += budgets[i]
    makespan = max(loads)
    if makespan > total_s:
        budgets = [b * total_s / makespan for b in budgets]
    return budgets


def assembly_reserve_s(travellers: int) -> float:
    """Time kept for assembling the plan and checking it after re-seating (measured on a quiet machine: 0.53 s
    for 12,377 travellers, 0.94 s for 61,505, of which the check is 0.31 and 0.74 s), and room for re-seating
    to overrun its limit (0.5 s seen on 61,505)."""
    return 0.5 + 3e-5 * travellers


def solve_models(
    instances: list[tuple[str, PdpInstance]],
    search: SearchParams,
    workers: int,
    left_s: float,
    report: ProgressCallback,
) -> list[PdpSolution]:
    """Solve the models on ``workers`` processes within ``left_s`` seconds, each with a share of that time in
    proportion to its size; results in the order given."""
    if not instances:
        return []
    workers = max(1, min(workers, len(instances)))
    left_s = max(0.2, left_s - 0.15 * len(instances) / workers)  # each model overshoots its limit a little
    budgets = split_time_budget([len(instance.requests) for _, instance in instances], workers, left_s)
    searches = [replace(search, time_limit_s=b) for b in budgets]
    started = time.monotonic()
    if workers == 1:
        results = []
        for i, ((name, instance), params) in enumerate(zip(instances, searches, strict=True)):
            report(0.1 + 0.85 * i / len(instances), Message("pooling_area", {"area": name}))
            results.append(solve_pdp(instance, params))
        return results
    order = sorted(range(len(instances)), key=lambda i: -budgets[i])
    # The budgets assume every model starts on time; on a busy machine a late one is cut to the deadline.
    deadline = time.monotonic() + left_s
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        futures = {pool.submit(_solve_by, instances[i][1], searches[i], deadline): i for i in order}
        pending = set(futures)
        while pending:
            _done, pending = wait(pending, timeout=0.5)
            share = 0.1 + 0.85 * (time.monotonic() - started) / max(left_s, 1e-9)
            done = len(futures) - len(pending)
            report(min(0.95, share), Message("pooling", {"areas": len(instances), "done": done}))
        return [f.result() for f in sorted(futures, key=lambda f: futures[f])]


def _solve_by(instance: PdpInstance, search: SearchParams, deadline: float) -> PdpSolution:
    """``solve_pdp`` within its own budget and never past ``deadline`` (``time.monotonic()``, shared by the
    forked workers)."""
    left = max(0.1, deadline - time.monotonic())
    return solve_pdp(instance, replace(search, time_limit_s=min(search.time_limit_s, left)))
