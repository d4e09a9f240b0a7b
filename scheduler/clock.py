"""Times of day as people write them (HH:MM) and moments of a plan (ISO local date-times), both ways.

The planner counts seconds after midnight of the plan date; these are the only functions that turn those
seconds into text or back.
"""

from __future__ import annotations

import datetime as dt
import re

DAY_S = 24 * 3600

_CLOCK_RE = re.compile(r"(\d{1,2})[:：](\d{2})(?:[:：]00)?")


def parse_clock(text: str) -> int | None:
    """HH:MM (H:MM, a full-width colon and 24:00 allowed) -> seconds after midnight, or None."""
    match = _CLOCK_RE.fullmatch(text.strip())
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if minutes >= 60 or hours * 60 + minutes > 24 * 60:
        return None
    return hours * 3600 + minutes * 60


def format_clock(seconds: int) -> str:
    """Seconds after midnight -> HH:MM of that day (24:00 for the end of the day)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def format_moment(day: dt.date, seconds: int) -> str:
    """Seconds after midnight of ``day`` -> an ISO local date-time to the minute, or to the second when it has
    seconds (it may fall on a later day): 2026-02-20T05:30."""
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=int(seconds))
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds")


def day_zh(day: dt.date | None) -> str:
    """A date as people write it on a notice or a page: 2月20日."""
    return f"{day.month}月{day.day}日" if day else ""


def moment_zh(moment: str | None) -> str:
    """A stored local time ("2026-02-20 05:40") as people write it: 2月20日 05:40."""
    if not moment:
        return ""
    parsed = dt.datetime.fromisoformat(moment)
    return f"{day_zh(parsed.date())} {parsed:%H:%M}"


def format_for_people(day: dt.date, seconds: int) -> str:
    """Seconds after midnight of ``day`` -> the date and time to the minute as people read it on a notice,
    seconds dropped (a coach at the stop at 05:40:30 is "05:40"): 2026-02-20 05:40."""
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=int(seconds))
    return moment.strftime("%Y-%m-%d %H:%M")


def parse_moment(day: dt.date, text: str) -> int:
    """The inverse of ``format_moment``: an ISO local date-time -> seconds after midnight of ``day``.

    Raises:
        ValueError: the text is not an ISO date-time.
    """
    moment = dt.datetime.fromisoformat(text)
    return round((moment - dt.datetime.combine(day, dt.time())).total_seconds())
