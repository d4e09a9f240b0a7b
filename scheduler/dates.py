"""Which date each booking departs on: the campaign's first pass, before any day is routed.

A *booking* is a registered group (or one person travelling alone) with the dates it may leave on. Dates are
chosen against an estimate of what each destination area's coaches cost on each date (``AreaDayCost``), so
that small flows bound for one area meet on common dates and fill coaches, plus the county's wait cost per
person-day, with three hard limits: each booking on a date of its window, what a gate receives per date, and
(as a penalty) the coaches under contract that are not still on the road.

Each area's dispatch dates are a shortest path over the dates (``dispatch_dates``); bookings then move, alone
and as a flow's whole share of a date, while the estimate improves (waiting less where the cost allows, fewer
coaches where too many are on the road). The estimate only steers: each
date's plan is then made by the day planner, which keeps every rule.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

# Where a booking boards: a township, or the assembly point it feeds.
Lane = str
# A pickup place and a gate: what coaches carry, and the unit that moves between dates as a block.
Flow = tuple[Lane, str]
# A lane, a township and a gate: the county's threshold counts a township's travellers to one factory.
Stream = tuple[Lane, str, str]


@dataclass(frozen=True, slots=True)
class Booking:
    """Travellers who leave on one date together (a registered group, or one person), and when they may."""

    traveller_ids: tuple[str, ...]
    lane: Lane  # where they board: their township, or the assembly point it feeds
    township_id: str
    factory_id: str
    area: str
    first: dt.date  # first date they may leave
    last: dt.date  # last date from which a coach reaches the gate by their report date
    arrival_offset: int  # days from leaving to the gate (0 or 1)
    fallback_cost: float  # what the rule pays per person off the buses

    @property
    def size(self) -> int:
        return len(self.traveller_ids)

    @property
    def flow(self) -> Flow:
        return (self.lane, self.factory_id)

    @property
    def stream(self) -> Stream:
        return (self.lane, self.township_id, self.factory_id)

    def dates(self) -> Iterable[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CoachPrice:
    """What one coach type costs driving one flow direct."""

    seats: int
    cost: float
    vehicle_type: str


@dataclass(frozen=True, slots=True)
class DateMarket:
    """Everything the date choice knows about coaches: prices per flow, days away per area, and how many coaches
    are free on each date (under contract, not on the road)."""

    prices: dict[Flow, tuple[CoachPrice, ...]]  # smallest coach first
    days_away: dict[str, int]  # area -> dates a coach leaving for it is not free for another trip (>= 1)
    free_coaches: dict[dt.date, int]
    max_pickups: int  # pickup places per coach
    max_gates: int  # gates per coach
    detour_per_stop: float
    gate_cap: dict[str, int]  # factory_id -> most arrivals per date (absent: no cap)
    wait_cost_per_day: float
    threshold: int  # charter_min_group: a coach below it runs only for riders entitled to seats
    entitlement: bool  # threshold_is_entitlement: a stream of at least the threshold on a date must ride
    closed: frozenset[dt.date] = frozenset()  # dates nobody new may leave on (published, or past)

    def dates_of(self, booking: Booking) -> list[dt.date]:
        """The dates ``booking`` may leave on: its window less the closed dates."""
        return [d for d in booking.dates() if d not in self.closed]

    def pooled(self, prices: tuple[CoachPrice, ...], riders: int, stops: int) -> tuple[CoachPrice, float] | None:
        """The estimate of a coach pooling flows: the smallest type that seats ``riders``, at its price for the
        dearest of the flows (``prices``), plus a detour for each of its ``stops`` past one pickup and one gate
        None where no type seats them."""
        fits = next((p for p in prices if p.seats >= riders), None)
        if fits is None:
            return None
        return fits, fits.cost * (1 + self.detour_per_stop * (stops - 2))


class AreaDayCost:
    """The estimated cost of one area's bookings on one date, as the day planner treats them: whole coaches for
    each flow's full loads, the remainders packed first-fit decreasing into coaches within the stop limits
    (pickup places, gates); a coach runs where it carries riders entitled to seats (a township's stream to a
    factory of at least the threshold), or at least the threshold and for less than its riders' fallback. Also
    how many coaches that is."""

    def __init__(self, market: DateMarket, area: str) -> None:
        self.market = market
        self.area = area
        self.largest = max((p[-1].seats for p in market.prices.values() if p), default=0)

    def __call__(self, streams: dict[Stream, list[float]]) -> tuple[float, int]:
        """``streams``: (lane, township, factory) -> [persons, their fallback cost]. Returns (cost, coaches)."""
        market = self.market
        flows: dict[Flow, list[float]] = {}
        for (lane, _, factory), (n, fallback) in streams.items():
            if n <= 0:
                continue
            entry = flows.setdefault((lane, factory), [0.0, 0.0, 0.0])
            entry[0] += n
            entry[1] += fallback
            if market.entitlement and n >= market.threshold:
                entry[2] += n
        cost, coaches = 0.0, 0
        rest: list[tuple[int, float, Flow, bool]] = []
        for flow, (n, fallback, forced) in flows.items():
            prices = market.prices.get(flow, ())
            if not prices:  # no coach under contract at all
                cost += fallback
                continue
            big = prices[-1]
            full = int(n) // big.seats
            per_person = fallback / n
            if full and (forced or big.cost < per_person * big.seats):
                cost += full * big.cost
                coaches += full
                n -= full * big.seats
                forced = max(0.0, forced - full * big.seats)
            if n > 0:
                rest.append((int(n), per_person * n, flow, forced > 0))
        rest.sort(reverse=True)
        bins: list[_Bin] = []
        for n, fallback, flow, forced in rest:
            lane, factory = flow
            for b in bins:
                if (
                    b.riders + n <= self.largest
                    and (lane in b.lanes or len(b.lanes) < market.max_pickups)
                    and (factory in b.gates or len(b.gates) < market.max_gates)
                ):
                    b.add(n, fallback, flow, market.prices[flow], forced)
                    break
            else:
                b = _Bin()
                b.add(n, fallback, flow, market.prices[flow], forced)
                bins.append(b)
        for b in bins:
            # A bin seats no more than the largest coach: some type always seats it.
            _, charter = market.pooled(b.prices, b.riders, len(b.lanes) + len(b.gates)) or (b.prices[-1], math.inf)
            if b.forced or (b.riders >= market.threshold and charter < b.fallback):
                cost += charter
                coaches += 1
            else:
                cost += b.fallback
        return cost, coaches


class _Bin:
    """An estimated pooled coach."""

    __slots__ = ("fallback", "forced", "gates", "lanes", "prices", "riders")

    def __init__(self) -> None:
        self.forced = False  # carries riders entitled to seats
        self.riders = 0
        self.fallback = 0.0
        self.lanes: set[Lane] = set()
        self.gates: set[str] = set()
        self.prices: tuple[CoachPrice, ...] = ()

    def add(self, n: int, fallback: float, flow: Flow, prices: tuple[CoachPrice, ...], forced: bool) -> None:
        self.forced |= forced
        self.riders += n
        self.fallback += fallback
        self.lanes.add(flow[0])
        self.gates.add(flow[1])
        if not self.prices or prices[-1].cost > self.prices[-1].cost:
            self.prices = prices  # the dearest flow's prices: its trip is the longest


@dataclass
class DateChoice:
    """The chosen date of every booking, and the estimate it was chosen by."""

    date_of: dict[int, dt.date]  # booking index -> date
    estimate: float
    moves: int


def choose_dates(
    bookings: Sequence[Booking], market: DateMarket, time_limit_s: float, search: bool = True
) -> DateChoice:
    """Each booking's date. Without ``search``, each leaves on its first open date the gate has room for (the
    day-by-day behaviour); with it, on each area's best dispatch dates (``dispatch_dates``), then moved while
    the estimate improves. Bookings no open date has room for at their gate are left out of ``date_of``."""
    started = time.monotonic()
    open_dates = {i: market.dates_of(b) for i, b in enumerate(bookings)}
    wanted = {i: days[0] for i, days in open_dates.items() if days}
    if search:
        by_area: dict[str, list[int]] = defaultdict(list)
        for i, b in enumerate(bookings):
            by_area[b.area].append(i)
        for area, members in sorted(by_area.items()):
            chosen = dispatch_dates([bookings[i] for i in members], market, AreaDayCost(market, area))
            wanted.update(zip(members, chosen, strict=True))
    state = _State(bookings, market)
    for i in sorted(wanted, key=lambda i: (wanted[i], bookings[i].last, i)):
        # The nearest date to the one wanted that the gate has room for, earlier first on a tie.
        near = sorted(open_dates[i], key=lambda d: (abs((d - wanted[i]).days), d))
        day = next((d for d in near if state.gate_room(i, d)), None)
        if day is not None:
            state.put(i, day)
    state.settle()
    moves = 0
    while search and time.monotonic() - started < time_limit_s:
        improved = state.move_singles(started, time_limit_s) + state.move_flows(started, time_limit_s)
        moves += improved
        if not improved:
            break
    return DateChoice(dict(state.date_of), state.total(), moves)


def dispatch_dates(bookings: Sequence[Booking], market: DateMarket, cost: AreaDayCost) -> list[dt.date]:
    """One area's best set of open dispatch dates, each booking on the first of them in its window. Every
    booking must have an open date.

    With every booking on the first chosen date on or after its first date, the dates chosen up to ``d`` with
    ``d`` the last of them serve exactly the bookings whose first date is at most ``d``; so the best choice is a
    shortest path over the dates (``best[d] = min over e < d of best[e] + cost of the bookings whose first date
    is after e and at most d, all on d``), the bookings of a step all able to wait until d. The cost is the
    estimate and the waiting, without the coach limit (the moves after it see the fleet).
    """
    if not bookings:
        return []
    # A booking whose first dates are closed starts at its first open one.
    bookings = [replace(b, first=market.dates_of(b)[0]) for b in bookings]
    order = sorted(range(len(bookings)), key=lambda i: bookings[i].first)
    start = bookings[order[0]].first
    end = max(b.last for b in bookings)
    span = (end - start).days + 1
    by_first: dict[int, list[int]] = defaultdict(list)
    for i in order:
        by_first[(bookings[i].first - start).days].append(i)
    best = [0.0] + [float("inf")] * span  # best[k]: bookings with first date before start + k all served
    came_from = [0] * (span + 1)
    for k in range(1, span + 1):  # dispatch on start + k - 1
        day = start + dt.timedelta(days=k - 1)
        if day in market.closed:  # no booking starts on it: the same bookings are served as the day before
            best[k], came_from[k] = best[k - 1], k - 1
            continue
        streams: dict[Stream, list[float]] = defaultdict(lambda: [0.0, 0.0])
        waiting = 0.0
        for j in range(k - 1, -1, -1):  # the step serves the bookings with first date in [start + j, day]
            members = by_first.get(j, [])
            if any(bookings[i].last < day for i in members):
                break
            for i in members:
                b = bookings[i]
                entry = streams[b.stream]
                entry[0] += b.size
                entry[1] += b.size * b.fallback_cost
                waiting += market.wait_cost_per_day * b.size * (day - b.first).days
            total = best[j] + cost(streams)[0] + waiting
            if total < best[k]:
                best[k], came_from[k] = total, j
    date_of: dict[int, dt.date] = {}
    k = span
    while k > 0:
        j = came_from[k]
        for first in range(j, k):
            for i in by_first.get(first, []):
                date_of[i] = start + dt.timedelta(days=k - 1)
        k = j
    return [date_of[i] for i in range(len(bookings))]


class _State:
    """Bookings on dates, with each area-date's estimate and each date's coaches, updated move by move."""

    def __init__(self, bookings: Sequence[Booking], market: DateMarket) -> None:
        self.bookings = bookings
        self.market = market
        self.cost_of = {area: AreaDayCost(market, area) for area in {b.area for b in bookings}}
        self.date_of: dict[int, dt.date] = {}
        self.streams: dict[tuple[str, dt.date], dict[Stream, list[float]]] = defaultdict(dict)
        self.members: dict[tuple[str, dt.date, Flow], set[int]] = defaultdict(set)
        self.bucket: dict[tuple[str, dt.date], tuple[float, int]] = {}
        self.arrivals: dict[tuple[str, dt.date], int] = defaultdict(int)
        self.coaches_out: dict[dt.date, int] = defaultdict(int)
        self.unsettled: set[tuple[str, dt.date]] = set()
        # An estimated coach beyond the contract costs more than any fallback it could save.
        self.over_penalty = 10 * max((p.cost for ps in market.prices.values() for p in ps), default=0.0)

    # ------------------------------------------------------------------ the objective
    def total(self) -> float:
        waiting = sum(self._wait(i, d) for i, d in self.date_of.items())
        over = sum(self._over(d, n) for d, n in self.coaches_out.items())
        return sum(c for c, _ in self.bucket.values()) + waiting + over

    def _wait(self, i: int, day: dt.date) -> float:
        b = self.bookings[i]
        return self.market.wait_cost_per_day * b.size * (day - b.first).days

    def _over(self, day: dt.date, coaches: int) -> float:
        return self.over_penalty * max(0, coaches - self.market.free_coaches.get(day, 0))

    def gate_room(self, i: int, day: dt.date) -> bool:
        b = self.bookings[i]
        cap = self.market.gate_cap.get(b.factory_id)
        arrive = day + dt.timedelta(days=b.arrival_offset)
        return cap is None or self.arrivals[(b.factory_id, arrive)] + b.size <= cap

    # ------------------------------------------------------------------ changes
    def put(self, i: int, day: dt.date) -> None:
        """Place booking ``i`` on ``day``; its area-date's estimate waits for ``settle``."""
        b = self.bookings[i]
        self._add(b, i, day, +1)
        self.date_of[i] = day
        self.unsettled.add((b.area, day))

    def settle(self) -> None:
        """Estimate every area-date ``put`` changed."""
        for area, day in sorted(self.unsettled):
            self._rebucket(area, day)
        self.unsettled.clear()

    def _apply(self, moved: Sequence[int], old: dt.date | None, new: dt.date) -> None:
        area = self.bookings[moved[0]].area
        for i in moved:
            b = self.bookings[i]
            if old is not None:
                self._add(b, i, old, -1)
            self._add(b, i, new, +1)
            self.date_of[i] = new
        for day in {new} | ({old} if old is not None else set()):
            self._rebucket(area, day)

    def _add(self, b: Booking, i: int, day: dt.date, sign: int) -> None:
        entry = self.streams[(b.area, day)].setdefault(b.stream, [0.0, 0.0])
        entry[0] += sign * b.size
        entry[1] += sign * b.size * b.fallback_cost
        members = self.members[(b.area, day, b.flow)]
        (members.add if sign > 0 else members.discard)(i)
        self.arrivals[(b.factory_id, day + dt.timedelta(days=b.arrival_offset))] += sign * b.size

    def _rebucket(self, area: str, day: dt.date) -> None:
        before = self.bucket.get((area, day), (0.0, 0))[1]
        self.bucket[(area, day)] = self.cost_of[area](self.streams[(area, day)])
        self._coaches(area, day, self.bucket[(area, day)][1] - before)

    def _coaches(self, area: str, day: dt.date, change: int) -> None:
        for k in range(self.market.days_away[area]):
            self.coaches_out[day + dt.timedelta(days=k)] += change

    # ------------------------------------------------------------------ moves
    def _delta(self, moved: Sequence[int], old: dt.date, new: dt.date) -> float:
        """What moving ``moved`` (of one area) from ``old`` to ``new`` changes in the objective."""
        area = self.bookings[moved[0]].area
        shift: dict[Stream, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for i in moved:
            b = self.bookings[i]
            shift[b.stream][0] += b.size
            shift[b.stream][1] += b.size * b.fallback_cost
        change = sum(self._wait(i, new) - self._wait(i, old) for i in moved)
        coaches: dict[dt.date, int] = defaultdict(int)
        for day, sign in ((old, -1), (new, +1)):
            streams = {k: list(v) for k, v in self.streams[(area, day)].items()}
            for stream, (n, fallback) in shift.items():
                entry = streams.setdefault(stream, [0.0, 0.0])
                entry[0] += sign * n
                entry[1] += sign * fallback
            cost, count = self.cost_of[area](streams)
            before_cost, before_count = self.bucket.get((area, day), (0.0, 0))
            change += cost - before_cost
            for k in range(self.market.days_away[area]):
                coaches[day + dt.timedelta(days=k)] += count - before_count
        for day, extra in coaches.items():
            if extra:
                out = self.coaches_out[day]
                change += self._over(day, out + extra) - self._over(day, out)
        return change

    def _room(self, moved: Sequence[int], new: dt.date) -> bool:
        need: dict[tuple[str, dt.date], int] = defaultdict(int)
        for i in moved:
            b = self.bookings[i]
            need[(b.factory_id, new + dt.timedelta(days=b.arrival_offset))] += b.size
        caps = self.market.gate_cap
        return all(k[0] not in caps or self.arrivals[k] + n <= caps[k[0]] for k, n in need.items())

    def move_singles(self, started: float, limit_s: float) -> int:
        """Move single bookings to the date that improves the objective most. Returns how many moved."""
        moved = 0
        for i in sorted(self.date_of, key=lambda i: -self.bookings[i].size):
            if time.monotonic() - started > limit_s:
                break
            old = self.date_of[i]
            best, best_delta = None, -1e-6
            for day in self.market.dates_of(self.bookings[i]):
                if day != old and self._room([i], day):
                    delta = self._delta([i], old, day)
                    if delta < best_delta:
                        best, best_delta = day, delta
            if best is not None:
                self._apply([i], old, best)
                moved += 1
        return moved

    def move_flows(self, started: float, limit_s: float) -> int:
        """Move a flow's whole share of a date (those of it who may) to another date."""
        moved = 0
        for (_, old, _), members in sorted(self.members.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
            if time.monotonic() - started > limit_s:
                break
            if len(members) < 2:
                continue
            targets = {d for i in members for d in self.market.dates_of(self.bookings[i])} - {old}
            best, best_delta, best_group = None, -1e-6, []
            for day in sorted(targets):
                group = sorted(i for i in members if self.bookings[i].first <= day <= self.bookings[i].last)
                if len(group) < 2 or not self._room(group, day):
                    continue
                delta = self._delta(group, old, day)
                if delta < best_delta:
                    best, best_delta, best_group = day, delta, group
            if best is not None:
                self._apply(best_group, old, best)
                moved += 1
        return moved
