"""The daily report (日报): its figures agree with the travellers' own rows, for the county, each township and
each factory, as JSON and as the xlsx read back."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl

from tests.api.conftest import TOWNSHIPS, Api

DAY = "2026-02-21"


def test_the_daily_report_counts_as_its_definitions_say(api: Api) -> None:
    """After a published day, a bus boarded (one no-show) and one arrival, the cumulative figures equal counts
    made from the travellers list by the stated definitions; townships add up to the county; a township sees
    its own row; the xlsx holds the same numbers."""
    api.plan(DAY)
    buses = api.get("/buses").json()
    first = buses[0]
    township = next(t["township_id"] for t in api.travellers() if t["bus_id"] == first["id"])
    riders = [t for t in api.travellers(township) if t["bus_id"] == first["id"]]
    no_show = riders[-1]["id"] if len(riders) > 1 else None
    boarded = api.post(f"/buses/{first['id']}/boarding", township, json={"no_shows": [no_show] if no_show else []})
    assert boarded.status_code == 200, boarded.text
    came = riders[0]
    assert api.post("/arrivals", came["factory_id"], json={"traveller_id": came["id"]}).status_code in (200, 201)
    # Registrations and confirmations carry the real clock; report on today's date in Beijing.
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    report = api.get("/reports/daily", params={"date": today}).json()
    people = [t for t in api.travellers() if t["status"] != "cancelled"]
    bus_ids = {b["id"] for b in api.get("/buses").json()}
    by_bus = [t for t in people if t["mode"] == "bus" and t["status"] in ("boarded", "arrived") and t["bus_id"]]
    fallback = {
        mode: [t for t in people if t["mode"] == mode and t["status"] in ("planned", "arrived") and t["travel_date"]]
        for mode in ("township_transport", "free_ticket")
    }
    total = report["county_total"]["cumulative"]
    assert total["registered"] == len(people) == report["county_total"]["day"]["registered"]
    assert total["by_bus"] == len(by_bus) and 0 < total["by_bus"] < len(riders) + 1
    assert total["by_township_transport"] == len(fallback["township_transport"])
    assert total["by_ticket"] == len(fallback["free_ticket"])
    assert total["departed"] == total["by_bus"] + total["by_township_transport"] + total["by_ticket"]
    assert total["arrived"] == 1 and total["arrival_rate"] == round(1 / total["departed"], 4)
    assert total["return_rate"] == round(total["departed"] / total["registered"], 4)
    assert total["in_province"] + total["out_of_province"] == total["departed"]
    assert total["buses"] == len(bus_ids)
    for key in ("registered", "departed", "arrived", "by_bus"):
        assert sum(row["cumulative"][key] for row in report["townships"]) == total[key]
        assert sum(row["cumulative"][key] for row in report["factories"]) == total[key]
    assert "返岗率" in report["definitions"] and "到岗率" in report["definitions"]

    own = api.get("/reports/daily", township, params={"date": today}).json()
    assert [row["id"] for row in own["townships"]] == [township]
    assert own["county_total"]["cumulative"]["registered"] == len([t for t in people if t["township_id"] == township])
    assert api.get("/reports/daily", "admin").status_code == 403

    sheet = api.get("/reports/daily", params={"date": today, "format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    assert book.sheetnames[-1].startswith("口径说明")
    county = book.worksheets[0]
    headers = [c.value for c in county[2]]
    values = dict(zip(headers, [c.value for c in county[3]], strict=True))
    assert values["累计 登记人数 registered"] == total["registered"]
    assert (
        values["累计 已出发 departed"] == total["departed"]
        and values["累计 到岗率 arrival rate"] == total["arrival_rate"]
    )
    towns = book.worksheets[1]
    assert {row[0].value for row in towns.iter_rows(min_row=3)} <= set(TOWNSHIPS)


def test_the_overview_page_shows_the_daily_report_and_downloads_it(api: Api) -> None:
    """The overview page carries the county's figures of the date and cumulative, with the date in its heading,
    and its download is the same report as the API's."""
    api.plan(DAY)
    cookies = api.cookies("dispatcher")
    page = api.client.get("/app/overview", params={"date": DAY}, cookies=cookies)
    assert page.status_code == 200 and 'id="daily-report-table"' in page.text and "返岗率" in page.text
    report = api.get("/reports/daily", params={"date": DAY}).json()
    assert f"{report['county_total']['cumulative']['registered']}</td>" in page.text
    download = api.client.get("/app/reports/daily.xlsx", params={"date": DAY}, cookies=cookies)
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    assert book.worksheets[0]["A1"].value.startswith(report["county"]) and DAY[:4] in book.worksheets[0]["A1"].value


def test_the_campaign_summary_adds_up_its_dates_and_costs_by_payer(api) -> None:
    """GET /reports/campaign: the cumulative figures equal the sum of each date's; the charter cost equals the
    published buses' prices; the xlsx has the by-date and cost sheets in Chinese; only the county office asks."""
    import io

    import openpyxl
    from sqlalchemy import text

    from api.db import make_engine

    engine = make_engine(api.db.url, api.db.schema)
    with engine.begin() as connection:  # registered before the season, as they would have been
        connection.execute(text("UPDATE travellers SET created_at = '2026-02-10 02:00:00'"))
    engine.dispose()
    api.plan("2026-02-20")
    api.plan("2026-02-21")
    for t in api.travellers():
        if t["status"] == "planned" and t["mode"] == "bus":
            assert api.post(f"/buses/{t['bus_id']}/boarding", t["township_id"], json={}).status_code == 200
    summary = api.get("/reports/campaign", params={"from": "2026-02-19", "to": "2026-02-22"}).json()
    assert [d["date"] for d in summary["days"]] == ["2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22"]
    cumulative = summary["county_total"]["cumulative"]
    assert cumulative["by_bus"] == sum(d["by_bus"] for d in summary["days"]) > 0
    for d in summary["days"]:  # each date as that date's daily report has it
        daily = api.get("/reports/daily", params={"date": d["date"]}).json()["county_total"]["day"]
        assert {k: v for k, v in d.items() if k != "date"} == daily, d["date"]
    buses = api.get("/buses").json()
    charter = next(c["cny"] for c in summary["costs"] if c["payer"].endswith("（包车）"))
    assert charter == round(sum(b["bus"]["cost"] for b in buses), 2)
    assert summary["total_cost_cny"] >= charter
    book = openpyxl.load_workbook(
        io.BytesIO(api.get("/reports/campaign", params={"format": "xlsx", "to": "2026-02-22"}).content)
    )
    assert {"逐日 By date", "费用 Costs by payer", "口径说明 Definitions"} <= set(book.sheetnames)
    costs = list(book["费用 Costs by payer"].iter_rows(values_only=True))
    assert costs[1][0] == "县财政（包车）" and costs[1][2] == charter
    assert api.get("/reports/campaign", "360731100").status_code == 403
    assert api.get("/reports/campaign", params={"from": "2026-02-23", "to": "2026-02-22"}).status_code == 422


def test_the_campaign_summary_refuses_a_range_longer_than_a_campaign(api) -> None:
    too_long = api.get("/reports/campaign", params={"from": "2000-01-01", "to": "2026-02-22"})
    assert too_long.status_code == 422 and "62" in too_long.json()["detail_zh"]
    assert len(api.get("/reports/campaign", params={"to": "2026-06-30"}).json()["days"]) <= 62


def test_a_free_ticket_is_issued_used_and_counted(api) -> None:
    """A free-ticket traveller gets a code at publish; scanned at boarding it is counted as used, and still as
    departed by ticket."""
    api.patch("/rules", "admin", json={"charter_min_group": 20, "scattered_max": 3})
    api.plan(DAY)
    tickets = [t for t in api.travellers() if t["mode"] == "free_ticket"]
    assert tickets and all(t["ticket_code"] for t in tickets)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    before = api.get("/reports/daily", params={"date": today}).json()["county_total"]["cumulative"]
    assert before["by_ticket"] == len(tickets) and before["tickets_used"] == 0
    used = tickets[0]
    assert api.post("/boarding", used["township_id"], json={"ticket_code": used["ticket_code"]}).status_code == 200
    after = api.get("/reports/daily", params={"date": today}).json()["county_total"]["cumulative"]
    assert after["by_ticket"] == len(tickets) and after["tickets_used"] == 1
