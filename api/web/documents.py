"""The dispatcher's documents of a plan: its buses, fallback list and manifests as spreadsheets, and printing every
manifest of a plan as a job with progress (a county's 477 pages take half a minute) and a download link."""

from __future__ import annotations

import datetime as dt
import io
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from api import models as m
from api.convert import DayResult, job_result
from api.deps import Caller, SessionDep, SettingsDep
from api.errors import ApiError, not_found
from api.routes import buses
from api.services import manifests
from api.services.fallback_list import COLUMNS as FALLBACK_COLUMNS
from api.services.fallback_list import fallback_rows
from api.services.manifest_pdf import find_font, manifests_pdf
from api.services.publishing import bus_public_id
from api.web.auth import DispatcherPage
from api.web.i18n import vehicle
from scheduler.clock import format_for_people
from scheduler.plan import Plan
from scheduler.spreadsheet import safe_row, table_xlsx

router = APIRouter(prefix="/app", include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

BUS_COLUMNS = [
    ("public_id", "车号 bus"),
    ("vehicle", "车型 type"),
    ("coach_id", "车辆 coach"),
    ("load", "乘客 load"),
    ("seats", "座位 seats"),
    ("area", "目的地区 area"),
    ("departure", "发车 departs"),
    ("arrival", "末站到达 arrives"),
    ("distance_km", "往返里程 km (round trip)"),
    ("drivers", "司机 drivers"),
    ("cost", "费用（元） cost CNY"),
    ("route", "线路 route"),
]


def clock(day: dt.date, seconds: int) -> str:
    """ "05:28" on the plan's day, "02-21 05:28" on another."""
    date, _, time = format_for_people(day, seconds).partition(" ")
    return time if date == day.isoformat() else f"{date[5:]} {time}"


def finished_plan(session: Session, plan_id: int, day: dt.date | None) -> Plan:
    job = session.get(m.PlanJob, plan_id)
    result = job_result(job) if job is not None else None
    plan = result.plan_of(day) if result is not None else None
    if plan is None:
        raise not_found(f"finished plan {plan_id}", f"已完成的计划 {plan_id}")
    return plan


def bus_rows(job: m.PlanJob, found: DayResult, published: bool) -> list[dict[str, Any]]:
    """A date's buses as the page and the spreadsheet list them."""
    plan = found.plan
    return [
        {
            "bus_id": b.bus_id,
            "public_id": (b.bus_id if found.kept else bus_public_id(job.id or 0, b.bus_id)) if published else None,
            "vehicle_type": b.vehicle_type,
            "vehicle": vehicle(b.vehicle_type, b.seats)[0],
            "coach_id": b.coach_id,
            "load": b.load,
            "seats": b.seats,
            "area": b.area,
            "departure": clock(plan.date, b.stops[0].departure_s) if b.stops else "",
            "arrival": clock(plan.date, b.stops[-1].arrival_s) if b.stops else "",
            "distance_km": b.distance_km,
            "drivers": b.drivers,
            "cost": b.cost,
            "route": " → ".join(s.place_name for s in b.stops),
        }
        for b in plan.buses
    ]


def _day(session: Session, plan_id: int, day: dt.date | None) -> tuple[m.PlanJob, DayResult, bool]:
    job = session.get(m.PlanJob, plan_id)
    result = job_result(job) if job is not None else None
    if job is None or result is None or not result.days:
        raise not_found(f"finished plan {plan_id}", f"已完成的计划 {plan_id}")
    day = day if day in result.days else min(result.days)
    published = job.status == m.JobStatus.published or day.isoformat() in (job.published_dates or [])
    return job, result.days[day], published


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/plans/{plan_id}/buses.xlsx")
def buses_xlsx(plan_id: m.RowId, session: SessionDep, _caller: DispatcherPage, date: m.Day | None = None) -> Response:
    job, found, published = _day(session, plan_id, date)
    rows = [{**r, "public_id": r["public_id"] or r["bus_id"]} for r in bus_rows(job, found, published)]
    return _xlsx(table_xlsx(rows, BUS_COLUMNS, f"buses {found.plan.date}"), f"plan-{plan_id}-buses.xlsx")


@router.get("/plans/{plan_id}/fallback.xlsx")
def fallback_xlsx(plan_id: m.RowId, session: SessionDep, caller: DispatcherPage, date: m.Day | None = None) -> Response:
    rows = fallback_rows(session, finished_plan(session, plan_id, date), caller)
    return _xlsx(table_xlsx(rows, FALLBACK_COLUMNS, "fallback"), f"plan-{plan_id}-fallback.xlsx")


def _published_buses(session: Session, plan_id: int) -> list[m.Bus]:
    rows = session.exec(
        select(m.Bus).where(m.Bus.plan_id == plan_id, m.Bus.status == "published").order_by(col(m.Bus.id))
    ).all()
    if not rows:
        raise not_found(f"published buses of plan {plan_id}", f"计划 {plan_id} 的已发布车辆")
    return list(rows)


@router.get("/plans/{plan_id}/manifests.xlsx")
def manifests_xlsx(plan_id: m.RowId, session: SessionDep, caller: DispatcherPage) -> Response:
    """Every published bus of the plan, one sheet each, as the manifest's columns."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for bus in _published_buses(session, plan_id):
        _bus, riders = buses._riders(session, caller, bus.id)
        rows = manifests.manifest_rows(riders, caller, manifests.corrections(session, bus.id, riders))
        sheet = book.create_sheet(bus.id[-31:])
        sheet.append(safe_row(label for _, label in manifests.COLUMNS))
        for row in rows:
            sheet.append(safe_row(manifests.cell(key, row.get(key)) for key, _ in manifests.COLUMNS))
    buffer = io.BytesIO()
    book.save(buffer)
    return _xlsx(buffer.getvalue(), f"plan-{plan_id}-manifests.xlsx")


# --------------------------------------------------------------------------------------------- print all


@dataclass(slots=True)
class PrintJob:
    """Printing every manifest of a plan, in a thread of the service: progress, then the PDF (kept in memory
    until the service restarts; one at a time per plan is plenty)."""

    plan_id: int
    total: int
    done: int = 0
    pdf: bytes | None = None
    error: str | None = None
    started: dt.datetime = field(default_factory=m.utcnow)


def _print_jobs(request: Request) -> dict[str, PrintJob]:
    if not hasattr(request.app.state, "print_jobs"):
        request.app.state.print_jobs = {}
    jobs: dict[str, PrintJob] = request.app.state.print_jobs
    return jobs


@router.post("/api/plans/{plan_id}/print", status_code=202)
def start_printing(
    plan_id: m.RowId, request: Request, session: SessionDep, caller: DispatcherPage, settings: SettingsDep
) -> dict[str, Any]:
    """Start printing every published manifest of the plan; poll GET /app/api/print/{id}."""
    bus_ids = [b.id for b in _published_buses(session, plan_id)]
    font = find_font(settings.pdf_font)
    job_id = secrets.token_urlsafe(12)
    job = PrintJob(plan_id, len(bus_ids))
    _print_jobs(request)[job_id] = job
    engine = request.app.state.engine
    threading.Thread(target=_print, args=(engine, job, bus_ids, font, caller), daemon=True).start()
    return {"id": job_id, "total": job.total}


def _print(engine: Any, job: PrintJob, bus_ids: list[str], font: Any, caller: Caller) -> None:
    try:
        with Session(engine) as session:
            pages = []
            for bus_id in bus_ids:
                pages.append(buses._riders(session, caller, bus_id))
            job.pdf = manifests_pdf(pages, font, caller, progress=lambda n: setattr(job, "done", n))
            job.done = job.total
    except Exception as err:  # the page shows it; the service goes on
        job.error = str(err)[:500]


@router.get("/api/print/{job_id}")
def printing(job_id: str, request: Request, _caller: DispatcherPage) -> dict[str, Any]:
    job = _print_jobs(request).get(job_id)
    if job is None:
        raise not_found("print job", "打印任务")
    return {
        "plan_id": job.plan_id, "total": job.total, "done": job.done, "ready": job.pdf is not None,
        "error": job.error, "download": f"/app/print/{job_id}.pdf" if job.pdf is not None else None,
    }  # fmt: skip


@router.get("/print/{job_id}.pdf")
def printed(job_id: str, request: Request, _caller: DispatcherPage) -> Response:
    job = _print_jobs(request).get(job_id)
    if job is None:
        raise not_found("print job", "打印任务")
    if job.pdf is None:
        raise ApiError(409, "still printing", "仍在生成，请稍候")
    return Response(
        job.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="plan-{job.plan_id}-manifests.pdf"'},
    )
