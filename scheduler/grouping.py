"""From travellers to parties and flows: who must ride together, who fills whole buses on their own.

A *party* is a set of travellers who ride one bus together: a registered group (family, workmates),
a part of a group too large for one coach, or a bundle of people travelling alone on the same flow.
A *flow* is everyone going from one township to one factory with the same last arrival day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from scheduler.model import BusType, Problem, Traveller


@dataclass(frozen=True, slots=True)
class Party:
    """Travellers who board together at one township and alight together at one factory."""

    township_id: str
    factory_id: str
    traveller_ids: tuple[str, ...]
    group_id: str  # empty for a bundle of people travelling alone
    group_size: int  # size of the registered group (1 for people travelling alone)
    arrive_by: dt.date  # last day on which the party may arrive

    @property
    def size(self) -> int:
        return len(self.traveller_ids)

    @property
    def flow(self) -> tuple[str, str, dt.date]:
        return (self.township_id, self.factory_id, self.arrive_by)


@dataclass(frozen=True, slots=True)
class DirectBus:
    """A whole coach filled by one flow, driven straight from its township to its factory."""

    bus_type: BusType
    parties: tuple[Party, ...]

    @property
    def load(self) -> int:
        return sum(p.size for p in self.parties)


def form_parties(problem: Problem) -> list[Party]:
    """Registered groups stay together; a group larger than the largest coach splits into parts of at
    least ``min_split``; people travelling alone are one party each."""
    largest = max((b.seats for b in problem.fleet), default=0)
    # Coaches arrive on the travel date or the next day, so later report dates are all alike.
    horizon = problem.date + dt.timedelta(days=1)
    members: dict[tuple[str, str, str], list[Traveller]] = defaultdict(list)
    parties: list[Party] = []
    for t in sorted(problem.travellers, key=lambda t: t.traveller_id):
        if t.group_id:
            members[(t.group_id, t.township_id, t.factory_id)].append(t)
        else:
            parties.append(Party(t.township_id, t.factory_id, (t.traveller_id,), "", 1, min(t.report_date, horizon)))
    for (group_id, township_id, factory_id), group in sorted(members.items()):
        ids = [t.traveller_id for t in group]
        arrive_by = min(min(t.report_date for t in group), horizon)
        for part in split_sizes(len(ids), largest, problem.rules.min_split):
            parties.append(Party(township_id, factory_id, tuple(ids[:part]), group_id, len(group), arrive_by))
            ids = ids[part:]
    return parties


def split_sizes(size: int, largest_seats: int, min_split: int) -> list[int]:
    """Parts of a group: whole if it fits the largest coach, else full coaches and a remainder of at
    least ``min_split`` (taken from the last full coach when short, as far as that coach keeps
    ``min_split``: with coaches smaller than ``min_split`` the remainder stays as it is)."""
    if largest_seats <= 0 or size <= largest_seats:
        return [size]
    full, rest = divmod(size, largest_seats)
    parts = [largest_seats] * full
    if rest:
        if rest < min_split:
            moved = max(0, min(min_split - rest, largest_seats - min_split))
            parts[-1] -= moved
            rest += moved
        parts.append(rest)
    return parts


def peel_direct_buses(
    parties: list[Party], fleet_left: dict[str, int], fleet: tuple[BusType, ...], direct_fill: float, min_riders: int
) -> tuple[list[DirectBus], list[Party]]:
    """Fill whole coaches from big flows, largest coach type first, until no flow fills one.

    A coach goes direct when its flow fills at least ``direct_fill`` of its seats (and at least
    ``min_riders``). ``fleet_left`` is decremented for each coach used. Returns the direct buses and
    the parties left for pooling.
    """
    by_flow: dict[tuple[str, str, dt.date], list[Party]] = defaultdict(list)
    for party in parties:
        by_flow[party.flow].append(party)
    types = sorted(fleet, key=lambda b: (-b.seats, b.fixed_cost, b.vehicle_type))
    direct: list[DirectBus] = []
    rest: list[Party] = []
    for flow in sorted(by_flow, key=lambda f: (-sum(p.size for p in by_flow[f]), f)):
        pool = sorted(by_flow[flow], key=lambda p: (-p.size, p.traveller_ids))
        while True:
            bus_type = next((b for b in types if fleet_left.get(b.vehicle_type, 0) > 0), None)
            if bus_type is None:
                break
            target = max(math.ceil(direct_fill * bus_type.seats), min_riders)
            if sum(p.size for p in pool) < target:
                break
            chosen, pool_left = _fill_first_fit(pool, bus_type.seats)
            if sum(p.size for p in chosen) < target:
                break
            direct.append(DirectBus(bus_type, tuple(chosen)))
            fleet_left[bus_type.vehicle_type] -= 1
            pool = pool_left
        rest.extend(pool)
    return direct, rest


def _fill_first_fit(pool: list[Party], seats: int) -> tuple[list[Party], list[Party]]:
    """First-fit decreasing into one coach; the pool is sorted largest party first."""
    chosen: list[Party] = []
    left: list[Party] = []
    free = seats
    for party in pool:
        if party.size <= free:
            chosen.append(party)
            free -= party.size
        else:
            left.append(party)
    return chosen, left


def bundle_for_pooling(parties: list[Party], min_bundle: int = 6) -> list[tuple[Party, ...]]:
    """Bundle each flow's parties into a few tasks of halving sizes (about R/2, R/4, ... of the flow's
    R travellers, none below ``min_bundle`` unless the flow is smaller), so that a flow can still be
    split across buses while the routing model keeps only a few tasks per flow. Registered groups are
    never split; a group larger than every bundle is a task of its own. Returns tasks as tuples of parties."""
    by_flow: dict[tuple[str, str, dt.date], list[Party]] = defaultdict(list)
    for party in parties:
        by_flow[party.flow].append(party)
    tasks: list[tuple[Party, ...]] = []
    for flow in sorted(by_flow):
        members = sorted(by_flow[flow], key=lambda p: (-p.size, p.traveller_ids))
        left = sum(p.size for p in members)
        capacities = []
        while left > 0:
            size = min(left, max(math.ceil(left / 2), min_bundle))
            capacities.append(size)
            left -= size
        bins: list[list[Party]] = [[] for _ in capacities]
        free = list(capacities)
        for party in members:
            k = next((k for k, room in enumerate(free) if party.size <= room), None)
            if k is None:
                bins.append([party])
                free.append(0)
            else:
                bins[k].append(party)
                free[k] -= party.size
        tasks.extend(tuple(b) for b in bins if b)
    return tasks
