"""The methods the county benchmark compares, each turning a ``CountyDay`` into a plan (or a bound).

- ``fanggang``: ``scheduler.solve.solve`` as a county runs it.
- ``baseline``: what a dispatcher draws by hand; one bus per township-factory flow of at least
  ``charter_min_group`` travellers (several when the flow is big: largest coaches first, the remainder on the
  smallest coach that fits, a remainder below the threshold reimbursed), everyone else on the policy fallback.
- ``vroom`` / ``pyvrp``: the planner's own direct coaches, then the peers route the same pooled tasks per
  destination area (see ``PEER_EXPRESSES`` for which rules each can state); the rules a peer cannot state are
  applied afterwards the same way for both (a bus below the charter threshold, or dearer than its riders'
  fallback, is not chartered).
- ``bound``: a lower bound on the cost of any plan under the same rules (see ``lower_bound``).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from benchmarks.county_day import DAY_S, CountyDay, PooledArea
from scheduler.grouping import Party
from scheduler.model import BusType
from scheduler.plan import Bus, Fallback, Plan

PEER_EXPRESSES = {
    "fanggang": "all rules: places-based stop limits (3+3), boarding at the assembly point, gate hours over "
    "two days, time on board, charter threshold (soft), alternative cost",
    "vroom": "capacity, per-type fixed and per-km cost, gate hours over two days, travel time cap; stop limits "
    "only as max_tasks=6 (3 shipments, stricter than places); no alternative cost (serves all it can); "
    "boards at the township only",
    "pyvrp": "capacity, per-type fixed and per-km cost, one gate window, route duration cap, alternative cost "
    "as prize; no stop limits; boards at the township only",
    "baseline": "one bus per township-factory flow >= threshold, the rest reimbursed",
    "bound": "the larger of a HiGHS MIP relaxation (dual bound) and a configuration LP by column generation, "
    "see benchmarks/county_methods.py and county_bound.py",
}

PYVRP_UNITS_PER_CNY = 1000  # PyVRP's integer costs: 0.001 CNY, with distances in units of 10 m
# The aggregate MIP's dual bound moves little after a minute (gap under 1% on the fixture days); the rest of the
# bound's time goes to the configuration LP (benchmarks/county_bound.py), the stronger of the two on big days.
AGGREGATE_MIP_S = 60.0


@dataclass
class MethodResult:
    plan: Plan | None
    wall_s: float
    notes: str = ""
    bound_cny: float | None = None


# ---------------------------------------------------------------------- fanggang
def run_fanggang(day: CountyDay, time_limit_s: float) -> MethodResult:
    from scheduler.solve import SolveParams, solve

    started = time.monotonic()
    plan = solve(day.problem, SolveParams(time_limit_s=time_limit_s))
    notes = f"areas={plan.stats.get('areas')}; re-seating saved {plan.stats.get('seating_saving_cny')} CNY"
    return MethodResult(plan, time.monotonic() - started, notes)


# ---------------------------------------------------------------------- baseline
def run_baseline(day: CountyDay) -> MethodResult:
    """One bus per township-factory flow at or above the threshold; the rest on the policy fallback."""
    started = time.monotonic()
    rules = day.rules
    left = {b.vehicle_type: b.count for b in day.usable}
    by_size = sorted(day.usable, key=lambda b: (b.seats, b.fixed_cost))
    flows: dict[tuple[str, str], list[Party]] = defaultdict(list)
    for party in day.parties:
        flows[(party.township_id, party.factory_id)].append(party)
    buses: list[Bus] = []
    fallback: list[Fallback] = []
    for key in sorted(flows, key=lambda k: (-sum(p.size for p in flows[k]), k)):
        pool = sorted(flows[key], key=lambda p: (-p.size, p.traveller_ids))
        while pool:
            riders = sum(p.size for p in pool)
            if riders < rules.charter_min_group:
                break
            available = [b for b in by_size if left[b.vehicle_type] > 0]
            if not available:
                break
            fits = [b for b in available if b.seats >= riders]
            bus_type = fits[0] if fits else available[-1]
            chosen, rest = _first_fit(pool, bus_type.seats)
            load = sum(p.size for p in chosen)
            if load < rules.charter_min_group:
                break
            left[bus_type.vehicle_type] -= 1
            ids = tuple(t for p in chosen for t in p.traveller_ids)
            buses.append(
                day.make_bus(bus_type, day.area_of[key[1]], [(key[0], "pickup", ids), (key[1], "dropoff", ids)])
            )
            pool = rest
        fallback.extend(day.fallback_for(pool))
    return MethodResult(day.plan(buses, fallback), time.monotonic() - started)


def _first_fit(pool: list[Party], seats: int) -> tuple[list[Party], list[Party]]:
    chosen, rest, free = [], [], seats
    for party in pool:
        if party.size <= free:
            chosen.append(party)
            free -= party.size
        else:
            rest.append(party)
    return chosen, rest


# ---------------------------------------------------------------------- peers on the pooled flows
@dataclass
class AreaData:
    """Matrices over the places of one area, shared by both peers."""

    area: PooledArea
    place_ids: list[str]  # index 0 is the depot
    distance_m: np.ndarray  # the return leg scaled by empty_return_factor (these are billing distances)
    duration_s: np.ndarray
    windows: list[list[tuple[int, int]]]  # per task
    penalty_cny: list[float]  # per task: the policy alternative for its travellers
    fixed_extra_cny: float  # the second driver, when every bus to the area needs one


def area_data(day: CountyDay, area: PooledArea) -> AreaData:
    rules = day.rules
    place_ids = [day.depot.place_id]
    for task in area.tasks:
        for pid in (task[0].township_id, task[0].factory_id):
            if pid not in place_ids:
                place_ids.append(pid)
    places = [day.place(p) for p in place_ids]
    n = len(places)
    km = np.array([[day.leg(a, b).distance_km for b in places] for a in places])
    km[1:, 0] *= rules.empty_return_factor
    drive = np.array([[day.with_rests_s(day.leg(a, b).drive_s) for b in places] for a in places], dtype=np.int64)
    # A stop's fixed boarding or alighting time is paid when the coach leaves the place.
    overhead = np.array(
        [0]
        + [
            round((rules.boarding_minutes_per_stop if p in day.townships else rules.alighting_minutes_per_stop) * 60)
            for p in place_ids[1:]
        ],
        dtype=np.int64,
    )
    duration = drive + overhead[:, None] * (1 - np.eye(n, dtype=np.int64))
    # As in the planner's model: the coach positions itself at its first stop before the departure time.
    duration[0, :] = 0
    duration[:, 0] = 0
    windows, penalties = [], []
    for task in area.tasks:
        first = task[0]
        windows.append(day.windows(day.factories[first.factory_id], min(p.arrive_by for p in task)))
        size = sum(p.size for p in task)
        penalties.append(day.fallback_per_person(first.township_id, first.factory_id) * size)
    factories = {t[0].factory_id for t in area.tasks}
    extra = rules.second_driver_cost if day.area_needs_second_driver(factories) else 0.0
    return AreaData(area, place_ids, np.rint(km * 1000).astype(np.int64), duration, windows, penalties, extra)


def run_peer(day: CountyDay, peer: str, time_limit_s: float) -> MethodResult:
    """The planner's direct coaches plus the peer's routes on the pooled tasks of every area."""
    started = time.monotonic()
    direct, pooled, fleet_left = day.direct_and_pooled()
    areas = [a for a in day.pooled_areas(pooled, fleet_left) if a.tasks]
    buses = [day.direct_bus(d) for d in direct]
    fallback: list[Fallback] = []
    left = max(0.5, time_limit_s - (time.monotonic() - started) - 0.5)
    sizes = [len(a.tasks) for a in areas]
    budgets = [left * n / max(1, sum(sizes)) for n in sizes]
    dropped = 0
    for area, budget in zip(areas, budgets, strict=True):
        data = area_data(day, area)
        routes = (
            []
            if not area.coaches
            else _solve_vroom(day, data, budget)
            if peer == "vroom"
            else _solve_pyvrp(day, data, budget)
        )
        carried: set[int] = set()
        for bus_type, visits in routes:
            tasks = sorted({k for k, _ in visits})
            riders = sum(sum(p.size for p in area.tasks[k]) for k in tasks)
            bus = day.make_bus(bus_type, area.name, [_visit(area, data, k, kind) for k, kind in visits])
            penalty = sum(data.penalty_cny[k] for k in tasks)
            if riders < day.rules.charter_min_group or bus.cost > penalty:
                dropped += 1
                continue
            buses.append(bus)
            carried.update(tasks)
        for k, task in enumerate(area.tasks):
            if k not in carried:
                fallback.extend(day.fallback_for(task))
    wall = time.monotonic() - started
    notes = f"areas={len(areas)}; buses dropped after solving (below threshold or dearer than fallback)={dropped}"
    return MethodResult(day.plan(buses, fallback), wall, notes)


def _visit(area: PooledArea, data: AreaData, k: int, kind: str) -> tuple[str, str, tuple[str, ...]]:
    first = area.tasks[k][0]
    ids = tuple(t for p in area.tasks[k] for t in p.traveller_ids)
    return (first.township_id if kind == "pickup" else first.factory_id, kind, ids)


def _coach_list(area: PooledArea) -> list[BusType]:
    return sorted(area.coaches, key=lambda b: (-b.seats, b.vehicle_type))


def _solve_vroom(day: CountyDay, data: AreaData, budget_s: float) -> list[tuple[BusType, list[tuple[int, str]]]]:
    import vroom

    rules = day.rules
    problem = vroom.Input()
    problem.set_durations_matrix("car", data.duration_s.tolist())
    problem.set_distances_matrix("car", data.distance_m.tolist())
    coaches = _coach_list(data.area)
    horizon = (rules.depart_from_s, 2 * DAY_S + rules.depart_from_s)
    stop_cap = 2 * min(rules.max_pickup_stops, rules.max_dropoff_stops)
    for v, bus_type in enumerate(coaches):
        problem.add_vehicle(
            vroom.Vehicle(
                id=v,
                start=0,
                end=0,
                capacity=[bus_type.seats],
                time_window=horizon,
                costs=vroom.VehicleCosts(
                    fixed=round((bus_type.fixed_cost + data.fixed_extra_cny) * 100),
                    per_hour=0,
                    per_km=round(bus_type.cost_per_km * 100),
                ),
                max_tasks=stop_cap,
                max_travel_time=round(rules.max_ride_hours * 3600),
            )
        )
    for k, task in enumerate(data.area.tasks):
        first = task[0]
        size = sum(p.size for p in task)
        problem.add_shipment(
            vroom.ShipmentStep(
                id=2 * k,
                location=data.place_ids.index(first.township_id),
                default_service=round(rules.boarding_seconds_per_person * size),
                time_windows=[vroom.TimeWindow(rules.depart_from_s, DAY_S)],
            ),
            vroom.ShipmentStep(
                id=2 * k + 1,
                location=data.place_ids.index(first.factory_id),
                default_service=0,
                time_windows=[vroom.TimeWindow(s, e) for s, e in data.windows[k]],
            ),
            amount=vroom.Amount([size]),
        )
    solution = problem.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=max(0.1, budget_s)))
    routes = []
    for route in solution.to_dict()["routes"]:
        visits = [(step["id"] // 2, step["type"]) for step in route["steps"] if step["type"] in ("pickup", "delivery")]
        routes.append((coaches[route["vehicle"]], [(k, "pickup" if t == "pickup" else "dropoff") for k, t in visits]))
    return routes


def _solve_pyvrp(day: CountyDay, data: AreaData, budget_s: float) -> list[tuple[BusType, list[tuple[int, str]]]]:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    rules = day.rules
    locations = [pyvrp.Location(0, 0, name=p) for p in data.place_ids]
    depots = [pyvrp.Depot(0, tw_early=rules.depart_from_s, tw_late=2 * DAY_S + rules.depart_from_s)]
    counts: dict[str, int] = defaultdict(int)
    types: dict[str, BusType] = {}
    for bus_type in data.area.coaches:
        counts[bus_type.vehicle_type] += 1
        types[bus_type.vehicle_type] = bus_type
    order = sorted(types, key=lambda v: (-types[v].seats, v))
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=counts[v],
            capacity=[types[v].seats],
            fixed_cost=round((types[v].fixed_cost + data.fixed_extra_cny) * PYVRP_UNITS_PER_CNY),
            tw_early=rules.depart_from_s,
            tw_late=2 * DAY_S + rules.depart_from_s,
            shift_duration=round(rules.max_ride_hours * 3600),
            # distances in metres: CNY/km -> milli-fen per metre
            unit_distance_cost=round(types[v].cost_per_km * PYVRP_UNITS_PER_CNY / 100),
            name=v,
        )
        for v in order
    ]
    shipments = []
    for k, task in enumerate(data.area.tasks):
        first = task[0]
        size = sum(p.size for p in task)
        # One gate window only: the first day's, unless only the next day's can be reached by a direct coach.
        windows = data.windows[k]
        earliest = rules.depart_from_s + day.with_rests_s(
            day.leg(day.townships[first.township_id], day.factories[first.factory_id]).drive_s
        )
        window = next(((s, e) for s, e in windows if earliest <= e), windows[-1])
        shipments.append(
            pyvrp.Shipment(
                pickup_location=data.place_ids.index(first.township_id),
                delivery_location=data.place_ids.index(first.factory_id),
                pickup_tw_early=rules.depart_from_s,
                pickup_tw_late=DAY_S,
                pickup_service_duration=round(rules.boarding_seconds_per_person * size),
                delivery_tw_early=window[0],
                delivery_tw_late=window[1],
                amount=[size],
                prize=round(data.penalty_cny[k] * PYVRP_UNITS_PER_CNY),
                required=False,
            )
        )
    problem = pyvrp.ProblemData(
        locations=locations,
        clients=[],
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=[np.rint(data.distance_m / 10).astype(np.int64)],
        duration_matrices=[data.duration_s],
        shipments=shipments,
    )
    result = pyvrp.solve(problem, stop=MaxRuntime(max(0.1, budget_s)), seed=0, display=False)
    routes = []
    if not result.best.is_feasible():
        return routes
    for route in result.best.routes():
        visits = [(a.idx, "pickup" if a.is_pickup() else "dropoff") for a in route if a.is_shipment()]
        routes.append((types[order[route.vehicle_type()]], visits))
    return routes


# ---------------------------------------------------------------------- lower bound
@dataclass
class AggregateBound:
    bound_cny: float  # the MIP's dual bound plus the fallback and the subsidies
    simple_cny: float  # every traveller at the cheaper of the alternative and the cheapest seat to the area
    status: str
    gap: float
    loads: dict[str, int]  # per area, the most loads a coach can make (areas with one load left out)


def _add_stop_limits(
    day: CountyDay,
    keys: list[tuple[str, str]],
    x_cols: list[int],
    coach_cols: list[int],
    add_col: Callable[[float, float, float, bool], int],
    rows: list[tuple[float, float, list[int], list[float]]],
    carried: float,
) -> None:
    """Stop limits of one area's coaches, in aggregate: valid for every plan, and what keeps the relaxation
    from pooling a handful of travellers from each of twenty townships into two coaches.

    v_p = coaches boarding someone at place p (integer); riders boarding at p <= ``carried`` x v_p, with
    ``carried`` the most a coach of the area carries, the largest seats x its most loads (a coach may come
    back to p for another load);
    sum_p v_p <= max_pickup_stops x coaches (the limit counts distinct places). Travellers of a township with
    an assembly point board at either: a_t of them at the point. Likewise w_f for the factories dropped at,
    with max_dropoff_stops.
    """
    rules, inf = day.rules, math.inf
    seats = carried
    by_township: dict[str, list[int]] = defaultdict(list)
    by_factory: dict[str, list[int]] = defaultdict(list)
    for (township, factory), col in zip(keys, x_cols, strict=True):
        by_township[township].append(col)
        by_factory[factory].append(col)
    pickup_visits, dropoff_visits = [], []
    via_point: dict[str, list[int]] = defaultdict(list)
    for township, cols in sorted(by_township.items()):
        visits = add_col(0.0, 0.0, inf, True)
        pickup_visits.append(visits)
        point = day.problem.assembly_point_of(township)
        # riders of the township - those boarding at its assembly point <= seats x visits
        idx, val = [*cols, visits], [1.0] * len(cols) + [-seats]
        if point is not None:
            at_point = add_col(0.0, 0.0, inf, False)
            via_point[point.point_id].append(at_point)
            idx.append(at_point)
            val.append(-1.0)
        rows.append((-inf, 0.0, idx, val))
    for point_cols in via_point.values():
        visits = add_col(0.0, 0.0, inf, True)
        pickup_visits.append(visits)
        rows.append((-inf, 0.0, [*point_cols, visits], [1.0] * len(point_cols) + [-seats]))
    for _factory, cols in sorted(by_factory.items()):
        visits = add_col(0.0, 0.0, inf, True)
        dropoff_visits.append(visits)
        rows.append((-inf, 0.0, [*cols, visits], [1.0] * len(cols) + [-seats]))
    for visits, limit in ((pickup_visits, rules.max_pickup_stops), (dropoff_visits, rules.max_dropoff_stops)):
        rows.append((-inf, 0.0, [*visits, *coach_cols], [1.0] * len(visits) + [-float(limit)] * len(coach_cols)))


def aggregate_bound(day: CountyDay, time_limit_s: float) -> AggregateBound:
    """A valid lower bound on the cost of any plan of the day under the county's rules: a HiGHS MIP whose dual
    bound after at most ``time_limit_s`` is reported.

    The relaxation, per destination area (a coach drops off only inside one area):
    - flows j = (township, factory) with n_j reachable travellers; x_j of them ride coaches (continuous: groups
      may split), the other n_j - x_j pay the policy alternative (reimbursement or ticket at the same rate);
    - D_j = min over the places the flow may board at (township or its assembly point) of
      depot->place + place->factory + min(1, empty_return_factor) x factory->depot (km, road estimate). Any coach
      carrying someone of flow j drives at least D_j billed km (the geodesic road estimate obeys the triangle
      inequality), and needs a second driver whenever every such path is over the km or hours limit (driving
      time is monotone and subadditive in km);
    - loads (``county_bound``'s proof, ``area_loads``): a coach makes r <= L loads, L from the route span, and
      carries at most r x seats; with r >= 2 it drives at least depot -> nearest boarding place +
      (2r - 1) x the shortest leg between a boarding place and a factory + nearest factory -> depot
      (``AreaLoads.route_km``), and needs a second driver when that many legs are over the limits;
    - flows of an area sorted by D descending; a coach's *class* is its first flow in that order and its number
      of loads r, so it costs at least c_jkr = fixed_k + per_km_k x max(D_j, km_r) (+ second driver) and carries
      only flows of its class or later: for every prefix, travellers carried <= r x seats of coaches of that
      prefix's classes; for every suffix, fewest riders x coaches of those classes <= travellers carried
      from the suffix (the charter threshold, or 1 for a coach type that the entitlement lets run below it
      more cheaply than its riders' fallback: ``county_bound.fewest_riders``);
    - integer coaches y_jkr, at most the fleet count of each type over all areas, only where r x seats reaches
      the fewest riders; shuttles are dropped (relaxed);
    - stop limits in aggregate (``_add_stop_limits``): a coach boards at most ``max_pickup_stops`` distinct
      places and drops at most ``max_dropoff_stops`` distinct factories, so per area the coaches at each place
      (integers) sum to at most that many per coach, and each carries at most L x the largest coach's seats.
    The bound is the dual bound plus the alternatives (constant) and the subsidies (the same in every plan).
    """
    import highspy

    from benchmarks.county_bound import area_loads, coach_types, fewest_riders

    rules = day.rules
    ret = min(1.0, rules.empty_return_factor)
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for party in day.parties:
        flows[(party.township_id, party.factory_id)] += party.size
    by_area: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in flows:
        by_area[day.area_of[key[1]]].append(key)
    types = coach_types(day)
    subsidies = sum(day.subsidies().values())
    if not types:
        total = sum(n * day.fallback_per_person(*k) for k, n in flows.items()) + subsidies
        return AggregateBound(total, total, "no coaches", 0.0, {})

    def reach(key: tuple[str, str]) -> tuple[float, bool]:
        factory = day.factories[key[1]]
        best_km, all_need = math.inf, True
        for place in day.pickup_places(key[0]):
            to_km = day.leg(day.depot, place).distance_km + day.leg(place, factory).distance_km
            drive_s = day.leg(day.depot, place).drive_s + day.leg(place, factory).drive_s
            best_km = min(best_km, to_km + ret * day.leg(factory, day.depot).distance_km)
            needs = to_km > rules.second_driver_km + 1e-6 or drive_s - 2 > rules.second_driver_hours * 3600
            all_need = all_need and needs
        return best_km, all_need

    h = highspy.Highs()
    h.silent()
    inf = highspy.kHighsInf
    fleet_rows: dict[str, list[tuple[int, float]]] = {b.vehicle_type: [] for b in types}
    constant = 0.0
    simple = 0.0
    n_cols = 0
    several: dict[str, int] = {}

    def add_col(cost: float, lower: float, upper: float, integer: bool) -> int:
        nonlocal n_cols
        h.addCol(cost, lower, upper, 0, np.array([], dtype=np.int32), np.array([], dtype=np.float64))
        if integer:
            h.changeColIntegrality(n_cols, highspy.HighsVarType.kInteger)
        n_cols += 1
        return n_cols - 1

    rows: list[tuple[float, float, list[int], list[float]]] = []
    for area in sorted(by_area):
        keys = sorted(by_area[area], key=lambda k: (-reach(k)[0], k))
        info = [reach(k) for k in keys]
        places = {p.place_id: p for t, _ in keys for p in day.pickup_places(t)}
        fewest = dict(zip((b.vehicle_type for b in types), fewest_riders(day, keys, types), strict=True))
        loads = area_loads(
            day,
            list(places.values()),
            [day.factories[f] for f in sorted({f for _, f in keys})],
            sum(flows[k] for k in keys),
            min(fewest.values()),
        )
        if loads.max_loads > 1:
            several[area] = loads.max_loads
        # Per number of loads: the least billed km from the legs across the haul, and whether a second driver
        # is certain (one load: nothing beyond D_j).
        more = [(0.0, False)] + [
            (loads.route_km(r, ret), loads.needs_second_driver(r, rules.second_driver_km, rules.second_driver_hours))
            for r in range(2, loads.max_loads + 1)
        ]
        least_km, all_need = min(d for d, _ in info), all(n for _, n in info)
        min_seat = min(
            (
                (
                    b.fixed_cost
                    + b.cost_per_km * max(least_km, km_r)
                    + (rules.second_driver_cost if all_need or need_r else 0)
                )
                / (r * b.seats)
                for b in types
                for r, (km_r, need_r) in enumerate(more, start=1)
                if r * b.seats >= fewest[b.vehicle_type]
            ),
            default=math.inf,
        )
        x_cols, y_cols = [], []
        for key, (d_km, need) in zip(keys, info, strict=True):
            n = flows[key]
            alt = day.fallback_per_person(*key)
            simple += n * min(alt, min_seat)
            constant += n * alt
            x_cols.append(add_col(-alt, 0.0, float(n), False))  # riding saves the alternative
            ys = []
            for b in types:
                for r, (km_r, need_r) in enumerate(more, start=1):
                    if r * b.seats < fewest[b.vehicle_type]:
                        continue
                    cost = (
                        b.fixed_cost
                        + b.cost_per_km * max(d_km, km_r)
                        + (rules.second_driver_cost if need or need_r else 0.0)
                    )
                    col = add_col(cost, 0.0, float(b.count), True)
                    fleet_rows[b.vehicle_type].append((col, 1.0))
                    ys.append((col, float(r * b.seats), float(fewest[b.vehicle_type])))
            y_cols.append(ys)
        carried = float(max(b.seats for b in types) * loads.max_loads)
        _add_stop_limits(day, keys, x_cols, [c for ys in y_cols for c, _, _ in ys], add_col, rows, carried)
        m = len(keys)
        # Prefixes: slack s_j = s_{j-1} + capacity(y_j) - x_j >= 0.
        previous = None
        for j in range(m):
            s = add_col(0.0, 0.0, inf, False)
            idx = [s, x_cols[j]] + [c for c, _, _ in y_cols[j]]
            val = [1.0, 1.0] + [-capacity for _, capacity, _ in y_cols[j]]
            if previous is not None:
                idx.append(previous)
                val.append(-1.0)
            rows.append((0.0, 0.0, idx, val))
            previous = s
        # Suffixes: u_j = u_{j+1} + x_j - fewest riders x coaches(y_j) >= 0.
        following = None
        for j in reversed(range(m)):
            u = add_col(0.0, 0.0, inf, False)
            idx = [u, x_cols[j]] + [c for c, _, _ in y_cols[j]]
            val = [1.0, -1.0] + [least for _, _, least in y_cols[j]]
            if following is not None:
                idx.append(following)
                val.append(-1.0)
            rows.append((0.0, 0.0, idx, val))
            following = u
    for b in types:
        entries = fleet_rows[b.vehicle_type]
        rows.append((-inf, float(b.count), [c for c, _ in entries], [v for _, v in entries]))
    for lower, upper, idx, val in rows:
        h.addRow(lower, upper, len(idx), np.array(idx, dtype=np.int32), np.array(val, dtype=np.float64))
    h.setOptionValue("time_limit", float(max(1.0, time_limit_s)))
    h.setOptionValue("threads", 1)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    return AggregateBound(constant + info.mip_dual_bound + subsidies, simple + subsidies, status, info.mip_gap, several)


def lower_bound(day: CountyDay, time_limit_s: float) -> MethodResult:
    """A valid lower bound on the cost of any plan of the day under the county's rules: the larger of two
    relaxations. The aggregate MIP (``aggregate_bound``, at most ``AGGREGATE_MIP_S``) and the configuration LP
    (``county_bound.configuration_bound``, whole coach loads, the rest of ``time_limit_s`` and at least
    ``time_limit_s - AGGREGATE_MIP_S``), stronger where flows are many and small; ``simple`` is reported too.
    Both count with coaches that board again after a drop-off wherever the route span leaves room for it, and
    with coaches below the threshold where an entitlement lets them pay (``county_bound``'s proof)."""
    from benchmarks.county_bound import configuration_bound

    started = time.monotonic()
    aggregate = aggregate_bound(day, min(time_limit_s, AGGREGATE_MIP_S))
    bound = max(aggregate.bound_cny, aggregate.simple_cny)
    notes = (
        f"aggregate MIP {aggregate.bound_cny:.0f} CNY (HiGHS {aggregate.status}, gap {aggregate.gap:.4f}); "
        f"simple bound {aggregate.simple_cny:.0f} CNY; "
        + (
            "loads per coach: "
            + ", ".join(f"up to {n} in {area}" for area, n in sorted(aggregate.loads.items()))
            + ", 1 elsewhere"
            if aggregate.loads
            else "one load per coach in every area (route span)"
        )
    )
    # HiGHS may overrun its limit on a busy machine (three minutes against one on the 100,000 day): the
    # configuration LP, the stronger of the two on big days, keeps its own share whatever the MIP took.
    left = max(1.0, time_limit_s - (time.monotonic() - started), time_limit_s - min(time_limit_s, AGGREGATE_MIP_S))
    configuration = configuration_bound(day, left)
    if configuration is None:
        notes += "; configuration LP not computed (stop limits too large to enumerate)"
    else:
        bound = max(bound, configuration.bound_cny)
        state = "converged" if configuration.converged else "cut short"
        notes += (
            f"; configuration LP {configuration.bound_cny:.0f} CNY ({state} after {configuration.iterations} "
            f"iterations, {configuration.columns} columns)"
        )
    return MethodResult(None, time.monotonic() - started, notes, bound)
