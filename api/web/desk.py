"""The dispatcher's desk (/app/dispatcher/desk): what only curl did before. Receipts to decide, the finance
downloads, notices to send, published buses to release, township and factory tokens, and the rules with their
history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, func, select

from api import models as m
from api.convert import policy_data
from api.deps import SessionDep, SettingsDep
from api.routes import buses, notices, reports, rules, subsidies
from api.services.tokens import list_tokens
from api.settings import beijing_minute
from api.web.auth import DispatcherPage
from api.web.money import waiting_receipts
from api.web.render import render

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("/dispatcher/desk", response_class=HTMLResponse)
def desk_page(
    request: Request, session: SessionDep, caller: DispatcherPage, settings: SettingsDep, date: m.Day | None = None
) -> Response:
    queued = session.exec(
        select(m.Notice.township_id, func.count())
        .where(m.Notice.status == m.NoticeStatus.queued)
        .group_by(m.Notice.township_id)
    ).all()
    towns = dict(session.exec(select(m.Township.id, m.Township.name).order_by(m.Township.id)).all())
    today = settings.today_here()
    next_bus = session.exec(select(func.min(m.Bus.date)).where(m.Bus.status == "published", m.Bus.date >= today)).one()
    day = date or next_bus or today
    published = session.exec(
        select(m.Bus).where(m.Bus.date == day, m.Bus.status == "published").order_by(col(m.Bus.id))
    ).all()
    loads = dict(
        session.exec(
            select(m.Traveller.bus_id, func.count())
            .where(col(m.Traveller.bus_id).in_([b.id for b in published]), m.Traveller.status != "cancelled")
            .group_by(m.Traveller.bus_id)
        ).all()
    )
    stored = policy_data(session)
    in_force = rules.get_rules(session)
    money = subsidies.list_subsidies(session, caller, settings)
    return render(
        request,
        "desk.html",
        caller,
        receipts=waiting_receipts(session),
        queued=[(towns.get(t, t), n) for t, n in queued],
        queued_total=sum(n for _, n in queued),
        day=day,
        published=[(b, loads.get(b.id, 0)) for b in published],
        tokens=[t for t in list_tokens(session, caller) if t.kind == m.TokenKind.api and not t.revoked],
        towns=towns,
        factories=dict(session.exec(select(m.Factory.id, m.Factory.name).order_by(m.Factory.id)).all()),
        editable=[(key, zh, en, in_force.get(key, stored.get(key))) for key, (zh, en) in rules.SEASON_RULES.items()],
        history=rules.rules_history(session, caller, limit=50),
        subsidy_total=money["total"],
        subsidy_count=len(money["subsidies"]),
        when=beijing_minute,
        shown_rule=_shown_rule,
    )


def _shown_rule(value: Any) -> str:
    """A setting's value in the history: a number or text as it is; a list (assembly points) only as changed."""
    if value is None:
        return "—"
    if isinstance(value, list | dict):
        return "（已修改）"
    return str(value)


@router.get("/reports/campaign.xlsx")
def campaign_summary_download(session: SessionDep, caller: DispatcherPage, settings: SettingsDep) -> Any:
    return reports.get_campaign_summary(session, caller, settings, None, None, format="xlsx")


@router.post("/api/notices/send")
def send_notices(session: SessionDep, caller: DispatcherPage, settings: SettingsDep) -> dict[str, Any]:
    return notices.send_notices(session, caller, settings)


@router.get("/notices.csv")
def notices_download(session: SessionDep, caller: DispatcherPage) -> Any:
    return notices.list_notices(session, caller, m.NoticeStatus.queued, None, "csv")


@router.post("/api/buses/{bus_id}/release")
def release_bus(bus_id: str, session: SessionDep, caller: DispatcherPage) -> dict[str, Any]:
    return buses.release(bus_id, session, caller)


@router.post("/api/rules")
def change_rules(body: dict[str, Any], session: SessionDep, caller: DispatcherPage) -> dict[str, Any]:
    return rules.update_rules(body, session, caller)
