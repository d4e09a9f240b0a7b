"""Peer solvers on Li & Lim instances: PyVRP, VROOM (pyvroom) and nextroute, each given the same time budget.

Each ``solve_*`` returns routes as lists of Li & Lim node indices (without the depot) and a note; the
harness checks them with ``benchmarks.check`` like fanggang's. Integer scaling as in
``benchmarks.lilim_fanggang``: times round up (so integer-feasible stays feasible), costs round to nearest.
"""

from __future__ import annotations

import datetime as dt
import math
from importlib.metadata import PackageNotFoundError, version

from benchmarks.lilim_data import LilimInstance

SCALE = 1000


def peer_version(solver: str) -> str | None:
    """Installed version of a peer, or None when it is not installed."""
    package = {"pyvrp": "pyvrp", "vroom": "pyvroom", "nextroute": "nextroute"}[solver]
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _matrices(instance: LilimInstance) -> tuple[list[list[int]], list[list[int]]]:
    """(cost, travel time) in integer units; travel time excludes service."""
    n = len(instance.nodes)
    exact = [[instance.distance(i, j) * SCALE for j in range(n)] for i in range(n)]
    return [[round(d) for d in row] for row in exact], [[math.ceil(d - 1e-9) for d in row] for row in exact]


def _vehicle_cost(instance: LilimInstance) -> int:
    """A fixed cost per vehicle above any realistic distance saving from one more route."""
    far = max(instance.distance(0, i) for i in range(len(instance.nodes)))
    return round(2 * far * SCALE * len(instance.nodes))


def solve_pyvrp(instance: LilimInstance, time_limit_s: float, seed: int = 1) -> tuple[list[list[int]], str]:
    """PyVRP >= 0.14 models paired pickup and delivery as ``Shipment``s."""
    import numpy as np
    import pyvrp
    from pyvrp.stop import MaxRuntime

    if not hasattr(pyvrp, "Shipment"):
        return [], "skipped: this PyVRP has no pickup-delivery pairing (Shipment)"
    cost, travel = _matrices(instance)
    depot_node = instance.nodes[0]
    locations = [pyvrp.Location(x=n.x, y=n.y) for n in instance.nodes]
    shipments = []
    for p, d in instance.requests:
        pn, dn = instance.nodes[p], instance.nodes[d]
        shipments.append(
            pyvrp.Shipment(
                pickup_location=p,
                delivery_location=d,
                pickup_tw_early=pn.ready * SCALE,
                pickup_tw_late=pn.due * SCALE,
                pickup_service_duration=pn.service * SCALE,
                delivery_tw_early=dn.ready * SCALE,
                delivery_tw_late=dn.due * SCALE,
                delivery_service_duration=dn.service * SCALE,
                amount=[pn.demand],
                name=str(p),
            )
        )
    vehicle_type = pyvrp.VehicleType(
        num_available=instance.vehicles,
        capacity=[instance.capacity],
        fixed_cost=_vehicle_cost(instance),
        tw_early=depot_node.ready * SCALE,
        tw_late=depot_node.due * SCALE,
    )
    data = pyvrp.ProblemData(
        locations=locations,
        clients=[],
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[vehicle_type],
        distance_matrices=[np.array(cost, dtype=np.int64)],
        duration_matrices=[np.array(travel, dtype=np.int64)],
        shipments=shipments,
    )
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    routes = []
    for route in result.best.routes():
        nodes = []
        for activity in route.schedule():
            if activity.is_pickup():
                nodes.append(data.shipment(activity.idx).pickup.location)
            elif activity.is_delivery():
                nodes.append(data.shipment(activity.idx).delivery.location)
        routes.append(nodes)
    note = "" if result.best.is_feasible() else "pyvrp reports its best solution infeasible"
    return routes, note


def solve_vroom(instance: LilimInstance, time_limit_s: float, threads: int = 2) -> tuple[list[list[int]], str]:
    """VROOM shipments with time windows on custom matrices; it stops by itself, usually well within the limit."""
    import vroom

    cost, travel = _matrices(instance)
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=travel)
    problem.set_costs_matrix(profile="car", matrix_input=cost)
    depot = instance.nodes[0]
    for k in range(instance.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(
                id=k + 1,
                start=0,
                end=0,
                capacity=[instance.capacity],
                time_window=vroom.TimeWindow(depot.ready * SCALE, depot.due * SCALE),
                costs=vroom.VehicleCosts(fixed=_vehicle_cost(instance)),
            )
        )
    for p, d in instance.requests:
        pn, dn = instance.nodes[p], instance.nodes[d]
        problem.add_shipment(
            pickup=vroom.ShipmentStep(
                id=p,
                location=p,
                default_service=pn.service * SCALE,
                time_windows=[vroom.TimeWindow(pn.ready * SCALE, pn.due * SCALE)],
            ),
            delivery=vroom.ShipmentStep(
                id=d,
                location=d,
                default_service=dn.service * SCALE,
                time_windows=[vroom.TimeWindow(dn.ready * SCALE, dn.due * SCALE)],
            ),
            amount=vroom.Amount([pn.demand]),
        )
    solution = problem.solve(exploration_level=5, nb_threads=threads, timeout=dt.timedelta(seconds=time_limit_s))
    table = solution.routes
    routes = []
    for _, steps in table.groupby("vehicle_id", sort=True):
        nodes = [int(i) for t, i in zip(steps["type"], steps["id"], strict=False) if t in ("pickup", "delivery")]
        if nodes:
            routes.append(nodes)
    unassigned = len(instance.nodes) - 1 - sum(len(r) for r in routes)
    return routes, f"{unassigned // 2} requests unassigned" if unassigned else ""


def solve_nextroute(instance: LilimInstance, time_limit_s: float) -> tuple[list[list[int]], str]:
    """nextroute with explicit matrices, precedence pairs and a vehicles-first activation penalty.

    nextroute wants windows on minute boundaries, so one distance unit is 600 s here.
    """
    import nextroute
    from nextroute.options import Options

    unit_s = 600
    n = len(instance.nodes)
    cost, _ = _matrices(instance)
    travel = [[math.ceil(instance.distance(i, j) * unit_s - 1e-9) for j in range(n)] for i in range(n)]
    epoch = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    def at(units: float) -> str:
        return (epoch + dt.timedelta(seconds=units)).isoformat()

    depot = instance.nodes[0]
    stops = []
    for node in instance.nodes[1:]:
        stop = {
            "id": str(node.index),
            "location": {"lon": node.x / 1000, "lat": node.y / 1000},
            "quantity": -node.demand,
            "duration": node.service * unit_s,
            "start_time_window": [at(node.ready * unit_s), at(node.due * unit_s)],
            "unplanned_penalty": 100 * _vehicle_cost(instance),
        }
        if node.pickup_sibling:
            stop["succeeds"] = str(node.pickup_sibling)
        stops.append(stop)
    depot_location = {"lon": depot.x / 1000, "lat": depot.y / 1000}
    vehicles = [
        {
            "id": str(k),
            "start_location": depot_location,
            "end_location": depot_location,
            "start_time": at(depot.ready * unit_s),
            "end_time": at(depot.due * unit_s),
            "capacity": instance.capacity,
            "activation_penalty": _vehicle_cost(instance),
            "speed": 1.0,
        }
        for k in range(instance.vehicles)
    ]
    # Matrices cover stops then vehicle starts and ends (all at the depot), in that order.
    order = [n.index for n in instance.nodes[1:]] + [0] * (2 * instance.vehicles)
    problem = {
        "stops": stops,
        "vehicles": vehicles,
        "duration_matrix": [[travel[a][b] for b in order] for a in order],
        "distance_matrix": [[cost[a][b] for b in order] for a in order],
    }
    options = Options(
        SOLVE_DURATION=time_limit_s,
        MODEL_OBJECTIVES_VEHICLESDURATION=0.0,
        MODEL_OBJECTIVES_DISTANCE=1.0,
        MODEL_OBJECTIVES_VEHICLEACTIVATIONPENALTY=1.0,
    )
    output = nextroute.solve(problem, options).to_dict()
    routes = []
    for vehicle in output["solutions"][0]["vehicles"]:
        nodes = [int(s["stop"]["id"]) for s in vehicle.get("route", []) if s["stop"]["id"].isdigit()]
        if nodes:
            routes.append(nodes)
    unplanned = len(output["solutions"][0].get("unplanned") or [])
    return routes, f"{unplanned // 2} requests unplanned" if unplanned else ""
