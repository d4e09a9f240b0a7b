"""Publishing a finished plan (buses, seats, ticket codes) and releasing a published bus."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from api import models as m
from api.convert import (
    HOLDS_PLACE,
    DayResult,
    JobResult,
    Seat,
    active_bus_counts,
    bus_document,
    in_ids,
    job_result,
)
from api.errors import ApiError, bad_input, conflict, not_found
from api.services import audit, lifecycle, notices
from scheduler.plan import Plan

# No 0/O, 1/I/L: codes are read aloud at the factory gate.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_LENGTH = 8


def new_ticket_code() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


def bus_public_id(job_id: int, bus_id: str) -> str:
    return f"P{job_id}-{bus_id}"


WAITING = lifecycle.WAITING


def publish(session: Session, job_id: int, dates: Sequence[dt.date] | None = None) -> dict[str, Any]:
    """Freeze a finished plan's ``dates`` (default: every date not yet published) in one transaction: buses with
    manifests and ticket codes, travellers planned; on a kept date (published before the plan was made), the new
    riders of its published buses. A campaign's overdue travellers are marked overdue with the reason.

    Raises:
        ApiError: 404 unknown plan; 422 a date the plan does not cover; 409 when the plan is not finished, a date
            is already published, a date's plan breaks rules (``stats.violations``), or is stale (a traveller
            changed, was cancelled or was planned elsewhere since; coaches taken meanwhile).
    """
    job = session.exec(select(m.PlanJob).where(m.PlanJob.id == job_id).with_for_update()).first()
    if job is None:
        raise not_found("plan", "计划")
    if job.status == m.JobStatus.published:
        raise conflict("the plan is already published", "该计划已经发布")
    if job.status != m.JobStatus.done or job.result is None:
        raise conflict(
            f"the plan is {job.status}; only a finished plan can be published",
            f"计划状态为 {job.status}，只有已完成的计划才能发布",
        )
    result = job_result(job)
    if result is None:
        raise conflict(
            f"the plan was stored by an earlier version of the service and cannot be published; plan {job.date} again",
            f"该计划由旧版本生成，无法发布，请重新生成 {job.date} 的计划",
        )
    done = {dt.date.fromisoformat(d) for d in job.published_dates or []}
    wanted = sorted(set(dates) if dates else set(result.days) - done)
    unknown = [d.isoformat() for d in wanted if d not in result.days]
    if unknown:
        raise bad_input(
            f"the plan does not cover {', '.join(unknown)}", f"该计划不包含 {'、'.join(unknown)}", dates=unknown
        )
    again = [d.isoformat() for d in wanted if d in done]
    if again:
        raise conflict(f"{', '.join(again)} already published", f"{'、'.join(again)} 已经发布", dates=again)
    for day in wanted:
        _check_rules(result.days[day].plan)

    now = m.utcnow()
    counts = Counter[str]()
    for day in wanted:
        found = result.days[day]
        if found.kept:
            counts.update(_publish_kept(session, job, found, result.versions, now))
        else:
            counts.update(_publish_new(session, job, found, result.versions, now))
    if not done:
        counts["overdue"] = _mark_overdue(session, result, now)
    job.published_dates = sorted(d.isoformat() for d in done | set(wanted))
    if len(job.published_dates) == len(result.days):
        job.status = m.JobStatus.published
        job.published_at = now
    session.add(job)
    audit.record(session, "publish", "plans", job_id, after={"dates": wanted, **counts})
    return {
        "plan_id": job_id,
        "dates": [d.isoformat() for d in wanted],
        "buses": counts["buses"],
        "travellers_planned": counts["travellers_planned"],
        "unplaced": counts["unplaced"],
        "overdue": counts["overdue"],
    }


def _check_rules(plan: Plan) -> None:
    violations = plan.stats.get("violations")
    if violations != 0:
        found = "was not checked" if violations is None else f"breaks {violations} planning rule(s)"
        found_zh = "未经规则检查" if violations is None else f"违反 {violations} 条规划规则"
        raise conflict(
            f"the plan of {plan.date} {found} (a planner bug, please report it); it cannot be published",
            f"{plan.date} 的计划{found_zh}（属于规划程序缺陷，请反馈），不能发布",
            violations=violations,
        )


def _locked_travellers(session: Session, ids: list[int], versions: dict[str, int], day: dt.date) -> dict[int, Any]:
    """The rows of ``ids``, locked; 409 when one changed since the plan was made (``versions``)."""
    rows = {
        t.id: t for t in session.exec(select(m.Traveller).where(in_ids(m.Traveller.id, ids)).with_for_update()).all()
    }
    stale = [
        i for i in ids if i not in rows or rows[i].status not in WAITING or rows[i].version != versions.get(str(i))
    ]
    if stale:
        raise conflict(
            f"{len(stale)} traveller(s) changed since this plan was made; plan {day} again",
            f"有 {len(stale)} 名旅客的信息在计划生成后发生变化，请重新生成 {day} 的计划",
            travellers=stale[:100],
        )
    return rows


def _seat_values(seat: Seat, code: str) -> dict[str, Any]:
    return {
        "mode": "bus",
        "seat": seat.seat,
        "ticket_code": code,
        "boards_at": seat.boards_at,
        "board_time": seat.board_time,
        "alights_at": seat.alights_at,
        "est_cost": None,
        "fallback_cause": None,
        "fallback_params": None,
    }


class _Codes:
    """Ticket codes unique within one publication (the column's unique constraint guards the rest)."""

    def __init__(self) -> None:
        self.given: set[str] = set()

    def new(self) -> str:
        code = new_ticket_code()
        while code in self.given:
            code = new_ticket_code()
        self.given.add(code)
        return code


def _publish_new(
    session: Session, job: m.PlanJob, found: DayResult, versions: dict[str, int], now: dt.datetime
) -> Counter[str]:
    """A date planned afresh: its buses, seats and fallback travellers."""
    plan = found.plan
    placed = [f for f in plan.fallback if f.mode != "unplaced"]
    ids = [int(s.traveller_id) for seats in found.seats.values() for s in seats] + [int(f.traveller_id) for f in placed]
    rows = _locked_travellers(session, ids, versions, plan.date)
    fleet = {b.vehicle_type: b.count for b in session.exec(select(m.BusType)).all()}
    needed = Counter(b.vehicle_type for b in plan.buses) + active_bus_counts(session, plan.date)
    short = {v: n for v, n in needed.items() if n > fleet.get(v, 0)}
    if short:
        raise conflict(
            f"coaches were taken by another plan for {plan.date} meanwhile ({short}); plan again",
            f"{plan.date} 的车辆已被其他计划占用，请重新生成计划",
            short=short,
        )
    codes = _Codes()
    updates: list[dict[str, Any]] = []
    planned = {"status": lifecycle.status_after("plan", "registered"), "plan_id": job.id, "travel_date": plan.date}
    for bus in plan.buses:
        public_id = bus_public_id(job.id or 0, bus.bus_id)
        session.add(
            m.Bus(
                id=public_id,
                plan_id=job.id,
                date=plan.date,
                vehicle_type=bus.vehicle_type,
                seats=bus.seats,
                data=bus_document(bus, plan.date),
            )
        )
        for seat in found.seats[bus.bus_id]:
            tid = int(seat.traveller_id)
            updates.append(
                {"id": tid, **planned, "bus_id": public_id, **_seat_values(seat, codes.new()),
                 "version": rows[tid].version + 1, "updated_at": now}
            )  # fmt: skip
    for f in placed:
        tid = int(f.traveller_id)
        # A code for the township's vehicle or the free ticket too: issued on the slip, scanned when used.
        updates.append(
            {**lifecycle.FREED, "id": tid, **planned, "mode": f.mode, "ticket_code": codes.new(),
             "est_cost": f.est_cost, "fallback_cause": f.cause, "fallback_params": f.params,
             "version": rows[tid].version + 1, "updated_at": now}
        )  # fmt: skip
    session.flush()
    if updates:
        session.execute(update(m.Traveller), updates)
        notices.queue_by_id(session, [u["id"] for u in updates], "publish")
    return Counter(buses=len(plan.buses), travellers_planned=len(updates), unplaced=len(plan.fallback) - len(placed))


def _publish_kept(
    session: Session, job: m.PlanJob, found: DayResult, versions: dict[str, int], now: dt.datetime
) -> Counter[str]:
    """A date published before the plan: the free seats its published buses gave to new riders. Riders already on
    a bus keep their seat; where a new boarding moved a stop later, its riders get the new time."""
    plan = found.plan
    updates: list[dict[str, Any]] = []
    retimed: list[m.Traveller] = []
    codes = _Codes()
    for bus in plan.buses:
        row = session.exec(select(m.Bus).where(m.Bus.id == bus.bus_id).with_for_update()).first()
        if row is None or row.status != "published":
            raise conflict(
                f"bus {bus.bus_id} of {plan.date} was released since this plan was made; plan again",
                f"{plan.date} 的车辆 {bus.bus_id} 在计划生成后已被取消，请重新生成计划",
            )
        on_board = session.exec(select(m.Traveller).where(m.Traveller.bus_id == row.id).with_for_update()).all()
        holding = {str(t.id): t for t in on_board if t.status in HOLDS_PLACE}
        newcomers = [int(t) for t in bus.traveller_ids if t not in holding]
        if not newcomers:
            continue
        rows = _locked_travellers(session, newcomers, versions, plan.date)
        taken = {t.seat for t in holding.values()}
        free = (n for n in range(1, bus.seats + 1) if n not in taken)
        for t in on_board:  # a cancelled rider's seat number goes to somebody else: it is no longer theirs
            if t.status not in HOLDS_PLACE and t.seat is not None and t.seat not in taken:
                t.seat = None
                session.add(t)
        for seat in found.seats[bus.bus_id]:
            if seat.traveller_id in holding:
                held = holding[seat.traveller_id]
                if held.board_time != seat.board_time:
                    held.board_time, held.version, held.updated_at = seat.board_time, held.version + 1, now
                    session.add(held)
                    retimed.append(held)
                continue
            tid = int(seat.traveller_id)
            values = _seat_values(replace(seat, seat=next(free)), codes.new())
            updates.append(
                {"id": tid, "status": lifecycle.status_after("plan", "registered"), "plan_id": row.plan_id,
                 "travel_date": plan.date, "bus_id": row.id, **values, "version": rows[tid].version + 1,
                 "updated_at": now}
            )  # fmt: skip
        row.data = bus_document(replace(bus, bus_id=str(row.data.get("bus_id", bus.bus_id))), plan.date)
        session.add(row)
    session.flush()
    notices.queue(session, retimed, "retime")
    if updates:
        session.execute(update(m.Traveller), updates)
        notices.queue_by_id(session, [u["id"] for u in updates], "publish")
    return Counter(travellers_planned=len(updates))


def _mark_overdue(session: Session, result: JobResult, now: dt.datetime) -> int:
    """A campaign's overdue travellers, as it found them: overdue, with the reason (unchanged since the plan)."""
    listed = {int(o["traveller_id"]): o for o in result.overdue()}
    if not listed:
        return 0
    rows = session.exec(select(m.Traveller).where(in_ids(m.Traveller.id, list(listed))).with_for_update()).all()
    marked = 0
    for t in rows:
        if t.status not in WAITING or t.version != result.versions.get(str(t.id)):
            continue  # changed since: the next plan decides
        o = listed[t.id or 0]
        lifecycle.transition(t, "overdue", now, fallback_cause=f"overdue_{o['cause']}", fallback_params=o["params"])
        session.add(t)
        marked += 1
    return marked


def release_bus(session: Session, bus_id: str) -> dict[str, Any]:
    """Give a published bus's coach back and free its travellers for the next plan of that date."""
    bus = session.exec(select(m.Bus).where(m.Bus.id == bus_id).with_for_update()).first()
    if bus is None:
        raise not_found("bus", "车辆")
    if bus.status == "released":
        return {"bus_id": bus_id, "released": 0}
    riders = session.exec(select(m.Traveller).where(m.Traveller.bus_id == bus_id).with_for_update()).all()
    gone = [t.id for t in riders if t.status not in (m.TravellerStatus.planned, m.TravellerStatus.cancelled)]
    if gone:
        raise ApiError(
            409,
            "the bus has departed (boarding or arrivals confirmed); it cannot be released",
            "该车已发车（已确认上车或到岗），不能取消",
            travellers=gone[:100],
        )
    now = m.utcnow()
    for t in riders:
        if t.status == m.TravellerStatus.planned:
            lifecycle.free(t, "release", now)
        else:
            t.bus_id, t.seat, t.ticket_code, t.updated_at = None, None, None, now
        session.add(t)
    bus.status = "released"
    session.add(bus)
    return {"bus_id": bus_id, "released": sum(1 for t in riders if t.status == m.TravellerStatus.registered)}
