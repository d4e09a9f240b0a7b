"""Registering travellers one at a time or from a township's spreadsheet, with the CLI's checks.

An import is all or nothing: every row is checked (the same checks and messages as
``fanggang plan``), then checked against the campaign's registrations, and only a clean file is
saved, in one transaction. Rows already registered (same township, traveller_id and ID number)
are skipped, so importing the same file twice adds nobody.
"""

from __future__ import annotations

import multiprocessing
import secrets
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import cache
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from api import models as m
from api.convert import factory_ids, in_ids, township_ids, traveller_values
from api.deps import Caller
from api.errors import MAX_PROBLEMS_LISTED, ApiError
from api.services import audit
from api.services.lifeline import watch_parent
from api.settings import Settings
from scheduler.model import Traveller
from scheduler.scenario import check_traveller_rows, read_traveller_rows
from scheduler.validation import InvalidScenario, ScenarioProblem, check_traveller_row, is_blank

FORM_FILE = "request"


@cache
def _checker() -> ProcessPoolExecutor:
    """The process that reads and checks uploaded spreadsheets (one: imports are rare and short)."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=watch_parent)


def _read_and_check(
    filename: str, content: bytes, townships: set[str], factories: set[str], max_rows: int
) -> int | tuple[list[Traveller], InvalidScenario, dict[str, int]]:
    """In the checking process: the file's rows checked (their problems as a digest: sending a million back
    would hold the service's GIL while it unpickles them), or their number when there are more than
    ``max_rows``."""
    rows = read_traveller_rows(filename, content)
    if len(rows) > max_rows:
        return len(rows)
    for n, row in enumerate(rows, start=2):
        if not (row.get("traveller_id") or "").strip() and not is_blank(row):
            row["traveller_id"] = f"{AUTO_REF}{n}"
    travellers, problems = check_traveller_rows(rows, townships, factories, file=filename)
    row_of = {(r.get("traveller_id") or "").strip(): n for n, r in enumerate(rows, start=2)}
    problems.sort(key=lambda p: p.row or 0)
    return travellers, InvalidScenario(problems).shorten(MAX_PROBLEMS_LISTED), row_of


def allowed_townships(session: Session, caller: Caller) -> set[str]:
    return {caller.scope} if caller.role == m.Role.township and caller.scope else township_ids(session)


def _campaign_conflicts(
    session: Session, campaign: str, travellers: list[Traveller], row_of: Mapping[str, int | None], file: str
) -> tuple[list[Traveller], int, list[ScenarioProblem]]:
    """Split checked travellers into new ones, already-registered ones (skipped) and conflicts."""
    problems: list[ScenarioProblem] = []
    existing = {
        t.id_number: t
        for t in session.exec(
            select(m.Traveller).where(
                m.Traveller.campaign == campaign, in_ids(m.Traveller.id_number, [t.id_number for t in travellers])
            )
        ).all()
    }
    refs_taken: dict[tuple[str, str], str] = {}
    by_township: dict[str, list[str]] = {}
    for t in travellers:
        by_township.setdefault(t.township_id, []).append(t.traveller_id)
    for township, refs in by_township.items():
        for ref, id_number in session.exec(
            select(m.Traveller.ref, m.Traveller.id_number).where(
                m.Traveller.campaign == campaign, m.Traveller.township_id == township, in_ids(m.Traveller.ref, refs)
            )
        ).all():
            refs_taken[(township, ref)] = id_number
    new: list[Traveller] = []
    skipped = 0
    for t in travellers:
        row = row_of.get(t.traveller_id)
        same = existing.get(t.id_number)
        if same is not None:
            if same.township_id == t.township_id and same.ref == t.traveller_id:
                skipped += 1
                continue
            # Say only that a person cannot be registered twice, never where: a township must not learn
            # another's records.
            problems.append(
                ScenarioProblem(
                    file,
                    row,
                    "id_number",
                    f"ID number {t.id_number} cannot be registered twice in campaign {campaign}",
                    f"身份证号码 {t.id_number} 在本次（{campaign}）返岗登记中不能重复登记",
                )
            )
            continue
        if refs_taken.get((t.township_id, t.traveller_id)) not in (None, t.id_number):
            problems.append(
                ScenarioProblem(
                    file,
                    row,
                    "traveller_id",
                    f"traveller_id {t.traveller_id} is already used by another registration of {t.township_id}",
                    f"人员编号 {t.traveller_id} 已被本乡镇的另一条登记使用",
                )
            )
            continue
        new.append(t)
    return new, skipped, problems


# A row the clerk left without a traveller_id gets one from the service: this placeholder while it is checked,
# then the person's earlier registration's (so importing the file again adds nobody) or a new one.
AUTO_REF = "~auto-row-"


def _assign_refs(
    session: Session, campaign: str, travellers: list[Traveller], row_of: dict[str, int]
) -> tuple[list[Traveller], dict[str, int]]:
    blank = [t for t in travellers if t.traveller_id.startswith(AUTO_REF)]
    if not blank:
        return travellers, row_of
    earlier = dict(
        session.exec(
            select(m.Traveller.id_number, m.Traveller.ref).where(
                m.Traveller.campaign == campaign, in_ids(m.Traveller.id_number, [t.id_number for t in blank])
            )
        ).all()
    )
    named = []
    for t in travellers:
        if t.traveller_id.startswith(AUTO_REF):
            ref = earlier.get(t.id_number) or new_ref()
            row_of[ref] = row_of.pop(t.traveller_id, None) or int(t.traveller_id.removeprefix(AUTO_REF))
            t = replace(t, traveller_id=ref)
        named.append(t)
    return named, row_of


def new_ref() -> str:
    """A township reference for a registration that came without one (a form, a blank cell)."""
    return "W" + secrets.token_hex(5).upper()


def import_file(session: Session, caller: Caller, settings: Settings, filename: str, content: bytes) -> dict[str, Any]:
    """Check and save a travellers spreadsheet (.csv or .xlsx) for the caller's township(s).

    Raises:
        InvalidScenario: the first problems of the rows with the count of all per column (HTTP 422); nothing
            is saved.
        ApiError: 413 for a file of more than ``settings.max_import_rows`` rows.
    """
    campaign = settings.campaign
    townships, factories = allowed_townships(session, caller), factory_ids(session)
    # End the transaction before the slow part: on SQLite an open transaction holds the writers' lock, and
    # every other request (reads too) would wait for the check. Conflicts are looked up again afterwards.
    session.commit()
    # Reading and checking a big file is pure Python: in a thread it would hold the GIL and stall every other
    # request, so it runs in a process of its own.
    checked = (
        _checker().submit(_read_and_check, filename, content, townships, factories, settings.max_import_rows).result()
    )
    if isinstance(checked, int):
        raise ApiError(
            413,
            f"{filename} has {checked} rows; at most {settings.max_import_rows} per file: split it",
            f"{filename} 共 {checked} 行，每个文件最多 {settings.max_import_rows} 行，请拆分后上传",
        )
    travellers, digest, row_of = checked
    travellers, row_of = _assign_refs(session, campaign, travellers, row_of)
    new, skipped, conflicts = _campaign_conflicts(session, campaign, travellers, row_of, filename)
    if digest.problems or conflicts:
        problems = sorted(digest.problems + conflicts, key=lambda p: p.row or 0)
        by_field = Counter(digest.by_field) + Counter(p.field or "" for p in conflicts)
        bad_rows = digest.bad_rows + len({p.row for p in conflicts})
        raise InvalidScenario(problems, dict(by_field.most_common()), bad_rows)
    if new:
        session.execute(insert(m.Traveller), [traveller_values(t, campaign) for t in new])
        imported = {"file": filename, "imported": len(new), "refs": [t.traveller_id for t in new][:1000]}
        audit.record(session, "import", "travellers", caller.scope or "county", after=imported)
    return {
        "file": filename,
        "rows": len(travellers) + len(conflicts),
        "imported": len(new),
        "already_registered": skipped,
    }


def check_form(session: Session, caller: Caller, data: dict[str, Any], ref: str) -> Traveller:
    """Check one registration (POST or the result of a PATCH) with the CLI's row checks.

    Raises:
        InvalidScenario: the problems (HTTP 422).
    """
    row = {k: _text(v) for k, v in data.items()}
    row["traveller_id"] = ref
    traveller, problems = check_traveller_row(
        row, allowed_townships(session, caller), factory_ids(session), file=FORM_FILE
    )
    if problems or traveller is None:
        raise InvalidScenario(problems)
    return traveller


def register_one(session: Session, caller: Caller, campaign: str, body: m.TravellerCreate) -> m.Traveller:
    data = body.model_dump()
    if caller.role == m.Role.township:
        if data.get("township_id") in (None, ""):
            data["township_id"] = caller.scope
    elif not data.get("township_id"):
        raise ApiError(422, "township_id is required", "乡镇编号（township_id）不能为空")
    ref = (data.pop("traveller_id", None) or "").strip() or new_ref()
    traveller = check_form(session, caller, data, ref)
    new, _skipped, problems = _campaign_conflicts(session, campaign, [traveller], {}, FORM_FILE)
    if problems:
        raise ApiError(409, problems[0].message, problems[0].message_zh)
    if not new:
        raise ApiError(409, "this traveller is already registered", "该旅客已经登记")
    row = m.Traveller(**traveller_values(traveller, campaign))
    session.add(row)
    session.flush()
    return row


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
