"""Domain objects of a county's return-to-work campaign: places, travellers, coaches, and one day's problem.

All objects are immutable and check themselves on construction; a bad value raises ``ValueError``
with a message that says what was expected. Scenario files are checked more gently (every problem
reported at once) in ``scheduler.scenario`` before these objects are built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from scheduler.messages import Message
from scheduler.policy import AssemblyPoint, PolicyRules

# The depot's place id, as a distances file names it.
DEPOT_ID = "depot"


class Place(Protocol):
    """Anything a bus can stop at."""

    @property
    def place_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Leg:
    """How far and how long by coach from one place to another (driving only, no rests)."""

    distance_km: float
    drive_s: int


@dataclass(frozen=True, slots=True)
class DistanceTable:
    """Road legs between named places, as a distances file gives them: (from place_id, to place_id) -> Leg.

    A pair serves both directions, unless the table also has the reverse pair, which then wins for its own
    direction: map services give nearly the same road both ways, and a county that exported only township ->
    factory legs still gets the empty run back to the depot from its own figures.
    ``source`` names the file, for summaries. ``scheduler.travel.TableTravel`` plans with it.
    """

    legs: Mapping[tuple[str, str], Leg]
    source: str = ""

    def get(self, origin_id: str, destination_id: str) -> Leg | None:
        """The leg from ``origin_id`` to ``destination_id`` (or, failing that, the reverse pair's), or None."""
        leg = self.legs.get((origin_id, destination_id))
        return leg if leg is not None else self.legs.get((destination_id, origin_id))


def _check_coordinates(what: str, lat: float, lon: float) -> None:
    if not -90 <= lat <= 90:
        raise ValueError(f"{what}: expected latitude between -90 and 90, got {lat}.")
    if not -180 <= lon <= 180:
        raise ValueError(f"{what}: expected longitude between -180 and 180, got {lon}.")


@dataclass(frozen=True, slots=True)
class Township:
    """A township (乡镇) and its pickup point, e.g. the township government square."""

    township_id: str
    name: str
    lat: float
    lon: float

    def __post_init__(self) -> None:
        _check_coordinates(f"township {self.township_id}", self.lat, self.lon)

    @property
    def place_id(self) -> str:
        return self.township_id


@dataclass(frozen=True, slots=True)
class Factory:
    """A destination workplace and its gate's daily receiving hours (seconds after midnight)."""

    factory_id: str
    name: str
    lat: float
    lon: float
    city: str
    province: str
    receive_from_s: int
    receive_until_s: int
    max_arrivals_per_day: int | None = None  # what the gate receives per date; None: no cap

    def __post_init__(self) -> None:
        _check_coordinates(f"factory {self.factory_id}", self.lat, self.lon)
        if not 0 <= self.receive_from_s < self.receive_until_s <= 24 * 3600:
            raise ValueError(
                f"factory {self.factory_id}: expected receive_from before receive_until within one day, "
                f"got {self.receive_from_s}s..{self.receive_until_s}s."
            )
        if self.max_arrivals_per_day is not None and self.max_arrivals_per_day < 0:
            raise ValueError(
                f"factory {self.factory_id}: expected max_arrivals_per_day >= 0, got {self.max_arrivals_per_day}."
            )

    @property
    def place_id(self) -> str:
        return self.factory_id


@dataclass(frozen=True, slots=True)
class Depot:
    """Where chartered coaches start and end."""

    place_id: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Traveller:
    """A registered returning worker. ``group_id`` is empty for someone travelling alone."""

    traveller_id: str
    name: str
    id_number: str
    phone: str
    township_id: str
    factory_id: str
    earliest_date: dt.date
    report_date: dt.date
    group_id: str = ""
    registered_poor: bool = False

    def __post_init__(self) -> None:
        if self.report_date < self.earliest_date:
            raise ValueError(
                f"traveller {self.traveller_id}: expected report_date on or after earliest_date, "
                f"got {self.earliest_date} .. {self.report_date}."
            )

    def available_on(self, day: dt.date) -> bool:
        return self.earliest_date <= day <= self.report_date


@dataclass(frozen=True, slots=True)
class BusType:
    """One line of the county's charter contract: a coach size, how many, and its price."""

    vehicle_type: str
    seats: int
    count: int
    fixed_cost: float
    cost_per_km: float
    # The dates the contract lets this type be used on (None: from the campaign's start, to its end).
    available_from: dt.date | None = None
    available_until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.seats <= 0:
            raise ValueError(f"bus type {self.vehicle_type}: expected seats > 0, got {self.seats}.")
        if self.count < 0:
            raise ValueError(f"bus type {self.vehicle_type}: expected count >= 0, got {self.count}.")
        if self.fixed_cost < 0 or self.cost_per_km < 0:
            raise ValueError(f"bus type {self.vehicle_type}: expected non-negative costs.")
        if self.available_from and self.available_until and self.available_until < self.available_from:
            raise ValueError(
                f"bus type {self.vehicle_type}: expected available_until on or after available_from, "
                f"got {self.available_from} .. {self.available_until}."
            )

    def available_on(self, day: dt.date) -> bool:
        """Whether the contract lets this type leave on ``day``."""
        return (self.available_from or day) <= day <= (self.available_until or day)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything a county has registered for a campaign: places, travellers, fleet, rules.

    ``assumptions`` say which home settings the rules did not give and what was inferred for them
    (``scheduler.defaults``); ``distances`` are the county's road distances, when it has a file of them
    (plan with ``scheduler.travel.TableTravel(distances)``).
    """

    townships: tuple[Township, ...]
    factories: tuple[Factory, ...]
    travellers: tuple[Traveller, ...]
    fleet: tuple[BusType, ...]
    rules: PolicyRules = field(default_factory=PolicyRules)
    assumptions: tuple[Message, ...] = ()
    distances: DistanceTable | None = None

    def problem_for(self, day: dt.date) -> Problem:
        """The travellers whose [earliest_date, report_date] window contains ``day``."""
        eligible = tuple(t for t in self.travellers if t.available_on(day))
        return Problem(day, self.townships, self.factories, eligible, self.fleet, self.rules)

    def busiest_day(self) -> dt.date:
        """The date on which the most travellers can travel (earliest such date on a tie)."""
        if not self.travellers:
            raise ValueError("The scenario has no travellers.")
        counts: dict[dt.date, int] = {}
        for t in self.travellers:
            day = t.earliest_date
            while day <= t.report_date:
                counts[day] = counts.get(day, 0) + 1
                day += dt.timedelta(days=1)
        return max(sorted(counts), key=lambda d: counts[d])


@dataclass(frozen=True, slots=True)
class Problem:
    """One day's planning problem: who travels on ``date``, from where, to where, with which coaches."""

    date: dt.date
    townships: tuple[Township, ...]
    factories: tuple[Factory, ...]
    travellers: tuple[Traveller, ...]
    fleet: tuple[BusType, ...]
    rules: PolicyRules = field(default_factory=PolicyRules)

    def __post_init__(self) -> None:
        township_ids = {t.township_id for t in self.townships}
        factory_ids = {f.factory_id for f in self.factories}
        for t in self.travellers:
            if t.township_id not in township_ids:
                raise ValueError(f"traveller {t.traveller_id}: unknown township {t.township_id}.")
            if t.factory_id not in factory_ids:
                raise ValueError(f"traveller {t.traveller_id}: unknown factory {t.factory_id}.")
        if len({t.traveller_id for t in self.travellers}) != len(self.travellers):
            raise ValueError("Expected unique traveller ids.")

    @property
    def depot(self) -> Depot:
        """Where the coaches start and end, from the rules' depot settings.

        Raises:
            ValueError: the rules set no depot (``load_scenario`` infers one; a Problem built by hand must
                give depot_lat and depot_lon).
        """
        r = self.rules
        if r.depot_lat is None or r.depot_lon is None:
            raise ValueError(
                "No depot: expected the rules to set depot_lat and depot_lon (policy.toml), "
                "or a scenario loaded with load_scenario, which infers them."
            )
        return Depot(DEPOT_ID, r.depot_name or DEPOT_ID, r.depot_lat, r.depot_lon)

    def township(self, township_id: str) -> Township:
        return self._townships_by_id()[township_id]

    def factory(self, factory_id: str) -> Factory:
        return self._factories_by_id()[factory_id]

    def _townships_by_id(self) -> dict[str, Township]:
        return {t.township_id: t for t in self.townships}

    def _factories_by_id(self) -> dict[str, Factory]:
        return {f.factory_id: f for f in self.factories}

    def assembly_point_of(self, township_id: str) -> AssemblyPoint | None:
        for point in self.rules.assembly_points:
            if township_id in point.township_ids:
                return point
        return None

    def factory_in_county(self, factory: Factory) -> bool:
        """A factory is inside the home county when its city column names the county itself."""
        return factory.city == self.rules.county
