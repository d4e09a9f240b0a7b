"""What the planner assumed about the home county, as data: a code and its figures, in Chinese and in English.

The same shape as ``scheduler.messages`` (``Message(code, params)`` with ``.zh`` and ``.en``), for the
assumptions ``scheduler.defaults`` makes when policy.toml leaves a home setting unset; kept apart only until
the two are folded into one module. Every assumption's params hold ``settings``: the policy.toml settings
(name -> value) that would make it explicit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Params = Mapping[str, Any]
Text = Callable[[Params], str]


@dataclass(frozen=True, slots=True)
class Message:
    """A message to a person: ``code`` names what happened, ``params`` its figures."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in _TEXTS:
            raise ValueError(f"Expected a known message code, got {self.code!r}.")

    @property
    def en(self) -> str:
        return _TEXTS[self.code][0](self.params)

    @property
    def zh(self) -> str:
        return _TEXTS[self.code][1](self.params)


# Params: county or province (the value assumed), matching (travellers whose ID number was issued there),
# placed (travellers whose ID number stdnum could place), travellers (all of the scenario).
def _share_en(p: Params) -> str:
    return f"{p['matching']:,} of the {p['travellers']:,} travellers' ID numbers were issued there"


def _share_zh(p: Params) -> str:
    return f"{p['travellers']}名旅客中有{p['matching']}人的身份证号码属该地"


_TEXTS: dict[str, tuple[Text, Text]] = {
    "county_inferred": (
        lambda p: f"county not set: assumed {p['county']}, the most common home county ({_share_en(p)})",
        lambda p: f"未设置县名（county）：按旅客身份证号码推定为{p['county']}（{_share_zh(p)}）",
    ),
    "province_inferred": (
        lambda p: f"province not set: assumed {p['province']}, the most common home province ({_share_en(p)})",
        lambda p: f"未设置省份（province）：按旅客身份证号码推定为{p['province']}（{_share_zh(p)}）",
    ),
    # Params: lat, lon, townships (how many), travellers, nearest (township name), nearest_km.
    "depot_inferred": (
        lambda p: (
            f"depot not set: coaches start and end at {p['lat']}, {p['lon']}, the centre of the "
            f"{p['townships']} townships weighted by their {p['travellers']:,} travellers "
            f"({p['nearest_km']:.1f} km from {p['nearest']}); set the county bus station instead"
        ),
        lambda p: (
            f"未设置发车点（depot）：包车按{p['townships']}个乡镇的旅客人数（共{p['travellers']}人）加权的中心点 "
            f"{p['lat']}, {p['lon']} 发车和收车（距{p['nearest']} {p['nearest_km']:.1f} 公里）；请改设为县汽车站"
        ),
    ),
    # Params: name (the name assumed for a depot whose coordinates policy.toml gives).
    "depot_name_assumed": (
        lambda p: f"depot_name not set: the depot is called {p['name']} on the plan",
        lambda p: f"未设置发车点名称（depot_name）：计划中称为“{p['name']}”",
    ),
}
ASSUMPTION_CODES = tuple(_TEXTS)
