"""Money in the pages: a township's receipts for its township-transport travellers (with the receipt's photo or
PDF), the dispatcher's decisions, and the finance office's downloads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api import models as m
from api.deps import SessionDep, SettingsDep
from api.errors import ApiError
from api.routes import reimbursements, subsidies
from api.routes.reimbursements import MODE, RECEIPT_STATUS_ZH, attach_file, commit_claims, create_receipt
from api.settings import beijing_minute
from api.web.auth import DispatcherPage, TownshipPage, WebCallerDep
from api.web.render import render

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("/township/receipts", response_class=HTMLResponse)
def receipts_page(request: Request, session: SessionDep, caller: TownshipPage, settings: SettingsDep) -> Response:
    """The township's travellers on its own transport (what each may be paid, whether already claimed), the
    receipt form, and its receipts with their status."""
    today = settings.today_here()
    travellers = session.exec(
        select(m.Traveller)
        .where(m.Traveller.township_id == caller.scope, m.Traveller.mode == MODE)
        .order_by(m.Traveller.travel_date, m.Traveller.id)
    ).all()
    claimed = set(session.exec(select(m.ReceiptClaim.traveller_id)).all())
    people = [
        {
            "id": t.id, "ref": t.ref, "name": t.name, "date": t.travel_date, "cap": t.est_cost or 0.0,
            "claimed": t.id in claimed,
            "open": t.id not in claimed and t.travel_date is not None and t.travel_date <= today
            and t.status not in reimbursements.NOT_TRAVELLING,
        }
        for t in travellers
    ]  # fmt: skip
    summary = next(iter(reimbursements.list_reimbursements(session, caller)), None)
    return render(
        request, "receipts.html", caller, people=people, summary=summary, today=today,
        status_zh=RECEIPT_STATUS_ZH, when=beijing_minute,
    )  # fmt: skip


@router.post("/api/receipts", status_code=201)
async def submit_receipt(
    session: SessionDep,
    caller: TownshipPage,
    settings: SettingsDep,
    number: Annotated[str, Form(max_length=60)],
    amount: Annotated[str, Form(max_length=20)],
    traveller_ids: Annotated[str, Form(max_length=20_000)],
    file: UploadFile,
) -> dict[str, Any]:
    """The receipt and its photo or PDF in one step: both are saved, or neither."""
    content = await file.read(settings.max_receipt_bytes + 1)
    try:
        body = m.ReceiptCreate(
            number=number.strip(),
            amount=float(amount),
            traveller_ids=[int(i) for i in traveller_ids.replace("，", ",").split(",") if i.strip()],
        )
    except (ValueError, ValidationError) as err:
        raise ApiError(
            422, f"check the receipt number, amount and travellers: {err}", "请检查票据号、金额和所选旅客"
        ) from None
    receipt = create_receipt(session, caller, body, settings.today_here())
    attach_file(session, receipt, file.filename or "receipt", content, settings.max_receipt_bytes)
    commit_claims(session)
    return {"id": receipt.id, "number": receipt.number, "amount": receipt.amount}


@router.get("/receipts/{receipt_id}/file")
def receipt_file(receipt_id: m.RowId, session: SessionDep, caller: WebCallerDep) -> Response:
    return reimbursements.download_receipt_file(receipt_id, session, caller)


@router.post("/api/receipts/{receipt_id}/{decision}")
def decide(
    receipt_id: m.RowId, decision: str, body: m.ReceiptDecision, session: SessionDep, caller: DispatcherPage
) -> dict[str, Any]:
    if decision == "approve":
        return reimbursements.approve(receipt_id, body, session, caller)
    if decision == "reject":
        return reimbursements.reject(receipt_id, body, session, caller)
    raise ApiError(404, "approve or reject", "只能批准（approve）或驳回（reject）")


@router.get("/reimbursements.xlsx")
def reimbursements_download(session: SessionDep, caller: DispatcherPage) -> Response:
    return reimbursements.export_receipts(session, caller)


@router.get("/subsidies.xlsx")
def subsidies_finance(session: SessionDep, caller: DispatcherPage, settings: SettingsDep) -> Any:
    return subsidies.list_subsidies(session, caller, settings, format="xlsx")


@router.get("/subsidies-notice.csv")
def subsidies_notice(session: SessionDep, caller: DispatcherPage, settings: SettingsDep) -> Any:
    return subsidies.list_subsidies(session, caller, settings, format="notice")


def waiting_receipts(session: Session) -> list[dict[str, Any]]:
    """Receipts waiting for the dispatcher's decision, oldest first, with their township and file."""
    towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    files = dict(session.exec(select(m.ReceiptFile.receipt_id, m.ReceiptFile.filename)).all())
    rows = session.exec(select(m.Receipt).where(m.Receipt.status == "submitted").order_by(col(m.Receipt.id))).all()
    return [
        {"id": r.id, "township": towns.get(r.township_id, r.township_id), "number": r.number, "amount": r.amount,
         "travellers": len(r.traveller_ids), "submitted": beijing_minute(r.created_at), "file": files.get(r.id)}
        for r in rows
    ]  # fmt: skip
