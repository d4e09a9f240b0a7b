"""Erasing a finished campaign's personal data after the retention period (PIPL: kept no longer than needed).

What goes: each traveller's name, ID number, phone and cancellation note, the ID numbers on its subsidy, and
the phone and text of the notices sent to it.
What stays: every other column (township, factory, dates, status, bus, seat, mode, costs), so the rates,
statistics and plans keep adding up; subsidies and receipts keep their amounts. The audit log holds masked
values only, so nothing in it needs erasing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, cast, literal, update
from sqlmodel import Session, col, select

from api import models as m
from api.errors import ApiError
from api.services import audit

ERASED = "已清除"
ERASED_PREFIX = f"{ERASED}-"


def _erased_id(row_id):  # type: ignore[no-untyped-def]
    # Unique like the ID numbers it replaces (one per campaign), and plainly not one.
    return literal(ERASED_PREFIX) + cast(row_id, String)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    campaign: str
    before: dt.date
    travellers: int
    subsidies: int

    def summary(self) -> str:
        return (
            f"campaign {self.campaign}, report dates before {self.before}: personal data of {self.travellers} "
            f"traveller(s) and {self.subsidies} subsidy record(s) erased (已清除 {self.travellers} 名旅客、"
            f"{self.subsidies} 条补贴记录的个人信息；统计和金额保留)"
        )


def purge(session: Session, campaign: str, before: dt.date, today: dt.date, retention_days: int) -> PurgeReport:
    """Erase the personal data of ``campaign``'s travellers whose report date is before ``before``.

    Raises:
        ApiError: 422 when ``before`` falls inside the retention period (``retention_days`` before ``today``).
    """
    kept_from = today - dt.timedelta(days=retention_days)
    if before > kept_from:
        raise ApiError(
            422,
            f"personal data is kept {retention_days} days after the report date: --before may be {kept_from} at the "
            f"latest",
            f"个人信息在报到日期后保留 {retention_days} 天：--before 最晚为 {kept_from}",
        )
    due = (
        m.Traveller.campaign == campaign,
        m.Traveller.report_date < before,
        ~col(m.Traveller.id_number).startswith(ERASED_PREFIX),
    )
    due_ids = select(m.Traveller.id).where(*due)
    subsidies = session.execute(
        update(m.Subsidy)
        .where(col(m.Subsidy.traveller_id).in_(due_ids), ~col(m.Subsidy.id_number).startswith(ERASED_PREFIX))
        .values(id_number=_erased_id(m.Subsidy.id))
    ).rowcount
    # A notice's text names the traveller and its phone is theirs: both go with the rest.
    session.execute(update(m.Notice).where(col(m.Notice.traveller_id).in_(due_ids)).values(phone=ERASED, text=ERASED))
    travellers = session.execute(
        update(m.Traveller)
        .where(*due)
        .values(name=ERASED, phone=ERASED, id_number=_erased_id(m.Traveller.id), cancel_reason=None)
    ).rowcount
    report = PurgeReport(campaign, before, travellers or 0, subsidies or 0)
    audit.record(
        session,
        "purge",
        "travellers",
        f"campaign {campaign}",
        after={"before": before, "travellers": report.travellers, "subsidies": report.subsidies},
    )
    return report
