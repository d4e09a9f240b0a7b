"""A traveller's life, in one place: which event may happen in which status, what status follows, and the one
function that checks, versions and applies a change (the audit log records it).

    registered --plan--> planned --board--> boarded --arrive--> arrived
         ^  |               |  \\--arrive (fallbacks, or a bus nobody ticked)--^
         |  overdue         |   \\--went_elsewhere--> went_elsewhere
         |                  no_show / release: freed, registered again for a later plan
    registered, planned or overdue --cancel--> cancelled

Bulk changes (publishing a plan, a conditional arrival) use ``may_happen_in`` and ``status_after`` in their
statements' WHERE and SET, so the table below stays the only statement of the rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from api import models as m
from api.errors import conflict
from api.services import notices

S = m.TravellerStatus
ON_THE_WAY = frozenset({S.planned, S.boarded})
WAITING = frozenset({S.registered, S.overdue})

# event -> (the statuses it may happen in, the status after it; None: the status stays)
EVENTS: dict[str, tuple[frozenset[S], S | None]] = {
    # A change to the registration itself (dates, factory, group): only before it is planned.
    "correct": (WAITING, S.registered),
    # Name or phone corrected: also after publish, the seat stays.
    "contact": (WAITING | ON_THE_WAY, None),
    "plan": (WAITING, S.planned),
    "overdue": (WAITING, S.overdue),
    "board": (frozenset({S.planned}), S.boarded),
    "no_show": (ON_THE_WAY, S.registered),
    "release": (frozenset({S.planned}), S.registered),
    "arrive": (ON_THE_WAY, S.arrived),
    "went_elsewhere": (ON_THE_WAY, S.went_elsewhere),
    "cancel": (WAITING | frozenset({S.planned}), S.cancelled),
}
EVENT_ZH = {
    "correct": "修改登记",
    "contact": "更正联系方式",
    "plan": "安排",
    "overdue": "标记逾期",
    "board": "确认上车",
    "no_show": "标记未到",
    "release": "退回车辆",
    "arrive": "确认到岗",
    "went_elsewhere": "标记去了别处",
    "cancel": "取消",
}
STATUS_ZH = {
    S.registered: "已登记",
    S.planned: "已安排",
    S.boarded: "已上车",
    S.arrived: "已到岗",
    S.went_elsewhere: "去了别处",
    S.cancelled: "已取消",
    S.overdue: "逾期未安排",
}

# The events a traveller is told of by text message (publishing tells of the seat itself).
NOTIFIED = frozenset({"cancel", "no_show", "release", "overdue"})

# A freed traveller (no-show, released bus): no plan, bus, seat or fallback; registered for a later plan.
FREED: dict[str, Any] = {
    "plan_id": None,
    "travel_date": None,
    "mode": None,
    "bus_id": None,
    "seat": None,
    "ticket_code": None,
    "boards_at": None,
    "board_time": None,
    "alights_at": None,
    "est_cost": None,
    "fallback_cause": None,
    "fallback_params": None,
}


def may_happen_in(event: str) -> list[str]:
    """The statuses (as stored) in which ``event`` may happen, for a bulk statement's WHERE."""
    return sorted(s.value for s in EVENTS[event][0])


def status_after(event: str, status: str) -> str:
    after = EVENTS[event][1]
    return after.value if after is not None else status


def can(t: m.Traveller, event: str) -> bool:
    return S(t.status) in EVENTS[event][0]


def transition(t: m.Traveller, event: str, now: dt.datetime | None = None, **changes: Any) -> None:
    """Apply ``event`` to ``t``: its status as the table says, ``changes`` to its columns, a new version.

    Raises:
        ApiError: 409 when ``event`` cannot happen in ``t``'s status, naming both in English and Chinese.
    """
    if not can(t, event):
        status = S(t.status)
        raise conflict(
            f"traveller {t.id} is {status.value}: cannot {event.replace('_', ' ')}",
            f"旅客 {t.id} 当前状态为“{STATUS_ZH[status]}”，不能{EVENT_ZH[event]}",
            traveller_status=status.value,
        )
    new_phone = "phone" in changes and changes["phone"] != t.phone
    for key, value in changes.items():
        setattr(t, key, value)
    t.status = status_after(event, t.status)
    t.version += 1
    t.updated_at = now or m.utcnow()
    session = Session.object_session(t)
    if session is None:  # a row that is in no database has nobody to tell
        return
    if event in NOTIFIED:
        notices.queue(session, [t], event)
    elif new_phone and S(t.status) in ON_THE_WAY:
        notices.queue(session, [t], "publish")  # the journey again, to the number that now reaches them


def free(t: m.Traveller, event: str, now: dt.datetime | None = None) -> None:
    """A no-show or a released bus: ``t`` leaves its bus or fallback and waits for a later plan."""
    transition(t, event, now, **FREED, no_shows=t.no_shows + (event == "no_show"))
