"""Registration, editing, cancelling and importing, with the CLI's checks and all-or-nothing imports."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import openpyxl

from tests.api.conftest import Api

HEADER = "traveller_id,name,id_number,phone,township_id,factory_id,earliest_date,report_date,group_id,registered_poor\n"
GOOD = (
    "N1,张三,360731199001010012,13800000101,360731100,dg-humen,2026-02-22,2026-02-25,,no\n"
    "N2,李四,360731199202020022,13800000102,360731100,dg-humen,2026-02-22,2026-02-25,,是\n"
)


def _upload(api: Api, who: str, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return api.post("/travellers/import", who, files={"file": (name, content)})


def test_register_checks_like_the_cli(api: Api) -> None:
    """POST /travellers normalises like the CLI and answers 422 with English and Chinese per field."""
    body = {
        "name": "王五",
        "id_number": "36073120000508003x",
        "phone": "+86 139-0000-0099",
        "factory_id": "dg-humen",
        "earliest_date": "2026/2/20",
        "report_date": "2026-02-25",
    }
    response = api.post("/travellers", "360731100", json=body)
    assert response.status_code == 409  # T004 already holds this ID number (in another township)
    assert "360731101" not in response.text and "T004" not in response.text
    body["id_number"] = "360731199001010012"
    created = api.post("/travellers", "360731100", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == "13900000099" and created.json()["township_id"] == "360731100"
    bad = api.post("/travellers", "360731100", json={**body, "id_number": "123", "report_date": "2026-02-01"})
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["problems"]}
    assert {"id_number", "report_date"} <= fields
    assert all(p["message_zh"] for p in bad.json()["problems"])
    assert api.post("/travellers", "360731100", json={"name": 1}).status_code == 422


def test_patch_and_cancel(api: Api) -> None:
    """PATCH rechecks the row; DELETE cancels with a reason, keeps the record, and is idempotent."""
    t = api.by_ref("T001")
    assert api.patch(f"/travellers/{t['id']}", "360731100", json={"report_date": "2026-02-01"}).status_code == 422
    changed = api.patch(f"/travellers/{t['id']}", "360731100", json={"phone": "13811112222"})
    assert changed.status_code == 200 and changed.json()["version"] == t["version"] + 1
    assert api.delete(f"/travellers/{t['id']}", "360731100", json={}).status_code == 422
    cancelled = api.delete(f"/travellers/{t['id']}", "360731100", json={"reason": "留在本地就业"})
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "留在本地就业"
    assert api.delete(f"/travellers/{t['id']}", "360731100", json={"reason": "again"}).status_code == 200
    assert api.get(f"/travellers/{t['id']}", "360731100").json()["status"] == "cancelled"
    assert len(api.travellers(status="cancelled")) == 1


def test_import_is_all_or_nothing_with_row_errors(api: Api) -> None:
    """One bad row: 422 listing each problem with its spreadsheet row, and nobody is imported."""
    before = len(api.travellers())
    bad = GOOD + "N3,王六,360731199001010018,12345,360731100,nowhere,2026-02-22,2026-02-21,,maybe\n"
    response = _upload(api, "360731100", "mine.csv", (HEADER + bad).encode())
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {p["row"] for p in problems} == {4}
    assert {"id_number", "phone", "factory_id", "report_date", "registered_poor"} <= {p["field"] for p in problems}
    assert len(api.travellers()) == before


def test_import_twice_adds_nobody(api: Api) -> None:
    """The same file imported twice registers its people once (ID number unique in the campaign)."""
    first = _upload(api, "360731100", "mine.csv", (HEADER + GOOD).encode())
    assert first.status_code == 200, first.text
    assert first.json()["imported"] == 2
    again = _upload(api, "360731100", "mine.csv", (HEADER + GOOD).encode())
    assert again.json() == {**again.json(), "imported": 0, "already_registered": 2}
    assert len(api.travellers("360731100")) == 6


def test_import_xlsx_and_conflicts_across_townships(api: Api) -> None:
    """An .xlsx works; a row whose ID number another township registered fails without saying where."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "travellers"
    for line in (HEADER + GOOD).strip().splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    assert _upload(api, "360731100", "mine.xlsx", buffer.getvalue()).json()["imported"] == 2
    theirs = GOOD.replace("360731100", "360731101").replace("N1", "M1").replace("N2", "M2")
    response = _upload(api, "360731101", "theirs.csv", (HEADER + theirs).encode())
    assert response.status_code == 422
    assert "360731100" not in response.text
    assert _upload(api, "360731100", "x.xls", b"junk").status_code == 422
    assert _upload(api, "dg-humen", "x.csv", (HEADER + GOOD).encode()).status_code == 403


def test_concurrent_registrations_lose_and_duplicate_nothing(api: Api) -> None:
    """Many clients at once: every distinct person is saved once; the same person twice gives one 201, one 409."""
    from stdnum.cn import ric

    def body(i: int) -> dict[str, str]:
        base = f"36073119900101{i:03d}"
        number = base + ric.calc_check_digit(base + "0")
        return {
            "name": f"人{i}",
            "id_number": number,
            "phone": f"138{i:08d}",
            "factory_id": "dg-humen",
            "earliest_date": "2026-02-22",
            "report_date": "2026-02-25",
        }

    people = [body(i) for i in range(100, 130)] * 2
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda b: api.post("/travellers", "360731102", json=b).status_code, people))
    assert codes.count(201) == 30 and codes.count(409) == 30
    assert len(api.travellers("360731102")) == 3 + 30
