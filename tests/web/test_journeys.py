"""Departure day and money in headless Chromium: boarding by a scanner's input, no-shows freed, a receipt with
its photo approved on the dispatcher's desk, a factory's own list of staff."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.conftest import Server, signed_in

DAY = "2026-02-20"
TOWNSHIP = "360731100"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 500


def test_the_clerk_boards_by_scanner_and_frees_a_no_show(browser, server: Server) -> None:
    """A scanner types the code and Enter: the rider is boarded once (a second scan says so); a rider marked
    no-show on the bus's list is freed for a later plan; the slips link gives a PDF."""
    server.plan(DAY)
    riders = [t for t in server.api("GET", "/travellers", TOWNSHIP).json() if t["status"] == "planned" and t["bus_id"]]
    assert len(riders) >= 2
    first, absent = riders[0], riders[1]
    page = signed_in(browser, server, TOWNSHIP, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(f"{server.url}/app/township/boarding?date={DAY}")
    scan = page.locator("#scan-code")
    expect(scan).to_be_focused()
    scan.type(first["ticket_code"].lower())
    scan.press("Enter")
    expect(page.locator("#scan-result.ok")).to_contain_text(first["name"])
    assert server.api("GET", f"/travellers/{first['id']}").json()["status"] == "boarded"
    scan.type(first["ticket_code"])
    scan.press("Enter")
    expect(page.locator("#scan-result")).to_contain_text("此前已确认上车")
    card = page.locator(f'section.bus[data-bus-id="{absent["bus_id"]}"]')
    card.locator(f'tr[data-id="{absent["id"]}"] input.boarded').uncheck()
    card.locator(f'input.no-show[value="{absent["id"]}"]').check()
    card.locator(".confirm-boarding").click()
    expect(card.locator(".boarding-result.ok")).to_contain_text("未到 1 人")
    freed = server.api("GET", f"/travellers/{absent['id']}").json()
    assert freed["status"] == "registered" and freed["bus_id"] is None and freed["no_shows"] == 1
    slips = page.request.get(f"{server.url}/app/township/slips.pdf?date={DAY}")
    assert slips.status == 200 and slips.body().startswith(b"%PDF")
    assert not page.js_errors


def test_a_receipt_with_its_photo_is_approved_on_the_desk(browser, server: Server, tmp_path) -> None:
    change = {"charter_min_group": 20, "scattered_max": 1, "price_alternatives": True}
    assert server.api("PATCH", "/rules", "admin", json=change).status_code == 200
    server.plan("2026-02-21")
    mine = [t for t in server.api("GET", "/travellers", TOWNSHIP).json() if t["mode"] == "township_transport"]
    assert mine
    photo = tmp_path / "receipt.jpg"
    photo.write_bytes(JPEG)
    page = signed_in(browser, server, TOWNSHIP)
    page.goto(f"{server.url}/app/township/receipts")
    page.locator(f'input[name=traveller][value="{mine[0]["id"]}"]').check()
    expect(page.locator("#selected-count")).to_have_text("1")
    page.fill("input[name=number]", "FP-001")
    page.fill("input[name=amount]", "1")
    page.set_input_files("#receipt-file", str(photo))
    page.click("#receipt-submit")
    expect(page.locator("#receipt-result.ok")).to_contain_text("FP-001")
    desk = signed_in(browser, server, "dispatcher")
    desk.goto(f"{server.url}/app/dispatcher/desk")
    row = desk.locator("#waiting-receipts tr", has_text="FP-001")
    row.locator(".note").fill("票据清楚")
    row.locator('button[data-decision="approve"]').click()
    expect(desk.locator("#decide-result.ok")).to_contain_text("已批准")
    receipts = server.api("GET", "/reimbursements", TOWNSHIP).json()[0]["receipts"]
    assert receipts[0]["status"] == "approved" and receipts[0]["note"] == "票据清楚"
    assert server.api("GET", f"/reimbursements/receipts/{receipts[0]['id']}/file", TOWNSHIP).content == JPEG
    assert not page.js_errors and not desk.js_errors


def test_the_factory_uploads_its_staff_list_and_sees_the_rate_against_it(browser, server: Server, tmp_path) -> None:
    bound = [t for t in server.api("GET", "/travellers").json() if t["factory_id"] == "dg-humen"]
    staff = tmp_path / "staff.csv"
    staff.write_text(
        "id_number,name\n" + "".join(f"{t['id_number']},{t['name']}\n" for t in bound) + "360731199001010012,未登记\n",
        encoding="utf-8",
    )
    page = signed_in(browser, server, "dg-humen")
    page.click("#expected-card summary")  # folded under the gate's scan box
    page.set_input_files("#expected-file", str(staff))
    page.locator("#expected-form button").click()
    expect(page.locator("#expected-result.ok")).to_contain_text(str(len(bound) + 1))
    page.wait_for_load_state("networkidle")
    expect(page.locator("#expected-rate")).to_have_text("0.0%")
    expect(page.locator("#not-registered")).to_contain_text("未登记")
    assert not page.js_errors


def test_the_clerk_corrects_a_phone_after_publish_and_cancels_a_rider(browser, server: Server) -> None:
    """On the township's page: a new phone after publish keeps bus, seat and ticket; a cancellation frees the
    seat at once (the bus's load drops and its manifest shows the seat free)."""
    server.plan(DAY)
    riders = [t for t in server.api("GET", "/travellers", TOWNSHIP).json() if t["status"] == "planned" and t["bus_id"]]
    fixed, leaving = riders[0], riders[1]
    load = server.api("GET", f"/buses/{leaving['bus_id']}").json()["load"]
    page = signed_in(browser, server, TOWNSHIP)
    page.once("dialog", lambda dialog: dialog.accept("139 0000 2222"))
    with page.expect_navigation():  # the page reloads once the change is saved
        page.locator(f'tr[data-id="{fixed["id"]}"] button.fix-phone').click()
    after = server.api("GET", f"/travellers/{fixed['id']}").json()
    assert after["phone"] == "13900002222"
    assert (after["bus_id"], after["seat"], after["ticket_code"]) == (
        fixed["bus_id"],
        fixed["seat"],
        fixed["ticket_code"],
    )
    page.once("dialog", lambda dialog: dialog.accept("留在本地就业"))
    with page.expect_navigation():
        page.locator(f'tr[data-id="{leaving["id"]}"] button.cancel').click()
    assert server.api("GET", f"/travellers/{leaving['id']}").json()["status"] == "cancelled"
    assert server.api("GET", f"/buses/{leaving['bus_id']}").json()["load"] == load - 1
    rows = server.api("GET", f"/buses/{leaving['bus_id']}/manifest").json()["travellers"]
    assert next(r for r in rows if r["traveller_id"] == leaving["id"])["status"] == "seat_free"
    assert not page.js_errors
