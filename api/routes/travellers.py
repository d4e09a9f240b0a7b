"""/travellers: register, list, edit, cancel, and import a township's spreadsheet."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, UploadFile
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from api import models as m
from api.convert import traveller_row_dict
from api.deps import CallerDep, SessionDep, SettingsDep
from api.errors import ApiError, conflict
from api.privacy import traveller_public
from api.routes.scope import get_traveller, traveller_filters
from api.services.registrations import check_form, import_file, register_one

router = APIRouter(prefix="/travellers", tags=["travellers"])


@router.post("", response_model=m.TravellerPublic, status_code=201)
def register(body: m.TravellerCreate, session: SessionDep, caller: CallerDep, settings: SettingsDep) -> Any:
    """Register one traveller; a township token registers for its own township."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "factories cannot register travellers", "企业不能登记旅客")
    row = register_one(session, caller, settings.campaign, body)
    session.commit()
    return traveller_public(caller, row)


@router.post("/import")
async def import_travellers(file: UploadFile, session: SessionDep, caller: CallerDep, settings: SettingsDep) -> Any:
    """Import a .csv or .xlsx with travellers.csv's columns: all rows or none (422 with every row's problems)."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "factories cannot register travellers", "企业不能登记旅客")
    content = await file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise ApiError(413, f"the file is larger than {settings.max_upload_bytes} bytes", "上传文件过大")
    # Parsed and checked in a worker thread: the service keeps answering other requests meanwhile.
    result = await run_in_threadpool(import_file, session, caller, settings, file.filename or "upload.csv", content)
    session.commit()
    return result


@router.get("", response_model=list[m.TravellerPublic])
def list_travellers(
    session: SessionDep,
    caller: CallerDep,
    township: str | None = None,
    factory: str | None = None,
    date: Annotated[m.Day | None, Query(description="travellers free to travel (or planned) on this date")] = None,
    status: m.TravellerStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=m.MAX_ROW_ID)] = 0,
) -> Any:
    query = select(m.Traveller).where(*traveller_filters(caller))
    if township:
        query = query.where(m.Traveller.township_id == township)
    if factory:
        query = query.where(m.Traveller.factory_id == factory)
    if date:
        query = query.where(m.Traveller.earliest_date <= date, m.Traveller.report_date >= date)
    if status:
        query = query.where(m.Traveller.status == status)
    rows = session.exec(query.order_by(m.Traveller.id).offset(offset).limit(limit)).all()
    return [traveller_public(caller, t) for t in rows]


@router.get("/{traveller_id:int}", response_model=m.TravellerPublic)
def read_traveller(traveller_id: m.RowId, session: SessionDep, caller: CallerDep) -> Any:
    return traveller_public(caller, get_traveller(session, caller, traveller_id))


@router.patch("/{traveller_id:int}", response_model=m.TravellerPublic)
def update_traveller(
    traveller_id: m.RowId, body: m.TravellerUpdate, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> Any:
    """Change a registration that is not yet on a published plan (checked like a spreadsheet row). An overdue
    traveller changed (e.g. given a later report date) is registered again, for the next plan."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "factories cannot change registrations", "企业不能修改旅客登记")
    row = get_traveller(session, caller, traveller_id, lock=True)
    if row.status not in (m.TravellerStatus.registered, m.TravellerStatus.overdue):
        raise conflict(
            f"the traveller is {row.status}; only a registration not yet planned can be changed "
            "(ask the dispatcher to release the bus first)",
            f"旅客状态为 {row.status}，只有尚未安排的登记可以修改（请先由调度释放车辆）",
        )
    data = traveller_row_dict(row) | {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    data.pop("traveller_id")
    checked = check_form(session, caller, data, row.ref)
    row.name, row.phone, row.factory_id = checked.name, checked.phone, checked.factory_id
    row.earliest_date, row.report_date = checked.earliest_date, checked.report_date
    row.group_id, row.registered_poor = checked.group_id, checked.registered_poor
    if row.status == m.TravellerStatus.overdue:
        row.status, row.fallback_cause, row.fallback_params = m.TravellerStatus.registered, None, None
    row.version += 1
    row.updated_at = m.utcnow()
    session.add(row)
    session.commit()
    return traveller_public(caller, row)


@router.delete("/{traveller_id:int}", response_model=m.TravellerPublic)
def cancel_traveller(traveller_id: m.RowId, body: m.TravellerCancel, session: SessionDep, caller: CallerDep) -> Any:
    """Cancel a registration (kept, with its reason; shown as cancelled on its manifest). Idempotent."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "factories cannot cancel registrations", "企业不能取消旅客登记")
    row = get_traveller(session, caller, traveller_id, lock=True)
    if row.status == m.TravellerStatus.cancelled:
        return traveller_public(caller, row)
    if row.status not in (m.TravellerStatus.registered, m.TravellerStatus.planned, m.TravellerStatus.overdue):
        raise conflict(
            f"the traveller is {row.status} and can no longer be cancelled", f"旅客状态为 {row.status}，已不能取消"
        )
    row.status = m.TravellerStatus.cancelled
    row.cancel_reason = body.reason
    row.ticket_code = None
    row.version += 1
    row.updated_at = m.utcnow()
    session.add(row)
    session.commit()
    return traveller_public(caller, row)
