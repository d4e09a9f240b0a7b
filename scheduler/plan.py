"""A day's plan: buses with their stops, the fallback list, and the totals by payer.

``Plan.to_dict`` gives the plan.json shape (its field names are a public contract) and ``Plan.from_dict`` reads
it back: ``Plan.from_dict(plan.to_dict()) == plan``. Values are rounded where they are made (a bus's price to
the fen, its distance to 0.1 km), never on the way out, so nothing is lost in between.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scheduler.clock import format_moment, parse_moment
from scheduler.messages import FALLBACK_CAUSES, Message

FALLBACK_MODES = ("township_transport", "free_ticket", "unplaced")
STOP_KINDS = ("pickup", "dropoff")


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

    def __post_init__(self) -> None:
        if self.kind not in STOP_KINDS:
            raise ValueError(f"Expected stop kind in {STOP_KINDS}, got {self.kind!r}.")
        if self.departure_s < self.arrival_s:
            raise ValueError(f"Expected departure at or after arrival at {self.place_id}.")


@dataclass(frozen=True, slots=True)
class Bus:
    bus_id: str
    vehicle_type: str
    seats: int
    area: str
    stops: tuple[Stop, ...]
    distance_km: float  # depot, every stop, back to the depot
    drive_hours: float  # one-way driving, depot to last drop-off, without rests
    drivers: int
    cost: float  # CNY: fixed + per km (with the priced empty return) + second driver + shuttles
    coach_id: str = ""  # the contracted coach that drives it (scheduler.coaches), e.g. coach53-017

    @property
    def load(self) -> int:
        return sum(len(s.board) for s in self.stops)

    @property
    def traveller_ids(self) -> tuple[str, ...]:
        return tuple(t for s in self.stops for t in s.board)


@dataclass(frozen=True, slots=True)
class Fallback:
    """A traveller who does not ride a chartered bus, how they travel instead, and why.

    ``cause`` (one of ``scheduler.messages.FALLBACK_CAUSES``) and ``params`` are the reason as data; ``reason``
    and ``reason_zh`` are its sentences.
    """

    traveller_id: str
    mode: str
    cause: str
    params: dict[str, Any]
    est_cost: float  # CNY per person, what the rule pays at most

    def __post_init__(self) -> None:
        if self.mode not in FALLBACK_MODES:
            raise ValueError(f"Expected mode in {FALLBACK_MODES}, got {self.mode!r}.")
        if self.cause not in FALLBACK_CAUSES:
            raise ValueError(f"Expected cause in {FALLBACK_CAUSES}, got {self.cause!r}.")

    @property
    def message(self) -> Message:
        return Message(self.cause, self.params)

    @property
    def reason(self) -> str:
        return self.message.en

    @property
    def reason_zh(self) -> str:
        return self.message.zh


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
        """The plan.json shape (field names are a public contract; ``totals`` and ``load`` are derived)."""
        totals = self.totals
        return {
            "date": self.date.isoformat(),
            "buses": [
                {
                    "bus_id": b.bus_id,
                    "vehicle_type": b.vehicle_type,
                    "coach_id": b.coach_id,
                    "seats": b.seats,
                    "load": b.load,
                    "area": b.area,
                    "distance_km": b.distance_km,
                    "drive_hours": b.drive_hours,
                    "drivers": b.drivers,
                    "cost": b.cost,
                    "stops": [
                        {
                            "place_id": s.place_id,
                            "place_name": s.place_name,
                            "kind": s.kind,
                            "arrival": format_moment(self.date, s.arrival_s),
                            "departure": format_moment(self.date, s.departure_s),
                            "board": list(s.board),
                            "alight": list(s.alight),
                        }
                        for s in b.stops
                    ],
                }
                for b in self.buses
            ],
            "fallback": [
                {
                    "traveller_id": f.traveller_id,
                    "mode": f.mode,
                    "cause": f.cause,
                    "params": f.params,
                    "reason": f.reason,
                    "reason_zh": f.reason_zh,
                    "est_cost": f.est_cost,
                }
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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Read the plan.json shape back (derived fields, ``totals``, ``load`` and the reason texts, are
        ignored: they follow from the rest).

        Raises:
            ValueError: a field is missing or of the wrong kind, naming it.
        """
        try:
            day = dt.date.fromisoformat(data["date"])
            buses = tuple(
                Bus(
                    str(b["bus_id"]),
                    str(b["vehicle_type"]),
                    int(b["seats"]),
                    str(b["area"]),
                    tuple(
                        Stop(
                            str(s["place_id"]),
                            str(s["place_name"]),
                            str(s["kind"]),
                            parse_moment(day, s["arrival"]),
                            parse_moment(day, s["departure"]),
                            tuple(str(t) for t in s["board"]),
                            tuple(str(t) for t in s["alight"]),
                        )
                        for s in b["stops"]
                    ),
                    float(b["distance_km"]),
                    float(b["drive_hours"]),
                    int(b["drivers"]),
                    float(b["cost"]),
                    str(b.get("coach_id", "")),  # plans made before coaches were named have none
                )
                for b in data["buses"]
            )
            fallback = tuple(
                Fallback(
                    str(f["traveller_id"]), str(f["mode"]), str(f["cause"]), dict(f["params"]), float(f["est_cost"])
                )
                for f in data["fallback"]
            )
            subsidies = {str(s["traveller_id"]): float(s["amount"]) for s in data["subsidies"]}
            return cls(day, buses, fallback, subsidies, dict(data.get("stats", {})))
        except KeyError as err:
            raise ValueError(f"Expected a plan with field {err.args[0]!r}.") from None
        except (TypeError, AttributeError) as err:
            raise ValueError(f"Expected the plan.json shape: {err}.") from None

    def modes(self) -> Counter[str]:
        """Travellers by how they travel: "bus" or a fallback mode."""
        counts: Counter[str] = Counter({"bus": sum(b.load for b in self.buses)})
        counts.update(f.mode for f in self.fallback)
        return counts
