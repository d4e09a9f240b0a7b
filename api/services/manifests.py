"""A bus's manifest as JSON rows, CSV or XLSX; ID numbers and phones as ``api.privacy`` shows them.

Each row names the traveller by the service's id (``traveller_id``) and the township's own (``ref``).
"""

from __future__ import annotations

import io
from typing import Any

from sqlmodel import Session, col, select

from api import models as m
from api.deps import Caller
from api.privacy import personal
from scheduler.spreadsheet import SafeCsvWriter, table_xlsx

COLUMNS = [
    ("seat", "座位 seat"),
    ("ticket_code", "票号 ticket"),
    ("traveller_id", "编号 id"),
    ("ref", "乡镇编号 ref"),
    ("name", "姓名 name"),
    ("id_number", "身份证号 id_number"),
    ("phone", "手机 phone"),
    ("township_id", "乡镇 township"),
    ("boards_at", "上车点 boards_at"),
    ("board_time", "上车时间 board_time"),
    ("alights_at", "下车点 alights_at"),
    ("status", "状态 status"),
    ("revision", "版本 revision"),
    ("changed", "发布后更正 changed since publish"),
]


# What a person reads for the fields a correction after publish may change.
CHANGED_ZH = {"name": "姓名", "phone": "手机号"}
FREE_SEAT = "（空座）"


def corrections(session: Session, bus_id: str, riders: list[m.Traveller]) -> dict[int, list[str]]:
    """Per rider, the contact fields corrected since the bus was published, read from the audit log."""
    since = session.exec(
        select(m.AuditEntry.at).where(
            m.AuditEntry.entity == "buses", m.AuditEntry.entity_id == bus_id, m.AuditEntry.action == "create"
        )
    ).first()
    if since is None or not riders:
        return {}
    entries = session.exec(
        select(m.AuditEntry).where(
            m.AuditEntry.entity == "travellers",
            col(m.AuditEntry.entity_id).in_([str(t.id) for t in riders]),
            m.AuditEntry.action == "update",
            m.AuditEntry.at > since,
        )
    ).all()
    changed: dict[int, set[str]] = {}
    for e in entries:
        changed.setdefault(int(e.entity_id), set()).update(k for k in (e.after or {}) if k in CHANGED_ZH)
    return {tid: sorted(fields) for tid, fields in changed.items() if fields}


def manifest_rows(
    riders: list[m.Traveller], caller: Caller, changed: dict[int, list[str]] | None = None
) -> list[dict[str, Any]]:
    """One row per seat: a cancelled rider's seat is shown free (no name, no numbers), a rider corrected after
    publish with what changed (``changed``: field names, in Chinese in the files)."""
    changed = changed or {}
    rows = []
    for t in sorted(riders, key=lambda t: t.seat or 0):
        if t.status == m.TravellerStatus.cancelled:
            rows.append(
                {
                    **dict.fromkeys(("ticket_code", "boards_at", "board_time", "alights_at"), None),
                    "seat": t.seat,
                    "traveller_id": t.id,
                    "ref": "",
                    "name": FREE_SEAT,
                    "id_number": "",
                    "phone": "",
                    "township_id": t.township_id,
                    "factory_id": t.factory_id,
                    "status": "seat_free",
                    "revision": t.version,
                    "changed": [],
                }
            )
            continue
        rows.append(
            {
                "seat": t.seat,
                "ticket_code": t.ticket_code,
                "traveller_id": t.id,
                "ref": t.ref,
                "name": t.name,
                **personal(caller, t),
                "township_id": t.township_id,
                "factory_id": t.factory_id,
                "boards_at": t.boards_at,
                "board_time": t.board_time,
                "alights_at": t.alights_at,
                "status": t.status,
                "revision": t.version,
                "changed": changed.get(t.id or 0, []),
            }
        )
    return rows


def cell(key: str, value: Any) -> Any:
    if key == "changed":
        return "、".join(CHANGED_ZH.get(v, v) for v in value)
    return "" if value is None else value


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow([cell(key, row[key]) for key, _ in COLUMNS])
    # With a BOM, Excel opens the UTF-8 file with its Chinese intact.
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[dict[str, Any]], title: str, columns: list[tuple[str, str]] | None = None) -> bytes:
    columns = columns or COLUMNS
    return table_xlsx(({key: cell(key, row.get(key)) for key, _ in columns} for row in rows), columns, title)
