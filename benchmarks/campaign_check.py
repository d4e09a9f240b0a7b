"""An independent checker of campaign plans: the campaign's rules read again from the scenario, none of the
planner's campaign code, coach naming or timetable.

Each day's plan is checked by ``benchmarks.check.check_county_plan`` (itself independent of the planner's day
checker); across the days: every traveller once, on a date inside both their window and the campaign, arriving
by the report date, groups on one date, each coach of its contract's type and on one trip at a time (its trip
recomputed here from the stops: the drive out from the depot, the run home after the last stop, a day out and a
day back where the crew's day is too short), and at no moment more coaches of a type on the road than the
contract has, counted only on dates the type may be used.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

from benchmarks.check import check_county_plan
from benchmarks.county_day import DAY_S, CountyDay
from scheduler.campaign import Campaign
from scheduler.model import Scenario
from scheduler.plan import Bus

CAMPAIGN_CHECKS = (
    "once",  # every traveller whose window meets the campaign: once, on a bus, in a fallback or overdue
    "window",  # the departure date inside the traveller's window and the campaign
    "report",  # a bus rider's gate reached no later than the report date
    "groups_apart",  # a registered group's members on more than one date
    "coach_type",  # a bus's coach is one of its type's contracted coaches
    "coach_overlap",  # a coach on two trips at once
    "fleet",  # more coaches of a type on the road at some moment than the contract has, or outside its dates
    "day_rules",  # violations of each day's rules (benchmarks.check.check_county_plan), summed
)


Trip = tuple[str, str, dt.datetime, dt.datetime, dt.date]  # coach, type, leaves, back, date


def check_campaign(
    scenario: Scenario,
    campaign: Campaign,
    elsewhere: Mapping[str, dt.date] | None = None,
    extra_trips: Sequence[Trip] = (),
) -> dict[str, int]:
    """Count the violations of ``campaign``, a plan of ``scenario``; all zero for a valid campaign.

    In a region (``benchmarks.region_check``): ``elsewhere`` holds the county's travellers placed on a bus its
    campaign does not list (another county's coach), by date; ``extra_trips`` the trips its coaches drive for
    other counties, which count for its fleet."""
    found = dict.fromkeys(CAMPAIGN_CHECKS, 0)
    expected = {
        t.traveller_id: t
        for t in scenario.travellers
        if t.earliest_date <= campaign.end and t.report_date >= campaign.start
    }
    seen: Counter[str] = Counter(o.traveller_id for o in campaign.overdue)
    date_of: dict[str, dt.date] = {}
    trips: list[Trip] = list(extra_trips)
    for day in campaign.days:
        plan, date = day.plan, day.plan.date
        away = [t for t, d in (elsewhere or {}).items() if d == date]
        counts = check_county_plan(CountyDay(day.problem), plan, away)
        # A published bus keeps running when cancellations take it below the threshold.
        found["day_rules"] += sum(n for kind, n in counts.items() if not (day.kept and kind == "below_threshold"))
        county = CountyDay(day.problem)
        for bus in plan.buses:
            for stop in bus.stops:
                for tid in stop.alight:
                    person = expected.get(tid)
                    arrives = date + dt.timedelta(days=stop.arrival_s // DAY_S)
                    found["report"] += person is not None and arrives > person.report_date
            trips.append((bus.coach_id, bus.vehicle_type, *trip_of(county, bus, date), date))
        for tid in [t for b in plan.buses for t in b.traveller_ids] + [f.traveller_id for f in plan.fallback]:
            seen[tid] += 1
            date_of[tid] = date
    for tid, date in (elsewhere or {}).items():
        seen[tid] += 1
        date_of[tid] = date
    found["once"] = sum(1 for t in expected if seen[t] != 1) + sum(1 for t in seen if t not in expected)
    for tid, date in date_of.items():
        person = expected.get(tid)
        if person is not None:
            first = max(person.earliest_date, campaign.start)
            last = min(person.report_date, campaign.end)
            found["window"] += not first <= date <= last
    groups: dict[tuple[str, str, str], set[dt.date]] = defaultdict(set)
    for tid, person in expected.items():
        if person.group_id and tid in date_of:
            groups[(person.group_id, person.township_id, person.factory_id)].add(date_of[tid])
    found["groups_apart"] = sum(len(dates) > 1 for dates in groups.values())
    _check_coaches(scenario, trips, found)
    return found


def trip_of(day: CountyDay, bus: Bus, date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """When the bus's coach leaves the depot and is back, from its stops."""
    rules = day.rules
    places = [day.place(s.place_id) for s in bus.stops]
    leaves_s = bus.stops[0].arrival_s - day.with_rests_s(day.leg(day.depot, places[0]).drive_s)
    out_s = sum(day.leg(a, b).drive_s for a, b in itertools.pairwise([day.depot, *places]))
    home_s = day.leg(places[-1], day.depot).drive_s
    home_from = bus.stops[-1].departure_s
    if out_s + home_s > bus.drivers * rules.second_driver_hours * 3600:
        home_from = max(home_from, leaves_s + DAY_S)  # the crew rests a night away
    midnight = dt.datetime.combine(date, dt.time())
    return midnight + dt.timedelta(seconds=leaves_s), midnight + dt.timedelta(
        seconds=home_from + day.with_rests_s(home_s)
    )


def _check_coaches(scenario: Scenario, trips: list[Trip], found: dict[str, int]) -> None:
    fleet = {b.vehicle_type: b for b in scenario.fleet}
    by_coach: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for coach, vehicle_type, leaves, back, date in trips:
        contract = fleet.get(vehicle_type)
        numbers = {f"{vehicle_type}-{n:03d}" for n in range(1, (contract.count if contract else 0) + 1)}
        found["coach_type"] += coach not in numbers
        if contract is not None:
            found["fleet"] += not (contract.available_from or date) <= date <= (contract.available_until or date)
        by_coach[coach].append((leaves, back))
    for its in by_coach.values():
        its.sort()
        found["coach_overlap"] += sum(after[0] < before[1] for before, after in itertools.pairwise(its))
    # A sweep over every trip's leaving: the trips of its type that have left and are not back.
    for vehicle_type, contract in fleet.items():
        its = [(leaves, back) for _, v, leaves, back, _ in trips if v == vehicle_type]
        busiest = max((sum(a <= t < b for a, b in its) for t, _ in its), default=0)
        found["fleet"] += max(0, busiest - contract.count)
