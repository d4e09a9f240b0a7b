"""solve(problem) -> Plan: one day's chartered buses, and the policy fallback for everyone else.

The pipeline, one module a stage:

1. parties (``grouping``): registered groups stay whole; who cannot reach the gate in time is unplaced
   (``fallback.reachable``);
2. direct coaches (``grouping.peel_direct_buses``, timed in ``direct``) for flows that fill one;
3. pooling (``pooling``): the rest per destination area (``areas``), one pickup-and-delivery model per area part,
   with the coaches and time shared out (``budget``) and solved in parallel (``routing``);
4. re-seating (``reseat``) over all the routes found: coach types, who rides where;
5. the fallback lines with the rule and the reason, and the subsidies (``fallback``); the plan is checked
   (``check``) before it is returned.

Every time and price comes from the day's ``Timetable``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from scheduler.areas import destination_areas
from scheduler.budget import allocate_fleet, assembly_reserve_s, solve_models
from scheduler.check import check_plan
from scheduler.coaches import assign_coaches, trip_of
from scheduler.direct import direct_buses
from scheduler.fallback import (
    Unserved,
    drop_underfilled,
    entitled_flows,
    fallback_lines,
    flow_sizes,
    reachable,
    subsidies,
)
from scheduler.grouping import form_parties, peel_direct_buses
from scheduler.messages import Message
from scheduler.model import Problem
from scheduler.plan import Bus, Plan
from scheduler.pooling import area_buses, build_area_model, parties_by_model
from scheduler.reseat import reseat
from scheduler.routing import SearchParams
from scheduler.timetable import Timetable
from scheduler.travel import TravelModel

ProgressCallback = Callable[[float, Message], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How hard to work. ``time_limit_s`` bounds the whole solve, grouping and areas included."""

    time_limit_s: float = 30.0
    workers: int = 2
    # Larger destination areas are cut into compact parts of at most this many routing tasks.
    max_tasks_per_model: int = 250
    # Share of the time limit kept for re-seating travellers over all the routes found (scheduler.reseat).
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
        The plan: every eligible traveller is on exactly one bus or in the fallback list; its ``stats`` say
        how many rule violations ``check_plan`` found (0 unless the planner has a bug).
    """
    started = time.monotonic()
    params = params or SolveParams()
    report = on_progress or _silent
    timetable = Timetable(problem, travel)
    rules = problem.rules
    report(0.0, Message("start", {"travellers": len(problem.travellers), "date": problem.date.isoformat()}))

    parties, unserved = [], []
    for party in form_parties(problem):
        if reachable(timetable, party):
            parties.append(party)
        else:
            unserved.append(Unserved(party, "timetable"))
    flows = flow_sizes(problem.travellers)
    entitled = entitled_flows(rules, parties)
    area_of = destination_areas(problem, timetable)

    # A coach smaller than the threshold can still carry riders entitled to seats (what is left of a big flow).
    usable = [b for b in problem.fleet if b.count > 0 and (b.seats >= rules.charter_min_group or entitled)]
    fleet_left = {b.vehicle_type: b.count for b in usable}
    coaches, pooled = peel_direct_buses(parties, fleet_left, tuple(usable), rules.direct_fill, rules.charter_min_group)
    direct, returned = direct_buses(timetable, coaches, area_of)
    for coach in returned:  # its timetable does not work as a direct trip: the pool decides
        pooled.extend(coach.parties)
        fleet_left[coach.bus_type.vehicle_type] += 1
    report(0.05, Message("direct", {"direct": len(direct), "pooled": sum(p.size for p in pooled)}))

    by_model = parties_by_model(timetable, pooled, area_of, params.max_tasks_per_model)
    pax = {name: sum(p.size for p in ps) for name, ps in by_model.items()}
    with_right = {n: len({(p.township_id, p.factory_id) for p in ps} & entitled) for n, ps in by_model.items()}
    allocation, short = allocate_fleet(pax, usable, fleet_left, rules.charter_min_group, with_right)
    models = [build_area_model(timetable, n, by_model[n], allocation[n], entitled) for n in sorted(by_model)]
    for model in models:
        model.fleet_short = model.name in short
    report(0.1, Message("areas", {"areas": len(models)}))
    reserve_s = assembly_reserve_s(len(problem.travellers)) + params.seating_share * params.time_limit_s
    left_s = params.time_limit_s - (time.monotonic() - started) - reserve_s
    solutions = solve_models([(m.name, m.instance) for m in models], params.search, params.workers, left_s, report)

    buses: list[Bus] = list(direct)
    for model, solution in zip(models, solutions, strict=True):
        found, left = area_buses(timetable, model, solution)
        buses.extend(found)
        unserved.extend(left)
    buses, left = drop_underfilled(buses, parties, rules.charter_min_group, entitled)
    unserved.extend(left)
    seating_s = params.time_limit_s - (time.monotonic() - started) - assembly_reserve_s(len(problem.travellers))
    buses, left, seating_saving_cny = reseat(
        timetable, buses, parties, usable, entitled, seating_s, params.workers, report
    )
    unserved.extend(left)

    buses.sort(key=lambda b: (b.area, b.stops[0].arrival_s, b.stops[0].place_id, b.stops[-1].place_id))
    prefix = problem.date.strftime("%m%d")
    buses = [replace(b, bus_id=f"{prefix}-{i:03d}") for i, b in enumerate(buses, start=1)]
    named = assign_coaches((trip_of(timetable, b) for b in buses), problem.fleet)
    buses = [replace(b, coach_id=named.coach_of.get(b.bus_id, "")) for b in buses]
    on_buses = {t for b in buses for t in b.traveller_ids}
    fallback = [
        f for f in fallback_lines(timetable, _latest(unserved), flows, entitled) if f.traveller_id not in on_buses
    ]
    fallback.sort(key=lambda f: f.traveller_id)
    unplaced = {f.traveller_id for f in fallback if f.mode == "unplaced"}
    stats = {
        "solve_s": round(time.monotonic() - started, 2),
        "areas": len(models),
        "direct_buses": len(direct),
        "seating_saving_cny": seating_saving_cny,
        "time_limit_s": params.time_limit_s,
    }
    plan = Plan(problem.date, tuple(buses), tuple(fallback), subsidies(problem, unplaced), stats)
    violations = check_plan(problem, plan, timetable=timetable)
    if violations:
        log.error("The plan breaks %d rules (a planner bug), e.g. %s", len(violations), violations[0])
    plan.stats["violations"] = len(violations)
    report(1.0, Message("done", {"buses": plan.totals.buses, "on_buses": plan.totals.on_buses}))
    return plan


def _latest(unserved: list[Unserved]) -> list[Unserved]:
    """Each party once, with the last stage's cause (a party re-seating left off was on a bus before)."""
    by_party = {u.party.traveller_ids: u for u in unserved}
    return list(by_party.values())


def _silent(share: float, message: Message) -> None:
    pass
