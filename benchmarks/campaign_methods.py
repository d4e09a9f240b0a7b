"""The campaign benchmark's methods besides ``plan_campaign`` itself: a dispatcher's manual campaign and a lower
bound. Each returns what ``benchmarks.campaign_run`` measures.

``manual``: what a county office does by hand. Each township-factory flow is taken on its own: its registrations
are gathered around the date that the most of them can take (inside their windows, and early enough to reach the
gate by the report date), ties to the earliest; those fill coaches, the largest while more are left than it
seats, then the smallest that fits; a remainder below the charter threshold, and a gathering below it, are
reimbursed (township transport or ticket, as the rule says). Then the next date for the flow's people left. The
dates are then driven in order with the coaches that are back (``scheduler.campaign.free_fleet``); where none is,
the riders are reimbursed too. Groups are never split across dates; a group larger than a coach fills several.

``bound``: a lower bound on the charter and fallback cost (subsidies excluded) of any campaign plan. Every
campaign plan is also a plan of one merged day on which each traveller may leave (each keeps the length of their
own window, from that day), with the contract's coaches counted once for every date of the campaign (a coach
makes at most one trip a day, as the day planner counts the fleet each morning): each of the campaign's coaches
is a coach of the merged day, costing the same, carrying the same riders, and everyone else pays the same
fallback. The county day benchmark's bound (``county_methods.lower_bound``: the larger of an aggregate MIP and a
configuration LP over whole coach loads, each a relaxation of every plan of a day under the county's rules) of
that merged day is therefore a lower bound of the campaign. It drops the dates altogether (a perfect date choice
with unlimited waiting), so the gap to it also measures what the windows cost.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from scheduler.areas import destination_areas
from scheduler.campaign import Campaign, campaign_bookings, campaign_travellers, free_fleet
from scheduler.check import check_plan
from scheduler.coaches import Trip, assign_coaches, trip_of
from scheduler.dates import Booking
from scheduler.fallback import Unserved, fallback_lines, flow_sizes, subsidies
from scheduler.grouping import Party
from scheduler.late_seating import Day
from scheduler.model import BusType, Problem, Scenario
from scheduler.plan import Bus, Plan, Stop
from scheduler.timetable import Timetable
from scheduler.travel import GeodesicTravel

# Longer than any trip of the fixture's destinations (Kunshan: out one day, back the next).
HORIZON = dt.timedelta(days=3)


def run_manual(scenario: Scenario, start: dt.date, end: dt.date) -> Campaign:
    """The manual campaign (module docstring)."""
    started = time.monotonic()
    travel = GeodesicTravel()
    travellers = campaign_travellers(scenario, start, end)
    whole = Problem(start, scenario.townships, scenario.factories, tuple(travellers), scenario.fleet, scenario.rules)
    timetable = Timetable(whole, travel)
    bookings, overdue = campaign_bookings(timetable, travellers, start, end, destination_areas(whole, travel))
    rules = scenario.rules
    by_stream: dict[tuple[str, str, str], list[Booking]] = defaultdict(list)
    for b in bookings:
        by_stream[b.stream].append(b)
    # date -> the coach loads wanted (each a list of bookings' travellers) and who is reimbursed
    loads: dict[dt.date, list[list[Booking]]] = defaultdict(list)
    off: dict[dt.date, list[tuple[Booking, str]]] = defaultdict(list)  # (booking, fallback cause)
    date_of: dict[int, dt.date] = {}
    for stream in sorted(by_stream):
        pool = sorted(by_stream[stream], key=lambda b: (b.last, b.traveller_ids))
        while pool:
            day = max(
                sorted({d for b in pool for d in b.dates()}),
                key=lambda d: sum(b.size for b in pool if b.first <= d <= b.last),
            )
            gathered = [b for b in pool if b.first <= day <= b.last]
            pool = [b for b in pool if not b.first <= day <= b.last]
            for b in gathered:
                date_of[id(b)] = day
            coaches, rest = _fill(gathered, [b for b in scenario.fleet if b.count > 0], rules.charter_min_group)
            loads[day].extend(coaches)
            off[day].extend((b, "pool") for b in rest)  # fallback_lines tells a small flow from no seat

    days: list[Day] = []
    trips: list[Trip] = []
    flows = flow_sizes(travellers)
    by_id = {t.traveller_id: t for t in travellers}
    for k in range((end - start).days + 1):
        day = start + dt.timedelta(days=k)
        riders = [t for group in loads.get(day, []) for b in group for t in b.traveller_ids]
        riders += [t for b, _ in off.get(day, []) for t in b.traveller_ids]
        problem = replace(whole, date=day, travellers=tuple(by_id[t] for t in sorted(riders)))
        table = Timetable(problem, travel)
        left = {b.vehicle_type: b.count for b in free_fleet(scenario.fleet, trips, day, rules.depart_from_s, HORIZON)}
        buses: list[Bus] = []
        unserved = [Unserved(_party(b), cause) for b, cause in off.get(day, [])]
        for group in loads.get(day, []):
            size = sum(b.size for b in group)
            coach = _smallest_free(scenario.fleet, left, size)
            first = group[0]
            ids = tuple(t for b in group for t in b.traveller_ids)
            stops = (
                Stop(first.lane, table.place(first.lane).name, "pickup", 0, 0, ids, ()),
                Stop(first.factory_id, table.factory(first.factory_id).name, "dropoff", 0, 0, (), ids),
            )
            bus = table.make_bus(coach, first.area, stops, f"{day:%m%d}-{len(buses) + 1:03d}") if coach else None
            if bus is None:
                unserved.extend(Unserved(_party(b), "no_seat") for b in group)
                continue
            left[bus.vehicle_type] -= 1
            buses.append(bus)
            trips.append(trip_of(table, bus))
        fallback = tuple(fallback_lines(table, unserved, flows))
        unplaced = {f.traveller_id for f in fallback if f.mode == "unplaced"}
        plan = Plan(day, tuple(buses), fallback, subsidies(problem, unplaced), {})
        plan = replace(plan, stats={"violations": len(check_plan(problem, plan, travel))})
        days.append(Day(problem, plan))
    named = assign_coaches(trips, scenario.fleet)
    days = [
        replace(d, plan=replace(d.plan, buses=tuple(replace(b, coach_id=named.coach_of.get(b.bus_id, ""))
                                                   for b in d.plan.buses)))
        for d in days
    ]  # fmt: skip
    waiting = sum(b.size * (date_of[id(b)] - b.first).days for b in bookings if id(b) in date_of)
    stats = {"solve_s": round(time.monotonic() - started, 2), "coaches_short": len(named.short)}
    return Campaign(start, end, tuple(days), tuple(trips), tuple(overdue), waiting, stats)


def _fill(
    gathered: list[Booking], fleet: Sequence[BusType], threshold: int
) -> tuple[list[list[Booking]], list[Booking]]:
    """Coach loads of one flow's gathering: the largest coach while more are left than it seats, then the smallest
    that fits; groups whole (a group larger than the largest coach fills coaches of its own, its last part with
    the rest). What stays below the threshold is returned to be reimbursed."""
    largest = max((b.seats for b in fleet), default=0)
    if largest == 0:
        return [], list(gathered)
    pieces: list[Booking] = []
    for b in sorted(gathered, key=lambda b: -b.size):
        ids = b.traveller_ids
        while len(ids) > largest:
            pieces.append(replace(b, traveller_ids=ids[:largest]))
            ids = ids[largest:]
        pieces.append(replace(b, traveller_ids=ids))
    loads: list[list[Booking]] = []
    pool = sorted(pieces, key=lambda b: -b.size)
    while sum(b.size for b in pool) >= threshold:
        total = sum(b.size for b in pool)
        seats = largest if total > largest else min(b.seats for b in fleet if b.seats >= total)
        load, rest, free = [], [], seats
        for b in pool:
            if b.size <= free:
                load.append(b)
                free -= b.size
            else:
                rest.append(b)
        if sum(b.size for b in load) < threshold:
            break
        loads.append(load)
        pool = rest
    return loads, pool


def _smallest_free(fleet: Sequence[BusType], left: dict[str, int], riders: int) -> BusType | None:
    """The smallest coach with a free one that seats ``riders``."""
    fits = sorted((b for b in fleet if b.seats >= riders and left.get(b.vehicle_type, 0) > 0), key=lambda b: b.seats)
    return fits[0] if fits else None


def _party(b: Booking) -> Party:
    arrive_by = b.last + dt.timedelta(days=b.arrival_offset)
    return Party(b.township_id, b.factory_id, b.traveller_ids, "", b.size, arrive_by)


def merged_day(scenario: Scenario, start: dt.date, end: dt.date) -> Problem:
    """The merged day of the bound (module docstring): everyone may leave on ``start``, keeping their window's
    length, with the coaches counted once per date of the campaign."""
    dates = (end - start).days + 1
    travellers = tuple(
        replace(t, earliest_date=start, report_date=start + (t.report_date - max(t.earliest_date, start)))
        for t in campaign_travellers(scenario, start, end)
    )
    all_dates = [start + dt.timedelta(days=k) for k in range(dates)]
    fleet = tuple(
        replace(b, count=b.count * sum(b.available_on(d) for d in all_dates), available_from=None, available_until=None)
        for b in scenario.fleet
    )
    return Problem(start, scenario.townships, scenario.factories, travellers, fleet, scenario.rules)
