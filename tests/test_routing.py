"""The OR-Tools pickup-and-delivery model on instances small enough to know the answer."""

from __future__ import annotations

from scheduler.pdp import NodeKind, PdpInstance, PdpNode, PdpRequest, PdpVehicle
from scheduler.routing import SearchParams, solve_pdp


def test_a_vehicle_boards_again_after_dropping_off() -> None:
    """Two loads of 15 on a 20-seat vehicle: both must be served, one after the other. Boardings over the
    whole route (30) exceed the seats; only the load on board at once is limited."""
    places = [(0, 0), (3, 4), (6, 8), (0, 5), (0, 10)]
    nodes = (
        PdpNode(NodeKind.DEPOT, 0),
        PdpNode(NodeKind.PICKUP, 1, 15),
        PdpNode(NodeKind.DELIVERY, 2, -15),
        PdpNode(NodeKind.PICKUP, 3, 15),
        PdpNode(NodeKind.DELIVERY, 4, -15),
    )
    distance = [[round(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5) for bx, by in places] for ax, ay in places]
    instance = PdpInstance(
        nodes,
        (PdpRequest((1,), 2), PdpRequest((3,), 4)),
        (PdpVehicle(capacity=20, fixed_cost=0, cost_class=0, start=0, end=0),),
        distance,
        distance,
        [distance],
    )
    solution = solve_pdp(instance, SearchParams(time_limit_s=1.0, first_solution="LOCAL_CHEAPEST_INSERTION"))
    assert solution.status != "no_solution"
    assert solution.unserved == ()
    (route,) = solution.routes
    assert sorted(route.nodes) == [1, 2, 3, 4]
    load = 0
    for node in route.nodes:
        load += nodes[node].demand
        assert 0 <= load <= 20
