"""/subsidies: registered-poor travellers with a confirmed arrival and the one-off amount due."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from sqlmodel import select

from api import models as m
from api.deps import CallerDep, SessionDep, SettingsDep
from api.errors import ApiError
from api.privacy import personal
from api.services.manifests import to_xlsx
from scheduler.spreadsheet import table_csv

router = APIRouter(prefix="/subsidies", tags=["subsidies"])

NOTICE_COLUMNS = [
    ("name", "姓名 name"),
    ("id_number", "身份证号 id_number"),
    ("township", "乡镇 township"),
    ("factory", "企业 factory"),
    ("amount", "补贴金额 amount (CNY)"),
]
FINANCE_COLUMNS = [
    ("subsidy_id", "序号 no."),
    ("name", "姓名 name"),
    ("id_number", "身份证号 id_number"),
    ("phone", "手机 phone"),
    ("township", "乡镇 township"),
    ("factory", "企业 factory"),
    ("province", "省份 province"),
    ("amount", "补贴金额 amount (CNY)"),
    ("arrived_at", "到岗时间 arrived"),
]


@router.get(
    "",
    response_model=None,
    responses={
        200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}
    },
)
def list_subsidies(
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    format: Literal["json", "notice", "xlsx"] = "json",
) -> Any:
    """JSON; ``format=notice``: the public notice list (公示名单, CSV, masked ID numbers);
    ``format=xlsx``: the finance spreadsheet (dispatcher only, full ID numbers)."""
    query = (
        select(m.Subsidy, m.Traveller, m.Township, m.Factory)
        .join(m.Traveller, m.Traveller.id == m.Subsidy.traveller_id)
        .join(m.Township, m.Township.id == m.Subsidy.township_id)
        .join(m.Factory, m.Factory.id == m.Subsidy.factory_id)
        .where(m.Subsidy.campaign == settings.campaign)
        .order_by(m.Subsidy.id)
    )
    if caller.role == m.Role.township:
        query = query.where(m.Subsidy.township_id == caller.scope)
    elif caller.role == m.Role.factory:
        query = query.where(m.Subsidy.factory_id == caller.scope)
    # The public notice (公示名单) is read by anyone: masked as for no caller.
    viewer = None if format == "notice" else caller
    rows = [
        {
            "subsidy_id": s.id,
            "traveller_id": t.id,
            "name": t.name,
            **personal(viewer, t),
            "township_id": s.township_id,
            "township": tw.name,
            "factory_id": s.factory_id,
            "factory": f.name,
            "province": f.province,
            "amount": s.amount,
            "arrived_at": t.arrived_at.isoformat() if t.arrived_at else None,
        }
        for s, t, tw, f in session.exec(query).all()
    ]
    if format == "notice":
        return Response(
            table_csv(rows, NOTICE_COLUMNS),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="subsidy-notice.csv"'},
        )
    if format == "xlsx":
        if not caller.is_dispatcher:
            raise ApiError(403, "the finance spreadsheet is for the dispatcher", "财务表仅供县调度人员导出")
        return Response(
            to_xlsx(rows, "subsidies", FINANCE_COLUMNS),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="subsidies.xlsx"'},
        )
    return {"campaign": settings.campaign, "total": round(sum(r["amount"] for r in rows), 2), "subsidies": rows}
