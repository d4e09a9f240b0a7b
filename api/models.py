"""Database tables (SQLModel, ``table=True``) and the Create/Update/Public schemas of each resource.

Rows never reach ``scheduler``: ``api.convert`` turns them into its frozen dataclasses and back.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, Strict, WithJsonSchema, computed_field, model_validator
from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.schemas import PlanBus, PlanDocument, PlanTotals, TravellerRefs
from scheduler.messages import Message
from scheduler.validation import FIRST_DATE, LAST_DATE, forbidden_character


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# JSON documents: JSONB on PostgreSQL, JSON (text underneath) on SQLite; Python None is SQL NULL.
JSON_DOCUMENT = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def json_column(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(JSON_DOCUMENT, nullable=nullable)


# What a client may send where the database keeps an integer or a date: a row id (INTEGER, 32 bits), a count a
# county can have, a date of the calendar the service reckons with. Beyond them a request is a 422, never an overflow.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Interval(ge=1, le=MAX_ROW_ID)]
Count = Annotated[int, Interval(ge=0, le=1_000_000)]
Day = Annotated[
    dt.date,
    Interval(ge=FIRST_DATE, le=LAST_DATE),
    # JSON Schema bounds no dates; the pattern tells clients (and schemathesis) the years the service takes.
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"}),
]
# A number or a yes/no as JSON has it: false is not 0.0 and 0 is not false (pydantic's lax mode would take both).
Number = Annotated[float, Strict()]
Flag = Annotated[bool, Strict()]
Whole = Annotated[int, Strict()]


def refuse_control_characters(value: Any, where: str = "") -> None:
    """Raise ValueError naming the first string (at any depth) that holds a control character: PostgreSQL text
    cannot store NUL, xlsx files break on the others, and no name or note needs them."""
    if isinstance(value, str):
        if code := forbidden_character(value):
            raise ValueError(f"{where or 'text'} holds a control character ({code}) / 含有不可见的控制字符（{code}）")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_control_characters(str(key), f"{where}.{key}".strip("."))
            refuse_control_characters(item, f"{where}.{key}".strip("."))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            refuse_control_characters(item, f"{where}[{i}]")


class Input(SQLModel):
    """What a client sends: no control characters in any text (checked before any field)."""

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        refuse_control_characters(data)
        return data


class Role(StrEnum):
    admin = "admin"  # the county's administrator: reference data, rules, tokens, accounts, the audit log
    dispatcher = "dispatcher"
    township = "township"
    factory = "factory"
    # The person travelling with one bus (随车人员): its riders and their boarding only; scope is the bus id.
    escort = "escort"
    # The prefecture's (or province's) bureau on its own deployment: reads its counties' figures and plans, writes
    # nothing, sees no traveller (api.services.region). Its tokens have no scope.
    region = "region"


class TravellerStatus(StrEnum):
    registered = "registered"  # waiting for a published plan (also: freed after a no-show or a released bus)
    planned = "planned"  # on a published bus or fallback
    boarded = "boarded"  # confirmed on the bus on departure day
    arrived = "arrived"  # confirmed at the factory gate
    went_elsewhere = "went_elsewhere"  # travelled but did not arrive at the registered factory
    cancelled = "cancelled"
    # No date left to reach the gate by the report date (a published campaign plan says why: fallback_cause).
    # A corrected registration (a later report date) is registered again.
    overdue = "overdue"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    published = "published"


# --------------------------------------------------------------------------------------------- reference data


class TownshipBase(Input):
    name: str = Field(min_length=1, max_length=100)
    lat: Number = Field(ge=-90, le=90)
    lon: Number = Field(ge=-180, le=180)


class Township(TownshipBase, table=True):
    __tablename__ = "townships"
    id: str = Field(primary_key=True, max_length=40)


def old_name(data: Any, old: str, new: str) -> Any:
    """A payload with ``old`` (the name an earlier version took) renamed to ``new`` (the scenario files' name)."""
    if isinstance(data, dict) and old in data and new not in data:
        data = {new if k == old else k: v for k, v in data.items()}
    return data


class TownshipCreate(TownshipBase):
    """townships.csv's row; ``id`` is taken for ``township_id`` too (the name before 2026-12)."""

    township_id: str = Field(min_length=1, max_length=40)

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data: Any) -> Any:
        return old_name(data, "id", "township_id")


class TownshipUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    lat: Number | None = Field(default=None, ge=-90, le=90)
    lon: Number | None = Field(default=None, ge=-180, le=180)


class TownshipPublic(TownshipBase):
    id: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def township_id(self) -> str:
        return self.id


CLOCK_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"


class FactoryBase(Input):
    name: str = Field(min_length=1, max_length=200)
    lat: Number = Field(ge=-90, le=90)
    lon: Number = Field(ge=-180, le=180)
    city: str = Field(min_length=1, max_length=100)
    province: str = Field(min_length=1, max_length=100)
    receive_from: str = Field(default="08:00", schema_extra={"pattern": CLOCK_PATTERN})
    receive_until: str = Field(default="20:00", schema_extra={"pattern": CLOCK_PATTERN})


class Factory(FactoryBase, table=True):
    __tablename__ = "factories"
    id: str = Field(primary_key=True, max_length=40)


class FactoryCreate(FactoryBase):
    """factories.csv's row; ``id`` is taken for ``factory_id`` too (the name before 2026-12)."""

    factory_id: str = Field(min_length=1, max_length=40)

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data: Any) -> Any:
        return old_name(data, "id", "factory_id")


class FactoryUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    lat: Number | None = Field(default=None, ge=-90, le=90)
    lon: Number | None = Field(default=None, ge=-180, le=180)
    city: str | None = None
    province: str | None = None
    receive_from: str | None = Field(default=None, schema_extra={"pattern": CLOCK_PATTERN})
    receive_until: str | None = Field(default=None, schema_extra={"pattern": CLOCK_PATTERN})


class FactoryPublic(FactoryBase):
    id: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def factory_id(self) -> str:
        return self.id


class BusTypeBase(Input):
    seats: Whole = Field(gt=0, le=100)
    count: Whole = Field(ge=0, le=1_000_000)
    fixed_cost: Number = Field(ge=0)
    cost_per_km: Number = Field(ge=0)


class BusType(BusTypeBase, table=True):
    __tablename__ = "fleet"
    vehicle_type: str = Field(primary_key=True, max_length=40)


class BusTypeCreate(BusTypeBase):
    vehicle_type: str = Field(min_length=1, max_length=40)


class BusTypeUpdate(Input):
    seats: Whole | None = Field(default=None, gt=0, le=100)
    count: Whole | None = Field(default=None, ge=0, le=1_000_000)
    fixed_cost: Number | None = Field(default=None, ge=0)
    cost_per_km: Number | None = Field(default=None, ge=0)


class BusTypePublic(BusTypeBase):
    vehicle_type: str


class PolicySetting(SQLModel, table=True):
    """The county's policy.toml as JSON (one row, key "policy"): only the settings the county has set."""

    __tablename__ = "policy"
    key: str = Field(primary_key=True, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())


# --------------------------------------------------------------------------------------------- people


class TokenKind(StrEnum):
    api = "api"  # a machine's bearer token, issued by `fanggang token create` or POST /tokens
    session = "session"  # a person's signed-in browser (the cookie holds it), issued at sign-in


class Token(SQLModel, table=True):
    __tablename__ = "tokens"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=20)
    scope: str | None = Field(default=None, max_length=40)
    label: str = Field(default="", max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    revoked: bool = False
    kind: str = Field(default=TokenKind.api.value, max_length=10)
    # The person a session belongs to; API tokens have none.
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    # The API token a browser session was opened with (signing in with a token): revoking it ends the session.
    parent_id: int | None = None
    expires_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None


class TokenCreate(Input):
    role: Role
    scope: str | None = Field(default=None, max_length=40)
    label: str = Field(default="", max_length=200)
    # Days until the token stops working; blank: the service's token_days setting.
    days: int | None = Field(default=None, ge=1, le=3660)


class TokenPublic(SQLModel):
    id: int
    role: str
    scope: str | None
    label: str
    created_at: dt.datetime
    kind: str = TokenKind.api.value
    user: str | None = None
    expires_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    revoked: bool = False
    token: str | None = None


class User(SQLModel, table=True):
    """A person who signs in to the pages: a clerk of a township, a dispatcher, a factory's staff."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True, index=True)
    display_name: str = Field(default="", max_length=100)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=20)
    scope: str | None = Field(default=None, max_length=40)
    created_at: dt.datetime = Field(default_factory=utcnow)
    disabled: bool = False


USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{2,60}$"


class UserCreate(Input):
    username: str = Field(regex=USERNAME_PATTERN)
    display_name: str = Field(default="", max_length=100)
    password: str = Field(min_length=8, max_length=200)
    role: Role
    scope: str | None = Field(default=None, max_length=40)


class UserUpdate(Input):
    display_name: str | None = Field(default=None, max_length=100)
    password: str | None = Field(default=None, min_length=8, max_length=200)
    disabled: Flag | None = None


class UserPublic(SQLModel):
    id: int
    username: str
    display_name: str
    role: str
    scope: str | None
    created_at: dt.datetime
    disabled: bool


class AuditEntry(SQLModel, table=True):
    """One change, as it was made: the database refuses to update or delete these rows (migration 0006)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    token_id: int | None = None
    # Who: the token's label, or the signed-in person's user name; "system" for the service's own work.
    actor: str = Field(default="", max_length=200)
    role: str = Field(default="", max_length=20)
    action: str = Field(max_length=10)  # create, update, delete
    entity: str = Field(max_length=40)  # the table
    entity_id: str = Field(max_length=80)
    before: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))


class AuditPublic(SQLModel):
    id: int
    at: dt.datetime
    token_id: int | None
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class TravellerBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=1, max_length=40)
    phone: str = Field(min_length=1, max_length=40)
    township_id: str = Field(max_length=40)
    factory_id: str = Field(max_length=40)
    earliest_date: dt.date
    report_date: dt.date
    group_id: str = Field(default="", max_length=60)
    registered_poor: bool = False


class Traveller(TravellerBase, table=True):
    __tablename__ = "travellers"
    __table_args__ = (
        UniqueConstraint("campaign", "id_number", name="uq_travellers_campaign_id_number"),
        UniqueConstraint("campaign", "township_id", "ref", name="uq_travellers_campaign_township_ref"),
        Index("ix_travellers_status_dates", "status", "earliest_date", "report_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=20)
    # The township's own reference (traveller_id column of its spreadsheet).
    ref: str = Field(max_length=60)
    township_id: str = Field(foreign_key="townships.id", index=True, max_length=40)
    factory_id: str = Field(foreign_key="factories.id", index=True, max_length=40)
    status: str = Field(default=TravellerStatus.registered, max_length=20)
    version: int = 1
    cancel_reason: str | None = Field(default=None, max_length=500)
    # Set when a plan is published: the bus (or the fallback mode) and the travel date.
    plan_id: int | None = Field(default=None, index=True)
    travel_date: dt.date | None = None
    mode: str | None = Field(default=None, max_length=30)
    bus_id: str | None = Field(default=None, index=True, max_length=60)
    seat: int | None = None
    ticket_code: str | None = Field(default=None, unique=True, max_length=12)
    boards_at: str | None = Field(default=None, max_length=200)
    board_time: str | None = Field(default=None, max_length=20)
    alights_at: str | None = Field(default=None, max_length=200)
    est_cost: float | None = None
    # A fallback's reason as data (scheduler.messages): its sentences are rendered in either language.
    fallback_cause: str | None = Field(default=None, max_length=30)
    fallback_params: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    no_shows: int = 0
    arrived_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class TravellerCreate(Input):
    """One registration; ``traveller_id`` is the township's own reference (optional)."""

    traveller_id: str | None = Field(default=None, max_length=60)
    name: str
    id_number: str
    phone: str
    township_id: str | None = None
    factory_id: str
    earliest_date: str
    report_date: str
    group_id: str = ""
    registered_poor: Flag | str = False


class TravellerUpdate(Input):
    name: str | None = None
    phone: str | None = None
    factory_id: str | None = None
    earliest_date: str | None = None
    report_date: str | None = None
    group_id: str | None = None
    registered_poor: Flag | str | None = None


class TravellerCancel(Input):
    reason: str = Field(min_length=1, max_length=500)


class TravellerPublic(TravellerBase):
    id: int
    ref: str
    status: str
    version: int
    cancel_reason: str | None
    plan_id: int | None
    travel_date: dt.date | None
    mode: str | None
    bus_id: str | None
    seat: int | None
    ticket_code: str | None
    boards_at: str | None
    board_time: str | None
    alights_at: str | None
    est_cost: float | None
    fallback_cause: str | None = Field(description="why a traveller on a fallback does not ride a bus (a code)")
    fallback_params: dict[str, Any] | None = Field(description="the cause's figures")
    no_shows: int
    arrived_at: dt.datetime | None

    @computed_field(description="the fallback's reason in English")  # type: ignore[prop-decorator]
    @property
    def fallback_reason(self) -> str | None:
        message = fallback_message(self.fallback_cause, self.fallback_params)
        return message.en if message else None

    @computed_field(description="the fallback's reason in Chinese")  # type: ignore[prop-decorator]
    @property
    def fallback_reason_zh(self) -> str | None:
        message = fallback_message(self.fallback_cause, self.fallback_params)
        return message.zh if message else None


def fallback_message(cause: str | None, params: dict[str, Any] | None) -> Message | None:
    """A stored fallback reason as a message, or None without one (or with a cause this version does not know)."""
    if not cause:
        return None
    try:
        return Message(cause, params or {})
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------- planning


class PlanJob(SQLModel, table=True):
    __tablename__ = "plans"
    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(index=True)  # the date planned, or a campaign's first date
    end_date: dt.date | None = None  # a campaign's last date; None: one date
    open_from: dt.date | None = None  # a campaign's first date open to new departures (today, at the latest)
    time_limit: float
    status: str = Field(default=JobStatus.queued, max_length=20)
    progress: float = 0.0
    # The planner's latest progress message, in English and Chinese.
    message: str = Field(default="", max_length=500)
    message_zh: str = Field(default="", max_length=500)
    error: str | None = Field(default=None, sa_column=Column(Text))
    error_zh: str | None = Field(default=None, sa_column=Column(Text))
    # api.convert.JobResult: {"days": {date: {"plan": plan.json, "seats": {bus_id: seat rows}, "kept": bool}},
    # "versions": {traveller id: version}, "campaign": campaign.json's coaches, overdue and totals, or null}
    result: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    published_dates: list[str] | None = Field(default=None, sa_column=json_column(nullable=True))
    kept_buses: int = 0
    worker_pid: int | None = None
    # The run that owns the job (api.services.planning): only it may write progress and the result.
    lease: str | None = Field(default=None, max_length=32)
    created_at: dt.datetime = Field(default_factory=utcnow)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    published_at: dt.datetime | None = None


MAX_CAMPAIGN_DAYS = 62


class PlanCreate(BaseModel):
    """One date (``date``) or a campaign (``from`` .. ``to``, at most ``MAX_CAMPAIGN_DAYS`` dates)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    date: dt.date | None = Field(default=None, ge=FIRST_DATE, le=LAST_DATE)
    start: dt.date | None = Field(default=None, alias="from", ge=FIRST_DATE, le=LAST_DATE)
    end: dt.date | None = Field(default=None, alias="to", ge=FIRST_DATE, le=LAST_DATE)
    time_limit: Number = Field(default=30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _one_date_or_a_range(self) -> PlanCreate:
        if self.date is not None:
            if self.start is not None or self.end is not None:
                raise ValueError("give either date or from and to, not both / 请只填写 date，或只填写 from 和 to")
            return self
        if self.start is None or self.end is None:
            raise ValueError("give date, or from and to / 请填写计划日期 date，或起止日期 from 和 to")
        if self.end < self.start:
            raise ValueError(f"to ({self.end}) is before from ({self.start}) / 结束日期早于开始日期")
        if (self.end - self.start).days + 1 > MAX_CAMPAIGN_DAYS:
            raise ValueError(
                f"a campaign plans at most {MAX_CAMPAIGN_DAYS} dates / 一次最多规划 {MAX_CAMPAIGN_DAYS} 天"
            )
        return self


class PlanPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dates: list[dt.date] | None = Field(default=None, max_length=MAX_CAMPAIGN_DAYS, description="default: all")


class PlanDay(SQLModel):
    date: dt.date
    published: bool
    kept: bool = Field(description="a date published before this plan: its buses stay, free seats may be taken")
    totals: dict[str, Any]
    plan: PlanDocument


class PlanPublic(SQLModel):
    id: int
    date: dt.date
    end_date: dt.date | None
    open_from: dt.date | None
    time_limit: float
    status: str
    progress: float
    message: str
    message_zh: str
    error: str | None
    error_zh: str | None
    kept_buses: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    published_at: dt.datetime | None
    published_dates: list[str] | None
    plan: PlanDocument | None = Field(
        default=None,
        description="when done: the (first) date's plan as in plan.json; traveller ids are the service's ids",
    )
    days: list[PlanDay] = Field(default_factory=list, description="when done: every date's plan")
    campaign: dict[str, Any] | None = Field(
        default=None, description="a campaign's coaches, overdue travellers and totals, as in campaign.json"
    )
    traveller_refs: TravellerRefs = Field(
        default_factory=dict, description="every traveller id of the plan -> the township's own reference"
    )


class Bus(SQLModel, table=True):
    """A published bus. ``id`` is "P<plan>-<bus>", printed on the manifest."""

    __tablename__ = "buses"
    id: str = Field(primary_key=True, max_length=60)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    date: dt.date = Field(index=True)
    vehicle_type: str = Field(max_length=40)
    seats: int
    status: str = Field(default="published", max_length=20)  # published | released
    data: dict[str, Any] = Field(sa_column=json_column())  # the bus as in plan.json's buses[]
    # The person the township sends along (随车人员), printed on the slips; set after publish.
    escort_name: str | None = Field(default=None, max_length=100)
    escort_phone: str | None = Field(default=None, max_length=40)


class BusEscort(Input):
    escort_name: str | None = Field(default=None, max_length=100)
    escort_phone: str | None = Field(default=None, max_length=40)


class BusPublic(SQLModel):
    id: str
    plan_id: int
    date: dt.date
    vehicle_type: str
    seats: int
    status: str
    escort_name: str | None = None
    escort_phone: str | None = None
    load: int = Field(description="the bus's travellers the caller may see")
    bus: PlanBus = Field(
        description="the bus as in plan.json; its stops name by service id the riders the caller may see"
    )
    traveller_refs: TravellerRefs = Field(
        default_factory=dict, description="the riders the caller may see -> the township's own reference"
    )


class ManifestRow(SQLModel):
    seat: int | None
    ticket_code: str | None
    traveller_id: int = Field(description="the service's traveller id")
    ref: str = Field(description="the township's own traveller_id (travellers.csv's column)")
    name: str
    id_number: str = Field(description="in full for the dispatcher and the rider's own township, else masked")
    phone: str
    township_id: str
    factory_id: str
    boards_at: str | None
    board_time: str | None
    alights_at: str | None
    status: str = Field(description="the traveller's status, or seat_free where a rider cancelled")
    revision: int = Field(description="the traveller's version: it grows with every change")
    changed: list[str] = Field(default_factory=list, description="contact fields corrected after publish")


class ManifestPublic(SQLModel):
    bus_id: str
    date: dt.date
    vehicle_type: str
    seats: int
    status: str
    bus: PlanBus
    travellers: list[ManifestRow]


# --------------------------------------------------------------------------------------------- money


class Subsidy(SQLModel, table=True):
    __tablename__ = "subsidies"
    __table_args__ = (UniqueConstraint("campaign", "id_number", name="uq_subsidies_campaign_id_number"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=20)
    id_number: str = Field(max_length=40)
    traveller_id: int = Field(foreign_key="travellers.id", index=True)
    township_id: str = Field(max_length=40, index=True)
    factory_id: str = Field(max_length=40, index=True)
    amount: float
    created_at: dt.datetime = Field(default_factory=utcnow)


class Receipt(SQLModel, table=True):
    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("township_id", "number", name="uq_receipts_township_number"),)
    id: int | None = Field(default=None, primary_key=True)
    township_id: str = Field(foreign_key="townships.id", index=True, max_length=40)
    number: str = Field(max_length=60)
    amount: float
    traveller_ids: list[int] = Field(sa_column=json_column())
    status: str = Field(default="submitted", max_length=20)  # submitted | approved | rejected
    note: str = Field(default="", max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow)
    decided_at: dt.datetime | None = None


class ReceiptClaim(SQLModel, table=True):
    """A traveller covered by a receipt that is submitted or approved, and the share of its amount: the primary
    key makes a traveller's journey payable once (a rejected receipt's claims are deleted, freeing them)."""

    __tablename__ = "receipt_claims"
    traveller_id: int = Field(primary_key=True)
    receipt_id: int = Field(foreign_key="receipts.id", index=True)
    share: float


class ReceiptFile(SQLModel, table=True):
    """The photo or PDF of a receipt, kept with the record for the finance office (one per receipt)."""

    __tablename__ = "receipt_files"
    receipt_id: int = Field(foreign_key="receipts.id", primary_key=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=40)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class ReceiptCreate(Input):
    number: str = Field(min_length=1, max_length=60)
    amount: Number = Field(gt=0, le=1_000_000)  # NaN and Infinity fail these bounds
    traveller_ids: list[RowId] = Field(min_length=1, max_length=1000)
    township_id: str | None = None


class ReceiptDecision(Input):
    note: str = Field(default="", max_length=500)


class ReceiptPublic(SQLModel):
    id: int
    township_id: str
    number: str
    amount: float
    traveller_ids: list[int]
    status: str
    note: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    attachment: str | None = Field(default=None, description="the receipt's photo or PDF: its file name")


class ExpectedStaff(SQLModel, table=True):
    """A factory's list of the staff it expects back, matched with registrations by ID number."""

    __tablename__ = "expected_staff"
    __table_args__ = (UniqueConstraint("factory_id", "id_number", name="uq_expected_factory_id_number"),)
    id: int | None = Field(default=None, primary_key=True)
    factory_id: str = Field(foreign_key="factories.id", index=True, max_length=40)
    id_number: str = Field(max_length=40)
    name: str = Field(default="", max_length=100)


# --------------------------------------------------------------------------------------------- notices


class NoticeStatus(StrEnum):
    queued = "queued"
    sent = "sent"
    superseded = "superseded"  # a later notice to the same traveller replaced it before it was sent


class Notice(SQLModel, table=True):
    """A text message to a traveller about their journey, queued for the county's SMS platform."""

    __tablename__ = "notices"
    id: int | None = Field(default=None, primary_key=True)
    traveller_id: int = Field(foreign_key="travellers.id", index=True)
    township_id: str = Field(max_length=40, index=True)
    phone: str = Field(max_length=40)
    text: str = Field(max_length=200)
    reason: str = Field(max_length=20)  # the lifecycle event or "publish"
    status: str = Field(default=NoticeStatus.queued, max_length=20, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    batch: str | None = Field(default=None, max_length=60)  # the export file it went out in


class NoticePublic(SQLModel):
    id: int
    traveller_id: int
    township_id: str
    phone: str
    text: str
    reason: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    batch: str | None


# --------------------------------------------------------------------------------------------- the region


class RegionCostSplit(BaseModel):
    """A county's part of a pooled coach (region.json's ``pooled[].counties[]``)."""

    county: str
    riders: int
    rider_km: float
    share: float = Field(description="CNY of the coach's cost this county pays (riders x km, capped)")
    fallback_replaced: float = Field(description="CNY of fallbacks its riders leave: the cap on its share")


class RegionPlanFigures(BaseModel):
    """A county's (or the region's) campaign planned by ``fanggang region``: ``cost_alone`` planned alone,
    ``cost`` with pooling after the cost split (CNY)."""

    travellers: int
    buses: int
    pooled_buses: int
    cost_alone: float
    cost: float
    saving: float
    charter_cost: float
    reimbursement_cost: float
    ticket_cost: float
    subsidy_cost: float


class RegionPlanCounty(RegionPlanFigures):
    county: str


class RegionPooledStop(BaseModel):
    """A stop of a pooled coach, with how many board and alight there (of every county) and where it is."""

    place_id: str = Field(description="the place's id in its own county")
    place_name: str
    county: str = Field(description="the county the place belongs to")
    kind: Literal["pickup", "dropoff"]
    arrival: str
    departure: str
    boarding: int
    alighting: int
    lat: float | None = Field(default=None, description="WGS-84, from the county's database; null when unknown")
    lon: float | None = None


class RegionPooledBus(BaseModel):
    """A coach carrying travellers of several counties (region.json's ``pooled[]``), with its route."""

    bus_id: str
    date: dt.date
    coach_id: str
    provider: str = Field(description="the county whose coach drives it")
    vehicle_type: str
    seats: int
    load: int
    area: str
    distance_km: float
    cost: float
    counties: list[RegionCostSplit]
    stops: list[RegionPooledStop] = Field(default_factory=list, description="in driving order (from the day plans)")


class RegionPlanFile(BaseModel):
    """``OUT/region.json`` as ``fanggang region`` writes it (the parts the service reads)."""

    model_config = ConfigDict(populate_by_name=True)
    region: str
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    counties: list[RegionPlanCounty]
    totals: RegionPlanFigures
    pooled: list[RegionPooledBus] = Field(default_factory=list)


class RegionPlanSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    start: dt.date = Field(alias="from", serialization_alias="from")
    end: dt.date = Field(alias="to", serialization_alias="to")
    totals: RegionPlanFigures


class CountyStats(BaseModel):
    """A county's travellers as its own ``GET /stats`` counts them (``overall``); ``rate`` = arrived / registered."""

    registered: int
    planned: int
    departed: int
    arrived: int
    no_show: int
    cancelled: int
    overdue: int
    rate: float


class CountyTownship(CountyStats):
    id: str
    name: str


class CountyReport(BaseModel):
    """The county's daily report (``GET /reports/daily``), cumulative to its date: 返岗率 ``return_rate`` =
    departed / registered, 到岗率 ``arrival_rate`` = arrived / departed."""

    registered: int
    by_bus: int
    by_township_transport: int
    by_ticket: int
    tickets_used: int
    departed: int
    arrived: int
    in_province: int
    out_of_province: int
    registered_poor_moved: int
    subsidies_cny: float
    buses: int
    return_rate: float
    arrival_rate: float


class CountyCost(BaseModel):
    payer: str
    item: str
    cny: float


class RegionCounty(BaseModel):
    """One county of the region, read from its own database; ``available`` false (with the reason) when that
    database cannot be read now."""

    county: str = Field(description="the county's key in FANGGANG_REGION_COUNTIES (its folder in region.json)")
    name: str = Field(description="the county's own name (its stored settings), else its key")
    available: bool
    detail: str | None = None
    detail_zh: str | None = None
    stats: CountyStats | None = None
    report: CountyReport | None = None
    townships: list[CountyTownship] = Field(default_factory=list)
    costs: list[CountyCost] = Field(default_factory=list, description="as the county's /reports/campaign has them")
    total_cost_cny: float | None = None
    plan: RegionPlanCounty | None = Field(default=None, description="its line of region.json, when configured")


class RegionTotals(BaseModel):
    """The counties that could be read, added up (rates computed from the sums)."""

    counties: int
    available: int
    stats: CountyStats
    report: CountyReport
    total_cost_cny: float


class RegionOverview(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    region: str
    date: dt.date = Field(description="the daily reports' date")
    generated: str = Field(description="Beijing time")
    counties: list[RegionCounty]
    totals: RegionTotals
    plan: RegionPlanSummary | None = Field(default=None, description="region.json's range and totals")
    plan_detail: str | None = Field(default=None, description="why region.json could not be read, when not")
    plan_detail_zh: str | None = None
    pooled: list[RegionPooledBus] = Field(default_factory=list)


class RegionStop(BaseModel):
    place_id: str
    place_name: str
    kind: Literal["pickup", "dropoff"]
    arrival: str
    departure: str
    boarding: int
    alighting: int


class RegionBus(BaseModel):
    """A bus of a county's plan as the region sees it: riders counted, not named."""

    bus_id: str
    vehicle_type: str
    coach_id: str
    seats: int
    load: int
    area: str
    distance_km: float
    drive_hours: float
    drivers: int
    cost: float
    stops: list[RegionStop]


class RegionFallback(BaseModel):
    """The travellers of a plan's date who travel by one fallback for one cause, counted."""

    mode: str
    cause: str
    travellers: int
    est_cost: float = Field(description="CNY, their fallbacks' estimated cost together")


class RegionPlanDay(BaseModel):
    date: dt.date
    published: bool
    kept: bool
    totals: PlanTotals
    buses: list[RegionBus]
    fallback: list[RegionFallback]
    subsidies: int = Field(description="registered-poor travellers due a subsidy")
    subsidy_cost: float


class RegionPlanJob(BaseModel):
    """A county's plan as its ``GET /plans`` lists it: one date (``end_date`` null) or a campaign."""

    id: int
    date: dt.date
    end_date: dt.date | None
    status: str
    progress: float
    message: str
    message_zh: str
    error: str | None
    error_zh: str | None
    published_dates: list[str] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    published_at: dt.datetime | None


class RegionPlan(RegionPlanJob):
    """A county's plan (``GET /plans/{plan_id}`` of the county) without its travellers: every date's buses, stops
    and fallbacks counted."""

    days: list[RegionPlanDay] = Field(default_factory=list)
    campaign_totals: dict[str, Any] | None = Field(default=None, description="a campaign's totals (campaign.json)")
