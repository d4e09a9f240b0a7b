"""The township's departure day in the pages: boarding (scan, tick, no-shows), the escort, slips and notices."""

from __future__ import annotations

import datetime as dt
import html
import io
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, func, select

from api import models as m
from api.convert import bus_to_domain
from api.deps import SessionDep, SettingsDep
from api.routes import buses, notices, tickets
from api.services import lifecycle
from api.services.auth import sign_in_with_token
from api.web.auth import TownshipPage, open_session
from api.web.i18n import status_label
from api.web.render import lang_of, render
from scheduler.clock import format_for_people

router = APIRouter(prefix="/app", include_in_schema=False)


def departure_dates(session: Session, township_id: str) -> list[dt.date]:
    """The dates the township's travellers leave on (planned or on the way)."""
    return list(
        session.exec(
            select(m.Traveller.travel_date)
            .where(
                m.Traveller.township_id == township_id,
                col(m.Traveller.travel_date).is_not(None),
                col(m.Traveller.status).in_([*lifecycle.ON_THE_WAY, m.TravellerStatus.arrived]),
            )
            .group_by(m.Traveller.travel_date)
            .order_by(m.Traveller.travel_date)
        ).all()
    )


@router.get("/township/boarding", response_class=HTMLResponse)
def boarding_page(
    request: Request, session: SessionDep, caller: TownshipPage, settings: SettingsDep, date: m.Day | None = None
) -> Response:
    """Departure day: every bus and fallback of the township on ``date`` (default: today, else the next departure),
    with a scan box (scanner, camera or typed code), ticks and no-shows per bus, and the escort's details."""
    dates = departure_dates(session, caller.scope or "")
    today = settings.today_here()
    day = date or next((d for d in dates if d >= today), dates[-1] if dates else today)
    lang = lang_of(request)
    riders = session.exec(
        select(m.Traveller)
        .where(
            m.Traveller.township_id == caller.scope,
            m.Traveller.travel_date == day,
            col(m.Traveller.status).in_([*lifecycle.ON_THE_WAY, m.TravellerStatus.arrived]),
        )
        .order_by(m.Traveller.bus_id, m.Traveller.seat, m.Traveller.id)
    ).all()
    groups: dict[str, dict[str, Any]] = {}
    for t in riders:
        key = t.bus_id or f"~{t.mode}"
        group = groups.setdefault(key, {"bus_id": t.bus_id, "mode": t.mode, "people": []})
        group["people"].append(
            {"id": t.id, "name": t.name, "seat": t.seat, "code": t.ticket_code or "", "status": t.status,
             "label": status_label(t, lang), "boards_at": t.boards_at or "", "board_time": t.board_time or ""}
        )  # fmt: skip
    for group in groups.values():
        bus = session.get(m.Bus, group["bus_id"]) if group["bus_id"] else None
        if bus is not None:
            stops = bus_to_stops(bus)
            group |= {"bus": bus, "departs": stops[0] if stops else "", "route": " → ".join(stops[1:])}
        group["boarded"] = sum(1 for p in group["people"] if p["status"] != m.TravellerStatus.planned)
    return render(
        request, "boarding.html", caller, day=day, dates=dates, groups=groups,
        township=session.get(m.Township, caller.scope),
    )  # fmt: skip


def bus_to_stops(bus: m.Bus) -> list[str]:
    """The first stop's departure time, then every stop's name."""
    stops = bus_to_domain(bus).stops
    if not stops:
        return []
    return [format_for_people(bus.date, stops[0].departure_s)] + [s.place_name for s in stops]


@router.post("/api/boarding")
def scan_boarding(body: tickets.Scan, session: SessionDep, caller: TownshipPage) -> dict[str, Any]:
    return tickets.board_by_code(body, session, caller)


@router.post("/api/buses/{bus_id}/boarding")
def confirm_boarding(bus_id: str, body: buses.Boarding, session: SessionDep, caller: TownshipPage) -> dict[str, Any]:
    return buses.confirm_boarding(bus_id, body, session, caller)


@router.post("/api/buses/{bus_id}/escort-link", status_code=201)
def escort_link(
    bus_id: str, request: Request, session: SessionDep, caller: TownshipPage, settings: SettingsDep
) -> dict[str, Any]:
    """The escort's link, and its QR code (SVG) for the escort's phone camera."""
    made = tickets.escort_link(bus_id, request, session, caller, settings)
    image = io.BytesIO()
    segno.make(made["link"], error="m").save(image, kind="svg", scale=4, border=2)
    return {**made, "qr_svg": image.getvalue().decode("utf-8")}


@router.get("/escort/{token}")
def escort_sign_in(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The escort's link: opens a session on this browser for the one bus, and leaves the token out of the
    address bar at once."""
    opened = open_session(request, session, settings, sign_in_with_token(session, token[:200], settings.session_days))
    target = opened.headers["location"]
    if target.startswith("/app/login"):
        return opened
    # A link opened from a message app is a cross-site navigation, on which a SameSite=Strict cookie is not sent
    # yet: the bus's page is opened by this page itself, on the service's own site.
    page = HTMLResponse(
        f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={html.escape(target)}">'
        f'<a href="{html.escape(target)}">打开本车名单 / open the bus</a>'
    )
    page.headers["set-cookie"] = opened.headers["set-cookie"]
    return page


@router.put("/api/buses/{bus_id}/escort")
def set_escort(bus_id: str, body: m.BusEscort, session: SessionDep, caller: TownshipPage) -> Any:
    return tickets.set_escort(bus_id, body, session, caller)


@router.get("/township/slips.pdf")
def slips_download(session: SessionDep, caller: TownshipPage, settings: SettingsDep, date: m.Day) -> Response:
    return tickets.get_slips(date, session, caller, settings)


@router.get("/township/notices.csv")
def notices_download(session: SessionDep, caller: TownshipPage) -> Any:
    """The township's notices not yet sent, as the SMS platform imports them."""
    return notices.list_notices(session, caller, m.NoticeStatus.queued, None, "csv")


def unsent_notices(session: Session, township_id: str) -> list[dict[str, Any]]:
    """The township's travellers whose latest news has not been sent yet, with the text waiting for them."""
    rows = session.exec(
        select(m.Notice, m.Traveller)
        .join(m.Traveller, m.Traveller.id == m.Notice.traveller_id)
        .where(m.Notice.township_id == township_id, m.Notice.status == m.NoticeStatus.queued)
        .order_by(col(m.Notice.id))
    ).all()
    return [{"ref": t.ref, "name": t.name, "text": n.text, "reason": n.reason} for n, t in rows]


def notices_sent(session: Session, township_id: str) -> int:
    return session.exec(
        select(func.count()).where(m.Notice.township_id == township_id, m.Notice.status == m.NoticeStatus.sent)
    ).one()
