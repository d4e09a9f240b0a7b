"""The region's overview page (/app/region) and its map's data: the region role's landing page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api import models as m
from api.deps import SettingsDep
from api.services.region import Region, place_label, pooled_coaches, pooled_geojson, region_overview
from api.web.auth import RegionPage
from api.web.render import render

router = APIRouter(prefix="/app", include_in_schema=False)


def _region(request: Request) -> Region | None:
    return getattr(request.app.state, "region", None)


@router.get("/region", response_class=HTMLResponse)
def region_page(request: Request, caller: RegionPage, settings: SettingsDep, date: m.Day | None = None) -> Response:
    """A table of the counties with the totals, a chart of the counties and one per county (its townships), and
    the pooled coaches in a table and on the map."""
    region = _region(request)
    overview = (
        region_overview(region, caller, settings.campaign, date or settings.today_here(), m.MAX_CAMPAIGN_DAYS)
        if region is not None
        else None
    )
    names = {c.county: c.name for c in overview.counties} if overview else {}
    return render(
        request,
        "region.html",
        caller,
        overview=overview,
        names=names,
        place_label=place_label,
        counties=[_chart_row(c) for c in overview.counties if c.stats is not None] if overview else [],
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
    )


def _chart_row(county: m.RegionCounty) -> dict[str, Any]:
    """A county as a row of the chart macro (name, registered, planned, rate)."""
    assert county.stats is not None
    return {"id": county.county, "name": county.name, **county.stats.model_dump()}


@router.get("/api/region/geojson")
def region_geojson(request: Request, _caller: RegionPage) -> dict[str, Any]:
    """The pooled coaches' routes and places for the map (empty on a county's deployment)."""
    region = _region(request)
    if region is None:
        return {"type": "FeatureCollection", "features": []}
    return pooled_geojson(*pooled_coaches(region))
