"""A lower bound over whole coach loads: the configuration LP of a county day, solved by column generation.

What a coach may do (the rules ``scheduler.check.check_plan`` enforces on every plan, or weaker): it drops off
in one destination area only; over its whole trip it boards at no more than ``max_pickup_stops`` distinct
places and drops at no more than ``max_dropoff_stops`` distinct factories (the planner's routing counts stops,
which is stricter); the seats limit who is on board *at once*, so it may board again after a drop-off; its route span
(arrival at its first stop to arrival at its last; depot legs are not in it) is at most ``max_ride_hours``; it
carries at least ``charter_min_group`` riders over the trip (or, where the threshold is an entitlement,
someone of a flow that large).

Loads (``area_loads``). Cut a coach's stops into maximal runs of pickups; the number of runs r is its number of
*loads*. At the end of a run at most the seats are on board, so a run boards at most the seats and the coach
carries at most r x seats. Runs of pickups and of drop-offs alternate, from a pickup to a drop-off, so the coach
drives 2r - 1 legs between a boarding place and a factory, makes at least r boarding and r alighting stops, and
boards at least its fewest riders (below); each stop but the last is left inside the span. Its span is
therefore at least

    S(r) = r x boarding stop + (r - 1) x alighting stop + fewest riders x boarding per person + (2r - 1) x h

with h the area's shortest leg between a boarding place and a factory (either way), driver rests included as the
planner times a leg (``scheduler.timetable``, here ``CountyDay.with_rests_s``), the dwell times the planner's less
its rounding to seconds;
waiting at a gate only adds. A coach of the area makes at most L loads, L the largest r with S(r) <= the span
limit: 1 on the fixture county's destinations (the nearest, Huizhou, needs S(2) = 17.2 h), more on short hauls
and in-county factories. L is also capped at max(stop limits, ceil(area travellers / fewest seats)): a coach
with more loads is counted as one with L, which carries as much and (below) costs no more. With a second load a
coach with fewer seats than the threshold may reach it, so every coach type of the fleet is offered, with
r x seats >= its fewest riders (``coach_types``).

The threshold. Planning by cost (``threshold_is_entitlement = false``) every coach carries at least
``charter_min_group``. Where the threshold is an entitlement, a coach may carry fewer if it carries someone of a
flow of at least the threshold; such a coach costs at least fixed + per km x the area's least route
(``least_route_km``), and where that covers threshold - 1 riders' fallback at the area's dearest rate,
cancelling it and paying its riders' fallback leaves a plan under the cost rules that costs no more. So the
relaxations keep the threshold for those coach types and count the others with any number of riders
(``fewest_riders``); the bound then holds for both settings.

Columns. Each column is one coach: a type, at most ``max_pickup_stops`` boarding places P, at most
``max_dropoff_stops`` factories F of one area, r <= L loads, and a load z (z_j <= n_j of each township-factory
flow j whose township boards at a place of P and whose factory is in F; riders between the type's fewest riders
and r x seats). The LP

    min  sum_c cost_c x lambda_c + sum_j alt_j x (n_j - sum_c z_cj lambda_c)
    s.t. sum_c z_cj lambda_c <= n_j (every flow),  sum_{c of type b} lambda_c <= fleet_b,  lambda >= 0

is a relaxation of every plan: groups may split, gate hours are dropped, coaches may be fractional. A column's
cost is what such a coach pays at least: fixed + per km x billed km, + the second driver when even the shortest
route needs one (shuttles dropped). Billed km (the road estimate obeys the triangle inequality, so a walk can
be shortcut; the return is billed at min(1, ``empty_return_factor``)):
- r = 1: the shortest route that boards at every place of P and then drops at the factories of F;
- r >= 2, where the area is small enough (``MAX_WALK_WORK``): the shortest walk from the depot over P and F that
  visits each, starts at P, ends at F and has exactly r runs of boarding places (``_shortest_walks``);
- r >= 2 otherwise, from its legs alone: depot -> nearest place of P + (2r - 1) x the shortest P-F leg +
  (|P| - r)+ x the shortest leg within P + (|F| - r)+ x within F (r runs over |P| places drive at least |P| - r
  legs among them) + nearest factory of F -> depot, never above the shortest walk.
For the cap: both grow with r from r = max(|P|, |F|) (a walk with r > |P| runs has a run besides the first whose
places others visit too, and skipping it leaves r - 1 runs and no more km), as do the span bound (|P| and |F|
stops where more than r) and the second driver's test (that one-way km, or 2r - 1 legs across the haul in
driving hours). Columns whose span bound exceeds the limit are left out.

Pricing is exact: every (P, F) of an area and every r <= L is scored against the duals (compiled with numba;
the big area of the fixture county has 6.9 million pairs), so at every iteration

    bound = LP value of the columns so far + sum_b fleet_b x min(0, least reduced cost of type b)

is valid (Lagrangian: no plan uses more than fleet_b coaches of type b), and equals the LP value once no
column prices out.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
from numba import njit

from benchmarks.county_day import CountyDay
from scheduler.model import BusType, Place

COLUMNS_PER_AREA = 400  # columns added per area and iteration: more means fewer (costlier) LP solves
TOLERANCE_CNY = 0.01
# Every (place set, factory set) pair of an area is scored at every iteration (once per number of loads) and
# its shortest route found by trying every order: beyond these sizes the enumeration would not finish, and the
# bound is not computed.
MAX_STOPS = 4
MAX_PAIRS_PER_AREA = 30_000_000
# Coaches that board again after a drop-off get the exact shortest walk over their places when the area's
# (place set, factory set) pairs x loads x 2^stops x 2 stops^2 stay below this (a few seconds); else the km
# from their legs alone.
MAX_WALK_WORK = 5_000_000_000


@dataclass
class ConfigurationBound:
    bound_cny: float  # includes the subsidies, as every plan's cost does
    lp_cny: float  # the restricted LP's value at the last iteration (the bound when converged)
    iterations: int
    columns: int
    converged: bool
    loads: dict[str, int] | None = None  # per area, the most loads a coach can make (areas with one load left out)


@dataclass(frozen=True, slots=True)
class AreaLoads:
    """How many loads a coach of one destination area can make within the route span (the module's proof), and
    the shortest legs that every further load drives, over all the area's boarding places and factories."""

    max_loads: int
    span_s: tuple[float, ...]  # S(1), S(2), ..., S(max_loads + 1): the least span of a coach with r loads
    to_county_km: float  # depot -> nearest boarding place
    to_county_s: int  # least driving seconds of such a leg
    haul_km: float  # shortest leg between a boarding place and a factory, either way
    haul_s: int  # least driving seconds of such a leg
    back_km: float  # nearest factory -> depot

    def route_km(self, loads: int, return_factor: float) -> float:
        """Billed km of any coach with ``loads`` >= 2 loads, from its legs across the haul alone."""
        return self.to_county_km + (2 * loads - 1) * self.haul_km + return_factor * self.back_km

    def needs_second_driver(self, loads: int, second_driver_km: float, second_driver_hours: float) -> bool:
        """Whether every coach with ``loads`` >= 2 loads drives more than one driver may, one way."""
        km = self.to_county_km + (2 * loads - 1) * self.haul_km
        drive_s = self.to_county_s + (2 * loads - 1) * self.haul_s
        return km > second_driver_km + 1e-6 or drive_s - 2 > second_driver_hours * 3600


def coach_types(day: CountyDay) -> list[BusType]:
    """Every coach type of the fleet, also those with fewer seats than the charter threshold (which the planner
    never charters): with a second load such a coach may still carry the threshold. A relaxation offers it only
    with loads x seats >= its fewest riders (``fewest_riders``)."""
    return [b for b in day.problem.fleet if b.count > 0]


def least_route_km(day: CountyDay, keys: Sequence[tuple[str, str]]) -> float:
    """The fewest billed km of any coach carrying someone of these (township, factory) flows: depot -> a place
    the township boards at -> the factory, and the return billed at min(1, ``empty_return_factor``) (the road
    estimate obeys the triangle inequality)."""
    back = min(1.0, day.rules.empty_return_factor)
    return min(
        day.leg(day.depot, place).distance_km
        + day.leg(place, day.factories[f]).distance_km
        + back * day.leg(day.factories[f], day.depot).distance_km
        for t, f in keys
        for place in day.pickup_places(t)
    )


def fewest_riders(day: CountyDay, keys: Sequence[tuple[str, str]], types: Sequence[BusType]) -> list[int]:
    """Per coach type, the fewest riders a coach of the area (the flows ``keys``) carries in the relaxations.

    The charter threshold, unless the county's threshold is an entitlement (``threshold_is_entitlement``): a bus
    may then run below it with riders of a flow of at least the threshold. Such a coach costs at least
    fixed + per km x ``least_route_km``; where that covers the fallback of threshold - 1 riders at the area's
    dearest rate, cancelling it and paying its riders' fallback costs no more and leaves a plan under the cost
    rules, so the threshold stays. Elsewhere the type is counted with any number of riders."""
    rules = day.rules
    threshold = rules.charter_min_group
    sizes = Counter((t.township_id, t.factory_id) for t in day.problem.travellers)
    if not rules.threshold_is_entitlement or not any(sizes[k] >= threshold for k in keys):
        return [threshold] * len(types)
    least_km = least_route_km(day, keys)
    dearest = max(day.fallback_per_person(*k) for k in keys)
    return [threshold if b.fixed_cost + b.cost_per_km * least_km >= (threshold - 1) * dearest else 1 for b in types]


def stop_times_s(day: CountyDay) -> tuple[float, float, float]:
    """(boarding stop, alighting stop, per person boarding) in seconds, never more than the planner or the
    checker counts: they round a stop's time to whole seconds, so a second per stop and half a second per rider
    are taken off."""
    rules = day.rules
    board = max(0.0, math.floor(rules.boarding_minutes_per_stop * 60) - 1)
    alight = max(0.0, math.floor(rules.alighting_minutes_per_stop * 60) - 1)
    return board, alight, max(0.0, rules.boarding_seconds_per_person - 0.5)


def area_loads(
    day: CountyDay, places: Sequence[Place], factories: Sequence[Place], travellers: int, least_riders: int
) -> AreaLoads:
    """The most loads a coach boarding at ``places`` and dropping at ``factories`` (one destination area) and
    carrying at least ``least_riders`` can make: the largest r with S(r) <= ``max_ride_hours``, capped at
    max(stop limits, ceil(travellers / fewest seats))."""
    rules = day.rules
    board, alight, per_person = stop_times_s(day)
    legs = [day.leg(a, b) for p in places for f in factories for a, b in ((p, f), (f, p))]
    haul_rest_s = min(day.with_rests_s(leg.drive_s) for leg in legs)
    riders_s = least_riders * per_person

    def span(r: int) -> float:
        return r * board + (r - 1) * alight + riders_s + (2 * r - 1) * haul_rest_s

    fewest = min((b.seats for b in coach_types(day)), default=1)
    cap = max(rules.max_pickup_stops, rules.max_dropoff_stops, math.ceil(travellers / fewest), 1)
    limit_s = rules.max_ride_hours * 3600
    loads = 1
    while loads < cap and span(loads + 1) <= limit_s:
        loads += 1
    to_county = [day.leg(day.depot, p) for p in places]
    return AreaLoads(
        loads,
        tuple(span(r) for r in range(1, loads + 2)),
        min(leg.distance_km for leg in to_county),
        min(leg.drive_s for leg in to_county),
        min(leg.distance_km for leg in legs),
        min(leg.drive_s for leg in legs),
        min(day.leg(f, day.depot).distance_km for f in factories),
    )


@dataclass
class _Area:
    n: np.ndarray  # travellers per flow
    alt: np.ndarray  # policy alternative per person
    township_of_flow: np.ndarray  # index into townships
    place_sets: np.ndarray  # (n_p, max_pickup) place indices, -1 padded
    factory_sets: np.ndarray  # (n_f, max_dropoff) factory indices, -1 padded
    covers: np.ndarray  # (n_p, townships) bool: a place of the set is where the township boards
    set_flows_ptr: np.ndarray  # CSR over factory sets: the flows into the set's factories
    set_flows: np.ndarray
    route_km: np.ndarray  # (loads, n_p, n_f) least billed km of a coach with 1, 2, ... loads; inf: over the span
    second_driver: np.ndarray  # (loads, n_p, n_f) bool: even the shortest such route needs a second driver
    fewest: np.ndarray  # per coach type, the fewest riders it carries (``fewest_riders``)


def configuration_bound(day: CountyDay, time_limit_s: float) -> ConfigurationBound | None:
    """The bound, after at most ``time_limit_s`` of iterations (still valid, if weaker, when cut short); None
    when the stop limits make the patterns too many to enumerate."""
    started = time.monotonic()
    rules, usable = day.rules, coach_types(day)
    if max(rules.max_pickup_stops, rules.max_dropoff_stops) > MAX_STOPS:
        return None
    subsidies = sum(day.subsidies().values())
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for party in day.parties:
        flows[(party.township_id, party.factory_id)] += party.size
    constant = subsidies + sum(n * day.fallback_per_person(*k) for k, n in flows.items())
    if not usable or not flows:
        return ConfigurationBound(constant, constant, 0, 0, True, {})
    by_area: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(flows):
        by_area[day.area_of[key[1]]].append(key)
    loads: dict[str, AreaLoads] = {}
    fewest: dict[str, list[int]] = {}
    for name, keys in by_area.items():
        places = {p.place_id: p for t, _ in keys for p in day.pickup_places(t)}
        factories = sorted({f for _, f in keys})
        fewest[name] = fewest_riders(day, keys, usable)
        loads[name] = area_loads(
            day,
            list(places.values()),
            [day.factories[f] for f in factories],
            sum(flows[k] for k in keys),
            min(fewest[name]),
        )
        pairs = _count_subsets(len(places), rules.max_pickup_stops) * _count_subsets(
            len(factories), rules.max_dropoff_stops
        )
        if pairs * loads[name].max_loads > MAX_PAIRS_PER_AREA:
            return None
    areas = [
        _build_area(day, keys, flows, loads[name].max_loads, fewest[name]) for name, keys in sorted(by_area.items())
    ]
    several = {name: a.max_loads for name, a in sorted(loads.items()) if a.max_loads > 1}

    seats = np.array([b.seats for b in usable], dtype=np.int64)
    fixed = np.array([b.fixed_cost for b in usable])
    per_km = np.array([b.cost_per_km for b in usable])
    fleet = np.array([b.count for b in usable], dtype=np.float64)

    h = highspy.Highs()
    h.silent()
    h.setOptionValue("threads", 1)
    inf = highspy.kHighsInf
    first_row = []
    rows = 0
    no_entries = (0, np.array([], dtype=np.int32), np.array([], dtype=np.float64))
    for area in areas:
        first_row.append(rows)
        for n in area.n:
            h.addRow(-inf, float(n), *no_entries)
        rows += len(area.n)
    fleet_row = rows
    for count in fleet:
        h.addRow(-inf, float(count), *no_entries)

    flow_duals = [np.zeros(len(a.n)) for a in areas]
    fleet_duals = np.zeros(len(usable))
    best, lp_value, iterations, columns, converged = -math.inf, constant, 0, 0, False
    while True:
        iterations += 1
        least = np.zeros(len(usable))  # least reduced cost per type, over all areas (0 if none is negative)
        new_columns = []
        for k, area in enumerate(areas):
            value = area.alt + flow_duals[k]
            rc, chosen, chosen_loads = _price(
                area.place_sets.shape[0],
                area.covers,
                area.set_flows_ptr,
                area.set_flows,
                area.township_of_flow,
                area.n,
                value,
                area.route_km,
                area.second_driver,
                seats,
                fixed,
                per_km,
                fleet_duals,
                rules.second_driver_cost,
                area.fewest,
            )
            least = np.minimum(least, rc.min(axis=0, initial=0.0))
            candidates = np.argwhere(rc < -TOLERANCE_CNY)
            order = np.argsort(rc[candidates[:, 0], candidates[:, 1]])[:COLUMNS_PER_AREA]
            for f_set, b in candidates[order]:
                p_set, r = chosen[f_set, b], chosen_loads[f_set, b]
                load = _load(area, p_set, f_set, value, (r + 1) * int(seats[b]), int(area.fewest[b]))
                cost = _coach_cost(
                    fixed[b],
                    per_km[b],
                    area.route_km[r, p_set, f_set],
                    area.second_driver[r, p_set, f_set],
                    rules.second_driver_cost,
                )
                idx = [first_row[k] + j for j in load] + [fleet_row + int(b)]
                coef = [float(v) for v in load.values()] + [1.0]
                new_columns.append((cost - sum(area.alt[j] * v for j, v in load.items()), idx, coef))
        # Lagrangian bound at these duals (<= 0), whatever the columns found so far: every plan pays at least
        # its fallback, plus pi x n, mu x fleet and the least reduced cost for each coach it could use.
        lagrangian = (
            constant
            + sum(float(d @ a.n) for d, a in zip(flow_duals, areas, strict=True))
            + float(fleet_duals @ fleet)
            + float(least @ fleet)
        )
        best = max(best, lagrangian)
        if not new_columns:
            converged = True
            break
        if time.monotonic() - started > time_limit_s:
            break
        for cost, idx, coef in new_columns:
            h.addCol(cost, 0.0, inf, len(idx), np.array(idx, dtype=np.int32), np.array(coef))
        columns += len(new_columns)
        h.run()
        lp_value = constant + h.getInfo().objective_function_value
        duals = np.array(h.getSolution().row_dual)
        duals = np.minimum(duals, 0.0)  # the signs of a <= row's dual, whatever the solver's rounding
        flow_duals = [duals[first_row[k] : first_row[k] + len(a.n)] for k, a in enumerate(areas)]
        fleet_duals = duals[fleet_row : fleet_row + len(usable)]
    return ConfigurationBound(best, lp_value, iterations, columns, converged, several)


def _build_area(day: CountyDay, keys: list[tuple[str, str]], flows: dict, max_loads: int, fewest: list[int]) -> _Area:
    rules = day.rules
    townships = sorted({t for t, _ in keys})
    factories = sorted({f for _, f in keys})
    places: list[str] = []
    for t in townships:
        for place in day.pickup_places(t):
            if place.place_id not in places:
                places.append(place.place_id)
    boards_at = np.zeros((len(places), len(townships)), dtype=np.bool_)
    for ti, t in enumerate(townships):
        for place in day.pickup_places(t):
            boards_at[places.index(place.place_id), ti] = True
    place_sets = _subsets(len(places), rules.max_pickup_stops)
    factory_sets = _subsets(len(factories), rules.max_dropoff_stops)
    covers = np.zeros((len(place_sets), len(townships)), dtype=np.bool_)
    for s, members in enumerate(place_sets):
        for p in members[members >= 0]:
            covers[s] |= boards_at[p]
    factory_of_flow = np.array([factories.index(f) for _, f in keys], dtype=np.int64)
    into: list[list[int]] = [[] for _ in factories]
    for j, f in enumerate(factory_of_flow):
        into[f].append(j)
    ptr: list[int] = [0]
    members_of: list[int] = []
    for fs in factory_sets:
        members_of.extend(j for f in fs[fs >= 0] for j in into[f])
        ptr.append(len(members_of))

    # Distances: 0 the depot, then the places, then the factories.
    stops = [day.depot, *(day.place(p) for p in places), *(day.factories[f] for f in factories)]
    km = np.array([[day.leg(a, b).distance_km for b in stops] for a in stops])
    drive_s = np.array([[day.leg(a, b).drive_s for b in stops] for a in stops], dtype=np.float64)
    back = min(1.0, rules.empty_return_factor)
    one_load_km, one_way_km, one_way_h = _routes(place_sets, factory_sets, km, drive_s / 3600, len(places), back)
    # Driving time is monotone and subadditive in km: the shortest orders bound both from below.
    second = (one_way_km > rules.second_driver_km + 1e-6) | (one_way_h * 3600 - 2 > rules.second_driver_hours * 3600)
    route_km, second_driver = one_load_km[None], second[None]
    if max_loads > 1:
        rest_s = np.array([[day.with_rests_s(day.leg(a, b).drive_s) for b in stops] for a in stops], dtype=np.float64)
        board, alight, per_person = stop_times_s(day)
        nodes = rules.max_pickup_stops + rules.max_dropoff_stops
        walk_work = len(place_sets) * len(factory_sets) * max_loads * 2**nodes * 2 * nodes**2
        more_km, more_second = _more_loads(
            place_sets, factory_sets, len(places), km, drive_s, rest_s, max_loads, back,
            rules.second_driver_km, rules.second_driver_hours * 3600, board, alight,
            min(fewest) * per_person, rules.max_ride_hours * 3600,
            walk_work <= MAX_WALK_WORK,
        )  # fmt: skip
        route_km = np.concatenate([route_km, more_km])
        second_driver = np.concatenate([second_driver, more_second])
    return _Area(
        np.array([flows[k] for k in keys], dtype=np.float64),
        np.array([day.fallback_per_person(*k) for k in keys]),
        np.array([townships.index(t) for t, _ in keys], dtype=np.int64),
        place_sets,
        factory_sets,
        covers,
        np.array(ptr, dtype=np.int64),
        np.array(members_of, dtype=np.int64),
        route_km,
        second_driver,
        np.array(fewest, dtype=np.int64),
    )


def _count_subsets(n: int, k: int) -> int:
    return sum(math.comb(n, size) for size in range(1, k + 1))


def _subsets(n: int, k: int) -> np.ndarray:
    sets = [c for size in range(1, k + 1) for c in itertools.combinations(range(n), size)]
    out = np.full((len(sets), k), -1, dtype=np.int64)
    for i, c in enumerate(sets):
        out[i, : len(c)] = c
    return out


def _paths(sets: np.ndarray, offset: int, km: np.ndarray, hours: np.ndarray, into: bool, back: float):
    """Per set and per member m: the shortest path over all the set's stops that ends at m (``into``: from the
    depot) or starts at m (then on to the depot, the return billed at ``back``), in billed km, one-way km and
    one-way hours (each minimised on its own)."""
    n, k = sets.shape
    billed = np.full((n, k), np.inf)
    one_km = np.full((n, k), np.inf)
    one_h = np.full((n, k), np.inf)
    for s, members in enumerate(sets):
        nodes = [offset + m for m in members if m >= 0]
        for order in itertools.permutations(range(len(nodes))):
            seq = [nodes[i] for i in order]
            inner_km = sum(km[a, b] for a, b in itertools.pairwise(seq))
            inner_h = sum(hours[a, b] for a, b in itertools.pairwise(seq))
            if into:
                end, o_km, o_h = order[-1], km[0, seq[0]] + inner_km, hours[0, seq[0]] + inner_h
                b_km = o_km
            else:
                end, o_km, o_h = order[0], inner_km, inner_h
                b_km = inner_km + back * km[seq[-1], 0]
            billed[s, end] = min(billed[s, end], b_km)
            one_km[s, end] = min(one_km[s, end], o_km)
            one_h[s, end] = min(one_h[s, end], o_h)
    return billed, one_km, one_h


def _routes(place_sets, factory_sets, km, hours, n_places, back):
    p_billed, p_km, p_h = _paths(place_sets, 1, km, hours, True, back)
    f_billed, f_km, f_h = _paths(factory_sets, 1 + n_places, km, hours, False, back)
    return _join(place_sets, factory_sets, n_places, km, hours, p_billed, p_km, p_h, f_billed, f_km, f_h)


@njit(cache=True)
def _join(place_sets, factory_sets, n_places, km, hours, p_billed, p_km, p_h, f_billed, f_km, f_h):
    n_p, k_p = place_sets.shape
    n_f, k_f = factory_sets.shape
    billed = np.empty((n_p, n_f))
    one_km = np.empty((n_p, n_f))
    one_h = np.empty((n_p, n_f))
    for s in range(n_p):
        for t in range(n_f):
            b, o, oh = np.inf, np.inf, np.inf
            for i in range(k_p):
                p = place_sets[s, i]
                if p < 0:
                    break
                for m in range(k_f):
                    f = factory_sets[t, m]
                    if f < 0:
                        break
                    a, z = 1 + p, 1 + n_places + f
                    b = min(b, p_billed[s, i] + km[a, z] + f_billed[t, m])
                    o = min(o, p_km[s, i] + km[a, z] + f_km[t, m])
                    oh = min(oh, p_h[s, i] + hours[a, z] + f_h[t, m])
            billed[s, t], one_km[s, t], one_h[s, t] = b, o, oh
    return billed, one_km, one_h


@njit(cache=True)
def _set_minima(sets, offset, km, drive_s):
    """Per set: its size, the depot's nearest member (km, driving seconds), the nearest member's return to
    the depot (km) and the shortest leg between two members (km, 0 for a single member)."""
    n, k = sets.shape
    size = np.zeros(n, dtype=np.int64)
    from_depot_km = np.full(n, np.inf)
    from_depot_s = np.full(n, np.inf)
    to_depot_km = np.full(n, np.inf)
    within_km = np.zeros(n)
    for s in range(n):
        shortest = np.inf
        for i in range(k):
            a = sets[s, i]
            if a < 0:
                break
            size[s] += 1
            from_depot_km[s] = min(from_depot_km[s], km[0, offset + a])
            from_depot_s[s] = min(from_depot_s[s], drive_s[0, offset + a])
            to_depot_km[s] = min(to_depot_km[s], km[offset + a, 0])
            for m in range(k):
                b = sets[s, m]
                if b < 0:
                    break
                if b != a:
                    shortest = min(shortest, km[offset + a, offset + b])
        if size[s] > 1:
            within_km[s] = shortest
    return size, from_depot_km, from_depot_s, to_depot_km, within_km


@njit(cache=True)
def _shortest_walks(nodes, n_board, km, max_loads, back):
    """Exact least one-way and billed km of a walk from the depot over ``nodes`` (the first ``n_board`` are
    boarding places, the rest factories) that visits every node, starts at a boarding place, ends at a factory
    and makes exactly r runs of boarding places, per r = 1 .. ``max_loads`` (index r - 1).

    Dynamic programme over (runs, nodes visited, where the coach is); a walk may come back to a node. Within one
    (runs, visited) state the coach only moves among nodes already visited, boarding places before factories,
    and by the triangle inequality one hop from each way in is enough."""
    n = nodes.shape[0]
    full = (1 << n) - 1
    dist = np.full((max_loads, full + 1, n), np.inf)
    for v in range(n_board):
        dist[0, 1 << v, v] = km[0, nodes[v]]
    for r in range(max_loads):
        for mask in range(1, full + 1):
            for u in range(n):
                if not (mask >> u) & 1:
                    continue
                for v in range(n):
                    if v == u or not (mask >> v) & 1 or (v >= n_board and u < n_board):
                        continue
                    d = dist[r, mask, v] + km[nodes[v], nodes[u]]
                    if d < dist[r, mask, u]:
                        dist[r, mask, u] = d
            for v in range(n):
                here = dist[r, mask, v]
                if here == np.inf:
                    continue
                for u in range(n):
                    if u == v:
                        continue
                    d = here + km[nodes[v], nodes[u]]
                    if v >= n_board and u < n_board:
                        if r + 1 < max_loads and d < dist[r + 1, mask | (1 << u), u]:
                            dist[r + 1, mask | (1 << u), u] = d
                    elif not (mask >> u) & 1 and d < dist[r, mask | (1 << u), u]:
                        dist[r, mask | (1 << u), u] = d
    one_way = np.full(max_loads, np.inf)
    billed = np.full(max_loads, np.inf)
    for r in range(max_loads):
        for v in range(n_board, n):
            one_way[r] = min(one_way[r], dist[r, full, v])
            billed[r] = min(billed[r], dist[r, full, v] + back * km[nodes[v], 0])
    return one_way, billed


@njit(cache=True)
def _more_loads(
    place_sets, factory_sets, n_places, km, drive_s, rest_s, max_loads, back, second_km, second_s,
    board_s, alight_s, riders_s, span_s, exact,
):  # fmt: skip
    """Per number of loads r = 2 .. ``max_loads`` and (P, F): the least billed km of a coach with r loads, inf
    when even its least span is over the limit, and whether even its shortest route needs a second driver.

    km: ``exact``, the shortest walks (``_shortest_walks``); else from the legs alone (the module's proof:
    2r - 1 legs across the haul, (|P| - r)+ within P, (|F| - r)+ within F), which the exact km is never below.
    Second driver: that one-way km, or 2r - 1 legs across the haul in driving time."""
    n_p, k_p = place_sets.shape
    n_f, k_f = factory_sets.shape
    p_size, p_km, p_s, _, p_within = _set_minima(place_sets, 1, km, drive_s)
    f_size, _, _, f_back, f_within = _set_minima(factory_sets, 1 + n_places, km, drive_s)
    out_km = np.full((max_loads - 1, n_p, n_f), np.inf)
    out_second = np.zeros((max_loads - 1, n_p, n_f), dtype=np.bool_)
    nodes = np.empty(k_p + k_f, dtype=np.int64)
    for s in range(n_p):
        for t in range(n_f):
            haul_km, haul_s, haul_rest = np.inf, np.inf, np.inf
            for i in range(k_p):
                p = place_sets[s, i]
                if p < 0:
                    break
                for m in range(k_f):
                    f = factory_sets[t, m]
                    if f < 0:
                        break
                    a, z = 1 + p, 1 + n_places + f
                    haul_km = min(haul_km, km[a, z], km[z, a])
                    haul_s = min(haul_s, drive_s[a, z], drive_s[z, a])
                    haul_rest = min(haul_rest, rest_s[a, z], rest_s[z, a])
            if exact:
                for i in range(p_size[s]):
                    nodes[i] = 1 + place_sets[s, i]
                for m in range(f_size[t]):
                    nodes[p_size[s] + m] = 1 + n_places + factory_sets[t, m]
                walk_one_way, walk_billed = _shortest_walks(
                    nodes[: p_size[s] + f_size[t]], p_size[s], km, max_loads, back
                )
            for r in range(2, max_loads + 1):
                crossings = 2 * r - 1
                stops_p, stops_f = max(r, p_size[s]), max(r, f_size[t])
                span = stops_p * board_s + (stops_f - 1) * alight_s + riders_s + crossings * haul_rest
                if span > span_s:
                    break  # the span bound only grows with r
                if exact:
                    one_way, billed = walk_one_way[r - 1], walk_billed[r - 1]
                else:
                    one_way = (
                        p_km[s]
                        + crossings * haul_km
                        + max(0, p_size[s] - r) * p_within[s]
                        + max(0, f_size[t] - r) * f_within[t]
                    )
                    billed = one_way + back * f_back[t]
                out_km[r - 2, s, t] = billed
                out_second[r - 2, s, t] = one_way > second_km + 1e-6 or p_s[s] + crossings * haul_s - 2 > second_s
    return out_km, out_second


@njit(cache=True)
def _coach_cost(fixed, per_km, route_km, second_driver, second_driver_cost):
    """What a coach of the pattern pays at least (compiled, so that pricing and the columns share it)."""
    return fixed + per_km * route_km + (second_driver_cost if second_driver else 0.0)


@njit(cache=True)
def _price(
    n_place_sets, covers, set_ptr, set_flows, township_of_flow, n, value, route_km, second_driver,
    seats, fixed, per_km, fleet_duals, second_driver_cost, fewest,
):  # fmt: skip
    """Least reduced cost per (factory set, coach type), over all place sets and numbers of loads, and the place
    set and loads (less one) reaching it.

    A coach's best load takes flows by value (alternative + dual) down to its capacity (seats x loads), and below
    zero only to reach the type's fewest riders (the charter threshold, ``fewest_riders``); a box with fewer
    travellers than that, or a coach with fewer seats x loads, cannot be chartered."""
    n_f = set_ptr.shape[0] - 1
    n_b = seats.shape[0]
    n_loads = route_km.shape[0]
    least_fewest = fewest.min()
    best = np.zeros((n_f, n_b))
    chosen = np.zeros((n_f, n_b), dtype=np.int64)
    chosen_loads = np.zeros((n_f, n_b), dtype=np.int64)
    units = np.empty(set_flows.shape[0] + 1)
    gains = np.empty(set_flows.shape[0] + 1)
    for t in range(n_f):
        flows = set_flows[set_ptr[t] : set_ptr[t + 1]]
        if flows.shape[0] == 0:
            continue
        flows = flows[np.argsort(-value[flows])]
        for s in range(n_place_sets):
            count, cum_u, cum_g, positive, most = 0, 0.0, 0.0, 0.0, 0.0
            units[0], gains[0] = 0.0, 0.0
            for j in flows:
                if not covers[s, township_of_flow[j]]:
                    continue
                if value[j] > 0:
                    positive += n[j]
                    most += n[j] * value[j]
                cum_u += n[j]
                cum_g += n[j] * value[j]
                count += 1
                units[count], gains[count] = cum_u, cum_g
            if cum_u < least_fewest:
                continue
            for r in range(n_loads):
                km = route_km[r, s, t]
                if km == np.inf:
                    continue
                second = second_driver[r, s, t]
                for b in range(n_b):
                    capacity = seats[b] * (r + 1)
                    if capacity < fewest[b] or cum_u < fewest[b]:
                        continue
                    cost = _coach_cost(fixed[b], per_km[b], km, second, second_driver_cost) - fleet_duals[b]
                    if cost - most >= best[t, b]:
                        continue  # no load gains more than every flow of positive value: not the best
                    take = min(min(float(capacity), max(float(fewest[b]), positive)), cum_u)
                    gain = 0.0
                    for i in range(1, count + 1):
                        if units[i] >= take:
                            per = (gains[i] - gains[i - 1]) / (units[i] - units[i - 1])
                            gain = gains[i - 1] + per * (take - units[i - 1])
                            break
                    rc = cost - gain
                    if rc < best[t, b]:
                        best[t, b] = rc
                        chosen[t, b] = s
                        chosen_loads[t, b] = r
    return best, chosen, chosen_loads


def _load(area: _Area, p_set: int, f_set: int, value: np.ndarray, capacity: int, threshold: int) -> dict[int, float]:
    """The load ``_price`` scored for this coach: flows by value down to its capacity, below zero only to reach
    the threshold."""
    into = area.set_flows[area.set_flows_ptr[f_set] : area.set_flows_ptr[f_set + 1]]
    flows = [j for j in into[np.argsort(-value[into], kind="stable")] if area.covers[p_set, area.township_of_flow[j]]]
    positive = sum(area.n[j] for j in flows if value[j] > 0)
    take = min(float(capacity), max(float(threshold), positive), sum(area.n[j] for j in flows))
    load: dict[int, float] = {}
    for j in flows:
        if take <= 0:
            break
        z = min(area.n[j], take)
        load[int(j)] = z
        take -= z
    return load
