"""A first solution for stop-limited pickup-and-delivery: fill one vehicle at a time, place by place.

OR-Tools' insertion heuristics never open a vehicle whose fixed cost exceeds the penalty of the first
request it would carry, so with priced alternatives they leave everyone unserved. This builder seeds
each vehicle with the largest request left and fills it, preferring requests that add no new stop,
then tries every order of its (few) pickup and delivery places. A vehicle is kept only when it meets
its rider floor and costs less than the penalties of the requests it carries.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from scheduler.pdp import NodeKind, PdpInstance
from scheduler.timetable import fit_times


@dataclass
class _Draft:
    vehicle: int
    requests: list[tuple[int, int]] = field(default_factory=list)  # (request, chosen pickup node)
    load: int = 0
    route: tuple[int, ...] = ()
    cost: int = 0


def build_initial_routes(instance: PdpInstance, max_candidates: int = 12) -> list[list[int]]:
    """Routes per vehicle (node lists without start/end) that satisfy every constraint of the model."""
    nodes = instance.nodes
    requests = instance.requests
    # Delivery demands are negative: this puts the requests with most riders first.
    unassigned = sorted(range(len(requests)), key=lambda r: (nodes[requests[r].delivery].demand, r))
    free_vehicles = sorted(
        range(len(instance.vehicles)),
        key=lambda v: (-instance.vehicles[v].capacity, instance.vehicles[v].fixed_cost, v),
    )
    routes: list[list[int]] = [[] for _ in instance.vehicles]
    failed_seeds: set[int] = set()
    while free_vehicles:
        seeds = [r for r in unassigned if r not in failed_seeds]
        if not seeds:
            break
        seed = seeds[0]
        vehicle = free_vehicles[0]
        draft = _Draft(vehicle)
        if not _try_add(instance, draft, seed):
            failed_seeds.add(seed)
            continue
        pool = [r for r in unassigned if r != seed]
        while True:
            added = False
            for r in _ranked_candidates(instance, draft, pool)[:max_candidates]:
                if _try_add(instance, draft, r):
                    pool.remove(r)
                    added = True
                    break
            if not added:
                break
        draft = _downsize(instance, draft, free_vehicles)
        if _worth_it(instance, draft):
            routes[draft.vehicle] = list(draft.route)
            free_vehicles.remove(draft.vehicle)
            taken = {r for r, _ in draft.requests}
            unassigned = [r for r in unassigned if r not in taken]
        else:
            failed_seeds.add(seed)
    return routes


def _ranked_candidates(instance: PdpInstance, draft: _Draft, pool: list[int]) -> list[int]:
    """Requests that fit, fewest new stops first, then most riders, then nearest."""
    nodes = instance.nodes
    capacity = instance.vehicles[draft.vehicle].capacity
    pickup_places = {nodes[p].place for _, p in draft.requests}
    delivery_places = {nodes[instance.requests[r].delivery].place for r, _ in draft.requests}
    anchor = draft.requests[0][1]
    ranked = []
    for r in pool:
        request = instance.requests[r]
        demand = nodes[request.delivery].demand * -1
        if draft.load + demand > capacity:
            continue
        new_pickup = min(0 if nodes[p].place in pickup_places else 1 for p in request.pickups)
        new_delivery = 0 if nodes[request.delivery].place in delivery_places else 1
        if instance.max_pickup_stops is not None and len(pickup_places) + new_pickup > instance.max_pickup_stops:
            continue
        if (
            instance.max_delivery_stops is not None
            and len(delivery_places) + new_delivery > instance.max_delivery_stops
        ):
            continue
        near = (
            min(instance.distance[anchor][p] for p in request.pickups)
            + instance.distance[instance.requests[draft.requests[0][0]].delivery][request.delivery]
        )
        ranked.append((new_pickup + new_delivery, near, -demand, r))
    ranked.sort()
    return [r for *_, r in ranked]


def _try_add(instance: PdpInstance, draft: _Draft, request_index: int) -> bool:
    """Add a request with its best pickup alternative and the cheapest feasible order of places."""
    request = instance.requests[request_index]
    best: tuple[int, tuple[int, ...], int] | None = None
    for pickup in request.pickups:
        chosen = [*draft.requests, (request_index, pickup)]
        found = _best_route(instance, draft.vehicle, chosen)
        if found is not None and (best is None or found[0] < best[0]):
            best = (found[0], found[1], pickup)
    if best is None:
        return False
    draft.requests.append((request_index, best[2]))
    draft.load += -instance.nodes[request.delivery].demand
    draft.cost, draft.route = best[0], best[1]
    return True


def _best_route(
    instance: PdpInstance, vehicle: int, chosen: list[tuple[int, int]]
) -> tuple[int, tuple[int, ...]] | None:
    """Try every order of pickup places and of delivery places (few, by the stop limits)."""
    nodes = instance.nodes
    pickups_at: dict[int, list[int]] = {}
    deliveries_at: dict[int, list[int]] = {}
    for r, p in chosen:
        pickups_at.setdefault(nodes[p].place, []).append(p)
        d = instance.requests[r].delivery
        deliveries_at.setdefault(nodes[d].place, []).append(d)
    if len(pickups_at) > 4 or len(deliveries_at) > 4:
        return None
    best: tuple[int, tuple[int, ...]] | None = None
    for pickup_order in itertools.permutations(pickups_at):
        for delivery_order in itertools.permutations(deliveries_at):
            route = tuple(
                [n for place in pickup_order for n in pickups_at[place]]
                + [n for place in delivery_order for n in deliveries_at[place]]
            )
            cost = route_cost(instance, vehicle, route)
            if (best is None or cost < best[0]) and route_is_feasible(instance, vehicle, route):
                best = (cost, route)
    return best


def _downsize(instance: PdpInstance, draft: _Draft, free_vehicles: list[int]) -> _Draft:
    """Move the route to the cheapest free vehicle that can drive it."""
    best = draft
    for v in free_vehicles:
        if instance.vehicles[v].capacity < draft.load or v == draft.vehicle:
            continue
        if not route_is_feasible(instance, v, draft.route):
            continue
        cost = route_cost(instance, v, draft.route)
        if cost < best.cost:
            best = _Draft(v, draft.requests, draft.load, draft.route, cost)
    return best


def _worth_it(instance: PdpInstance, draft: _Draft) -> bool:
    vehicle = instance.vehicles[draft.vehicle]
    meets_floor = any(instance.requests[r].meets_floor for r, _ in draft.requests)
    if draft.load < vehicle.min_load and not meets_floor:
        return False
    penalties = [instance.requests[r].penalty for r, _ in draft.requests]
    if any(p is None for p in penalties):
        return True
    return draft.cost <= sum(p for p in penalties if p is not None)


def route_cost(instance: PdpInstance, vehicle: int, route: tuple[int, ...] | list[int]) -> int:
    """Fixed cost plus arc costs from the vehicle's start, through ``route``, to its end."""
    v = instance.vehicles[vehicle]
    matrix = instance.arc_costs[v.cost_class]
    path = [v.start, *route, v.end]
    return v.fixed_cost + sum(matrix[a][b] for a, b in itertools.pairwise(path))


def route_is_feasible(instance: PdpInstance, vehicle: int, route: tuple[int, ...] | list[int]) -> bool:
    """Capacity, pickup before delivery, stop limits, time windows and span, with earliest service."""
    v = instance.vehicles[vehicle]
    nodes = instance.nodes
    load = 0
    seen_pickups: set[int] = set()
    for node in route:
        load += nodes[node].demand
        if load > v.capacity:
            return False
    for node in route:
        if nodes[node].kind is NodeKind.PICKUP:
            seen_pickups.add(node)
        elif nodes[node].kind is NodeKind.DELIVERY and not seen_pickups.intersection(
            instance.request_of_delivery[node].pickups
        ):
            return False
    for kind, limit in ((NodeKind.PICKUP, instance.max_pickup_stops), (NodeKind.DELIVERY, instance.max_delivery_stops)):
        if limit is None:
            continue
        stops, previous = 0, nodes[v.start].place
        for node in route:
            if nodes[node].kind is kind and nodes[node].place != previous:
                stops += 1
            previous = nodes[node].place
        if stops > limit:
            return False
    if not route:
        return True
    transits = [instance.travel_time[a][b] for a, b in itertools.pairwise([v.start, *route])]
    windows = [nodes[node].windows for node in route]
    back = instance.travel_time[route[-1]][v.end]
    # The vehicle's span runs from leaving its start to reaching its end.
    span = None if v.max_span is None else v.max_span - transits[0] - back
    times = fit_times(nodes[v.start].windows[0][0], transits, windows, span)
    return times is not None and times[-1] + back <= nodes[v.end].windows[-1][1]
