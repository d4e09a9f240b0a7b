"""Receipts with their photo or PDF (type and size checked, kept with the record), the reimbursement export, the
rules' history, and the dispatcher's desk and the township's pages that drive them."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from tests.api.conftest import Api

DAY = "2026-02-21"
TOWNSHIP = "360731100"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"0" * 200


def _township_transport(api_on_day) -> tuple[Api, list[dict]]:
    """Plan DAY with a threshold that sends small flows by township transport, then open the service the day
    after, when those journeys may be claimed."""
    api = api_on_day(dt.date(2026, 2, 17))
    api.patch("/rules", "admin", json={"charter_min_group": 20, "scattered_max": 1, "price_alternatives": True})
    api.plan(DAY)
    later = api_on_day(dt.date(2026, 2, 22))
    mine = [t for t in later.travellers(TOWNSHIP) if t["mode"] == "township_transport"]
    assert mine, "the small county sends some travellers by township transport at this threshold"
    return later, mine


def test_a_receipt_keeps_its_photo_and_refuses_other_files(api_on_day) -> None:
    """PUT /reimbursements/receipts/{id}/file keeps a JPEG or PDF and gives it back byte for byte; HTML posing
    as a photo is 415, too large a file 413; another township cannot read it; after a decision it stays."""
    api, mine = _township_transport(api_on_day)
    t = mine[0]
    made = api.post(
        "/reimbursements/receipts", TOWNSHIP, json={"number": "R-1", "amount": 1.0, "traveller_ids": [t["id"]]}
    )
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    fake = api.put(
        f"/reimbursements/receipts/{rid}/file", TOWNSHIP, files={"file": ("r.jpg", b"<html>x</html>", "image/jpeg")}
    )
    assert fake.status_code == 415 and "照片" in fake.json()["detail_zh"]
    big = api.put(f"/reimbursements/receipts/{rid}/file", TOWNSHIP, files={"file": ("r.jpg", JPEG + b"0" * 11_000_000)})
    assert big.status_code == 413
    kept = api.put(f"/reimbursements/receipts/{rid}/file", TOWNSHIP, files={"file": ("票据 1.jpeg", JPEG)})
    assert kept.status_code == 200 and kept.json()["attachment"].endswith(".jpg")
    back = api.get(f"/reimbursements/receipts/{rid}/file", TOWNSHIP)
    assert back.status_code == 200 and back.content == JPEG and back.headers["content-type"] == "image/jpeg"
    assert api.get(f"/reimbursements/receipts/{rid}/file", "360731101").status_code == 404
    assert api.get(f"/reimbursements/receipts/{rid}/file", "dg-changan").status_code == 404
    assert api.post(f"/reimbursements/receipts/{rid}/approve", json={}).status_code == 200
    again = api.put(f"/reimbursements/receipts/{rid}/file", TOWNSHIP, files={"file": ("r.pdf", PDF)})
    assert again.status_code == 409
    assert api.get(f"/reimbursements/receipts/{rid}/file").content == JPEG


def test_the_township_submits_a_receipt_with_its_file_in_one_step_and_the_dispatcher_approves(api_on_day) -> None:
    """The receipts page's form saves the receipt and its PDF together; a bad file saves neither; the desk lists
    it with its file, approving it moves it to the export, in Chinese."""
    api, mine = _township_transport(api_on_day)
    clerk = api.cookies(TOWNSHIP)
    page = api.client.get("/app/township/receipts", cookies=clerk)
    assert page.status_code == 200 and mine[0]["name"] in page.text
    form = {"number": "R-7", "amount": "2.5", "traveller_ids": str(mine[0]["id"])}
    refused = api.client.post("/app/api/receipts", data=form, files={"file": ("r.txt", b"just text")}, cookies=clerk)
    assert refused.status_code == 415
    assert api.get("/reimbursements", TOWNSHIP).json()[0]["receipts"] == []
    saved = api.client.post("/app/api/receipts", data=form, files={"file": ("r.pdf", PDF)}, cookies=clerk)
    assert saved.status_code == 201, saved.text
    desk_cookie = api.cookies("dispatcher")
    desk = api.client.get("/app/dispatcher/desk", cookies=desk_cookie)
    assert desk.status_code == 200 and "R-7" in desk.text and f"/app/receipts/{saved.json()['id']}/file" in desk.text
    decided = api.client.post(
        f"/app/api/receipts/{saved.json()['id']}/approve", json={"note": "符合"}, cookies=desk_cookie
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    sheet = openpyxl.load_workbook(io.BytesIO(api.client.get("/app/reimbursements.xlsx", cookies=desk_cookie).content))
    rows = list(sheet.active.iter_rows(values_only=True))
    assert rows[0][2].startswith("票据号") and rows[1][2] == "R-7" and rows[1][6] == "已批准" and rows[1][3] == 2.5
    assert mine[0]["name"] in rows[1][5] and rows[1][10].endswith(".pdf")


def test_the_rules_history_names_who_changed_what(api: Api) -> None:
    """A dispatcher changes the threshold on the desk; GET /rules/history shows it with before and after; a
    setting outside the desk's form is refused there."""
    before = api.get("/rules", None).json()["charter_min_group"]
    desk = api.cookies("dispatcher")
    changed = api.client.post("/app/api/rules", json={"charter_min_group": before + 3}, cookies=desk)
    assert changed.status_code == 200, changed.text
    history = api.get("/rules/history").json()
    assert history[0]["changed"]["charter_min_group"] == {"before": before, "after": before + 3}
    assert history[0]["role"] == "dispatcher" and history[0]["at"][:4] == "2026"
    assert api.client.post("/app/api/rules", json={"county": "x"}, cookies=desk).status_code == 403
    assert api.get("/rules/history", TOWNSHIP).status_code == 403
    page = api.client.get("/app/dispatcher/desk", cookies=desk)
    assert f"{before} → {before + 3}" in page.text


def test_the_desk_releases_a_bus_issues_a_township_token_and_sends_notices(api: Api) -> None:
    api.plan(DAY)
    desk = api.cookies("dispatcher")
    bus = api.get("/buses", params={"date": DAY}).json()[0]
    page = api.client.get("/app/dispatcher/desk", params={"date": DAY}, cookies=desk)
    assert bus["id"] in page.text
    released = api.client.post(f"/app/api/buses/{bus['id']}/release", json={}, cookies=desk)
    assert released.status_code == 200 and released.json()["released"] == bus["load"]
    freed = [n for n in api.get("/notices").json() if n["reason"] == "release"]
    assert len(freed) == bus["load"]
    token = api.client.post("/app/api/tokens", json={"role": "township", "scope": TOWNSHIP}, cookies=desk)
    assert token.status_code == 201
    assert (
        api.client.get("/travellers", headers={"Authorization": f"Bearer {token.json()['token']}"}).status_code == 200
    )
    admin = api.client.post("/app/api/tokens", json={"role": "admin"}, cookies=desk)
    assert admin.status_code == 403
    sent = api.client.post("/app/api/notices/send", json={}, cookies=desk)
    assert sent.status_code == 200 and sent.json()["sent"] > 0
    assert api.get("/notices").json() == []


def test_the_township_page_lists_who_has_not_been_told_until_the_county_sends(api: Api) -> None:
    api.plan(DAY)
    clerk = api.cookies(TOWNSHIP)
    waiting = api.get("/notices", TOWNSHIP).json()
    page = api.client.get("/app/township", cookies=clerk).text
    assert f'<b id="unsent-count">{len(waiting)}</b>' in page and waiting[0]["text"] in page
    api.post("/notices/send")
    assert "unsent-count" not in api.client.get("/app/township", cookies=clerk).text
    boarding = api.client.get("/app/township/boarding", params={"date": DAY}, cookies=clerk)
    assert boarding.status_code == 200
    for t in api.travellers(TOWNSHIP):
        if t["status"] == "planned" and t["travel_date"] == DAY:
            assert t["ticket_code"] in boarding.text
