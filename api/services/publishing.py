"""Publishing a finished plan (buses, seats, ticket codes) and releasing a published bus."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from api import models as m
from api.convert import active_bus_counts, bus_document, in_ids, job_result
from api.errors import ApiError, conflict, not_found

# No 0/O, 1/I/L: codes are read aloud at the factory gate.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_LENGTH = 8


def new_ticket_code() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


def bus_public_id(job_id: int, bus_id: str) -> str:
    return f"P{job_id}-{bus_id}"


def publish(session: Session, job_id: int) -> dict[str, Any]:
    """Freeze a finished plan in one transaction: buses with manifests and ticket codes, travellers planned.

    Raises:
        ApiError: 404 unknown plan; 409 when the plan is not finished, already published, breaks rules
            (``stats.violations``), or is stale (a traveller changed, was cancelled or was planned elsewhere since;
            coaches taken meanwhile).
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
    plan = result.plan
    violations = plan.stats.get("violations")
    if violations != 0:
        found = "was not checked" if violations is None else f"breaks {violations} planning rule(s)"
        found_zh = "未经规则检查" if violations is None else f"违反 {violations} 条规划规则"
        raise conflict(
            f"the plan {found} (a planner bug, please report it); it cannot be published",
            f"该计划{found_zh}（属于规划程序缺陷，请反馈），不能发布",
            violations=violations,
        )
    placed = [f for f in plan.fallback if f.mode != "unplaced"]
    ids = [int(s.traveller_id) for seats in result.seats.values() for s in seats]
    ids += [int(f.traveller_id) for f in placed]
    rows = {
        t.id: t for t in session.exec(select(m.Traveller).where(in_ids(m.Traveller.id, ids)).with_for_update()).all()
    }
    stale = [
        i
        for i in ids
        if i not in rows
        or rows[i].status != m.TravellerStatus.registered
        or rows[i].version != result.versions.get(str(i))
    ]
    if stale:
        raise conflict(
            f"{len(stale)} traveller(s) changed since this plan was made; start a new plan for {job.date}",
            f"有 {len(stale)} 名旅客的信息在计划生成后发生变化，请重新生成 {job.date} 的计划",
            travellers=stale[:100],
        )
    fleet = {b.vehicle_type: b.count for b in session.exec(select(m.BusType)).all()}
    needed = Counter(b.vehicle_type for b in plan.buses) + active_bus_counts(session, job.date)
    short = {v: n for v, n in needed.items() if n > fleet.get(v, 0)}
    if short:
        raise conflict(
            f"coaches were taken by another plan for {job.date} meanwhile ({short}); plan again",
            f"{job.date} 的车辆已被其他计划占用，请重新生成计划",
            short=short,
        )

    now = m.utcnow()
    updates: list[dict[str, Any]] = []
    codes: set[str] = set()
    for bus in plan.buses:
        public_id = bus_public_id(job_id, bus.bus_id)
        session.add(
            m.Bus(
                id=public_id,
                plan_id=job_id,
                date=job.date,
                vehicle_type=bus.vehicle_type,
                seats=bus.seats,
                data=bus_document(bus, plan.date),
            )
        )
        for seat in result.seats[bus.bus_id]:
            code = new_ticket_code()
            while code in codes:
                code = new_ticket_code()
            codes.add(code)
            tid = int(seat.traveller_id)
            updates.append(
                {
                    "id": tid,
                    "status": m.TravellerStatus.planned.value,
                    "plan_id": job_id,
                    "travel_date": job.date,
                    "mode": "bus",
                    "bus_id": public_id,
                    "seat": seat.seat,
                    "ticket_code": code,
                    "boards_at": seat.boards_at,
                    "board_time": seat.board_time,
                    "alights_at": seat.alights_at,
                    "est_cost": None,
                    "fallback_cause": None,
                    "fallback_params": None,
                    "version": rows[tid].version + 1,
                    "updated_at": now,
                }
            )
    for f in placed:
        tid = int(f.traveller_id)
        updates.append(
            {
                "id": tid,
                "status": m.TravellerStatus.planned.value,
                "plan_id": job_id,
                "travel_date": job.date,
                "mode": f.mode,
                "bus_id": None,
                "seat": None,
                "ticket_code": None,
                "boards_at": None,
                "board_time": None,
                "alights_at": None,
                "est_cost": f.est_cost,
                "fallback_cause": f.cause,
                "fallback_params": f.params,
                "version": rows[tid].version + 1,
                "updated_at": now,
            }
        )
    session.flush()
    if updates:
        session.execute(update(m.Traveller), updates)
    job.status = m.JobStatus.published
    job.published_at = now
    session.add(job)
    return {
        "plan_id": job_id,
        "buses": len(plan.buses),
        "travellers_planned": len(updates),
        "unplaced": len(plan.fallback) - len(placed),
    }


FREED = {
    "status": m.TravellerStatus.registered.value,
    "plan_id": None,
    "travel_date": None,
    "mode": None,
    "bus_id": None,
    "seat": None,
    "ticket_code": None,
    "boards_at": None,
    "board_time": None,
    "alights_at": None,
    "est_cost": None,
    "fallback_cause": None,
    "fallback_params": None,
}


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
            for key, value in FREED.items():
                setattr(t, key, value)
            t.version += 1
        else:
            t.bus_id, t.seat, t.ticket_code = None, None, None
        t.updated_at = now
        session.add(t)
    bus.status = "released"
    session.add(bus)
    return {"bus_id": bus_id, "released": sum(1 for t in riders if t.status == m.TravellerStatus.registered)}
