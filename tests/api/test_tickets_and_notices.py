"""Tickets people can scan (QR codes on manifests and slips, boarding by code, codes for fallbacks too) and the
notices queued for travellers at publish and at every change, exported for the county's SMS platform."""

from __future__ import annotations

import csv
import io
import math

import cv2
import numpy as np
import pypdfium2
from pypdf import PdfReader

from api.services.notices import SMS_LIMIT
from tests.api.conftest import Api

DAY = "2026-02-21"
TOWNSHIP = "360731100"


def _qr_codes(pdf: bytes) -> list[str]:
    """Every QR code on every page, rendered at 150 dpi and decoded as a scanner would (OpenCV's ArUco-based
    detector: its plain one misses codes that stand in a grid)."""
    found: list[str] = []
    detector = cv2.QRCodeDetectorAruco()
    for page in pypdfium2.PdfDocument(pdf):
        image = np.array(page.render(scale=150 / 72).to_pil().convert("L"))
        ok, texts, _points, _ = detector.detectAndDecodeMulti(image)
        if ok:
            found.extend(t for t in texts if t)
    return found


def _plan(api: Api) -> None:
    """Plan and publish DAY with a threshold that leaves the smaller flows to fallbacks."""
    rules = api.patch("/rules", "admin", json={"charter_min_group": 5})
    assert rules.status_code == 200, rules.text
    api.plan(DAY)


def _notices(api: Api, who: str = "dispatcher", **params: str) -> list[dict]:
    response = api.get("/notices", who, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_publish_gives_every_placed_traveller_a_code_and_one_notice_that_fits_an_sms(api: Api) -> None:
    """After publish every traveller on a bus or a placed fallback has a unique ticket code and exactly one
    queued notice; it fits one SMS and names, for a bus rider, the time, bus, seat and code."""
    _plan(api)
    placed = [t for t in api.travellers() if t["status"] == "planned"]
    assert placed and any(t["mode"] != "bus" for t in placed), "the small county plans fallbacks too"
    codes = [t["ticket_code"] for t in placed]
    assert all(codes) and len(set(codes)) == len(codes)
    queued = _notices(api)
    assert sorted(n["traveller_id"] for n in queued) == sorted(t["id"] for t in placed)
    by_traveller = {n["traveller_id"]: n for n in queued}
    for t in placed:
        text = by_traveller[t["id"]]["text"]
        assert len(text) <= SMS_LIMIT, text
        assert t["name"] in text and t["ticket_code"] in text
        if t["mode"] == "bus":
            assert t["bus_id"] in text and f"{t['seat']}座" in text and t["board_time"][-5:] in text


def test_a_change_queues_a_new_notice_that_supersedes_the_unsent_one(api: Api) -> None:
    """Cancelling a rider queues one cancellation notice; the unsent seat notice is superseded, not sent."""
    _plan(api)
    rider = next(t for t in api.travellers(TOWNSHIP) if t["status"] == "planned" and t["mode"] == "bus")
    assert api.delete(f"/travellers/{rider['id']}", TOWNSHIP, json={"reason": "不去了"}).status_code == 200
    queued = [n for n in _notices(api) if n["traveller_id"] == rider["id"]]
    assert len(queued) == 1 and "取消" in queued[0]["text"]
    superseded = [n for n in _notices(api, status="superseded") if n["traveller_id"] == rider["id"]]
    assert len(superseded) == 1 and rider["ticket_code"] in superseded[0]["text"]


def test_the_export_and_the_outbox_carry_the_same_phone_and_text_and_send_once(api: Api) -> None:
    """GET /notices?format=csv has the columns SMS platforms import (phone, text); sending writes that file into
    the outbox, marks the notices sent, and a second send sends nothing."""
    _plan(api)
    queued = _notices(api)
    exported = api.get("/notices", params={"format": "csv"})
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["phone", "text"] and sorted(map(tuple, rows[1:])) == sorted(
        (n["phone"], n["text"]) for n in queued
    )
    sent = api.post("/notices/send")
    assert sent.status_code == 200 and sent.json()["sent"] == len(queued)
    outbox = api.db.folder / "outbox" / f"{sent.json()['batch']}.csv"
    assert sorted(csv.reader(io.StringIO(outbox.read_text("utf-8-sig"))))[:-1] == sorted(rows[1:])
    assert _notices(api) == [] and len(_notices(api, status="sent")) == len(queued)
    assert api.post("/notices/send").json() == {"batch": None, "sent": 0}


def test_notices_are_seen_by_their_township_and_the_dispatcher_only(api: Api) -> None:
    _plan(api)
    own = _notices(api, TOWNSHIP)
    assert own and {n["township_id"] for n in own} == {TOWNSHIP}
    assert api.get("/notices", TOWNSHIP, params={"township_id": "360731101"}).status_code == 422
    assert api.get("/notices", "dg-changan").status_code == 403
    assert api.post("/notices/send", TOWNSHIP).status_code == 403


def test_a_townships_slips_carry_every_code_as_a_qr_code_eight_to_a_page(api: Api) -> None:
    """GET /slips?date=D: one slip per traveller of the township with a code, eight to an A4 page; each code is
    printed and decodes from its QR code; ID numbers are masked; the escort's phone is printed once set."""
    _plan(api)
    mine = [t for t in api.travellers(TOWNSHIP) if t["status"] == "planned" and t["travel_date"] == DAY]
    bus_id = next(t["bus_id"] for t in mine if t["bus_id"])
    escort = api.put(
        f"/buses/{bus_id}/escort", TOWNSHIP, json={"escort_name": "刘干事", "escort_phone": "139 0000 1111"}
    )
    assert escort.status_code == 200 and escort.json()["escort_phone"] == "13900001111"
    response = api.get("/slips", TOWNSHIP, params={"date": DAY})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == math.ceil(len(mine) / 8)
    text = "".join(page.extract_text() for page in reader.pages)
    for t in mine:
        assert t["ticket_code"] in text and t["name"] in text
        assert t["id_number"] not in text and t["id_number"][-4:] in text
    assert "13900001111" in text
    assert sorted(_qr_codes(response.content)) == sorted(t["ticket_code"] for t in mine)
    assert api.get("/slips", "dg-changan", params={"date": DAY}).status_code == 403
    assert api.get("/slips", TOWNSHIP, params={"date": "2026-03-30"}).status_code == 404
    bad = api.put(f"/buses/{bus_id}/escort", TOWNSHIP, json={"escort_phone": "12345"})
    assert bad.status_code == 422 and "手机号" in bad.json()["detail_zh"]


def test_the_pdf_manifest_prints_each_seats_code_as_a_qr_code(api: Api) -> None:
    _plan(api)
    bus = api.get("/buses", params={"date": DAY}).json()[0]
    riders = [r for r in api.get(f"/buses/{bus['id']}/manifest").json()["travellers"] if r["ticket_code"]]
    pdf = api.client.get(f"/app/buses/{bus['id']}/manifest.pdf", cookies=api.cookies("dispatcher"))
    assert pdf.status_code == 200
    assert sorted(_qr_codes(pdf.content)) == sorted(r["ticket_code"] for r in riders)


def test_boarding_by_code_boards_once_for_a_bus_rider_and_a_fallback(api: Api) -> None:
    """POST /boarding with a scanned code boards the traveller (a bus rider, or a free ticket used); scanning
    again changes nothing; another township's code is not found; an arrived traveller stays arrived."""
    _plan(api)
    planned = [t for t in api.travellers(TOWNSHIP) if t["status"] == "planned"]
    for t in [next(t for t in planned if t["mode"] == "bus"), *[t for t in planned if t["mode"] != "bus"][:1]]:
        first = api.post("/boarding", TOWNSHIP, json={"ticket_code": f" {t['ticket_code'].lower()} "})
        assert first.status_code == 200 and first.json()["changed"] is True, first.text
        again = api.post("/boarding", TOWNSHIP, json={"ticket_code": t["ticket_code"]})
        assert again.status_code == 200 and again.json()["changed"] is False
        assert api.get(f"/travellers/{t['id']}").json()["status"] == "boarded"
    other = next(t for t in api.travellers("360731101") if t["status"] == "planned")
    assert api.post("/boarding", TOWNSHIP, json={"ticket_code": other["ticket_code"]}).status_code == 404
    assert api.post("/boarding", TOWNSHIP, json={"ticket_code": "NOSUCH22"}).status_code == 404


def test_the_escorts_link_opens_one_bus_and_ticks_its_riders_only(api: Api) -> None:
    """POST /buses/{id}/escort-link gives a link that signs a browser in for that bus only: its page lists the
    riders with their phones and masked ID numbers, times as people write them and a map link; the escort
    ticks who boarded; another bus, the travellers list and the township's page stay closed."""
    api.plan("2026-02-20")
    api.plan(DAY)
    buses = api.get("/buses").json()
    assert len(buses) >= 2, "the small county runs buses on both dates"
    bus, other = buses[0], buses[1]
    made = api.post(f"/buses/{bus['id']}/escort-link", TOWNSHIP if _rides(api, bus, TOWNSHIP) else "dispatcher")
    assert made.status_code == 201, made.text
    opened = api.client.get(made.json()["path"], follow_redirects=False)
    assert opened.status_code == 200 and f"/app/buses/{bus['id']}/driver" in opened.text
    cookie = {"fanggang_session": opened.cookies["fanggang_session"]}
    api.client.cookies.clear()
    page = api.client.get(f"/app/buses/{bus['id']}/driver", cookies=cookie)
    assert page.status_code == 200
    riders = api.get(f"/buses/{bus['id']}/manifest").json()["travellers"]
    for r in riders:
        assert r["phone"] in page.text and r["id_number"] not in page.text
    assert "geo:" in page.text and "月" in page.text and "T0" not in page.text
    assert api.client.get(f"/app/buses/{other['id']}/driver", cookies=cookie).status_code == 404
    for closed in ("/app/township", "/app/overview", "/app/reports/daily.xlsx"):
        assert api.client.get(closed, cookies=cookie, follow_redirects=False).status_code == 303, closed
    assert api.client.get("/travellers", cookies=cookie).status_code == 401  # the API needs a token
    first = riders[0]["traveller_id"]
    ticked = api.client.post(f"/app/api/escort/buses/{bus['id']}/boarding", json={"boarded": [first]}, cookies=cookie)
    assert ticked.status_code == 200 and ticked.json()["boarded"] == 1
    assert api.get(f"/travellers/{first}").json()["status"] == "boarded"
    other_rider = api.get(f"/buses/{other['id']}/manifest").json()["travellers"][0]["traveller_id"]
    refused = api.client.post(
        f"/app/api/escort/buses/{other['id']}/boarding", json={"boarded": [other_rider]}, cookies=cookie
    )
    assert refused.status_code == 404
    assert api.get(f"/travellers/{other_rider}").json()["status"] == "planned"


def _rides(api: Api, bus: dict, township: str) -> bool:
    return any(t["bus_id"] == bus["id"] for t in api.travellers(township))


def test_the_township_page_says_when_and_where_to_board(api: Api) -> None:
    _plan(api)
    rider = next(t for t in api.travellers(TOWNSHIP) if t["mode"] == "bus")
    page = api.client.get("/app/township", cookies=api.cookies(TOWNSHIP)).text
    when = f"{int(rider['board_time'][5:7])}月{int(rider['board_time'][8:10])}日 {rider['board_time'][11:16]}"
    assert f"已安排：{when} 在{rider['boards_at']}上车，车号 {rider['bus_id']}，{rider['seat']}座" in page
