"""Home settings a scenario leaves unset: inferred from the travellers' ID numbers and the townships, and checked."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import DAY, FACTORIES, TOWNSHIPS, traveller
from geopy.distance import geodesic
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from scheduler.defaults import INFERRED_DEPOT_NAME, birth_place, infer_home_settings, toml_line
from scheduler.model import Problem
from scheduler.policy import InvalidPolicy, PolicyRules, policy_from_dict
from scheduler.scenario import load_scenario
from scheduler.validation import InvalidScenario

DATA = Path(__file__).parent / "data"
# Six townships of 新化县 (Hunan) with travellers for Dongguan and Shenzhen, and no policy.toml.
XINHUA = DATA / "scenario_xinhua"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _with_area(number: str, area: str) -> str:
    body = area + number[6:17]
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def xinhua_copy(tmp_path: Path) -> Path:
    """A writable copy of scenario_xinhua for variants."""
    return Path(shutil.copytree(XINHUA, tmp_path / "xinhua"))


def test_home_county_and_province_are_those_of_most_id_numbers() -> None:
    """Without policy.toml, county and province are where most travellers' ID numbers were issued, as stdnum says."""
    scenario = load_scenario(XINHUA)
    # Counted independently: stdnum's own answer for every number it places with its dated table.
    places = Counter()
    for row in _rows(XINHUA / "travellers.csv"):
        try:
            info = ric.get_birth_place(row["id_number"])
        except (ValidationError, KeyError):  # KeyError: stdnum knows the province of the code only
            continue
        places[info["province"], info["county"]] += 1
    (province, county), _ = places.most_common(1)[0]
    assert (scenario.rules.county, scenario.rules.province) == (county, province) == ("新化县", "湖南省")
    codes = [m.code for m in scenario.assumptions]
    assert codes == ["county_inferred", "province_inferred", "depot_inferred"]
    county_note = scenario.assumptions[0]
    assert county_note.params["settings"] == {"county": "新化县"}
    assert "新化县" in county_note.zh and "新化县" in county_note.en


def test_inferred_depot_is_the_traveller_weighted_centre_of_the_townships() -> None:
    """The inferred depot lies at the townships' centre weighted by their travellers (to 100 m), and says so."""
    scenario = load_scenario(XINHUA)
    weights = Counter(t.township_id for t in scenario.travellers)
    total = sum(weights.values())
    centre = (
        sum(weights[t.township_id] * t.lat for t in scenario.townships) / total,
        sum(weights[t.township_id] * t.lon for t in scenario.townships) / total,
    )
    rules = scenario.rules
    assert geodesic(centre, (rules.depot_lat, rules.depot_lon)).km < 0.1
    # The unweighted centre is elsewhere: the weighting matters.
    plain = (
        sum(t.lat for t in scenario.townships) / len(scenario.townships),
        sum(t.lon for t in scenario.townships) / len(scenario.townships),
    )
    assert geodesic(plain, (rules.depot_lat, rules.depot_lon)).km > 2.0
    assert rules.depot_name == INFERRED_DEPOT_NAME and "推算" in rules.depot_name
    depot_note = scenario.assumptions[-1]
    assert depot_note.params["settings"] == {
        "depot_name": INFERRED_DEPOT_NAME,
        "depot_lat": rules.depot_lat,
        "depot_lon": rules.depot_lon,
    }
    assert toml_line("depot_lat", rules.depot_lat) == f"depot_lat = {rules.depot_lat}"


def test_given_home_settings_are_kept_and_only_the_rest_inferred(xinhua_copy: Path) -> None:
    """A policy.toml with county and depot keeps them; only province is inferred; with all five, nothing is."""
    (xinhua_copy / "policy.toml").write_text(
        'county = "新化县"\ndepot_name = "新化汽车站"\ndepot_lat = 27.7420\ndepot_lon = 111.3110\n', encoding="utf-8"
    )
    scenario = load_scenario(xinhua_copy)
    assert [m.code for m in scenario.assumptions] == ["province_inferred"]
    assert (scenario.rules.depot_name, scenario.rules.depot_lat, scenario.rules.depot_lon) == (
        "新化汽车站",
        27.742,
        111.311,
    )
    assert scenario.rules.province == "湖南省"
    with (xinhua_copy / "policy.toml").open("a", encoding="utf-8") as handle:
        handle.write('province = "湖南省"\n')
    full = load_scenario(xinhua_copy)
    assert full.assumptions == () and full.rules.missing_home_settings() == ()


def test_a_depot_without_a_name_gets_one_and_says_so() -> None:
    """Coordinates without depot_name: the depot is kept where it is and called 发车点, as an assumption."""
    rules = PolicyRules(county="新化县", province="湖南省", depot_lat=27.742, depot_lon=111.311)
    home = infer_home_settings(rules, load_scenario(XINHUA).townships, ())
    assert (home.rules.depot_lat, home.rules.depot_lon, home.rules.depot_name) == (27.742, 111.311, "发车点")
    assert [m.code for m in home.assumptions] == ["depot_name_assumed"]


def test_numbers_stdnum_dates_out_are_still_placed() -> None:
    """stdnum refuses 360731 for someone born in 1985 (the code dates from 1998); the area's name is used instead."""
    number = "360731198511300330"
    with pytest.raises(ValidationError):
        ric.get_birth_place(number)
    assert birth_place(number) == ("江西省", "于都县")
    assert birth_place(_with_area(number, "439999")) == ("湖南省", "")  # a code stdnum knows only the province of
    assert birth_place(_with_area(number, "999999")) is None


def test_a_county_that_cannot_be_inferred_is_a_problem_naming_the_setting(xinhua_copy: Path) -> None:
    """When no ID number has an area code stdnum knows, county and province are asked for in policy.toml."""
    rows = _rows(xinhua_copy / "travellers.csv")
    for row in rows:
        row["id_number"] = _with_area(row["id_number"], "999999")
    _write_rows(xinhua_copy / "travellers.csv", rows)
    with pytest.raises(InvalidScenario) as info:
        load_scenario(xinhua_copy)
    assert {(p.file, p.row, p.field) for p in info.value.problems} == {
        ("policy.toml", None, "county"),
        ("policy.toml", None, "province"),
    }
    assert all("policy.toml" in p.message and "policy.toml" in p.message_zh for p in info.value.problems)


def test_a_depot_300_km_away_is_refused_naming_depot_lat_and_depot_lon(xinhua_copy: Path) -> None:
    """A depot more than 100 km from every township is a problem of policy.toml's depot_lat/depot_lon."""
    # 于都汽车站: the depot every scenario used to get, about 450 km from 新化县.
    (xinhua_copy / "policy.toml").write_text("depot_lat = 25.9594\ndepot_lon = 115.4110\n", encoding="utf-8")
    with pytest.raises(InvalidScenario) as info:
        load_scenario(xinhua_copy)
    (problem,) = info.value.problems
    assert (problem.file, problem.row, problem.field) == ("policy.toml", None, "depot_lat/depot_lon")
    assert "depot_lat" in problem.message and "depot_lon" in problem.message and "100 km" in problem.message
    assert "depot_lat" in problem.message_zh and "公里" in problem.message_zh


def test_a_depot_just_inside_100_km_is_accepted(xinhua_copy: Path) -> None:
    """The limit is on the nearest township: a depot 90 km due north of the northernmost one is fine."""
    north = max(load_scenario(XINHUA).townships, key=lambda t: t.lat)
    lat = round(north.lat + 90 / 111.2, 4)
    (xinhua_copy / "policy.toml").write_text(f"depot_lat = {lat}\ndepot_lon = {north.lon}\n", encoding="utf-8")
    assert 85 < geodesic((lat, north.lon), (north.lat, north.lon)).km < 95
    assert load_scenario(xinhua_copy).rules.depot_lat == lat


def test_policy_leaves_home_settings_unset_and_checks_them() -> None:
    """No county's values by default; depot coordinates are numbers, given together, in range."""
    rules = PolicyRules()
    assert rules.missing_home_settings() == ("county", "province", "depot_name", "depot_lat", "depot_lon")
    assert (rules.county, rules.province, rules.depot_lat, rules.distances_file) == ("", "", None, "")
    assert policy_from_dict({"depot_lat": 26, "depot_lon": 115}).depot_lat == 26.0
    assert policy_from_dict({"depot_lat": None, "depot_lon": None}).depot_lat is None
    for bad in ({"depot_lat": "25.9", "depot_lon": 115.4}, {"depot_lat": True, "depot_lon": 115.4}):
        with pytest.raises(InvalidPolicy, match="depot_lat must be a number"):
            policy_from_dict(bad)
    with pytest.raises(InvalidPolicy, match="together"):
        policy_from_dict({"depot_lat": 25.9})
    with pytest.raises(InvalidPolicy, match="depot_lon"):
        policy_from_dict({"depot_lat": 25.9, "depot_lon": 215.4})
    with pytest.raises(InvalidPolicy, match="distances_file must be text"):
        policy_from_dict({"distances_file": 3})


def test_a_problem_without_a_depot_says_so() -> None:
    """Problem.depot raises a ValueError naming the settings when the rules set no depot."""
    problem = Problem(DAY, TOWNSHIPS, FACTORIES, (traveller("T1", TOWNSHIPS[0], FACTORIES[0]),), (), PolicyRules())
    with pytest.raises(ValueError, match="depot_lat and depot_lon"):
        _ = problem.depot
