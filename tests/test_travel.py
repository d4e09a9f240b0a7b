"""Travel models: the county's distances file where it has a pair, the geodesic estimate elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FACTORIES, TOWNSHIPS, make_problem

from scheduler.model import BusType, DistanceTable, Leg
from scheduler.scenario import load_scenario
from scheduler.solve import SolveParams, solve
from scheduler.travel import GeodesicTravel, TableTravel
from scheduler.validation import InvalidScenario

DATA = Path(__file__).parent / "data"
XINHUA = DATA / "scenario_xinhua"
XINHUA_DISTANCES = DATA / "xinhua_distances.csv"


def test_table_pairs_are_used_and_the_geodesic_model_elsewhere() -> None:
    """A pair in the table gives the table's km and minutes; a pair not in it gives the geodesic estimate."""
    gongjiang, tieshan, changan = TOWNSHIPS[0], TOWNSHIPS[1], FACTORIES[0]
    travel = TableTravel(DistanceTable({(gongjiang.place_id, changan.place_id): Leg(512.3, 401 * 60)}))
    assert travel.leg(gongjiang, changan) == Leg(512.3, 401 * 60)
    assert travel.leg(tieshan, changan) == GeodesicTravel().leg(tieshan, changan)
    assert travel.leg(tieshan, changan).distance_km != pytest.approx(512.3, abs=30)
    assert travel.leg(gongjiang, gongjiang) == Leg(0.0, 0)
    assert (travel.legs_from_table, travel.legs_estimated) == (1, 1)  # distinct pairs, asked twice or not


def test_a_pair_serves_the_reverse_direction_unless_the_table_has_it() -> None:
    """changan -> gongjiang uses the gongjiang -> changan row; a row for the reverse direction wins for it."""
    gongjiang, tieshan, changan = TOWNSHIPS[0], TOWNSHIPS[1], FACTORIES[0]
    table = DistanceTable(
        {
            (gongjiang.place_id, changan.place_id): Leg(512.3, 24060),
            (tieshan.place_id, changan.place_id): Leg(530.0, 25000),
            (changan.place_id, tieshan.place_id): Leg(533.0, 25500),
        }
    )
    travel = TableTravel(table)
    assert travel.leg(changan, gongjiang) == Leg(512.3, 24060)
    assert travel.leg(changan, tieshan) == Leg(533.0, 25500)
    assert travel.leg(tieshan, changan) == Leg(530.0, 25000)
    assert (travel.legs_from_table, travel.legs_estimated) == (3, 0)


def test_a_planned_bus_drives_the_files_legs() -> None:
    """53 travellers from 贡江镇 to 长安: the coach's km are the file's depot -> township -> factory -> depot, its
    driving hours the file's minutes (the return uses the depot -> factory row)."""
    township, factory = TOWNSHIPS[0], FACTORIES[0]
    fleet = (BusType("coach53", 53, 1, 1800.0, 5.5),)
    problem = make_problem([(0, 0, [1] * 53)], fleet)
    legs = {
        ("depot", township.place_id): Leg(1.9, 6 * 60),
        (township.place_id, factory.place_id): Leg(561.0, 452 * 60),
        ("depot", factory.place_id): Leg(560.2, 450 * 60),
    }
    travel = TableTravel(DistanceTable(legs))
    plan = solve(problem, SolveParams(time_limit_s=2, workers=1), travel)
    (bus,) = plan.buses
    assert [s.place_id for s in bus.stops] == [township.place_id, factory.place_id]
    assert bus.distance_km == pytest.approx(1.9 + 561.0 + 560.2)
    assert bus.drive_hours == round((6 + 452) / 60, 2)  # buses carry hours to the hundredth
    assert travel.legs_from_table >= 3


def test_distances_file_loads_with_the_scenario() -> None:
    """load_scenario reads the distances file into the scenario's table, in the file's own direction."""
    scenario = load_scenario(XINHUA, distances_path=XINHUA_DISTANCES)
    assert scenario.distances is not None and scenario.distances.source == "xinhua_distances.csv"
    assert len(scenario.distances.legs) == 7
    assert scenario.distances.get("431322100", "dg-changan") == Leg(842.0, 618 * 60)
    assert scenario.distances.get("dg-changan", "431322100") == Leg(842.0, 618 * 60)
    assert load_scenario(XINHUA).distances is None


def test_bad_distance_rows_are_each_named_by_row_and_field(tmp_path: Path) -> None:
    """Non-numbers, zero or negative figures, unknown places, a place to itself and a repeated pair are reported."""
    bad = tmp_path / "roads.csv"
    bad.write_text(
        "from_id,to_id,km,minutes\n"
        "431322100,dg-changan,abc,618\n"  # 2: km not a number
        "431322101,dg-changan,0,600\n"  # 3: zero km
        "431322102,dg-humen,800,-5\n"  # 4: negative minutes
        "431322199,dg-humen,800,600\n"  # 5: unknown township
        "431322100,dg-changan,842,618\n"  # 6: the pair of row 2 again
        "dg-humen,dg-humen,1,1\n"  # 7: a place to itself
        "depot,431322100,4.1,9\n",  # 8: fine
        encoding="utf-8",
    )
    with pytest.raises(InvalidScenario) as info:
        load_scenario(XINHUA, distances_path=bad)
    problems = info.value.problems
    assert {(p.file, p.row, p.field) for p in problems} == {
        ("roads.csv", 2, "km"),
        ("roads.csv", 3, "km"),
        ("roads.csv", 4, "minutes"),
        ("roads.csv", 5, "from_id"),
        ("roads.csv", 6, "to_id"),
        ("roads.csv", 7, "to_id"),
    }
    by_row = {p.row: p for p in problems}
    assert "rows 2 and 6" in by_row[6].message and "431322199" in by_row[5].message
    assert all(p.message_zh and p.message != p.message_zh for p in problems)


def test_a_missing_distances_file_is_a_problem(tmp_path: Path) -> None:
    """--distances naming no file, or a policy's distances_file naming none, is reported by name."""
    with pytest.raises(InvalidScenario) as info:
        load_scenario(XINHUA, distances_path=tmp_path / "nope.csv")
    assert [(p.file, p.field) for p in info.value.problems] == [("nope.csv", None)]
    policy = tmp_path / "county.toml"
    policy.write_text('distances_file = "roads/missing.csv"\n', encoding="utf-8")
    with pytest.raises(InvalidScenario) as info:
        load_scenario(XINHUA, policy_path=policy)
    assert [(p.file, p.field) for p in info.value.problems] == [("county.toml", "distances_file")]
    assert "missing.csv" in info.value.problems[0].message
