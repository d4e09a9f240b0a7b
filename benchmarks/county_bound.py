"""A lower bound over whole coach loads: the configuration LP of a county day, solved by column generation.

The aggregate relaxation in ``county_methods.lower_bound`` lets any coach visit to a township serve every flow
of that township, which leaves the stop limits almost free in a big destination area. Here each column is one
coach: a type, at most ``max_pickup_stops`` boarding places P, at most ``max_dropoff_stops`` factories F of one
destination area, and a load z (z_j <= n_j of each township-factory flow j whose township boards at a place of
P and whose factory is in F; riders between the charter threshold and the seats). The LP

    min  sum_c cost_c x lambda_c + sum_j alt_j x (n_j - sum_c z_cj lambda_c)
    s.t. sum_c z_cj lambda_c <= n_j (every flow),  sum_{c of type b} lambda_c <= fleet_b,  lambda >= 0

is a relaxation of every plan: groups may split, gate hours and time on board are dropped, coaches may be
fractional. A column's cost is a lower bound on what such a coach pays: fixed + per km x the shortest billed
route that boards at every place of P before it drops at the factories of F (or, if that were shorter, a
route that comes back from the area to board, which crosses the haul three times), + the second driver when
even the shortest route needs one; shuttles are dropped.

Pricing is exact: every (P, F) of an area is scored against the duals (compiled with numba; the big area of
the fixture county has 6.9 million), so at every iteration

    bound = LP value of the columns so far + sum_b fleet_b x min(0, least reduced cost of type b)

is valid (Lagrangian: no plan uses more than fleet_b coaches of type b), and equals the LP value once no
column prices out.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from dataclasses import dataclass

import highspy
import numpy as np
from numba import njit

from benchmarks.county_day import CountyDay

COLUMNS_PER_AREA = 400  # columns added per area and iteration: more means fewer (costlier) LP solves
TOLERANCE_CNY = 0.01
# Every (place set, factory set) pair of an area is scored at every iteration and its shortest route found by
# trying every order: beyond these sizes the enumeration would not finish, and the bound is not computed.
MAX_STOPS = 4
MAX_PAIRS_PER_AREA = 30_000_000


@dataclass
class ConfigurationBound:
    bound_cny: float  # includes the subsidies, as every plan's cost does
    lp_cny: float  # the restricted LP's value at the last iteration (the bound when converged)
    iterations: int
    columns: int
    converged: bool


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
    route_km: np.ndarray  # (n_p, n_f) shortest billed km
    second_driver: np.ndarray  # (n_p, n_f) bool: even the shortest route needs a second driver


def configuration_bound(day: CountyDay, time_limit_s: float) -> ConfigurationBound | None:
    """The bound, after at most ``time_limit_s`` of iterations (still valid, if weaker, when cut short); None
    when the stop limits make the patterns too many to enumerate."""
    started = time.monotonic()
    rules, usable = day.rules, day.usable
    if max(rules.max_pickup_stops, rules.max_dropoff_stops) > MAX_STOPS:
        return None
    subsidies = sum(day.subsidies().values())
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for party in day.parties:
        flows[(party.township_id, party.factory_id)] += party.size
    constant = subsidies + sum(n * day.fallback_per_person(*k) for k, n in flows.items())
    if not usable or not flows:
        return ConfigurationBound(constant, constant, 0, 0, True)
    by_area: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(flows):
        by_area[day.area_of[key[1]]].append(key)
    for keys in by_area.values():
        places = {p.place_id for t, _ in keys for p in day.pickup_places(t)}
        factories = {f for _, f in keys}
        pairs = _count_subsets(len(places), rules.max_pickup_stops) * _count_subsets(
            len(factories), rules.max_dropoff_stops
        )
        if pairs > MAX_PAIRS_PER_AREA:
            return None
    areas = [_build_area(day, keys, flows) for _, keys in sorted(by_area.items())]

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
            rc, chosen = _price(
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
                rules.charter_min_group,
            )
            least = np.minimum(least, rc.min(axis=0, initial=0.0))
            candidates = np.argwhere(rc < -TOLERANCE_CNY)
            order = np.argsort(rc[candidates[:, 0], candidates[:, 1]])[:COLUMNS_PER_AREA]
            for f_set, b in candidates[order]:
                p_set = chosen[f_set, b]
                load = _load(area, p_set, f_set, value, int(seats[b]), rules.charter_min_group)
                cost = _coach_cost(
                    fixed[b],
                    per_km[b],
                    area.route_km[p_set, f_set],
                    area.second_driver[p_set, f_set],
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
    return ConfigurationBound(best, lp_value, iterations, columns, converged)


def _build_area(day: CountyDay, keys: list[tuple[str, str]], flows: dict) -> _Area:
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
    hours = np.array([[day.leg(a, b).drive_s for b in stops] for a in stops]) / 3600
    route_km, one_way_km, one_way_h = _routes(
        place_sets, factory_sets, km, hours, len(places), min(1.0, rules.empty_return_factor)
    )
    # A coach that drops somewhere before it boards somewhere crosses the haul three times (at least).
    p_ix, f_ix = np.arange(1, len(places) + 1), np.arange(len(places) + 1, len(stops))
    haul = km[np.ix_(p_ix, f_ix)].min()
    back_and_forth = km[0, f_ix].min() + 2 * haul + min(1.0, rules.empty_return_factor) * km[f_ix, 0].min()
    route_km = np.minimum(route_km, back_and_forth)
    # Driving time is monotone and subadditive in km: the shortest orders bound both from below.
    second = (one_way_km > rules.second_driver_km + 1e-6) | (one_way_h * 3600 - 2 > rules.second_driver_hours * 3600)
    second &= route_km < back_and_forth  # the back-and-forth shortcut says nothing about drivers
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
        second,
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
def _coach_cost(fixed, per_km, route_km, second_driver, second_driver_cost):
    """What a coach of the pattern pays at least (compiled, so that pricing and the columns share it)."""
    return fixed + per_km * route_km + (second_driver_cost if second_driver else 0.0)


@njit(cache=True)
def _price(
    n_place_sets, covers, set_ptr, set_flows, township_of_flow, n, value, route_km, second_driver,
    seats, fixed, per_km, fleet_duals, second_driver_cost, threshold,
):  # fmt: skip
    """Least reduced cost per (factory set, coach type), over all place sets, and the place set reaching it.

    A coach's best load takes flows by value (alternative + dual) down to the seats, and below zero only to
    reach the charter threshold; a box with fewer travellers than the threshold cannot be chartered."""
    n_f = set_ptr.shape[0] - 1
    n_b = seats.shape[0]
    best = np.zeros((n_f, n_b))
    chosen = np.zeros((n_f, n_b), dtype=np.int64)
    units = np.empty(set_flows.shape[0] + 1)
    gains = np.empty(set_flows.shape[0] + 1)
    for t in range(n_f):
        flows = set_flows[set_ptr[t] : set_ptr[t + 1]]
        if flows.shape[0] == 0:
            continue
        flows = flows[np.argsort(-value[flows])]
        for s in range(n_place_sets):
            count, cum_u, cum_g, positive = 0, 0.0, 0.0, 0.0
            units[0], gains[0] = 0.0, 0.0
            for j in flows:
                if not covers[s, township_of_flow[j]]:
                    continue
                if value[j] > 0:
                    positive += n[j]
                cum_u += n[j]
                cum_g += n[j] * value[j]
                count += 1
                units[count], gains[count] = cum_u, cum_g
            if cum_u < threshold:
                continue
            for b in range(n_b):
                take = min(float(seats[b]), max(float(threshold), positive))
                take = min(take, cum_u)
                gain = 0.0
                for i in range(1, count + 1):
                    if units[i] >= take:
                        per = (gains[i] - gains[i - 1]) / (units[i] - units[i - 1])
                        gain = gains[i - 1] + per * (take - units[i - 1])
                        break
                cost = _coach_cost(fixed[b], per_km[b], route_km[s, t], second_driver[s, t], second_driver_cost)
                rc = cost - fleet_duals[b] - gain
                if rc < best[t, b]:
                    best[t, b] = rc
                    chosen[t, b] = s
    return best, chosen


def _load(area: _Area, p_set: int, f_set: int, value: np.ndarray, seats: int, threshold: int) -> dict[int, float]:
    """The load ``_price`` scored for this coach: flows by value down to the seats, below zero only to reach
    the threshold."""
    into = area.set_flows[area.set_flows_ptr[f_set] : area.set_flows_ptr[f_set + 1]]
    flows = [j for j in into[np.argsort(-value[into], kind="stable")] if area.covers[p_set, area.township_of_flow[j]]]
    positive = sum(area.n[j] for j in flows if value[j] > 0)
    take = min(float(seats), max(float(threshold), positive), sum(area.n[j] for j in flows))
    load: dict[int, float] = {}
    for j in flows:
        if take <= 0:
            break
        z = min(area.n[j], take)
        load[int(j)] = z
        take -= z
    return load
