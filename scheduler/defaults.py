"""Home settings a county did not write down, inferred from its own scenario.

Without ``county`` and ``province`` the planner cannot tell in-county or in-province factories (subsidies
depend on it), and without a depot it has nowhere to start the coaches. Rather than assume a county,
``infer_home_settings`` reads them off the scenario:

- county and province: the birth place (area code) of the travellers' 18-digit ID numbers, the most common
  one, by python-stdnum's table of area codes;
- the depot: the centre of the townships weighted by their travellers, named so a reader sees it was inferred.

Each inferred value comes back as an assumption (``scheduler.messages.Message``) whose params name the
policy.toml settings that make it explicit; ``toml_line`` renders one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from geopy.distance import geodesic
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from scheduler.messages import Message
from scheduler.model import Township, Traveller
from scheduler.policy import PolicyRules

INFERRED_DEPOT_NAME = "推算发车点（乡镇加权中心）"
# The name of a depot whose coordinates policy.toml gives without a name.
UNNAMED_DEPOT_NAME = "发车点"
# Decimal places of an inferred depot's coordinates (about 10 m), so that the printed setting is the value used.
DEPOT_DIGITS = 4


@dataclass(frozen=True, slots=True)
class HomeSettings:
    """Rules with the home settings filled in, and what was assumed to fill them."""

    rules: PolicyRules
    assumptions: tuple[Message, ...]


def infer_home_settings(
    rules: PolicyRules, townships: Sequence[Township], travellers: Sequence[Traveller]
) -> HomeSettings:
    """Fill in the home settings ``rules`` leave unset, from the scenario's townships and travellers.

    County and province are the most common birth place of the travellers' ID numbers (python-stdnum);
    numbers whose area code stdnum does not know are skipped, and when none is known the setting stays
    unset (``scheduler.validation.check_home_settings`` then asks for it). The depot is the centre of the
    townships weighted by their travellers (all townships alike when none has travellers).

    Args:
        rules: the county's rules as given (policy.toml or the defaults).
        townships: the scenario's townships.
        travellers: all the scenario's travellers (not one day's), so every day gets the same depot.

    Returns:
        The completed rules, and one assumption per inferred setting or group of settings, in the order
        county, province, depot.
    """
    missing = set(rules.missing_home_settings())
    changes: dict[str, Any] = {}
    assumptions: list[Message] = []
    if missing & {"county", "province"}:
        homes = home_counts(t.id_number for t in travellers)
        placed = sum(homes.values())
        county = rules.county
        if not county and (top := _most_common(homes, lambda home: bool(home[1]))) is not None:
            county = changes["county"] = top[1]
            params = {"county": county, "matching": homes[top], "placed": placed, "travellers": len(travellers)}
            assumptions.append(Message("county_inferred", params | {"settings": {"county": county}}))
        if not rules.province:
            # The home county's province when some number names it, else the most common province.
            top = _most_common(homes, lambda home: bool(home[0]) and home[1] == county)
            provinces = Counter[str]()
            for home, n in homes.items():
                if home[0]:
                    provinces[home[0]] += n
            province = top[0] if top is not None else (provinces.most_common(1)[0][0] if provinces else "")
            if province:
                changes["province"] = province
                params = {"province": province, "matching": provinces[province], "placed": placed}
                params |= {"travellers": len(travellers), "settings": {"province": province}}
                assumptions.append(Message("province_inferred", params))
    if "depot_lat" in missing and townships:
        lat, lon = weighted_centre(townships, travellers)
        nearest = min(townships, key=lambda t: _km(lat, lon, t.lat, t.lon))
        settings: dict[str, Any] = {"depot_name": INFERRED_DEPOT_NAME} if "depot_name" in missing else {}
        settings |= {"depot_lat": lat, "depot_lon": lon}
        changes |= settings
        weights = Counter(t.township_id for t in travellers)
        assumptions.append(
            Message(
                "depot_inferred",
                {
                    "lat": lat,
                    "lon": lon,
                    "townships": len(townships),
                    "travellers": sum(weights[t.township_id] for t in townships),
                    "nearest": nearest.name,
                    "nearest_km": round(_km(lat, lon, nearest.lat, nearest.lon), 1),
                    "settings": settings,
                },
            )
        )
    elif "depot_name" in missing and "depot_lat" not in missing:
        changes["depot_name"] = UNNAMED_DEPOT_NAME
        assumptions.append(
            Message("depot_name_assumed", {"name": UNNAMED_DEPOT_NAME, "settings": {"depot_name": UNNAMED_DEPOT_NAME}})
        )
    return HomeSettings(replace(rules, **changes) if changes else rules, tuple(assumptions))


def birth_place(id_number: str) -> tuple[str, str] | None:
    """(province, county) where an 18-digit resident ID number was issued, "" for a part stdnum does not know.

    stdnum's ``get_birth_place`` dates each area code and refuses a number whose code was assigned after
    the birth year (it knows 于都县 360731 only from 1998). But numbers are issued, and reissued, with the
    code in force at the time, so such a number is placed at the area's latest name instead.

    Returns:
        The place, or None when stdnum knows neither the province nor the county of the area code.
    """
    try:
        info = ric.get_birth_place(id_number)
        return info.get("province", ""), info.get("county", "")
    except (ValidationError, KeyError):
        # KeyError: stdnum knows the province but not the county of the code.
        pass
    found = {k: v for _part, props in numdb.get("cn/loc").info(id_number[:6]) for k, v in props.items()}
    province, county = found.get("province", ""), found.get("county", "")
    # "[1997-1997]万县区,[1998-]万州区": the names of one code over time, the latest last.
    latest = county.split(",")[-1]
    county = latest.split("]", 1)[1] if latest.startswith("[") else latest
    return (province, county) if province or county else None


def home_counts(id_numbers: Iterable[str]) -> Counter[tuple[str, str]]:
    """How many ID numbers were issued in each (province, county); numbers stdnum cannot place are left out."""
    places: dict[tuple[str, str], tuple[str, str] | None] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for number in id_numbers:
        # A campaign's numbers share a few area codes and birth years: look each pair up once.
        key = (number[:6], number[6:10])
        if key not in places:
            places[key] = birth_place(number)
        if (home := places[key]) is not None:
            counts[home] += 1
    return counts


def weighted_centre(townships: Sequence[Township], travellers: Iterable[Traveller]) -> tuple[float, float]:
    """The townships' mean latitude and longitude weighted by their travellers, to ``DEPOT_DIGITS`` places.

    A plain mean of degrees: a county is small enough that it lies within metres of the geodesic centre.
    """
    weights = Counter(t.township_id for t in travellers)
    total = sum(weights[t.township_id] for t in townships)
    if total == 0:
        weights, total = Counter({t.township_id: 1 for t in townships}), len(townships)
    lat = sum(weights[t.township_id] * t.lat for t in townships) / total
    lon = sum(weights[t.township_id] * t.lon for t in townships) / total
    return round(lat, DEPOT_DIGITS), round(lon, DEPOT_DIGITS)


def toml_line(setting: str, value: Any) -> str:
    """One policy.toml line: ``depot_lat = 25.9512``, ``county = "新化县"``."""
    if isinstance(value, str):
        return f"{setting} = {json.dumps(value, ensure_ascii=False)}"
    return f"{setting} = {value!r}"


def _most_common(homes: Counter[tuple[str, str]], keep: Callable[[tuple[str, str]], bool]) -> tuple[str, str] | None:
    """The most common (province, county) of those ``keep`` accepts; ties go to the first seen."""
    kept = [(home, n) for home, n in homes.items() if keep(home)]
    return max(kept, key=lambda item: item[1])[0] if kept else None


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(geodesic((lat1, lon1), (lat2, lon2)).km)
