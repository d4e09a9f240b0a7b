"""Campaign plans in the service: a range of dates as one job, published date by date, re-planned every day around
what is published, and travellers whose report date passed made overdue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from tests.api.conftest import Api, wait_for_job

FROM, TO = "2026-02-18", "2026-02-26"


def campaign(api: Api, start: str = FROM, end: str = TO, time_limit: float = 4) -> dict[str, Any]:
    response = api.post("/plans", json={"from": start, "to": end, "time_limit": time_limit})
    assert response.status_code == 202, response.text
    job = wait_for_job(api, response.json()["id"])
    assert job["status"] == "done", job
    return job


def riders(plan: dict[str, Any]) -> list[str]:
    return [t for b in plan["buses"] for s in b["stops"] for t in s["board"]]


def placed(plan: dict[str, Any]) -> list[str]:
    return riders(plan) + [f["traveller_id"] for f in plan["fallback"] if f["mode"] != "unplaced"]


def test_a_campaign_plans_everybody_once_per_date_and_publishes_date_by_date(api: Api) -> None:
    """Every registered traveller is on exactly one date (inside the window) or overdue; each date's plan is shown
    with its totals; publishing some dates plans only their travellers and leaves the job open for the rest."""
    job = campaign(api)
    days = job["days"]
    assert [d["date"] for d in days] == [(dt.date(2026, 2, 18) + dt.timedelta(days=k)).isoformat() for k in range(9)]
    everyone = {str(t["id"]): t for t in api.travellers()}
    seen = [t for d in days for t in placed(d["plan"])]
    overdue = [o["traveller_id"] for o in job["campaign"]["overdue"]]
    assert sorted(seen + overdue) == sorted(everyone), "each traveller once: on a date or overdue"
    for d in days:
        for t in placed(d["plan"]):
            assert everyone[t]["earliest_date"] <= d["date"] <= everyone[t]["report_date"]
        assert d["totals"]["travellers"] == len(placed(d["plan"])) and not d["published"]
    assert job["campaign"]["totals"]["on_buses"] == sum(len(riders(d["plan"])) for d in days)
    assert {c["coach_id"] for c in job["campaign"]["coaches"]} == {
        b["coach_id"] for d in days for b in d["plan"]["buses"]
    }
    with_buses = [d for d in days if d["plan"]["buses"]]
    assert with_buses, "the small county fills at least one bus (threshold 2)"
    first = with_buses[0]
    published = api.post(f"/plans/{job['id']}/publish", json={"dates": [first["date"]]})
    assert published.status_code == 200, published.text
    assert published.json()["dates"] == [first["date"]] and published.json()["buses"] == len(first["plan"]["buses"])
    planned = {str(t["id"]) for t in api.travellers(status="planned")}
    assert planned == set(placed(first["plan"]))
    assert all(t["travel_date"] == first["date"] for t in api.travellers(status="planned"))
    again = api.get(f"/plans/{job['id']}").json()
    assert again["status"] == "done" and again["published_dates"] == [first["date"]]
    assert [d["date"] for d in again["days"] if d["published"]] == [first["date"]]
    twice = api.post(f"/plans/{job['id']}/publish", json={"dates": [first["date"]]})
    assert twice.status_code == 409 and twice.json()["detail_zh"]
    outside = api.post(f"/plans/{job['id']}/publish", json={"dates": ["2026-03-30"]})
    assert outside.status_code == 422 and "2026-03-30" in outside.json()["detail"]
    rest = api.post(f"/plans/{job['id']}/publish")
    assert rest.status_code == 200 and first["date"] not in rest.json()["dates"]
    assert api.get(f"/plans/{job['id']}").json()["status"] == "published"
    waiting = {t["status"] for t in api.travellers()} - {"planned", "overdue"}
    assert not waiting, "after the whole campaign is published nobody is left registered"


def test_replanning_keeps_published_seats_and_gives_a_cancelled_seat_to_a_late_registration(api: Api) -> None:
    """Published dates stay as they are: riders keep bus, seat and ticket; a cancelled rider's seat goes to a late
    registration of the same township and factory; nobody new leaves on a published date otherwise."""
    job = campaign(api)
    assert api.post(f"/plans/{job['id']}/publish").status_code == 200
    buses = api.get("/buses").json()
    bus = next(b for b in buses if b["load"] >= 2)
    on_bus = [t for t in api.travellers(status="planned") if t["bus_id"] == bus["id"]]
    gone, stays = on_bus[0], on_bus[1:]
    assert api.delete(f"/travellers/{gone['id']}", json={"reason": "另找工作"}).status_code == 200
    late = {
        "name": "晚登记",
        "id_number": "360731199001010012",
        "phone": "13800000777",
        "township_id": gone["township_id"],
        "factory_id": gone["factory_id"],
        "earliest_date": gone["travel_date"],
        "report_date": gone["report_date"],
    }
    created = api.post("/travellers", json=late)
    assert created.status_code == 201, created.text
    late_id = created.json()["id"]
    second = campaign(api)
    day = next(d for d in second["days"] if d["date"] == gone["travel_date"])
    assert day["kept"]
    assert str(late_id) in riders(day["plan"]) and str(gone["id"]) not in riders(day["plan"])
    published = api.post(f"/plans/{second['id']}/publish")
    assert published.status_code == 200, published.text
    seated = api.get(f"/travellers/{late_id}").json()
    assert seated["status"] == "planned" and seated["bus_id"] == bus["id"] and seated["ticket_code"]
    assert seated["seat"] not in {t["seat"] for t in stays}
    for before in stays:
        after = api.get(f"/travellers/{before['id']}").json()
        assert (after["bus_id"], after["seat"], after["ticket_code"]) == (
            before["bus_id"],
            before["seat"],
            before["ticket_code"],
        )
    assert len(api.get("/buses").json()) == len(buses) + published.json()["buses"]
    assert api.get(f"/buses/{bus['id']}").json()["load"] == bus["load"]


def test_a_passed_report_date_makes_a_traveller_overdue(api_on_day: Callable[[dt.date], Api]) -> None:
    """On 2026-02-21 the dates before it are gone: whoever had to report by the 20th is overdue with the reason,
    counted apart in /stats and listed on the township's and the dispatcher's pages; a later report date makes the
    traveller registered again."""
    api = api_on_day(dt.date(2026, 2, 21))
    job = campaign(api)
    assert job["open_from"] == "2026-02-21"
    assert all(not placed(d["plan"]) for d in job["days"] if d["date"] < "2026-02-21")
    late = {o["traveller_id"]: o for o in job["campaign"]["overdue"]}
    t009 = api.by_ref("T009")  # may leave 02-20 only
    assert late[str(t009["id"])]["cause"] == "report_passed" and late[str(t009["id"])]["reason_zh"]
    assert api.post(f"/plans/{job['id']}/publish").json()["overdue"] == len(late)
    row = api.get(f"/travellers/{t009['id']}").json()
    assert row["status"] == "overdue" and row["fallback_reason_zh"]
    stats = api.get("/stats").json()
    assert stats["overall"]["overdue"] == len(late) and stats["townships"]["360731100"]["overdue"] >= 1
    page = api.client.get("/app/township", cookies=api.cookies("360731100"))
    assert page.status_code == 200 and "逾期未安排" in page.text and "邱春梅" in page.text
    desk = api.client.get("/app/dispatcher", cookies=api.cookies("dispatcher"))
    assert desk.status_code == 200 and "逾期旅客" in desk.text and "邱春梅" in desk.text
    moved = api.patch(f"/travellers/{t009['id']}", "360731100", json={"report_date": "2026-02-25"})
    assert moved.status_code == 200 and moved.json()["status"] == "registered"
    again = campaign(api, time_limit=2)
    assert str(t009["id"]) in {t for d in again["days"] for t in placed(d["plan"])}


def test_the_dispatcher_calendar_shows_every_date_and_opens_each(api: Api) -> None:
    job = campaign(api, time_limit=2)
    cookies = api.cookies("dispatcher")
    page = api.client.get(f"/app/dispatcher?plan={job['id']}", cookies=cookies)
    assert page.status_code == 200 and 'id="calendar"' in page.text
    for d in job["days"]:
        assert f"/app/dispatcher?plan={job['id']}&date={d['date']}" in page.text
    busy = next(d for d in job["days"] if d["plan"]["buses"])
    day = api.client.get(f"/app/dispatcher?plan={job['id']}&date={busy['date']}", cookies=cookies)
    assert day.status_code == 200 and busy["plan"]["buses"][0]["coach_id"] in day.text
    fallback = api.client.get(f"/app/plans/{job['id']}/fallback.csv?date={busy['date']}", cookies=cookies)
    assert fallback.status_code == 200


def test_bad_campaign_requests_are_refused_plainly(api: Api) -> None:
    for body, says in (
        ({"from": FROM}, "from and to"),
        ({"to": TO}, "from and to"),
        ({"from": TO, "to": FROM}, "before"),
        ({"date": FROM, "from": FROM, "to": TO}, "not both"),
        ({"from": "2026-01-01", "to": "2026-06-30"}, "at most"),
        ({"from": "2026-02-30", "to": TO}, "date"),
        ({"from": FROM, "to": TO, "time_limit": 0}, "time_limit"),
        ({"form": FROM, "to": TO}, "form"),
    ):
        response = api.post("/plans", json=body)
        assert response.status_code == 422, (body, response.text)
        assert says in response.text, (body, response.text)
    assert api.post("/plans/1/publish", json={"dates": ["x"]}).status_code == 422
