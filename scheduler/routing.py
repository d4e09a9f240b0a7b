"""The OR-Tools models (the only module that imports ortools).

``solve_pdp`` turns a ``PdpInstance`` into an OR-Tools routing model, searches for ``time_limit_s``
and returns a ``PdpSolution``. The model follows OR-Tools' own pickup-and-delivery samples, with
one short comment per modelling step. ``solve_seating`` re-seats travellers over the routes found, with
CP-SAT.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.sat.python import cp_model

from scheduler.construct import build_initial_routes
from scheduler.pdp import NodeKind, PdpInstance, PdpRoute, PdpSolution
from scheduler.seating import Seating, SeatingProblem, seating_cost

FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy
METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic
# Time allowed for reading given routes back into the model, even when the search's own time is up.
_READ_ROUTES_S = 5.0
# CP-SAT's workers for the seating problem, in the order a worker count takes them. Its default portfolio at
# one or two workers leaves out the LP-based workers, which on county days found most of the saving (measured
# on the routes of a 20,000-traveller day: these two saved 40,353 CNY in 3 s, the default two 20,482 in 6 s).
_SEATING_SUBSOLVERS = ("max_lp", "reduced_costs", "default_lp", "quick_restart")


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


def solve_pdp(instance: PdpInstance, params: SearchParams) -> PdpSolution:
    """Solve a pickup-and-delivery instance.

    Args:
        instance: nodes, requests, vehicles and matrices.
        params: time limit and search strategy.

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
    # A request that meets the floor boards as if it filled it.
    floor = max((v.min_load for v in instance.vehicles), default=0)
    boardings = [max(node.demand, 0) for node in instance.nodes]
    for request in instance.requests:
        if request.meets_floor:
            for pickup in request.pickups:
                boardings[pickup] += floor
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

    if params.stop_at_objective is not None:
        target = params.stop_at_objective

        def stop_when_reached() -> None:
            if routing.CostVar().Value() <= target:
                solver.FinishCurrentSearch()

        routing.AddAtSolutionCallback(stop_when_reached)

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


def solve_seating(problem: SeatingProblem, time_limit_s: float, workers: int = 1) -> Seating:
    """Re-seat travellers over fixed routes and re-choose each route's coach, or cancel it.

    Routes that share no traveller are independent, so each connected group of them is solved on its own
    (largest first, time in proportion to size); the fleet is what couples them, and each group may use what
    the others leave. A group keeps its seating unless CP-SAT finds a cheaper one, so the result never costs
    more than the seating the problem started from.
    """
    started = time.monotonic()
    coach: list[int | None] = [route.coach for route in problem.routes]
    riding = [unit.riding for unit in problem.units]
    start_cost = seating_cost(problem, tuple(coach), riding)
    in_use: Counter[int] = Counter(k for k in coach if k is not None)
    groups = _connected_routes(problem)
    sizes = [len(routes) + sum(len(problem.units[u].options) for u in units) for routes, units in groups]
    size_left = sum(sizes)
    for (routes, units), size in zip(groups, sizes, strict=True):
        left_s = time_limit_s - (time.monotonic() - started)
        if left_s <= 0:
            break
        in_use.subtract(k for r in routes if (k := coach[r]) is not None)
        spare = [count - in_use[k] for k, count in enumerate(problem.fleet)]
        better = _seat_group(problem, routes, units, spare, left_s * size / size_left, workers)
        size_left -= size
        if better is not None:
            for r, k in better[0].items():
                coach[r] = k
            for u, rides in better[1].items():
                riding[u] = rides
        in_use.update(k for r in routes if (k := coach[r]) is not None)
    cost = seating_cost(problem, tuple(coach), riding)
    return Seating(tuple(coach), tuple(riding), cost, start_cost - cost)


def _connected_routes(problem: SeatingProblem) -> list[tuple[list[int], list[int]]]:
    """Groups of routes linked by units that could ride either, with those units; largest first."""
    parent = list(range(len(problem.routes)))

    def root(r: int) -> int:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    for unit in problem.units:
        for (a, _), (b, _) in itertools.pairwise(unit.options):
            parent[root(b)] = root(a)
    routes: dict[int, list[int]] = {}
    for r in range(len(problem.routes)):
        routes.setdefault(root(r), []).append(r)
    units: dict[int, list[int]] = {key: [] for key in routes}
    for u, unit in enumerate(problem.units):
        if unit.options:
            units[root(unit.options[0][0])].append(u)
    groups = [(routes[key], units[key]) for key in routes]
    groups.sort(key=lambda g: -(len(g[0]) + len(g[1])))
    return groups


def _seat_group(
    problem: SeatingProblem, routes: list[int], units: list[int], spare: list[int], time_limit_s: float, workers: int
) -> tuple[dict[int, int | None], dict[int, tuple[tuple[int, int], ...]]] | None:
    """The cheapest seating of one group of routes CP-SAT finds in the time, or None if it is no cheaper."""
    model = cp_model.CpModel()
    objective = []
    # A route runs with at most one coach type, allowed for it, within the fleet left.
    runs = {}
    for r in routes:
        for k, price in enumerate(problem.routes[r].price):
            if price is not None and spare[k] > 0:
                runs[r, k] = model.new_bool_var(f"route {r} type {k}")
                objective.append(price * runs[r, k])
        model.add(sum(runs[r, k] for k in range(len(problem.seats)) if (r, k) in runs) <= 1)
    for k in range(len(problem.seats)):
        model.add(sum(var for (_, kk), var in runs.items() if kk == k) <= spare[k])
    # Riders: a group rides whole on one route; people alone spread over the routes they may take. Each one
    # seated saves what leaving them off would cost.
    seated: dict[tuple[int, int], cp_model.IntVar] = {}
    boarding: dict[int, list] = {r: [] for r in routes}
    for u in units:
        unit = problem.units[u]
        per_seat = unit.size if unit.whole else 1  # a group's variable says whether it rides
        for r, extra in unit.options:
            var = model.new_bool_var("") if unit.whole else model.new_int_var(0, unit.size, "")
            seated[u, r] = var
            boarding[r].append(per_seat * var)
            objective.append((extra - unit.left_off_cost) * per_seat * var)
        model.add(sum(seated[u, r] for r, _ in unit.options) <= (1 if unit.whole else unit.size))
    # Seats (and the timetable's limit) on a running route, and at least the charter threshold unless it
    # carries riders entitled to a seat.
    for r in routes:
        types = [k for k in range(len(problem.seats)) if (r, k) in runs]
        cap = problem.routes[r].max_load
        model.add(sum(boarding[r]) <= sum(min(problem.seats[k], cap) * runs[r, k] for k in types))
        entitled = [seated[u, r] for u in units if problem.units[u].meets_floor and (u, r) in seated]
        exempt = model.new_bool_var(f"route {r} exempt")
        model.add(exempt <= sum(entitled))
        model.add(sum(boarding[r]) + problem.min_riders * exempt >= problem.min_riders * sum(runs[r, k] for k in types))
    model.minimize(sum(objective))

    # Start from today's seating, and keep it unless something cheaper is found.
    now = 0
    for r in routes:
        current = problem.routes[r].coach
        if current is not None:
            now += problem.routes[r].price[current] or 0
        for k in range(len(problem.seats)):
            if (r, k) in runs:
                model.add_hint(runs[r, k], k == current)
    for u in units:
        unit = problem.units[u]
        on = dict(unit.riding)
        for r, extra in unit.options:
            n = on.get(r, 0)
            model.add_hint(seated[u, r], min(n, 1) if unit.whole else n)
            now += n * (extra - unit.left_off_cost)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit_s)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.subsolvers.extend(_SEATING_SUBSOLVERS[: max(1, workers)])
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or round(solver.objective_value) >= now:
        return None
    coach: dict[int, int | None] = {
        r: next((k for k in range(len(problem.seats)) if (r, k) in runs and solver.value(runs[r, k])), None)
        for r in routes
    }
    riding: dict[int, tuple[tuple[int, int], ...]] = {}
    for u in units:
        unit = problem.units[u]
        rides = []
        for r, _ in unit.options:
            n = solver.value(seated[u, r]) * (unit.size if unit.whole else 1)
            if n:
                rides.append((r, n))
        riding[u] = tuple(rides)
    return coach, riding
