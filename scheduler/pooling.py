"""Pooling: one pickup-and-delivery model per destination area, and its routes read back as buses.

The parties left after the direct coaches are grouped by destination area (factories one bus may serve
together); an area with more routing tasks than one model solves well in the time is cut into compact parts.
Each part becomes a ``PdpInstance`` whose times, costs and windows all come from the day's ``Timetable``, and
each route found becomes a ``Bus`` timed and priced by the same timetable.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from scheduler.areas import split_factories
from scheduler.clock import DAY_S
from scheduler.fallback import FEN, Flow, Unserved, left_off_penalty_fen
from scheduler.grouping import Party, bundle_for_pooling
from scheduler.model import BusType, Factory, Place
from scheduler.pdp import NodeKind, PdpInstance, PdpNode, PdpRequest, PdpSolution, PdpVehicle
from scheduler.plan import Bus, Stop
from scheduler.timetable import Timetable


@dataclass(frozen=True, slots=True)
class Task:
    """A request of the routing model: parties of one flow that ride together."""

    parties: tuple[Party, ...]
    size: int
    pickup_places: tuple[Place, ...]  # the township, and its assembly point if it has one
    factory: Factory
    penalty_fen: int  # leaving the task unserved
    entitled: bool  # its flow has a right to seats: a coach carrying it runs whatever its load


@dataclass
class AreaModel:
    name: str
    instance: PdpInstance
    tasks: list[Task]
    node_task: list[int]  # node -> task index (-1 for the depot)
    node_place: list[Place]
    vehicle_types: list[BusType]
    fleet_short: bool = False  # the area got fewer coaches than it could fill


def parties_by_model(
    timetable: Timetable, pooled: Iterable[Party], area_of: dict[str, str], max_tasks: int
) -> dict[str, list[Party]]:
    """Parties per routing model: one model per destination area, cut into compact parts of at most
    ``max_tasks`` routing tasks."""
    by_area: dict[str, list[Party]] = defaultdict(list)
    for party in pooled:
        by_area[area_of[party.factory_id]].append(party)
    models: dict[str, list[Party]] = {}
    for area, parties in sorted(by_area.items()):
        tasks_per_factory = Counter(bundle[0].factory_id for bundle in bundle_for_pooling(parties))
        factories = [timetable.factory(f) for f in sorted(tasks_per_factory)]
        parts = split_factories(factories, dict(tasks_per_factory), max_tasks)
        for k, part in enumerate(parts, start=1):
            ids = {f.factory_id for f in part}
            name = area if len(parts) == 1 else f"{area} {k}"
            models[name] = [p for p in parties if p.factory_id in ids]
    return models


def build_area_model(
    timetable: Timetable, name: str, parties: list[Party], vehicle_types: list[BusType], entitled: set[Flow]
) -> AreaModel:
    """The pickup-and-delivery instance of one area part: a request per task, with its boarding alternatives;
    the tasks of ``entitled`` flows must ride while coaches last."""
    rules = timetable.rules
    tasks: list[Task] = []
    for bundle in bundle_for_pooling(parties):
        first = bundle[0]
        township = timetable.township(first.township_id)
        point = timetable.problem.assembly_point_of(first.township_id)
        places: tuple[Place, ...] = (township,) if point is None else (township, point)
        size = sum(p.size for p in bundle)
        right = (first.township_id, first.factory_id) in entitled
        penalty = left_off_penalty_fen(timetable, first.township_id, first.factory_id, size, right)
        tasks.append(Task(bundle, size, places, timetable.factory(first.factory_id), penalty, right))

    # Nodes: the depot, then per task its pickup alternatives and its delivery.
    depot = timetable.depot
    nodes = [PdpNode(NodeKind.DEPOT, 0, 0, ((rules.depart_from_s, 2 * DAY_S + rules.depart_from_s),))]
    node_task = [-1]
    node_place: list[Place] = [depot]
    place_index: dict[str, int] = {depot.place_id: 0}
    requests = []
    for k, task in enumerate(tasks):
        pickups = []
        for place in task.pickup_places:
            pickups.append(len(nodes))
            index = place_index.setdefault(place.place_id, len(place_index))
            windows = timetable.pickup_windows(place)
            nodes.append(PdpNode(NodeKind.PICKUP, index, task.size, windows, timetable.boarding_s(task.size)))
            node_task.append(k)
            node_place.append(place)
        delivery = len(nodes)
        index = place_index.setdefault(task.factory.place_id, len(place_index))
        arrive_by = min(p.arrive_by for p in task.parties)
        nodes.append(PdpNode(NodeKind.DELIVERY, index, -task.size, timetable.delivery_windows(task.factory, arrive_by)))
        node_task.append(k)
        node_place.append(task.factory)
        requests.append(PdpRequest(tuple(pickups), delivery, task.penalty_fen, meets_floor=task.entitled))

    # Matrices between nodes, from the (few) places they stand at. A node's time to the next is its service,
    # the stop's overhead when the coach moves on, and the drive with rests.
    stops = list({p.place_id: p for p in node_place}.values())
    index_of = {p.place_id: k for k, p in enumerate(stops)}
    at = np.array([index_of[p.place_id] for p in node_place])
    place_km = np.array([[timetable.leg(a, b).distance_km for b in stops] for a in stops])
    place_s = np.array([[timetable.drive_s(a, b) for b in stops] for a in stops])
    km = place_km[np.ix_(at, at)]
    moving = at[:, None] != at[None, :]
    service = np.array([node.service for node in nodes])
    overhead = np.array(
        [timetable.stop_overhead_s("pickup" if n.kind is NodeKind.PICKUP else "dropoff") for n in nodes]
    )
    overhead[0] = 0
    travel_time = service[:, None] + overhead[:, None] * moving + place_s[np.ix_(at, at)]
    # The depot legs take no time in the model: the pickup windows already hold the drive from the depot, so a
    # route's time span is its first passenger's time on board.
    travel_time[0, :] = 0
    travel_time[:, 0] = 0
    np.fill_diagonal(travel_time, 0)
    distance_m = np.rint(km * 1000).astype(np.int64)

    # Arc costs per cost class: the coach's per-km cost (the run back to the depot at its share), and the
    # shuttle of everyone boarding at an assembly point on every arc into it.
    shuttle_fen = np.array(
        [timetable.shuttle_cost(place, max(n.demand, 0)) * FEN for n, place in zip(nodes, node_place, strict=True)]
    )
    by_rate = sorted({b.cost_per_km for b in vehicle_types})
    class_of = {rate: c for c, rate in enumerate(by_rate)}
    arc_costs = []
    for rate in by_rate:
        coach = next(b for b in vehicle_types if b.cost_per_km == rate)
        per_km = np.full(len(nodes), timetable.km_cost(coach, 1.0, to_depot=False))
        per_km[0] = timetable.km_cost(coach, 1.0, to_depot=True)
        matrix = np.rint(km * FEN * per_km[None, :] + shuttle_fen[None, :]).astype(np.int64)
        np.fill_diagonal(matrix, 0)
        arc_costs.append(matrix.tolist())

    factories = {t.factory.place_id: t.factory for t in tasks}.values()
    drivers = 2 if _every_bus_needs_second_driver(timetable, factories) else 1
    # Below the floor, a coach costs more per missing rider than leaving any of its riders off would.
    max_penalty_per_person = max((t.penalty_fen / t.size for t in tasks if not t.entitled), default=1)
    vehicles = tuple(
        PdpVehicle(
            capacity=b.seats,
            fixed_cost=round((b.fixed_cost + timetable.driver_cost(drivers)) * FEN),
            cost_class=class_of[b.cost_per_km],
            start=0,
            end=0,
            min_load=rules.charter_min_group,
            shortfall_cost=round(max_penalty_per_person * (rules.charter_min_group + 1)),
            max_span=timetable.max_ride_s,
        )
        for b in vehicle_types
    )
    instance = PdpInstance(
        tuple(nodes),
        tuple(requests),
        vehicles,
        distance_m.tolist(),
        travel_time.astype(np.int64).tolist(),
        arc_costs,
        rules.max_pickup_stops,
        rules.max_dropoff_stops,
    )
    return AreaModel(name, instance, tasks, node_task, node_place, list(vehicle_types))


def _every_bus_needs_second_driver(timetable: Timetable, factories: Iterable[Factory]) -> bool:
    """The second driver's cost goes into the model's fixed cost only when every bus to the area needs one:
    even the nearest township's direct trip to each factory is too long for one driver."""
    depot = timetable.depot
    for factory in factories:
        nearest = min(timetable.problem.townships, key=lambda t: timetable.leg(t, factory).distance_km)
        first, second = timetable.leg(depot, nearest), timetable.leg(nearest, factory)
        if not timetable.needs_second_driver(first.distance_km + second.distance_km, first.drive_s + second.drive_s):
            return False
    return True


def area_buses(timetable: Timetable, model: AreaModel, solution: PdpSolution) -> tuple[list[Bus], list[Unserved]]:
    """The routes as buses (stops merged per place, timed and priced by the timetable), and the tasks no route
    took, with the cause: the area's coaches all used when the fleet was short, else no room in the pool."""
    buses = []
    served: set[int] = set()
    for route in solution.routes:
        stops: list[Stop] = []
        for node in route.nodes:
            task = model.tasks[model.node_task[node]]
            served.add(model.node_task[node])
            place = model.node_place[node]
            kind = "pickup" if model.instance.nodes[node].kind is NodeKind.PICKUP else "dropoff"
            riders = tuple(t for p in task.parties for t in p.traveller_ids)
            board, alight = (riders, ()) if kind == "pickup" else ((), riders)
            if stops and stops[-1].place_id == place.place_id and stops[-1].kind == kind:
                last = stops[-1]
                stops[-1] = Stop(last.place_id, last.place_name, kind, 0, 0, last.board + board, last.alight + alight)
            else:
                stops.append(Stop(place.place_id, place.name, kind, 0, 0, board, alight))
        bus = timetable.make_bus(model.vehicle_types[route.vehicle], model.name, stops)
        if bus is None:
            raise RuntimeError(f"A route of {model.name} found by the routing model misses its timetable: {stops}.")
        buses.append(bus)
    fleet_used_up = model.fleet_short and len(solution.routes) >= len(model.vehicle_types)
    cause = "fleet" if fleet_used_up else "pool"
    left = [Unserved(p, cause, model.name) for k, t in enumerate(model.tasks) if k not in served for p in t.parties]
    return buses, left
