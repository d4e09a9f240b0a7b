"""Independent checkers: of Li & Lim solutions (no solver code, only the instance file) and of county plans
(the rules read again, none of the planner's timetable or checker).

A Li & Lim solution is a list of routes, each the customer nodes a vehicle visits between leaving and returning
to the depot; times and distances are recomputed from coordinates with unrounded Euclidean distances. A county
plan is checked from its stops and times by ``check_county_plan``, against which the planner's own
``scheduler.check.check_plan`` is tested.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from benchmarks.county_day import DAY_S, CountyDay
from benchmarks.lilim_data import LilimInstance
from scheduler.plan import Bus, Plan

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


# ---------------------------------------------------------------------- county plans
COUNTY_CHECKS = (
    "capacity",  # on board at once within the seats
    "pairing",  # boards at own township or its assembly point, then alights at own factory
    "coverage",  # every eligible traveller once, on a bus or in the fallback
    "groups_split",  # registered groups that fit a coach on one bus (or all in the fallback)
    "pickup_stops",  # distinct boarding places
    "dropoff_stops",  # distinct factories
    "area",  # the factories of a bus at most twice the area radius apart by road
    "time_windows",  # boarding on the plan date once a coach can be there; arrivals in receiving hours
    "spacing",  # stops at least the drive with rests apart, each as long as its dwell
    "ride_time",  # first to last stop within the longest ride
    "below_threshold",  # at least the threshold on board, or riders of a flow of at least the threshold
    "fleet",  # coaches of each type within the contract
)


def check_county_plan(day: CountyDay, plan: Plan, elsewhere: Collection[str] = ()) -> dict[str, int]:
    """Count rule violations of a county plan from its stops and times alone, with this module's own reading of
    the rules (legs, rests, dwell, windows and flows from ``CountyDay``, none of the planner's timetable or
    checker), so that ``scheduler.check.check_plan`` can be checked against it. ``elsewhere``: travellers of the
    day placed on a bus this plan does not list (in a region, another county's coach)."""
    rules = day.rules
    found = dict.fromkeys(COUNTY_CHECKS, 0)
    seen: Counter[str] = Counter()
    bus_of: dict[str, int] = {}
    reachable_flows = Counter((p.township_id, p.factory_id) for p in day.parties for _ in p.traveller_ids)
    for k, bus in enumerate(plan.buses):
        on_board: set[str] = set()
        for stop in bus.stops:
            for tid in stop.board:
                traveller = day.travellers.get(tid)
                allowed = {p.place_id for p in day.pickup_places(traveller.township_id)} if traveller else set()
                if stop.kind != "pickup" or stop.place_id not in allowed or tid in bus_of:
                    found["pairing"] += 1
                on_board.add(tid)
                seen[tid] += 1
                bus_of[tid] = k
            for tid in stop.alight:
                traveller = day.travellers.get(tid)
                if stop.kind != "dropoff" or traveller is None or stop.place_id != traveller.factory_id:
                    found["pairing"] += 1
                if tid not in on_board:
                    found["pairing"] += 1
                on_board.discard(tid)
            if len(on_board) > bus.seats:
                found["capacity"] += 1
        found["pairing"] += len(on_board)  # boarded, never alighted
        pickups = {s.place_id for s in bus.stops if s.kind == "pickup"}
        factories = sorted({s.place_id for s in bus.stops if s.kind == "dropoff"})
        found["pickup_stops"] += len(pickups) > rules.max_pickup_stops
        found["dropoff_stops"] += len(factories) > rules.max_dropoff_stops
        places = [day.factories[f] for f in factories if f in day.factories]
        found["area"] += any(
            day.leg(a, b).distance_km > 2 * rules.area_radius_km for i, a in enumerate(places) for b in places[i + 1 :]
        )
        entitled = rules.threshold_is_entitlement and any(
            tid in day.travellers
            and reachable_flows[(day.travellers[tid].township_id, day.travellers[tid].factory_id)]
            >= rules.charter_min_group
            for tid in bus.traveller_ids
        )
        found["below_threshold"] += bus.load < rules.charter_min_group and not entitled
        found["time_windows"] += _outside_windows(day, bus)
        found["spacing"] += _too_close(day, bus)
        if bus.stops and bus.stops[-1].arrival_s - bus.stops[0].arrival_s > rules.max_ride_hours * 3600:
            found["ride_time"] += 1
    for f in plan.fallback:
        seen[f.traveller_id] += 1
    seen.update(elsewhere)
    expected = set(day.travellers)
    found["coverage"] = sum(1 for t in expected if seen[t] != 1) + sum(1 for t in seen if t not in expected)
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for t in day.problem.travellers:
        if t.group_id:
            groups[(t.group_id, t.township_id, t.factory_id)].append(t.traveller_id)
    for members in groups.values():
        if len(members) <= day.largest_seats and len({bus_of.get(t, -1) for t in members}) > 1:
            found["groups_split"] += 1
    used = Counter(b.vehicle_type for b in plan.buses)
    fleet = {b.vehicle_type: b.count for b in day.problem.fleet}
    found["fleet"] = sum(max(0, n - fleet.get(v, 0)) for v, n in used.items())
    return found


def _outside_windows(day: CountyDay, bus: Bus) -> int:
    """Stops of the plan's own timetable outside their windows: a first stop before a coach leaving the depot at
    depart_from can be there, boarding after midnight, arrivals outside the gate's hours on an allowed day."""
    rules, outside = day.rules, 0
    if not bus.stops:
        return 0
    first = bus.stops[0]
    earliest = rules.depart_from_s + day.with_rests_s(day.leg(day.depot, day.place(first.place_id)).drive_s)
    outside += first.arrival_s < earliest
    for stop in bus.stops:
        if stop.kind == "pickup":
            outside += stop.arrival_s > DAY_S
            continue
        factory = day.factories.get(stop.place_id)
        if factory is None or not stop.alight or any(t not in day.travellers for t in stop.alight):
            outside += 1
            continue
        last = min(day.party_arrive_by(t) for t in stop.alight)
        outside += not any(a <= stop.arrival_s <= b for a, b in day.windows(factory, last))
    return outside


def _too_close(day: CountyDay, bus: Bus) -> int:
    """Stops less than their dwell long, or reached sooner than the drive with the driver's rests allows."""
    rules, close = day.rules, 0
    for i, stop in enumerate(bus.stops):
        if stop.kind == "pickup":
            dwell = rules.boarding_minutes_per_stop * 60 + rules.boarding_seconds_per_person * len(stop.board)
        else:
            dwell = rules.alighting_minutes_per_stop * 60
        close += stop.departure_s - stop.arrival_s < dwell - 1  # the planner rounds each part to the second
        if i:
            before = bus.stops[i - 1]
            drive = day.with_rests_s(day.leg(day.place(before.place_id), day.place(stop.place_id)).drive_s)
            close += stop.arrival_s - before.departure_s < drive
    return close
