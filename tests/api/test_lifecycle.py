"""A traveller's life has one owner: every event happens only in the statuses its table allows, and after publish a
township may correct contact details without touching the seat, or cancel and free it."""

from __future__ import annotations

import itertools

import pytest

from api import models as m
from api.errors import ApiError
from api.services import lifecycle
from tests.api.conftest import Api

DAY = "2026-02-21"


@pytest.mark.parametrize(("status", "event"), list(itertools.product(list(m.TravellerStatus), lifecycle.EVENTS)))
def test_every_event_happens_only_where_the_table_allows(status: m.TravellerStatus, event: str) -> None:
    """For every status and event: the transition applies (new status as the table says, one more version) or
    is a 409 naming the status in Chinese, and the row is then unchanged."""
    t = m.Traveller(id=7, status=status.value, version=3, name="x", phone="1", id_number="1", campaign="2026")
    allowed, after = lifecycle.EVENTS[event]
    if status in allowed:
        lifecycle.transition(t, event)
        assert t.status == (after or status).value and t.version == 4
    else:
        with pytest.raises(ApiError) as refused:
            lifecycle.transition(t, event)
        assert refused.value.status == 409 and lifecycle.STATUS_ZH[status] in refused.value.message_zh
        assert t.status == status.value and t.version == 3


def test_after_publish_a_phone_is_corrected_without_losing_the_seat(api: Api) -> None:
    """PATCH with a new phone after publish keeps bus, seat and ticket, raises the revision, and the manifest
    marks the correction; a change of factory after publish is a 409 that says why in Chinese."""
    api.plan(DAY)
    rider = next(t for t in api.travellers("360731100") if t["status"] == "planned" and t["bus_id"])
    corrected = api.patch(f"/travellers/{rider['id']}", "360731100", json={"phone": "13700000123"})
    assert corrected.status_code == 200, corrected.text
    after = corrected.json()
    assert (after["bus_id"], after["seat"], after["ticket_code"]) == (
        rider["bus_id"],
        rider["seat"],
        rider["ticket_code"],
    )
    assert after["phone"] == "13700000123" and after["version"] == rider["version"] + 1
    manifest = api.get(f"/buses/{rider['bus_id']}/manifest").json()
    row = next(r for r in manifest["travellers"] if r["traveller_id"] == rider["id"])
    assert row["changed"] == ["phone"] and row["revision"] == after["version"]
    assert all(r["changed"] == [] for r in manifest["travellers"] if r["traveller_id"] != rider["id"])
    csv = api.get(f"/buses/{rider['bus_id']}/manifest", params={"format": "csv"}).content.decode("utf-8-sig")
    assert "手机号" in csv
    moved = api.patch(f"/travellers/{rider['id']}", "360731100", json={"factory_id": "ks-yushan"})
    assert moved.status_code == 409 and "已安排" in moved.json()["detail_zh"]
    assert api.get(f"/travellers/{rider['id']}").json()["factory_id"] == rider["factory_id"]


def test_a_cancelled_seat_is_free_at_once_and_shown_free(api: Api) -> None:
    """Cancelling a rider drops the bus's load by one and the manifest shows the seat free, without the name."""
    api.plan(DAY)
    rider = next(t for t in api.travellers("360731100") if t["status"] == "planned" and t["bus_id"])
    load = api.get(f"/buses/{rider['bus_id']}").json()["load"]
    assert api.delete(f"/travellers/{rider['id']}", "360731100", json={"reason": "不去了"}).status_code == 200
    assert api.get(f"/buses/{rider['bus_id']}").json()["load"] == load - 1
    seat = next(
        r for r in api.get(f"/buses/{rider['bus_id']}/manifest").json()["travellers"] if r["seat"] == rider["seat"]
    )
    assert (
        seat["status"] == "seat_free"
        and seat["name"] == "（空座）"
        and not seat["id_number"]
        and not seat["ticket_code"]
    )
