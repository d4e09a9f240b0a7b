"""/reimbursements: per township, the travellers moved by township transport, the amounts due, and receipts.

The cap is what the rules pay for those travellers (their fallback's ``est_cost``); submitted and
approved receipts together never exceed it, checked under a lock on the township row. A receipt covers
travellers on township transport whose travel date has come; each is on at most one receipt that is submitted
or approved (``receipt_claims``' primary key, so even two racing requests cannot both claim one), and the
receipt's amount is shared among them in proportion to their caps, so no share exceeds its traveller's cap.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Response, UploadFile
from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api import models as m
from api.convert import in_ids
from api.deps import Caller, CallerDep, DispatcherDep, SessionDep, SettingsDep
from api.errors import ApiError, conflict, not_found
from api.services.manifests import to_xlsx
from api.settings import beijing_minute

router = APIRouter(prefix="/reimbursements", tags=["reimbursements"])

MODE = "township_transport"
NOT_TRAVELLING = (m.TravellerStatus.cancelled, m.TravellerStatus.registered, m.TravellerStatus.overdue)


def _due(session: Session, township_id: str) -> tuple[list[m.Traveller], float]:
    rows = session.exec(
        select(m.Traveller)
        .where(
            m.Traveller.township_id == township_id,
            m.Traveller.mode == MODE,
            m.Traveller.status != m.TravellerStatus.cancelled,
        )
        .order_by(m.Traveller.id)
    ).all()
    return list(rows), round(sum(t.est_cost or 0.0 for t in rows), 2)


def _claimed(session: Session, township_id: str, statuses: tuple[str, ...]) -> float:
    total = session.exec(
        select(func.coalesce(func.sum(m.Receipt.amount), 0.0)).where(
            m.Receipt.township_id == township_id,
            m.Receipt.status.in_(statuses),  # type: ignore[attr-defined]
        )
    ).one()
    return round(float(total), 2)


def _receipt_public(session: Session, r: m.Receipt) -> dict[str, Any]:
    file = session.exec(select(m.ReceiptFile.filename).where(m.ReceiptFile.receipt_id == r.id)).first()
    return m.ReceiptPublic.model_validate({**r.model_dump(), "attachment": file}).model_dump()


@router.get("")
def list_reimbursements(session: SessionDep, caller: CallerDep) -> list[dict[str, Any]]:
    """Per township: travellers on township transport, the amount due (cap), receipts and their totals."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "reimbursements are between townships and the county", "报销事项仅限乡镇与县调度")
    towns = [caller.scope] if caller.role == m.Role.township else list(session.exec(select(m.Township.id)).all())
    out = []
    for township_id in sorted(t for t in towns if t):
        travellers, cap = _due(session, township_id)
        receipts = session.exec(
            select(m.Receipt).where(m.Receipt.township_id == township_id).order_by(m.Receipt.id)
        ).all()
        if not travellers and not receipts and caller.is_dispatcher:
            continue
        out.append(
            {
                "township_id": township_id,
                "travellers": [
                    {"traveller_id": t.id, "name": t.name, "travel_date": t.travel_date, "amount_due": t.est_cost}
                    for t in travellers
                ],
                "cap": cap,
                "submitted": _claimed(session, township_id, ("submitted",)),
                "approved": _claimed(session, township_id, ("approved",)),
                "receipts": [_receipt_public(session, r) for r in receipts],
            }
        )
    return out


@router.post("/receipts", status_code=201)
def submit_receipt(
    body: m.ReceiptCreate, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> dict[str, Any]:
    """A township submits a receipt (number, amount, travellers covered); over the cap, or a traveller already on
    another receipt, gives 409; a traveller not on township transport, cancelled or not yet travelled, 422. The
    receipt's photo or PDF follows with PUT /reimbursements/receipts/{id}/file."""
    receipt = create_receipt(session, caller, body, settings.today_here())
    commit_claims(session)
    return _receipt_public(session, receipt)


def commit_claims(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:  # a receipt submitted at the same moment claimed one of them first
        session.rollback()
        raise conflict(
            "a traveller on this receipt was just claimed by another receipt", "本票据中的旅客刚刚已被其他票据报销"
        ) from None


def create_receipt(session: Session, caller: Caller, body: m.ReceiptCreate, today: dt.date) -> m.Receipt:
    """The receipt and its claims, checked, flushed (the caller commits with ``commit_claims``)."""
    if caller.role == m.Role.factory:
        raise ApiError(403, "receipts are submitted by townships", "报销票据由乡镇提交")
    township_id = caller.scope if caller.role == m.Role.township else body.township_id
    if not township_id:
        raise ApiError(422, "township_id is required", "乡镇编号（township_id）不能为空")
    # Lock the township row: concurrent receipts of one township are checked one after the other.
    township = session.exec(select(m.Township).where(m.Township.id == township_id).with_for_update()).first()
    if township is None:
        raise not_found(f"township {township_id}", f"乡镇 {township_id}")
    covered = {
        t.id: t
        for t in session.exec(
            select(m.Traveller).where(
                in_ids(m.Traveller.id, body.traveller_ids), m.Traveller.township_id == township_id
            )
        ).all()
    }
    bad = sorted(i for i in set(body.traveller_ids) if i not in covered or covered[i].mode != MODE)
    if bad:
        raise ApiError(
            422,
            f"not travellers of this township on township transport: {bad}",
            f"以下旅客不是本乡镇自行组织运送的旅客：{bad}",
            travellers=bad,
        )
    not_yet = sorted(
        i for i, t in covered.items() if t.status in NOT_TRAVELLING or t.travel_date is None or t.travel_date > today
    )
    if not_yet:
        raise ApiError(
            422,
            f"these travellers are cancelled or have not travelled yet (today is {today}): {not_yet}",
            f"以下旅客已取消或尚未出行（今天是 {today}），不能报销：{not_yet}",
            travellers=not_yet,
        )
    taken = sorted(
        session.exec(
            select(m.ReceiptClaim.traveller_id).where(in_ids(m.ReceiptClaim.traveller_id, list(covered)))
        ).all()
    )
    if taken:
        raise conflict(
            f"these travellers are already on another receipt: {taken}",
            f"以下旅客已在其他票据中报销：{taken}",
            travellers=taken,
        )
    covered_cap = round(sum(t.est_cost or 0.0 for t in covered.values()), 2)
    if body.amount > covered_cap + 0.005:
        raise conflict(
            f"amount {body.amount:.2f} exceeds what the rules pay for these travellers ({covered_cap:.2f})",
            f"报销金额 {body.amount:.2f} 超过这些旅客按规定可报销的上限 {covered_cap:.2f}",
            cap=covered_cap,
        )
    _travellers, cap = _due(session, township_id)
    claimed = _claimed(session, township_id, ("submitted", "approved"))
    if claimed + body.amount > cap + 0.005:
        raise conflict(
            f"receipts would total {claimed + body.amount:.2f}, above the township's cap of {cap:.2f}",
            f"票据合计 {claimed + body.amount:.2f} 将超过本乡镇报销上限 {cap:.2f}",
            cap=cap,
            claimed=claimed,
        )
    if (
        session.exec(
            select(m.Receipt.id).where(m.Receipt.township_id == township_id, m.Receipt.number == body.number)
        ).first()
        is not None
    ):
        raise conflict(f"receipt {body.number} was already submitted", f"票据 {body.number} 已经提交过")
    receipt = m.Receipt(
        township_id=township_id,
        number=body.number,
        amount=round(body.amount, 2),
        traveller_ids=sorted(set(body.traveller_ids)),
    )
    session.add(receipt)
    session.flush()
    for t in covered.values():
        share = receipt.amount * (t.est_cost or 0.0) / covered_cap if covered_cap else 0.0
        session.add(m.ReceiptClaim(traveller_id=t.id, receipt_id=receipt.id, share=round(share, 2)))
    return receipt


def _decide(session: Session, receipt_id: int, status: str, note: str) -> dict[str, Any]:
    receipt = session.exec(select(m.Receipt).where(m.Receipt.id == receipt_id).with_for_update()).first()
    if receipt is None:
        raise not_found(f"receipt {receipt_id}", f"票据 {receipt_id}")
    if receipt.status == status:
        return _receipt_public(session, receipt)
    if receipt.status != "submitted":
        raise conflict(
            f"the receipt is already {receipt.status}", f"该票据已{'批准' if receipt.status == 'approved' else '驳回'}"
        )
    if status == "approved":
        session.exec(select(m.Township).where(m.Township.id == receipt.township_id).with_for_update()).first()
        _travellers, cap = _due(session, receipt.township_id)
        approved = _claimed(session, receipt.township_id, ("approved",))
        if approved + receipt.amount > cap + 0.005:
            raise conflict(
                f"approving would pay {approved + receipt.amount:.2f}, above the cap of {cap:.2f}",
                f"批准后合计 {approved + receipt.amount:.2f} 将超过报销上限 {cap:.2f}",
                cap=cap,
            )
    if status == "rejected":  # its travellers may be claimed again, on a corrected receipt
        session.execute(delete(m.ReceiptClaim).where(m.ReceiptClaim.receipt_id == receipt.id))  # type: ignore[arg-type]
    receipt.status = status
    receipt.note = note
    receipt.decided_at = m.utcnow()
    session.add(receipt)
    session.commit()
    return _receipt_public(session, receipt)


@router.post("/receipts/{receipt_id}/approve")
def approve(
    receipt_id: m.RowId, body: m.ReceiptDecision, session: SessionDep, _caller: DispatcherDep
) -> dict[str, Any]:
    return _decide(session, receipt_id, "approved", body.note)


@router.post("/receipts/{receipt_id}/reject")
def reject(receipt_id: m.RowId, body: m.ReceiptDecision, session: SessionDep, _caller: DispatcherDep) -> dict[str, Any]:
    return _decide(session, receipt_id, "rejected", body.note)


# A receipt's photo or PDF: the types a phone camera or a scanner makes, recognised by their first bytes (a
# name or a declared type proves nothing).
FILE_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)


def file_type(content: bytes) -> tuple[str, str] | None:
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", "webp"
    if content[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "image/heic", "heic"
    return next(((kind, ext) for magic, kind, ext in FILE_TYPES if content.startswith(magic)), None)


def _own_receipt(session: Session, caller: Caller, receipt_id: int) -> m.Receipt:
    """The receipt, for the dispatcher or the township that submitted it; 404 for anyone else."""
    receipt = session.get(m.Receipt, receipt_id)
    theirs = receipt is not None and caller.role == m.Role.township and receipt.township_id == caller.scope
    if receipt is None or not (caller.is_dispatcher or theirs):
        raise not_found(f"receipt {receipt_id}", f"票据 {receipt_id}")
    return receipt


def attach_file(session: Session, receipt: m.Receipt, filename: str, content: bytes, limit: int) -> None:
    """Keep ``content`` with ``receipt`` (replacing an earlier file while it waits for a decision).

    Raises:
        ApiError: 413 over ``limit`` bytes; 415 not a JPEG, PNG, WebP, HEIC photo or a PDF; 409 once decided.
    """
    if len(content) > limit:
        raise ApiError(
            413, f"the receipt file is over {limit // 1_000_000} MB", f"票据文件超过 {limit // 1_000_000} MB"
        )
    kind = file_type(content)
    if kind is None:
        raise ApiError(
            415,
            "the receipt must be a photo (JPEG, PNG, WebP, HEIC) or a PDF",
            "票据文件须为照片（JPEG、PNG、WebP、HEIC）或 PDF",
        )
    if receipt.status != "submitted":
        raise conflict("the receipt was already decided", "该票据已审核，不能再更换附件")
    stem = "".join(c for c in filename.rsplit(".", 1)[0] if c.isalnum() or c in "-_")[:60] or "receipt"
    stored = session.get(m.ReceiptFile, receipt.id) or m.ReceiptFile(
        receipt_id=receipt.id or 0, filename="", content_type="", size=0, data=b""
    )
    stored.filename, stored.content_type = f"{stem}.{kind[1]}", kind[0]
    stored.size, stored.data, stored.created_at = len(content), content, m.utcnow()
    session.add(stored)


@router.put("/receipts/{receipt_id}/file")
async def upload_receipt_file(
    receipt_id: m.RowId, file: UploadFile, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> dict[str, Any]:
    """The receipt's photo or PDF (at most ``max_receipt_bytes``), kept with the record."""
    receipt = _own_receipt(session, caller, receipt_id)
    content = await file.read(settings.max_receipt_bytes + 1)
    attach_file(session, receipt, file.filename or "receipt", content, settings.max_receipt_bytes)
    session.commit()
    return _receipt_public(session, receipt)


@router.get(
    "/receipts/{receipt_id}/file",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}}}},
)
def download_receipt_file(receipt_id: m.RowId, session: SessionDep, caller: CallerDep) -> Response:
    receipt = _own_receipt(session, caller, receipt_id)
    stored = session.get(m.ReceiptFile, receipt.id)
    if stored is None:
        raise not_found(f"a file of receipt {receipt_id}", f"票据 {receipt_id} 的附件")
    return Response(
        stored.data,
        media_type=stored.content_type,
        # The stored name may be Chinese: ASCII for old clients, RFC 6266's filename* for the rest.
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{receipt.id}.{stored.filename.rsplit(".", 1)[-1]}"; '
            f"filename*=UTF-8''{quote(stored.filename)}"
        },
    )


EXPORT_COLUMNS = [
    ("receipt_id", "序号 no."),
    ("township", "乡镇 township"),
    ("number", "票据号 receipt number"),
    ("amount", "金额 amount (CNY)"),
    ("travellers", "人数 travellers"),
    ("names", "旅客 names"),
    ("status", "状态 status"),
    ("submitted", "提交时间 submitted"),
    ("decided", "审核时间 decided"),
    ("note", "审核意见 note"),
    ("attachment", "附件 file"),
]
RECEIPT_STATUS_ZH = {"submitted": "待审核", "approved": "已批准", "rejected": "已驳回"}


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
def export_receipts(session: SessionDep, _caller: DispatcherDep, format: Literal["xlsx"] = "xlsx") -> Response:
    """The reimbursement export for the finance office: one row per receipt, Beijing time."""
    towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    files = dict(session.exec(select(m.ReceiptFile.receipt_id, m.ReceiptFile.filename)).all())
    rows = []
    for r in session.exec(select(m.Receipt).order_by(m.Receipt.township_id, m.Receipt.id)).all():
        names = session.exec(select(m.Traveller.name).where(in_ids(m.Traveller.id, r.traveller_ids))).all()
        rows.append(
            {"receipt_id": r.id, "township": towns.get(r.township_id, r.township_id), "number": r.number,
             "amount": r.amount, "travellers": len(r.traveller_ids), "names": "、".join(names),
             "status": RECEIPT_STATUS_ZH.get(r.status, r.status), "submitted": beijing_minute(r.created_at),
             "decided": beijing_minute(r.decided_at), "note": r.note, "attachment": files.get(r.id or 0, "")}
        )  # fmt: skip
    return Response(
        to_xlsx(rows, "reimbursements", EXPORT_COLUMNS),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="reimbursements.xlsx"'},
    )
