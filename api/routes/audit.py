"""/audit: the county admin reads who changed what (filterable; xlsx for the file)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlmodel import Session, col, select

from api import models as m
from api.deps import AdminDep, SessionDep
from api.services.manifests import to_xlsx
from api.settings import BEIJING, beijing_minute

router = APIRouter(tags=["audit"])

XLSX_COLUMNS = [
    ("at", "时间（北京时间） Time"),
    ("actor", "操作人 Who"),
    ("role", "角色 Role"),
    ("token_id", "令牌 Token"),
    ("action", "操作 Action"),
    ("entity", "对象 Entity"),
    ("entity_id", "编号 Id"),
    ("before", "修改前 Before"),
    ("after", "修改后 After"),
]
MAX_XLSX_ROWS = 100_000


def audit_entries(
    session: Session,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[m.AuditEntry]:
    """Entries newest first; ``since``/``until`` are Beijing dates, both included."""
    query = select(m.AuditEntry)
    for column, value in (
        (m.AuditEntry.entity, entity),
        (m.AuditEntry.entity_id, entity_id),
        (m.AuditEntry.actor, actor),
        (m.AuditEntry.action, action),
    ):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(m.AuditEntry.at >= dt.datetime.combine(since, dt.time(), BEIJING))
    if until:
        query = query.where(m.AuditEntry.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), BEIJING))
    query = query.order_by(col(m.AuditEntry.id).desc()).offset(offset).limit(limit)
    return list(session.exec(query).all())


Filter = Annotated[str | None, Query(max_length=80)]


@router.get(
    "/audit",
    response_model=list[m.AuditPublic],
    responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
def get_audit(
    session: SessionDep,
    _caller: AdminDep,
    entity: Filter = None,
    entity_id: Filter = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Filter = None,
    since: m.Day | None = None,
    until: m.Day | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """Who changed what: ``entity`` (a table: travellers, townships, factories, fleet, policy, plans, buses,
    receipts, subsidies, tokens, users), ``entity_id``, ``actor``, ``action`` (create, update, delete, publish,
    import, purge), Beijing dates ``since`` and ``until``. ``format=xlsx``: the same filter as a spreadsheet (up
    to 100,000 rows). ID numbers and phones in it are masked."""
    if format == "xlsx":
        rows = audit_entries(session, entity, entity_id, actor, action, since, until, MAX_XLSX_ROWS, offset)
        cells = [
            {
                **e.model_dump(),
                "at": beijing_minute(e.at),
                "before": _text(e.before),
                "after": _text(e.after),
            }
            for e in rows
        ]
        return Response(
            to_xlsx(cells, "audit", XLSX_COLUMNS),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="audit.xlsx"'},
        )
    return audit_entries(session, entity, entity_id, actor, action, since, until, limit, offset)


def _text(values: dict[str, Any] | None) -> str:
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)[:32000]
