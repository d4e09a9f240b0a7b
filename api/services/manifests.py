"""A bus's manifest as JSON rows, CSV or XLSX; ID numbers and phones as ``api.privacy`` shows them.

Each row names the traveller by the service's id (``traveller_id``) and the township's own (``ref``).
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from api import models as m
from api.deps import Caller
from api.privacy import personal
from scheduler.spreadsheet import SafeCsvWriter, safe_row

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
]


def manifest_rows(riders: list[m.Traveller], caller: Caller) -> list[dict[str, Any]]:
    return [
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
        }
        for t in sorted(riders, key=lambda t: t.seat or 0)
    ]


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow(["" if row[key] is None else row[key] for key, _ in COLUMNS])
    # With a BOM, Excel opens the UTF-8 file with its Chinese intact.
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[dict[str, Any]], title: str, columns: list[tuple[str, str]] | None = None) -> bytes:
    columns = columns or COLUMNS
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(safe_row(label for _, label in columns))
    for row in rows:
        sheet.append(safe_row("" if row.get(key) is None else row[key] for key, _ in columns))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def table_csv(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow([label for _, label in columns])
    for row in rows:
        writer.writerow(["" if row.get(key) is None else row[key] for key, _ in columns])
    return buffer.getvalue().encode("utf-8-sig")
