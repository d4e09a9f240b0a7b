"""/region: the region's bureau reads its counties' figures and plans (read-only; api.services.region).

Only the ``region`` role may call these, on a deployment whose FANGGANG_REGION_* settings name the counties
(elsewhere they answer 404). A county whose database cannot be read answers 503 naming it; on the overview it is
a row marked unavailable.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from api import models as m
from api.deps import RegionDep, SettingsDep
from api.errors import ApiError
from api.routes.stats import stats
from api.services.region import CountyUnavailable, Region, county_plan, county_plans, region_overview

router = APIRouter(prefix="/region", tags=["region"])


def get_region(request: Request) -> Region:
    region = getattr(request.app.state, "region", None)
    if region is None:
        raise ApiError(
            404,
            "this service is a county's, not a region's (FANGGANG_REGION_COUNTIES is not set)",
            "本服务是区县的服务，不是市级（区域）服务（未设置 FANGGANG_REGION_COUNTIES）",
        )
    return region


RegionStateDep = Annotated[Region, Depends(get_region)]
County = Annotated[str, Path(min_length=1, max_length=60, description="the county's key in FANGGANG_REGION_COUNTIES")]


@router.get("", response_model=m.RegionOverview)
def overview(caller: RegionDep, region: RegionStateDep, settings: SettingsDep, date: m.Day | None = None) -> Any:
    """Every county's figures as its own /stats (``stats``), daily report cumulative to ``date`` (default: today;
    ``report``: 返岗率 and 到岗率) and campaign summary (``costs``) give them, its townships, and its line of the
    region plan (``plan``: cost alone, with pooling, saving); the totals of the counties that could be read; the
    pooled coaches with their cost split and routes. A county whose database cannot be read is marked
    ``available: false`` with the reason."""
    day = date or settings.today_here()
    return region_overview(region, caller, settings.campaign, day, m.MAX_CAMPAIGN_DAYS)


@router.get("/counties/{county}/stats")
def county_stats(caller: RegionDep, region: RegionStateDep, county: County, date: m.Day | None = None) -> Any:
    """The county's GET /stats, as its dispatcher sees it (counts only)."""
    try:
        with region.reading(county) as session:
            return stats(session, caller.in_county(county), date)
    except CountyUnavailable as err:
        raise err.as_api_error() from err


@router.get("/counties/{county}/plans", response_model=list[m.RegionPlanJob])
def list_county_plans(_caller: RegionDep, region: RegionStateDep, county: County) -> Any:
    """The county's plans (one date or a campaign each), with status and published dates."""
    try:
        return county_plans(region, county)
    except CountyUnavailable as err:
        raise err.as_api_error() from err


@router.get("/counties/{county}/plans/{plan_id}", response_model=m.RegionPlan)
def get_county_plan(_caller: RegionDep, region: RegionStateDep, county: County, plan_id: m.RowId) -> Any:
    """One of the county's plans, every date with its buses (stops, times, riders counted) and fallbacks counted
    by mode and cause; no traveller is named."""
    try:
        return county_plan(region, county, plan_id)
    except CountyUnavailable as err:
        raise err.as_api_error() from err
