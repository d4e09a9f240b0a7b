"""Which coach drives which bus: the county's contracted coaches, each on at most one trip at a time.

A trip keeps its coach from leaving the depot until it is back (``Timetable.trip_s``). Coaches of one type are
interchangeable, so naming them is interval partitioning: take the trips in the order they leave and give each
the lowest-numbered coach free for the whole trip (any free coach gives the same count; the lowest keeps the names
stable).
In that order a trip finds no coach free only when every coach opened so far is on a trip that has left and is
not back, all of which overlap the new trip's start, so the coaches used are exactly as many as the busiest
moment needs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from scheduler.model import BusType
from scheduler.plan import Bus
from scheduler.timetable import Timetable


@dataclass(frozen=True, slots=True)
class Trip:
    """One bus's use of a coach: from leaving the depot to being back there."""

    bus_id: str
    vehicle_type: str
    leaves: dt.datetime
    back: dt.datetime

    def __post_init__(self) -> None:
        if self.back < self.leaves:
            raise ValueError(f"trip of bus {self.bus_id}: expected back at or after leaving.")


def trip_of(timetable: Timetable, bus: Bus) -> Trip:
    """A bus's trip as moments (the timetable's seconds after midnight of the plan date)."""
    leaves_s, back_s = timetable.trip_s(bus)
    midnight = dt.datetime.combine(timetable.problem.date, dt.time())
    leaves, back = (midnight + dt.timedelta(seconds=s) for s in (leaves_s, back_s))
    return Trip(bus.bus_id, bus.vehicle_type, leaves, back)


def coach_id(vehicle_type: str, number: int) -> str:
    """The name of a type's ``number``-th coach (from 1), e.g. ``coach53-017``."""
    return f"{vehicle_type}-{number:03d}"


@dataclass(frozen=True, slots=True)
class CoachAssignment:
    """``coach_of``: bus_id -> coach_id; ``short``: buses no coach of their type was free for."""

    coach_of: dict[str, str]
    short: tuple[str, ...]


def assign_coaches(
    trips: Iterable[Trip], fleet: Sequence[BusType], kept: Mapping[str, str] | None = None
) -> CoachAssignment:
    """Name a coach for every trip, never one coach on two overlapping trips, at most ``count`` of a type.

    ``kept``: bus_id -> coach_id of trips whose coach is already named (a published day's); they keep it, and
    the others are fitted around them. A coach back at the depot at the moment another trip leaves may take it.
    Trips of a type the fleet does not have, or for which no coach is free, are listed in ``short``.
    """
    kept = kept or {}
    count = {b.vehicle_type: b.count for b in fleet}
    by_type: dict[str, list[Trip]] = defaultdict(list)
    for trip in trips:
        by_type[trip.vehicle_type].append(trip)
    coach_of: dict[str, str] = {}
    short: list[str] = []
    for vehicle_type, its_trips in sorted(by_type.items()):
        names = [coach_id(vehicle_type, n) for n in range(1, count.get(vehicle_type, 0) + 1)]
        kept_trips: dict[str, list[Trip]] = defaultdict(list)
        for trip in its_trips:
            if trip.bus_id in kept:
                coach_of[trip.bus_id] = kept[trip.bus_id]
                kept_trips[kept[trip.bus_id]].append(trip)
        back_from_last: dict[str, dt.datetime] = {}  # coach -> when its latest trip named here is back
        for trip in sorted(its_trips, key=lambda t: (t.leaves, t.back, t.bus_id)):
            if trip.bus_id in kept:
                continue
            # The lowest-numbered coach free for the whole trip: without kept trips, one at the depot.
            name = next((n for n in names if _free(trip, back_from_last.get(n), kept_trips.get(n, ()))), None)
            if name is None:
                short.append(trip.bus_id)
                continue
            coach_of[trip.bus_id] = name
            back_from_last[name] = trip.back
    return CoachAssignment(coach_of, tuple(short))


def _free(trip: Trip, last_back: dt.datetime | None, kept: Iterable[Trip]) -> bool:
    """Whether a coach back from its latest trip at ``last_back`` and with ``kept`` trips ahead can drive ``trip``."""
    return (last_back is None or last_back <= trip.leaves) and all(
        k.back <= trip.leaves or trip.back <= k.leaves for k in kept
    )
