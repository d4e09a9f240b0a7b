"""Phase 2 of a region: the travellers each county left to a fallback, pooled across neighbouring counties.

No county fills a coach for twelve people to one Dongguan town, but twelve from one county and fifteen from its
neighbour fill one together, on a date both can take. Here, for each pool (counties allowed to share coaches) and
destination area:

1. ``pool_tasks``: the fallback travellers of the pool's counties on every date become one ``Problem``, every id
   prefixed with its county so that nothing collides, with the coaches, depot and rules of one providing county
   (the one with most of these travellers that has coaches);
2. ``solve_pool_task`` (a Ray task each): the campaign's own fallback pooling (``scheduler.fallback_pool``), which
   forms a coach on any date every rider's window allows, its coach free around the provider's own trips; a
   coach is kept when it carries travellers of at least two counties and costs less than the fallbacks of the
   people it carries, and checked by the day checker on its date;
3. ``settle``: each kept bus named a coach of the provider, never on two trips at once with the provider's own
   trips or another pool's (a bus no coach is free for is dropped: its riders keep their fallback), numbered
   across the region, and its cost split between the counties by riders x km, no county paying more than the
   fallbacks its riders leave: so each county's cost with pooling is at most its cost alone.

A county's plan then shows a pooled bus on its date with its whole route, its own riders (moved to that date when
their campaign had them leave on another), and its share as the bus's cost; places of other counties are named
with their county.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from scheduler.areas import destination_areas
from scheduler.campaign import Campaign, campaign_bookings, date_market
from scheduler.check import check_bus
from scheduler.coaches import Trip, assign_coaches, trip_of
from scheduler.fallback_pool import open_date, pool_fallback
from scheduler.late_seating import Day, repriced
from scheduler.model import Factory, Problem, Scenario, Township, Traveller
from scheduler.plan import Bus, Plan, Stop
from scheduler.policy import AssemblyPoint, PolicyRules
from scheduler.timetable import Timetable

FEN = 100


def pooled_id(county: str, local_id: str) -> str:
    """A county's id inside a pool: ``county:id``."""
    return f"{county}:{local_id}"


def county_name(scenario: Scenario, county: str) -> str:
    """How the other counties' places on a pooled bus are named: the county's own name (policy.toml ``county``),
    else its folder's."""
    return scenario.rules.county or county


@dataclass(frozen=True, slots=True)
class CountyOutcome:
    """What pooling needs of a county's campaign, without the campaign (which stays with its task's result): who
    it left to a fallback on each date and what that costs, its coaches' trips and which coach drives each bus,
    and its arrivals at gates that cap them."""

    left: dict[dt.date, tuple[tuple[Traveller, float], ...]]  # fallback travellers (not unplaced), est_cost each
    trips: tuple[Trip, ...]
    coach_of: dict[str, str]  # bus_id -> coach_id
    totals: dict[str, Any]  # campaign.json's totals
    arrivals: dict[tuple[str, dt.date], int]  # (factory_id, date) -> travellers arriving, at capped gates only


def outcome_of(campaign: Campaign) -> CountyOutcome:
    left = {}
    arrivals: Counter[tuple[str, dt.date]] = Counter()
    for day in campaign.days:
        # Unplaced travellers cannot reach the gate in time from this date: no coach can help them.
        cost = {f.traveller_id: f.est_cost for f in day.plan.fallback if f.mode != "unplaced"}
        if cost:
            left[day.plan.date] = tuple((t, cost[t.traveller_id]) for t in day.problem.travellers
                                        if t.traveller_id in cost)  # fmt: skip
        capped = [t for t in day.problem.travellers if day.problem.factory(t.factory_id).max_arrivals_per_day]
        if capped:
            timetable = Timetable(day.problem)
            for t in capped:
                offset = timetable.days_to_gate(timetable.township(t.township_id), timetable.factory(t.factory_id))
                arrivals[(t.factory_id, day.plan.date + dt.timedelta(days=offset or 0))] += 1
    return CountyOutcome(
        left,
        campaign.trips,
        {b.bus_id: b.coach_id for d in campaign.days for b in d.plan.buses},
        campaign.to_dict()["totals"],
        dict(arrivals),
    )


@dataclass(frozen=True, slots=True)
class PoolTask:
    """One pool's fallback travellers bound for one destination area over the whole campaign, pooled with
    ``provider``'s coaches."""

    counties: tuple[str, ...]  # the pool
    provider: str
    area: str
    problem: Problem  # ids prefixed (``pooled_id``); dated ``start``; the provider's depot, rules and fleet
    end: dt.date
    date_of: dict[str, dt.date]  # pooled traveller id -> the date their county's campaign put them on
    origin: dict[str, tuple[str, str]]  # pooled traveller id -> (county, traveller id in that county)
    fallback_cost: dict[str, float]  # pooled traveller id -> what their fallback costs their county (CNY)
    trips: tuple[Trip, ...]  # the provider's own coach trips
    arrivals: dict[tuple[str, dt.date], int]  # the pool counties' arrivals at capped gates (pooled factory ids)


@dataclass(frozen=True, slots=True)
class PoolResult:
    task: PoolTask
    # Kept buses (riders of two counties or more, cheaper than their fallbacks), each with its date's problem:
    # who of the task's travellers leaves on that date once the buses are formed.
    buses: tuple[tuple[Problem, Bus], ...]
    violations: int  # rule breaches the day checker found on the kept buses (0 unless the planner has a bug)


@dataclass(frozen=True, slots=True)
class PooledBus:
    """A kept bus with its coach, region-wide id and the counties' shares of its cost."""

    date: dt.date
    provider: str
    bus: Bus  # ids as in the pool's problem
    riders: dict[str, tuple[str, ...]]  # county -> its traveller ids on the bus (the county's own ids)
    rider_km: dict[str, float]
    replaced: dict[str, float]  # county -> the fallback cost its riders no longer need
    share: dict[str, float]  # county -> its part of the bus's cost
    trip: Trip
    problem: Problem  # the pool's day problem the bus was planned in (for checking it again)


def sharing_pools(
    counties: Mapping[str, Scenario], radius_km: float, share: Sequence[Sequence[str]] | None
) -> list[tuple[str, ...]]:
    """Which counties may share coaches: ``share`` as given, or the counties linked by depots within
    ``radius_km`` of each other (a county joins a pool when its depot is that close to any county's in it)."""
    if share is not None:
        return [tuple(sorted(g)) for g in share if len(set(g)) > 1]
    import networkx as nx
    from geopy.distance import geodesic

    graph = nx.Graph()
    graph.add_nodes_from(counties)
    names = sorted(counties)
    depots = {c: (counties[c].rules.depot_lat, counties[c].rules.depot_lon) for c in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if geodesic(depots[a], depots[b]).km <= radius_km:
                graph.add_edge(a, b)
    return sorted(tuple(sorted(c)) for c in nx.connected_components(graph) if len(c) > 1)


def pool_tasks(
    pools: Sequence[tuple[str, ...]],
    scenarios: Mapping[str, Scenario],
    outcomes: Mapping[str, CountyOutcome],
    start: dt.date,
    end: dt.date,
) -> list[PoolTask]:
    """Every pool and destination area where the fallback travellers come from two counties or more, over the
    whole campaign. ``scenarios``: the counties' places, fleets and rules (their travellers are not read). The
    provider is the county with most of the area's travellers that has coaches."""
    tasks = []
    for pool in pools:
        merged = _pool_problem(pool, start, scenarios, outcomes)
        if merged is None:
            continue
        problem, origin, cost, date_of, factory_ids = merged
        area_of = destination_areas(problem, Timetable(problem))
        arrivals: Counter[tuple[str, dt.date]] = Counter()  # the pool's, at gates under their pooled ids
        for county in pool:
            for (factory_id, day), n in outcomes[county].arrivals.items():
                arrivals[(factory_ids[county][factory_id], day)] += n
        by_area: dict[str, list[Traveller]] = defaultdict(list)
        for t in problem.travellers:
            by_area[area_of[t.factory_id]].append(t)
        for area, people in sorted(by_area.items()):
            counties = Counter(origin[t.traveller_id][0] for t in people)
            if len(counties) < 2:
                continue
            provider = next(
                (c for c, _ in sorted(counties.items(), key=lambda kv: (-kv[1], kv[0])) if scenarios[c].fleet), None
            )
            if provider is None:
                continue
            ids = {t.traveller_id for t in people}
            tasks.append(
                PoolTask(
                    pool,
                    provider,
                    area,
                    replace(
                        problem,
                        travellers=tuple(people),
                        fleet=scenarios[provider].fleet,
                        rules=_pool_rules(pool, provider, scenarios),
                    ),
                    end,
                    {i: date_of[i] for i in ids},
                    {i: origin[i] for i in ids},
                    {i: cost[i] for i in ids},
                    outcomes[provider].trips,
                    dict(arrivals),
                )
            )
    return tasks


def _pool_problem(
    pool: tuple[str, ...], start: dt.date, scenarios: Mapping[str, Scenario], outcomes: Mapping[str, CountyOutcome]
) -> tuple[Problem, dict[str, tuple[str, str]], dict[str, float], dict[str, dt.date], dict[str, dict[str, str]]] | None:
    """The pool counties' fallback travellers of every date as one problem (ids prefixed), with each one's county
    and id there, fallback cost and date, and each county's factory ids in it."""
    townships: list[Township] = []
    factories: dict[str, Factory] = {}
    factory_ids: dict[str, dict[str, str]] = {}
    travellers: list[Traveller] = []
    origin: dict[str, tuple[str, str]] = {}
    cost: dict[str, float] = {}
    date_of: dict[str, dt.date] = {}
    for county in pool:
        scenario = scenarios[county]
        factory_id = factory_ids[county] = {}
        for f in scenario.factories:
            # A factory several counties list alike is one stop; one listed differently stays the county's own.
            same = factories.get(f.factory_id)
            factory_id[f.factory_id] = f.factory_id if same is None or same == f else pooled_id(county, f.factory_id)
            factories.setdefault(factory_id[f.factory_id], replace(f, factory_id=factory_id[f.factory_id]))
        label = county_name(scenario, county)
        townships.extend(
            replace(t, township_id=pooled_id(county, t.township_id), name=f"{t.name}（{label}）")
            for t in scenario.townships
        )
        for day, left in sorted(outcomes[county].left.items()):
            for t, est_cost in left:
                new_id = pooled_id(county, t.traveller_id)
                travellers.append(
                    replace(
                        t,
                        traveller_id=new_id,
                        township_id=pooled_id(county, t.township_id),
                        factory_id=factory_id[t.factory_id],
                        group_id=pooled_id(county, t.group_id) if t.group_id else "",
                    )
                )
                origin[new_id], cost[new_id], date_of[new_id] = (county, t.traveller_id), est_cost, day
    if len({c for c, _ in origin.values()}) < 2:
        return None
    rules = scenarios[pool[0]].rules
    problem = Problem(start, tuple(townships), tuple(factories.values()), tuple(travellers), (), rules)
    return problem, origin, cost, date_of, factory_ids


def _pool_rules(pool: tuple[str, ...], provider: str, scenarios: Mapping[str, Scenario]) -> PolicyRules:
    """The provider's rules (its depot, bus and driver rules), with every pool county's assembly points."""
    points = tuple(
        AssemblyPoint(
            pooled_id(c, p.point_id),
            f"{p.name}（{county_name(scenarios[c], c)}）",
            p.lat,
            p.lon,
            tuple(pooled_id(c, t) for t in p.township_ids),
            p.shuttle_cost_per_person,
        )
        for c in pool
        for p in scenarios[c].rules.assembly_points
    )
    return replace(scenarios[provider].rules, assembly_points=points)


def solve_pool_task(task: PoolTask, time_limit_s: float) -> PoolResult:
    """The campaign's fallback pooling (``scheduler.fallback_pool``) on one pool task: coaches of two counties
    or more, each on a date all its riders' windows allow (a rider may leave on another date than their county
    chose), cheaper than their fallbacks; checked bus by bus on their date."""
    deadline = time.monotonic() + time_limit_s
    whole = task.problem
    timetable = Timetable(whole)
    bookings = [
        # Each at its own county's fallback cost: counties may reimburse at different rates.
        replace(b, fallback_cost=sum(task.fallback_cost[t] for t in b.traveller_ids) / b.size)
        for b in campaign_bookings(
            timetable, whole.travellers, whole.date, task.end, destination_areas(whole, timetable)
        )[0]
        if b.first <= task.date_of[b.traveller_ids[0]] <= b.last
    ]
    date_of = {i: task.date_of[b.traveller_ids[0]] for i, b in enumerate(bookings)}
    days = [whole.date + dt.timedelta(days=k) for k in range((task.end - whole.date).days + 1)]
    tables = {d: Timetable(replace(whole, date=d)) for d in days}
    on_date: dict[dt.date, list[Traveller]] = defaultdict(list)
    for t in whole.travellers:
        on_date[task.date_of[t.traveller_id]].append(t)
    dates = {
        d: open_date(
            replace(whole, date=d, travellers=tuple(on_date[d])), Plan(d, (), (), {}), tables[d], tables[d].travel
        )
        for d in days
    }
    market = date_market(timetable, bookings, days, frozenset())

    def two_counties(riders: tuple[int, ...]) -> bool:
        return len({task.origin[bookings[i].traveller_ids[0]][0] for i in riders}) >= 2

    made = pool_fallback(
        sorted(date_of), bookings, date_of, market, dates, list(task.trips), Counter(task.arrivals), deadline,
        accept=two_counties, thorough=True,
    )  # fmt: skip
    final = dict(task.date_of)
    for new in made:
        final.update({t: new.day for i in new.bookings for t in bookings[i].traveller_ids})
    leaving: dict[dt.date, list[Traveller]] = defaultdict(list)
    for t in whole.travellers:
        leaving[final[t.traveller_id]].append(t)
    problems = {d: replace(whole, date=d, travellers=tuple(leaving[d])) for d in {new.day for new in made}}
    kept = []
    violations = 0
    final_tables = {d: Timetable(p) for d, p in problems.items()}
    areas = {d: destination_areas(p, final_tables[d]) for d, p in problems.items()}
    for new in made:
        violations += len(check_bus(final_tables[new.day], new.bus, areas[new.day]))
        kept.append((problems[new.day], new.bus))
    return PoolResult(task, tuple(kept), violations)


def settle(
    results: Sequence[PoolResult], scenarios: Mapping[str, Scenario], outcomes: Mapping[str, CountyOutcome]
) -> list[PooledBus]:
    """Coaches for the kept buses (the provider's, around its own trips), region-wide bus ids, cost shares."""
    by_provider: dict[str, list[tuple[PoolTask, Problem, Timetable, Bus, Trip]]] = defaultdict(list)
    for result in results:
        tables = {id(p): Timetable(p) for p, _ in result.buses}  # a date's buses share its problem
        for problem, bus in result.buses:
            timetable = tables[id(problem)]
            by_provider[result.task.provider].append((result.task, problem, timetable, bus, trip_of(timetable, bus)))
    settled: list[tuple[dt.date, str, PoolTask, Problem, Timetable, Bus, Trip, str]] = []
    for provider, items in sorted(by_provider.items()):
        own = outcomes[provider].coach_of
        # Pool buses get a temporary id that cannot meet a county's bus id while coaches are fitted.
        trips = list(outcomes[provider].trips) + [replace(trip, bus_id=f"~{k}") for k, (*_, trip) in enumerate(items)]
        named = assign_coaches(trips, scenarios[provider].fleet, kept=own)
        for k, (task, problem, timetable, bus, trip) in enumerate(items):
            coach = named.coach_of.get(f"~{k}")
            if coach is not None:
                settled.append((problem.date, provider, task, problem, timetable, bus, trip, coach))
    settled.sort(key=lambda s: (s[0], s[1], s[5].area, s[5].stops[0].arrival_s, s[7]))
    out = []
    numbers: Counter[dt.date] = Counter()
    for day, provider, task, problem, timetable, bus, trip, coach in settled:
        numbers[day] += 1
        bus_id = f"P{day:%m%d}-{numbers[day]:03d}"
        bus = replace(bus, bus_id=bus_id, coach_id=f"{provider}-{coach}")
        out.append(_priced(provider, task, problem, timetable, bus, replace(trip, bus_id=bus_id)))
    return out


def _priced(provider: str, task: PoolTask, problem: Problem, timetable: Timetable, bus: Bus, trip: Trip) -> PooledBus:
    people = {t.traveller_id: t for t in problem.travellers}
    riders: dict[str, list[str]] = defaultdict(list)
    rider_km: dict[str, float] = defaultdict(float)
    replaced: dict[str, float] = defaultdict(float)
    for stop in bus.stops:
        for tid in stop.board:
            county, local = task.origin[tid]
            riders[county].append(local)
            gate = timetable.factory(people[tid].factory_id)
            rider_km[county] += timetable.leg(timetable.place(stop.place_id), gate).distance_km
            replaced[county] += task.fallback_cost[tid]
    share = split_cost(bus.cost, dict(rider_km), dict(replaced))
    return PooledBus(
        problem.date,
        provider,
        bus,
        {c: tuple(ids) for c, ids in sorted(riders.items())},
        {c: round(km, 1) for c, km in sorted(rider_km.items())},
        {c: round(v, 2) for c, v in sorted(replaced.items())},
        share,
        trip,
        problem,
    )


def split_cost(cost: float, rider_km: Mapping[str, float], cap: Mapping[str, float]) -> dict[str, float]:
    """``cost`` split by riders x km, no county paying more than ``cap`` (the fallbacks its riders leave): what a
    county's share would pass its cap goes to the others in proportion to the room they have left.

    Money is split in fen and the shares add up to ``cost`` exactly. Expects ``cost`` below the caps' sum (a
    pooled bus is kept only then), so every county pays less than its cap.
    """
    total_fen = round(cost * FEN)
    caps = {c: round(v * FEN) for c, v in cap.items()}
    if total_fen > sum(caps.values()):
        raise ValueError(f"A pooled bus costing {cost} must cost less than the fallbacks it replaces.")
    km = sum(rider_km.values())
    share = {c: total_fen * rider_km[c] / km if km > 0 else total_fen / len(cap) for c in cap}
    over = sum(max(0.0, share[c] - caps[c]) for c in cap)
    room = {c: caps[c] - share[c] for c in cap if share[c] < caps[c]}
    for c in cap:
        share[c] = min(share[c], caps[c]) + (over * room[c] / sum(room.values()) if c in room else 0.0)
    fen = {c: min(caps[c], int(share[c])) for c in cap}
    # The fen lost to rounding down go to whoever has room, the largest share first.
    for c in sorted(cap, key=lambda c: (-share[c], c)):
        extra = min(total_fen - sum(fen.values()), caps[c] - fen[c])
        fen[c] += extra
    return {c: fen[c] / FEN for c in sorted(cap)}


def county_view(pooled: PooledBus, county: str, label: str) -> Bus:
    """The pooled bus as ``county``'s plan shows it: the whole route, only its own riders, its share as cost."""
    mine = set(pooled.riders.get(county, ()))
    prefix = f"{county}:"

    def local(tid: str) -> str | None:
        return tid[len(prefix) :] if tid.startswith(prefix) and tid[len(prefix) :] in mine else None

    stops = []
    for s in pooled.bus.stops:
        place = s.place_id[len(prefix) :] if s.place_id.startswith(prefix) else s.place_id
        name = s.place_name.removesuffix(f"（{label}）")
        board = tuple(x for x in (local(t) for t in s.board) if x is not None)
        alight = tuple(x for x in (local(t) for t in s.alight) if x is not None)
        stops.append(Stop(place, name, s.kind, s.arrival_s, s.departure_s, board, alight))
    return replace(pooled.bus, stops=tuple(stops), cost=pooled.share.get(county, 0.0))


def with_pooled(campaign: Campaign, county: str, label: str, pooled: Sequence[PooledBus]) -> Campaign:
    """``county``'s campaign with the pooled buses its travellers ride (or its coaches drive): added to their
    date's plan, their riders off the fallback list and moved to the bus's date where it is another, the
    provider's coach trips counted; every coach id carries its county's name. ``label``: ``county_name``, which its
    own places carry on the pooled bus."""
    mine = [p for p in pooled if county in p.riders or p.provider == county]
    by_date: dict[dt.date, list[PooledBus]] = defaultdict(list)
    for p in mine:
        by_date[p.date].append(p)
    riding = {t: p.date for p in mine for t in p.riders.get(county, ())}
    was_on = {t.traveller_id: (t, d.plan.date) for d in campaign.days for t in d.problem.travellers
              if t.traveller_id in riding}  # fmt: skip
    days = []
    for day in campaign.days:
        plan = day.plan
        # Coach ids unique across the region: the county's own coaches carry its name, as pooled ones do.
        own = tuple(replace(b, coach_id=f"{county}-{b.coach_id}") for b in plan.buses)
        extra = by_date.get(plan.date, [])
        stays = [t for t in day.problem.travellers if riding.get(t.traveller_id, plan.date) == plan.date]
        coming = [t for t, old in was_on.values() if old != plan.date and riding[t.traveller_id] == plan.date]
        if not extra and len(stays) == len(day.problem.travellers):
            days.append(Day(day.problem, replace(plan, buses=own), day.kept))
            continue
        problem = replace(day.problem, travellers=tuple(sorted([*stays, *coming], key=lambda t: t.traveller_id)))
        buses = own + tuple(county_view(p, county, label) for p in extra)
        fallback = tuple(f for f in plan.fallback if f.traveller_id not in riding)
        stats = {**plan.stats, "pooled_buses": len(extra)} if extra else plan.stats
        days.append(Day(problem, repriced(replace(plan, stats=stats), buses, fallback, problem), day.kept))
    trips = campaign.trips + tuple(p.trip for p in mine if p.provider == county)
    waited = sum((riding[t] - old).days for t, (_, old) in was_on.items())
    return replace(campaign, days=tuple(days), trips=trips, wait_person_days=campaign.wait_person_days + waited)
