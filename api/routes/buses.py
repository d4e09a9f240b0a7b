"""/buses: published buses, their manifests, boarding on departure day, and releasing a bus."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from sqlmodel import Field, Session, select

from api import models as m
from api.convert import HOLDS_PLACE, bus_document, bus_to_domain
from api.deps import Caller, CallerDep, DispatcherDep, SessionDep
from api.errors import ApiError, not_found
from api.routes.scope import traveller_filters
from api.schemas import PlanBus, TravellerRef
from api.services import lifecycle, manifests
from api.services.publishing import release_bus

router = APIRouter(prefix="/buses", tags=["buses"])


def _riders(session: Session, caller: Caller, bus_id: str, lock: bool = False) -> tuple[m.Bus, list[m.Traveller]]:
    """The bus and the travellers on it that the caller may see; 404 when it carries none of them."""
    bus = session.get(m.Bus, bus_id)
    if bus is None:
        raise not_found(f"bus {bus_id}", f"车辆 {bus_id}")
    query = select(m.Traveller).where(m.Traveller.bus_id == bus_id, *traveller_filters(caller))
    riders = list(session.exec(query.with_for_update() if lock else query).all())
    if not caller.is_dispatcher and not riders:
        raise not_found(f"bus {bus_id}", f"车辆 {bus_id}")
    return bus, riders


def _document(bus: m.Bus, caller: Caller, riders: list[m.Traveller]) -> PlanBus:
    """The bus as in plan.json; a township or factory finds only its own riders' ids on its stops."""
    document = PlanBus.model_validate(bus_document(bus_to_domain(bus), bus.date))
    if not caller.is_dispatcher:
        mine = {str(t.id) for t in riders}
        for stop in document.stops:
            stop.board = [i for i in stop.board if i in mine]
            stop.alight = [i for i in stop.alight if i in mine]
    return document


def _public(bus: m.Bus, caller: Caller, riders: list[m.Traveller]) -> m.BusPublic:
    return m.BusPublic(
        id=bus.id,
        plan_id=bus.plan_id,
        date=bus.date,
        vehicle_type=bus.vehicle_type,
        seats=bus.seats,
        status=bus.status,
        escort_name=bus.escort_name,
        escort_phone=bus.escort_phone,
        load=sum(1 for t in riders if t.status in HOLDS_PLACE),  # a cancelled seat is free
        bus=_document(bus, caller, riders),
        traveller_refs={str(t.id): TravellerRef(township_id=t.township_id, ref=t.ref) for t in riders},
    )


@router.get("", response_model=list[m.BusPublic])
def list_buses(session: SessionDep, caller: CallerDep, date: m.Day | None = None) -> Any:
    """Published buses (a township or factory sees the buses that carry its travellers)."""
    query = select(m.Bus).order_by(m.Bus.id)
    if date:
        query = query.where(m.Bus.date == date)
    buses = session.exec(query).all()
    riders: dict[str, list[m.Traveller]] = {}
    for t in session.exec(
        select(m.Traveller).where(m.Traveller.bus_id.is_not(None), *traveller_filters(caller))  # type: ignore[union-attr]
    ).all():
        riders.setdefault(t.bus_id or "", []).append(t)
    return [_public(b, caller, riders.get(b.id, [])) for b in buses if caller.is_dispatcher or b.id in riders]


@router.get("/{bus_id}", response_model=m.BusPublic)
def get_bus(bus_id: str, session: SessionDep, caller: CallerDep) -> Any:
    bus, riders = _riders(session, caller, bus_id)
    return _public(bus, caller, riders)


@router.get(
    "/{bus_id}/manifest",
    response_model=None,
    responses={
        200: {
            "model": m.ManifestPublic,
            "content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
        }
    },
)
def get_manifest(
    bus_id: str, session: SessionDep, caller: CallerDep, format: Literal["json", "csv", "xlsx"] = "json"
) -> Any:
    """Seat list (一车一方案) with ticket codes; ID numbers and phones as ``api.privacy`` shows them. A township
    sees its own travellers on the bus, a factory those bound for it."""
    bus, riders = _riders(session, caller, bus_id)
    rows = manifests.manifest_rows(riders, caller, manifests.corrections(session, bus_id, riders))
    if format == "csv":
        return Response(
            manifests.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{bus_id}.csv"'},
        )
    if format == "xlsx":
        return Response(
            manifests.to_xlsx(rows, bus_id),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{bus_id}.xlsx"'},
        )
    return m.ManifestPublic(
        bus_id=bus.id,
        date=bus.date,
        vehicle_type=bus.vehicle_type,
        seats=bus.seats,
        status=bus.status,
        bus=_document(bus, caller, riders),
        travellers=[m.ManifestRow.model_validate(r) for r in rows],
    )


@router.post("/{bus_id}/release")
def release(bus_id: str, session: SessionDep, _caller: DispatcherDep) -> dict[str, Any]:
    """Give the coach back and free its travellers for the next plan of that date."""
    result = release_bus(session, bus_id)
    session.commit()
    return result


class Boarding(m.Input):
    """Who boarded: ``boarded`` lists them, or leave it out to mean everyone except ``no_shows``."""

    boarded: list[m.RowId] | None = Field(default=None, max_length=1000)
    no_shows: list[m.RowId] = Field(default_factory=list, max_length=1000)


def _freed(session: Session, caller: Caller, traveller_id: int) -> bool:
    from api.routes.scope import in_scope

    t = session.get(m.Traveller, traveller_id)
    return t is not None and in_scope(caller, t) and t.no_shows > 0 and t.bus_id is None


@router.post("/{bus_id}/boarding")
def confirm_boarding(bus_id: str, body: Boarding, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    """Departure day: confirm who boarded; no-shows are freed for a later plan. Confirming twice changes nothing."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "boarding is confirmed by the township or the escort", "上车情况由乡镇或随车人员确认")
    _bus, riders = _riders(session, caller, bus_id, lock=True)
    by_id = {t.id: t for t in riders}
    named = set(body.no_shows) | set(body.boarded or [])
    unknown = sorted(i for i in named if i not in by_id)
    # A no-show freed by an earlier confirmation has left the bus: repeating it changes nothing.
    unknown = [i for i in unknown if not (i in body.no_shows and _freed(session, caller, i))]
    if unknown:
        raise ApiError(422, f"not on this bus: {unknown}", f"以下旅客不在本车名单中：{unknown}", travellers=unknown)
    both = set(body.no_shows) & set(body.boarded or [])
    if both:
        raise ApiError(422, f"both boarded and no-show: {sorted(both)}", f"同时标记为已上车和未到：{sorted(both)}")
    boarded = set(body.boarded) if body.boarded is not None else set(by_id) - set(body.no_shows)
    now = m.utcnow()
    counts = {"boarded": 0, "no_show": 0, "unchanged": 0}
    for tid, t in by_id.items():
        if tid in boarded and t.status == m.TravellerStatus.planned:
            lifecycle.transition(t, "board", now)
            counts["boarded"] += 1
        elif tid in body.no_shows and t.status == m.TravellerStatus.planned:
            lifecycle.free(t, "no_show", now)
            counts["no_show"] += 1
        else:
            counts["unchanged"] += 1
            continue
        session.add(t)
    session.commit()
    return {"bus_id": bus_id, **counts}
