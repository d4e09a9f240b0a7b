"""/travellers: register, list, edit, cancel, and import a township's spreadsheet."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, UploadFile
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from api import models as m
from api.convert import traveller_row_dict
from api.deps import CallerDep, SessionDep, SettingsDep
from api.errors import ApiError
from api.privacy import traveller_public
from api.routes.scope import get_traveller, traveller_filters
from api.services import lifecycle
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


CONTACT = frozenset({"name", "phone"})


@router.patch("/{traveller_id:int}", response_model=m.TravellerPublic)
def update_traveller(
    traveller_id: m.RowId, body: m.TravellerUpdate, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> Any:
    """Change a registration (checked like a spreadsheet row). Name and phone may be corrected after publish
    too: the seat stays, and the manifest says what changed. Anything else only before the traveller is planned;
    an overdue traveller changed (e.g. given a later report date) is registered again, for the next plan."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "factories cannot change registrations", "企业不能修改旅客登记")
    row = get_traveller(session, caller, traveller_id, lock=True)
    given = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    event = "contact" if set(given) <= CONTACT else "correct"
    if not lifecycle.can(row, event):
        lifecycle.transition(row, event)  # raises the 409 naming the status
    data = traveller_row_dict(row) | given
    data.pop("traveller_id")
    checked = check_form(session, caller, data, row.ref)
    changes: dict[str, Any] = {"name": checked.name, "phone": checked.phone}
    if event == "correct":
        changes |= {
            "factory_id": checked.factory_id,
            "earliest_date": checked.earliest_date,
            "report_date": checked.report_date,
            "group_id": checked.group_id,
            "registered_poor": checked.registered_poor,
            "fallback_cause": None,
            "fallback_params": None,
        }
    if any(getattr(row, k) != v for k, v in changes.items()) or row.status != lifecycle.status_after(event, row.status):
        lifecycle.transition(row, event, **changes)
        session.add(row)
    session.commit()
    return traveller_public(caller, row)


@router.delete("/{traveller_id:int}", response_model=m.TravellerPublic)
def cancel_traveller(traveller_id: m.RowId, body: m.TravellerCancel, session: SessionDep, caller: CallerDep) -> Any:
    """Cancel a registration (kept, with its reason). A cancelled rider's seat is free at once: the bus's load
    drops, its manifest shows the seat free, and a later plan may give it to someone else. Idempotent."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "factories cannot cancel registrations", "企业不能取消旅客登记")
    row = get_traveller(session, caller, traveller_id, lock=True)
    if row.status == m.TravellerStatus.cancelled:
        return traveller_public(caller, row)
    lifecycle.transition(row, "cancel", cancel_reason=body.reason, ticket_code=None)
    session.add(row)
    session.commit()
    return traveller_public(caller, row)
