"""The one place for a coach's times and price.

Leg times with the driver's rests, the time a stop takes, the gate's windows, the forward pass (every stop as
early as it can be) and the backward pass (every stop as late as the next allows, so that nobody waits on
board), the longest ride, and what a bus costs: the routing model, construction, re-seating, direct coaches,
the plan and its checker all ask here.

Times are seconds after midnight of the plan date. A coach leaves the depot at ``depart_from`` at the
earliest, so its first stop can start no earlier than that plus the drive there; riders board on the plan
date; a gate receives on the plan date or, when the report date allows, the next day.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property

from scheduler.clock import DAY_S
from scheduler.model import BusType, Depot, Factory, Leg, Place, Problem, Township, Traveller
from scheduler.plan import Bus, Stop
from scheduler.policy import AssemblyPoint
from scheduler.travel import GeodesicTravel, TravelModel, is_symmetric

Windows = tuple[tuple[int, int], ...]


# ------------------------------------------------------------------------------------------ the passes
def forward_pass(start_s: int, transit_s: Sequence[int], windows: Sequence[Windows]) -> list[int] | None:
    """Earliest service start at each stop: from ``start_s``, ``transit_s[i]`` (the previous stop's service and
    the drive) reaches stop ``i``, which waits for its next open window. None when a window is missed."""
    times: list[int] = []
    t = start_s
    for transit, open_at in zip(transit_s, windows, strict=True):
        t += transit
        start = next((max(t, a) for a, b in open_at if t <= b), None)
        if start is None:
            return None
        t = start
        times.append(t)
    return times


def backward_pass(times: Sequence[int], transit_s: Sequence[int], windows: Sequence[Windows]) -> list[int]:
    """Each stop as late as the next one allows, within its windows; the last stop keeps its time. Applied to
    a forward pass, it keeps every window and leaves nobody waiting on board for a gate."""
    out = list(times)
    for i in range(len(out) - 2, -1, -1):
        latest = out[i + 1] - transit_s[i + 1]
        for a, b in windows[i]:
            if a <= latest:
                out[i] = max(out[i], min(b, latest))
    return out


def fit_times(
    start_s: int, transit_s: Sequence[int], windows: Sequence[Windows], max_span_s: int | None = None
) -> list[int] | None:
    """The service start at each stop of the earliest-finishing schedule whose span (first to last stop) is at
    most ``max_span_s``, each stop as late as the next allows; None when there is none."""
    earliest = earliest_fit(start_s, transit_s, windows, max_span_s)
    return None if earliest is None else backward_pass(earliest, transit_s, windows)


def earliest_fit(
    start_s: int, transit_s: Sequence[int], windows: Sequence[Windows], max_span_s: int | None = None
) -> list[int] | None:
    """The forward pass of ``fit_times``: each stop as early as it can be after the chosen start.

    Starting the first stop as early as it can is not always right: when the gates close at night, an early
    start may reach some gates in the evening and the last one only the next morning, a longer ride than
    leaving later and arriving at every gate in the morning. So the forward pass is tried from each start at
    which some stop would reach one of its windows' bounds exactly (the span changes slope only there),
    earliest first; the forward times grow with the start, so the first that fits finishes earliest.
    """
    if not transit_s:
        return []

    def fits(earliest: list[int]) -> bool:
        return max_span_s is None or backward_pass(earliest, transit_s, windows)[0] >= earliest[-1] - max_span_s

    earliest = forward_pass(start_s, transit_s, windows)
    if earliest is None or fits(earliest):
        return earliest  # None: later starts miss that window too
    reach = list(itertools.accumulate(transit_s))  # from start_s to each stop, without waiting
    starts = {t for j, open_at in enumerate(windows) for w in open_at for t in (w[0] - reach[j], w[1] - reach[j])}
    for t0 in sorted(t for t in starts if t > start_s):
        earliest = forward_pass(t0, transit_s, windows)
        if earliest is None:
            return None
        if fits(earliest):
            return earliest
    return None


# ------------------------------------------------------------------------------------------ a day's timetable
@dataclass(frozen=True, slots=True)
class BusPrice:
    distance_km: float  # depot, every stop, back to the depot
    drive_hours: float  # one way, depot to the last stop, without rests
    drivers: int
    cost: float  # CNY


class Timetable:
    """Times and prices of one day's coaches under the county's rules, with the day's legs cached."""

    def __init__(self, problem: Problem, travel: TravelModel | None = None) -> None:
        self.problem = problem
        self.rules = problem.rules
        self.travel: TravelModel = travel or GeodesicTravel()
        self.depot: Depot = problem.depot
        self._legs: dict[tuple[str, str], Leg] = {}
        self._symmetric = is_symmetric(self.travel)
        self._earliest: dict[tuple[str, str], int] = {}
        self._places: dict[str, Place] = {self.depot.place_id: self.depot}
        self._places.update({p.point_id: p for p in self.rules.assembly_points})
        self._townships = {t.township_id: t for t in problem.townships}
        self._factories = {f.factory_id: f for f in problem.factories}
        self._places.update(self._townships)
        self._places.update(self._factories)
        # A registered group rides together, so it arrives by its earliest member's report date; coaches
        # arrive on the plan date or the next day, so later report dates are all alike.
        horizon = problem.date + dt.timedelta(days=1)
        group_by: dict[tuple[str, str, str], dt.date] = {}
        for t in problem.travellers:
            if t.group_id:
                key = (t.group_id, t.township_id, t.factory_id)
                group_by[key] = min(group_by.get(key, t.report_date), t.report_date)
        self._arrive_by = {
            t.traveller_id: min(group_by.get((t.group_id, t.township_id, t.factory_id), t.report_date), horizon)
            for t in problem.travellers
        }

    @cached_property
    def people(self) -> dict[str, Traveller]:
        """The day's travellers by id."""
        return {t.traveller_id: t for t in self.problem.travellers}

    # -------------------------------------------------------------- places and legs
    def place(self, place_id: str) -> Place:
        return self._places[place_id]

    def township(self, township_id: str) -> Township:
        return self._townships[township_id]

    def factory(self, factory_id: str) -> Factory:
        return self._factories[factory_id]

    def leg(self, a: Place, b: Place) -> Leg:
        key = (a.place_id, b.place_id)
        if self._symmetric and key[1] < key[0]:
            key = (key[1], key[0])  # geodesics are the costly part of building a day's models: one per pair
        if key not in self._legs:
            self._legs[key] = self.travel.leg(a, b)
        return self._legs[key]

    def drive_s(self, a: Place, b: Place) -> int:
        """Driving time from ``a`` to ``b`` with the rests the driver rules require on a leg that long."""
        return self.with_rests_s(self.leg(a, b).drive_s)

    def with_rests_s(self, drive_s: int) -> int:
        block = int(self.rules.max_continuous_drive_hours * 3600)
        rests = max(0, math.ceil(drive_s / block) - 1)
        return drive_s + rests * int(self.rules.rest_minutes * 60)

    # -------------------------------------------------------------- stops
    def stop_overhead_s(self, kind: str) -> int:
        """The time a stop takes whoever boards: opening the doors, luggage, the roll call."""
        minutes = self.rules.boarding_minutes_per_stop if kind == "pickup" else self.rules.alighting_minutes_per_stop
        return round(minutes * 60)

    def boarding_s(self, boarders: int) -> int:
        return round(self.rules.boarding_seconds_per_person * boarders)

    def dwell_s(self, kind: str, boarders: int) -> int:
        """How long a stop takes: its overhead, and at a pickup each boarder's time."""
        return self.stop_overhead_s(kind) + (self.boarding_s(boarders) if kind == "pickup" else 0)

    def pickup_windows(self, place: Place) -> Windows:
        """Boarding happens on the plan date, once a coach leaving the depot at ``depart_from`` can be there."""
        return ((self.rules.depart_from_s + self.drive_s(self.depot, place), DAY_S),)

    def arrive_by(self, traveller_id: str) -> dt.date:
        """The last day a traveller may arrive: the report date, at most the day after the plan date."""
        return self._arrive_by[traveller_id]

    def delivery_windows(self, factory: Factory, arrive_by: dt.date) -> Windows:
        """The gate's receiving hours on the plan date and, when the report date allows, the next day."""
        last_day = min(1, (arrive_by - self.problem.date).days)
        return tuple(
            (day * DAY_S + factory.receive_from_s, day * DAY_S + factory.receive_until_s)
            for day in range(0, last_day + 1)
        )

    def stop_windows(self, stop: Stop) -> Windows:
        if stop.kind == "pickup":
            return self.pickup_windows(self.place(stop.place_id))
        return self.delivery_windows(self.factory(stop.place_id), min(self.arrive_by(t) for t in stop.alight))

    def earliest_arrival_s(self, township: Place, factory: Place) -> int:
        """The earliest a coach can reach ``factory`` from ``township`` (before gate hours)."""
        key = (township.place_id, factory.place_id)
        if key not in self._earliest:  # asked once per party: tens of thousands of times on a big day
            start = self.pickup_windows(township)[0][0]
            self._earliest[key] = start + self.dwell_s("pickup", 1) + self.drive_s(township, factory)
        return self._earliest[key]

    def days_to_gate(self, township: Place, factory: Factory) -> int | None:
        """On which day after leaving a coach from ``township`` can first be received at ``factory``'s gate: 0 the
        same day, 1 the next (coaches arrive on the travel date or the next day), None when neither."""
        earliest = self.earliest_arrival_s(township, factory)
        return next((day for day in (0, 1) if earliest <= day * DAY_S + factory.receive_until_s), None)

    # -------------------------------------------------------------- schedules
    def _transits(self, stops: Sequence[Stop]) -> list[int]:
        places = [self.place(s.place_id) for s in stops]
        transit = [0]
        for i in range(1, len(stops)):
            before = stops[i - 1]
            transit.append(self.dwell_s(before.kind, len(before.board)) + self.drive_s(places[i - 1], places[i]))
        return transit

    def earliest_times(self, stops: Sequence[Stop]) -> list[int] | None:
        """The earliest each stop can start in the timetable ``schedule`` gives them (which then has each stop as
        late as the next allows); None when there is no timetable."""
        windows = [self.stop_windows(s) for s in stops]
        return earliest_fit(windows[0][0][0], self._transits(stops), windows, self.max_ride_s) if stops else []

    def schedule(self, stops: Sequence[Stop]) -> tuple[Stop, ...] | None:
        """The stops with their times: the earliest arrival at the last stop that keeps every gate and the time
        on board within the rules, with each stop as late as the next allows, so that nobody waits on board.
        None when there is no such timetable."""
        if not stops:
            return ()
        windows = [self.stop_windows(s) for s in stops]
        times = fit_times(windows[0][0][0], self._transits(stops), windows, self.max_ride_s)
        if times is None:
            return None
        return tuple(
            Stop(s.place_id, s.place_name, s.kind, t, t + self.dwell_s(s.kind, len(s.board)), s.board, s.alight)
            for s, t in zip(stops, times, strict=True)
        )

    def can_call_at(self, stops: Sequence[Stop], due: Collection[str] = ()) -> bool:
        """Whether a coach can call at these stops, in this order, whatever its riders: pickups in their hours,
        gates in theirs on the plan date or the next (only the plan date at the ``due`` gates, where a rider
        reports that day), within the time on board. Riders only narrow it (their report dates, their boarding),
        so where this fails no ``schedule`` of the stops works."""
        if not stops:
            return True
        day, next_day = self.problem.date, self.problem.date + dt.timedelta(days=1)
        windows = [
            self.pickup_windows(self.place(s.place_id))
            if s.kind == "pickup"
            else self.delivery_windows(self.factory(s.place_id), day if s.place_id in due else next_day)
            for s in stops
        ]
        return fit_times(windows[0][0][0], self._transits(stops), windows, self.max_ride_s) is not None

    @property
    def max_ride_s(self) -> int:
        """The longest a coach's riders may be on board: from its first stop to its last."""
        return round(self.rules.max_ride_hours * 3600)

    # -------------------------------------------------------------- the coach's whole trip
    def trip_s(self, bus: Bus) -> tuple[int, int]:
        """When the coach leaves the depot and when it is back there, in seconds after midnight of the plan date.

        It leaves in time to reach its first stop by the drive there; after its last stop it runs home empty with
        the driver's rests. A driver may drive ``second_driver_hours`` in any 24 hours, so where the trip's driving,
        out and back, is more than its drivers may do in a day, the run home starts no earlier than 24 hours after
        the coach left: a day out and a day back. (Any 24 hours then hold at most one way's driving, which the
        second-driver rule keeps within the crew's day.)
        """
        places = [self.place(s.place_id) for s in bus.stops]
        leaves = bus.stops[0].arrival_s - self.drive_s(self.depot, places[0])
        out_s = sum(self.leg(a, b).drive_s for a, b in itertools.pairwise([self.depot, *places]))
        home_s = self.leg(places[-1], self.depot).drive_s
        crew_day_s = bus.drivers * self.rules.second_driver_hours * 3600
        home_from = bus.stops[-1].departure_s
        if out_s + home_s > crew_day_s:
            home_from = max(home_from, leaves + DAY_S)
        return leaves, home_from + self.with_rests_s(home_s)

    # -------------------------------------------------------------- prices
    def needs_second_driver(self, one_way_km: float, one_way_drive_s: float) -> bool:
        rules = self.rules
        return one_way_km > rules.second_driver_km or one_way_drive_s / 3600 > rules.second_driver_hours

    def driver_cost(self, drivers: int) -> float:
        return self.rules.second_driver_cost if drivers == 2 else 0.0

    def km_cost(self, bus_type: BusType, km: float, to_depot: bool) -> float:
        """Per-km cost of a leg; the empty run back to the depot at the county's share of the rate."""
        return bus_type.cost_per_km * km * (self.rules.empty_return_factor if to_depot else 1.0)

    def shuttle_cost(self, place: Place, boarders: int) -> float:
        """What the township's shuttle to an assembly point costs for those boarding there."""
        return place.shuttle_cost_per_person * boarders if isinstance(place, AssemblyPoint) else 0.0

    def price(self, bus_type: BusType, stops: Sequence[Stop]) -> BusPrice:
        """Fixed cost, per km from the depot through every stop (and the priced empty return), a second driver
        when the one-way trip is longer than the rules allow for one, and the shuttles to assembly points."""
        places = [self.depot, *(self.place(s.place_id) for s in stops)]
        one_way = [self.leg(a, b) for a, b in itertools.pairwise(places)]
        back = self.leg(places[-1], self.depot)
        one_way_km = sum(leg.distance_km for leg in one_way)
        one_way_s = sum(leg.drive_s for leg in one_way)
        drivers = 2 if self.needs_second_driver(one_way_km, one_way_s) else 1
        cost = (
            bus_type.fixed_cost
            + self.km_cost(bus_type, one_way_km, to_depot=False)
            + self.km_cost(bus_type, back.distance_km, to_depot=True)
            + self.driver_cost(drivers)
            + sum(self.shuttle_cost(place, len(s.board)) for place, s in zip(places[1:], stops, strict=True))
        )
        return BusPrice(round(one_way_km + back.distance_km, 1), round(one_way_s / 3600, 2), drivers, round(cost, 2))

    def make_bus(self, bus_type: BusType, area: str, stops: Sequence[Stop], bus_id: str = "") -> Bus | None:
        """A timed and priced bus over ``stops`` (their riders set, times recomputed), or None when its
        timetable does not work."""
        timed = self.schedule(stops)
        if timed is None:
            return None
        p = self.price(bus_type, timed)
        return Bus(
            bus_id, bus_type.vehicle_type, bus_type.seats, area, timed, p.distance_km, p.drive_hours, p.drivers, p.cost
        )
