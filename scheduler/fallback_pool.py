"""New coaches from the fallback: travellers the day plans left to township transport or tickets, pooled across
the dates of their windows once every date is planned.

Each date's planner sees only who the date choice gave it, so a flow too thin on its date stays off the buses
even where the same boarding places and gates have travellers left off on neighbouring dates. Here, per
destination area, the coach that saves most (its riders' fallback less its price) is formed on any open date
every rider's window allows, from a seed flow grown by the largest flows that keep the stop limits and
whose stops a coach can still call at within the time on board (``Timetable.can_call_at``), and kept
where its timetable works, it keeps every rule (``check_bus``), the gates' caps per date hold and a coach of its
type is free for the whole trip; then the next, until no coach saves anything or time is up.

A date's destination areas are clustered over the factories its travellers are bound for
(``destination_areas``), so a coach only drops at gates its date already serves, all in one of its areas; where
its riders leave a date with nobody else bound for their gate, that date's areas are clustered again and every
bus on it must still drop in one area.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scheduler.areas import FactoryKm, cluster_factories, destination_areas, each_in_one_area
from scheduler.check import check_bus
from scheduler.coaches import Trip, trip_of
from scheduler.dates import Booking, CoachPrice, DateMarket, Flow
from scheduler.model import BusType, Problem
from scheduler.plan import Bus, Plan, Stop
from scheduler.timetable import Timetable
from scheduler.travel import TravelModel

# Seed flows tried per area and date, the largest first, and the coaches built and checked per step (the
# estimate picks them; the timetable decides).
SEEDS = 12
TRIES = 8


@dataclass(frozen=True, slots=True)
class NewBus:
    """A coach formed from fallback bookings (indices into the campaign's bookings), leaving on ``day``."""

    day: dt.date
    bus: Bus
    bookings: tuple[int, ...]


@dataclass
class OpenDate:
    """A date new coaches may leave on: its timetable, its destination areas (factory -> area, the day plan's),
    how many of its travellers are bound for each factory, and the gates of each of its buses."""

    timetable: Timetable
    area_of: dict[str, str]
    bound_for: Counter[str]
    bus_gates: list[frozenset[str]]
    # Travellers per township-factory flow, and the flows a bus below the threshold runs for (their entitlement
    # must hold: ``fallback.chartered``).
    flow_size: Counter[tuple[str, str]]
    entitling: frozenset[tuple[str, str]]


def open_date(problem: Problem, plan: Plan, timetable: Timetable, travel: TravelModel) -> OpenDate:
    """A planned date (its travellers and plan, and its timetable) as the pooling sees it."""
    people = {t.traveller_id: t for t in problem.travellers}
    unplaced = {f.traveller_id for f in plan.fallback if f.mode == "unplaced"}
    flow_size = Counter((t.township_id, t.factory_id) for t in people.values() if t.traveller_id not in unplaced)
    entitling = frozenset(
        (people[t].township_id, people[t].factory_id)
        for b in plan.buses
        if b.load < problem.rules.charter_min_group
        for t in b.traveller_ids
    )
    return OpenDate(
        timetable,
        destination_areas(problem, travel),
        Counter(t.factory_id for t in problem.travellers),
        [frozenset(s.place_id for s in b.stops if s.kind == "dropoff") for b in plan.buses],
        flow_size,
        entitling,
    )


@dataclass
class _Coaches:
    """The contracted coaches and the trips they drive: whether one of a type is free for a whole trip."""

    fleet: dict[str, BusType]
    trips: list[Trip]

    def free_for(self, trip: Trip, day: dt.date) -> bool:
        # Trips overlapping this one, each on a coach of its own: one more still fits the type's count.
        coach = self.fleet[trip.vehicle_type]
        count = coach.count if coach.available_on(day) else 0
        busy = sum(1 for t in self.trips if t.vehicle_type == trip.vehicle_type and t.leaves < trip.back
                   and trip.leaves < t.back)  # fmt: skip
        return busy < count


def pool_fallback(
    waiting: Sequence[int],
    bookings: Sequence[Booking],
    date_of: dict[int, dt.date],
    market: DateMarket,
    dates: dict[dt.date, OpenDate],
    trips: list[Trip],
    arrivals: Counter[tuple[str, dt.date]],
    deadline: float,
    accept: Callable[[tuple[int, ...]], bool] | None = None,
    thorough: bool = False,
) -> list[NewBus]:
    """Coaches for the ``waiting`` bookings (off the buses, on the date ``date_of`` gives), on the open
    ``dates``. ``trips`` (every coach trip) and ``arrivals`` ((factory, date) -> who arrives) gain the new
    coaches' trips and riders, and their bookings' old dates lose them. ``accept``: which riders a coach may
    carry (a region pools only coaches of two counties or more); any, where None. ``thorough``: also try the
    coaches the detour guess rules out, and every order of a coach's boarding places: it forms more coaches given
    the time, fewer against a tight deadline (on the sparse county's fallback, 393,363 CNY saved against 383,249
    with a minute; 236,778 against 271,407 in 9 s, the campaign's share), so the campaign keeps it off and a
    region's pool tasks, whose riders no county could seat, turn it on."""
    any_date = next(iter(dates.values()), None)
    if any_date is None:
        return []
    fleet = {b.vehicle_type: b for b in any_date.timetable.problem.fleet}
    coaches = _Coaches(fleet, trips)
    table = any_date.timetable
    measured = FactoryKm(table.problem.factories, table)
    largest = max((p.seats for ps in market.prices.values() for p in ps), default=0)
    reach = _Reach(table)
    by_area: dict[str, list[int]] = defaultdict(list)
    for i in waiting:
        by_area[bookings[i].area].append(i)
    made: list[NewBus] = []
    # The areas whose fallback costs most first: where time runs out, it cuts the least.
    for area in sorted(by_area, key=lambda a: (-sum(bookings[i].size * bookings[i].fallback_cost
                                                     for i in by_area[a]), a)):  # fmt: skip
        left = set(by_area[area])
        found: dict[dt.date, list[Candidate]] = {}  # the best coaches of each date, while its riders are left
        stale = {d for i in left for d in market.dates_of(bookings[i]) if d in dates}
        failed: set[tuple[dt.date, tuple[int, ...]]] = set()
        while left and time.monotonic() < deadline:
            for day in stale:
                found[day] = _candidates(
                    day, sorted(left), bookings, date_of, market, dates, arrivals, largest, reach, thorough
                )
            stale.clear()
            ranked = sorted(
                (
                    c
                    for cs in found.values()
                    for c in cs
                    if (c.day, c.riders) not in failed and (accept is None or accept(c.riders))
                ),
                key=lambda c: (-c.saving, c.day, c.riders),
            )
            if not ranked:
                break
            tries = 0
            for c in ranked:
                if tries == TRIES:
                    break
                if (c.day, c.riders) in failed:  # seeds may grow the same coach
                    continue
                tries += 1
                bus = _try(c, bookings, date_of, market, dates, coaches, arrivals, fleet, measured, thorough)
                if bus is None:
                    failed.add((c.day, c.riders))
                    continue
                made.append(NewBus(c.day, bus, c.riders))
                left -= set(c.riders)
                # Dates where its riders were waiting, or whose areas were clustered again, look again.
                stale |= {d for i in c.riders for d in market.dates_of(bookings[i]) if d in dates} | {c.day}
                stale |= {date_of[i] for i in c.riders}
                break
    return made


@dataclass(frozen=True, slots=True)
class Candidate:
    """A coach the estimate says saves ``saving``: ``riders`` (booking indices) on ``day`` in ``vehicle_type``."""

    saving: float
    day: dt.date
    riders: tuple[int, ...]
    vehicle_type: str


def _try(
    c: Candidate,
    bookings: Sequence[Booking],
    date_of: dict[int, dt.date],
    market: DateMarket,
    dates: dict[dt.date, OpenDate],
    coaches: _Coaches,
    arrivals: Counter[tuple[str, dt.date]],
    fleet: dict[str, BusType],
    measured: FactoryKm,
    every_order: bool,
) -> Bus | None:
    """The coach of ``c`` timed, priced and checked, and taken into ``coaches``, ``arrivals`` and ``dates``;
    None where its times do not work, it breaks a rule, saves nothing, finds no coach free or no room at a
    gate, or leaves a date whose areas would put a bus across two."""
    on = dates[c.day]
    riders = [bookings[i] for i in c.riders]
    coming: Counter[tuple[str, dt.date]] = Counter()
    leaving: Counter[tuple[dt.date, str]] = Counter()
    thinned: Counter[tuple[dt.date, tuple[str, str]]] = Counter()
    for i, b in zip(c.riders, riders, strict=True):
        if date_of[i] != c.day:
            coming[(b.factory_id, c.day + dt.timedelta(days=b.arrival_offset))] += b.size
            leaving[(date_of[i], b.factory_id)] += b.size
            thinned[(date_of[i], (b.township_id, b.factory_id))] += b.size
    caps = market.gate_cap
    if any(f in caps and arrivals[(f, day)] + n > caps[f] for (f, day), n in coming.items()):
        return None
    if any(
        flow in dates[old].entitling and dates[old].flow_size[flow] - n < market.threshold
        for (old, flow), n in thinned.items()
    ):
        return None  # a bus below the threshold would lose the entitlement it runs for
    gates = {b.factory_id for b in riders}
    bus = _bus(on.timetable, fleet[c.vehicle_type], on.area_of[min(gates)], riders, every_order)
    if bus is None or bus.cost >= sum(b.size * b.fallback_cost for b in riders):
        return None
    trip = trip_of(on.timetable, bus)
    if not coaches.free_for(trip, c.day) or check_bus(on.timetable, bus, on.area_of):
        return None
    regrouped = _areas_without(dates, leaving, measured)
    if regrouped is None:
        return None
    coaches.trips.append(trip)
    for i, b in zip(c.riders, riders, strict=True):
        arrivals[(b.factory_id, date_of[i] + dt.timedelta(days=b.arrival_offset))] -= b.size
        arrivals[(b.factory_id, c.day + dt.timedelta(days=b.arrival_offset))] += b.size
        dates[date_of[i]].bound_for[b.factory_id] -= b.size
        on.bound_for[b.factory_id] += b.size
        dates[date_of[i]].flow_size[(b.township_id, b.factory_id)] -= b.size
        on.flow_size[(b.township_id, b.factory_id)] += b.size
    for old, area_of in regrouped.items():
        dates[old].area_of = area_of
    on.bus_gates.append(frozenset(gates))
    return bus


def _candidates(
    day: dt.date,
    left: list[int],
    bookings: Sequence[Booking],
    date_of: dict[int, dt.date],
    market: DateMarket,
    dates: dict[dt.date, OpenDate],
    arrivals: Counter[tuple[str, dt.date]],
    largest: int,
    reach: _Reach,
    guessless: bool,
) -> list[Candidate]:
    """The coaches grown from each seed flow on ``day`` that the estimate says save something (of at most
    ``largest`` seats)."""
    on = dates[day]
    cells: dict[Flow, list[int]] = defaultdict(list)
    sizes: Counter[Flow] = Counter()
    for i in left:
        b = bookings[i]
        if (
            b.first <= day <= b.last
            and day not in market.closed
            and on.bound_for[b.factory_id] > 0
            and _gate_room(b, i, day, date_of, market, arrivals)
        ):
            cells[b.flow].append(i)
            sizes[b.flow] += b.size
    if sum(sizes.values()) < market.threshold:
        return []
    for ids in cells.values():
        ids.sort(key=lambda i: (-bookings[i].size, i))
    largest_first = sorted(cells, key=lambda f: (-sizes[f], f))
    due = {  # flows with a rider to be at the gate on the day itself
        f for f, ids in cells.items()
        if any(on.timetable.arrive_by(t) <= day for i in ids for t in bookings[i].traveller_ids)
    }  # fmt: skip
    found = []
    for seed in largest_first[:SEEDS]:
        # Flows to gates of the seed's area on that date.
        near = [f for f in largest_first if on.area_of[f[1]] == on.area_of[seed[1]]]
        for saving, riders, coach in _grow(seed, near, cells, due, bookings, market, largest, reach, guessless):
            found.append(Candidate(saving, day, tuple(riders), coach))
    return found


def _grow(
    seed: Flow,
    near: list[Flow],
    cells: dict[Flow, list[int]],
    due: set[Flow],
    bookings: Sequence[Booking],
    market: DateMarket,
    largest: int,
    reach: _Reach,
    guessless: bool,
) -> list[tuple[float, list[int], str]]:
    """From ``seed``, add the largest of the ``near`` flows (largest first) the stop limits and the timetable
    (``reach``) allow while seats last; each step whose coach the estimate says saves something (``guessless``:
    could save something, its riders' fallbacks above its price without the detours): (estimated saving,
    bookings, coach type). The smaller steps stand in where a larger one's riders' times do not work.

    The estimate is the date choice's (``DateMarket.pooled``): the smallest coach that seats the riders, at the
    price of the dearest of their flows, with a detour per stop."""
    lanes, gates, riders, seated, worth = {seed[0]}, {seed[1]}, [], 0, 0.0
    due_at: set[str] = set()  # gates where a rider is due on the day itself
    dearest: tuple[CoachPrice, ...] = ()
    used: set[Flow] = set()
    steps: list[tuple[float, list[int], str]] = []
    flow: Flow | None = seed
    while flow is not None and seated < largest:
        used.add(flow)
        lanes.add(flow[0])
        gates.add(flow[1])
        if flow in due:
            due_at.add(flow[1])
        for i in cells[flow]:
            b = bookings[i]
            if seated + b.size <= largest:
                riders.append(i)
                seated += b.size
                worth += b.size * b.fallback_cost
                prices = market.prices[flow]
                if prices and (not dearest or prices[-1].cost > dearest[-1].cost):
                    dearest = prices
        priced = market.pooled(dearest, seated, len(lanes) + len(gates)) if seated >= market.threshold else None
        # ``guessless``: the detour is a guess; a coach its riders' fallbacks pay for before any detour is worth
        # pricing too.
        if priced is not None and worth - (priced[0].cost if guessless else priced[1]) > 0:
            steps.append((worth - priced[1], list(riders), priced[0].vehicle_type))
        flow = next(
            (f for f in near if f not in used and _fits(f, f in due, lanes, gates, due_at, market, reach)), None
        )
    return steps


def _fits(
    flow: Flow, flow_due: bool, lanes: set[str], gates: set[str], due_at: set[str], market: DateMarket,
    reach: _Reach,
) -> bool:  # fmt: skip
    """Whether a coach calling at ``lanes`` and ``gates`` (riders due on the day itself at ``due_at``) may take
    ``flow`` too (``flow_due``: with a rider due that day): within the stop limits, and a timetable calling at
    every stop."""
    lane, gate = flow
    due = due_at | {gate} if flow_due else due_at
    if lane in lanes and gate in gates and due == due_at:
        return True
    if (lane not in lanes and len(lanes) >= market.max_pickups) or (
        gate not in gates and len(gates) >= market.max_gates
    ):
        return False
    return reach(frozenset(lanes | {lane}), frozenset(gates | {gate}), frozenset(due))


def _gate_room(
    b: Booking, i: int, day: dt.date, date_of: dict[int, dt.date], market: DateMarket,
    arrivals: Counter[tuple[str, dt.date]],
) -> bool:  # fmt: skip
    cap = market.gate_cap.get(b.factory_id)
    arrive = day + dt.timedelta(days=b.arrival_offset)
    return cap is None or date_of[i] == day or arrivals[(b.factory_id, arrive)] + b.size <= cap


def _bus(timetable: Timetable, coach: BusType, area: str, riders: list[Booking], every_order: bool) -> Bus | None:
    """A coach boarding ``riders``, timed and priced by the date's timetable, on the ``_route`` of their places and
    gates, or (``every_order``) the cheapest whose times work over every order of their boarding places (at most
    three: six orders), each followed by its gates nearest first. None where none works."""
    lanes, gates = {b.lane for b in riders}, {b.factory_id for b in riders}
    orders = itertools.permutations(sorted(lanes)) if every_order else [tuple(_route(timetable, lanes, gates)[0])]
    best: Bus | None = None
    for boarding in orders:
        dropping = _gates_nearest_first(timetable, boarding[-1], gates)
        stops = [
            Stop(lane, timetable.place(lane).name, "pickup", 0, 0,
                 tuple(t for b in riders if b.lane == lane for t in b.traveller_ids), ())
            for lane in boarding
        ] + [
            Stop(gate, timetable.factory(gate).name, "dropoff", 0, 0, (),
                 tuple(t for b in riders if b.factory_id == gate for t in b.traveller_ids))
            for gate in dropping
        ]  # fmt: skip
        bus = timetable.make_bus(coach, area, stops)
        if bus is not None and (best is None or bus.cost < best.cost):
            best = bus
    return best


def _route(timetable: Timetable, lanes: set[str], gates: set[str]) -> tuple[list[str], list[str]]:
    """The order a pooled coach calls in: the boarding place farthest from the gates first, then the gates, the
    nearest first."""
    first_gate = timetable.factory(min(gates))
    boarding = sorted(lanes, key=lambda lane: (-timetable.leg(timetable.place(lane), first_gate).distance_km, lane))
    return boarding, _gates_nearest_first(timetable, boarding[-1], gates)


def _gates_nearest_first(timetable: Timetable, last_lane: str, gates: set[str]) -> list[str]:
    here, left, dropping = timetable.place(last_lane), set(gates), []
    while left:
        gate = min(left, key=lambda f: (timetable.leg(here, timetable.factory(f)).distance_km, f))
        left.discard(gate)
        dropping.append(gate)
        here = timetable.factory(gate)
    return dropping


class _Reach:
    """Whether a coach can call at some boarding places and gates at all, riders due on the day itself at some
    of them (``Timetable.can_call_at`` on their ``_route``), remembered: growing coaches asks it for every stop
    they add, on every date alike (times are of the plan date)."""

    def __init__(self, timetable: Timetable) -> None:
        self.timetable = timetable
        self.known: dict[tuple[frozenset[str], frozenset[str], frozenset[str]], bool] = {}

    def __call__(self, lanes: frozenset[str], gates: frozenset[str], due: frozenset[str]) -> bool:
        key = (lanes, gates, due)
        if key not in self.known:
            boarding, dropping = _route(self.timetable, set(lanes), set(gates))
            stops = [Stop(p, "", "pickup", 0, 0, (), ()) for p in boarding]
            stops += [Stop(f, "", "dropoff", 0, 0, (), ()) for f in dropping]
            self.known[key] = self.timetable.can_call_at(stops, due)
        return self.known[key]


def _areas_without(
    dates: dict[dt.date, OpenDate], leaving: Counter[tuple[dt.date, str]], measured: FactoryKm
) -> dict[dt.date, dict[str, str]] | None:
    """The destination areas of the dates that ``leaving`` ((date, factory) -> travellers) leaves with nobody
    bound for a gate, clustered again; None where a bus of such a date would then drop in two areas."""
    out: dict[dt.date, dict[str, str]] = {}
    for old in sorted({d for d, _ in leaving}):
        on = dates[old]
        still = sorted(f for f, n in on.bound_for.items() if n - leaving[(old, f)] > 0)
        if len(still) == sum(1 for n in on.bound_for.values() if n > 0):
            continue
        table = on.timetable
        area_of = cluster_factories([table.factory(f) for f in still], table, table.rules.area_radius_km, measured)
        if not each_in_one_area(on.bus_gates, area_of):
            return None
        out[old] = area_of
    return out
