"""The county's rules as data: who gets a chartered bus, what the fallbacks pay, and the planning limits.

Every number here is a county decision; the defaults are the figures in the county notices
(see README "Policy settings"). A county overrides any of them in ``policy.toml``.

The home settings (county, province, depot) have no default: no county's values are assumed here.
``scheduler.defaults`` infers the ones a scenario leaves unset, and says what it assumed.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from scheduler.clock import parse_clock


class InvalidPolicy(ValueError):
    """policy.toml names an unknown setting or gives a value of the wrong kind."""


# The settings that say where the county is, as named in policy.toml; unset is "" or None.
HOME_SETTINGS: tuple[str, ...] = ("county", "province", "depot_name", "depot_lat", "depot_lon")
# The largest whole-number setting (a threshold, a stop limit): beyond it a value is a typo, not a rule.
MAX_COUNT_SETTING = 100_000
# Settings without a default value whose value, when given, is a number.
_NUMBERS_WITHOUT_DEFAULT = frozenset({"depot_lat", "depot_lon"})


@dataclass(frozen=True, slots=True)
class AssemblyPoint:
    """A place (say the county bus station) that named townships can feed by their own shuttle."""

    point_id: str
    name: str
    lat: float
    lon: float
    township_ids: tuple[str, ...]
    shuttle_cost_per_person: float

    def __post_init__(self) -> None:
        if not -90 <= self.lat <= 90 or not -180 <= self.lon <= 180:
            raise InvalidPolicy(
                f"Assembly point {self.point_id}: expected lat/lon in range, got {self.lat},{self.lon}."
            )
        if not math.isfinite(self.shuttle_cost_per_person) or self.shuttle_cost_per_person < 0:
            raise InvalidPolicy(f"Assembly point {self.point_id}: expected shuttle_cost_per_person >= 0.")

    @property
    def place_id(self) -> str:
        return self.point_id


@dataclass(frozen=True, slots=True)
class PolicyRules:
    """County policy and planning limits. Money in CNY, distances in km, durations in hours or minutes."""

    # The home county and province ("" = unset): a factory whose city is the county is in-county.
    county: str = ""
    province: str = ""
    # The depot where chartered coaches start and end, e.g. the county bus station (unset: "" and None).
    depot_name: str = ""
    depot_lat: float | None = None
    depot_lon: float | None = None
    # Road distances and driving times, a CSV from_id,to_id,km,minutes; relative to policy.toml's folder
    # ("" = none: every leg is estimated from the coordinates).
    distances_file: str = ""

    # Who rides a chartered bus, and what the fallbacks pay.
    charter_min_group: int = 20
    # The county's rule: a township-factory flow of at least charter_min_group travellers on a date gets
    # chartered seats while coaches last. False: cost alone decides who rides (a ticket may replace a seat).
    threshold_is_entitlement: bool = True
    reimburse_per_km: float = 0.45
    scattered_max: int = 3
    subsidy_in_province: float = 500.0
    subsidy_out_of_province: float = 1000.0
    # Let the solver leave a small group off the buses when its fallback is cheaper than carrying it.
    price_alternatives: bool = True

    # Grouping.
    min_split: int = 10
    # A flow gets a direct bus of the largest coach when it fills at least this share of its seats.
    direct_fill: float = 0.95

    # Bus limits.
    max_pickup_stops: int = 3
    max_dropoff_stops: int = 3
    max_ride_hours: float = 16.0
    area_radius_km: float = 40.0

    # Driver rules (road passenger transport safety rules).
    max_continuous_drive_hours: float = 4.0
    rest_minutes: float = 20.0
    second_driver_km: float = 600.0
    second_driver_hours: float = 8.0
    second_driver_cost: float = 600.0

    # Empty running back to the depot is billed at this share of the coach's per-km rate.
    empty_return_factor: float = 1.0

    # The day's clock: coaches leave the depot from this time; arrivals may fall on the plan date
    # or on the next day, and never after the traveller's report date.
    depart_from: str = "05:00"
    boarding_minutes_per_stop: float = 10.0
    boarding_seconds_per_person: float = 20.0
    alighting_minutes_per_stop: float = 10.0

    # The campaign's tie-breaker: CNY per traveller per day of waiting after the first date they could leave.
    # It steers which dates are chosen; money totals never include it.
    wait_cost_per_day: float = 5.0

    assembly_points: tuple[AssemblyPoint, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise InvalidPolicy(f"Expected {f.name} to be a finite number, got {value}.")
            if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_COUNT_SETTING:
                raise InvalidPolicy(f"Expected {f.name} between 0 and {MAX_COUNT_SETTING}, got {value}.")
        positive = ("charter_min_group", "scattered_max", "min_split", "max_pickup_stops", "max_dropoff_stops")
        for name in positive:
            if getattr(self, name) < 1:
                raise InvalidPolicy(f"Expected {name} >= 1, got {getattr(self, name)}.")
        for name in (
            "reimburse_per_km",
            "subsidy_in_province",
            "subsidy_out_of_province",
            "second_driver_cost",
            "wait_cost_per_day",
            "empty_return_factor",
            "rest_minutes",
            "boarding_minutes_per_stop",
            "boarding_seconds_per_person",
            "alighting_minutes_per_stop",
        ):
            if getattr(self, name) < 0:
                raise InvalidPolicy(f"Expected {name} >= 0, got {getattr(self, name)}.")
        for name in ("area_radius_km", "second_driver_km", "second_driver_hours"):
            if getattr(self, name) <= 0:
                raise InvalidPolicy(f"Expected {name} > 0, got {getattr(self, name)}.")
        if (self.depot_lat is None) != (self.depot_lon is None):
            raise InvalidPolicy("Expected depot_lat and depot_lon together, or neither (the depot is then inferred).")
        if self.depot_lat is not None and not -90 <= self.depot_lat <= 90:
            raise InvalidPolicy(f"Expected depot_lat between -90 and 90, got {self.depot_lat}.")
        if self.depot_lon is not None and not -180 <= self.depot_lon <= 180:
            raise InvalidPolicy(f"Expected depot_lon between -180 and 180, got {self.depot_lon}.")
        if not 0 < self.direct_fill <= 1:
            raise InvalidPolicy(f"Expected 0 < direct_fill <= 1, got {self.direct_fill}.")
        if not 0 < self.max_ride_hours <= 48 or not 0 < self.max_continuous_drive_hours <= 24:
            raise InvalidPolicy("Expected max_ride_hours in (0, 48] and max_continuous_drive_hours in (0, 24].")
        departs = parse_clock(self.depart_from)
        if departs is None or departs >= 24 * 3600:
            raise InvalidPolicy(f"Expected depart_from as HH:MM between 00:00 and 23:59, got {self.depart_from!r}.")

    @property
    def depart_from_s(self) -> int:
        seconds = parse_clock(self.depart_from)
        assert seconds is not None  # checked on construction
        return seconds

    def subsidy_for(self, factory_province: str, factory_in_county: bool) -> float:
        """One-off subsidy for a registered-poor worker placed at a factory by organised transfer."""
        if factory_in_county:
            return 0.0
        return self.subsidy_in_province if factory_province == self.province else self.subsidy_out_of_province

    def fallback_mode(self, group_size: int) -> str:
        """Township transport for groups, a free ticket for scattered individuals."""
        return "free_ticket" if group_size <= self.scattered_max else "township_transport"

    def missing_home_settings(self) -> tuple[str, ...]:
        """The home settings (county, province, depot_name, depot_lat, depot_lon) left unset (policy.toml names)."""
        return tuple(name for name in HOME_SETTINGS if getattr(self, name) in ("", None))

    def public_rules(self) -> dict[str, Any]:
        """The rules a county publishes (thresholds, rates, subsidies), as plain data."""
        return {
            "county": self.county,
            "province": self.province,
            "charter_min_group": self.charter_min_group,
            "reimburse_per_km": self.reimburse_per_km,
            "scattered_max": self.scattered_max,
            "subsidy_in_province": self.subsidy_in_province,
            "subsidy_out_of_province": self.subsidy_out_of_province,
        }


def load_policy(path: Path | None) -> PolicyRules:
    """Read policy.toml; a missing path gives the defaults.

    Raises:
        InvalidPolicy: unknown keys, wrong types or values out of range, naming the file.
    """
    if path is None:
        return PolicyRules()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InvalidPolicy(f"{path}: not valid TOML ({err}).") from None
    return policy_from_dict(data, source=str(path))


def policy_from_dict(data: dict[str, Any], source: str = "policy") -> PolicyRules:
    """Build rules from a dict shaped like policy.toml (used for TOML files and database settings)."""
    known = {f.name: f for f in fields(PolicyRules)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise InvalidPolicy(f"{source}: unknown setting {key!r}; known settings: {', '.join(sorted(known))}.")
        if key == "assembly_points":
            if not isinstance(value, list):
                raise InvalidPolicy(f"{source}: assembly_points must be a list of [[assembly_points]] tables.")
            values[key] = tuple(_assembly_point(item, source) for item in value)
            continue
        default = known[key].default
        if key in _NUMBERS_WITHOUT_DEFAULT:
            # None (null in JSON settings) leaves the setting unset; TOML has no null.
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise InvalidPolicy(f"{source}: {key} must be a number, got {value!r}.")
            values[key] = None if value is None else float(value)
            continue
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise InvalidPolicy(f"{source}: {key} must be true or false, got {value!r}.")
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidPolicy(f"{source}: {key} must be a number, got {value!r}.")
            if isinstance(default, int) and not isinstance(value, int):
                raise InvalidPolicy(f"{source}: {key} must be a whole number, got {value!r}.")
            value = type(default)(value)
        elif isinstance(default, str) and not isinstance(value, str):
            raise InvalidPolicy(f"{source}: {key} must be text, got {value!r}.")
        values[key] = value
    try:
        return PolicyRules(**values)
    except InvalidPolicy as err:
        raise InvalidPolicy(f"{source}: {err}") from None


def _assembly_point(item: dict[str, Any], source: str) -> AssemblyPoint:
    try:
        return AssemblyPoint(
            point_id=str(item["id"]),
            name=str(item.get("name", item["id"])),
            lat=float(item["lat"]),
            lon=float(item["lon"]),
            township_ids=tuple(str(t) for t in item["townships"]),
            shuttle_cost_per_person=float(item.get("shuttle_cost_per_person", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidPolicy(
            f"{source}: each [[assembly_points]] needs id, lat, lon, townships (and optionally name, "
            f"shuttle_cost_per_person); problem: {err}."
        ) from None
