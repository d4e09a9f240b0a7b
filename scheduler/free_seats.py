"""Seating a party on a bus that runs anyway: a published bus's free seats, or a seat a fallback party takes once
every date is planned. The bus keeps every rule and every stop its time or later, and its coach is back before
its next trip."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace

from scheduler.check import check_bus
from scheduler.coaches import trip_of
from scheduler.dates import Booking
from scheduler.model import BusType
from scheduler.plan import Bus, Stop
from scheduler.timetable import Timetable


def seat_on(
    buses: list[Bus],
    timetable: Timetable,
    booking: Booking,
    coach_leaves: dict[str, list[dt.datetime]],
    area_of: dict[str, str],
    add_stops: bool = False,
    max_extra: float = float("inf"),
) -> Bus | None:
    """Put ``booking`` on the one of ``buses`` (changed in place) whose price it raises least, below ``max_extra``
    (``with_booking``; ``add_stops``: also by adding its boarding place or gate), where the coach is still back
    before its next trip (``coach_leaves``: coach_id -> when each of its trips leaves). Returns the grown bus, or
    None where no bus takes it."""
    fleet = {b.vehicle_type: b for b in timetable.problem.fleet}
    best: tuple[float, int, Bus] | None = None
    for k, bus in enumerate(buses):
        if not in_area_of(bus, booking, area_of):
            continue  # ``with_booking`` would say so, more slowly
        grown = with_booking(timetable, fleet[bus.vehicle_type], bus, booking, area_of, add_stops)
        if grown is None or grown.cost - bus.cost >= min(max_extra, best[0] if best else max_extra):
            continue
        leaves = trip_of(timetable, bus).leaves
        later = [t for t in coach_leaves.get(bus.coach_id, []) if t > leaves]
        if later and trip_of(timetable, grown).back > min(later):
            continue
        best = (grown.cost - bus.cost, k, grown)
        if not add_stops:
            break  # its stops are the bus's: any bus that takes it costs about the same
    if best is None:
        return None
    buses[best[1]] = best[2]
    return best[2]


def in_area_of(bus: Bus, booking: Booking, area_of: dict[str, str]) -> bool:
    """Whether ``booking`` is bound for the destination area of ``bus``'s gates (``area_of``: the date's areas,
    factory -> area; a factory not among them is in none)."""
    area = area_of.get(booking.factory_id)
    return area is not None and area == area_of.get(bus.stops[-1].place_id)


def with_booking(
    timetable: Timetable,
    coach: BusType,
    bus: Bus,
    booking: Booking,
    area_of: dict[str, str],
    add_stops: bool = False,
) -> Bus | None:
    """``bus`` also carrying ``booking`` from its boarding place to its factory, or None where it has no room or
    no way to. ``area_of``: the date's destination areas (its plan's, factory -> area); the booking's factory must
    be one of them, in the area of the bus's gates. Without ``add_stops`` the bus must stop at both already; with
    it, a missing boarding place is added after one of its pickups and a missing gate of its area next to one of
    its gates, within the stop limits (the cheapest way that keeps every rule). Every stop keeps its time or
    later (nobody told a time misses the bus): the extra boarding pushes the stops after it later, and the bus
    must still keep every rule."""
    if not in_area_of(bus, booking, area_of) or bus.seats - bus.load < booking.size:
        return None
    rules = timetable.rules
    kinds = ("pickup", "dropoff")
    places = {kind: [n for n, s in enumerate(bus.stops) if s.kind == kind] for kind in kinds}
    where = {
        kind: next((n for n in places[kind] if bus.stops[n].place_id == place), None)
        for kind, place in zip(kinds, (booking.lane, booking.factory_id), strict=True)
    }
    room = {
        "pickup": len({bus.stops[n].place_id for n in places["pickup"]}) < rules.max_pickup_stops,
        "dropoff": len({bus.stops[n].place_id for n in places["dropoff"]}) < rules.max_dropoff_stops,
    }
    if not add_stops and None in where.values():
        return None
    # Where each end may go: its stop, or (a new stop) right after a pickup / next to a gate.
    pickups = [(where["pickup"], False)] if where["pickup"] is not None else (
        [(n + 1, True) for n in places["pickup"]] if room["pickup"] else [])  # fmt: skip
    dropoffs = [(where["dropoff"], False)] if where["dropoff"] is not None else (
        [(n + k, True) for n in places["dropoff"] for k in (0, 1)] if room["dropoff"] else [])  # fmt: skip
    # Positions are indices of the bus's stops; a new stop goes before the stop there (or last).
    ids = booking.traveller_ids
    factory, place = timetable.factory(booking.factory_id), timetable.place(booking.lane)
    best: Bus | None = None
    for (up, new_up), (down, new_down) in itertools.product(pickups, dropoffs):
        if not (up < down or (up == down and new_up)):
            continue  # they would alight before boarding
        stops: list[Stop] = []
        for n in range(len(bus.stops) + 1):
            if new_up and n == up:
                stops.append(Stop(booking.lane, place.name, "pickup", 0, 0, ids, ()))
            if new_down and n == down:
                stops.append(Stop(factory.factory_id, factory.name, "dropoff", 0, 0, (), ids))
            if n == len(bus.stops):
                break
            stop = bus.stops[n]
            if not new_up and n == up:
                stop = replace(stop, board=stop.board + ids)
            if not new_down and n == down:
                stop = replace(stop, alight=stop.alight + ids)
            stops.append(stop)
        grown = _retimed(timetable, coach, bus, stops)
        if (best is None or grown.cost < best.cost) and not check_bus(timetable, grown, area_of):
            best = grown
    return best


def retyped(timetable: Timetable, coach: BusType, bus: Bus) -> Bus:
    """``bus`` driven by a coach of another type, over the same stops at the same times, priced; its coach is
    to be named again (``coach_id`` blank)."""
    other = replace(bus, vehicle_type=coach.vehicle_type, seats=coach.seats, coach_id="")
    return _retimed(timetable, coach, other, list(bus.stops))


def _retimed(timetable: Timetable, coach: BusType, bus: Bus, stops: list[Stop]) -> Bus:
    """``bus`` over ``stops``, each at its time or later, priced."""
    timed: list[Stop] = []
    for stop in stops:
        arrival = stop.arrival_s
        if timed:
            before = timed[-1]
            drive = timetable.drive_s(timetable.place(before.place_id), timetable.place(stop.place_id))
            arrival = max(arrival, before.departure_s + drive)
        departure = max(stop.departure_s, arrival + timetable.dwell_s(stop.kind, len(stop.board)))
        timed.append(replace(stop, arrival_s=arrival, departure_s=departure))
    price = timetable.price(coach, timed)
    return replace(
        bus, stops=tuple(timed), distance_km=price.distance_km, drive_hours=price.drive_hours,
        drivers=price.drivers, cost=price.cost,
    )  # fmt: skip
