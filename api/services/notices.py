"""Notices to travellers: one Chinese text message per change that affects a journey (publish, a new time, a
freed seat, a cancellation), queued for the county's own SMS platform, and the sender that hands them over.

No SMS gateway is reachable from here, so the one sender writes what the platform imports (a CSV of phone and
text) into the outbox folder and marks the notices sent; a gateway's sender would post the same pairs.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from api import models as m
from scheduler.clock import day_zh, moment_zh
from scheduler.spreadsheet import table_csv, table_xlsx

# One SMS segment holds 70 Chinese characters; a longer text is sent (and paid) as two.
SMS_LIMIT = 70
SIGNATURE = "【返岗】"
# The columns SMS platforms import.
EXPORT_COLUMNS = [("phone", "phone"), ("text", "text")]


def _fit(template: str, place: str) -> str:
    """``template`` with ``place`` in it, the place shortened (with …) when the text would not fit one SMS."""
    text = template.format(place=place)
    room = SMS_LIMIT - (len(text) - len(place))
    if len(text) > SMS_LIMIT and room > 1:
        text = template.format(place=place[: room - 1] + "…")
    return text


def compose(t: m.Traveller, reason: str) -> str:
    """The text for ``t`` after ``reason`` (an event of ``api.services.lifecycle`` or "publish"/"retime"), from
    what the traveller's row says now."""
    who = f"{SIGNATURE}{t.name}："
    if reason == "cancel":
        return f"{who}您的返岗乘车登记已取消。如有疑问请联系乡镇。"
    if reason in ("no_show", "release"):
        return f"{who}您原定的返岗座位已取消，将为您重新安排，请留意短信。"
    if reason == "overdue":
        return f"{who}报到日前已无可安排的返岗车次，请尽快联系乡镇。"
    if t.mode == "bus":
        when = moment_zh(t.board_time)
        changed = "乘车时间有变：" if reason == "retime" else ""
        return _fit(
            f"{who}{changed}{when}在{{place}}上车，车号{t.bus_id}，{t.seat}座，票号{t.ticket_code}。",
            t.boards_at or "",
        )
    if t.mode == "township_transport":
        return f"{who}{day_zh(t.travel_date)}由乡镇安排车辆送您返岗，凭码{t.ticket_code}乘车，详询乡镇。"
    if t.mode == "free_ticket":
        return f"{who}已为您购{day_zh(t.travel_date)}免费车票，凭码{t.ticket_code}到乡镇领取。"
    return f"{who}您的返岗安排有变，请联系乡镇。"


def queue(session: Session, travellers: Iterable[m.Traveller], reason: str) -> int:
    """Queue one notice per traveller (with a phone); a queued, unsent notice to the same traveller is superseded:
    only the latest news is sent."""
    rows = [t for t in travellers if t.id is not None and t.phone]
    if not rows:
        return 0
    ids = [t.id for t in rows]
    for chunk in range(0, len(ids), 1000):
        session.execute(
            update(m.Notice)
            .where(col(m.Notice.traveller_id).in_(ids[chunk : chunk + 1000]), m.Notice.status == m.NoticeStatus.queued)
            .values(status=m.NoticeStatus.superseded)
        )
    now = m.utcnow()
    # One statement for a publication's thousands (notices follow from the change; they are not audited apart).
    session.execute(
        insert(m.Notice),
        [
            {"traveller_id": t.id, "township_id": t.township_id, "phone": t.phone, "text": compose(t, reason),
             "reason": reason, "status": m.NoticeStatus.queued.value, "created_at": now}
            for t in rows
        ],
    )  # fmt: skip
    return len(rows)


def queue_by_id(session: Session, ids: Sequence[int], reason: str) -> int:
    """``queue`` for travellers changed by a bulk statement: read again, as the statement left them."""
    found: list[m.Traveller] = []
    for chunk in range(0, len(ids), 1000):
        query = select(m.Traveller).where(col(m.Traveller.id).in_(ids[chunk : chunk + 1000]))
        found.extend(session.exec(query.execution_options(populate_existing=True)).all())
    return queue(session, found, reason)


def export(notices: Sequence[m.Notice], format: str) -> bytes:
    rows = [{"phone": n.phone, "text": n.text} for n in notices]
    return table_xlsx(rows, EXPORT_COLUMNS, "notices") if format == "xlsx" else table_csv(rows, EXPORT_COLUMNS)


class NoticeSender(Protocol):
    """Hands notices to an SMS platform; returns the batch's name."""

    def send(self, notices: Sequence[m.Notice]) -> str: ...


class OutboxSender:
    """Writes the notices as the platform's import file (phone, text; UTF-8 CSV) into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, notices: Sequence[m.Notice]) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        batch = f"notices-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        staged = self.folder / f".{batch}.csv"
        staged.write_bytes(export(notices, "csv"))
        staged.replace(self.folder / f"{batch}.csv")  # whole or absent: the platform never reads half a file
        return batch


def send_queued(session: Session, sender: NoticeSender, township_id: str | None = None) -> dict[str, object]:
    """Send every queued notice (of one township, or all) through ``sender`` and mark them sent."""
    query = select(m.Notice).where(m.Notice.status == m.NoticeStatus.queued).order_by(col(m.Notice.id))
    if township_id is not None:
        query = query.where(m.Notice.township_id == township_id)
    notices = list(session.exec(query.with_for_update()).all())
    if not notices:
        return {"batch": None, "sent": 0}
    batch = sender.send(notices)
    now = m.utcnow()
    for n in notices:
        n.status, n.sent_at, n.batch = m.NoticeStatus.sent, now, batch
        session.add(n)
    return {"batch": batch, "sent": len(notices)}
