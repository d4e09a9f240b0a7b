"""Service settings, read from the environment (prefix ``FANGGANG_``) or a ``.env`` file."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_minute(moment: dt.datetime | None) -> str:
    """A stored (UTC) moment as people in the county read it: "2026-02-20 07:30", Beijing time; blank for none."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return f"{aware.astimezone(BEIJING):%Y-%m-%d %H:%M}"


class Settings(BaseSettings):
    """``FANGGANG_DATABASE_URL`` picks the database; the default is a SQLite file in the working folder."""

    model_config = SettingsConfigDict(env_prefix="FANGGANG_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./fanggang.db"
    # A PostgreSQL schema to use instead of the default search path (tests use one per run).
    database_schema: str | None = None
    # The campaign (usually the Spring Festival year); an ID number registers once per campaign.
    campaign: str = "2026"
    # How many planning jobs may run at once, each in its own process.
    planning_processes: int = 2
    max_upload_bytes: int = 20 * 1024 * 1024
    # A receipt's photo or PDF: a phone photo is 2-5 MB.
    max_receipt_bytes: int = 10 * 1024 * 1024
    # Rows per imported spreadsheet: a county's townships send a few thousand; more is a wrong file.
    max_import_rows: int = 50_000
    # Map tiles for the dispatcher's page, e.g. "https://tiles.example/{z}/{x}/{y}.png"; empty: a plain background.
    tile_url: str = ""
    tile_attribution: str = ""
    # A TrueType/OpenType (.ttf/.ttc/.otf) font with Chinese glyphs for the PDF manifests; empty: look in the
    # Debian font folders (fonts-wqy-microhei, installed by .ci/install-browser).
    pdf_font: str = ""
    # The date the service takes as today, for a drill or a test (YYYY-MM-DD); empty: today in Beijing. A campaign
    # plan sends nobody new on a date before it.
    today: dt.date | None = None
    # Days an API token works after it is issued (POST /tokens may ask for fewer or more).
    token_days: int = Field(default=60, ge=1, le=3660)
    # Days a person stays signed in on a browser.
    session_days: int = Field(default=14, ge=1, le=365)
    # Failed sign-ins or bad tokens one client address may make per minute before it is answered 429.
    auth_failures_per_minute: int = Field(default=10, ge=1, le=10_000)
    # Days after a campaign's last report date that its travellers' names, ID numbers and phones are kept;
    # `fanggang purge` erases them after that (the statistics and the money records' amounts stay).
    retention_days: int = Field(default=180, ge=0, le=3660)

    # Where notices to travellers go for the county's SMS platform: one CSV (phone, text) per batch sent.
    notice_outbox: Path = Path("./outbox")

    # A region's deployment (a prefecture's bureau, api.services.region): its name (e.g. 赣州市); its counties as a
    # JSON object, county -> that county's service database (SQLite or PostgreSQL URL, read-only; the county's
    # folder name in FANGGANG_REGION_PLAN's region.json); and optionally the folder `fanggang region` wrote, for the
    # pooled coaches and the cost split. Checked at start-up (api.services.region.region_config).
    region_name: str = ""
    region_counties: str = ""
    region_plan: Path | None = None

    def today_here(self) -> dt.date:
        return self.today or dt.datetime.now(BEIJING).date()


@lru_cache
def get_settings() -> Settings:
    return Settings()
