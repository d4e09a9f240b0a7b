"""The four scenarios of issue 5 in headless Chromium, plus the form's checks and the driver's view."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from api.services.blank_template import COLUMNS
from tests.web.conftest import Server, signed_in

GOOD_ROW = "T101,张三,360731199001010012,13800000101,360731100,dg-changan,2026-02-20,2026-02-24,,否,"
BAD_ROW = "T102,李四,360731199001010021,13800000102,360731100,dg-changan,2026-02-20,2026-02-24,,否,"
HEADER = ",".join(c for c, _, _ in COLUMNS)


def test_each_role_lands_on_its_own_page(browser, server: Server) -> None:
    """Signing in as a township clerk, factory staff or dispatcher opens that role's page; a wrong password does
    not; a token opens a session whose cookie is not the token."""
    for who, path in (("360731100", "/app/township"), ("dg-humen", "/app/factory"), ("dispatcher", "/app/dispatcher")):
        page = signed_in(browser, server, who)
        assert page.url.endswith(path)
        page.context.close()
    page = browser.new_page()
    page.goto(f"{server.url}/app/login")
    page.fill("#username", "u-dispatcher")
    page.fill("#password", "not the password")
    page.click("#login-submit")
    assert page.locator("#login-error").is_visible()
    page.click("summary")
    page.fill("#token", server.tokens["360731100"])
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/app/township")
    cookie = next(c for c in page.context.cookies() if c["name"] == "fanggang_session")
    assert cookie["value"] != server.tokens["360731100"] and cookie["httpOnly"]
    page.context.close()


def test_clerk_sees_the_bad_row_named_before_anything_is_imported(browser, server: Server, tmp_path) -> None:
    """A file with one bad ID number is previewed: row 3 and the checksum are named and nobody is imported;
    the corrected file then imports after the clerk confirms."""
    bad = tmp_path / "travellers.csv"
    bad.write_text("\n".join([HEADER, GOOD_ROW, BAD_ROW]) + "\n", encoding="utf-8")
    page = signed_in(browser, server, "360731100")
    before = len(server.api("GET", "/travellers", "360731100").json())
    page.set_input_files("#upload-file", str(bad))
    page.click("#preview-button")
    problems = page.locator("#problems li")
    problems.first.wait_for()
    assert problems.count() == 1
    assert "第 3 行" in problems.first.inner_text() and "校验位" in problems.first.inner_text()
    assert page.locator("#confirm-import").is_hidden()
    assert len(server.api("GET", "/travellers", "360731100").json()) == before

    good = tmp_path / "fixed.csv"
    good.write_text("\n".join([HEADER, GOOD_ROW, BAD_ROW.replace("0021", "0020")]) + "\n", encoding="utf-8")
    page.set_input_files("#upload-file", str(good))
    page.click("#preview-button")
    page.locator("#preview .ok").wait_for()
    assert "2" in page.locator("#preview .ok").inner_text()
    page.click("#confirm-import")
    page.locator("#import-result").wait_for()
    assert len(server.api("GET", "/travellers", "360731100").json()) == before + 2
    page.wait_for_load_state("networkidle")
    page.locator("#travellers", has_text="张三").wait_for()
    assert not page.js_errors


def test_register_form_checks_as_you_type(browser, server: Server) -> None:
    """A wrong check digit is flagged while typing; once fixed the traveller is registered and listed."""
    page = signed_in(browser, server, "360731100", lang="en")
    form = page.locator("#register-form")
    form.locator("[name=id_number]").fill("360731199001010021")
    assert "checksum" in form.locator('.hint[data-for="id_number"]').inner_text()
    form.locator("[name=phone]").fill("12345")
    assert "mobile" in form.locator('.hint[data-for="phone"]').inner_text()
    form.locator("[name=name]").fill("王五")
    form.locator("[name=id_number]").fill("360731199001010039")
    assert form.locator('.hint[data-for="id_number"]').inner_text() == ""
    form.locator("[name=phone]").fill("138 0000 0103")
    form.locator("[name=factory_id]").select_option("dg-humen")
    form.locator("[name=earliest_date]").fill("2026-02-20")
    form.locator("[name=report_date]").fill("2026-02-23")
    page.click("#register-submit")
    page.locator("#register-result.ok").wait_for()
    people = server.api("GET", "/travellers", "360731100").json()
    assert any(p["name"] == "王五" and p["phone"] == "13800000103" for p in people)
    # The same person again: the server refuses (registered twice) and the page says so.
    form.locator("[name=name]").fill("王五")
    form.locator("[name=id_number]").fill("360731199001010039")
    form.locator("[name=phone]").fill("13800000103")
    form.locator("[name=factory_id]").select_option("dg-humen")
    form.locator("[name=earliest_date]").fill("2026-02-20")
    form.locator("[name=report_date]").fill("2026-02-23")
    page.click("#register-submit")
    page.locator("#register-result.bad").wait_for()
    assert "twice" in page.locator("#register-result").inner_text()
    assert not page.js_errors


def test_dispatcher_plans_publishes_and_prints(browser, server: Server) -> None:
    """The dispatcher sees the day's demand, starts a plan, watches it finish, sees buses and map, publishes,
    and gets a PDF of the manifests with an embedded font."""
    page = signed_in(browser, server, "dispatcher")
    page.goto(f"{server.url}/app/dispatcher?date=2026-02-20")
    assert page.locator("#demand-waiting").inner_text() == "7"
    page.fill("#time-limit", "2")
    page.click("#start-plan")
    page.wait_for_url(re.compile(r"plan=\d+"), timeout=90_000)
    assert page.locator("#buses tbody tr").count() >= 1
    assert "0 处" in page.locator("#violations").inner_text()
    assert "包车" in page.locator("#jobs tbody tr.current").inner_text()  # the job's message in Chinese
    # The page's CSP forbids eval, so wait on the attribute the map sets when drawn, not on a JS predicate.
    page.locator("#map[data-features]").wait_for(state="attached", timeout=30_000)
    assert int(page.locator("#map").get_attribute("data-corridors")) >= 1
    assert page.locator("#map path.leaflet-interactive").count() >= 1
    page.click("#publish")
    page.locator("#published-badge").wait_for(timeout=15_000)
    # Printing every manifest is a job: progress, then a download link.
    page.click("#print-all")
    href = page.locator("#print-download").get_attribute("href", timeout=60_000)
    pdf = page.context.request.get(server.url + href)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF") and b"/FontFile2" in pdf.body()
    for link in ("#buses-xlsx", "#manifests-xlsx"):
        sheet = page.context.request.get(server.url + page.locator(link).get_attribute("href"))
        assert sheet.status == 200 and sheet.body()[:2] == b"PK"
    bus = server.api("GET", "/buses").json()[0]["id"]
    page.goto(f"{server.url}/app/buses/{bus}/driver")
    assert page.locator("ol.riders li").count() == server.api("GET", f"/buses/{bus}").json()["load"]
    assert "********" in page.locator("ol.riders li").first.inner_text()
    assert not page.js_errors


def test_factory_confirms_a_bus_and_the_overview_shows_the_rate(browser, server: Server) -> None:
    """dg-humen ticks its bus with one no-show; the arrivals are saved and the overview shows the new rate."""
    server.plan("2026-02-20")
    page = signed_in(browser, server, "dg-humen", viewport={"width": 390, "height": 844}, is_mobile=True)
    card = page.locator("details.bus").first
    boxes = card.locator("input.came")
    riders = boxes.count()
    assert riders >= 2
    # The reason drop-down shows only beside someone unticked.
    assert card.locator("select.outcome:visible").count() == 0
    boxes.last.uncheck()
    assert card.locator("select.outcome:visible").count() == 1
    card.locator(".confirm-bus").click()
    card.locator(".bus-result.ok").wait_for()
    mine = server.api("GET", "/travellers", "dg-humen").json()
    assert sum(t["status"] == "arrived" for t in mine) == riders - 1
    assert sum(t["no_shows"] for t in mine) == 1
    rate = f"{round((riders - 1) / len(mine) * 100, 1)}%"
    expect(page.locator("#arrival-rate")).to_have_text(rate)  # the page reloads after confirming
    # The finished bus folds away; the search finds a person by name.
    finished = page.locator("details.bus.finished").first
    assert finished.get_attribute("open") is None
    arrived = next(t for t in mine if t["status"] == "arrived")
    page.fill("#gate-search", arrived["name"])
    assert page.locator("ul.people li:visible").count() >= 1
    assert all(arrived["name"] in text for text in page.locator("ul.people li:visible").all_inner_texts())

    page = signed_in(browser, server, "dispatcher")
    page.goto(f"{server.url}/app/overview")
    row = page.locator('#factories tr[data-id="dg-humen"]')
    expect(row.locator(".rate")).to_have_text(rate)
    assert page.locator("#chart-factories rect.bar-arrived").count() == 3
    assert not page.js_errors


def test_factory_confirms_by_ticket_code(browser, server: Server) -> None:
    """Typing a ticket code confirms that traveller's arrival; a second time says it was already done."""
    server.plan("2026-02-20")
    code = next(t["ticket_code"] for t in server.api("GET", "/travellers", "dg-humen").json() if t["ticket_code"])
    page = signed_in(browser, server, "dg-humen")
    page.fill("#ticket-code", code.lower())
    page.click("#ticket-submit")
    page.locator("#ticket-result.ok").wait_for()
    assert "已确认到岗" in page.locator("#ticket-result").inner_text()
    assert any(t["status"] == "arrived" for t in server.api("GET", "/travellers", "dg-humen").json())


def test_the_admin_creates_an_account_revokes_a_token_and_reads_the_audit_log(browser, server: Server) -> None:
    """On the admin page the county admin creates a clerk's account (who then signs in with it), revokes a
    factory's token (which stops working), and finds both changes in the audit log with the admin named."""
    page = signed_in(browser, server, "admin")
    assert page.url.endswith("/app/admin")
    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("#user-form [name=username]", "zhang.clerk")
    page.fill("#user-form [name=display_name]", "张文员")
    page.select_option("#user-form [name=role]", "township")
    page.select_option("#user-form [name=scope]", "360731101")
    page.fill("#user-form [name=password]", "first-password-1")
    page.click("#user-form button")
    page.wait_for_selector("#users td:text('zhang.clerk')")
    factory = next(t for t in server.api("GET", "/tokens", "admin").json() if t["scope"] == "dg-humen")
    assert server.api("GET", "/travellers", "dg-humen").status_code == 200
    page.click(f"button.revoke[data-token-id='{factory['id']}']")
    page.wait_for_selector(f"tr[data-token-id='{factory['id']}'] >> text=已吊销")
    assert server.api("GET", "/travellers", "dg-humen").status_code == 401
    audit = page.locator("#audit tbody").inner_text()
    assert "users" in audit and "tokens" in audit and "u-admin" in audit
    assert page.js_errors == []
    clerk = browser.new_page()
    clerk.goto(f"{server.url}/app/login")
    clerk.fill("#username", "zhang.clerk")
    clerk.fill("#password", "first-password-1")
    clerk.click("#login-submit")
    clerk.wait_for_load_state("networkidle")
    assert clerk.url.endswith("/app/township")
    page.context.close()
    clerk.context.close()


def test_a_new_county_is_loaded_from_its_files_in_the_pages_and_planned(browser, empty_server: Server) -> None:
    """On an empty service the county admin uploads another county's scenario files (no policy.toml: the home
    settings are inferred and said); a file with a bad row is refused first with the row named and nothing
    stored; the county then plans and publishes a day."""
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    page = signed_in(browser, empty_server, "admin")
    page.set_input_files(
        "#county-files",
        [
            str(data / "scenario_bad_rows" / f)
            for f in ("townships.csv", "factories.csv", "fleet.csv", "travellers.csv")
        ],
    )
    page.click("#county-submit")
    page.wait_for_selector("#county-result.bad")
    assert page.locator("#county-problems li").count() > 0
    assert empty_server.api("GET", "/townships", "admin").json() == []
    files = [
        str(data / "scenario_xinhua" / f) for f in ("townships.csv", "factories.csv", "fleet.csv", "travellers.csv")
    ]
    page.set_input_files("#county-files", files)
    page.click("#county-submit")
    page.wait_for_selector("#county-result.ok")
    assert "已导入" in page.locator("#county-result").inner_text()
    assert page.locator("#county-problems li").count() >= 1  # what was assumed for the home settings
    assert page.js_errors == []
    rules = empty_server.api("GET", "/rules", "admin").json()
    assert rules["missing_settings"] == [] and rules["province"] == "湖南省"
    job = empty_server.plan("2026-02-23")
    assert job["plan"]["totals"]["travellers"] > 0
    page.context.close()
