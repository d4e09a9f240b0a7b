"""The plan document (plan.json, exactly as ``scheduler.plan.Plan.to_dict`` writes it) as pydantic models.

They describe ``PlanPublic.plan`` and ``BusPublic.bus`` in the OpenAPI document. The service never builds
these by hand: it reads a stored plan with ``Plan.from_dict`` and serves ``Plan.to_dict()`` through them, so a
client can rebuild the plan with ``Plan.from_dict`` (``tests/api/test_plan_documents.py`` checks both ways).

In a plan served by the service every ``traveller_id`` is the service's traveller id (as text); the township's
own reference is beside it in ``traveller_refs`` (see ``TravellerRef``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scheduler.messages import FALLBACK_CAUSES
from scheduler.plan import FALLBACK_MODES

MOMENT = "local date-time to the minute (seconds only when not zero), e.g. 2026-02-21T05:28; may fall on a later day"

FallbackMode = Literal[FALLBACK_MODES]  # type: ignore[valid-type]
FallbackCause = Literal[FALLBACK_CAUSES]  # type: ignore[valid-type]


class PlanStop(BaseModel):
    """One stop of a bus, in driving order."""

    place_id: str = Field(description="a township id, an assembly point id or a factory id")
    place_name: str
    kind: Literal["pickup", "dropoff"]
    arrival: str = Field(description=MOMENT)
    departure: str = Field(description=MOMENT)
    board: list[str] = Field(description="traveller ids boarding here, in seat order")
    alight: list[str] = Field(description="traveller ids alighting here")


class PlanBus(BaseModel):
    """A chartered coach and its route (plan.json's ``buses[]``)."""

    bus_id: str = Field(description="the plan's bus id, MMDD-NNN; published buses are P<plan>-<bus_id>")
    vehicle_type: str
    coach_id: str = Field(
        "",
        description="the contracted coach that drives it, e.g. coach53-017 (empty in "
        "plans made before coaches were named)",
    )
    seats: int
    load: int = Field(description="travellers on board (derived: everyone boarding)")
    area: str = Field(description="the destination area the bus drops off in")
    distance_km: float = Field(description="depot, every stop, back to the depot")
    drive_hours: float = Field(description="one-way driving, depot to the last drop-off, without rests")
    drivers: int
    cost: float = Field(description="CNY: fixed + per km (with the priced empty return) + second driver + shuttles")
    stops: list[PlanStop]


class PlanFallback(BaseModel):
    """A traveller who does not ride a chartered bus, how they travel instead, and why.

    ``cause`` and ``params`` are the reason as data; ``reason`` (English) and ``reason_zh`` (Chinese) are the
    sentences rendered from them (``scheduler.messages``).
    """

    traveller_id: str
    mode: FallbackMode  # type: ignore[valid-type]
    cause: FallbackCause = Field(  # type: ignore[valid-type]
        description="timetable: no coach reaches the gate in time; fleet: no coach left; underfilled: the only "
        "bus would stay below the charter threshold; small_flow: a flow below the threshold found no seats; "
        "no_seat: a flow at or above the threshold found no seats"
    )
    params: dict[str, Any] = Field(
        description="the cause's figures: township, factory, area, size, group_size, flow_size, mode, per_person, "
        "threshold, priced, and per cause bus_load, stop limits or the timetable's report_date, gate_until, "
        "depart_from, journey_hours"
    )
    reason: str = Field(description="the reason in English")
    reason_zh: str = Field(description="the reason in Chinese (pages and Chinese exports show this one)")
    est_cost: float = Field(description="CNY per person, what the rule pays at most")


class PlanSubsidy(BaseModel):
    traveller_id: str
    amount: float = Field(description="one-off subsidy due to a registered-poor traveller, CNY")


class PlanTotals(BaseModel):
    """Derived from the buses, fallback and subsidies."""

    travellers: int
    on_buses: int
    buses: int
    distance_km: float
    charter_cost: float
    reimbursement_cost: float
    ticket_cost: float
    subsidy_cost: float
    total_cost: float
    seat_fill: float = Field(description="travellers on buses / seats of the buses, 0..1")


class PlanStats(BaseModel):
    """How the plan was made. Besides ``violations``: solve_s, areas, direct_buses, seating_saving_cny,
    time_limit_s (and whatever else the planner reports)."""

    model_config = ConfigDict(extra="allow")

    violations: int = Field(
        description="rules the plan breaks according to scheduler.check.check_plan; 0 unless the planner has a bug "
        "(the service refuses to publish a plan with violations)"
    )


class PlanDocument(BaseModel):
    """A day's plan, plan.json's shape: ``scheduler.plan.Plan.from_dict`` reads it back."""

    date: dt.date
    buses: list[PlanBus]
    fallback: list[PlanFallback]
    subsidies: list[PlanSubsidy]
    totals: PlanTotals
    stats: PlanStats


class TravellerRef(BaseModel):
    """Who a service traveller id is in the township's own records: the row of its imported spreadsheet is
    (``township_id``, ``traveller_id`` column = ``ref``)."""

    township_id: str
    ref: str = Field(description="the township's own traveller_id (travellers.csv's column), unique per township")


TravellerRefs = dict[str, TravellerRef]
