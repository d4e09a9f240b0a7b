"""Coaches and their trips: a trip holds its coach from the depot and back, the night's rest included where the
crew's day is too short; naming coaches never puts one on two trips at once and uses as few as the busiest
moment needs (against a sweep over every trip's start)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace

from conftest import DAY, FACTORIES, TOWNSHIPS, make_problem, yudu_rules
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.coaches import Trip, assign_coaches, coach_id
from scheduler.model import BusType
from scheduler.plan import Stop
from scheduler.timetable import Timetable

COACH = BusType("coach53", 53, 5, 1800.0, 5.5)
START = dt.datetime.combine(DAY, dt.time())


def one_bus(**rules: object):  # type: ignore[no-untyped-def]
    """A coach of 30 from the first township to the first (Dongguan) factory, timed under ``rules``."""
    problem = make_problem([(0, 0, [1] * 30)], (COACH,), yudu_rules(**rules))
    timetable = Timetable(problem)
    riders = tuple(t.traveller_id for t in problem.travellers)
    stops = [
        Stop(TOWNSHIPS[0].township_id, TOWNSHIPS[0].name, "pickup", 0, 0, riders),
        Stop(FACTORIES[0].factory_id, FACTORIES[0].name, "dropoff", 0, 0, (), riders),
    ]
    bus = timetable.make_bus(COACH, "A", stops, "B1")
    assert bus is not None
    return timetable, bus


def test_a_trip_leaves_by_the_drive_to_its_first_stop_and_is_back_after_the_run_home() -> None:
    timetable, bus = one_bus(second_driver_hours=100.0)  # a day long enough for any crew: no night away
    leaves, back = timetable.trip_s(bus)
    depot, township, factory = (timetable.depot, timetable.place(bus.stops[0].place_id), FACTORIES[0])
    assert leaves == bus.stops[0].arrival_s - timetable.drive_s(depot, township)
    assert leaves >= timetable.rules.depart_from_s
    assert back == bus.stops[-1].departure_s + timetable.with_rests_s(timetable.leg(factory, depot).drive_s)


def test_a_crew_that_would_drive_too_long_in_a_day_starts_home_a_day_after_leaving() -> None:
    """Dongguan from Yudu is about 6 h each way: one driver at 8 h in 24 h drives home the next day, 24 h after
    leaving the depot; with a day long enough for the whole trip the coach comes straight back."""
    timetable, bus = one_bus(second_driver_hours=8.0)
    assert bus.drivers == 1 and 8 < bus.drive_hours * 2 < 16
    leaves, back = timetable.trip_s(bus)
    home_s = timetable.with_rests_s(timetable.leg(FACTORIES[0], timetable.depot).drive_s)
    assert back == leaves + 24 * 3600 + home_s
    two_drivers = replace(bus, drivers=2)  # 16 h a day: out and back in one go
    assert timetable.trip_s(two_drivers)[1] == bus.stops[-1].departure_s + home_s


@st.composite
def trips(draw: st.DrawFn) -> tuple[list[Trip], tuple[BusType, ...]]:
    fleet = tuple(BusType(name, 10, draw(st.integers(0, 4)), 100.0, 1.0) for name in ("c10", "c12"))
    out = []
    for i in range(draw(st.integers(0, 14))):
        leaves = START + dt.timedelta(minutes=draw(st.integers(0, 60)) * 30)
        back = leaves + dt.timedelta(minutes=draw(st.integers(1, 8)) * 30)
        out.append(Trip(f"B{i:02d}", draw(st.sampled_from(["c10", "c12", "none"])), leaves, back))
    return out, fleet


def busiest_moment(its_trips: list[Trip]) -> int:
    """The most trips on the road at once: at some trip's leaving, those that have left and are not back."""
    return max((sum(o.leaves <= t.leaves < o.back for o in its_trips) for t in its_trips), default=0)


@settings(max_examples=300, deadline=None)
@given(trips())
def test_coaches_are_never_on_two_trips_at_once_and_as_few_as_the_busiest_moment_needs(case) -> None:  # type: ignore[no-untyped-def]
    trip_list, fleet = case
    result = assign_coaches(trip_list, fleet)
    count = {b.vehicle_type: b.count for b in fleet}
    assert set(result.coach_of) | set(result.short) == {t.bus_id for t in trip_list}
    assert not set(result.coach_of) & set(result.short)
    by_id = {t.bus_id: t for t in trip_list}
    for a in result.coach_of:
        for b in result.coach_of:
            if a < b and result.coach_of[a] == result.coach_of[b]:
                first, second = sorted((by_id[a], by_id[b]), key=lambda t: t.leaves)
                assert first.back <= second.leaves, (first, second)
    for vehicle_type in ("c10", "c12", "none"):
        its = [t for t in trip_list if t.vehicle_type == vehicle_type]
        used = {result.coach_of[t.bus_id] for t in its if t.bus_id in result.coach_of}
        assert used <= {coach_id(vehicle_type, n) for n in range(1, count.get(vehicle_type, 0) + 1)}
        if busiest_moment(its) <= count.get(vehicle_type, 0):
            assert not {t.bus_id for t in its} & set(result.short)
            assert len(used) == busiest_moment(its)
        else:
            assert {t.bus_id for t in its} & set(result.short)


def test_a_coach_back_when_another_trip_leaves_takes_it() -> None:
    morning = Trip("B1", "c10", START, START + dt.timedelta(hours=10))
    evening = Trip("B2", "c10", START + dt.timedelta(hours=10), START + dt.timedelta(hours=20))
    result = assign_coaches([evening, morning], (BusType("c10", 10, 1, 100.0, 1.0),))
    assert result.coach_of == {"B1": "c10-001", "B2": "c10-001"} and result.short == ()


@settings(max_examples=200, deadline=None)
@given(trips(), st.data())
def test_kept_coaches_stay_and_the_others_fit_around_them(case, data) -> None:  # type: ignore[no-untyped-def]
    """Trips already named (a published day's) keep their coach; the rest never overlap them or each other."""
    trip_list, fleet = case
    first = assign_coaches(trip_list, fleet)
    kept = {b: c for b, c in first.coach_of.items() if data.draw(st.booleans())}
    result = assign_coaches(trip_list, fleet, kept)
    assert all(result.coach_of[b] == c for b, c in kept.items())
    assert set(result.coach_of) | set(result.short) == {t.bus_id for t in trip_list}
    by_id = {t.bus_id: t for t in trip_list}
    on_coach: dict[str, list[Trip]] = {}
    for bus_id, name in result.coach_of.items():
        on_coach.setdefault(name, []).append(by_id[bus_id])
    for its in on_coach.values():
        its.sort(key=lambda t: t.leaves)
        assert all(a.back <= b.leaves for a, b in itertools.pairwise(its))
    # The first naming fitted every trip it named; keeping part of it leaves room for the same trips.
    assert set(result.short) <= set(first.short)
