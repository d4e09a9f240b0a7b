"""Direct coaches: a whole coach filled by one flow, driven straight from its township to its factory."""

from __future__ import annotations

from scheduler.grouping import DirectBus
from scheduler.plan import Bus, Stop
from scheduler.timetable import Timetable


def direct_buses(
    timetable: Timetable, coaches: list[DirectBus], area_of: dict[str, str]
) -> tuple[list[Bus], list[DirectBus]]:
    """The coaches as timed and priced buses, and those whose timetable does not work (the gate's hours or
    the time on board), for the pool to decide."""
    buses, returned = [], []
    for coach in coaches:
        first = coach.parties[0]
        township, factory = timetable.township(first.township_id), timetable.factory(first.factory_id)
        riders = tuple(t for p in coach.parties for t in p.traveller_ids)
        stops = (
            Stop(township.place_id, township.name, "pickup", 0, 0, board=riders),
            Stop(factory.place_id, factory.name, "dropoff", 0, 0, alight=riders),
        )
        bus = timetable.make_bus(coach.bus_type, area_of[factory.factory_id], stops)
        if bus is None:
            returned.append(coach)
        else:
            buses.append(bus)
    return buses, returned
