"""Who rides which of the day's routes, and in which coach: a small integer problem over fixed routes.

The routing models carry travellers in bundles and choose coaches one area part at a time. Once their routes
are known, this problem looks at all of them together: it may move travellers between routes that pass their
boarding place and their factory, give a route a larger or smaller coach, or cancel it, whenever that lowers
the day's cost (coaches plus what the policy pays for everyone left off). ``scheduler.routing.solve_seating``
solves it. Nothing here knows about buses or townships: money is in integer units, places are route stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeatRoute:
    """A route found by the search, with its stops fixed.

    ``price[k]`` is what it costs run by a coach of type ``k`` (None: that type may not run it);
    ``max_load`` is the most riders its timetable can take (boarding takes time, gates close).
    """

    price: tuple[int | None, ...]
    max_load: int
    coach: int | None  # the type running it now; None when it does not run


@dataclass(frozen=True, slots=True)
class RiderUnit:
    """Travellers who are interchangeable: a registered group (``whole``: all on one route, or none), or the
    people travelling alone on one flow (any number of them on each route).

    ``options`` are (route, extra cost per rider, e.g. a shuttle to the boarding point); ``riding`` is where
    they ride now, as (route, riders).
    """

    size: int
    whole: bool
    left_off_cost: int  # per person: what leaving one of them off the buses costs
    options: tuple[tuple[int, int], ...]
    riding: tuple[tuple[int, int], ...] = ()
    meets_floor: bool = False  # a route carrying any of them runs whatever its load (riders entitled to a seat)

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError(f"Expected size > 0, got {self.size}.")
        on = sum(n for _, n in self.riding)
        if on > self.size or (self.whole and on not in (0, self.size)):
            raise ValueError(f"Expected at most {self.size} riders, a whole group on one route; got {self.riding}.")


@dataclass(frozen=True, slots=True)
class SeatingProblem:
    routes: tuple[SeatRoute, ...]
    units: tuple[RiderUnit, ...]
    seats: tuple[int, ...]  # per coach type
    fleet: tuple[int, ...]  # coaches of each type the whole day may use
    min_riders: int  # a running route carries at least this many, unless it carries a unit that meets the floor


@dataclass(frozen=True, slots=True)
class Seating:
    coach: tuple[int | None, ...]  # per route: the type running it, None when cancelled
    riding: tuple[tuple[tuple[int, int], ...], ...]  # per unit: (route, riders)
    cost: int
    saving: int  # against the seating the problem started from


def seating_cost(
    problem: SeatingProblem, coach: tuple[int | None, ...], riding: Sequence[tuple[tuple[int, int], ...]]
) -> int:
    """Coaches, extra costs per rider, and everyone left off at their unit's cost."""
    total = sum(route.price[k] or 0 for route, k in zip(problem.routes, coach, strict=True) if k is not None)
    for unit, rides in zip(problem.units, riding, strict=True):
        extra = dict(unit.options)
        on = sum(n for _, n in rides)
        total += sum(n * extra[r] for r, n in rides) + (unit.size - on) * unit.left_off_cost
    return total
