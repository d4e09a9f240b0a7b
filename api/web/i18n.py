"""Simplified Chinese by default, English on request (a cookie set by /app/lang/en)."""

from __future__ import annotations

from collections.abc import Callable

from api import models as m
from scheduler.clock import day_zh, moment_zh

LANGS = ("zh", "en")

MODES = {
    "bus": ("包车", "chartered bus"),
    "township_transport": ("乡镇自行组织（凭票报销）", "township transport (reimbursed)"),
    "free_ticket": ("免费车票", "free ticket"),
    "unplaced": ("未安排", "unplaced"),
}


JOB_STATUS = {
    "queued": ("排队中", "queued"),
    "running": ("规划中", "running"),
    "done": ("已完成", "done"),
    "failed": ("失败", "failed"),
    "published": ("已发布", "published"),
}


ROLES = {
    "admin": ("县管理员", "county admin"),
    "dispatcher": ("县调度", "dispatcher"),
    "township": ("乡镇", "township"),
    "factory": ("企业", "factory"),
    "escort": ("随车人员", "escort"),
    "region": ("市级区域（只读）", "region (read-only)"),
}


def role_label(role: str) -> tuple[str, str]:
    return ROLES.get(role, (role, role))


def job_status(status: str) -> tuple[str, str]:
    return JOB_STATUS.get(status, (status, status))


def vehicle(vehicle_type: str, seats: int | None) -> tuple[str, str]:
    """A coach type as people say it: "53座客车", not the fleet file's ``coach53``."""
    if not seats:
        return vehicle_type, vehicle_type
    return f"{seats}座客车", f"{seats}-seat coach ({vehicle_type})"


def translator(lang: str) -> Callable[[str, str], str]:
    def t(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    return t


def status_label(t: m.Traveller, lang: str) -> str:
    """registered / planned on bus X / departed / arrived ..., as a township clerk reads it."""
    tr = translator(lang)
    where = t.bus_id or tr(*MODES.get(t.mode or "", (t.mode or "", t.mode or "")))
    if t.status == m.TravellerStatus.registered:
        return tr("已登记，待安排", "registered")
    if t.status == m.TravellerStatus.planned:
        day = day_zh(t.travel_date)
        if t.bus_id:
            when = moment_zh(t.board_time) or day
            return tr(
                f"已安排：{when} 在{t.boards_at}上车，车号 {where}，{t.seat}座",
                f"planned: boards at {t.boards_at}, {t.board_time}, bus {where}, seat {t.seat}",
            )
        return tr(f"已安排：{day} {where}", f"planned: {where} ({t.travel_date})")
    if t.status == m.TravellerStatus.boarded:
        return tr(f"已出发（{where}）", f"departed ({where})")
    if t.status == m.TravellerStatus.arrived:
        return tr("已到岗", "arrived")
    if t.status == m.TravellerStatus.went_elsewhere:
        return tr("未到本厂（去了别处）", "went elsewhere")
    if t.status == m.TravellerStatus.overdue:
        return tr("逾期：报到日前已无可安排的日期", "overdue: no date left to reach the factory by the report date")
    if t.status == m.TravellerStatus.cancelled:
        return tr(f"已取消：{t.cancel_reason or ''}", f"cancelled: {t.cancel_reason or ''}")
    return t.status
