"""After every date of a campaign is planned: who the day planner sent by fallback rides a bus with room on
another date of their window (``fallback_to_free_seats``), a full bus driven by a larger coach instead
(``fallback_to_larger_coaches``), or a new coach pooled across their dates (``fallback_to_new_coaches``); a
published day's free seats go to whoever has no date yet (``offer_free_seats``). Every bus keeps the county's
rules (``scheduler.free_seats``, ``scheduler.fallback_pool``), and each changed date is re-priced as a whole
(``repriced``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from scheduler.areas import FactoryKm, cluster_factories, destination_areas, each_in_one_area
from scheduler.coaches import Trip, trip_of
from scheduler.dates import Booking, DateMarket
from scheduler.fallback import recounted, subsidies
from scheduler.fallback_pool import open_date, pool_fallback
from scheduler.free_seats import in_area_of, retyped, seat_on, with_booking
from scheduler.model import Problem, Traveller
from scheduler.plan import Bus, Fallback, Plan
from scheduler.timetable import Timetable
from scheduler.travel import TravelModel


@dataclass(frozen=True, slots=True)
class Day:
    """One date of the campaign: its planning problem (who leaves that day) and its plan."""

    problem: Problem
    plan: Plan
    kept: bool = False  # a published day, kept as it was but for cancellations and free seats taken


def repriced(plan: Plan, buses: tuple[Bus, ...], fallback: tuple[Fallback, ...], problem: Problem) -> Plan:
    """``plan`` with these buses and fallback, and the subsidies of who is now on it; each fallback line with its
    flow's size among who now leaves on the date (travellers move between dates after a day is planned)."""
    on_plan = {t for b in buses for t in b.traveller_ids} | {f.traveller_id for f in fallback}
    unplaced = {f.traveller_id for f in fallback if f.mode == "unplaced"}
    people = replace(problem, travellers=tuple(t for t in problem.travellers if t.traveller_id in on_plan))
    fallback = recounted(fallback, people.travellers, problem.rules)
    return replace(plan, buses=buses, fallback=fallback, subsidies=subsidies(people, unplaced))


@dataclass
class LateSeating:
    """The campaign once every date is planned, as its late steps change it in place: the days (published ones
    too), each open date's timetable, the bookings with the date of each, the date market and the published
    days' trips."""

    days: list[Day]
    whole: Problem
    travel: TravelModel
    tables: dict[dt.date, Timetable]
    bookings: Sequence[Booking]
    date_of: dict[int, dt.date]
    market: DateMarket
    kept_trips: Sequence[Trip]

    def open_index(self) -> dict[dt.date, int]:
        """Each open (unpublished) date's place in ``days``."""
        return {d.plan.date: n for n, d in enumerate(self.days) if not d.kept}

    def on_fallback(self) -> list[int]:
        """The bookings of open dates whose travellers all go by township transport or ticket, in order."""
        index = self.open_index()
        off = {f.traveller_id for d in self.days if not d.kept for f in d.plan.fallback if f.mode != "unplaced"}
        return [
            i for i in sorted(self.date_of)
            if self.date_of[i] in index and set(self.bookings[i].traveller_ids) <= off
        ]  # fmt: skip


def offer_free_seats(
    plan: Plan,
    timetable: Timetable,
    bookings: Sequence[Booking],
    seated: set[int],
    coach_leaves: dict[str, list[dt.datetime]],
) -> Plan:
    """Seat unplanned bookings on a kept plan's free seats (``seat_on``). ``seated`` gains the bookings seated;
    the tightest windows go first."""
    day = plan.date
    on_plan = {t for b in plan.buses for t in b.traveller_ids} | {f.traveller_id for f in plan.fallback}
    riders = tuple(t for t in timetable.problem.travellers if t.traveller_id in on_plan)
    area_of = destination_areas(replace(timetable.problem, travellers=riders), timetable)
    order = sorted(
        (i for i, b in enumerate(bookings) if i not in seated and b.first <= day <= b.last),
        key=lambda i: (bookings[i].last, -bookings[i].size, i),
    )
    buses = list(plan.buses)
    for i in order:
        if seat_on(buses, timetable, bookings[i], coach_leaves, area_of) is not None:
            seated.add(i)
    return repriced(plan, tuple(buses), plan.fallback, timetable.problem)


def fallback_to_free_seats(late: LateSeating, deadline: float) -> set[dt.date]:
    """After every date is planned and its coaches named: a booking the day planner sent by fallback that a bus
    with room on an open date of its window (its own first, then the nearest) can take, stopping at its boarding
    place and its factory or adding them within the stop limits, rides it instead, where its fallback costs more
    than its boarding adds to the bus.
    Returns the dates changed. A gate's cap per date holds."""
    days, tables, bookings, date_of, market = late.days, late.tables, late.bookings, late.date_of, late.market
    index = late.open_index()
    gate_days = _GateDays(late, index)
    coach_leaves: dict[str, list[dt.datetime]] = defaultdict(list)
    for day, n in index.items():
        for bus in days[n].plan.buses:
            coach_leaves[bus.coach_id].append(trip_of(tables[day], bus).leaves)
    waiting = sorted(late.on_fallback(), key=lambda i: (bookings[i].last, -bookings[i].size, i))
    changed: set[dt.date] = set()
    for i in waiting:
        if time.monotonic() > deadline:
            break
        b, old = bookings[i], date_of[i]
        spare = b.size * b.fallback_cost
        for day in sorted(market.dates_of(b), key=lambda d: (abs((d - old).days), d)):
            if day not in index or not gate_days.may_move(b, old, day):
                continue
            buses = list(days[index[day]].plan.buses)
            area_of = gate_days.areas[day]
            if seat_on(buses, tables[day], b, coach_leaves, area_of, add_stops=True, max_extra=spare) is None:
                continue
            _move_booking(days, index, b, old, day, buses)
            gate_days.move(b, old, day)
            date_of[i] = day
            changed |= {old, day}
            break
    return changed


def fallback_to_larger_coaches(late: LateSeating, deadline: float) -> tuple[set[dt.date], int]:
    """After free seats: a full bus driven by a larger coach instead, where the fallback bookings it then seats
    (of any open date of their window, at its stops or at a stop added within the limits) cost more than the
    larger coach and their boarding add. Full buses of a smaller coach are what pooled remnants fill on a date;
    the bookings on fallback around it are what a few more seats carry, at the larger coach's extra price a seat
    (a 35-seat coach to Dongguan made a 53-seat one: about 100 CNY a seat more against a 220 CNY ticket).

    A coach of the larger type must be free over the whole trip (no more of the type on the road at any moment
    of it than the contract has: the coaches are named again afterwards). Returns the dates changed and how many
    buses changed coach."""
    days, tables, bookings, date_of, market = late.days, late.tables, late.bookings, late.date_of, late.market
    index = late.open_index()
    gate_days = _GateDays(late, index)
    fleet = sorted((b for b in late.whole.fleet if b.count > 0), key=lambda b: b.seats)
    on_road: dict[str, list[Trip]] = defaultdict(list)
    for trip in [*late.kept_trips, *(trip_of(tables[d], b) for d, n in index.items() for b in days[n].plan.buses)]:
        on_road[trip.vehicle_type].append(trip)
    waiting = set(late.on_fallback())
    open_dates = {i: frozenset(market.dates_of(bookings[i])) for i in waiting}
    changed: set[dt.date] = set()
    retyped_buses = 0
    # The buses with most fallback at their own stops first: they pay for a larger coach most surely.
    at_stops: defaultdict[tuple[dt.date, str, str], float] = defaultdict(float)
    for i in waiting:
        for day in open_dates[i]:
            at_stops[(day, bookings[i].lane, bookings[i].factory_id)] += bookings[i].size * bookings[i].fallback_cost
    order = sorted(
        ((day, n, k) for day, n in index.items() for k in range(len(days[n].plan.buses))),
        key=lambda dnk: -_value_at_stops(at_stops, dnk[0], days[dnk[1]].plan.buses[dnk[2]]),
    )
    for day, n, k in order:
        if time.monotonic() > deadline:
            return changed, retyped_buses
        timetable = tables[day]
        bus = days[n].plan.buses[k]
        lanes = {s.place_id for s in bus.stops if s.kind == "pickup"}
        gates = {s.place_id for s in bus.stops if s.kind == "dropoff"}
        area_of = gate_days.areas[day]
        near = [
            i for i in waiting
            if day in open_dates[i] and in_area_of(bus, bookings[i], area_of)
            and (bookings[i].lane in lanes or len(lanes) < market.max_pickups)
            and (bookings[i].factory_id in gates or len(gates) < market.max_gates)
        ]  # fmt: skip
        if not near:
            continue
        # Bookings at the bus's stops first, then the dearest fallback.
        near.sort(key=lambda i: (bookings[i].lane not in lanes or bookings[i].factory_id not in gates,
                                 -bookings[i].size * bookings[i].fallback_cost, i))  # fmt: skip
        best: tuple[float, Bus, list[int], Trip] | None = None
        for coach in (c for c in fleet if c.seats > bus.seats and c.available_on(day)):
            grown, seated = retyped(timetable, coach, bus), []
            saving = bus.cost - grown.cost
            for i in near:
                b = bookings[i]
                if not gate_days.may_move(b, date_of[i], day):
                    continue
                bigger = with_booking(timetable, coach, grown, b, area_of, add_stops=True)
                if bigger is not None and bigger.cost - grown.cost < b.size * b.fallback_cost:
                    saving += b.size * b.fallback_cost - (bigger.cost - grown.cost)
                    grown = bigger
                    seated.append(i)
                    gate_days.move(b, date_of[i], day)  # so that the next booking sees it moved
            for i in seated:  # undone: the best coach's are moved below
                gate_days.move(bookings[i], day, date_of[i])
            if not seated or saving <= 0 or (best is not None and saving <= best[0]):
                continue
            trip = trip_of(timetable, grown)
            if _busiest(on_road[coach.vehicle_type], trip) < coach.count:
                best = (saving, grown, seated, trip)
        if best is None:
            continue
        _, grown, seated, trip = best
        on_road[bus.vehicle_type] = [t for t in on_road[bus.vehicle_type] if t.bus_id != bus.bus_id]
        on_road[grown.vehicle_type].append(trip)
        buses = list(days[n].plan.buses)
        buses[k] = grown
        for i in seated:
            b, old = bookings[i], date_of[i]
            _move_booking(days, index, b, old, day, buses)
            gate_days.move(b, old, day)
            date_of[i] = day
            waiting.discard(i)
            changed |= {old, day}
        retyped_buses += 1
    return changed, retyped_buses


def _value_at_stops(at_stops: dict[tuple[dt.date, str, str], float], day: dt.date, bus: Bus) -> float:
    """The fallback cost of who may leave on ``day`` from a boarding place of ``bus`` to one of its gates."""
    lanes = {s.place_id for s in bus.stops if s.kind == "pickup"}
    gates = {s.place_id for s in bus.stops if s.kind == "dropoff"}
    return sum(at_stops.get((day, lane, gate), 0.0) for lane in lanes for gate in gates)


def _busiest(trips: Sequence[Trip], during: Trip) -> int:
    """The most of ``trips`` on the road at one moment of ``during``."""
    events = sorted(
        (moment, step)
        for t in trips
        if t.leaves < during.back and t.back > during.leaves
        for moment, step in ((max(t.leaves, during.leaves), 1), (t.back, -1))
    )
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


class _GateDays:
    """What a booking moving between open dates must keep: its gate's cap on the day it arrives, and every
    date's destination areas (the day checker clusters the date's gates again). It joins a date only where others
    are bound for its gate already; where it leaves a date with nobody bound for its gate, that date's gates are
    clustered again, and every bus of the date must still drop off in one area."""

    def __init__(self, late: LateSeating, index: dict[dt.date, int]) -> None:
        days = late.days
        self.days, self.index, self.market, self.travel = days, index, late.market, late.travel
        self.bound_for = Counter((day, t.factory_id) for day, n in index.items() for t in days[n].problem.travellers)
        self._known: dict[tuple[str, ...], dict[str, str]] = {}  # gates -> their areas
        self._measured = FactoryKm(late.whole.factories, late.travel)
        self.areas = {day: self._clustered(day) for day in index}  # each date's, as ``destination_areas`` has them
        self.arrivals = _arrivals(late.bookings, late.date_of)

    def may_move(self, b: Booking, old: dt.date, new: dt.date) -> bool:
        if old == new:
            return True
        arrive = new + dt.timedelta(days=b.arrival_offset)
        cap = self.market.gate_cap.get(b.factory_id)
        if cap is not None and self.arrivals[(b.factory_id, arrive)] + b.size > cap:
            return False
        if self.bound_for[(new, b.factory_id)] <= 0:
            return False
        if self.bound_for[(old, b.factory_id)] > b.size:
            return True
        buses = self.days[self.index[old]].plan.buses
        gates = [{s.place_id for s in bus.stops if s.kind == "dropoff"} for bus in buses]
        return each_in_one_area(gates, self._clustered(old, without=b.factory_id))

    def move(self, b: Booking, old: dt.date, new: dt.date) -> None:
        for day, sign in ((old, -1), (new, 1)):
            self.arrivals[(b.factory_id, day + dt.timedelta(days=b.arrival_offset))] += sign * b.size
            was = self.bound_for[(day, b.factory_id)]
            self.bound_for[(day, b.factory_id)] += sign * b.size
            if (was > 0) != (self.bound_for[(day, b.factory_id)] > 0):  # the gate left the date, or came back
                self.areas[day] = self._clustered(day)

    def _clustered(self, day: dt.date, without: str = "") -> dict[str, str]:
        problem = self.days[self.index[day]].problem
        gates = tuple(sorted(f for (d, f), n in self.bound_for.items() if d == day and n > 0 and f != without))
        if gates not in self._known:
            factories = [problem.factory(f) for f in gates]
            self._known[gates] = cluster_factories(factories, self.travel, problem.rules.area_radius_km, self._measured)
        return self._known[gates]


def fallback_to_new_coaches(late: LateSeating, deadline: float) -> tuple[set[dt.date], int]:
    """After free seats: the bookings still sent by fallback pooled onto new coaches across the open dates of
    their windows (``fallback_pool``), each riding its coach's date. Returns the dates changed and the coaches
    added."""
    days, bookings, date_of = late.days, late.bookings, late.date_of
    index = late.open_index()
    dates = {day: open_date(days[n].problem, days[n].plan, late.tables[day], late.travel) for day, n in index.items()}
    trips = [*late.kept_trips, *(trip_of(dates[d.plan.date].timetable, b) for d in days if not d.kept
                                 for b in d.plan.buses)]  # fmt: skip
    arrivals = _arrivals(bookings, date_of)
    made = pool_fallback(late.on_fallback(), bookings, date_of, late.market, dates, trips, arrivals, deadline)
    moved = {i: new.day for new in made for i in new.bookings}
    leaving: dict[dt.date, set[str]] = defaultdict(set)
    coming: dict[dt.date, list[Traveller]] = defaultdict(list)
    by_id = {t.traveller_id: t for t in late.whole.travellers}
    for i, day in moved.items():
        if date_of[i] != day:
            leaving[date_of[i]].update(bookings[i].traveller_ids)
            coming[day].extend(by_id[t] for t in bookings[i].traveller_ids)
    seated = {t for i in moved for t in bookings[i].traveller_ids}
    changed = {date_of[i] for i in moved} | set(moved.values())
    for day in changed:  # each date rebuilt once: who leaves on it, its new coaches, its fallback less them
        was = days[index[day]]
        riders = [t for t in was.problem.travellers if t.traveller_id not in leaving[day]] + coming[day]
        problem = replace(was.problem, travellers=tuple(sorted(riders, key=lambda t: t.traveller_id)))
        buses = list(was.plan.buses)
        number = max((int(b.bus_id.rsplit("-", 1)[-1]) for b in buses), default=0)
        for k, new in enumerate((new for new in made if new.day == day), start=number + 1):
            buses.append(replace(new.bus, bus_id=f"{day:%m%d}-{k:03d}"))
        fallback = tuple(f for f in was.plan.fallback if f.traveller_id not in seated)
        days[index[day]] = replace(was, problem=problem, plan=repriced(was.plan, tuple(buses), fallback, problem))
    date_of.update(moved)
    return changed, len(made)


def _arrivals(bookings: Sequence[Booking], date_of: dict[int, dt.date]) -> Counter[tuple[str, dt.date]]:
    """How many each gate receives on each date."""
    arrivals: Counter[tuple[str, dt.date]] = Counter()
    for i, day in date_of.items():
        b = bookings[i]
        arrivals[(b.factory_id, day + dt.timedelta(days=b.arrival_offset))] += b.size
    return arrivals


def _move_booking(
    days: list[Day], index: dict[dt.date, int], b: Booking, old: dt.date, new: dt.date, buses: list[Bus]
) -> None:
    """``b`` off its fallback on ``old`` and onto ``buses`` (the new date's, with it aboard) on ``new``."""
    ids = set(b.traveller_ids)
    was = days[index[old]]
    people = [t for t in was.problem.travellers if t.traveller_id in ids]
    fallback = tuple(f for f in was.plan.fallback if f.traveller_id not in ids)
    if old == new:
        days[index[old]] = replace(was, plan=repriced(was.plan, tuple(buses), fallback, was.problem))
        return
    problem = replace(was.problem, travellers=tuple(t for t in was.problem.travellers if t.traveller_id not in ids))
    days[index[old]] = replace(was, problem=problem, plan=repriced(was.plan, was.plan.buses, fallback, problem))
    now = days[index[new]]
    riders = tuple(sorted((*now.problem.travellers, *people), key=lambda t: t.traveller_id))
    problem = replace(now.problem, travellers=riders)
    days[index[new]] = replace(now, problem=problem, plan=repriced(now.plan, tuple(buses), now.plan.fallback, problem))
