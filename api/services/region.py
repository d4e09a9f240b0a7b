"""A region's deployment: a prefecture's bureau reads every county's service database (read-only) and the
folder ``fanggang region`` wrote, and answers with figures only.

- ``region_config`` checks the settings at start-up (FANGGANG_REGION_NAME, _COUNTIES, _PLAN) and lists every
  problem in English and Chinese.
- ``Region`` holds one read-only engine per county database URL (made on first use) and region.json (read again
  when the file changes). ``Region.reading(county)`` is the only way to a county's database: a database that cannot
  be read raises ``CountyUnavailable`` naming the county, never a bare database error.
- ``region_overview`` is each county's figures as the county's own /stats, daily report and campaign summary give
  them (the same functions, called with the region caller scoped to the county), the totals, and the pooled coaches
  of region.json with their routes placed from the counties' databases.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, col, select

from api import models as m
from api.convert import job_result, load_rules, policy_data
from api.db import make_read_only_engine
from api.errors import ApiError
from api.privacy import region_plan_day
from api.routes.stats import stats
from api.schemas import PlanDocument
from api.services.auth import Caller
from api.services.reports import campaign_summary
from api.settings import Settings, beijing_minute
from scheduler.policy import InvalidPolicy
from scheduler.validation import forbidden_character

log = logging.getLogger(__name__)

Problem = tuple[str, str]  # English, Chinese


class InvalidRegionSettings(ValueError):
    """The region settings are wrong; ``problems`` lists each in English and Chinese."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{en}\n  {zh}" for en, zh in problems))


@dataclass(frozen=True, slots=True)
class RegionConfig:
    """``name`` (e.g. 赣州市), ``counties``: county -> its service database URL, ``plan_folder``: `fanggang region`'s
    OUT folder or None."""

    name: str
    counties: dict[str, str]
    plan_folder: Path | None = None


def region_config(settings: Settings) -> RegionConfig | None:
    """The region settings, checked; None on a county's deployment (none of them set).

    Raises:
        InvalidRegionSettings: every problem found (the county databases are not connected here: a county whose
            database is down at start-up is reported where it is read).
    """
    name, raw, folder = settings.region_name.strip(), settings.region_counties.strip(), settings.region_plan
    if not (name or raw or folder):
        return None
    problems: list[Problem] = []
    if not name:
        problems.append(
            (
                "FANGGANG_REGION_NAME is not set: name the region, e.g. 赣州市",
                "未设置 FANGGANG_REGION_NAME：请填写区域名称，例如 赣州市",
            )
        )
    counties = _counties(raw, settings.database_url, problems)
    if folder is not None:
        _check_plan_folder(folder, name, counties, problems)
    if problems:
        raise InvalidRegionSettings(problems)
    return RegionConfig(name, counties, folder)


def _counties(raw: str, own_url: str, problems: list[Problem]) -> dict[str, str]:
    example = (
        '{"于都县": "postgresql+psycopg://reader@db-yudu/fanggang", "瑞金市": "sqlite:////srv/ruijin/fanggang.db"}'
    )
    if not raw:
        problems.append(
            (
                f"FANGGANG_REGION_COUNTIES is not set: a JSON object of county -> database URL, e.g. {example}",
                f"未设置 FANGGANG_REGION_COUNTIES：应为 JSON 对象（区县 -> 数据库地址），例如 {example}",
            )
        )
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        problems.append(
            (
                f"FANGGANG_REGION_COUNTIES is not JSON ({err.msg} at character {err.pos}); expected e.g. {example}",
                f"FANGGANG_REGION_COUNTIES 不是有效的 JSON（第 {err.pos} 个字符处：{err.msg}）；应如 {example}",
            )
        )
        return {}
    if not isinstance(data, dict) or not data:
        problems.append(
            (
                f"FANGGANG_REGION_COUNTIES must be a JSON object with at least one county, e.g. {example}",
                f"FANGGANG_REGION_COUNTIES 应为至少含一个区县的 JSON 对象，例如 {example}",
            )
        )
        return {}
    counties: dict[str, str] = {}
    for county, url in data.items():
        if not county.strip() or county != county.strip() or len(county) > 60 or "/" in county:
            problems.append(
                (
                    f"FANGGANG_REGION_COUNTIES: county name {county!r} must be 1 to 60 characters without '/' or "
                    "spaces around it",
                    f"FANGGANG_REGION_COUNTIES：区县名称 {county!r} 应为 1 至 60 个字符，不含“/”，前后无空格",
                )
            )
            continue
        if forbidden_character(county):
            problems.append(
                (
                    f"FANGGANG_REGION_COUNTIES: county name {county!r} holds a control character",
                    f"FANGGANG_REGION_COUNTIES：区县名称 {county!r} 含有不可见的控制字符",
                )
            )
            continue
        problem = _url_problem(county, url, own_url)
        if problem:
            problems.append(problem)
            continue
        counties[county] = url
    return counties


def _url_problem(county: str, url: Any, own_url: str) -> Problem | None:
    expected_en = "a SQLite file (sqlite:////path/fanggang.db) or PostgreSQL (postgresql+psycopg://user@host/db)"
    expected_zh = "SQLite 文件（sqlite:////路径/fanggang.db）或 PostgreSQL（postgresql+psycopg://用户@主机/库）"
    if not isinstance(url, str) or not url.strip():
        return (
            f"FANGGANG_REGION_COUNTIES: {county}'s database must be a URL, {expected_en}",
            f"FANGGANG_REGION_COUNTIES：{county} 的数据库应为地址：{expected_zh}",
        )
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, ValueError, ImportError) as err:
        return (
            f"FANGGANG_REGION_COUNTIES: {county}'s database URL is not understood ({type(err).__name__}); expected "
            f"{expected_en}",
            f"FANGGANG_REGION_COUNTIES：无法识别 {county} 的数据库地址（{type(err).__name__}）；应为 {expected_zh}",
        )
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql") or (backend == "sqlite" and parsed.database in (None, "", ":memory:")):
        return (
            f"FANGGANG_REGION_COUNTIES: {county}'s database must be {expected_en}",
            f"FANGGANG_REGION_COUNTIES：{county} 的数据库应为 {expected_zh}",
        )
    if url == own_url:
        return (
            f"FANGGANG_REGION_COUNTIES: {county}'s database is this service's own (FANGGANG_DATABASE_URL); give the "
            "county's",
            f"FANGGANG_REGION_COUNTIES：{county} 的数据库与本服务自身的数据库（FANGGANG_DATABASE_URL）相同；"
            "请填写该区县的数据库",
        )
    return None


def _check_plan_folder(folder: Path, name: str, counties: dict[str, str], problems: list[Problem]) -> None:
    try:
        plan = read_plan_file(folder)
    except RegionPlanUnreadable as err:
        problems.append((f"FANGGANG_REGION_PLAN: {err.message}", f"FANGGANG_REGION_PLAN：{err.message_zh}"))
        return
    if name and plan.region != name:
        problems.append(
            (
                f"FANGGANG_REGION_PLAN: {folder}/region.json is the plan of {plan.region}, not of {name}",
                f"FANGGANG_REGION_PLAN：{folder}/region.json 是 {plan.region} 的计划，不是 {name} 的",
            )
        )
    unknown = sorted({c.county for c in plan.counties} - set(counties))
    if counties and unknown:
        names = ", ".join(unknown)
        problems.append(
            (
                f"FANGGANG_REGION_PLAN: region.json names counties that FANGGANG_REGION_COUNTIES does not: {names} "
                "(its keys must be the county folders of the region plan)",
                f"FANGGANG_REGION_PLAN：region.json 中的区县 {names} 不在 FANGGANG_REGION_COUNTIES 中"
                "（其名称应与区域计划的区县文件夹一致）",
            )
        )


class RegionPlanUnreadable(Exception):
    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh


def read_plan_file(folder: Path) -> m.RegionPlanFile:
    """``folder/region.json``, checked.

    Raises:
        RegionPlanUnreadable: no such file, not JSON, or not region.json's shape (naming the first fields wrong).
    """
    path = folder / "region.json"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RegionPlanUnreadable(
            f"{path} cannot be read ({type(err).__name__}): give the folder `fanggang region --out` wrote",
            f"无法读取 {path}（{type(err).__name__}）：请填写 `fanggang region --out` 输出的文件夹",
        ) from err
    try:
        return m.RegionPlanFile.model_validate_json(text)
    except ValidationError as err:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()[:5])
        raise RegionPlanUnreadable(
            f"{path} is not a region.json of `fanggang region`: {where}",
            f"{path} 不是 `fanggang region` 输出的 region.json：{where}",
        ) from err


# --------------------------------------------------------------------------------------------- reading the counties


class CountyUnavailable(Exception):
    """A county's database cannot be read now (down, missing, or not a fanggang database)."""

    def __init__(self, county: str, cause: BaseException) -> None:
        super().__init__(f"{county}: {cause}")
        self.county = county
        self.cause = type(cause).__name__

    @property
    def message(self) -> str:
        return f"the database of {self.county} cannot be read now ({self.cause}); retry later"

    @property
    def message_zh(self) -> str:
        return f"{self.county}的数据库暂时无法读取（{self.cause}），请稍后再试"

    def as_api_error(self) -> ApiError:
        return ApiError(503, self.message, self.message_zh, county=self.county)


@dataclass
class _PlanCache:
    key: tuple[int, int] | None = None
    plan: m.RegionPlanFile | None = None
    problem: Problem | None = None


@dataclass
class Region:
    """The region's counties and plan, for the life of the service."""

    config: RegionConfig
    _engines: dict[str, Engine] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _plan: _PlanCache = field(default_factory=_PlanCache, init=False)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def counties(self) -> list[str]:
        return sorted(self.config.counties)

    def check_county(self, county: str) -> str:
        """Raises: ApiError 404 for a county that is not the region's."""
        if county not in self.config.counties:
            raise ApiError(
                404,
                f"county {county} is not one of {self.name}'s counties ({', '.join(self.counties)})",
                f"{county} 不是{self.name}所辖的区县（{'、'.join(self.counties)}）",
            )
        return county

    def _engine(self, url: str) -> Engine:
        with self._lock:
            engine = self._engines.get(url)
            if engine is None:
                engine = self._engines[url] = make_read_only_engine(url)
            return engine

    @contextmanager
    def reading(self, county: str) -> Iterator[Session]:
        """A read-only session on ``county``'s database.

        Raises:
            ApiError: 404 for a county that is not the region's.
            CountyUnavailable: the database cannot be opened or read, or its settings are not valid rules.
        """
        url = self.config.counties[self.check_county(county)]
        try:
            engine = self._engine(url)
        except (SQLAlchemyError, ValueError) as err:
            raise self._unavailable(county, err) from err
        try:
            with Session(engine) as session:
                try:
                    yield session
                finally:
                    session.rollback()
        except (SQLAlchemyError, InvalidPolicy) as err:
            raise self._unavailable(county, err) from err

    @staticmethod
    def _unavailable(county: str, err: BaseException) -> CountyUnavailable:
        log.warning("county %s: its database cannot be read: %s", county, err)
        return CountyUnavailable(county, err)

    def plan(self) -> tuple[m.RegionPlanFile | None, Problem | None]:
        """region.json (read again when the file changed), or why it cannot be read; (None, None) without one."""
        folder = self.config.plan_folder
        if folder is None:
            return None, None
        try:
            stat = (folder / "region.json").stat()
            key: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_ino)
        except OSError:
            key = None
        with self._lock:
            if key is None or key != self._plan.key:
                try:
                    self._plan = _PlanCache(key, _with_routes(folder, read_plan_file(folder)), None)
                except RegionPlanUnreadable as err:
                    self._plan = _PlanCache(None, None, (err.message, err.message_zh))
            return self._plan.plan, self._plan.problem

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


def _with_routes(folder: Path, plan: m.RegionPlanFile) -> m.RegionPlanFile:
    """The pooled coaches with their stops, from the day plans of the counties they serve (each shows its own
    riders; the counts are added up). A coach whose day plans cannot be read keeps no stops."""
    counties = {c.county for c in plan.counties}
    pooled = []
    for bus in plan.pooled:
        views: list[tuple[str, Any]] = []
        for county in sorted({bus.provider, *(c.county for c in bus.counties)}):
            path = folder / "counties" / county / "days" / bus.date.isoformat() / "plan.json"
            try:
                document = PlanDocument.model_validate_json(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValidationError) as err:
                log.warning("pooled coach %s: %s cannot be read: %s", bus.bus_id, path, err)
                continue
            found = next((b for b in document.buses if b.bus_id == bus.bus_id), None)
            if found is not None:
                views.append((county, found))
        pooled.append(bus.model_copy(update={"stops": _merged_stops(views, counties)}))
    return plan.model_copy(update={"pooled": sorted(pooled, key=lambda b: (b.date, b.bus_id))})


def _merged_stops(views: list[tuple[str, Any]], counties: set[str]) -> list[m.RegionPooledStop]:
    if not views:
        return []
    county, first = views[0]
    same = [bus for _c, bus in views if len(bus.stops) == len(first.stops)]
    stops = []
    for i, stop in enumerate(first.stops):
        owner, _, local = stop.place_id.partition(":")
        place_county, place_id = (owner, local) if local and owner in counties else (county, stop.place_id)
        stops.append(
            m.RegionPooledStop(
                place_id=place_id,
                place_name=stop.place_name,
                county=place_county,
                kind=stop.kind,
                arrival=stop.arrival,
                departure=stop.departure,
                boarding=sum(len(bus.stops[i].board) for bus in same),
                alighting=sum(len(bus.stops[i].alight) for bus in same),
            )
        )
    return stops


# --------------------------------------------------------------------------------------------- the figures


Places = dict[str, tuple[float, float]]  # place id -> (lat, lon)


def county_places(session: Session) -> Places:
    """Every township, factory and assembly point of a county's database, placed."""
    places: Places = {t.id: (t.lat, t.lon) for t in session.exec(select(m.Township)).all()}
    places |= {f.id: (f.lat, f.lon) for f in session.exec(select(m.Factory)).all()}
    places |= {p.point_id: (p.lat, p.lon) for p in load_rules(session).assembly_points}
    return places


def county_figures(
    region: Region, caller: Caller, county: str, campaign: str, day: dt.date, max_days: int
) -> tuple[m.RegionCounty, Places]:
    """``county``'s figures as its own /stats, /reports/daily (cumulative to ``day``) and /reports/campaign give
    them, its townships' figures and its places; the county marked unavailable, with why, when its database cannot
    be read."""
    reader = caller.in_county(county)
    try:
        with region.reading(county) as session:
            numbers = stats(session, reader, None)
            summary = campaign_summary(session, reader, campaign, None, day, max_days)
            towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
            name = str(policy_data(session).get("county") or county)
            places = county_places(session)
    except CountyUnavailable as err:
        return m.RegionCounty(
            county=county, name=county, available=False, detail=err.message, detail_zh=err.message_zh
        ), {}
    return (
        m.RegionCounty(
            county=county,
            name=name,
            available=True,
            stats=m.CountyStats(**numbers["overall"]),
            report=m.CountyReport(**summary.report.county_total["cumulative"].as_dict()),
            townships=[m.CountyTownship(id=k, name=towns.get(k, k), **v) for k, v in numbers["townships"].items()],
            costs=[m.CountyCost(payer=p, item=i, cny=round(a, 2)) for p, i, a in summary.costs],
            total_cost_cny=summary.as_dict()["total_cost_cny"],
        ),
        places,
    )


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def region_totals(counties: list[m.RegionCounty]) -> m.RegionTotals:
    """The readable counties added up; the rates are the sums' (not the counties' rates averaged)."""
    read = [c for c in counties if c.available and c.stats is not None and c.report is not None]
    stats = {k: sum(getattr(c.stats, k) for c in read) for k in m.CountyStats.model_fields if k != "rate"}
    report: dict[str, Any] = {
        k: sum(getattr(c.report, k) for c in read)
        for k in m.CountyReport.model_fields
        if k not in ("return_rate", "arrival_rate")
    }
    report["subsidies_cny"] = round(report["subsidies_cny"], 2)
    return m.RegionTotals(
        counties=len(counties),
        available=len(read),
        stats=m.CountyStats(**stats, rate=_rate(stats["arrived"], stats["registered"])),
        report=m.CountyReport(
            **report,
            return_rate=_rate(report["departed"], report["registered"]),
            arrival_rate=_rate(report["arrived"], report["departed"]),
        ),
        total_cost_cny=round(sum(c.total_cost_cny or 0.0 for c in read), 2),
    )


def placed(pooled: list[m.RegionPooledBus], places: dict[str, Places]) -> list[m.RegionPooledBus]:
    """The pooled coaches with each stop's coordinates from its county's database (None where unknown)."""

    def at(stop: m.RegionPooledStop) -> m.RegionPooledStop:
        lat, lon = places.get(stop.county, {}).get(stop.place_id, (None, None))
        return stop.model_copy(update={"lat": lat, "lon": lon})

    return [bus.model_copy(update={"stops": [at(s) for s in bus.stops]}) for bus in pooled]


def region_overview(region: Region, caller: Caller, campaign: str, day: dt.date, max_days: int) -> m.RegionOverview:
    """Every county's figures (unavailable ones marked), the totals, and region.json's plan when configured."""
    counties, places = [], {}
    plan, problem = region.plan()
    lines = {c.county: c for c in plan.counties} if plan else {}
    for county in region.counties:
        figures, places[county] = county_figures(region, caller, county, campaign, day, max_days)
        counties.append(figures.model_copy(update={"plan": lines.get(county)}))
    return m.RegionOverview(
        region=region.name,
        date=day,
        generated=beijing_minute(m.utcnow()),
        counties=counties,
        totals=region_totals(counties),
        plan=m.RegionPlanSummary(start=plan.start, end=plan.end, totals=plan.totals) if plan else None,
        plan_detail=problem[0] if problem else None,
        plan_detail_zh=problem[1] if problem else None,
        pooled=placed(plan.pooled, places) if plan else [],
    )


def pooled_coaches(region: Region) -> tuple[list[m.RegionPooledBus], dict[str, str]]:
    """region.json's pooled coaches with their routes placed, reading only the places of the counties they pass
    (none without a readable region.json), and those counties' own names."""
    plan, _problem = region.plan()
    if plan is None:
        return [], {}
    places: dict[str, Places] = {}
    names: dict[str, str] = {}
    for county in sorted({s.county for bus in plan.pooled for s in bus.stops} & set(region.counties)):
        try:
            with region.reading(county) as session:
                places[county] = county_places(session)
                names[county] = str(policy_data(session).get("county") or county)
        except CountyUnavailable:
            places[county] = {}
    return placed(plan.pooled, places), names


def place_label(stop: m.RegionPooledStop, names: dict[str, str]) -> str:
    """A pooled coach's stop as the region names it: a boarding place with its county, 象湖镇（瑞金市）; a factory
    as it is."""
    if stop.kind != "pickup":
        return stop.place_name
    county = names.get(stop.county, stop.county)
    return f"{stop.place_name.removesuffix(f'（{county}）')}（{county}）"


def pooled_geojson(pooled: list[m.RegionPooledBus], names: dict[str, str]) -> dict[str, Any]:
    """The pooled coaches as the map draws them (api/static/map.js): one LineString per coach through its placed
    stops (``index`` its row in the page's table), and a point per place, named with its county (``names``)."""
    features: list[dict[str, Any]] = []
    points: dict[tuple[str, str], dict[str, Any]] = {}
    for n, bus in enumerate(pooled):
        stops = [s for s in bus.stops if s.lat is not None and s.lon is not None]
        label = [place_label(s, names) for s in bus.stops]
        for s, text in zip(bus.stops, label, strict=True):
            if s.lat is not None and s.lon is not None:
                kind = "township" if s.kind == "pickup" else "factory"
                points[(s.county, s.place_id)] = {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                    "properties": {"kind": kind, "id": s.place_id, "county": s.county, "name": text},
                }
        if len(stops) < 2:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[s.lon, s.lat] for s in stops]},
                "properties": {
                    "kind": "bus",
                    "index": n,
                    "bus_id": bus.bus_id,
                    "public_id": bus.bus_id,
                    "date": bus.date.isoformat(),
                    "vehicle_type": bus.vehicle_type,
                    "seats": bus.seats,
                    "load": bus.load,
                    "area": bus.area,
                    "counties": [c.county for c in bus.counties],
                    "stops": label,
                },
            }
        )
    return {"type": "FeatureCollection", "features": [*points.values(), *features]}


# --------------------------------------------------------------------------------------------- plans


def _job(job: m.PlanJob) -> dict[str, Any]:
    return job.model_dump(include=set(m.RegionPlanJob.model_fields))


def county_plans(region: Region, county: str) -> list[m.RegionPlanJob]:
    """The county's plans as its /plans lists them (status and dates, no plan)."""
    with region.reading(county) as session:
        jobs = session.exec(select(m.PlanJob).order_by(col(m.PlanJob.id))).all()
        return [m.RegionPlanJob(**_job(job)) for job in jobs]


def county_plan(region: Region, county: str, plan_id: int) -> m.RegionPlan:
    """One of the county's plans, every date's buses and fallbacks counted (api.privacy.region_plan_day).

    Raises:
        ApiError: 404 for a plan the county does not have.
    """
    with region.reading(county) as session:
        job = session.get(m.PlanJob, plan_id)
        if job is None:
            raise ApiError(404, f"plan {plan_id} of {county} not found", f"未找到{county}的计划 {plan_id}")
        result = job_result(job)
        published = set(job.published_dates or [])
        days = [
            region_plan_day(
                PlanDocument.model_validate(found.plan.to_dict()),
                day.isoformat() in published or job.status == m.JobStatus.published,
                found.kept,
            )
            for day, found in sorted(result.days.items() if result else ())
        ]
        return m.RegionPlan(
            **_job(job),
            days=days,
            campaign_totals=(result.campaign or {}).get("totals") if result else None,
        )
