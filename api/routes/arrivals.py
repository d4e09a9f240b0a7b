"""/arrivals: a factory confirms who arrived, one by one (id or ticket code) or a whole bus with exceptions."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, select

from api import models as m
from api.convert import load_rules
from api.deps import Caller, CallerDep, SessionDep, SettingsDep
from api.errors import ApiError, conflict, not_found
from api.routes.buses import _riders
from api.routes.scope import in_scope
from api.services import audit, lifecycle

router = APIRouter(prefix="/arrivals", tags=["arrivals"])

ON_THE_WAY = lifecycle.may_happen_in("arrive")


class Arrival(m.Input):
    traveller_id: m.RowId | None = None
    ticket_code: str | None = Field(default=None, max_length=12)


class Exception_(m.Input):
    traveller_id: m.RowId
    outcome: Literal["no_show", "went_elsewhere"]


class BusArrival(m.Input):
    bus_id: str = Field(max_length=60)
    exceptions: list[Exception_] = Field(default_factory=list, max_length=1000)


def _grant_subsidy(session: Session, t: m.Traveller, campaign: str) -> None:
    """A registered-poor traveller's one-off subsidy, once per person and campaign (the unique key decides)."""
    if not t.registered_poor:
        return
    rules = load_rules(session)
    factory = session.get(m.Factory, t.factory_id)
    if factory is None:
        return
    amount = rules.subsidy_for(factory.province, factory.city == rules.county)
    if amount <= 0:
        return
    if (
        session.exec(
            select(m.Subsidy.id).where(m.Subsidy.campaign == campaign, m.Subsidy.id_number == t.id_number)
        ).first()
        is not None
    ):
        return
    try:
        with session.begin_nested():
            session.add(
                m.Subsidy(
                    campaign=campaign,
                    id_number=t.id_number,
                    traveller_id=t.id or 0,
                    township_id=t.township_id,
                    factory_id=t.factory_id,
                    amount=amount,
                )
            )
    except IntegrityError:
        pass


def _arrive(session: Session, t: m.Traveller, campaign: str) -> bool:
    """Mark one traveller arrived; False when they already were. The conditional UPDATE makes concurrent
    confirmations of the same person count once."""
    if t.status == m.TravellerStatus.arrived:
        return False
    if t.status not in ON_THE_WAY:
        raise conflict(
            f"traveller {t.id} is {t.status}, not on a published bus or fallback",
            f"旅客 {t.id} 当前状态为 {t.status}，不在已发布的乘车安排中",
        )
    now = m.utcnow()
    result = session.execute(
        update(m.Traveller)
        .where(m.Traveller.id == t.id, m.Traveller.status.in_(lifecycle.may_happen_in("arrive")))  # type: ignore[attr-defined]
        .values(
            status=lifecycle.status_after("arrive", t.status),
            arrived_at=now,
            version=m.Traveller.version + 1,
            updated_at=now,
        )
    )
    if result.rowcount != 1:
        return False
    audit.record(session, "update", "travellers", t.id, {"status": t.status}, {"status": m.TravellerStatus.arrived})
    _grant_subsidy(session, t, campaign)
    return True


def _find(session: Session, caller: Caller, body: Arrival) -> m.Traveller:
    if caller.role == m.Role.township:
        raise ApiError(403, "arrivals are confirmed by the factory", "到岗情况由企业确认")
    if body.traveller_id is None and not body.ticket_code:
        raise ApiError(422, "give traveller_id or ticket_code", "请提供旅客编号（traveller_id）或票号（ticket_code）")
    query = select(m.Traveller)
    if body.traveller_id is not None:
        query = query.where(m.Traveller.id == body.traveller_id)
    else:
        query = query.where(m.Traveller.ticket_code == (body.ticket_code or "").strip().upper())
    t = session.exec(query).first()
    if t is None or not in_scope(caller, t):
        raise not_found("traveller", "旅客")
    return t


def _freed_no_show(session: Session, caller: Caller, traveller_id: int) -> bool:
    t = session.get(m.Traveller, traveller_id)
    return t is not None and in_scope(caller, t) and t.no_shows > 0 and t.bus_id is None


@router.post("")
def confirm_arrival(body: Arrival, session: SessionDep, caller: CallerDep, settings: SettingsDep) -> dict[str, Any]:
    """Confirm one arrival by traveller id or ticket code; confirming twice changes nothing."""
    t = _find(session, caller, body)
    changed = _arrive(session, t, settings.campaign)
    session.commit()
    return {"traveller_id": t.id, "status": "arrived", "changed": changed}


@router.post("/bus")
def confirm_bus(body: BusArrival, session: SessionDep, caller: CallerDep, settings: SettingsDep) -> dict[str, Any]:
    """Confirm everyone on a bus (bound for the caller's factory) except the named no-shows and those who
    went elsewhere. No-shows are freed for a later plan."""
    if caller.role == m.Role.township:
        raise ApiError(403, "arrivals are confirmed by the factory", "到岗情况由企业确认")
    _bus, riders = _riders(session, caller, body.bus_id, lock=True)
    by_id = {t.id: t for t in riders}
    unknown = sorted(e.traveller_id for e in body.exceptions if e.traveller_id not in by_id)
    # A no-show already freed by an earlier confirmation has left the bus: repeating it changes nothing.
    unknown = [i for i in unknown if not _freed_no_show(session, caller, i)]
    if unknown:
        raise ApiError(422, f"not on this bus: {unknown}", f"以下旅客不在本车名单中：{unknown}", travellers=unknown)
    exceptions = {e.traveller_id: e.outcome for e in body.exceptions}
    counts = {"arrived": 0, "no_show": 0, "went_elsewhere": 0, "unchanged": 0}
    now = m.utcnow()
    counts["unchanged"] += sum(1 for i in exceptions if i not in by_id)
    for tid, t in by_id.items():
        outcome = exceptions.get(tid)
        if outcome is None:
            if t.status in ON_THE_WAY and _arrive(session, t, settings.campaign):
                counts["arrived"] += 1
            else:
                counts["unchanged"] += 1
            continue
        if t.status not in ON_THE_WAY:
            counts["unchanged"] += 1
            continue
        if outcome == "no_show":
            lifecycle.free(t, "no_show", now)
        else:
            lifecycle.transition(t, "went_elsewhere", now)
        session.add(t)
        counts[outcome] += 1
    session.commit()
    return {"bus_id": body.bus_id, **counts}
