"""The services behind the pages, without a browser: GeoJSON, the blank template, PDF manifests, demand,
sign-in and role redirects (FastAPI's TestClient on tests/api's fixtures)."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient
from markupsafe import escape

from api.services.blank_template import COLUMNS, HEADERS_ZH
from api.services.manifest_pdf import find_font
from tests.api.conftest import Api, api, database, empty_api  # noqa: F401  (fixtures)


def sign_in(api: Api, who: str) -> TestClient:  # noqa: F811
    client = api.client
    client.cookies.clear()
    response = client.post("/app/login", data={"token": api.tokens[who]}, follow_redirects=False)
    assert response.status_code == 303
    return client


def test_login_sets_an_httponly_cookie_and_lands_by_role(api: Api) -> None:  # noqa: F811
    """The cookie is HttpOnly and SameSite=Strict; each role is sent to its page, others to theirs."""
    response = api.client.post("/app/login", data={"token": api.tokens["dg-humen"]}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert response.headers["location"] == "/app/factory"
    assert api.client.get("/app/dispatcher", follow_redirects=False).headers["location"] == "/app/factory"
    api.client.cookies.clear()
    assert api.client.get("/app/township", follow_redirects=False).headers["location"].startswith("/app/login")
    assert api.client.get("/app/api/geojson").status_code == 401


def test_geojson_has_places_and_bus_lines(api: Api) -> None:  # noqa: F811
    """Every township and factory is a point; each bus of the plan is a line through its stops."""
    job = api.plan("2026-02-20")
    client = sign_in(api, "dispatcher")
    data = client.get("/app/api/geojson", params={"plan_id": job["id"]}).json()
    kinds = [f["properties"]["kind"] for f in data["features"]]
    assert kinds.count("township") == 3 and kinds.count("factory") == 3
    lines = [f for f in data["features"] if f["properties"]["kind"] == "bus"]
    assert len(lines) == len(job["plan"]["buses"]) >= 1
    assert all(len(f["geometry"]["coordinates"]) >= 2 for f in lines)


def test_blank_template_imports_as_nothing_and_names_every_column(api: Api) -> None:  # noqa: F811
    """The template's first sheet has travellers.csv's columns, headed in Chinese and English, with notes, drop-down
    lists of the township and factory ids, and no data rows."""
    client = sign_in(api, "360731100")
    content = client.get("/app/township/template.xlsx").content
    book = openpyxl.load_workbook(io.BytesIO(content))
    header = [c.value for c in book["travellers"][1]]
    assert header == [f"{HEADERS_ZH[c]} {c}" for c, _, _ in COLUMNS]
    lists = {str(v.sqref).split(":")[0][0]: v.formula1 for v in book["travellers"].data_validations.dataValidation}
    assert len(lists) == 2 and all("乡镇企业编号" in f for f in lists.values())
    assert all(c.comment is not None for c in book["travellers"][1])
    assert "填写说明" in book.sheetnames
    preview = client.post("/app/api/travellers/preview", files={"file": ("t.xlsx", content)}).json()
    assert preview["ok"] is False and len(preview["problems"]) == 1


def test_preview_saves_nothing(api: Api) -> None:  # noqa: F811
    """A clean file previewed is reported as importable but not imported until confirmed."""
    row = "T201,赵六,360731199001010012,13800000201,360731100,dg-humen,2026-02-20,2026-02-22,,否,"
    text = ",".join(c for c, _, _ in COLUMNS) + "\n" + row + "\n"
    client = sign_in(api, "360731100")
    before = len(api.travellers())
    preview = client.post("/app/api/travellers/preview", files={"file": ("a.csv", text.encode())}).json()
    assert preview["ok"] and preview["imported"] == 1
    assert len(api.travellers()) == before
    assert client.post("/app/api/travellers/import", files={"file": ("a.csv", text.encode())}).json()["imported"] == 1
    assert len(api.travellers()) == before + 1


def test_pdf_manifest_embeds_a_chinese_font_and_masks_ids(api: Api) -> None:  # noqa: F811
    """One page per bus, the font embedded (subset), no full ID number in the text."""
    find_font()  # fails with the package to install when the machine has no Chinese font
    job = api.plan("2026-02-20")
    client = sign_in(api, "dispatcher")
    pdf = client.get(f"/app/plans/{job['id']}/manifests.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"/FontFile2" in pdf.content
    assert pdf.content.count(b"/Type /Page\n") + pdf.content.count(b"/Type /Page ") >= len(job["plan"]["buses"])


def test_demand_and_dispatcher_page(api: Api) -> None:  # noqa: F811
    """The dispatcher's page lists the day's waiting travellers per township and city."""
    client = sign_in(api, "dispatcher")
    page = client.get("/app/dispatcher", params={"date": "2026-02-20"}).text
    assert 'id="demand-waiting">7<' in page and "东莞市" in page


def test_english_switch(api: Api) -> None:  # noqa: F811
    """/app/lang/en switches the pages to English; Chinese is the default."""
    client = sign_in(api, "dispatcher")
    assert "包车调度" in client.get("/app/dispatcher").text
    client.get("/app/lang/en", params={"next": "/app/dispatcher"})
    assert "Bus dispatch" in client.get("/app/dispatcher").text


def _fallback_of(api: Api, job: dict, ref: str) -> dict:  # noqa: F811
    service_id = str(api.by_ref(ref)["id"])
    return next(f for f in job["plan"]["fallback"] if f["traveller_id"] == service_id)


def test_pages_show_the_reason_in_the_page_language(api: Api) -> None:  # noqa: F811
    """The dispatcher's and the township's pages show a fallback's Chinese reason, the English one once switched;
    the dispatcher's page shows the checker's count and the job's Chinese message."""
    job = api.plan("2026-02-20")
    line = _fallback_of(api, job, "T010")
    client = sign_in(api, "dispatcher")
    page = client.get("/app/dispatcher", params={"plan": job["id"]}).text
    assert str(escape(line["reason_zh"])) in page and str(escape(line["reason"])) not in page
    assert "规则检查：未发现违规（0 处）" in page
    assert job["message_zh"] in page
    client.get("/app/lang/en", params={"next": "/app/dispatcher"})
    page = client.get("/app/dispatcher", params={"plan": job["id"]}).text
    assert str(escape(line["reason"])) in page and "Rule check: no violations (0)" in page
    client = sign_in(api, "360731100")
    client.get("/app/lang/zh", params={"next": "/app/township"})
    assert str(escape(line["reason_zh"])) in client.get("/app/township").text
    client.get("/app/lang/en", params={"next": "/app/township"})
    assert str(escape(line["reason"])) in client.get("/app/township").text


def test_fallback_exports_from_the_dispatcher_page(api: Api) -> None:  # noqa: F811
    """The page's CSV and PDF of the fallback list carry the Chinese reasons (the PDF with an embedded font)."""
    find_font()
    job = api.plan("2026-02-20", publish=False)
    line = _fallback_of(api, job, "T010")
    client = sign_in(api, "dispatcher")
    page = client.get("/app/dispatcher", params={"plan": job["id"]}).text
    assert f'href="/app/plans/{job["id"]}/fallback.csv?date=2026-02-20"' in page
    text = client.get(f"/app/plans/{job['id']}/fallback.csv?date=2026-02-20").content.decode("utf-8-sig")
    assert line["reason_zh"] in text and "T010" in text
    pdf = client.get(f"/app/plans/{job['id']}/fallback.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and b"/FontFile2" in pdf.content
    assert client.get("/app/plans/999999/fallback.csv").status_code == 404
    assert client.get(f"/app/plans/{job['id']}/fallback.csv?date=2026-03-30").status_code == 404  # not its date


def test_dispatcher_page_refuses_to_publish_a_plan_that_breaks_rules(api: Api) -> None:  # noqa: F811
    """A plan whose checker count is not 0 is shown with the count, and its publish button is disabled."""
    from tests.api.test_reasons_and_settings import _set_violations

    job = api.plan("2026-02-20", publish=False)
    _set_violations(api, job["id"], 3)
    client = sign_in(api, "dispatcher")
    page = client.get("/app/dispatcher", params={"plan": job["id"]}).text
    assert "发现 3 处违规" in page
    assert re.search(r'<button id="publish"[^>]* disabled', page)


def test_dispatcher_page_says_which_settings_are_missing(empty_api: Api) -> None:  # noqa: F811
    """On an empty database the dispatcher's page names the missing settings and cannot start a plan."""
    client = sign_in(empty_api, "dispatcher")
    page = client.get("/app/dispatcher").text
    assert 'id="missing-settings"' in page
    for name in ("county", "province", "depot_lat", "depot_lon"):
        assert f"<code>{name}</code>" in page
    assert "县名" in page and re.search(r'id="start-plan"[^>]* disabled', page)
    response = client.post("/app/api/plans", json={"date": "2026-02-20", "time_limit": 1})
    assert response.status_code == 409 and response.json()["missing"]
    assert "返岗概况" in client.get("/app/overview").text


def test_a_township_spreadsheet_with_chinese_headers_and_no_ids_imports_once(api: Api) -> None:  # noqa: F811
    """Headers as townships write them (姓名, 身份证号码, 手机号, ...) are read as the columns; rows without a
    traveller_id get one from the service; importing the same file again adds nobody."""
    header = "姓名,身份证号码,手机号,乡镇编号,企业编号,最早出发日期,报到日期"
    rows = ["赵六,360731199001010012,13800000201,360731100,dg-humen,2026/2/20,2026-02-22"]
    content = ("\n".join([header, *rows]) + "\n").encode()
    client = sign_in(api, "360731100")
    first = client.post("/app/api/travellers/import", files={"file": ("乡镇登记表.csv", content)})
    assert first.status_code == 200, first.text
    assert first.json()["imported"] == 1
    made = next(t for t in api.travellers() if t["id_number"] == "360731199001010012")
    assert made["ref"].startswith("W") and made["earliest_date"] == "2026-02-20"
    again = client.post("/app/api/travellers/import", files={"file": ("乡镇登记表.csv", content)}).json()
    assert again["imported"] == 0 and again["already_registered"] == 1
