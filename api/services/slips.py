"""Boarding slips (乘车凭证): one per traveller with a ticket code, eight to an A4 page with cut lines.

Each says who (the ID number masked: the slip travels in a pocket), the bus and seat or the fallback, where and
when to board, where to, the escort's phone, and the ticket code as text and as a QR code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from api import models as m
from api.deps import Caller
from api.privacy import shown
from api.services.manifest_pdf import qr_png

COLUMNS, ROWS = 2, 4
PAGE_W, PAGE_H = 210.0, 297.0
SLIP_W, SLIP_H = PAGE_W / COLUMNS, PAGE_H / ROWS
PAD = 6.0
QR_SIZE = 30.0
MODE_ZH = {"township_transport": "乡镇安排车辆接送", "free_ticket": "免费车票"}


@dataclass(frozen=True, slots=True)
class Slip:
    traveller: m.Traveller
    bus: m.Bus | None
    factory: m.Factory | None
    township: m.Township | None


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut (with …) to ``width`` mm in the current font: a slip's line never runs into the next slip."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _lines(slip: Slip, caller: Caller) -> list[tuple[float, str]]:
    """(font size, text) from the top of the slip."""
    t, bus, factory = slip.traveller, slip.bus, slip.factory
    day = t.travel_date.isoformat() if t.travel_date else ""
    lines = [
        (10.0, f"返岗乘车凭证  {day}"),
        (14.0, t.name),
        (9.0, f"身份证 {shown(caller, t, printed=True).id_number}"),
    ]
    if t.mode == "bus":
        lines.append((12.0, f"车号 {t.bus_id}   座位 {t.seat}"))
        lines.append((9.0, f"上车 {t.board_time or ''} {t.boards_at or ''}"))
    else:
        lines.append((12.0, MODE_ZH.get(t.mode or "", t.mode or "")))
        where = slip.township.name if slip.township else t.township_id
        lines.append((9.0, f"{day} 出发，凭票号到{where}办理"))
    if factory is not None:
        lines.append((9.0, f"目的地 {factory.name}（{factory.city}）"))
    if t.alights_at:
        lines.append((9.0, f"下车 {t.alights_at}"))
    if bus is not None and (bus.escort_name or bus.escort_phone):
        lines.append((9.0, f"随车人员 {bus.escort_name or ''} {bus.escort_phone or ''}".rstrip()))
    return lines


def slips_pdf(slips: Sequence[Slip], font: Path, caller: Caller) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("cjk", "", str(font))
    pdf.set_title("乘车凭证 boarding slips")
    text_width = SLIP_W - 3 * PAD - QR_SIZE
    for n, slip in enumerate(slips):
        place = n % (COLUMNS * ROWS)
        if place == 0:
            pdf.add_page()
            _cut_lines(pdf)
        x = (place % COLUMNS) * SLIP_W
        y = (place // COLUMNS) * SLIP_H
        top = y + PAD
        for size, text in _lines(slip, caller):
            pdf.set_font("cjk", size=size)
            pdf.set_xy(x + PAD, top)
            pdf.cell(text_width, size * 0.45, _fit(pdf, text, text_width))
            top += size * 0.45 + 1.6
        code = slip.traveller.ticket_code or ""
        qr_x = x + SLIP_W - PAD - QR_SIZE
        pdf.image(qr_png(code), x=qr_x, y=y + PAD + 4, w=QR_SIZE, h=QR_SIZE)
        pdf.set_font("cjk", size=12)
        pdf.set_xy(qr_x, y + PAD + 5 + QR_SIZE)
        pdf.cell(QR_SIZE, 6, code, align="C")
        pdf.set_font("cjk", size=7)
        pdf.set_xy(x + PAD, y + SLIP_H - PAD - 3)
        pdf.cell(SLIP_W - 2 * PAD, 3, "上车和到厂时出示本凭证或报票号。fanggang 返岗")
    return bytes(pdf.output())


def _cut_lines(pdf: FPDF) -> None:
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=2)
    for column in range(1, COLUMNS):
        pdf.line(column * SLIP_W, 0, column * SLIP_W, PAGE_H)
    for row in range(1, ROWS):
        pdf.line(0, row * SLIP_H, PAGE_W, row * SLIP_H)
    pdf.set_dash_pattern()
