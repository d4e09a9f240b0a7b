"""/notices: the text messages queued for travellers, their export for the county's SMS platform, and sending."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from sqlmodel import col, select

from api import models as m
from api.deps import DispatcherDep, SessionDep, SettingsDep, TownshipOrDispatcherDep
from api.errors import bad_input
from api.services import notices

router = APIRouter(prefix="/notices", tags=["notices"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "",
    response_model=list[m.NoticePublic],
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def list_notices(
    session: SessionDep,
    caller: TownshipOrDispatcherDep,
    status: m.NoticeStatus | None = m.NoticeStatus.queued,
    township_id: str | None = None,
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Any:
    """The notices (default: those queued, not yet sent), oldest first. ``format=csv|xlsx``: the columns SMS
    platforms import, phone and text. A township sees its own travellers' notices."""
    if caller.role == m.Role.township:
        if township_id not in (None, caller.scope):
            raise bad_input("a township sees its own notices", "乡镇只能查看本乡镇的通知")
        township_id = caller.scope
    query = select(m.Notice).order_by(col(m.Notice.id))
    if status is not None:
        query = query.where(m.Notice.status == status)
    if township_id is not None:
        query = query.where(m.Notice.township_id == township_id)
    found = session.exec(query).all()
    if format == "json":
        return found
    return Response(
        notices.export(found, format),
        media_type=XLSX if format == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="notices.{format}"'},
    )


@router.post("/send")
def send_notices(
    session: SessionDep, _caller: DispatcherDep, settings: SettingsDep, township_id: str | None = None
) -> dict[str, Any]:
    """Hand every queued notice (of one township, or all) to the SMS platform and mark them sent. The platform
    here is the outbox folder (``notice_outbox``): one CSV of phone and text per batch, as the platform imports."""
    result = notices.send_queued(session, notices.OutboxSender(settings.notice_outbox), township_id)
    session.commit()
    return result
