"""/factories/{id}/expected: a factory's list of staff it expects back, matched with registrations by ID number."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, UploadFile
from sqlalchemy import delete, insert
from sqlmodel import select

from api import models as m
from api.deps import CallerDep, SessionDep, SettingsDep
from api.errors import ApiError, not_found
from api.privacy import shown_id_number
from scheduler.scenario import read_traveller_rows
from scheduler.validation import InvalidScenario, ScenarioProblem, check_id_number

router = APIRouter(tags=["expected staff"])


def _own_factory(caller: Any, factory_id: str, session: Any) -> None:
    if caller.role == m.Role.township or (caller.role == m.Role.factory and caller.scope != factory_id):
        raise not_found(f"factory {factory_id}", f"企业 {factory_id}")
    if session.get(m.Factory, factory_id) is None:
        raise not_found(f"factory {factory_id}", f"企业 {factory_id}")


@router.put("/factories/{factory_id}/expected")
async def upload_expected(
    factory_id: str, file: UploadFile, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> dict[str, Any]:
    """Replace the list (.csv or .xlsx with columns id_number and name); all rows or none."""
    _own_factory(caller, factory_id, session)
    content = await file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise ApiError(413, "the file is too large", "上传文件过大")
    name = file.filename or "expected.csv"
    rows = read_traveller_rows(name, content)
    problems: list[ScenarioProblem] = []
    staff: dict[str, str] = {}
    for n, row in enumerate(rows, start=2):
        text = (row.get("id_number") or "").strip()
        if not text and not (row.get("name") or "").strip():
            continue
        number, problem = check_id_number(text)
        if problem is not None or number is None:
            message, message_zh = problem or ("id_number is empty", "身份证号码不能为空")
            problems.append(ScenarioProblem(name, n, "id_number", message, message_zh))
            continue
        staff[number] = (row.get("name") or "").strip()
    if rows and "id_number" not in rows[0]:
        problems = [ScenarioProblem(name, None, "id_number", "column id_number is missing", "缺少列 id_number")]
    if problems:
        raise InvalidScenario(problems)
    session.execute(delete(m.ExpectedStaff).where(m.ExpectedStaff.factory_id == factory_id))
    if staff:
        session.execute(
            insert(m.ExpectedStaff), [{"factory_id": factory_id, "id_number": k, "name": v} for k, v in staff.items()]
        )
    session.commit()
    return {"factory_id": factory_id, "expected": len(staff)}


@router.get("/factories/{factory_id}/expected")
def match_expected(factory_id: str, session: SessionDep, caller: CallerDep, settings: SettingsDep) -> dict[str, Any]:
    """Who on the list registered for this factory, who has not (yet), and who registered for it unlisted."""
    _own_factory(caller, factory_id, session)
    expected = {
        e.id_number: e.name
        for e in session.exec(select(m.ExpectedStaff).where(m.ExpectedStaff.factory_id == factory_id))
    }
    registered = {
        t.id_number: t
        for t in session.exec(
            select(m.Traveller).where(
                m.Traveller.factory_id == factory_id,
                m.Traveller.campaign == settings.campaign,
                m.Traveller.status != m.TravellerStatus.cancelled,
            )
        )
    }

    def person(number: str, name: str, t: m.Traveller | None = None) -> dict[str, Any]:
        return {
            "id_number": shown_id_number(caller, number, t.township_id if t else None),
            "name": name,
            "traveller_id": t.id if t else None,
            "status": t.status if t else None,
        }

    arrived = sum(1 for k in expected if k in registered and registered[k].status == m.TravellerStatus.arrived)
    return {
        "factory_id": factory_id,
        # 到岗率 against the factory's own list: of the staff it expects back, how many have arrived.
        "expected_count": len(expected),
        "arrived_of_expected": arrived,
        "rate_of_expected": round(arrived / len(expected), 4) if expected else 0.0,
        "registered": [person(k, v, registered[k]) for k, v in expected.items() if k in registered],
        "not_registered": [person(k, v) for k, v in expected.items() if k not in registered],
        "not_on_list": [person(k, t.name, t) for k, t in registered.items() if k not in expected],
    }
