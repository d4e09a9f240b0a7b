"""Seating a booking on a bus that runs anyway (``scheduler.free_seats``): within the bus's destination area,
whatever the day planner named the bus after, and on a larger coach where the bus is full."""

from __future__ import annotations

from dataclasses import replace

from conftest import DAY, FACTORIES, TOWNSHIPS, traveller, yudu_rules

from scheduler.areas import destination_areas
from scheduler.check import check_bus
from scheduler.dates import Booking
from scheduler.free_seats import retyped, with_booking
from scheduler.model import BusType, Problem
from scheduler.plan import Bus
from scheduler.solve import SolveParams, solve
from scheduler.timetable import Timetable

DONGGUAN, KUNSHAN = 0, 50  # indices into FACTORIES
COACH53 = BusType("c53", 53, 2, 1800.0, 5.5)


def booking(ids: tuple[str, ...], factory: int) -> Booking:
    township = TOWNSHIPS[0].township_id
    return Booking(ids, township, township, FACTORIES[factory].factory_id, "", DAY, DAY, 0, 300.0)


def day_with_late_pairs(fleet: tuple[BusType, ...]) -> tuple[Timetable, dict[str, str], list[Bus]]:
    """30 riders from one township to Dongguan planned on their own; the day's timetable and areas also know two
    late pairs from that township, one bound for the same gate, one for Kunshan."""
    crowd = [traveller(f"T{n:02d}", TOWNSHIPS[0], FACTORIES[DONGGUAN]) for n in range(30)]
    late = [traveller(f"L{n}", TOWNSHIPS[0], FACTORIES[DONGGUAN]) for n in range(2)]
    far = [traveller(f"K{n}", TOWNSHIPS[0], FACTORIES[KUNSHAN]) for n in range(2)]
    plan = solve(Problem(DAY, TOWNSHIPS, FACTORIES, tuple(crowd), fleet, yudu_rules()), SolveParams(2.0, workers=1))
    everyone = Problem(DAY, TOWNSHIPS, FACTORIES, tuple(crowd + late + far), fleet, yudu_rules())
    timetable = Timetable(everyone)
    return timetable, destination_areas(everyone, timetable), list(plan.buses)


def test_a_bus_named_after_a_part_of_its_area_takes_a_booking_bound_for_that_area() -> None:
    """The day planner cuts a large area into parts and names each bus after its part (东莞市 1); a booking bound
    for a gate of the bus's area rides it, one bound for another area does not."""
    timetable, area_of, buses = day_with_late_pairs((COACH53,))
    (bus,) = buses
    bus = replace(bus, area=f"{bus.area} 1")
    grown = with_booking(timetable, COACH53, bus, booking(("L0", "L1"), DONGGUAN), area_of)
    assert grown is not None and grown.load == 32 and not check_bus(timetable, grown, area_of)
    assert with_booking(timetable, COACH53, bus, booking(("K0", "K1"), KUNSHAN), area_of, add_stops=True) is None


def test_a_full_bus_driven_by_a_larger_coach_seats_a_booking_at_its_stops() -> None:
    """A full 30-seat bus has no seat for a late pair; driven by a 53-seat coach (``retyped``) over the same
    stops at the same times, it seats them, for the larger coach's price."""
    small = BusType("c30", 30, 1, 1200.0, 4.2)
    timetable, area_of, buses = day_with_late_pairs((small, COACH53))
    (bus,) = buses
    assert bus.vehicle_type == "c30" and bus.load == 30
    pair = booking(("L0", "L1"), DONGGUAN)
    assert with_booking(timetable, small, bus, pair, area_of) is None
    larger = retyped(timetable, COACH53, bus)
    assert larger.coach_id == "" and larger.stops == bus.stops and larger.cost > bus.cost
    grown = with_booking(timetable, COACH53, larger, pair, area_of)
    assert grown is not None and grown.seats == 53 and grown.load == 32
    assert not check_bus(timetable, grown, area_of)
    assert all(after.arrival_s >= before.arrival_s for after, before in zip(grown.stops, bus.stops, strict=True))
