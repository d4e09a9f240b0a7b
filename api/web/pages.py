"""The pages under /app and the small JSON actions they call (/app/api/...).

Every action reuses the service's own route functions or services with the signed-in caller, so the
pages check, scope and save exactly as the HTTP API does.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import and_, func, or_
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api import models as m
from api.convert import (
    HOME_SETTINGS,
    bus_to_domain,
    in_ids,
    job_result,
    load_rules,
    missing_home_settings,
    policy_data,
)
from api.deps import Caller, SessionDep, SettingsDep, check_brake
from api.errors import ApiError, not_found, problem_summary
from api.privacy import shown
from api.routes import arrivals, audit, buses, expected, plans, reports, stats, tokens, travellers
from api.routes.audit import audit_entries
from api.services.accounts import list_users
from api.services.auth import authenticate, sign_in, sign_in_with_token
from api.services.blank_template import blank_template
from api.services.demand import busiest_dates, demand_for, waiting_by_date
from api.services.fallback_list import COLUMNS as FALLBACK_COLUMNS
from api.services.fallback_list import fallback_pdf, fallback_rows
from api.services.geojson import county_geojson
from api.services.manifest_pdf import find_font, manifests_pdf, stops_with_riders
from api.services.registrations import import_file
from api.services.reports import COLUMNS as REPORT_COLUMNS
from api.services.reports import daily_report
from api.services.seed import load_county
from api.services.tokens import list_tokens, revoke_token
from api.settings import BEIJING, beijing_minute
from api.web import desk, documents, journeys, money, region
from api.web.auth import (
    COOKIE,
    LANG_COOKIE,
    AdminPage,
    CountyPage,
    DispatcherPage,
    EscortPage,
    FactoryPage,
    NotSignedIn,
    TokenIssuerPage,
    TownshipPage,
    WebCallerDep,
    WrongRole,
    landing,
    open_session,
)
from api.web.i18n import LANGS, status_label
from api.web.render import HERE, lang_of, render
from scheduler.campaign import day_summary
from scheduler.clock import format_for_people
from scheduler.spreadsheet import table_csv
from scheduler.validation import InvalidScenario

router = APIRouter(prefix="/app", include_in_schema=False)

ON_THE_WAY = ("planned", "boarded", "arrived", "went_elsewhere")


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and the sign-in redirects on ``app``."""
    app.mount("/app/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)
    app.include_router(journeys.router)
    app.include_router(money.router)
    app.include_router(desk.router)
    app.include_router(documents.router)
    app.include_router(region.router)

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _err: NotSignedIn) -> Response:
        if request.url.path.startswith("/app/api/"):
            return JSONResponse({"detail": "please sign in", "detail_zh": "请先登录"}, status_code=401)
        return RedirectResponse(f"/app/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(WrongRole)
    async def _wrong_role(request: Request, err: WrongRole) -> Response:
        if request.url.path.startswith("/app/api/"):
            return JSONResponse({"detail": "not for your role", "detail_zh": "无权访问"}, status_code=403)
        return RedirectResponse(landing(err.caller), status_code=303)


# --------------------------------------------------------------------------------------------- sign-in


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(caller: WebCallerDep) -> Response:
    return RedirectResponse(landing(caller), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str = "", next: str = "") -> Response:
    return render(request, "login.html", None, error=error[:3], next=next[:500])


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Open a session with a user name and password, or with an API token; the cookie holds the session only."""
    try:
        check_brake(request)
    except ApiError as err:
        return render(request, "login.html", None, error="429", next=next, wait_s=err.headers["Retry-After"])
    session.info["actor"] = username.strip()[:60] or "sign-in with a token"
    if username.strip():
        opened = sign_in(session, username, password, settings.session_days)
    else:
        opened = sign_in_with_token(session, token, settings.session_days)
    return open_session(request, session, settings, opened, next)


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End the session (its token is revoked, not only forgotten by the browser)."""
    caller = authenticate(session, request.cookies.get(COOKIE, ""))
    if caller is not None:
        session.info["caller"] = caller
        revoke_token(session, str(caller.token_id))
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(COOKIE, path="/app")
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/app") -> Response:
    response = RedirectResponse(next if next.startswith("/app") else "/app", status_code=303)
    response.set_cookie(
        LANG_COOKIE, code if code in LANGS else "zh", samesite="lax", path="/app", max_age=3600 * 24 * 365
    )
    return response


# --------------------------------------------------------------------------------------------- township


@router.get("/township", response_class=HTMLResponse)
def township_page(request: Request, session: SessionDep, caller: TownshipPage, settings: SettingsDep) -> Response:
    township = session.get(m.Township, caller.scope)
    factories = session.exec(select(m.Factory).order_by(m.Factory.city, m.Factory.id)).all()
    rows = session.exec(
        select(m.Traveller).where(m.Traveller.township_id == caller.scope).order_by(m.Traveller.id.desc())  # type: ignore[union-attr]
    ).all()
    lang = lang_of(request)
    names = {f.id: f.name for f in factories}
    people = [
        {
            "id": t.id,
            "ref": t.ref,
            "name": t.name,
            "phone": shown(caller, t).phone,
            "factory": names.get(t.factory_id, t.factory_id),
            "dates": f"{t.earliest_date:%m-%d} ~ {t.report_date:%m-%d}",
            "status": t.status,
            "label": status_label(t, lang),
            "ticket": t.ticket_code or "",
            "reason": _reason(m.fallback_message(t.fallback_cause, t.fallback_params), lang),
        }
        for t in rows
    ]
    counts: dict[str, int] = {}
    for p in people:
        counts[p["status"]] = counts.get(p["status"], 0) + 1
    return render(
        request,
        "township.html",
        caller,
        township=township,
        factories=factories,
        people=people,
        counts=counts,
        campaign=settings.campaign,
        departures=journeys.departure_dates(session, caller.scope or ""),
        unsent=journeys.unsent_notices(session, caller.scope or ""),
        sent=journeys.notices_sent(session, caller.scope or ""),
    )


@router.get("/township/template.xlsx")
def township_template(session: SessionDep, caller: TownshipPage) -> Response:
    towns = [(t.id, t.name) for t in session.exec(select(m.Township).order_by(m.Township.id)).all()]
    if caller.scope:
        towns = [t for t in towns if t[0] == caller.scope]
    factories = [(f.id, f.name, f.city) for f in session.exec(select(m.Factory).order_by(m.Factory.id)).all()]
    return Response(
        blank_template(towns, factories),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="travellers-template.xlsx"'},
    )


@router.post("/api/travellers", status_code=201)
def register_traveller(
    body: m.TravellerCreate, session: SessionDep, caller: TownshipPage, settings: SettingsDep
) -> Any:
    """The form's submit: the server checks again with scheduler.validation (422 with the problems)."""
    row = travellers.register(body, session, caller, settings)
    return {"id": row.id, "ref": row.ref, "name": row.name}


@router.patch("/api/travellers/{traveller_id}")
def correct_traveller(
    traveller_id: m.RowId, body: m.TravellerUpdate, session: SessionDep, caller: TownshipPage, settings: SettingsDep
) -> Any:
    row = travellers.update_traveller(traveller_id, body, session, caller, settings)
    return {"id": row.id, "version": row.version, "seat": row.seat}


@router.post("/api/travellers/{traveller_id}/cancel")
def cancel_traveller(traveller_id: m.RowId, body: m.TravellerCancel, session: SessionDep, caller: TownshipPage) -> Any:
    row = travellers.cancel_traveller(traveller_id, body, session, caller)
    return {"id": row.id, "status": row.status}


async def _upload(file: UploadFile, limit: int) -> bytes:
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise ApiError(413, "the file is too large", "上传文件过大")
    return content


@router.post("/api/travellers/preview")
async def preview_import(
    file: UploadFile, session: SessionDep, caller: TownshipPage, settings: SettingsDep
) -> dict[str, Any]:
    """Check the whole file as the import would, then roll back: nothing is saved."""
    content = await _upload(file, settings.max_upload_bytes)
    name = file.filename or "upload.csv"
    try:
        result = await run_in_threadpool(import_file, session, caller, settings, name, content)
    except InvalidScenario as err:
        session.rollback()
        return {"file": name, "ok": False, **problem_summary(err)}
    session.rollback()
    return {"file": name, "ok": True, "problems": [], **result}


@router.post("/api/travellers/import")
async def confirm_import(
    file: UploadFile, session: SessionDep, caller: TownshipPage, settings: SettingsDep
) -> dict[str, Any]:
    content = await _upload(file, settings.max_upload_bytes)
    result = await run_in_threadpool(import_file, session, caller, settings, file.filename or "upload.csv", content)
    session.commit()
    return result


# --------------------------------------------------------------------------------------------- dispatcher


def _default_date(session: Session, today: dt.date) -> dt.date:
    """The next date with demand: today, or the first date someone still waiting may leave if that is later."""
    first = first_waiting_date(session)
    return max(today, first) if first else today


def _reason(message: Any, lang: str) -> str:
    """A fallback reason in the page's language (Chinese unless switched to English)."""
    if message is None:
        return ""
    return message.en if lang == "en" else message.zh


def _plan_view(
    session: Session, caller: Caller, job: m.PlanJob, lang: str, day: dt.date | None
) -> dict[str, Any] | None:
    """One date of a finished plan (default: its first date)."""
    result = job_result(job)
    if result is None:
        return None
    day = day if day in result.days else min(result.days)
    found = result.days[day]
    plan = found.plan
    published = job.status == m.JobStatus.published or day.isoformat() in (job.published_dates or [])
    buses = documents.bus_rows(job, found, published)
    totals = plan.totals
    payers = [
        ("县包车费用", "county: chartered buses", totals.charter_cost),
        ("乡镇自行组织报销", "townships: reimbursed transport", totals.reimbursement_cost),
        ("免费车票", "county: free tickets", totals.ticket_cost),
        ("脱贫劳动力补贴", "subsidies (registered-poor)", totals.subsidy_cost),
    ]
    return {
        "date": plan.date,
        "campaign": job.end_date is not None,
        "kept": found.kept,
        "buses": buses,
        "fallback": [
            {**r, "reason": r["reason"] if lang == "en" else r["reason_zh"]}
            for r in fallback_rows(session, plan, caller)
        ],
        "totals": totals,
        "payers": payers,
        "published": published,
        "violations": plan.stats.get("violations"),
    }


def _campaign_view(session: Session, job: m.PlanJob, lang: str) -> dict[str, Any] | None:
    """A campaign plan as a calendar: one row per date, with the coaches on the road that day; and its overdue."""
    result = job_result(job)
    if result is None or result.campaign is None:
        return None
    on_road: dict[str, set[str]] = {}
    for coach in result.campaign.get("coaches", []):
        for trip in coach["trips"]:
            first, last = dt.date.fromisoformat(trip["leaves"][:10]), dt.date.fromisoformat(trip["back"][:10])
            for k in range((last - first).days + 1):
                on_road.setdefault((first + dt.timedelta(days=k)).isoformat(), set()).add(coach["coach_id"])
    published = set(job.published_dates or [])
    rows = []
    for day, found in sorted(result.days.items()):
        line = day_summary(found.plan)
        rows.append(
            {
                **line,
                "date": day,
                "fallback": line["travellers"] - line["on_buses"],
                "published": job.status == m.JobStatus.published or day.isoformat() in published,
                "kept": found.kept,
                "coaches_out": len(on_road.get(day.isoformat(), ())),
                "violations": found.plan.stats.get("violations"),
            }
        )
    overdue = result.overdue()
    ids = [int(o["traveller_id"]) for o in overdue]
    names = dict(session.exec(select(m.Traveller.id, m.Traveller.name).where(in_ids(m.Traveller.id, ids))).all())
    return {
        "rows": rows,
        "totals": result.campaign.get("totals", {}),
        "overdue": [
            {
                "traveller_id": o["traveller_id"],
                "name": names.get(int(o["traveller_id"]), ""),
                "reason": o["reason"] if lang == "en" else o["reason_zh"],
            }
            for o in overdue
        ],
        "unpublished": [r["date"].isoformat() for r in rows if not r["published"]],
    }


def _overdue_now(session: Session, lang: str) -> list[dict[str, Any]]:
    """Travellers a published campaign plan found overdue, with the reason."""
    rows = session.exec(
        select(m.Traveller).where(m.Traveller.status == m.TravellerStatus.overdue).order_by(m.Traveller.id)
    ).all()
    towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    factories = dict(session.exec(select(m.Factory.id, m.Factory.name)).all())
    return [
        {
            "ref": t.ref,
            "name": t.name,
            "township": towns.get(t.township_id, t.township_id),
            "factory": factories.get(t.factory_id, t.factory_id),
            "dates": f"{t.earliest_date:%m-%d} ~ {t.report_date:%m-%d}",
            "reason": _reason(m.fallback_message(t.fallback_cause, t.fallback_params), lang),
        }
        for t in rows
    ]


@router.get("/dispatcher", response_class=HTMLResponse)
def dispatcher_page(
    request: Request,
    session: SessionDep,
    caller: DispatcherPage,
    settings: SettingsDep,
    date: m.Day | None = None,
    plan: m.RowId | None = None,
) -> Response:
    job = session.get(m.PlanJob, plan) if plan else None
    day = date or (job.date if job else None) or _default_date(session, settings.today_here())
    covering = or_(m.PlanJob.date == day, and_(m.PlanJob.date <= day, m.PlanJob.end_date >= day))  # type: ignore[operator]
    jobs = session.exec(select(m.PlanJob).where(covering).order_by(m.PlanJob.id.desc())).all()  # type: ignore[union-attr]
    if job is None:
        job = next((j for j in jobs if j.status in (m.JobStatus.done, m.JobStatus.published)), None)
    lang = lang_of(request)
    campaign = _campaign_view(session, job, lang) if job is not None and job.end_date is not None else None
    # A campaign opens on its calendar; a date of it opens from there.
    show_day = job is not None and (campaign is None or date is not None)
    missing = missing_home_settings(policy_data(session))
    opens = max(settings.today_here(), first_waiting_date(session) or settings.today_here())
    return render(
        request,
        "dispatcher.html",
        caller,
        day=day,
        dates=busiest_dates(session),
        demand=demand_for(session, day),
        waiting_by_date=waiting_by_date(session, busiest_dates(session)),
        jobs=jobs,
        job=job,
        campaign=campaign,
        overdue=_overdue_now(session, lang),
        campaign_from=opens,
        campaign_to=opens + dt.timedelta(days=20),
        view=_plan_view(session, caller, job, lang, date) if job is not None and show_day else None,
        missing=[(name, *HOME_SETTINGS[name]) for name in missing],
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
    )


def first_waiting_date(session: Session) -> dt.date | None:
    """The first date anybody still waiting may leave."""
    return session.exec(
        select(func.min(m.Traveller.earliest_date)).where(m.Traveller.status == m.TravellerStatus.registered)
    ).first()


@router.post("/api/plans", status_code=202)
def start_plan(body: m.PlanCreate, request: Request, session: SessionDep, caller: DispatcherPage) -> Any:
    return plans.start_plan(body, request, session, caller)


@router.get("/api/plans/{plan_id}")
def plan_status(plan_id: m.RowId, session: SessionDep, _caller: DispatcherPage) -> dict[str, Any]:
    job = session.get(m.PlanJob, plan_id)
    if job is None:
        raise not_found(f"plan {plan_id}", f"计划 {plan_id}")
    return job.model_dump(mode="json", exclude={"result", "worker_pid", "lease"})


@router.post("/api/plans/{plan_id}/publish")
def publish_plan(
    plan_id: m.RowId, session: SessionDep, caller: DispatcherPage, body: m.PlanPublish | None = None
) -> dict[str, Any]:
    return plans.publish_plan(plan_id, session, caller, body)


@router.get("/api/geojson")
def geojson(
    session: SessionDep, _caller: DispatcherPage, plan_id: m.RowId | None = None, date: m.Day | None = None
) -> dict[str, Any]:
    job = session.get(m.PlanJob, plan_id) if plan_id else None
    return county_geojson(session, job, date)


# --------------------------------------------------------------------------------------------- manifests


def _pdf(pages: list[tuple[m.Bus, list[m.Traveller]]], settings: Any, filename: str, caller: Caller) -> Response:
    return Response(
        manifests_pdf(pages, find_font(settings.pdf_font), caller),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get("/plans/{plan_id}/manifests.pdf")
def plan_manifests(plan_id: m.RowId, session: SessionDep, caller: DispatcherPage, settings: SettingsDep) -> Response:
    rows = session.exec(
        select(m.Bus).where(m.Bus.plan_id == plan_id, m.Bus.status == "published").order_by(m.Bus.id)
    ).all()
    if not rows:
        raise not_found(f"published buses of plan {plan_id}", f"计划 {plan_id} 的已发布车辆")
    pages = [buses._riders(session, caller, b.id) for b in rows]
    return _pdf([(b, list(r)) for b, r in pages], settings, f"plan-{plan_id}-manifests.pdf", caller)


@router.get("/plans/{plan_id}/fallback.csv")
def plan_fallback_csv(
    plan_id: m.RowId, session: SessionDep, _caller: DispatcherPage, date: m.Day | None = None
) -> Response:
    """The plan's fallback list (of ``date``, default its first) for Excel, with the Chinese reasons."""
    rows = fallback_rows(session, documents.finished_plan(session, plan_id, date), _caller)
    return Response(
        table_csv(rows, FALLBACK_COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}-fallback.csv"'},
    )


@router.get("/plans/{plan_id}/fallback.pdf")
def plan_fallback_pdf(
    plan_id: m.RowId, session: SessionDep, _caller: DispatcherPage, settings: SettingsDep, date: m.Day | None = None
) -> Response:
    plan = documents.finished_plan(session, plan_id, date)
    return Response(
        fallback_pdf(plan_id, plan, fallback_rows(session, plan, _caller), find_font(settings.pdf_font)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="plan-{plan_id}-fallback.pdf"'},
    )


@router.get("/buses/{bus_id}/manifest.pdf")
def bus_manifest(bus_id: str, session: SessionDep, caller: WebCallerDep, settings: SettingsDep) -> Response:
    bus, riders = buses._riders(session, caller, bus_id)
    return _pdf([(bus, riders)], settings, f"{bus_id}.pdf", caller)


@router.get("/buses/{bus_id}/driver", response_class=HTMLResponse)
def driver_view(request: Request, bus_id: str, session: SessionDep, caller: WebCallerDep) -> Response:
    """The bus as its driver and escort use it on the road: stops in order with their times and a map link,
    the riders to tick off at each pickup (the escort and the township), and the manifest PDF."""
    bus, riders = buses._riders(session, caller, bus_id)
    places = {t.id: (t.lat, t.lon) for t in session.exec(select(m.Township)).all()}
    places |= {f.id: (f.lat, f.lon) for f in session.exec(select(m.Factory)).all()}
    places |= {p.point_id: (p.lat, p.lon) for p in load_rules(session).assembly_points}
    return render(
        request,
        "driver.html",
        caller,
        bus=bus,
        drivers=bus_to_domain(bus).drivers,
        stops=stops_with_riders(bus, riders, caller),
        riders=len(riders),
        places=places,
        may_tick=caller.role in (m.Role.township, m.Role.escort) and bus.status == "published",
    )


@router.post("/api/escort/buses/{bus_id}/boarding")
def escort_boarding(bus_id: str, body: buses.Boarding, session: SessionDep, caller: EscortPage) -> dict[str, Any]:
    return buses.confirm_boarding(bus_id, body, session, caller)


# --------------------------------------------------------------------------------------------- factory


@router.get("/factory", response_class=HTMLResponse)
def factory_page(
    request: Request, session: SessionDep, caller: FactoryPage, settings: SettingsDep, date: m.Day | None = None
) -> Response:
    factory = session.get(m.Factory, caller.scope)
    query = select(m.Traveller).where(m.Traveller.factory_id == caller.scope, m.Traveller.status.in_(ON_THE_WAY))  # type: ignore[attr-defined]
    if date:
        query = query.where(m.Traveller.travel_date == date)
    rows = session.exec(query.order_by(m.Traveller.travel_date, m.Traveller.bus_id, m.Traveller.seat)).all()
    towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    bus_rows = {
        b.id: b for b in session.exec(select(m.Bus).where(m.Bus.id.in_({t.bus_id for t in rows if t.bus_id}))).all()
    }  # type: ignore[attr-defined]
    days: dict[str, dict[str, Any]] = {}
    for t in rows:
        day = t.travel_date.isoformat() if t.travel_date else "?"
        key = t.bus_id or f"~{t.mode}"
        group = days.setdefault(day, {}).setdefault(key, {"bus_id": t.bus_id, "mode": t.mode, "people": []})
        group["people"].append(
            {
                **t.model_dump(include={"id", "name", "seat", "ticket_code", "status"}),
                "township": towns.get(t.township_id, t.township_id),
            }
        )
    for groups in days.values():
        for group in groups.values():
            bus = bus_rows.get(group["bus_id"] or "")
            if bus is not None:
                arrival = next((s.arrival_s for s in bus_to_domain(bus).stops if s.place_id == caller.scope), None)
                group["arrival"] = "" if arrival is None else format_for_people(bus.date, arrival)
                group["vehicle_type"], group["seats"] = bus.vehicle_type, bus.seats
            group["arrived"] = sum(1 for p in group["people"] if p["status"] == "arrived")
            group["elsewhere"] = sum(1 for p in group["people"] if p["status"] == "went_elsewhere")
    numbers = stats.stats(session, caller, None)["overall"]
    return render(
        request,
        "factory.html",
        caller,
        factory=factory,
        days=days,
        numbers=numbers,
        staff=expected.match_expected(caller.scope or "", session, caller, settings),
        due=_due_so_far(session, caller.scope or "", settings.today_here()),
        date=date,
        campaign=settings.campaign,
    )


def _due_so_far(session: Session, factory_id: str, today: dt.date) -> dict[str, Any]:
    """到岗率 of those due: travellers placed to reach the factory on a date up to today, and how many arrived."""
    statuses = session.exec(
        select(m.Traveller.status).where(
            m.Traveller.factory_id == factory_id,
            m.Traveller.travel_date <= today,  # type: ignore[operator]
            m.Traveller.status.in_(ON_THE_WAY),  # type: ignore[attr-defined]
        )
    ).all()
    arrived = sum(1 for s in statuses if s == m.TravellerStatus.arrived)
    return {"due": len(statuses), "arrived": arrived, "rate": arrived / len(statuses) if statuses else 0.0}


@router.post("/api/arrivals")
def confirm_ticket(body: arrivals.Arrival, session: SessionDep, caller: FactoryPage, settings: SettingsDep) -> Any:
    result = arrivals.confirm_arrival(body, session, caller, settings)
    t = session.get(m.Traveller, result["traveller_id"])
    return {**result, "name": t.name if t else "", "bus_id": t.bus_id if t else None}


@router.put("/api/expected")
async def upload_expected(file: UploadFile, session: SessionDep, caller: FactoryPage, settings: SettingsDep) -> Any:
    return await expected.upload_expected(caller.scope or "", file, session, caller, settings)


@router.post("/api/arrivals/bus")
def confirm_whole_bus(
    body: arrivals.BusArrival, session: SessionDep, caller: FactoryPage, settings: SettingsDep
) -> Any:
    return arrivals.confirm_bus(body, session, caller, settings)


# --------------------------------------------------------------------------------------------- admin

AUDIT_FILTERS = ("entity", "entity_id", "actor", "action", "since", "until")


@router.get("/admin", response_class=HTMLResponse)
def admin_page(
    request: Request,
    session: SessionDep,
    caller: AdminPage,
    entity: str = "",
    entity_id: str = "",
    actor: str = "",
    action: str = "",
    since: m.Day | None = None,
    until: m.Day | None = None,
) -> Response:
    """The county admin's desk: tokens and sessions, people's accounts, and the audit log (latest 200)."""
    filters = {"entity": entity[:80], "entity_id": entity_id[:80], "actor": actor[:200], "action": action[:10]}
    entries = audit_entries(session, since=since, until=until, limit=200, **{k: v or None for k, v in filters.items()})
    query = {**filters, "since": since.isoformat() if since else "", "until": until.isoformat() if until else ""}
    return render(
        request,
        "admin.html",
        caller,
        tokens=list_tokens(session, caller),
        users=list_users(session),
        entries=entries,
        filters=query,
        xlsx_query="&".join(f"{k}={quote(v)}" for k, v in query.items() if v),
        towns=session.exec(select(m.Township.id, m.Township.name).order_by(m.Township.id)).all(),
        factories=session.exec(select(m.Factory.id, m.Factory.name).order_by(m.Factory.id)).all(),
        roles=[r.value for r in m.Role],
        when=beijing_minute,
        as_text=lambda values: "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True),
    )


@router.get("/admin/audit.xlsx")
def admin_audit_xlsx(
    session: SessionDep,
    caller: AdminPage,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: m.Day | None = None,
    until: m.Day | None = None,
) -> Any:
    return audit.get_audit(session, caller, entity, entity_id, actor, action, since, until, format="xlsx")


# The files a county's scenario has (the names `fanggang plan` reads), or one workbook with their sheets.
SCENARIO_FILES = ("townships.csv", "factories.csv", "fleet.csv", "travellers.csv", "policy.toml")


@router.post("/api/county")
async def admin_load_county(
    files: list[UploadFile], caller: AdminPage, settings: SettingsDep, request: Request
) -> dict[str, Any]:
    """Load the county from its scenario files (townships.csv, factories.csv, fleet.csv, travellers.csv and
    policy.toml, or one .xlsx workbook with policy.toml), as `fanggang load` does: all or nothing."""
    names = [Path(f.filename or "").name.lower() for f in files]
    workbook = [n for n in names if n.endswith(".xlsx")]
    unknown = [n for n in names if n not in SCENARIO_FILES and not n.endswith(".xlsx")]
    if unknown or len(workbook) > 1 or len(set(names)) < len(names):
        raise ApiError(
            422,
            f"expected {', '.join(SCENARIO_FILES)} or one .xlsx workbook, got {', '.join(names)}",
            f"请上传 {'、'.join(SCENARIO_FILES)}，或一个 .xlsx 工作簿（可另附 policy.toml），收到：{'、'.join(names)}",
        )
    with tempfile.TemporaryDirectory(prefix="fanggang-county-") as folder:
        for name, upload in zip(names, files, strict=True):
            (Path(folder) / name).write_bytes(await _upload(upload, settings.max_upload_bytes))
        scenario = Path(folder) / workbook[0] if workbook else Path(folder)
        report = await run_in_threadpool(
            load_county, request.app.state.engine, settings.campaign, scenario, None, None, True, caller
        )
    return {
        "added": dict(report.added),
        "updated": dict(report.updated),
        "already_registered": report.already_registered,
        "assumptions": [{"en": a.en, "zh": a.zh} for a in report.assumptions],
    }


@router.post("/api/tokens", status_code=201)
def page_issue_token(body: m.TokenCreate, session: SessionDep, settings: SettingsDep, caller: TokenIssuerPage) -> Any:
    """The admin's page and the dispatcher's desk (which issues township and factory tokens only)."""
    return tokens.issue_token(body, session, settings, caller)


@router.post("/api/tokens/{token_id}/revoke")
def page_revoke_token(token_id: m.RowId, session: SessionDep, caller: TokenIssuerPage) -> Any:
    return tokens.delete_token(token_id, session, caller)


@router.post("/api/users", status_code=201)
def admin_create_user(body: m.UserCreate, session: SessionDep, caller: AdminPage) -> Any:
    return tokens.create_user(body, session, caller)


@router.post("/api/users/{user_id}")
def admin_update_user(user_id: m.RowId, body: m.UserUpdate, session: SessionDep, caller: AdminPage) -> Any:
    return tokens.update_user(user_id, body, session, caller)


# --------------------------------------------------------------------------------------------- overview


@router.get("/overview", response_class=HTMLResponse)
def overview_page(
    request: Request, session: SessionDep, caller: CountyPage, settings: SettingsDep, date: m.Day | None = None
) -> Response:
    numbers = stats.stats(session, caller, None)
    report = daily_report(session, caller, settings.campaign, date or settings.today_here())
    towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    factories = dict(session.exec(select(m.Factory.id, m.Factory.name)).all())
    township_rows = [{"id": k, "name": towns.get(k, k), **v} for k, v in numbers["townships"].items()]
    factory_rows = [{"id": k, "name": factories.get(k, k), **v} for k, v in numbers["factories"].items()]
    return render(
        request,
        "overview.html",
        caller,
        overall=numbers["overall"],
        townships=township_rows,
        factories=factory_rows,
        by_date=numbers["by_date"],
        county=policy_data(session).get("county") or "",
        generated=f"{dt.datetime.now(BEIJING):%Y-%m-%d %H:%M}",
        report=report,
        report_columns=REPORT_COLUMNS,
    )


@router.get("/reports/daily.xlsx")
def daily_report_download(
    session: SessionDep, caller: CountyPage, settings: SettingsDep, date: m.Day | None = None
) -> Response:
    return reports.get_daily_report(session, caller, settings, date, format="xlsx")
