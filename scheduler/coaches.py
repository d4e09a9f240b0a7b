"""Which coach drives which bus: the county's contracted coaches, each on at most one trip at a time.

A trip keeps its coach from leaving the depot until it is back (``Timetable.trip_s``). Coaches of one type are
interchangeable, so naming them is interval partitioning: take the trips in the order they leave and give each
the lowest-numbered coach at the depot (any free coach gives the same count; the lowest keeps the names stable).
In that order a trip finds no coach free only when every coach opened so far is on a trip that has left and is
not back, all of which overlap the new trip's start, so the coaches used are exactly as many as the busiest
moment needs.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Iterable, Sequence
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


def assign_coaches(trips: Iterable[Trip], fleet: Sequence[BusType]) -> CoachAssignment:
    """Name a coach for every trip, never one coach on two overlapping trips, at most ``count`` of a type.

    A coach back at the depot at the moment another trip leaves may take it. Trips of a type the fleet does
    not have, or for which every coach is out, are listed in ``short``.
    """
    count = {b.vehicle_type: b.count for b in fleet}
    by_type: dict[str, list[Trip]] = defaultdict(list)
    for trip in trips:
        by_type[trip.vehicle_type].append(trip)
    coach_of: dict[str, str] = {}
    short: list[str] = []
    for vehicle_type, its_trips in sorted(by_type.items()):
        out: list[tuple[dt.datetime, int]] = []  # (back, coach number) of coaches on a trip
        free: list[int] = []  # coach numbers at the depot
        opened = 0
        for trip in sorted(its_trips, key=lambda t: (t.leaves, t.back, t.bus_id)):
            while out and out[0][0] <= trip.leaves:
                heapq.heappush(free, heapq.heappop(out)[1])
            if free:
                number = heapq.heappop(free)
            elif opened < count.get(vehicle_type, 0):
                opened += 1
                number = opened
            else:
                short.append(trip.bus_id)
                continue
            coach_of[trip.bus_id] = coach_id(vehicle_type, number)
            heapq.heappush(out, (trip.back, number))
    return CoachAssignment(coach_of, tuple(short))
