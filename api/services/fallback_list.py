"""A plan's fallback list (who does not ride a bus, how they travel, why) as rows, CSV, XLSX or a PDF.

The reason is data (``cause``, ``params``) rendered in both languages; the Chinese exports (CSV, XLSX, PDF)
carry the Chinese sentence, as the county's clerks read them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF
from sqlmodel import Session, select

from api import models as m
from api.convert import in_ids
from api.deps import Caller
from api.privacy import shown
from api.web.i18n import MODES
from scheduler.plan import Plan

COLUMNS = [
    ("traveller_id", "编号 id"),
    ("ref", "乡镇编号 ref"),
    ("name", "姓名 name"),
    ("phone", "手机 phone"),
    ("group_id", "同行组 group"),
    ("township", "乡镇 township"),
    ("factory", "企业 factory"),
    ("mode_zh", "方式 mode"),
    ("est_cost", "费用上限/人 cost cap (CNY)"),
    ("reason_zh", "原因 reason"),
]


def fallback_rows(session: Session, plan: Plan, caller: Caller) -> list[dict[str, Any]]:
    """The plan's fallback lines with each traveller's ref, name, township and factory, and the reason in both
    languages (``reason``, ``reason_zh``) beside its ``cause`` and ``params``."""
    ids = [int(f.traveller_id) for f in plan.fallback]
    people = {t.id or 0: t for t in session.exec(select(m.Traveller).where(in_ids(m.Traveller.id, ids))).all()}
    towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    factories = dict(session.exec(select(m.Factory.id, m.Factory.name)).all())
    rows = []
    for f in plan.fallback:
        t = people.get(int(f.traveller_id))
        rows.append(
            {
                "traveller_id": int(f.traveller_id),
                "ref": t.ref if t else "",
                "name": t.name if t else "?",
                "phone": shown(caller, t).phone if t else "",
                "group_id": t.group_id if t else "",
                "township_id": t.township_id if t else "",
                "township": towns.get(t.township_id, "") if t else "",
                "factory_id": t.factory_id if t else "",
                "factory": factories.get(t.factory_id, "") if t else "",
                "mode": f.mode,
                "mode_zh": MODES.get(f.mode, (f.mode, f.mode))[0],
                "est_cost": f.est_cost,
                "cause": f.cause,
                "params": f.params,
                "reason": f.reason,
                "reason_zh": f.reason_zh,
            }
        )
    return rows


def fallback_pdf(plan_id: int, plan: Plan, rows: list[dict[str, Any]], font: Path) -> bytes:
    """An A4 list (landscape) of the plan's fallback lines with the Chinese reasons."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", "", str(font))
    pdf.add_font("cjk", "B", str(font))
    pdf.set_title("不乘包车人员名单 fallback list")
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.cell(0, 9, f"不乘包车人员及原因  计划 {plan_id} · {plan.date.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 6, f"共 {len(rows)} 人", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=8)
    with pdf.table(col_widths=(18, 18, 24, 28, 40, 30, 16, 100), line_height=4.5, first_row_as_headings=True) as table:
        table.row(["编号", "乡镇编号", "姓名", "乡镇", "企业", "方式", "费用上限", "原因"])
        for r in rows:
            table.row(
                [
                    str(r["traveller_id"]),
                    r["ref"],
                    r["name"],
                    r["township"],
                    r["factory"],
                    r["mode_zh"],
                    f"{r['est_cost']:.2f}",
                    r["reason_zh"],
                ]
            )
    return bytes(pdf.output())
