"""/plans: start a planning job (202), follow it, publish it."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from sqlmodel import Session, select

from api import models as m
from api.convert import (
    HOME_SETTINGS,
    job_result,
    missing_home_settings,
    plan_traveller_ids,
    policy_data,
    traveller_refs,
)
from api.deps import DispatcherDep, SessionDep
from api.errors import conflict, not_found
from api.schemas import PlanDocument
from api.services.fallback_list import COLUMNS as FALLBACK_COLUMNS
from api.services.fallback_list import fallback_rows
from api.services.manifests import to_xlsx
from api.services.publishing import publish
from scheduler.campaign import day_summary
from scheduler.spreadsheet import table_csv

router = APIRouter(prefix="/plans", tags=["plans"])

UNREADABLE = (
    "the plan was stored by an earlier version of the service and cannot be shown; plan the date again",
    "该计划由旧版本生成，无法显示，请重新生成计划",
)


def _public(session: Session, job: m.PlanJob, with_plan: bool) -> m.PlanPublic:
    data = job.model_dump(exclude={"result", "worker_pid", "lease"})
    if not with_plan or job.result is None:
        return m.PlanPublic(**data)
    result = job_result(job)
    if result is None:
        return m.PlanPublic(**{**data, "error": UNREADABLE[0], "error_zh": UNREADABLE[1]})
    published = set(job.published_dates or [])
    days = [
        m.PlanDay(
            date=day,
            published=day.isoformat() in published or job.status == m.JobStatus.published,
            kept=found.kept,
            totals=day_summary(found.plan),
            plan=PlanDocument.model_validate(found.plan.to_dict()),
        )
        for day, found in sorted(result.days.items())
    ]
    ids = [t for found in result.days.values() for t in plan_traveller_ids(found.plan)]
    ids += [str(o["traveller_id"]) for o in result.overdue()]
    refs = traveller_refs(session, ids)
    return m.PlanPublic(**data, plan=days[0].plan, days=days, campaign=result.campaign, traveller_refs=refs)


@router.post("", response_model=m.PlanPublic, status_code=202)
def start_plan(body: m.PlanCreate, request: Request, session: SessionDep, _caller: DispatcherDep) -> Any:
    """Plan ``date``, or the campaign ``from`` .. ``to``, within ``time_limit`` seconds in a worker process.

    One date: travellers already on a published plan and the coaches of published buses that day are left out, so
    planning a published date again plans only what changed (late registrations, no-shows, released buses).

    A campaign (the daily re-planning): every registered traveller whose window meets the range gets a date, a bus
    or fallback, or is listed overdue with the reason. Published dates keep their buses and coaches; their free
    seats go first to travellers of a township and factory the bus already serves; nobody new leaves before today.

    409 until the county's stored settings include its home county, province and depot (``missing`` names them).
    """
    missing = missing_home_settings(policy_data(session))
    if missing:
        names = ", ".join(missing)
        names_zh = "、".join(f"{HOME_SETTINGS[n][0]}（{n}）" for n in missing)
        raise conflict(
            f"the county's settings are incomplete: {names} not set; set them with PATCH /rules before planning",
            f"尚未设置县里的基本信息：{names_zh}；请先通过 PATCH /rules 设置后再生成计划",
            missing=missing,
        )
    if body.date is not None:
        job = m.PlanJob(date=body.date, time_limit=body.time_limit)
    else:
        assert body.start is not None and body.end is not None  # PlanCreate checked
        today = request.app.state.settings.today_here()
        job = m.PlanJob(
            date=body.start, end_date=body.end, open_from=max(body.start, today), time_limit=body.time_limit
        )
    session.add(job)
    session.commit()
    request.app.state.jobs.submit(job.id)
    return _public(session, job, False)


@router.get("", response_model=list[m.PlanPublic])
def list_plans(session: SessionDep, _caller: DispatcherDep) -> Any:
    return [_public(session, j, False) for j in session.exec(select(m.PlanJob).order_by(m.PlanJob.id)).all()]


@router.get("/{plan_id}", response_model=m.PlanPublic)
def get_plan(plan_id: m.RowId, session: SessionDep, _caller: DispatcherDep) -> Any:
    """Status and progress; when done, every date's plan (``days``) as in plan.json (``scheduler.plan.Plan.from_dict``
    reads it), ``plan`` the first date's, and for a campaign its coaches, overdue travellers and totals (``campaign``).
    Its traveller ids are the service's ids; ``traveller_refs`` gives each one's township and the township's own
    traveller_id (``ref``), so the plan can be checked against the spreadsheet that was imported."""
    job = session.get(m.PlanJob, plan_id)
    if job is None:
        raise not_found(f"plan {plan_id}", f"计划 {plan_id}")
    return _public(session, job, True)


@router.post("/{plan_id}/publish")
def publish_plan(
    plan_id: m.RowId, session: SessionDep, _caller: DispatcherDep, body: m.PlanPublish | None = None
) -> dict[str, Any]:
    """Freeze the plan's ``dates`` (default: all not yet published): buses get manifests and ticket codes, its
    travellers are marked planned (a campaign's overdue travellers overdue, with the reason)."""
    result = publish(session, plan_id, body.dates if body else None)
    session.commit()
    return result


@router.get(
    "/{plan_id}/fallback",
    response_model=None,
    responses={
        200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}
    },
)
def get_fallback(
    plan_id: m.RowId,
    session: SessionDep,
    _caller: DispatcherDep,
    format: Literal["json", "csv", "xlsx"] = "json",
    date: m.Day | None = None,
) -> Any:
    """Who does not ride a bus in this plan on ``date`` (default: its first date), how they travel instead and why:
    JSON with ``cause``, ``params`` and the reason in both languages; CSV and XLSX (Chinese exports) with the
    Chinese reason."""
    job = session.get(m.PlanJob, plan_id)
    if job is None:
        raise not_found(f"plan {plan_id}", f"计划 {plan_id}")
    result = job_result(job)
    if result is None:
        raise conflict(f"plan {plan_id} has no readable plan (status {job.status})", f"计划 {plan_id} 尚无可读取的结果")
    plan = result.plan_of(date)
    if plan is None:
        raise not_found(f"date {date} in plan {plan_id}", f"计划 {plan_id} 中的 {date}")
    rows = fallback_rows(session, plan, _caller)
    if format == "csv":
        return Response(
            table_csv(rows, FALLBACK_COLUMNS),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}-fallback.csv"'},
        )
    if format == "xlsx":
        return Response(
            to_xlsx(rows, f"plan-{plan_id}-fallback", FALLBACK_COLUMNS),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}-fallback.xlsx"'},
        )
    return {"plan_id": plan_id, "date": plan.date, "fallback": rows}
