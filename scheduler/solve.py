"""solve(problem) -> Plan: group travellers, fill direct coaches, pool the rest per destination area.

Pipeline: parties (groups kept whole) -> direct coaches for big flows -> destination areas
(factories clustered by distance) -> one pickup-and-delivery model per area, solved in parallel ->
re-seating over all the routes found (coach types, who rides where) -> buses, fallback list with the
rule applied, subsidies.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from multiprocessing import get_context

import numpy as np

from scheduler.areas import destination_areas, split_factories
from scheduler.grouping import DirectBus, Party, bundle_for_pooling, form_parties, peel_direct_buses
from scheduler.model import BusType, Factory, Place, Problem
from scheduler.pdp import NodeKind, PdpInstance, PdpNode, PdpRequest, PdpSolution, PdpVehicle
from scheduler.plan import Bus, Fallback, Plan, Stop
from scheduler.policy import AssemblyPoint, PolicyRules
from scheduler.routing import SearchParams, solve_pdp, solve_seating
from scheduler.seating import RiderUnit, SeatingProblem, SeatRoute
from scheduler.travel import GeodesicTravel, Leg, TravelModel

DAY_S = 24 * 3600
FEN = 100  # the models count money in fen so that integer costs lose nothing
# Leaving a traveller unplaced when the county wants everyone on a bus costs this much per person.
MUST_SERVE_PENALTY_FEN = 10_000_000

ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How hard to work. ``time_limit_s`` bounds the whole solve, grouping and areas included."""

    time_limit_s: float = 30.0
    workers: int = 2
    # Larger destination areas are cut into compact parts of at most this many routing tasks.
    max_tasks_per_model: int = 250
    # Share of the time limit kept for re-seating travellers over all the routes found (scheduler.seating).
    seating_share: float = 0.2
    search: SearchParams = field(default_factory=SearchParams)


def solve(
    problem: Problem,
    params: SolveParams | None = None,
    travel: TravelModel | None = None,
    on_progress: ProgressCallback | None = None,
) -> Plan:
    """Plan one day: chartered buses for whoever they serve best, the policy fallback for the rest.

    Args:
        problem: the day's travellers, places, fleet and county rules.
        params: time limit, parallel workers, search settings.
        travel: distances and driving times (default: geodesic with a road detour factor).
        on_progress: called with (share done, message) while planning.

    Returns:
        The plan: every eligible traveller is on exactly one bus or in the fallback list.
    """
    started = time.monotonic()
    params = params or SolveParams()
    planner = _Planner(problem, travel or GeodesicTravel(), params, on_progress or (lambda share, message: None))
    return planner.run(started)


@dataclass
class _Task:
    """A request of the routing model: parties of one flow that ride together."""

    parties: tuple[Party, ...]
    size: int
    pickup_places: tuple[Place, ...]
    factory: Factory
    penalty_fen: int


@dataclass(frozen=True, slots=True)
class _StopSpec:
    """What a stop's timetable depends on: where, what happens there, and when it may start."""

    place: Place
    kind: str
    boarders: int
    windows: tuple[tuple[int, int], ...]


@dataclass
class _AreaModel:
    name: str
    instance: PdpInstance
    tasks: list[_Task]
    node_task: list[int]  # node -> task index (-1 for the depot)
    node_place: list[Place]
    vehicle_types: list[BusType]
    fleet_short: bool = False


class _Planner:
    def __init__(self, problem: Problem, travel: TravelModel, params: SolveParams, report: ProgressCallback) -> None:
        self.problem = problem
        self.rules: PolicyRules = problem.rules
        self.travel = travel
        self.params = params
        self.report = report
        self.townships = {t.township_id: t for t in problem.townships}
        self.factories = {f.factory_id: f for f in problem.factories}
        self.depot = problem.depot
        self._legs: dict[tuple[str, str], Leg] = {}
        self.fallback: list[Fallback] = []
        self.area_of = destination_areas(problem, travel)

    # ----------------------------------------------------------------- helpers
    def leg(self, a: Place, b: Place) -> Leg:
        key = (a.place_id, b.place_id)
        if key not in self._legs:
            self._legs[key] = self.travel.leg(a, b)
        return self._legs[key]

    def with_rests_s(self, drive_s: int) -> int:
        """Driving time plus the rests the driver rules require on a leg of that length."""
        block = int(self.rules.max_continuous_drive_hours * 3600)
        rests = max(0, math.ceil(drive_s / block) - 1)
        return drive_s + rests * int(self.rules.rest_minutes * 60)

    def fallback_cost(self, party: Party) -> float:
        """What the policy pays per person instead of a bus: reimbursement or a ticket, both per km."""
        km = self.leg(self.townships[party.township_id], self.factories[party.factory_id]).distance_km
        return self.rules.reimburse_per_km * km

    def delivery_windows(self, factory: Factory, arrive_by: dt.date) -> tuple[tuple[int, int], ...]:
        last_day = min(1, (arrive_by - self.problem.date).days)
        return tuple(
            (day * DAY_S + factory.receive_from_s, day * DAY_S + factory.receive_until_s)
            for day in range(0, last_day + 1)
        )

    def earliest_arrival_s(self, party: Party) -> int:
        leg = self.leg(self.townships[party.township_id], self.factories[party.factory_id])
        return self.rules.depart_from_s + self.with_rests_s(leg.drive_s)

    # ----------------------------------------------------------------- pipeline
    def run(self, started: float) -> Plan:
        rules = self.rules
        self.report(0.0, f"{len(self.problem.travellers)} travellers on {self.problem.date}")
        parties = [p for p in form_parties(self.problem) if self._reachable(p)]
        self.flow_sizes = Counter((t.township_id, t.factory_id) for t in self.problem.travellers)

        usable = [b for b in self.problem.fleet if b.seats >= rules.charter_min_group and b.count > 0]
        fleet_left = {b.vehicle_type: b.count for b in usable}
        direct, pooled = peel_direct_buses(
            parties, fleet_left, tuple(usable), rules.direct_fill, rules.charter_min_group
        )
        direct_buses = []
        for coach in direct:
            bus = self._direct_bus(coach)
            if bus is None:  # cannot make the gate's hours or the time on board: let the pool decide
                pooled.extend(coach.parties)
                fleet_left[coach.bus_type.vehicle_type] += 1
            else:
                direct_buses.append(bus)
        self.report(0.05, f"{len(direct_buses)} direct coaches; {sum(p.size for p in pooled)} travellers to pool")

        by_area = self._split_into_models(pooled)
        pax_by_area = {a: sum(p.size for p in ps) for a, ps in by_area.items()}
        allocation, short = allocate_fleet(pax_by_area, usable, fleet_left, rules.charter_min_group)
        models = [self._build_area(name, by_area[name], allocation[name]) for name in sorted(by_area)]
        for model in models:
            model.fleet_short = model.name in short
        self.report(0.1, f"{len(models)} destination areas to pool")

        solutions = self._solve_areas(models, started)

        buses = list(direct_buses)
        for model, solution in zip(models, solutions, strict=True):
            buses.extend(self._area_buses(model, solution))
        buses = self._drop_underfilled(buses, by_area)
        buses, seating_saving_cny = self._reseat(buses, parties, usable, started)
        buses.sort(key=lambda b: (b.area, b.stops[0].arrival_s, b.stops[0].place_id, b.stops[-1].place_id))
        buses = [_renumber(b, self.problem.date.strftime("%m%d"), i + 1) for i, b in enumerate(buses)]

        self.fallback.sort(key=lambda f: f.traveller_id)
        plan = Plan(
            self.problem.date,
            tuple(buses),
            tuple(self.fallback),
            self._subsidies(),
            {
                "solve_s": round(time.monotonic() - started, 2),
                "areas": len(models),
                "direct_buses": len(direct_buses),
                "seating_saving_cny": seating_saving_cny,
                "time_limit_s": self.params.time_limit_s,
            },
        )
        self.report(1.0, f"{plan.totals.buses} buses, {plan.totals.on_buses} travellers on buses")
        return plan

    def _reachable(self, party: Party) -> bool:
        """A party that cannot reach its factory's gate by its report date is unplaced."""
        factory = self.factories[party.factory_id]
        windows = self.delivery_windows(factory, party.arrive_by)
        if windows and self.earliest_arrival_s(party) <= windows[-1][1]:
            return True
        township = self.townships[party.township_id]
        for tid in party.traveller_ids:
            self.fallback.append(
                Fallback(
                    tid,
                    "unplaced",
                    f"{_who(party)} from {township.name} to {factory.name}: even leaving at "
                    f"{self.rules.depart_from} the journey cannot reach the gate before it closes on the report "
                    f"date {party.arrive_by}; the township must arrange travel on an earlier date "
                    "or the factory accept a later report date.",
                    0.0,
                )
            )
        return False

    # ----------------------------------------------------------------- area models
    def _split_into_models(self, pooled: list[Party]) -> dict[str, list[Party]]:
        """Parties per routing model: one model per destination area, cut into compact parts when an
        area has more tasks than one model solves well in the time."""
        area_of = self.area_of
        by_area: dict[str, list[Party]] = defaultdict(list)
        for party in pooled:
            by_area[area_of[party.factory_id]].append(party)
        models: dict[str, list[Party]] = {}
        for area, parties in sorted(by_area.items()):
            tasks_per_factory = Counter(bundle[0].factory_id for bundle in bundle_for_pooling(parties))
            factories = [self.factories[f] for f in sorted(tasks_per_factory)]
            parts = split_factories(factories, dict(tasks_per_factory), self.params.max_tasks_per_model)
            for k, part in enumerate(parts, start=1):
                ids = {f.factory_id for f in part}
                name = area if len(parts) == 1 else f"{area} {k}"
                models[name] = [p for p in parties if p.factory_id in ids]
        return models

    def _build_area(self, name: str, parties: list[Party], vehicle_types: list[BusType]) -> _AreaModel:
        rules = self.rules
        tasks: list[_Task] = []
        for bundle in bundle_for_pooling(parties):
            first = bundle[0]
            township = self.townships[first.township_id]
            point = self.problem.assembly_point_of(first.township_id)
            places: tuple[Place, ...] = (township,) if point is None else (township, point)
            size = sum(p.size for p in bundle)
            per_person = self.fallback_cost(first)
            penalty = per_person * size * FEN if rules.price_alternatives else MUST_SERVE_PENALTY_FEN * size
            tasks.append(_Task(bundle, size, places, self.factories[first.factory_id], max(1, round(penalty))))

        # Nodes: the depot, then per task its pickup alternatives and its delivery.
        depot_window = ((rules.depart_from_s, 2 * DAY_S + rules.depart_from_s),)
        nodes = [PdpNode(NodeKind.DEPOT, 0, 0, depot_window)]
        node_task = [-1]
        node_place: list[Place] = [self.depot]
        place_index: dict[str, int] = {self.depot.place_id: 0}
        requests = []
        for k, task in enumerate(tasks):
            pickups = []
            for place in task.pickup_places:
                pickups.append(len(nodes))
                nodes.append(
                    PdpNode(
                        NodeKind.PICKUP,
                        place_index.setdefault(place.place_id, len(place_index)),
                        task.size,
                        ((rules.depart_from_s, DAY_S),),
                        round(rules.boarding_seconds_per_person * task.size),
                    )
                )
                node_task.append(k)
                node_place.append(place)
            delivery = len(nodes)
            nodes.append(
                PdpNode(
                    NodeKind.DELIVERY,
                    place_index.setdefault(task.factory.place_id, len(place_index)),
                    -task.size,
                    self.delivery_windows(task.factory, min(p.arrive_by for p in task.parties)),
                )
            )
            node_task.append(k)
            node_place.append(task.factory)
            requests.append(PdpRequest(tuple(pickups), delivery, task.penalty_fen))

        # Matrices between nodes, from the (few) places they stand at.
        stops = list({p.place_id: p for p in node_place}.values())
        index_of = {p.place_id: k for k, p in enumerate(stops)}
        at = np.array([index_of[p.place_id] for p in node_place])
        place_km = np.array([[self.leg(a, b).distance_km for b in stops] for a in stops])
        place_s = np.array([[self.with_rests_s(self.leg(a, b).drive_s) for b in stops] for a in stops])
        km = place_km[np.ix_(at, at)]
        moving = at[:, None] != at[None, :]
        kinds = [node.kind for node in nodes]
        service = np.array([node.service for node in nodes])
        overhead = np.array(
            [
                round(rules.boarding_minutes_per_stop * 60)
                if kind is NodeKind.PICKUP
                else round(rules.alighting_minutes_per_stop * 60)
                if kind is NodeKind.DELIVERY
                else 0
                for kind in kinds
            ]
        )
        travel_time = service[:, None] + overhead[:, None] * moving + place_s[np.ix_(at, at)]
        # The depot legs take no time in the model: the coach positions itself at its first township
        # before boarding starts, so a route's time span is its first passenger's time on board.
        travel_time[0, :] = 0
        travel_time[:, 0] = 0
        np.fill_diagonal(travel_time, 0)
        distance_m = np.rint(km * 1000).astype(np.int64)

        # A shuttle to an assembly point costs per person boarding there, on every arc into it.
        shuttle_fen = np.zeros(len(nodes))
        for j, place in enumerate(node_place):
            if isinstance(place, AssemblyPoint):
                shuttle_fen[j] = place.shuttle_cost_per_person * nodes[j].demand * FEN
        return_factor = np.ones(len(nodes))
        return_factor[0] = rules.empty_return_factor
        classes = sorted({b.cost_per_km for b in vehicle_types})
        arc_costs = []
        for per_km in classes:
            matrix = np.rint(per_km * km * FEN * return_factor[None, :] + shuttle_fen[None, :]).astype(np.int64)
            np.fill_diagonal(matrix, 0)
            arc_costs.append(matrix.tolist())

        second_driver = self._area_needs_second_driver({t.factory.place_id: t.factory for t in tasks}.values())
        max_penalty_per_person = max((t.penalty_fen / t.size for t in tasks), default=1)
        vehicles = []
        for bus_type in vehicle_types:
            fixed = round(bus_type.fixed_cost * FEN) + (round(rules.second_driver_cost * FEN) if second_driver else 0)
            vehicles.append(
                PdpVehicle(
                    capacity=bus_type.seats,
                    fixed_cost=fixed,
                    cost_class=classes.index(bus_type.cost_per_km),
                    start=0,
                    end=0,
                    min_load=rules.charter_min_group,
                    shortfall_cost=round(max_penalty_per_person * (rules.charter_min_group + 1)),
                    max_span=round(rules.max_ride_hours * 3600),
                )
            )
        instance = PdpInstance(
            tuple(nodes),
            tuple(requests),
            tuple(vehicles),
            distance_m.tolist(),
            travel_time.astype(np.int64).tolist(),
            arc_costs,
            rules.max_pickup_stops,
            rules.max_dropoff_stops,
        )
        return _AreaModel(name, instance, tasks, node_task, node_place, list(vehicle_types))

    def _area_needs_second_driver(self, factories: Iterable[Factory]) -> bool:
        """Put the second driver's cost in the model only when every bus to the area will need one."""
        rules = self.rules
        for factory in factories:
            nearest = min(self.problem.townships, key=lambda t: self.leg(t, factory).distance_km)
            km = self.leg(self.depot, nearest).distance_km + self.leg(nearest, factory).distance_km
            hours = (self.leg(self.depot, nearest).drive_s + self.leg(nearest, factory).drive_s) / 3600
            if km <= rules.second_driver_km and hours <= rules.second_driver_hours:
                return False
        return True

    def _solve_areas(self, models: list[_AreaModel], started: float) -> list[PdpSolution]:
        """Solve the areas on ``workers`` processes, each with a share of the remaining time."""
        if not models:
            return []
        # Keep time for re-seating and assembling the plan afterwards, and for each model's overshoot of its
        # own limit.
        workers = max(1, min(self.params.workers, len(models)))
        reserve_s = (
            self._assembly_reserve_s()
            + 0.15 * len(models) / workers
            + self.params.seating_share * self.params.time_limit_s
        )
        left = max(0.2, self.params.time_limit_s - (time.monotonic() - started) - reserve_s)
        sizes = [len(m.instance.requests) for m in models]
        budgets = split_time_budget(sizes, workers, left)
        searches = [replace(self.params.search, time_limit_s=b) for b in budgets]
        if workers == 1:
            results = []
            for i, (model, search) in enumerate(zip(models, searches, strict=True)):
                self.report(0.1 + 0.85 * i / len(models), f"pooling area {model.name}")
                results.append(solve_pdp(model.instance, search))
            return results
        order = sorted(range(len(models)), key=lambda i: -budgets[i])
        # The budgets assume every model starts on time; on a busy machine a late one is cut to the deadline.
        deadline = time.monotonic() + left
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            futures = {pool.submit(_solve_by, models[i].instance, searches[i], deadline): i for i in order}
            pending = set(futures)
            while pending:
                _done, pending = wait(pending, timeout=0.5)
                elapsed = time.monotonic() - started
                finished = len(futures) - len(pending)
                self.report(
                    min(0.95, 0.1 + 0.85 * elapsed / max(self.params.time_limit_s, 1e-9)),
                    f"pooling {len(models)} areas: {finished} done",
                )
            return [f.result() for f in sorted(futures, key=lambda f: futures[f])]

    def _assembly_reserve_s(self) -> float:
        """Time kept for assembling the plan at the end (about 60 us per traveller)."""
        return 0.3 + 6e-5 * len(self.problem.travellers)

    # ----------------------------------------------------------------- re-seating
    def _reseat(
        self, buses: list[Bus], parties: list[Party], fleet: list[BusType], started: float
    ) -> tuple[list[Bus], float]:
        """Move travellers between the day's routes, re-size or cancel coaches, where that lowers the day's cost.

        Each area part was routed on its own and in bundles of travellers; with all routes known, one small
        integer problem (``scheduler.seating``) can fill a half-empty coach from a neighbouring route, give a
        route the coach that fits, or cancel one whose riders fit elsewhere. Routes keep their stops (a stop left
        with nobody to board or alight is skipped). Returns the buses and the saving in CNY.
        """
        time_limit_s = self.params.time_limit_s - (time.monotonic() - started) - self._assembly_reserve_s()
        if not buses or time_limit_s <= 0:
            return buses, 0.0
        party_of = {t: p for p in parties for t in p.traveller_ids}
        routes, forward, room_s = [], [], []
        for bus in buses:
            empty = tuple(replace(stop, board=(), alight=()) for stop in bus.stops)
            prices = tuple(round(self._price_bus(b, empty, bus.area).cost * FEN) for b in fleet)
            specs = [self._stop_spec(stop, party_of) for stop in bus.stops]
            times = self._forward_times(specs)
            extra = 0 if times is None else self._extra_riders(bus, specs, times)
            coach = next(k for k, b in enumerate(fleet) if b.vehicle_type == bus.vehicle_type)
            routes.append(SeatRoute(prices, bus.load + extra, coach))
            forward.append(times)
            room_s.append(extra * self.rules.boarding_seconds_per_person)
        route_of = {t: r for r, bus in enumerate(buses) for t in bus.traveller_ids}
        units, members, stops_of = self._rider_units(buses, parties, route_of, forward, room_s)
        problem = SeatingProblem(
            tuple(routes), tuple(units), tuple(b.seats for b in fleet), tuple(b.count for b in fleet),
            self.rules.charter_min_group,
        )  # fmt: skip
        self.report(0.96, f"re-seating travellers over {len(buses)} routes")
        seating = solve_seating(problem, time_limit_s, self.params.workers)
        if seating.saving <= 0:
            return buses, 0.0
        boards, alights = _riders_at_stops(len(buses), seating.riding, members, stops_of, route_of)
        new_buses = []
        for r, bus in enumerate(buses):
            k = seating.coach[r]
            if k is not None:
                stops = [
                    replace(stop, board=tuple(boards[r][i]), alight=tuple(alights[r][i]))
                    for i, stop in enumerate(bus.stops)
                    if boards[r][i] or alights[r][i]
                ]
                seated = self._seated_bus(bus, fleet[k], stops, party_of)
                if seated is None:  # a timetable the model's margins did not foresee: keep the day as it was
                    return buses, 0.0
                new_buses.append(seated)

        before = {t for bus in buses for t in bus.traveller_ids}
        after = {t for bus in new_buses for t in bus.traveller_ids}
        self.fallback = [f for f in self.fallback if f.traveller_id not in after]
        left_off: dict[str, dict[str, Party]] = defaultdict(dict)
        for bus in buses:
            for t in bus.traveller_ids:
                if t not in after:
                    left_off[bus.area][party_of[t].traveller_ids[0]] = party_of[t]
        for area, left in left_off.items():
            self._fall_back(tuple(left.values()), area, "pool")
        saving = sum(b.cost for b in buses) - sum(b.cost for b in new_buses)
        saving += sum(self.fallback_cost(party_of[t]) for t in after - before)
        saving -= sum(self.fallback_cost(party_of[t]) for t in before - after)
        return new_buses, round(saving, 2)

    def _rider_units(
        self,
        buses: list[Bus],
        parties: list[Party],
        route_of: dict[str, int],
        forward: list[list[int] | None],
        room_s: list[float],
    ) -> tuple[list[RiderUnit], list[list[str]], list[dict[int, tuple[int, int]]]]:
        """The seating problem's units: each registered group (or part of one), and the people travelling alone
        on each flow. Returns the units, their travellers, and per unit the (boarding, alighting) stop on each
        route it may ride: one passing its township or assembly point and then its factory, in time for its gate
        even with the route's timetable full."""
        passing: dict[tuple[str, str], dict[int, tuple[int, int]]] = defaultdict(dict)
        for r, bus in enumerate(buses):
            for i, pickup in enumerate(bus.stops):
                for j in range(i + 1, len(bus.stops)):
                    if pickup.kind == "pickup" and bus.stops[j].kind == "dropoff":
                        passing[(pickup.place_id, bus.stops[j].place_id)].setdefault(r, (i, j))
        stops_of_traveller: dict[str, tuple[int, int]] = {}
        for bus in buses:
            board = {t: i for i, stop in enumerate(bus.stops) for t in stop.board}
            for j, stop in enumerate(bus.stops):
                for t in stop.alight:
                    stops_of_traveller[t] = (board[t], j)
        alone: dict[tuple, list[Party]] = defaultdict(list)
        together: list[list[Party]] = []
        for party in parties:
            if party.group_id:
                together.append([party])
            else:
                alone[party.flow].append(party)
        units, members, stops_of = [], [], []
        for unit_parties in [*together, *alone.values()]:
            first = unit_parties[0]
            ids = sorted(t for p in unit_parties for t in p.traveller_ids)
            riding = Counter(route_of[t] for t in ids if t in route_of)
            factory = self.factories[first.factory_id]
            windows = self.delivery_windows(factory, first.arrive_by)
            point = self.problem.assembly_point_of(first.township_id)
            boarding: list[tuple[Place, int]] = [(self.townships[first.township_id], 0)]
            if point is not None:
                boarding.append((point, round(point.shuttle_cost_per_person * FEN)))
            # Riders who stay on their route keep their stops, so that its timetable holds.
            extra_at = {place.place_id: extra for place, extra in boarding}
            options: dict[int, tuple[int, tuple[int, int]]] = {}
            for r in riding:
                i, j = next(stops_of_traveller[t] for t in ids if route_of.get(t) == r)
                options[r] = (extra_at[buses[r].stops[i].place_id], (i, j))
            for place, extra in boarding:
                for r, (i, j) in passing[(place.place_id, factory.place_id)].items():
                    times = forward[r]
                    if r in riding or times is None:
                        continue
                    if not any(a <= times[j] and times[j] + room_s[r] <= b for a, b in windows):
                        continue
                    if r not in options or extra < options[r][0]:
                        options[r] = (extra, (i, j))
            per_person = self.fallback_cost(first) * FEN if self.rules.price_alternatives else MUST_SERVE_PENALTY_FEN
            units.append(
                RiderUnit(
                    len(ids),
                    bool(first.group_id),
                    round(per_person),
                    tuple((r, extra) for r, (extra, _) in sorted(options.items())),
                    tuple(sorted(riding.items())),
                )
            )
            members.append(ids)
            stops_of.append({r: stops for r, (_, stops) in options.items()})
        return units, members, stops_of

    def _seated_bus(self, bus: Bus, bus_type: BusType, stops: list[Stop], party_of: dict[str, Party]) -> Bus | None:
        """The route with its new riders and coach, timed and priced again; the bus itself when nothing changed."""
        same = bus_type.vehicle_type == bus.vehicle_type and len(stops) == len(bus.stops)
        same = same and all(
            set(new.board) == set(old.board) and set(new.alight) == set(old.alight)
            for new, old in zip(stops, bus.stops, strict=False)
        )
        if same:
            return bus
        times = self._timetable([self._stop_spec(stop, party_of) for stop in stops])
        if times is None:
            return None
        timed = tuple(replace(stop, arrival_s=a, departure_s=d) for stop, (a, d) in zip(stops, times, strict=True))
        return self._price_bus(bus_type, timed, bus.area)

    def _stop_spec(self, stop: Stop, party_of: dict[str, Party]) -> _StopSpec:
        place = self._place(stop.place_id)
        if stop.kind == "pickup":
            return _StopSpec(place, "pickup", len(stop.board), ((self.rules.depart_from_s, DAY_S),))
        assert isinstance(place, Factory)
        arrive_by = min(party_of[t].arrive_by for t in stop.alight)
        return _StopSpec(place, "dropoff", 0, self.delivery_windows(place, arrive_by))

    def _dwell_s(self, spec: _StopSpec) -> int:
        rules = self.rules
        if spec.kind == "pickup":
            return round(rules.boarding_minutes_per_stop * 60 + rules.boarding_seconds_per_person * spec.boarders)
        return round(rules.alighting_minutes_per_stop * 60)

    def _forward_times(self, specs: list[_StopSpec]) -> list[int] | None:
        """Earliest service start at each stop, from the first stop's opening; None when a gate is missed.
        The same times as the routing model's: driving with rests, then boarding or alighting."""
        times: list[int] = []
        for i, spec in enumerate(specs):
            if i == 0:
                t = spec.windows[0][0]
            else:
                before = specs[i - 1]
                t = times[-1] + self._dwell_s(before) + self.with_rests_s(self.leg(before.place, spec.place).drive_s)
            start = next((max(t, a) for a, b in spec.windows if t <= b), None)
            if start is None:
                return None
            times.append(start)
        return times

    def _timetable(self, specs: list[_StopSpec]) -> list[tuple[int, int]] | None:
        """(arrival, departure) at each stop: the earliest times, then each stop as late as the next allows, so
        that nobody waits on board; None when a gate is missed or the ride is longer than the rules allow."""
        times = self._forward_times(specs)
        if times is None:
            return None
        for i in range(len(specs) - 2, -1, -1):
            spec = specs[i]
            drive_s = self.with_rests_s(self.leg(spec.place, specs[i + 1].place).drive_s)
            latest = times[i + 1] - drive_s - self._dwell_s(spec)
            for a, b in spec.windows:
                if a <= latest:
                    times[i] = max(times[i], min(b, latest))
        if times[-1] - times[0] > self.rules.max_ride_hours * 3600:
            return None
        return [(t, t + self._dwell_s(spec)) for t, spec in zip(times, specs, strict=True)]

    def _extra_riders(self, bus: Bus, specs: list[_StopSpec], forward: list[int]) -> int:
        """How many more riders the route's timetable could board. Each one delays every later stop by at most
        their boarding time and lengthens the ride by at most twice that (the first stop may then start
        earlier): the gates must still be met and the ride kept within the rules."""
        per_person = self.rules.boarding_seconds_per_person
        largest = max(b.seats for b in self.problem.fleet)
        if per_person <= 0:
            return max(0, largest - bus.load)
        ride_s = bus.stops[-1].arrival_s - bus.stops[0].arrival_s
        room_s = [(self.rules.max_ride_hours * 3600 - ride_s) / 2]
        for spec, t in zip(specs, forward, strict=True):
            room_s.append(next((b - t for a, b in spec.windows if a <= t <= b), 0))
        return max(0, min(largest - bus.load, math.floor(min(room_s) / per_person)))

    # ----------------------------------------------------------------- plan assembly
    def _direct_bus(self, direct: DirectBus) -> Bus | None:
        """A whole coach from one township to one factory, or None when its times do not work."""
        first = direct.parties[0]
        township = self.townships[first.township_id]
        factory = self.factories[first.factory_id]
        riders = tuple(t for p in direct.parties for t in p.traveller_ids)
        board_s = round(
            self.rules.boarding_seconds_per_person * len(riders) + self.rules.boarding_minutes_per_stop * 60
        )
        earliest_departure = self.rules.depart_from_s + self.leg(self.depot, township).drive_s
        journey_s = board_s + self.with_rests_s(self.leg(township, factory).drive_s)
        arrive = self._arrival_in_window(factory, first.arrive_by, earliest_departure + journey_s)
        if arrive is None:
            return None
        # Leave as late as still makes the gate, rather than wait outside it with everyone on board.
        depart = arrive - journey_s
        if depart > DAY_S or arrive - depart > self.rules.max_ride_hours * 3600:
            return None
        stops = (
            Stop(township.place_id, township.name, "pickup", depart, depart + board_s, board=riders),
            Stop(
                factory.place_id,
                factory.name,
                "dropoff",
                arrive,
                arrive + round(self.rules.alighting_minutes_per_stop * 60),
                alight=riders,
            ),
        )
        return self._price_bus(direct.bus_type, stops, self._area_label(factory))

    def _arrival_in_window(self, factory: Factory, arrive_by: dt.date, earliest: int) -> int | None:
        for start, end in self.delivery_windows(factory, arrive_by):
            if earliest <= end:
                return max(earliest, start)
        return None

    def _area_label(self, factory: Factory) -> str:
        return self.area_of[factory.factory_id]

    def _area_buses(self, model: _AreaModel, solution: PdpSolution) -> list[Bus]:
        buses = []
        served: set[int] = set()
        for route in solution.routes:
            bus_type = model.vehicle_types[route.vehicle]
            stops: list[Stop] = []
            times = compact_schedule(model.instance, route.nodes, route.arrival)
            for node, arrival in zip(route.nodes, times, strict=True):
                task = model.tasks[model.node_task[node]]
                place = model.node_place[node]
                kind = "pickup" if model.instance.nodes[node].kind is NodeKind.PICKUP else "dropoff"
                riders = tuple(t for p in task.parties for t in p.traveller_ids)
                served.add(model.node_task[node])
                dwell = model.instance.nodes[node].service
                if stops and stops[-1].place_id == place.place_id and stops[-1].kind == kind:
                    last = stops[-1]
                    stops[-1] = Stop(
                        last.place_id,
                        last.place_name,
                        kind,
                        last.arrival_s,
                        max(last.departure_s, arrival + dwell),
                        last.board + (riders if kind == "pickup" else ()),
                        last.alight + (riders if kind == "dropoff" else ()),
                    )
                else:
                    overhead = (
                        self.rules.boarding_minutes_per_stop
                        if kind == "pickup"
                        else (self.rules.alighting_minutes_per_stop)
                    )
                    stops.append(
                        Stop(
                            place.place_id,
                            place.name,
                            kind,
                            arrival,
                            arrival + dwell + round(overhead * 60),
                            riders if kind == "pickup" else (),
                            riders if kind == "dropoff" else (),
                        )
                    )
            buses.append(self._price_bus(bus_type, tuple(stops), model.name))
        fleet_used_up = model.fleet_short and len(solution.routes) >= len(model.vehicle_types)
        for k, task in enumerate(model.tasks):
            if k not in served:
                self._fall_back(task.parties, model.name, "fleet" if fleet_used_up else "pool")
        return buses

    def _price_bus(self, bus_type: BusType, stops: tuple[Stop, ...], area: str) -> Bus:
        """Fixed cost + per km (one way and the priced empty return) + second driver + shuttles;
        the bus id is given when the day's buses are numbered."""
        rules = self.rules
        places = [self.depot, *(self._place(s.place_id) for s in stops)]
        one_way = [self.leg(a, b) for a, b in itertools.pairwise(places)]
        back = self.leg(places[-1], self.depot)
        one_way_km = sum(leg.distance_km for leg in one_way)
        drive_hours = sum(leg.drive_s for leg in one_way) / 3600
        drivers = 2 if one_way_km > rules.second_driver_km or drive_hours > rules.second_driver_hours else 1
        shuttles = 0.0
        for stop in stops:
            place = self._place(stop.place_id)
            if isinstance(place, AssemblyPoint):
                shuttles += place.shuttle_cost_per_person * len(stop.board)
        cost = (
            bus_type.fixed_cost
            + bus_type.cost_per_km * (one_way_km + rules.empty_return_factor * back.distance_km)
            + (rules.second_driver_cost if drivers == 2 else 0.0)
            + shuttles
        )
        return Bus(
            "",
            bus_type.vehicle_type,
            bus_type.seats,
            area,
            stops,
            one_way_km + back.distance_km,
            drive_hours,
            drivers,
            round(cost, 2),
        )

    def _place(self, place_id: str) -> Place:
        if place_id in self.townships:
            return self.townships[place_id]
        if place_id in self.factories:
            return self.factories[place_id]
        for point in self.rules.assembly_points:
            if point.point_id == place_id:
                return point
        return self.depot

    def _drop_underfilled(self, buses: list[Bus], by_area: dict[str, list[Party]]) -> list[Bus]:
        """A bus below the charter threshold is not chartered: its riders take the policy fallback."""
        kept = []
        parties_of = {p.traveller_ids[0]: p for ps in by_area.values() for p in ps}
        for bus in buses:
            if bus.load >= self.rules.charter_min_group:
                kept.append(bus)
                continue
            riders = bus.traveller_ids
            parties = [parties_of[t] for t in riders if t in parties_of]
            self._fall_back(tuple(parties), bus.area, "underfilled", bus_load=bus.load)
        return kept

    def _fall_back(self, parties: tuple[Party, ...], area: str, cause: str, bus_load: int = 0) -> None:
        rules = self.rules
        for party in parties:
            township = self.townships[party.township_id]
            factory = self.factories[party.factory_id]
            mode = rules.fallback_mode(party.group_size)
            per_person = round(self.fallback_cost(party), 2)
            payment = (
                f"township transport, reimbursed up to {per_person:.0f} CNY per person"
                if mode == "township_transport"
                else f"free ticket, about {per_person:.0f} CNY per person"
            )
            flow_total = self.flow_sizes[(party.township_id, party.factory_id)]
            if cause == "fleet":
                why = f"every coach the county's fleet could give to {area} today is full or in use"
                change = " It would change with more coaches in the charter contract, or on another date."
            elif cause == "underfilled":
                why = (
                    f"the only bus that could take them would carry {bus_load} travellers, "
                    f"below the charter threshold of {rules.charter_min_group}"
                )
                change = (
                    f" It would change if {rules.charter_min_group - bus_load} more travellers could join that bus."
                )
            else:
                cheaper = (
                    f" at a cost below the rule's {per_person:.0f} CNY per person" if rules.price_alternatives else ""
                )
                if flow_total < rules.charter_min_group:
                    why = (
                        f"{flow_total} travel from {township.name} to {factory.name} today, below the charter "
                        f"threshold of {rules.charter_min_group}, and no bus within the stop limits has "
                        f"{party.size} free seats{cheaper}"
                    )
                else:
                    why = f"no bus within the stop limits has {party.size} more free seats{cheaper}"
                change = (
                    f" It would change if more travellers from {township.name} registered for {area} on this "
                    f"date, or a stop limit (now {rules.max_pickup_stops} pickups, {rules.max_dropoff_stops} "
                    "drop-offs) were raised."
                )
            reason = f"{_who(party)} from {township.name} to {factory.name}: {why}; {payment}.{change}"
            for tid in party.traveller_ids:
                self.fallback.append(Fallback(tid, mode, reason, per_person))

    def _subsidies(self) -> dict[str, float]:
        unplaced = {f.traveller_id for f in self.fallback if f.mode == "unplaced"}
        due = {}
        for traveller in self.problem.travellers:
            if not traveller.registered_poor or traveller.traveller_id in unplaced:
                continue
            factory = self.factories[traveller.factory_id]
            amount = self.rules.subsidy_for(factory.province, self.problem.factory_in_county(factory))
            if amount > 0:
                due[traveller.traveller_id] = amount
        return due


def _who(party: Party) -> str:
    if party.group_id:
        return f"group of {party.group_size}"
    return "traveller travelling alone"


def _riders_at_stops(
    n_routes: int,
    riding: tuple[tuple[tuple[int, int], ...], ...],
    members: list[list[str]],
    stops_of: list[dict[int, tuple[int, int]]],
    route_of: dict[str, int],
) -> tuple[list[dict[int, list[str]]], list[dict[int, list[str]]]]:
    """Who boards and who alights at each stop of each route, from how many of each unit ride where; everyone
    who stays on their route keeps their seat, and the others move."""
    boards: list[dict[int, list[str]]] = [defaultdict(list) for _ in range(n_routes)]
    alights: list[dict[int, list[str]]] = [defaultdict(list) for _ in range(n_routes)]
    for u, rides in enumerate(riding):
        kept = {r: [t for t in members[u] if route_of.get(t) == r][:n] for r, n in rides}
        staying = {t for ids in kept.values() for t in ids}
        movers = iter(t for t in members[u] if t not in staying)
        for r, n in rides:
            riders = kept[r] + [next(movers) for _ in range(n - len(kept[r]))]
            board_stop, alight_stop = stops_of[u][r]
            boards[r][board_stop].extend(riders)
            alights[r][alight_stop].extend(riders)
    return boards, alights


def _renumber(bus: Bus, prefix: str, number: int) -> Bus:
    return replace(bus, bus_id=f"{prefix}-{number:03d}")


def compact_schedule(instance: PdpInstance, route: tuple[int, ...], earliest: tuple[int, ...]) -> list[int]:
    """Start each stop as late as the next one allows (the last one as early as it can), so that
    nobody boards hours before the coach must leave: the solver reports earliest times, and waiting
    for a gate to open would otherwise happen with everyone on board."""
    times = list(earliest)
    for i in range(len(times) - 2, -1, -1):
        latest = times[i + 1] - instance.travel_time[route[i]][route[i + 1]]
        for start, end in instance.nodes[route[i]].windows:
            if start <= latest:
                times[i] = max(times[i], min(end, latest))
    return times


def allocate_fleet(
    pax_by_area: dict[str, int], types: list[BusType], fleet_left: dict[str, int], min_riders: int
) -> tuple[dict[str, list[BusType]], set[str]]:
    """Share the coaches left after direct buses among areas, in proportion to their travellers.

    An area never gets more coaches of a type than it could fill to the charter threshold, nor more
    than 1.5x what its travellers need in that size, so that the routing models stay small.
    Returns the list of coaches (one entry per vehicle) each area may use, and the areas that got
    fewer than that because the fleet ran short.
    """
    total = sum(pax_by_area.values())
    allocation: dict[str, list[BusType]] = {a: [] for a in pax_by_area}
    short: set[str] = set()
    if total == 0:
        return allocation, short
    for bus_type in types:
        available = fleet_left.get(bus_type.vehicle_type, 0)
        wants = {
            a: min(pax // max(min_riders, 1), math.ceil(1.5 * pax / bus_type.seats) + 1)
            for a, pax in pax_by_area.items()
        }
        if sum(wants.values()) <= available:
            shares = wants
        else:
            raw = {a: available * pax / total for a, pax in pax_by_area.items()}
            shares = {a: min(wants[a], math.floor(raw[a])) for a in pax_by_area}
            spare = available - sum(shares.values())
            for a in sorted(pax_by_area, key=lambda a: -(raw[a] - math.floor(raw[a]))):
                if spare <= 0:
                    break
                if shares[a] < wants[a]:
                    shares[a] += 1
                    spare -= 1
        for area, count in shares.items():
            allocation[area].extend([bus_type] * count)
            if count < wants[area]:
                short.add(area)
    return allocation, short


def _solve_by(instance: PdpInstance, search: SearchParams, deadline: float) -> PdpSolution:
    """``solve_pdp`` within its own budget and never past ``deadline`` (``time.monotonic()``, shared by the
    forked workers)."""
    left = max(0.1, deadline - time.monotonic())
    return solve_pdp(instance, replace(search, time_limit_s=min(search.time_limit_s, left)))


def split_time_budget(sizes: list[int], workers: int, total_s: float, floor_s: float = 0.2) -> list[float]:
    """Time per area, proportional to its size, such that a largest-first schedule on ``workers``
    processes finishes within ``total_s``."""
    if not sizes:
        return []
    weight = sum(sizes) or 1
    budgets = [max(floor_s, min(total_s, workers * total_s * s / weight)) for s in sizes]
    loads = [0.0] * workers
    for i in sorted(range(len(sizes)), key=lambda i: -budgets[i]):
        k = loads.index(min(loads))
        loads[k] += budgets[i]
    makespan = max(loads)
    if makespan > total_s:
        budgets = [b * total_s / makespan for b in budgets]
    return budgets
