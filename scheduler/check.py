"""check_plan(problem, plan) -> the rule violations of a plan, none for a valid one.

The one checker of a day's plan: the planner runs it on every plan it returns (``plan.stats["violations"]``),
tests and benchmarks call it, and the service shows its count. It reads only the plan and the problem; times
and prices are recomputed through the day's ``Timetable``, the one place that defines them
(``benchmarks/check.py`` re-implements the rules independently, to check this checker).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from scheduler.areas import destination_areas
from scheduler.clock import format_moment
from scheduler.coaches import Trip, coach_id, trip_of
from scheduler.fallback import chartered, entitled_flows, fallback_cost, reachable
from scheduler.grouping import Party, form_parties
from scheduler.model import Problem, Traveller
from scheduler.plan import Bus, Plan
from scheduler.timetable import Timetable
from scheduler.travel import TravelModel

VIOLATION_KINDS = (
    "coverage",  # every eligible traveller exactly once, on a bus or in the fallback list
    "boarding",  # boards at own township or its assembly point, alights at own factory, after boarding
    "seats",  # never more on board than the coach has seats; the coach type exists
    "stops",  # distinct boarding places and factories per bus within the limits
    "area",  # one destination area per bus
    "gates",  # boarding on the plan date once a coach can be there; arrivals within receiving hours
    "ride",  # time on board: the route's span from first to last stop
    "driving",  # time between stops covers the drive with rests and the dwell; a second driver when needed
    "threshold",  # a chartered bus carries at least the threshold, or riders of a flow entitled to seats
    "groups",  # registered groups that fit a coach ride together or fall back together
    "fleet",  # coaches of each type within the contract
    "coaches",  # a named coach is one of its type's contracted coaches and on one trip at a time
    "fallback",  # the rule's mode and cost for everyone off the buses; unplaced only when unreachable
    "money",  # bus prices, totals and subsidies add up
)


@dataclass(frozen=True, slots=True)
class Violation:
    kind: str  # one of VIOLATION_KINDS
    where: str  # the bus or traveller it concerns
    message: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.message}"


Report = Callable[[str, str, str], None]  # (kind, where, message)


def check_plan(
    problem: Problem, plan: Plan, travel: TravelModel | None = None, *, timetable: Timetable | None = None
) -> list[Violation]:
    """Every rule a plan must keep, whatever the search found.

    Args:
        problem: the day's problem the plan was made for.
        plan: the plan.
        travel: the distances the plan was made with (default: geodesic).
        timetable: the day's timetable if one is at hand (its legs are cached), instead of ``travel``.

    Returns:
        The violations found, in a stable order; empty for a valid plan.
    """
    timetable = timetable or Timetable(problem, travel)
    found: list[Violation] = []

    def add(kind: str, where: str, message: str) -> None:
        found.append(Violation(kind, where, message))

    _check_coverage(problem, plan, add)
    area_of = destination_areas(problem, timetable)
    people = {t.traveller_id: t for t in problem.travellers}
    parties = form_parties(problem)
    party_of = {t: p for p in parties for t in p.traveller_ids}
    entitled = entitled_flows(problem.rules, (p for p in parties if reachable(timetable, p)))
    for bus in plan.buses:
        _check_bus(timetable, area_of, people, bus, add)
        known = all(t in party_of for t in bus.traveller_ids)
        if known and not chartered(bus, party_of, problem.rules.charter_min_group, entitled):
            add("threshold", bus.bus_id, f"carries {bus.load}, below the charter threshold of "
                f"{problem.rules.charter_min_group}, and nobody of a flow entitled to seats")  # fmt: skip
    _check_groups_and_fleet(problem, plan, add)
    _check_coaches(timetable, plan, add)
    _check_fallback_and_money(timetable, party_of, plan, add)
    return found


def check_bus(timetable: Timetable, bus: Bus, area_of: dict[str, str] | None = None) -> list[Violation]:
    """The rules one bus keeps on its own: boarding, seats, stops, one area, gates, time on board, driving, price.
    ``area_of``: the day's destination areas, if at hand."""
    found: list[Violation] = []
    areas = area_of if area_of is not None else destination_areas(timetable.problem, timetable)
    _check_bus(
        timetable,
        areas,
        timetable.people,
        bus,
        lambda kind, where, message: found.append(Violation(kind, where, message)),
    )
    return found


def _check_coverage(problem: Problem, plan: Plan, add: Report) -> None:
    seen: Counter[str] = Counter(t for bus in plan.buses for t in bus.traveller_ids)
    seen.update(f.traveller_id for f in plan.fallback)
    eligible = {t.traveller_id for t in problem.travellers}
    for tid in sorted(eligible - set(seen)):
        add("coverage", tid, "an eligible traveller is neither on a bus nor in the fallback list")
    for tid, n in sorted(seen.items()):
        if tid not in eligible:
            add("coverage", tid, "not an eligible traveller of the day")
        elif n > 1:
            add("coverage", tid, f"listed {n} times")


def _check_bus(
    timetable: Timetable, area_of: dict[str, str], people: dict[str, Traveller], bus: Bus, add: Report
) -> None:
    problem, rules = timetable.problem, timetable.rules
    where = bus.bus_id
    coach = next((b for b in problem.fleet if b.vehicle_type == bus.vehicle_type), None)
    if coach is None or coach.seats != bus.seats:
        add("seats", where, f"coach type {bus.vehicle_type} with {bus.seats} seats is not in the fleet")
    if not bus.stops:
        add("boarding", where, "a bus without stops")
        return

    # Boarding and alighting places, order, and who is on board at once.
    on_board: set[str] = set()
    done: set[str] = set()
    for i, stop in enumerate(bus.stops):
        if (stop.kind == "pickup" and stop.alight) or (stop.kind == "dropoff" and stop.board):
            add("boarding", where, f"stop {i + 1} ({stop.place_id}) is a {stop.kind} but has riders the other way")
        for tid in stop.board:
            person = people.get(tid)
            if person is None:
                continue
            point = problem.assembly_point_of(person.township_id)
            allowed = {person.township_id} | ({point.point_id} if point is not None else set())
            if stop.place_id not in allowed:
                add("boarding", where, f"{tid} boards at {stop.place_id}, not at township {person.township_id}")
            if tid in on_board or tid in done:
                add("boarding", where, f"{tid} boards twice")
            on_board.add(tid)
        for tid in stop.alight:
            person = people.get(tid)
            if tid not in on_board:
                add("boarding", where, f"{tid} alights at {stop.place_id} without having boarded before")
                continue
            if person is not None and stop.place_id != person.factory_id:
                add("boarding", where, f"{tid} alights at {stop.place_id}, not at factory {person.factory_id}")
            on_board.discard(tid)
            done.add(tid)
        if len(on_board) > bus.seats:
            add("seats", where, f"{len(on_board)} on board after stop {i + 1}, {bus.seats} seats")
    for tid in sorted(on_board):
        add("boarding", where, f"{tid} boards but never alights")

    # Stop limits by place, and one destination area.
    pickups = {s.place_id for s in bus.stops if s.kind == "pickup"}
    factories = {s.place_id for s in bus.stops if s.kind == "dropoff"}
    if len(pickups) > rules.max_pickup_stops:
        add("stops", where, f"{len(pickups)} boarding places, at most {rules.max_pickup_stops} allowed")
    if len(factories) > rules.max_dropoff_stops:
        add("stops", where, f"{len(factories)} factories, at most {rules.max_dropoff_stops} allowed")
    areas = {area_of.get(f, f) for f in factories}
    if len(areas) > 1:
        add("area", where, f"drops off in {len(areas)} destination areas: {', '.join(sorted(areas))}")

    # The timetable: windows, dwell, drives with rests, the route's span, the drivers.
    if any(tid not in people for s in bus.stops for tid in s.board + s.alight):
        return  # coverage has said so; the windows need every rider's report date
    day = problem.date
    for i, stop in enumerate(bus.stops):
        if stop.kind == "dropoff" and not stop.alight:
            add("gates", where, f"stop {i + 1} at {stop.place_id} drops nobody off")
            continue
        windows = timetable.stop_windows(stop)
        if not any(a <= stop.arrival_s <= b for a, b in windows):
            opening = ", ".join(f"{format_moment(day, a)}..{format_moment(day, b)}" for a, b in windows)
            add("gates", where, f"stop {i + 1} at {format_moment(day, stop.arrival_s)}, outside {opening}")
        dwell = timetable.dwell_s(stop.kind, len(stop.board))
        if stop.departure_s - stop.arrival_s < dwell:
            add("driving", where, f"stop {i + 1} takes {stop.departure_s - stop.arrival_s} s, at least {dwell} s")
        if i > 0:
            before = bus.stops[i - 1]
            drive = timetable.drive_s(timetable.place(before.place_id), timetable.place(stop.place_id))
            if stop.arrival_s - before.departure_s < drive:
                add("driving", where, f"{stop.arrival_s - before.departure_s} s from stop {i} to {i + 1}, "
                    f"the drive with rests takes {drive} s")  # fmt: skip
    span = bus.stops[-1].arrival_s - bus.stops[0].arrival_s
    if span > timetable.max_ride_s:
        add("ride", where, f"{span / 3600:.2f} h from first to last stop, at most {rules.max_ride_hours:g} h")
    price = timetable.price(coach, bus.stops) if coach is not None else None
    if price is not None and bus.drivers < price.drivers:
        add("driving", where, f"{bus.drivers} driver(s) for a trip that needs {price.drivers}")
    if price is not None and abs(price.cost - bus.cost) > 0.01:
        add("money", where, f"priced {bus.cost:.2f} CNY, the coach's contract gives {price.cost:.2f}")


def _check_groups_and_fleet(problem: Problem, plan: Plan, add: Report) -> None:
    used = Counter(bus.vehicle_type for bus in plan.buses)
    for coach in problem.fleet:
        if used[coach.vehicle_type] > coach.count:
            add("fleet", coach.vehicle_type, f"{used[coach.vehicle_type]} buses, {coach.count} in the contract")
    largest = max((b.seats for b in problem.fleet), default=0)
    bus_of = {t: bus.bus_id for bus in plan.buses for t in bus.traveller_ids}
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for person in problem.travellers:
        if person.group_id:
            groups[(person.group_id, person.township_id, person.factory_id)].append(person.traveller_id)
    for (group_id, _, _), members in sorted(groups.items()):
        if len(members) <= largest and len({bus_of.get(m, "fallback") for m in members}) > 1:
            add("groups", group_id, f"the group of {len(members)} is split between buses or the fallback")


def _check_coaches(timetable: Timetable, plan: Plan, add: Report) -> None:
    """Buses that name their coach (the planner names every one): a coach of the bus's type within the
    contract's count, never on two trips that overlap from leaving the depot to being back."""
    count = {b.vehicle_type: b.count for b in timetable.problem.fleet}
    trips: dict[str, list[Trip]] = defaultdict(list)
    for bus in plan.buses:
        if not bus.coach_id:
            continue
        known = {coach_id(bus.vehicle_type, n) for n in range(1, count.get(bus.vehicle_type, 0) + 1)}
        if bus.coach_id not in known:
            add("coaches", bus.bus_id, f"coach {bus.coach_id} is not one of the {bus.vehicle_type} coaches contracted")
        if bus.stops:
            trips[bus.coach_id].append(trip_of(timetable, bus))
    for name, its in sorted(trips.items()):
        its.sort(key=lambda t: t.leaves)
        for before, after in itertools.pairwise(its):
            if after.leaves < before.back:
                add("coaches", after.bus_id, f"coach {name} is still on bus {before.bus_id}'s trip until "
                    f"{before.back:%m-%d %H:%M}")  # fmt: skip


def _check_fallback_and_money(timetable: Timetable, parties: dict[str, Party], plan: Plan, add: Report) -> None:
    problem, rules = timetable.problem, timetable.rules
    people = {t.traveller_id: t for t in problem.travellers}
    for line in plan.fallback:
        person, party = people.get(line.traveller_id), parties.get(line.traveller_id)
        if person is None or party is None:
            continue
        can_reach = reachable(timetable, party)
        if line.mode == "unplaced":
            if can_reach:
                add("fallback", line.traveller_id, "unplaced although a coach can reach the gate in time")
            continue
        if not can_reach:
            add("fallback", line.traveller_id, f"given {line.mode} although no coach can reach the gate in time")
        expected_mode = rules.fallback_mode(party.group_size)
        if line.mode != expected_mode:
            add("fallback", line.traveller_id, f"{line.mode} for a group of {party.group_size}; rule: {expected_mode}")
        expected_cost = round(fallback_cost(timetable, person.township_id, person.factory_id), 2)
        if abs(line.est_cost - expected_cost) > 0.01:
            add("money", line.traveller_id, f"fallback at {line.est_cost:.2f} CNY, the rule pays {expected_cost:.2f}")

    unplaced = {f.traveller_id for f in plan.fallback if f.mode == "unplaced"}
    for person in problem.travellers:
        factory = timetable.factory(person.factory_id)
        due = rules.subsidy_for(factory.province, problem.factory_in_county(factory))
        due = due if person.registered_poor and person.traveller_id not in unplaced else 0.0
        if abs(plan.subsidies.get(person.traveller_id, 0.0) - due) > 0.005:
            add("money", person.traveller_id, f"subsidy {plan.subsidies.get(person.traveller_id, 0.0)}, due {due}")
    totals = plan.totals
    parts = totals.charter_cost + totals.reimbursement_cost + totals.ticket_cost + totals.subsidy_cost
    if abs(totals.total_cost - parts) > 0.05:
        add("money", "totals", f"total {totals.total_cost} is not the sum of its parts {parts:.2f}")
