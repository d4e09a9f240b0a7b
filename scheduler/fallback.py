"""Who has a right to a seat, who does not ride a chartered bus, what the county's rule gives them instead and
why, and the subsidies due.

The county's rule: a township-factory flow of at least ``charter_min_group`` travellers on a date gets
chartered seats while coaches last (``entitled_flows``; ``threshold_is_entitlement = false`` leaves it to cost);
smaller groups are moved by their township and reimbursed; scattered people get free tickets. The planner's
stages only say who was left off and the cause (``Unserved``); the fallback lines, with the mode the rule gives,
what it pays and the reason as data, are made here, once, for the whole plan.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from scheduler.clock import format_clock
from scheduler.grouping import Party
from scheduler.model import Problem, Traveller
from scheduler.plan import Bus, Fallback
from scheduler.policy import PolicyRules
from scheduler.timetable import Timetable

FEN = 100  # the models count money in fen so that integer costs lose nothing
# Leaving a traveller off the buses when the county wants them on one costs this much per person in the models.
MUST_SERVE_PENALTY_FEN = 10_000_000

Flow = tuple[str, str]  # (township_id, factory_id)


@dataclass(frozen=True, slots=True)
class Unserved:
    """A party left off the buses, by which stage and why (a cause of ``scheduler.messages``)."""

    party: Party
    cause: str
    area: str = ""
    bus_load: int = 0  # "underfilled": the riders of the bus that was not chartered


def flow_sizes(travellers: Iterable[Traveller]) -> Counter[Flow]:
    """Travellers per township-factory flow."""
    return Counter((t.township_id, t.factory_id) for t in travellers)


def fallback_cost(timetable: Timetable, township_id: str, factory_id: str) -> float:
    """What the rule pays per person instead of a bus: reimbursement or a ticket, both per km of the journey."""
    township, factory = timetable.township(township_id), timetable.factory(factory_id)
    return timetable.rules.reimburse_per_km * timetable.leg(township, factory).distance_km


def entitled_flows(rules: PolicyRules, parties: Iterable[Party]) -> set[Flow]:
    """The flows whose travellers have a right to chartered seats: those of at least the threshold among the
    parties that can travel on the date (none when the county plans by cost alone)."""
    if not rules.threshold_is_entitlement:
        return set()
    sizes: Counter[Flow] = Counter()
    for party in parties:
        sizes[(party.township_id, party.factory_id)] += party.size
    return {flow for flow, n in sizes.items() if n >= rules.charter_min_group}


def left_off_penalty_fen(
    timetable: Timetable, township_id: str, factory_id: str, people: int, entitled: bool = False
) -> int:
    """What leaving ``people`` of one flow off the buses costs the models: the rule's fallback when cost may
    decide, a prohibitive figure when they are entitled to a seat or the county wants everyone on a bus."""
    if entitled or not timetable.rules.price_alternatives:
        return MUST_SERVE_PENALTY_FEN * people
    return max(1, round(fallback_cost(timetable, township_id, factory_id) * people * FEN))


def recounted(lines: Iterable[Fallback], travellers: Iterable[Traveller], rules: PolicyRules) -> tuple[Fallback, ...]:
    """The ``lines`` with their flow's size among ``travellers`` (the date's, as it now is: the campaign moves
    travellers between dates after a day is planned), and the cause that size gives a party the pooling left off
    (below the threshold: a small flow; else no seat)."""
    flow_of = {t.traveller_id: (t.township_id, t.factory_id) for t in travellers}
    flows = Counter(flow_of.values())
    out = []
    for line in lines:
        flow = flow_of.get(line.traveller_id)
        if flow is None or "flow_size" not in line.params or flows[flow] == line.params["flow_size"]:
            out.append(line)
            continue
        size = flows[flow]
        cause = line.cause
        if cause in ("small_flow", "no_seat"):
            cause = "small_flow" if size < rules.charter_min_group else "no_seat"
        out.append(replace(line, cause=cause, params={**line.params, "flow_size": size}))
    return tuple(out)


def fallback_lines(
    timetable: Timetable, unserved: Iterable[Unserved], flows: Counter[Flow], entitled: set[Flow] | None = None
) -> list[Fallback]:
    """One fallback line per traveller of the unserved parties, with the rule's mode and the reason as data."""
    entitled = entitled or set()
    rules = timetable.rules
    lines: list[Fallback] = []
    for item in unserved:
        party = item.party
        township, factory = timetable.township(party.township_id), timetable.factory(party.factory_id)
        flow_size = flows[(party.township_id, party.factory_id)]
        per_person = round(fallback_cost(timetable, party.township_id, party.factory_id), 2)
        cause = item.cause
        if cause == "pool":
            cause = "small_flow" if flow_size < rules.charter_min_group else "no_seat"
        mode = rules.fallback_mode(party.group_size)
        params = {
            "township": township.name,
            "factory": factory.name,
            "area": item.area,
            "size": party.size,
            "group_size": party.group_size,
            "flow_size": flow_size,
            "mode": mode,
            "per_person": per_person,
            "threshold": rules.charter_min_group,
            # The cost rule applied: the party could be left off because its seat cost more than its fallback.
            "priced": rules.price_alternatives and (party.township_id, party.factory_id) not in entitled,
        }
        if cause in ("small_flow", "no_seat"):
            params |= {"max_pickup_stops": rules.max_pickup_stops, "max_dropoff_stops": rules.max_dropoff_stops}
        elif cause == "underfilled":
            params["bus_load"] = item.bus_load
        elif cause == "timetable":
            mode, per_person = "unplaced", 0.0
            journey_s = timetable.earliest_arrival_s(township, factory) - rules.depart_from_s
            params |= {
                "mode": mode,
                "city": factory.city,
                "gate_until": format_clock(factory.receive_until_s),
                "report_date": party.arrive_by.isoformat(),
                "depart_from": rules.depart_from,
                "journey_hours": round(journey_s / 3600, 1),
            }
        lines.extend(Fallback(t, mode, cause, params, per_person) for t in party.traveller_ids)
    return lines


def reachable(timetable: Timetable, party: Party) -> bool:
    """Whether a coach leaving the depot as early as the rules allow can reach the party's gate before it
    closes on the last day the party may arrive."""
    days = timetable.days_to_gate(timetable.township(party.township_id), timetable.factory(party.factory_id))
    return days is not None and timetable.problem.date + dt.timedelta(days=days) <= party.arrive_by


def subsidies(problem: Problem, unplaced: set[str]) -> dict[str, float]:
    """The one-off subsidy due to each registered-poor traveller placed outside the county (not the unplaced)."""
    factories = {f.factory_id: f for f in problem.factories}
    due = {}
    for traveller in problem.travellers:
        if not traveller.registered_poor or traveller.traveller_id in unplaced:
            continue
        factory = factories[traveller.factory_id]
        amount = problem.rules.subsidy_for(factory.province, problem.factory_in_county(factory))
        if amount > 0:
            due[traveller.traveller_id] = amount
    return due


def chartered(bus: Bus, party_of: dict[str, Party], threshold: int, entitled: set[Flow]) -> bool:
    """A bus runs as a charter when it carries at least the threshold, or riders entitled to a seat."""
    if bus.load >= threshold:
        return True
    return any((party_of[t].township_id, party_of[t].factory_id) in entitled for t in bus.traveller_ids)


def drop_underfilled(
    buses: list[Bus], parties: list[Party], threshold: int, entitled: set[Flow]
) -> tuple[list[Bus], list[Unserved]]:
    """A bus that is not chartered (``chartered``) does not run: its riders take the policy fallback."""
    party_of = {t: p for p in parties for t in p.traveller_ids}
    kept: list[Bus] = []
    left: list[Unserved] = []
    for bus in buses:
        if chartered(bus, party_of, threshold, entitled):
            kept.append(bus)
            continue
        riding = {party_of[t].traveller_ids[0]: party_of[t] for t in bus.traveller_ids}
        left.extend(Unserved(p, "underfilled", bus.area, bus.load) for p in riding.values())
    return kept, left
