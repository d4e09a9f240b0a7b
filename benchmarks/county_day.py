"""One county day prepared for the county benchmark: the planner's pipeline reproduced through public functions,
plus pricing, plan assembly and an independent plan checker shared by every method.

Nothing here calls the planner's private code: parties come from ``form_parties``, direct coaches from
``peel_direct_buses``, areas from ``cluster_factories``, tasks from ``bundle_for_pooling`` and coaches per area
from ``allocate_fleet``. Reachability, times, prices and checks are written again from the rules (issue 2) so
that a bug in the planner's own pricing or scheduling shows up as a difference here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from scheduler.areas import cluster_factories
from scheduler.grouping import DirectBus, Party, bundle_for_pooling, form_parties, peel_direct_buses
from scheduler.model import BusType, Factory, Leg, Place, Problem, Township
from scheduler.plan import Bus, Fallback, Plan, Stop
from scheduler.policy import AssemblyPoint
from scheduler.scenario import load_scenario
from scheduler.travel import GeodesicTravel

DAY_S = 24 * 3600
# The sentence of an unplaced line names the gate and the journey; the benchmark does not time them.
_UNREACHED = {
    "mode": "unplaced",
    "city": "",
    "gate_until": "",
    "report_date": "",
    "depart_from": "",
    "journey_hours": 0.0,
}


@dataclass(frozen=True, slots=True)
class PointPlace:
    """An assembly point seen as a place (the policy object names its id ``point_id``)."""

    point: AssemblyPoint

    @property
    def place_id(self) -> str:
        return self.point.point_id

    @property
    def name(self) -> str:
        return self.point.name

    @property
    def lat(self) -> float:
        return self.point.lat

    @property
    def lon(self) -> float:
        return self.point.lon


@dataclass
class CountyDay:
    """The busiest day of a generated county and everything every method shares."""

    problem: Problem
    travel: GeodesicTravel = field(default_factory=GeodesicTravel)
    _legs: dict[tuple[str, str], Leg] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = self.problem
        self.rules = p.rules
        self.depot = p.depot
        self.townships: dict[str, Township] = {t.township_id: t for t in p.townships}
        self.factories: dict[str, Factory] = {f.factory_id: f for f in p.factories}
        self.points: dict[str, PointPlace] = {a.point_id: PointPlace(a) for a in self.rules.assembly_points}
        self.travellers = {t.traveller_id: t for t in p.travellers}
        self.flow_sizes = Counter((t.township_id, t.factory_id) for t in p.travellers)
        self._group_report: dict[tuple[str, str, str], dt.date] = {}
        for t in p.travellers:
            if t.group_id:
                key = (t.group_id, t.township_id, t.factory_id)
                self._group_report[key] = min(self._group_report.get(key, t.report_date), t.report_date)
        self.largest_seats = max((b.seats for b in p.fleet), default=0)
        self.usable = [b for b in p.fleet if b.seats >= self.rules.charter_min_group and b.count > 0]
        parties = form_parties(p)
        self.parties = [q for q in parties if self.reachable(q)]
        self.unreachable = [q for q in parties if not self.reachable(q)]
        wanted = sorted({t.factory_id for t in p.travellers})
        self.area_of = cluster_factories([self.factories[f] for f in wanted], self.travel, self.rules.area_radius_km)

    # ------------------------------------------------------------------ geometry and time
    def place(self, place_id: str) -> Place:
        if place_id in self.townships:
            return self.townships[place_id]
        if place_id in self.factories:
            return self.factories[place_id]
        if place_id in self.points:
            return self.points[place_id]
        return self.depot

    def leg(self, a: Place, b: Place) -> Leg:
        key = (a.place_id, b.place_id)
        if key not in self._legs:
            self._legs[key] = self.travel.leg(a, b)
        return self._legs[key]

    def with_rests_s(self, drive_s: int) -> int:
        block = int(self.rules.max_continuous_drive_hours * 3600)
        rests = max(0, math.ceil(drive_s / block) - 1)
        return drive_s + rests * int(self.rules.rest_minutes * 60)

    def pickup_places(self, township_id: str) -> list[Place]:
        """Where a traveller may board: the township, or its assembly point."""
        places: list[Place] = [self.townships[township_id]]
        point = self.problem.assembly_point_of(township_id)
        if point is not None:
            places.append(self.points[point.point_id])
        return places

    def windows(self, factory: Factory, arrive_by: dt.date) -> list[tuple[int, int]]:
        """Receiving hours on the plan date and, when the report date allows, the next day."""
        last_day = min(1, (arrive_by - self.problem.date).days)
        merged: list[tuple[int, int]] = []
        for d in range(last_day + 1):
            start, end = d * DAY_S + factory.receive_from_s, d * DAY_S + factory.receive_until_s
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], end)  # a gate open round the clock
            else:
                merged.append((start, end))
        return merged

    def reachable(self, party: Party) -> bool:
        """A coach leaving the depot at depart_from, boarding one person at the township and driving on, reaches
        the gate before it closes on the last day the party may arrive."""
        township, factory = self.townships[party.township_id], self.factories[party.factory_id]
        windows = self.windows(factory, party.arrive_by)
        rules = self.rules
        boarding = round(rules.boarding_minutes_per_stop * 60) + round(rules.boarding_seconds_per_person)
        earliest = (
            rules.depart_from_s
            + self.with_rests_s(self.leg(self.depot, township).drive_s)
            + boarding
            + self.with_rests_s(self.leg(township, factory).drive_s)
        )
        return bool(windows) and earliest <= windows[-1][1]

    def fallback_per_person(self, township_id: str, factory_id: str) -> float:
        km = self.leg(self.townships[township_id], self.factories[factory_id]).distance_km
        return self.rules.reimburse_per_km * km

    # ------------------------------------------------------------------ the planner's pipeline, reproduced
    def direct_and_pooled(self) -> tuple[list[DirectBus], list[Party], dict[str, int]]:
        """Direct coaches for big flows and the parties left to pool, with the coaches left over."""
        fleet_left = {b.vehicle_type: b.count for b in self.usable}
        direct, pooled = peel_direct_buses(
            list(self.parties), fleet_left, tuple(self.usable), self.rules.direct_fill, self.rules.charter_min_group
        )
        return direct, pooled, fleet_left

    def pooled_areas(self, pooled: list[Party], fleet_left: dict[str, int]) -> list[PooledArea]:
        """The pooled parties per destination area, as bundled tasks, with the coaches each area may use."""
        from scheduler.budget import allocate_fleet  # imports ortools, which clashes with highspy in one process

        by_area: dict[str, list[Party]] = defaultdict(list)
        for party in pooled:
            by_area[self.area_of[party.factory_id]].append(party)
        allocation, _short = allocate_fleet(
            {a: sum(p.size for p in ps) for a, ps in by_area.items()},
            self.usable,
            dict(fleet_left),
            self.rules.charter_min_group,
        )
        return [PooledArea(a, bundle_for_pooling(by_area[a]), allocation[a]) for a in sorted(by_area)]

    def area_needs_second_driver(self, factory_ids: Iterable[str]) -> bool:
        """As the planner does: the second driver's cost is a fixed cost only when every bus needs one."""
        rules = self.rules
        for fid in factory_ids:
            factory = self.factories[fid]
            nearest = min(self.problem.townships, key=lambda t: self.leg(t, factory).distance_km)
            km = self.leg(self.depot, nearest).distance_km + self.leg(nearest, factory).distance_km
            hours = (self.leg(self.depot, nearest).drive_s + self.leg(nearest, factory).drive_s) / 3600
            if km <= rules.second_driver_km and hours <= rules.second_driver_hours:
                return False
        return True

    # ------------------------------------------------------------------ buses, prices, plans
    def price(
        self, bus_type: BusType, place_ids: Sequence[str], boarders_at: dict[str, int]
    ) -> tuple[float, float, int, float]:
        """(km with the return, one-way drive hours, drivers, cost CNY) of a coach visiting ``place_ids``."""
        rules = self.rules
        places = [self.depot, *(self.place(p) for p in place_ids)]
        one_way = [self.leg(a, b) for a, b in itertools.pairwise(places)]
        back = self.leg(places[-1], self.depot)
        km = sum(leg.distance_km for leg in one_way)
        hours = sum(leg.drive_s for leg in one_way) / 3600
        drivers = 2 if km > rules.second_driver_km or hours > rules.second_driver_hours else 1
        shuttles = sum(
            self.points[p].point.shuttle_cost_per_person * n for p, n in boarders_at.items() if p in self.points
        )
        cost = (
            bus_type.fixed_cost
            + bus_type.cost_per_km * (km + rules.empty_return_factor * back.distance_km)
            + (rules.second_driver_cost if drivers == 2 else 0.0)
            + shuttles
        )
        return km + back.distance_km, hours, drivers, cost

    def make_bus(self, bus_type: BusType, area: str, visits: Sequence[tuple[str, str, tuple[str, ...]]]) -> Bus:
        """A priced bus from visits (place_id, "pickup"|"dropoff", traveller ids), merged into physical stops and
        timed with the rules (first stop at the departure time, boarding and alighting times, rests, gates)."""
        merged: list[list] = []
        for place_id, kind, riders in visits:
            if merged and merged[-1][0] == place_id and merged[-1][1] == kind:
                merged[-1][2] = merged[-1][2] + tuple(riders)
            else:
                merged.append([place_id, kind, tuple(riders)])
        times = self.schedule(merged)
        stops = []
        for (place_id, kind, riders), (arrival, departure) in zip(merged, times, strict=True):
            stops.append(
                Stop(
                    place_id,
                    self.place(place_id).name,
                    kind,
                    arrival,
                    departure,
                    riders if kind == "pickup" else (),
                    riders if kind == "dropoff" else (),
                )
            )
        boarders = Counter({s.place_id: len(s.board) for s in stops if s.kind == "pickup"})
        km, hours, drivers, cost = self.price(bus_type, [s.place_id for s in stops], boarders)
        return Bus("", bus_type.vehicle_type, bus_type.seats, area, tuple(stops), km, hours, drivers, round(cost, 2))

    def schedule(self, stops: Sequence[Sequence]) -> list[tuple[int, int]]:
        """(arrival, departure) at each stop, leaving the depot at depart_from and waiting for a gate to open
        (next day if need be)."""
        rules = self.rules
        t = rules.depart_from_s
        out = []
        previous: Place | None = self.depot
        for place_id, kind, riders in stops:
            place = self.place(place_id)
            if previous is not None:
                t += self.with_rests_s(self.leg(previous, place).drive_s)
            arrival = t
            if kind == "pickup":
                dwell = rules.boarding_minutes_per_stop * 60 + rules.boarding_seconds_per_person * len(riders)
            else:
                dwell = rules.alighting_minutes_per_stop * 60
                factory = self.factories.get(place_id)
                if factory is not None:
                    last = min((self.party_arrive_by(tid) for tid in riders), default=self.problem.date)
                    for start, end in self.windows(factory, last):
                        if t <= end:
                            t = max(t, start)
                            break
                    arrival = t
            t = arrival + round(dwell)
            out.append((arrival, t))
            previous = place
        return out

    def party_arrive_by(self, traveller_id: str) -> dt.date:
        """A traveller's last day to arrive: the earliest report date of their group, at most the next day."""
        t = self.travellers[traveller_id]
        report = (
            self._group_report.get((t.group_id, t.township_id, t.factory_id), t.report_date)
            if t.group_id
            else t.report_date
        )
        return min(report, self.problem.date + dt.timedelta(days=1))

    def direct_bus(self, direct: DirectBus) -> Bus:
        first = direct.parties[0]
        riders = tuple(t for p in direct.parties for t in p.traveller_ids)
        return self.make_bus(
            direct.bus_type,
            self.area_of[first.factory_id],
            [(first.township_id, "pickup", riders), (first.factory_id, "dropoff", riders)],
        )

    def fallback_for(self, parties: Iterable[Party], cause: str = "no_seat") -> list[Fallback]:
        """The rule's fallback for parties no bus took, priced here; ``cause`` as the planner names it."""
        out = []
        for party in parties:
            mode = self.rules.fallback_mode(party.group_size)
            cost = round(self.fallback_per_person(party.township_id, party.factory_id), 2)
            flow = self.flow_sizes[(party.township_id, party.factory_id)]
            params = {
                "township": self.townships[party.township_id].name,
                "factory": self.factories[party.factory_id].name,
                "area": self.area_of.get(party.factory_id, ""),
                "size": party.size,
                "group_size": party.group_size,
                "flow_size": flow,
                "mode": mode,
                "per_person": cost,
                "threshold": self.rules.charter_min_group,
                "priced": self.rules.price_alternatives,
                "max_pickup_stops": self.rules.max_pickup_stops,
                "max_dropoff_stops": self.rules.max_dropoff_stops,
            }
            cause = "small_flow" if flow < self.rules.charter_min_group else cause
            out.extend(Fallback(t, mode, cause, params, cost) for t in party.traveller_ids)
        return out

    def subsidies(self) -> dict[str, float]:
        unplaced = {t for p in self.unreachable for t in p.traveller_ids}
        due = {}
        for t in self.problem.travellers:
            if t.registered_poor and t.traveller_id not in unplaced:
                factory = self.factories[t.factory_id]
                amount = self.rules.subsidy_for(factory.province, self.problem.factory_in_county(factory))
                if amount > 0:
                    due[t.traveller_id] = amount
        return due

    def plan(self, buses: list[Bus], fallback: list[Fallback], stats: dict | None = None) -> Plan:
        """A plan: the given buses and fallback, the unreachable unplaced, the same subsidies for everyone."""
        unplaced = [
            replace(line, mode="unplaced", cause="timetable", params=line.params | _UNREACHED, est_cost=0.0)
            for line in self.fallback_for(self.unreachable)
        ]
        buses = [Bus(f"B{i + 1:04d}", *_bus_fields(b)[1:]) for i, b in enumerate(buses)]
        return Plan(self.problem.date, tuple(buses), tuple(fallback + unplaced), self.subsidies(), stats or {})


def _bus_fields(bus: Bus) -> tuple:
    return (
        bus.bus_id,
        bus.vehicle_type,
        bus.seats,
        bus.area,
        bus.stops,
        bus.distance_km,
        bus.drive_hours,
        bus.drivers,
        bus.cost,
    )


@dataclass(frozen=True, slots=True)
class PooledArea:
    """One destination area's pooled tasks (bundles of parties) and the coaches it may use."""

    name: str
    tasks: list[tuple[Party, ...]]
    coaches: list[BusType]

    @property
    def travellers(self) -> int:
        return sum(p.size for task in self.tasks for p in task)


def load_day(folder: Path) -> CountyDay:
    """The busiest day of a scenario folder."""
    scenario = load_scenario(folder)
    return CountyDay(scenario.problem_for(scenario.busiest_day()))


def reprice(day: CountyDay, bus: Bus) -> float:
    """The cost of a bus by this module's own pricing (to cross-check a planner's prices)."""
    bus_type = next(b for b in day.problem.fleet if b.vehicle_type == bus.vehicle_type)
    boarders = Counter()
    for s in bus.stops:
        if s.kind == "pickup":
            boarders[s.place_id] += len(s.board)
    return day.price(bus_type, [s.place_id for s in bus.stops], boarders)[3]
