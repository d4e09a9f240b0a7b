"""Ticket codes in use: a township's boarding slips for a date (PDF), boarding by a scanned code, a bus's escort."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Field, Session, col, select

from api import models as m
from api.deps import Caller, SessionDep, SettingsDep, TownshipOrDispatcherDep
from api.errors import ApiError, bad_input, not_found
from api.routes.buses import _riders
from api.routes.scope import in_scope, traveller_filters
from api.services import lifecycle
from api.services.manifest_pdf import find_font
from api.services.slips import Slip, slips_pdf
from api.services.tokens import create_token
from scheduler.validation import normalise_phone

router = APIRouter(tags=["tickets"])


def slips_for(session: Session, caller: Caller, day: dt.date, township_id: str | None = None) -> list[Slip]:
    """Every traveller of ``day`` with a ticket code the caller may see (of ``township_id`` if given), by bus
    and seat, then the fallbacks."""
    query = select(m.Traveller).where(
        m.Traveller.travel_date == day,
        col(m.Traveller.ticket_code).is_not(None),
        col(m.Traveller.status).in_(lifecycle.ON_THE_WAY),
        *traveller_filters(caller),
    )
    if township_id is not None:
        query = query.where(m.Traveller.township_id == township_id)
    travellers = sorted(session.exec(query).all(), key=lambda t: (t.bus_id is None, t.bus_id or "", t.seat or 0, t.id))
    buses = {b.id: b for b in session.exec(select(m.Bus).where(m.Bus.date == day)).all()}
    factories = {f.id: f for f in session.exec(select(m.Factory)).all()}
    townships = {t.id: t for t in session.exec(select(m.Township)).all()}
    return [
        Slip(t, buses.get(t.bus_id or ""), factories.get(t.factory_id), townships.get(t.township_id))
        for t in travellers
    ]


@router.get("/slips", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def get_slips(
    date: m.Day, session: SessionDep, caller: TownshipOrDispatcherDep, settings: SettingsDep,
    township_id: str | None = None,
) -> Response:  # fmt: skip
    """A township's boarding slips for ``date`` as one PDF (A4, eight to a page, cut lines): bus, seat, boarding
    place and time, destination, the escort's phone, the masked ID number and the ticket code as a QR code."""
    slips = slips_for(session, caller, date, township_id)
    if not slips:
        raise not_found(f"travellers with a ticket on {date}", f"{date} 有票号的旅客")
    return Response(
        slips_pdf(slips, find_font(settings.pdf_font), caller),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="slips-{date}.pdf"'},
    )


class Scan(m.Input):
    ticket_code: str = Field(min_length=1, max_length=40)


@router.post("/boarding")
def board_by_code(body: Scan, session: SessionDep, caller: TownshipOrDispatcherDep) -> dict[str, Any]:
    """A ticket code scanned or typed at the boarding place (a bus, the township's vehicle, a free ticket handed
    over): the traveller has boarded. Scanning twice changes nothing."""
    code = body.ticket_code.strip().upper()
    t = session.exec(select(m.Traveller).where(m.Traveller.ticket_code == code).with_for_update()).first()
    if t is None or not in_scope(caller, t):
        raise not_found(f"ticket {code}", f"票号 {code}")
    changed = t.status == m.TravellerStatus.planned
    if changed:
        lifecycle.transition(t, "board")
        session.add(t)
    elif t.status not in (m.TravellerStatus.boarded, m.TravellerStatus.arrived):
        lifecycle.transition(t, "board")  # the 409 naming the status
    session.commit()
    return {
        "traveller_id": t.id, "name": t.name, "bus_id": t.bus_id, "seat": t.seat, "mode": t.mode,
        "status": t.status, "changed": changed,
    }  # fmt: skip


@router.post("/buses/{bus_id}/escort-link", status_code=201)
def escort_link(
    bus_id: str, request: Request, session: SessionDep, caller: TownshipOrDispatcherDep, settings: SettingsDep
) -> dict[str, Any]:
    """A link for the bus's escort that opens this bus only (its riders, ticking who boarded), working until two
    days after the bus leaves. Shown once: only its hash is stored."""
    bus, _riders_seen = _riders(session, caller, bus_id)
    if bus.status != "published":
        raise ApiError(409, "the bus was released", "该车已取消")
    days = max(1, (bus.date - settings.today_here()).days + 2)
    row, token = create_token(session, m.Role.escort, bus.id, f"escort of {bus.id}", days, issuer=caller)
    session.commit()
    path = f"/app/escort/{token}"
    return {"bus_id": bus.id, "link": str(request.base_url).rstrip("/") + path, "path": path,
            "expires_at": row.expires_at}  # fmt: skip


@router.put("/buses/{bus_id}/escort", response_model=m.BusEscort)
def set_escort(bus_id: str, body: m.BusEscort, session: SessionDep, caller: TownshipOrDispatcherDep) -> Any:
    """The person the township sends along with the bus and their phone, printed on the boarding slips."""
    bus, _riders_seen = _riders(session, caller, bus_id)
    phone = None
    if body.escort_phone:
        phone = normalise_phone(body.escort_phone)
        if phone is None:
            raise bad_input(
                f"{body.escort_phone!r} is not a mainland mobile number", "随车人员手机号不是有效的大陆手机号"
            )
    if bus.status != "published":
        raise ApiError(409, "the bus was released", "该车已取消")
    bus.escort_name = (body.escort_name or "").strip() or None
    bus.escort_phone = phone
    session.add(bus)
    session.commit()
    return m.BusEscort(escort_name=bus.escort_name, escort_phone=bus.escort_phone)
