"""A generic pickup-and-delivery problem with time windows, in integers, and its solution.

The county planner builds one of these per destination area; the Li & Lim benchmark builds one per
instance file. ``scheduler.routing`` solves it with OR-Tools. Nothing here knows about buses or
townships: nodes have a place (for counting stops), a demand, time windows and a service time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class NodeKind(Enum):
    DEPOT = "depot"
    PICKUP = "pickup"
    DELIVERY = "delivery"


@dataclass(frozen=True, slots=True)
class PdpNode:
    """A stop where something happens. ``place`` groups co-located nodes into one physical stop."""

    kind: NodeKind
    place: int
    demand: int = 0
    # Allowed service start times, as disjoint (start, end) intervals in ascending order.
    windows: tuple[tuple[int, int], ...] = ((0, 2**40),)
    service: int = 0


@dataclass(frozen=True, slots=True)
class PdpRequest:
    """Carry ``demand`` from one of ``pickups`` (alternative nodes) to ``delivery``.

    ``penalty`` is the cost of leaving the request unserved; ``None`` means it must be served.
    """

    pickups: tuple[int, ...]
    delivery: int
    penalty: int | None = None
    # A vehicle carrying this request is exempt from its ``min_load`` floor (riders entitled to a seat).
    meets_floor: bool = False


@dataclass(frozen=True, slots=True)
class PdpVehicle:
    """One vehicle: ``cost_class`` picks its arc-cost matrix; ``min_load`` is a soft floor on riders."""

    capacity: int
    fixed_cost: int
    cost_class: int
    start: int
    end: int
    min_load: int = 0
    # Cost per rider missing below ``min_load`` on a used vehicle.
    shortfall_cost: int = 0
    max_span: int | None = None


@dataclass(frozen=True, slots=True)
class PdpInstance:
    """Nodes, requests, vehicles, and the integer matrices between nodes.

    ``travel_time[i][j]`` already includes the service at ``i`` and any mandatory rest;
    ``arc_costs[c][i][j]`` is the cost of driving i -> j for a vehicle of cost class ``c``;
    ``distance[i][j]`` is kept for reporting.
    """

    nodes: tuple[PdpNode, ...]
    requests: tuple[PdpRequest, ...]
    vehicles: tuple[PdpVehicle, ...]
    distance: list[list[int]]
    travel_time: list[list[int]]
    arc_costs: list[list[list[int]]]
    max_pickup_stops: int | None = None
    max_delivery_stops: int | None = None
    # The request each delivery node ends (derived; feasibility checks ask it for every route they try).
    request_of_delivery: dict[int, PdpRequest] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "request_of_delivery", {r.delivery: r for r in self.requests})
        n = len(self.nodes)
        for name, matrix in (("distance", self.distance), ("travel_time", self.travel_time)):
            if len(matrix) != n or any(len(row) != n for row in matrix):
                raise ValueError(f"Expected a {n}x{n} {name} matrix.")
        for c, matrix in enumerate(self.arc_costs):
            if len(matrix) != n:
                raise ValueError(f"Expected a {n}x{n} arc cost matrix for class {c}.")
        for request in self.requests:
            if not request.pickups:
                raise ValueError("Expected at least one pickup node per request.")
            demands = {self.nodes[p].demand for p in request.pickups}
            if len(demands) != 1 or self.nodes[request.delivery].demand != -demands.pop():
                raise ValueError("Expected alternative pickups of one request to share its demand.")


@dataclass(frozen=True, slots=True)
class PdpRoute:
    vehicle: int
    nodes: tuple[int, ...]  # visited nodes, without start and end
    arrival: tuple[int, ...]  # service start time at each visited node


@dataclass(frozen=True, slots=True)
class PdpSolution:
    routes: tuple[PdpRoute, ...]
    unserved: tuple[int, ...]  # request indices
    objective: int
    status: str
    stats: dict[str, float] = field(default_factory=dict)
