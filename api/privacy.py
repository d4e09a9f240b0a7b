"""Which personal data each caller sees: the one place that decides (PIPL: only where it is needed).

- The dispatcher sees ID numbers and phones in full (planning, the finance exports).
- A township sees in full the travellers it registered.
- A factory sees masked ID numbers (first 6 and last 4), and the phone of its own arriving staff only (a
  traveller on a published bus or fallback to it, or on the bus today): it may need to call them at the gate.
- A printed manifest (paper that travels with the bus) masks every ID number; its phones follow the rules above.
- No caller (the public subsidy notice) sees both masked.
- An escort (a link for one bus) sees its bus's riders: ID numbers masked, phones in full (to call a late rider).
- The county admin (reference data, rules, tokens) sees no traveller; the audit log holds masked values only.
- The region (a prefecture's bureau reading its counties' databases, api.services.region) sees no traveller at
  all: figures, and plans whose riders are counted, never listed (``region_plan_day``); in its own deployment's
  database it sees nobody (api.routes.scope).

Routes, pages and exports never read ``id_number`` or ``phone`` of a row themselves: they call ``shown``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from api import models as m
from api.schemas import PlanDocument
from api.services import lifecycle
from api.services.auth import Caller
from scheduler.output import mask_id_number

# A factory may call these travellers: they are on their way to its gate.
ARRIVING = lifecycle.ON_THE_WAY


def mask_phone(phone: str) -> str:
    """Keep the first three and the last four digits: 138****0001."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str) -> str:
    """Keep the first character: 张**."""
    return name[:1] + "*" * (len(name) - 1)


@dataclass(frozen=True, slots=True)
class Shown:
    """A traveller's ID number and phone as one caller may see them."""

    id_number: str
    phone: str


def shown(caller: Caller | None, traveller: m.Traveller, printed: bool = False) -> Shown:
    """What ``caller`` sees of ``traveller``'s ID number and phone; ``printed`` (paper that travels with the
    bus): the ID number masked for everyone; no caller: both masked."""
    full_id, full_phone = False, False
    if caller is not None:
        if caller.is_dispatcher:
            full_id = full_phone = True
        elif caller.role == m.Role.township:
            full_id = full_phone = traveller.township_id == caller.scope
        elif caller.role == m.Role.factory:
            full_phone = traveller.factory_id == caller.scope and traveller.status in ARRIVING
        elif caller.role == m.Role.escort:  # calls the riders of its own bus who are late at the stop
            full_phone = traveller.bus_id == caller.scope
    return Shown(
        traveller.id_number if full_id and not printed else mask_id_number(traveller.id_number),
        traveller.phone if full_phone else mask_phone(traveller.phone),
    )


def shown_id_number(caller: Caller, id_number: str, township_id: str | None) -> str:
    """An ID number that is not a traveller's row (a factory's list of expected staff), by the same rule: in
    full for the dispatcher and for the township it belongs to."""
    full = caller.is_dispatcher or (caller.role == m.Role.township and township_id == caller.scope)
    return id_number if full else mask_id_number(id_number)


def traveller_public(caller: Caller, traveller: m.Traveller) -> m.TravellerPublic:
    """A traveller's row as ``caller`` may see it."""
    public = m.TravellerPublic.model_validate(traveller)
    seen = shown(caller, traveller)
    public.id_number, public.phone = seen.id_number, seen.phone
    return public


def personal(caller: Caller | None, traveller: m.Traveller, printed: bool = False) -> dict[str, Any]:
    """``{"id_number", "phone"}`` for a row of an export or a page."""
    seen = shown(caller, traveller, printed)
    return {"id_number": seen.id_number, "phone": seen.phone}


def region_plan_day(document: PlanDocument, published: bool, kept: bool) -> m.RegionPlanDay:
    """A date of a county's plan as the region sees it: each bus with its stops and how many board and alight,
    the fallbacks counted by mode and cause, the subsidies counted; no traveller id, reference or name."""
    fallback: dict[tuple[str, str], list[float]] = defaultdict(list)
    for line in document.fallback:
        fallback[(line.mode, line.cause)].append(line.est_cost)
    return m.RegionPlanDay(
        date=document.date,
        published=published,
        kept=kept,
        totals=document.totals,
        buses=[
            m.RegionBus(
                **bus.model_dump(exclude={"stops"}),
                stops=[
                    m.RegionStop(
                        **stop.model_dump(exclude={"board", "alight"}),
                        boarding=len(stop.board),
                        alighting=len(stop.alight),
                    )
                    for stop in bus.stops
                ],
            )
            for bus in document.buses
        ],
        fallback=[
            m.RegionFallback(mode=mode, cause=cause, travellers=len(costs), est_cost=round(sum(costs), 2))
            for (mode, cause), costs in sorted(fallback.items())
        ],
        subsidies=len(document.subsidies),
        subsidy_cost=round(sum(s.amount for s in document.subsidies), 2),
    )
