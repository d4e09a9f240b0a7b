"""A day's plan: buses with their stops, the fallback list, and the totals by payer."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

FALLBACK_MODES = ("township_transport", "free_ticket", "unplaced")


@dataclass(frozen=True, slots=True)
class Stop:
    """One physical stop of a bus. Times are seconds after midnight of the plan date."""

    place_id: str
    place_name: str
    kind: str  # "pickup" or "dropoff"
    arrival_s: int
    departure_s: int
    board: tuple[str, ...] = ()
    alight: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Bus:
    bus_id: str
    vehicle_type: str
    seats: int
    area: str
    stops: tuple[Stop, ...]
    distance_km: float
    drive_hours: float  # one-way driving, depot to last drop-off, without rests
    drivers: int
    cost: float  # CNY: fixed + per km (with the priced empty return) + second driver + shuttles

    @property
    def load(self) -> int:
        return sum(len(s.board) for s in self.stops)

    @property
    def traveller_ids(self) -> tuple[str, ...]:
        return tuple(t for s in self.stops for t in s.board)


@dataclass(frozen=True, slots=True)
class Fallback:
    """A traveller who does not ride a chartered bus, how they travel instead, and why."""

    traveller_id: str
    mode: str
    reason: str
    est_cost: float  # CNY per person, what the rule pays at most

    def __post_init__(self) -> None:
        if self.mode not in FALLBACK_MODES:
            raise ValueError(f"Expected mode in {FALLBACK_MODES}, got {self.mode!r}.")


@dataclass(frozen=True, slots=True)
class Totals:
    travellers: int
    on_buses: int
    buses: int
    distance_km: float
    charter_cost: float
    reimbursement_cost: float
    ticket_cost: float
    subsidy_cost: float
    total_cost: float
    seat_fill: float


@dataclass(frozen=True, slots=True)
class Plan:
    date: dt.date
    buses: tuple[Bus, ...]
    fallback: tuple[Fallback, ...]
    subsidies: dict[str, float]  # traveller_id -> one-off subsidy due (registered-poor only)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def totals(self) -> Totals:
        on_buses = sum(b.load for b in self.buses)
        seats = sum(b.seats for b in self.buses)
        charter = sum(b.cost for b in self.buses)
        reimbursement = sum(f.est_cost for f in self.fallback if f.mode == "township_transport")
        tickets = sum(f.est_cost for f in self.fallback if f.mode == "free_ticket")
        subsidy = sum(self.subsidies.values())
        return Totals(
            travellers=on_buses + len(self.fallback),
            on_buses=on_buses,
            buses=len(self.buses),
            distance_km=round(sum(b.distance_km for b in self.buses), 1),
            charter_cost=round(charter, 2),
            reimbursement_cost=round(reimbursement, 2),
            ticket_cost=round(tickets, 2),
            subsidy_cost=round(subsidy, 2),
            total_cost=round(charter + reimbursement + tickets + subsidy, 2),
            seat_fill=round(on_buses / seats, 4) if seats else 0.0,
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan.json shape (field names are a public contract)."""
        totals = self.totals
        return {
            "date": self.date.isoformat(),
            "buses": [
                {
                    "bus_id": b.bus_id,
                    "vehicle_type": b.vehicle_type,
                    "seats": b.seats,
                    "load": b.load,
                    "area": b.area,
                    "distance_km": round(b.distance_km, 1),
                    "drive_hours": round(b.drive_hours, 2),
                    "drivers": b.drivers,
                    "cost": round(b.cost, 2),
                    "stops": [
                        {
                            "place_id": s.place_id,
                            "place_name": s.place_name,
                            "kind": s.kind,
                            "arrival": format_clock(self.date, s.arrival_s),
                            "departure": format_clock(self.date, s.departure_s),
                            "board": list(s.board),
                            "alight": list(s.alight),
                        }
                        for s in b.stops
                    ],
                }
                for b in self.buses
            ],
            "fallback": [
                {"traveller_id": f.traveller_id, "mode": f.mode, "reason": f.reason, "est_cost": round(f.est_cost, 2)}
                for f in self.fallback
            ],
            "subsidies": [{"traveller_id": t, "amount": a} for t, a in sorted(self.subsidies.items())],
            "totals": {
                "travellers": totals.travellers,
                "on_buses": totals.on_buses,
                "buses": totals.buses,
                "distance_km": totals.distance_km,
                "charter_cost": totals.charter_cost,
                "reimbursement_cost": totals.reimbursement_cost,
                "ticket_cost": totals.ticket_cost,
                "subsidy_cost": totals.subsidy_cost,
                "total_cost": totals.total_cost,
                "seat_fill": totals.seat_fill,
            },
            "stats": self.stats,
        }

    def modes(self) -> Counter[str]:
        """Travellers by how they travel: "bus" or a fallback mode."""
        counts: Counter[str] = Counter({"bus": sum(b.load for b in self.buses)})
        counts.update(f.mode for f in self.fallback)
        return counts


def format_clock(day: dt.date, seconds: int) -> str:
    """Seconds after midnight of ``day`` -> ISO local date-time (may fall on a later day)."""
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=int(seconds))
    return moment.isoformat(timespec="minutes")
