"""Printable manifests: one A4 page per bus, with an embedded Chinese font (fpdf2 subsets it).

The font is the first found of ``Settings.pdf_font`` and the Debian font files below;
``.ci/install-browser`` installs fonts-wqy-microhei (``apt-get install fonts-wqy-microhei``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF

from api import models as m
from api.convert import bus_to_domain
from api.deps import Caller
from api.errors import ApiError
from api.privacy import personal
from scheduler.clock import format_for_people

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def find_font(configured: str = "") -> Path:
    """The font file to embed.

    Raises:
        ApiError: 503 when no Chinese font is installed, saying which package to install.
    """
    for name in (configured, *FONT_CANDIDATES):
        if name and Path(name).is_file():
            return Path(name)
    raise ApiError(
        503,
        "no Chinese font for PDF manifests: apt-get install fonts-wqy-microhei or set FANGGANG_PDF_FONT",
        "未找到中文字体，无法生成 PDF 乘车名单：请安装 fonts-wqy-microhei 或设置 FANGGANG_PDF_FONT",
    )


def qr_png(code: str) -> io.BytesIO:
    """A ticket code as a QR image (error correction M, a two-module margin): what scanners at the gate and at
    the boarding place read."""
    image = io.BytesIO()
    segno.make(code, error="m", micro=False).save(image, kind="png", scale=8, border=2)
    image.seek(0)
    return image


def stops_with_riders(bus: m.Bus, riders: Sequence[m.Traveller], caller: Caller) -> list[dict[str, Any]]:
    """The bus's stops in order; each pickup with its riders (seat order, masked ID numbers)."""
    by_stop: dict[str, list[m.Traveller]] = {}
    for t in sorted(riders, key=lambda t: t.seat or 0):
        by_stop.setdefault(t.boards_at or "", []).append(t)
    stops = []
    for s in bus_to_domain(bus).stops:
        people = by_stop.pop(s.place_name, []) if s.kind == "pickup" else []
        stops.append(
            {
                "place_id": s.place_id,
                "name": s.place_name,
                "kind": s.kind,
                "arrival": format_for_people(bus.date, s.arrival_s),
                "departure": format_for_people(bus.date, s.departure_s),
                "alight": len(s.alight),
                "riders": [_rider(t, caller) for t in people],
            }
        )
    # Riders whose boarding place is not a stop name (should not happen) are still listed.
    for name, people in by_stop.items():
        stops.append(
            {
                "place_id": "",
                "name": name or "?",
                "kind": "pickup",
                "arrival": "",
                "departure": "",
                "alight": 0,
                "riders": [_rider(t, caller) for t in people],
            }
        )
    return stops


def _rider(t: m.Traveller, caller: Caller) -> dict[str, Any]:
    return {
        "traveller_id": t.id,
        "seat": t.seat,
        "name": t.name,
        **personal(caller, t, printed=True),
        "ticket_code": t.ticket_code or "",
        "alights_at": t.alights_at or "",
        "status": t.status,
    }


def manifests_pdf(
    pages: Sequence[tuple[m.Bus, Sequence[m.Traveller]]],
    font: Path,
    caller: Caller,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """One A4 page per bus (more if its list is long): header, route, then per stop its seat list; ``progress``
    hears how many buses are done."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", "", str(font))
    # Table headings are bold; WenQuanYi has one weight, so the same face serves.
    pdf.add_font("cjk", "B", str(font))
    pdf.set_title("乘车名单 manifests")
    for done, (bus, riders) in enumerate(pages):
        if progress is not None:
            progress(done)
        data = bus_to_domain(bus)
        stops = stops_with_riders(bus, riders, caller)
        pdf.add_page()
        pdf.set_font("cjk", size=16)
        pdf.cell(0, 9, f"返岗包车乘车名单  {bus.id}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        departure = format_for_people(bus.date, data.stops[0].departure_s) if data.stops else ""
        pdf.cell(
            0,
            6,
            f"日期 {bus.date.isoformat()}   车型 {bus.vehicle_type}（{bus.seats} 座）   乘客 {len(riders)} 人   "
            f"发车 {departure}   司机 {data.drivers} 名",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        route = " → ".join(s.place_name for s in data.stops)
        pdf.multi_cell(0, 6, f"线路：{route}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        for stop in stops:
            label = "上车" if stop["kind"] == "pickup" else "下车"
            pdf.set_font("cjk", size=11)
            pdf.set_fill_color(230, 236, 245)
            count = len(stop["riders"]) if stop["kind"] == "pickup" else stop["alight"]
            pdf.cell(
                0,
                7,
                f"{label}：{stop['name']}   到达 {stop['arrival']}  开出 {stop['departure']}   {count} 人",
                new_x="LMARGIN",
                new_y="NEXT",
                fill=True,
            )
            if not stop["riders"]:
                continue
            pdf.set_font("cjk", size=9)
            pdf.set_fill_color(255, 255, 255)  # QR codes read best on white
            with pdf.table(
                col_widths=(10, 25, 42, 24, 14, 55), line_height=5.5, first_row_as_headings=True, v_align="M"
            ) as table:
                table.row(["座位", "姓名", "身份证号", "票号", "二维码", "下车点"])
                for r in stop["riders"]:
                    name = r["name"] + ("（已取消）" if r["status"] == "cancelled" else "")
                    row = table.row([str(r["seat"] or ""), name, r["id_number"], r["ticket_code"]])
                    if r["ticket_code"]:
                        row.cell(img=qr_png(r["ticket_code"]), img_fill_width=True)
                    else:
                        row.cell("")
                    row.cell(r["alights_at"])
            pdf.ln(2)
        pdf.set_font("cjk", size=8)
        pdf.cell(0, 5, "身份证号已脱敏；到厂凭票号确认到岗。fanggang 返岗", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
