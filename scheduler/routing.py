"""The OR-Tools model of a pickup-and-delivery problem (the only module that imports ortools).

``solve_pdp`` turns a ``PdpInstance`` into an OR-Tools routing model, searches for ``time_limit_s``
and returns a ``PdpSolution``. The model follows OR-Tools' own pickup-and-delivery samples, with
one short comment per modelling step.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from scheduler.construct import build_initial_routes
from scheduler.pdp import NodeKind, PdpInstance, PdpRoute, PdpSolution

FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy
METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic
# Time allowed for reading given routes back into the model, even when the search's own time is up.
_READ_ROUTES_S = 5.0


@dataclass(frozen=True, slots=True)
class SearchParams:
    """How long and how to search. ``initial_routes`` (node lists per vehicle) seed the search."""

    time_limit_s: float = 10.0
    # "FILL" is fanggang's own stop-limited builder (scheduler.construct); other names are OR-Tools'.
    first_solution: str = "FILL"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    initial_routes: tuple[tuple[int, ...], ...] | None = None
    lns_time_limit_s: float = 0.1
    log_search: bool = False
    # Stop as soon as a solution costs at most this (e.g. "every request served" when unserved is priced).
    stop_at_objective: int | None = None
    # Guided local search's penalty weight (OR-Tools' default when None).
    gls_lambda: float | None = None


ProgressCallback = Callable[[float, int], None]


def solve_pdp(instance: PdpInstance, params: SearchParams, on_progress: ProgressCallback | None = None) -> PdpSolution:
    """Solve a pickup-and-delivery instance.

    Args:
        instance: nodes, requests, vehicles and matrices.
        params: time limit and search strategy.
        on_progress: called with (elapsed share of the time limit, objective) at each new solution.

    Returns:
        The best solution found; ``status`` is "no_solution" (every request unserved) when none was.
    """
    started = time.monotonic()
    n_vehicles = len(instance.vehicles)
    if not instance.requests or n_vehicles == 0:
        return PdpSolution((), tuple(range(len(instance.requests))), 0, "empty")

    manager = pywrapcp.RoutingIndexManager(
        len(instance.nodes),
        n_vehicles,
        [v.start for v in instance.vehicles],
        [v.end for v in instance.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    # Arc costs: one registered matrix per cost class, no Python callback during search.
    cost_callbacks = [routing.RegisterTransitMatrix(matrix) for matrix in instance.arc_costs]
    for v, vehicle in enumerate(instance.vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_callbacks[vehicle.cost_class], v)
        routing.SetFixedCostOfVehicle(vehicle.fixed_cost, v)

    # Load: capacity per vehicle.
    demand_cb = routing.RegisterUnaryTransitVector([node.demand for node in instance.nodes])
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [v.capacity for v in instance.vehicles], True, "load")

    # Riders boarded so far: a soft floor on a used vehicle's riders (OR-Tools charges soft bounds
    # only on routes that are driven, so an unused vehicle pays nothing). A vehicle may board again after
    # dropping riders off, so this counts boardings, bounded only by their total, not by the seats.
    boardings = [max(node.demand, 0) for node in instance.nodes]
    boarded_cb = routing.RegisterUnaryTransitVector(boardings)
    routing.AddDimension(boarded_cb, 0, max(1, sum(boardings)), True, "boarded")
    boarded = routing.GetDimensionOrDie("boarded")
    for v, vehicle in enumerate(instance.vehicles):
        if vehicle.min_load > 0 and vehicle.shortfall_cost > 0:
            boarded.SetCumulVarSoftLowerBound(routing.End(v), vehicle.min_load, vehicle.shortfall_cost)

    # Time: service and rests are in the matrix; waiting allowed; windows may have gaps (e.g. nights).
    horizon = max(end for node in instance.nodes for _, end in node.windows)
    time_cb = routing.RegisterTransitMatrix(instance.travel_time)
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for node_index, node in enumerate(instance.nodes):
        if node.kind is NodeKind.DEPOT:
            continue
        cumul = time_dim.CumulVar(manager.NodeToIndex(node_index))
        cumul.SetRange(node.windows[0][0], node.windows[-1][1])
        for (_, gap_start), (gap_end, _) in zip(node.windows, node.windows[1:], strict=False):
            if gap_end - gap_start > 1:
                cumul.RemoveInterval(gap_start + 1, gap_end - 1)
    depot_windows = [instance.nodes[v.start].windows for v in instance.vehicles]
    for v, vehicle in enumerate(instance.vehicles):
        time_dim.CumulVar(routing.Start(v)).SetRange(depot_windows[v][0][0], depot_windows[v][-1][1])
        if vehicle.max_span is not None:
            time_dim.SetSpanUpperBoundForVehicle(vehicle.max_span, v)
    for v in range(n_vehicles):
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(v)))
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(v)))

    # Stop limits: count arrivals at a new physical place of each kind.
    for kind, limit, name in (
        (NodeKind.PICKUP, instance.max_pickup_stops, "pickup_stops"),
        (NodeKind.DELIVERY, instance.max_delivery_stops, "delivery_stops"),
    ):
        if limit is None:
            continue
        places = np.array([node.place for node in instance.nodes])
        is_kind = np.array([node.kind is kind for node in instance.nodes])
        new_stop = ((places[:, None] != places[None, :]) & is_kind[None, :]).astype(np.int64).tolist()
        stop_cb = routing.RegisterTransitMatrix(new_stop)
        routing.AddDimension(stop_cb, 0, limit, True, name)

    # Requests: the pickup (one of its alternatives) and the delivery ride the same vehicle, pickup first.
    for request in instance.requests:
        pickup_indices = [manager.NodeToIndex(p) for p in request.pickups]
        delivery_index = manager.NodeToIndex(request.delivery)
        if request.penalty is None:
            pickup_disjunction = routing.AddDisjunction(pickup_indices)
            delivery_disjunction = routing.AddDisjunction([delivery_index])
        else:
            pickup_disjunction = routing.AddDisjunction(pickup_indices, request.penalty)
            delivery_disjunction = routing.AddDisjunction([delivery_index], 0)
        if len(pickup_indices) == 1:
            routing.AddPickupAndDelivery(pickup_indices[0], delivery_index)
            solver.Add(routing.VehicleVar(pickup_indices[0]) == routing.VehicleVar(delivery_index))
            solver.Add(routing.ActiveVar(pickup_indices[0]) == routing.ActiveVar(delivery_index))
            solver.Add(time_dim.CumulVar(pickup_indices[0]) <= time_dim.CumulVar(delivery_index))
        else:
            routing.AddPickupAndDeliverySets(pickup_disjunction, delivery_disjunction)
    routing.SetPickupAndDeliveryPolicyOfAllVehicles(pywrapcp.RoutingModel.PICKUP_AND_DELIVERY_NO_ORDER)

    search = pywrapcp.DefaultRoutingSearchParameters()
    initial_routes = params.initial_routes
    if params.first_solution == "FILL":
        initial_routes = initial_routes or tuple(tuple(r) for r in build_initial_routes(instance))
        search.first_solution_strategy = FIRST_SOLUTION.LOCAL_CHEAPEST_INSERTION
    else:
        search.first_solution_strategy = getattr(FIRST_SOLUTION, params.first_solution)
    search.local_search_metaheuristic = getattr(METAHEURISTIC, params.metaheuristic)

    def limit_to(seconds: float) -> None:
        search.time_limit.FromMilliseconds(int(max(0.05, seconds) * 1000))

    # Reading initial routes back runs under the time limit the model was closed with: close it with room
    # for that, so a late model on a busy machine still starts from its routes; the search gets what is left.
    limit_to(params.time_limit_s + _READ_ROUTES_S)
    search.lns_time_limit.FromMilliseconds(int(params.lns_time_limit_s * 1000))
    search.log_search = params.log_search
    if params.gls_lambda is not None:
        search.guided_local_search_lambda_coefficient = params.gls_lambda
    routing.CloseModelWithParameters(search)

    best = {"objective": None}

    def report() -> None:
        objective = routing.CostVar().Value()
        best["objective"] = objective
        if params.stop_at_objective is not None and objective <= params.stop_at_objective:
            solver.FinishCurrentSearch()
        if on_progress is not None:
            share = min(1.0, (time.monotonic() - started) / max(params.time_limit_s, 1e-9))
            on_progress(share, objective)

    routing.AddAtSolutionCallback(report)

    initial = None
    if initial_routes is not None:
        initial = routing.ReadAssignmentFromRoutes([list(r) for r in initial_routes], True)
    limit_to(params.time_limit_s - (time.monotonic() - started))
    assignment = None
    if initial is not None:
        assignment = routing.SolveFromAssignmentWithParameters(initial, search)
        if assignment is None:
            # Out of time before the search took even the given routes: keep them as they are rather
            # than leave every request unserved.
            search.solution_limit = 1
            limit_to(_READ_ROUTES_S)
            assignment = routing.SolveFromAssignmentWithParameters(initial, search)
    if assignment is None:
        assignment = routing.SolveWithParameters(search)
    if assignment is None:
        return PdpSolution((), tuple(range(len(instance.requests))), 0, "no_solution")
    return _read_solution(instance, manager, routing, assignment, time_dim, time.monotonic() - started)


def _read_solution(
    instance: PdpInstance,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    assignment: pywrapcp.Assignment,
    time_dim: pywrapcp.RoutingDimension,
    wall_s: float,
) -> PdpSolution:
    routes = []
    served: set[int] = set()
    for v in range(len(instance.vehicles)):
        index = routing.Start(v)
        nodes: list[int] = []
        arrivals: list[int] = []
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            nodes.append(node)
            arrivals.append(assignment.Min(time_dim.CumulVar(index)))
            served.add(node)
            index = assignment.Value(routing.NextVar(index))
        if nodes:
            routes.append(PdpRoute(v, tuple(nodes), tuple(arrivals)))
    unserved = tuple(i for i, r in enumerate(instance.requests) if r.delivery not in served)
    status = {7: "optimal", 6: "infeasible"}.get(routing.status(), "feasible")
    return PdpSolution(tuple(routes), unserved, assignment.ObjectiveValue(), status, {"wall_s": wall_s})


def route_cost(instance: PdpInstance, vehicle: int, nodes: Sequence[int]) -> int:
    """Fixed plus arc cost of one vehicle driving ``nodes`` between its start and end (for checks)."""
    v = instance.vehicles[vehicle]
    path = [v.start, *nodes, v.end]
    matrix = instance.arc_costs[v.cost_class]
    return v.fixed_cost + sum(matrix[a][b] for a, b in itertools.pairwise(path))
