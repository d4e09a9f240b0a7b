"""plan_campaign(scenario, start, end) -> Campaign: the whole return season, not one day.

The pipeline:

1. bookings: registered groups (and people alone) with the dates they may leave on, inside the campaign, from
   which a coach reaches their gate by the report date; who has no such date is overdue, with the reason;
2. dates (``scheduler.dates``): each booking's date, so that small flows bound for one area meet and fill
   coaches, within gate caps and the coaches under contract;
3. the days in date order, each by the day planner (``solve``) with the coaches that are free that morning:
   under contract for the date (``available_from``/``available_until``) and not still on the road from an
   earlier trip;
4. coaches named over the whole campaign (``assign_coaches``), never one on two trips at once;
5. the late steps (``scheduler.late_seating``): who the days sent by fallback onto buses with room, onto full
   buses driven by larger coaches, or onto new coaches pooled across their dates; on re-planning, a published
   day's free seats first.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.areas import destination_areas
from scheduler.check import check_plan
from scheduler.coaches import CoachAssignment, Trip, assign_coaches, trip_of
from scheduler.dates import Booking, CoachPrice, DateMarket, choose_dates
from scheduler.fallback import fallback_cost
from scheduler.late_seating import (
    Day,
    LateSeating,
    fallback_to_free_seats,
    fallback_to_larger_coaches,
    fallback_to_new_coaches,
    offer_free_seats,
    repriced,
)
from scheduler.messages import Message
from scheduler.model import BusType, Problem, Scenario, Traveller
from scheduler.plan import Plan, Stop
from scheduler.solve import SolveParams, solve
from scheduler.timetable import Timetable
from scheduler.travel import GeodesicTravel, TravelModel

ProgressCallback = Callable[[float, Message], None]
log = logging.getLogger(__name__)
LOCAL_TIME = ZoneInfo("Asia/Shanghai")
# What a pooled coach's each stop past one pickup and one gate adds to its direct price, for choosing dates: the
# county's townships and an area's gates lie tens of km apart on a trip of many hundreds.
DETOUR_PER_STOP = 0.04
# Share of the time limit kept, after the days, for seating fallback travellers on buses with room, on larger
# coaches and on new coaches (``late_seating``), and checking the dates that changed again: the first 20% of it
# to seat, the next 30% for larger coaches, the next 40% to pool.
LATE_SEATING_RESERVE = 0.2


@dataclass(frozen=True, slots=True)
class CampaignParams:
    """How hard to work. ``time_limit_s`` bounds the whole campaign."""

    time_limit_s: float = 120.0
    workers: int = 2
    # False: every traveller leaves on the first date they can (the day-by-day behaviour, a benchmark's baseline).
    choose_dates: bool = True
    # Share of the time limit for choosing dates; the rest is shared among the dates by their travellers.
    dates_share: float = 0.1
    # Once every date is planned, seat who the day planner sent by fallback on a bus with room on another date of
    # their window, and pool the rest onto new coaches across their dates (False: the day-by-day baseline, which
    # never looks back).
    late_seating: bool = True


@dataclass(frozen=True, slots=True)
class Overdue:
    """A traveller the campaign has no date for: ``cause`` is unreachable, gate_full or group_apart."""

    traveller_id: str
    cause: str
    params: dict[str, Any]

    @property
    def message(self) -> Message:
        return Message(f"overdue_{self.cause}", self.params)

    @property
    def reason(self) -> str:
        return self.message.en

    @property
    def reason_zh(self) -> str:
        return self.message.zh


@dataclass(frozen=True, slots=True)
class Campaign:
    start: dt.date
    end: dt.date
    days: tuple[Day, ...]
    trips: tuple[Trip, ...]  # every bus's coach trip, depot to depot
    overdue: tuple[Overdue, ...]
    wait_person_days: int
    stats: dict[str, Any] = field(default_factory=dict)

    def coaches(self) -> dict[str, list[tuple[Trip, dt.date]]]:
        """coach_id -> its trips in order, each with its bus's date."""
        coach_of = {b.bus_id: (b.coach_id, d.plan.date) for d in self.days for b in d.plan.buses}
        out: dict[str, list[tuple[Trip, dt.date]]] = defaultdict(list)
        for trip in sorted(self.trips, key=lambda t: t.leaves):
            name, day = coach_of[trip.bus_id]
            out[name].append((trip, day))
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        """campaign.json."""
        days = [{"date": d.plan.date.isoformat(), **day_summary(d.plan)} for d in self.days]
        totals: dict[str, Any] = {k: sum(day[k] for day in days) for k in _MONEY_KEYS}
        for k in _COST_KEYS:
            totals[k] = round(totals[k], 2)
        seats = sum(b.seats for d in self.days for b in d.plan.buses)
        totals["seat_fill"] = round(totals["on_buses"] / seats, 4) if seats else 0.0
        totals["wait_person_days"] = self.wait_person_days
        totals["overdue"] = len(self.overdue)
        coaches = [
            {
                "coach_id": name,
                "vehicle_type": trips[0][0].vehicle_type,
                "trips": [
                    {"bus_id": t.bus_id, "date": day.isoformat(), "leaves": _iso(t.leaves), "back": _iso(t.back)}
                    for t, day in trips
                ],
            }
            for name, trips in self.coaches().items()
        ]
        overdue = [
            {
                "traveller_id": o.traveller_id,
                "cause": o.cause,
                "params": o.params,
                "reason": o.reason,
                "reason_zh": o.reason_zh,
            }
            for o in self.overdue
        ]
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": days,
            "coaches": coaches,
            "overdue": overdue,
            "totals": totals,
            "stats": self.stats,
        }


_COST_KEYS = ("charter_cost", "reimbursement_cost", "ticket_cost", "subsidy_cost", "total_cost")
_MONEY_KEYS = ("travellers", "buses", "on_buses", *_COST_KEYS)


def day_summary(plan: Plan) -> dict[str, Any]:
    """A date's line of campaign.json's days (without the date)."""
    t = plan.totals
    return {
        "travellers": t.travellers,
        "buses": t.buses,
        "on_buses": t.on_buses,
        **{k: round(getattr(t, k), 2) for k in _COST_KEYS},
        "seat_fill": t.seat_fill,
    }


def _iso(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=LOCAL_TIME).isoformat(timespec="minutes")


def campaign_travellers(scenario: Scenario, start: dt.date, end: dt.date) -> list[Traveller]:
    """Whoever's window [earliest_date, report_date] meets [start, end]."""
    return [t for t in scenario.travellers if t.earliest_date <= end and t.report_date >= start]


def plan_campaign(
    scenario: Scenario,
    start: dt.date,
    end: dt.date,
    params: CampaignParams | None = None,
    travel: TravelModel | None = None,
    on_progress: ProgressCallback | None = None,
    kept: Sequence[Plan] = (),
    open_from: dt.date | None = None,
) -> Campaign:
    """Plan every traveller whose window meets [start, end] exactly once: on a date's bus or fallback, or overdue.

    Re-planning: ``kept`` are published day plans. Their buses and coaches stay as they are, less riders who are
    no longer registered; their free seats go first to unplanned travellers of a township (or assembly point) and
    factory the bus serves, where its timetable absorbs them; nobody new leaves on a kept date otherwise, nor
    before ``open_from`` (today: a date that has passed). Travellers on a kept plan stay where they are.

    Raises:
        ValueError: ``end`` is before ``start``, or a kept plan's date is outside them.
    """
    if end < start:
        raise ValueError(f"Expected the campaign to end on or after it starts, got {start} .. {end}.")
    if any(not start <= p.date <= end for p in kept):
        raise ValueError(f"Expected every kept plan's date within {start} .. {end}.")
    started = time.monotonic()
    params = params or CampaignParams()
    travel = travel or GeodesicTravel()
    report = on_progress or _silent
    travellers = campaign_travellers(scenario, start, end)
    by_id = {t.traveller_id: t for t in travellers}
    dates = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
    report(0.0, Message("campaign_start", {"travellers": len(travellers), "dates": len(dates)}))

    whole = Problem(start, scenario.townships, scenario.factories, tuple(travellers), scenario.fleet, scenario.rules)
    timetable = Timetable(whole, travel)
    kept_plans = {p.date: _without_cancelled(p, replace(whole, date=p.date), travel) for p in kept}
    placed = {t for p in kept_plans.values() for t in _traveller_ids(p)}
    bookings, overdue = campaign_bookings(
        timetable, [t for t in travellers if t.traveller_id not in placed], start, end,
        destination_areas(whole, travel),
    )  # fmt: skip
    day_tables = {d: Timetable(replace(whole, date=d), travel) for d in kept_plans}
    coach_leaves: dict[str, list[dt.datetime]] = defaultdict(list)
    for d, plan in kept_plans.items():
        for bus in plan.buses:
            coach_leaves[bus.coach_id].append(trip_of(day_tables[d], bus).leaves)
    seated: set[int] = set()
    for day, plan in sorted(kept_plans.items()):
        kept_plans[day] = offer_free_seats(plan, day_tables[day], bookings, seated, coach_leaves)
    kept_trips = [trip_of(day_tables[d], b) for d, p in kept_plans.items() for b in p.buses]

    closed = frozenset(kept_plans) | frozenset(d for d in dates if open_from is not None and d < open_from)
    market = date_market(timetable, bookings, dates, closed)
    waiting_list = []
    for i, b in enumerate(bookings):
        if i in seated:
            continue
        if market.dates_of(b):
            waiting_list.append(i)
            continue
        cause = "report_passed" if open_from is not None and b.last < open_from else "dates_published"
        factory = timetable.factory(b.factory_id)
        where = {
            "factory": factory.name,
            "city": factory.city,
            "first": b.first.isoformat(),
            "last": b.last.isoformat(),
        }
        overdue.extend(Overdue(t, cause, where) for t in b.traveller_ids)
    to_choose = [bookings[i] for i in waiting_list]
    choice = choose_dates(to_choose, market, params.dates_share * params.time_limit_s, search=params.choose_dates)
    date_of = {waiting_list[j]: day for j, day in choice.date_of.items()}
    for j, b in enumerate(to_choose):
        if j not in choice.date_of:
            gate = {"factory": timetable.factory(b.factory_id).name, "first": b.first.isoformat(),
                    "last": b.last.isoformat()}  # fmt: skip
            overdue.extend(Overdue(t, "gate_full", gate) for t in b.traveller_ids)
    report(params.dates_share, Message("campaign_dates", {"bookings": len(bookings), "moves": choice.moves}))

    leaving: dict[dt.date, list[str]] = defaultdict(list)
    for i, day in date_of.items():
        leaving[day].extend(bookings[i].traveller_ids)
    days: list[Day] = []
    trips: list[Trip] = []
    left = sum(len(v) for v in leaving.values())
    # Longer than any trip of a day: the longest direct trip's days away, and a day for pooled detours.
    horizon = dt.timedelta(days=max(market.days_away.values(), default=1) + 1)
    for index, day in enumerate(dates):
        share0 = params.dates_share + (1 - params.dates_share) * index / len(dates)
        if day in kept_plans:
            problem = _day_problem(whole, day, kept_plans[day], by_id)
            # A published bus runs even where cancellations took it below the threshold.
            broken = [v for v in check_plan(problem, kept_plans[day], travel) if v.kind != "threshold"]
            if broken:
                log.error("Kept plan of %s breaks %d rules (a planner bug), e.g. %s", day, len(broken), broken[0])
            plan = replace(kept_plans[day], stats={**kept_plans[day].stats, "violations": len(broken)})
            days.append(Day(problem, plan, kept=True))
            continue
        riders = tuple(by_id[t] for t in sorted(leaving.get(day, ())))
        fleet = free_fleet(scenario.fleet, [*trips, *kept_trips], day, scenario.rules.depart_from_s, horizon)
        problem = Problem(day, scenario.townships, scenario.factories, riders, fleet, scenario.rules)
        reserve_s = LATE_SEATING_RESERVE * params.time_limit_s if params.late_seating else 0.0
        budget_s = max(0.0, params.time_limit_s - (time.monotonic() - started) - 0.5 - reserve_s)
        limit_s = max(1.0, budget_s * len(riders) / left) if left else 1.0
        report(share0, Message("campaign_day", {"date": day.isoformat(), "travellers": len(riders),
                                                "index": index + 1, "days": len(dates)}))  # fmt: skip
        if riders:
            plan = solve(problem, SolveParams(time_limit_s=limit_s, workers=params.workers), travel)
        else:
            plan = Plan(day, (), (), {}, {"violations": 0, "solve_s": 0.0})
        left -= len(riders)
        day_table = Timetable(problem, travel)
        trips.extend(trip_of(day_table, b) for b in plan.buses)
        days.append(Day(replace(problem, fleet=scenario.fleet), plan))

    kept_coach = {b.bus_id: b.coach_id for p in kept_plans.values() for b in p.buses if b.coach_id}
    days, named = _with_coaches(days, [*trips, *kept_trips], scenario.fleet, kept_coach)
    changed: set[dt.date] = set()
    was_off = {f.traveller_id for d in days for f in d.plan.fallback}
    new_buses, retyped_buses, pool_s = 0, 0, 0.0
    if params.late_seating:
        reserve_s = LATE_SEATING_RESERVE * params.time_limit_s
        time_up = started + params.time_limit_s
        tables = {d.plan.date: Timetable(replace(whole, date=d.plan.date), travel) for d in days if not d.kept}
        late = LateSeating(days, whole, travel, tables, bookings, date_of, market, kept_trips)
        changed = fallback_to_free_seats(late, time_up - 0.8 * reserve_s)
        larger, retyped_buses = fallback_to_larger_coaches(late, time_up - 0.5 * reserve_s)
        changed |= larger
        pool_started = time.monotonic()
        pooled, new_buses = fallback_to_new_coaches(late, time_up - 0.1 * reserve_s)
        changed |= pooled
        pool_s = time.monotonic() - pool_started
    for n, planned in enumerate(days):  # each changed date is checked again as a whole
        if planned.plan.date in changed:
            found = check_plan(planned.problem, planned.plan, travel)
            if found:
                log.error("Plan of %s breaks %d rules after free seats (a planner bug), e.g. %s",
                          planned.plan.date, len(found), found[0])  # fmt: skip
            days[n] = replace(planned, plan=replace(planned.plan, stats={**planned.plan.stats,
                                                                         "violations": len(found)}))  # fmt: skip
    if changed:  # trips timed again, and coaches named again where new coaches run or buses changed coach
        trips = [trip_of(Timetable(d.problem, travel), b) for d in days if not d.kept for b in d.plan.buses]
    if new_buses or retyped_buses:
        days, named = _with_coaches(days, [*trips, *kept_trips], scenario.fleet, kept_coach)
    waiting = sum(bookings[i].size * (day - bookings[i].first).days for i, day in date_of.items())
    stats = {
        "solve_s": round(time.monotonic() - started, 2),
        "time_limit_s": params.time_limit_s,
        "bookings": len(bookings),
        "date_moves": choice.moves,
        "date_estimate": round(choice.estimate, 2),
        "kept_dates": len(kept_plans),
        "free_seats_taken": sum(bookings[i].size for i in seated),
        "seated_from_fallback": sum(
            1 for d in days if d.plan.date in changed for b in d.plan.buses for t in b.traveller_ids if t in was_off
        ),
        "coaches_from_fallback": new_buses,
        "larger_coaches_for_fallback": retyped_buses,
        "coaches_from_fallback_s": round(pool_s, 2),
        "violations": sum(d.plan.stats.get("violations", 0) for d in days),
        "coaches_short": len(named.short),
    }
    report(1.0, Message("campaign_done", {"days": len(dates), "buses": sum(len(d.plan.buses) for d in days)}))
    overdue.sort(key=lambda o: o.traveller_id)
    return Campaign(start, end, tuple(days), (*trips, *kept_trips), tuple(overdue), waiting, stats)


def _with_coaches(
    days: list[Day], trips: Sequence[Trip], fleet: Sequence[BusType], kept_coach: dict[str, str]
) -> tuple[list[Day], CoachAssignment]:
    """Every bus of the unpublished days with the coach that drives it, named over all the campaign's ``trips``
    (published buses keep theirs, ``kept_coach``)."""
    named = assign_coaches(trips, fleet, kept_coach)
    if named.short:
        log.error("No contracted coach was free for %d trips (a planner bug), e.g. %s", len(named.short),
                  named.short[0])  # fmt: skip
    return [
        d if d.kept else replace(d, plan=replace(d.plan, buses=tuple(
            replace(b, coach_id=named.coach_of.get(b.bus_id, "")) for b in d.plan.buses)))
        for d in days
    ], named  # fmt: skip


def _traveller_ids(plan: Plan) -> set[str]:
    return {t for b in plan.buses for t in b.traveller_ids} | {f.traveller_id for f in plan.fallback}


def _day_problem(whole: Problem, day: dt.date, plan: Plan, by_id: dict[str, Traveller]) -> Problem:
    """The problem a kept plan answers: the travellers it carries or sends by fallback."""
    riders = tuple(by_id[t] for t in sorted(_traveller_ids(plan)))
    return replace(whole, date=day, travellers=riders)


def _without_cancelled(plan: Plan, problem: Problem, travel: TravelModel) -> Plan:
    """A published plan less the travellers no longer registered: their seats are free (a stop left with nobody
    is dropped, and a bus left with nobody does not run); everybody else keeps seat and time."""
    registered = {t.traveller_id for t in problem.travellers}
    timetable = Timetable(problem, travel)
    fleet = {b.vehicle_type: b for b in problem.fleet}
    buses = []
    for bus in plan.buses:
        if set(bus.traveller_ids) <= registered:
            buses.append(bus)
            continue
        stops = tuple(
            replace(s, board=tuple(t for t in s.board if t in registered),
                    alight=tuple(t for t in s.alight if t in registered))
            for s in bus.stops
        )  # fmt: skip
        stops = tuple(s for s in stops if s.board or s.alight)
        if not stops:
            continue
        price = timetable.price(fleet[bus.vehicle_type], stops)
        buses.append(replace(bus, stops=stops, distance_km=price.distance_km, cost=price.cost))
    fallback = tuple(f for f in plan.fallback if f.traveller_id in registered)
    return repriced(plan, tuple(buses), fallback, problem)


def campaign_bookings(
    timetable: Timetable, travellers: Sequence[Traveller], start: dt.date, end: dt.date, area_of: dict[str, str]
) -> tuple[list[Booking], list[Overdue]]:
    """Registered groups (one booking each: a group leaves on one date) and people alone, with their dates."""
    problem = timetable.problem
    members: dict[tuple[str, str, str], list[Traveller]] = defaultdict(list)
    for t in sorted(travellers, key=lambda t: t.traveller_id):
        members[(t.group_id or t.traveller_id, t.township_id, t.factory_id)].append(t)
    bookings: list[Booking] = []
    overdue: list[Overdue] = []
    for (_, township_id, factory_id), group in sorted(members.items()):
        township, factory = timetable.township(township_id), timetable.factory(factory_id)
        ids = tuple(t.traveller_id for t in group)
        earliest = max(t.earliest_date for t in group)
        report_date = min(t.report_date for t in group)
        offset = timetable.days_to_gate(township, factory)
        params = {
            "factory": factory.name,
            "city": factory.city,
            "report_date": report_date.isoformat(),
            "earliest_date": earliest.isoformat(),
            "gate_until": f"{factory.receive_until_s // 3600:02d}:{factory.receive_until_s // 60 % 60:02d}",
        }
        if earliest > report_date:
            overdue.extend(Overdue(t, "group_apart", params) for t in ids)
            continue
        first, last = max(earliest, start), min(report_date - dt.timedelta(days=offset or 0), end)
        if offset is None or first > last:
            overdue.extend(Overdue(t, "unreachable", params) for t in ids)
            continue
        point = problem.assembly_point_of(township_id)
        lane = point.point_id if point is not None else township_id
        bookings.append(
            Booking(
                ids,
                lane,
                township_id,
                factory_id,
                area_of[factory_id],
                first,
                last,
                offset,
                fallback_cost(timetable, township_id, factory_id),
            )
        )
    return bookings, overdue


def date_market(
    timetable: Timetable, bookings: Sequence[Booking], dates: Sequence[dt.date], closed: frozenset[dt.date]
) -> DateMarket:
    """Coach prices of each flow driven direct, the days a coach is away on a trip to each area, the coaches
    under contract on each date, and the dates closed to new departures."""
    problem = timetable.problem
    rules = problem.rules
    fleet = sorted((b for b in problem.fleet if b.count > 0), key=lambda b: (b.seats, b.fixed_cost))
    sample: dict[tuple[str, str], Booking] = {}
    for b in bookings:
        sample.setdefault(b.flow, b)
    prices: dict[tuple[str, str], tuple[CoachPrice, ...]] = {}
    days_away: dict[str, int] = defaultdict(lambda: 1)
    for (lane, factory_id), booking in sample.items():
        place, factory = timetable.place(lane), timetable.factory(factory_id)
        who = booking.traveller_ids[:1]
        stops = (
            Stop(lane, place.name, "pickup", 0, 0, who, ()),
            Stop(factory_id, factory.name, "dropoff", 0, 0, (), who),
        )
        prices[(lane, factory_id)] = tuple(
            CoachPrice(b.seats, timetable.price(b, stops).cost, b.vehicle_type) for b in fleet
        )
        bus = timetable.make_bus(fleet[-1], booking.area, stops) if fleet else None
        if bus is not None:
            _, back_s = timetable.trip_s(bus)
            # Free again on the first morning it is back by the earliest departure.
            away = max(1, -(-(back_s - rules.depart_from_s) // 86400))
            days_away[booking.area] = max(days_away[booking.area], away)
    free = {d: sum(b.count for b in problem.fleet if b.available_on(d)) for d in dates}
    caps = {f.factory_id: f.max_arrivals_per_day for f in problem.factories if f.max_arrivals_per_day is not None}
    return DateMarket(
        prices=prices,
        days_away={b.area: days_away[b.area] for b in bookings},
        free_coaches=free,
        max_pickups=rules.max_pickup_stops,
        max_gates=rules.max_dropoff_stops,
        detour_per_stop=DETOUR_PER_STOP,
        gate_cap=caps,
        wait_cost_per_day=rules.wait_cost_per_day,
        threshold=rules.charter_min_group,
        entitlement=rules.threshold_is_entitlement,
        closed=closed,
    )


def free_fleet(
    fleet: Sequence[BusType], trips: Sequence[Trip], day: dt.date, depart_from_s: int, horizon: dt.timedelta
) -> tuple[BusType, ...]:
    """The fleet of ``day``: each type's coaches under contract that date, less one for each trip on the road
    when the day's first coach may leave or leaving (a kept later date's) before a trip of today could be back.

    So every coach counted is free from that morning for longer than any trip of the day takes, and naming
    coaches date by date (``assign_coaches``) always finds one. A coach back later that morning is not counted
    on: the day's trips are not planned around returns."""
    morning = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=depart_from_s)
    out = Counter(t.vehicle_type for t in trips if t.back > morning and t.leaves < morning + horizon)
    return tuple(replace(b, count=max(0, (b.count if b.available_on(day) else 0) - out[b.vehicle_type])) for b in fleet)


def _silent(share: float, message: Message) -> None:
    pass
