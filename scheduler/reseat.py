"""Re-seating: with every route of the day found, move travellers between routes, re-size or cancel coaches,
wherever that lowers the day's cost.

Each area part was routed on its own and in bundles of travellers; with all routes known, one small integer
problem (``scheduler.seating``, solved by CP-SAT in ``scheduler.routing``) can fill a half-empty coach from a
neighbouring route, give a route the coach that fits, or cancel one whose riders fit elsewhere. Routes keep their
stops (a stop left with nobody to board or alight is skipped); every rebuilt bus is timed and priced again by the
day's ``Timetable``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace

from scheduler.fallback import FEN, Flow, Unserved, fallback_cost, left_off_penalty_fen
from scheduler.grouping import Party
from scheduler.messages import Message
from scheduler.model import BusType, Place
from scheduler.plan import Bus, Stop
from scheduler.routing import solve_seating
from scheduler.seating import RiderUnit, SeatingProblem, SeatRoute
from scheduler.timetable import Timetable


def reseat(
    timetable: Timetable,
    buses: list[Bus],
    parties: list[Party],
    fleet: list[BusType],
    entitled: set[Flow],
    time_limit_s: float,
    workers: int,
    report: Callable[[float, Message], None],
) -> tuple[list[Bus], list[Unserved], float]:
    """The day's buses re-seated (or unchanged when nothing cheaper was found), the parties it left off the
    buses, and the saving in CNY."""
    if not buses or time_limit_s <= 0:
        return buses, [], 0.0
    party_of = {t: p for p in parties for t in p.traveller_ids}
    routes, times_of, room_s = [], [], []
    for bus in buses:
        empty = tuple(replace(stop, board=(), alight=()) for stop in bus.stops)
        prices = tuple(round(timetable.price(b, empty).cost * FEN) for b in fleet)
        times = timetable.earliest_times(bus.stops)
        extra = 0 if times is None else _extra_riders(timetable, bus, times)
        coach = next(k for k, b in enumerate(fleet) if b.vehicle_type == bus.vehicle_type)
        routes.append(SeatRoute(prices, bus.load + extra, coach))
        times_of.append(times)
        room_s.append(extra * timetable.rules.boarding_seconds_per_person)
    route_of = {t: r for r, bus in enumerate(buses) for t in bus.traveller_ids}
    units, members, stops_of = _rider_units(timetable, buses, parties, entitled, route_of, times_of, room_s)
    problem = SeatingProblem(
        tuple(routes), tuple(units), tuple(b.seats for b in fleet), tuple(b.count for b in fleet),
        timetable.rules.charter_min_group,
    )  # fmt: skip
    report(0.96, Message("reseating", {"routes": len(buses)}))
    seating = solve_seating(problem, time_limit_s, workers)
    if seating.saving <= 0:
        return buses, [], 0.0
    boards, alights = _riders_at_stops(len(buses), seating.riding, members, stops_of, route_of)
    new_buses = []
    for r, bus in enumerate(buses):
        k = seating.coach[r]
        if k is None:
            continue
        stops = [
            replace(stop, board=tuple(boards[r][i]), alight=tuple(alights[r][i]))
            for i, stop in enumerate(bus.stops)
            if boards[r][i] or alights[r][i]
        ]
        seated = _seated_bus(timetable, bus, fleet[k], stops)
        if seated is None:  # a timetable the model's margins did not foresee: keep the day as it was
            return buses, [], 0.0
        new_buses.append(seated)

    before = {t for bus in buses for t in bus.traveller_ids}
    after = {t for bus in new_buses for t in bus.traveller_ids}
    in_use = Counter(k for k in seating.coach if k is not None)
    cause = "fleet" if all(in_use[k] >= b.count for k, b in enumerate(fleet)) else "pool"
    left_off: dict[str, Unserved] = {}
    for bus in buses:
        for t in bus.traveller_ids:
            if t not in after:
                party = party_of[t]
                left_off.setdefault(party.traveller_ids[0], Unserved(party, cause, bus.area))
    saving = sum(b.cost for b in buses) - sum(b.cost for b in new_buses)
    saving += sum(_fallback_cost(timetable, party_of[t]) for t in after - before)
    saving -= sum(_fallback_cost(timetable, party_of[t]) for t in before - after)
    return new_buses, list(left_off.values()), round(saving, 2)


def _fallback_cost(timetable: Timetable, party: Party) -> float:
    return fallback_cost(timetable, party.township_id, party.factory_id)


def _rider_units(
    timetable: Timetable,
    buses: list[Bus],
    parties: list[Party],
    entitled: set[Flow],
    route_of: dict[str, int],
    times_of: list[list[int] | None],
    room_s: list[float],
) -> tuple[list[RiderUnit], list[list[str]], list[dict[int, tuple[int, int]]]]:
    """The seating problem's units: each registered group (or part of one), and the people travelling alone
    on each flow. Returns the units, their travellers, and per unit the (boarding, alighting) stop on each
    route it may ride: one passing its township or assembly point and then its factory, in time for its gate
    even with the route's timetable full."""
    passing: dict[tuple[str, str], dict[int, tuple[int, int]]] = defaultdict(dict)
    for r, bus in enumerate(buses):
        for i, pickup in enumerate(bus.stops):
            for j in range(i + 1, len(bus.stops)):
                if pickup.kind == "pickup" and bus.stops[j].kind == "dropoff":
                    passing[(pickup.place_id, bus.stops[j].place_id)].setdefault(r, (i, j))
    stops_of_traveller: dict[str, tuple[int, int]] = {}
    for bus in buses:
        board = {t: i for i, stop in enumerate(bus.stops) for t in stop.board}
        for j, stop in enumerate(bus.stops):
            for t in stop.alight:
                stops_of_traveller[t] = (board[t], j)
    alone: dict[tuple, list[Party]] = defaultdict(list)
    together: list[list[Party]] = []
    for party in parties:
        if party.group_id:
            together.append([party])
        else:
            alone[party.flow].append(party)
    units, members, stops_of = [], [], []
    for unit_parties in [*together, *alone.values()]:
        first = unit_parties[0]
        ids = sorted(t for p in unit_parties for t in p.traveller_ids)
        riding = Counter(route_of[t] for t in ids if t in route_of)
        factory = timetable.factory(first.factory_id)
        windows = timetable.delivery_windows(factory, first.arrive_by)
        point = timetable.problem.assembly_point_of(first.township_id)
        boarding: list[tuple[Place, int]] = [(timetable.township(first.township_id), 0)]
        if point is not None:
            boarding.append((point, round(timetable.shuttle_cost(point, 1) * FEN)))
        # Riders who stay on their route keep their stops, so that its timetable holds.
        extra_at = {place.place_id: extra for place, extra in boarding}
        options: dict[int, tuple[int, tuple[int, int]]] = {}
        for r in riding:
            i, j = next(stops_of_traveller[t] for t in ids if route_of.get(t) == r)
            options[r] = (extra_at[buses[r].stops[i].place_id], (i, j))
        for place, extra in boarding:
            for r, (i, j) in passing[(place.place_id, factory.place_id)].items():
                times = times_of[r]
                if r in riding or times is None:
                    continue
                # Both the stop's earliest time and its time in the bus's timetable (which later stops and the
                # ride limit may have pushed to the next day) must suit the newcomer's gate, with the room.
                at = (times[j], buses[r].stops[j].arrival_s)
                if not any(all(a <= t and t + room_s[r] <= b for t in at) for a, b in windows):
                    continue
                if r not in options or extra < options[r][0]:
                    options[r] = (extra, (i, j))
        right = (first.township_id, first.factory_id) in entitled
        units.append(
            RiderUnit(
                len(ids),
                bool(first.group_id),
                left_off_penalty_fen(timetable, first.township_id, first.factory_id, 1, right),
                tuple((r, extra) for r, (extra, _) in sorted(options.items())),
                tuple(sorted(riding.items())),
                meets_floor=right,
            )
        )
        members.append(ids)
        stops_of.append({r: stops for r, (_, stops) in options.items()})
    return units, members, stops_of


def _riders_at_stops(
    n_routes: int,
    riding: tuple[tuple[tuple[int, int], ...], ...],
    members: list[list[str]],
    stops_of: list[dict[int, tuple[int, int]]],
    route_of: dict[str, int],
) -> tuple[list[dict[int, list[str]]], list[dict[int, list[str]]]]:
    """Who boards and who alights at each stop of each route, from how many of each unit ride where; everyone
    who stays on their route keeps their seat, and the others move."""
    boards: list[dict[int, list[str]]] = [defaultdict(list) for _ in range(n_routes)]
    alights: list[dict[int, list[str]]] = [defaultdict(list) for _ in range(n_routes)]
    for u, rides in enumerate(riding):
        kept = {r: [t for t in members[u] if route_of.get(t) == r][:n] for r, n in rides}
        staying = {t for ids in kept.values() for t in ids}
        movers = iter(t for t in members[u] if t not in staying)
        for r, n in rides:
            riders = kept[r] + [next(movers) for _ in range(n - len(kept[r]))]
            board_stop, alight_stop = stops_of[u][r]
            boards[r][board_stop].extend(riders)
            alights[r][alight_stop].extend(riders)
    return boards, alights


def _seated_bus(timetable: Timetable, bus: Bus, bus_type: BusType, stops: list[Stop]) -> Bus | None:
    """The route with its new riders and coach, timed and priced again; the bus itself when nothing changed."""
    same = bus_type.vehicle_type == bus.vehicle_type and len(stops) == len(bus.stops)
    same = same and all(
        set(new.board) == set(old.board) and set(new.alight) == set(old.alight)
        for new, old in zip(stops, bus.stops, strict=False)
    )
    if same:
        return bus
    return timetable.make_bus(bus_type, bus.area, stops)


def _extra_riders(timetable: Timetable, bus: Bus, times: list[int]) -> int:
    """How many more riders the route's timetable could board. Each one delays every later stop by at most
    their boarding time and lengthens the ride by at most twice that (the first stop may then start
    earlier): the gates must still be met and the ride kept within the rules."""
    per_person = timetable.rules.boarding_seconds_per_person
    largest = max(b.seats for b in timetable.problem.fleet)
    if per_person <= 0:
        return max(0, largest - bus.load)
    ride_s = bus.stops[-1].arrival_s - bus.stops[0].arrival_s
    room_s = [(timetable.max_ride_s - ride_s) / 2]
    for stop, t in zip(bus.stops, times, strict=True):
        room_s.append(next((b - t for a, b in timetable.stop_windows(stop) if a <= t <= b), 0))
    return max(0, min(largest - bus.load, math.floor(min(room_s) / per_person)))
