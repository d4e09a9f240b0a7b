"""Scenario files -> Scenario: reading CSV and xlsx, and reporting every problem at once."""

from __future__ import annotations

import csv
import datetime as dt
import io
import pickle
import re
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

import openpyxl
import pytest
from stdnum.cn import ric

from scheduler.model import BusType, Factory, Scenario, Township, Traveller
from scheduler.policy import InvalidPolicy, policy_from_dict
from scheduler.scenario import check_traveller_rows, load_scenario, read_traveller_rows
from scheduler.validation import (
    InvalidScenario,
    ScenarioProblem,
    check_bus_type_row,
    check_factory_row,
    check_id_number,
    check_traveller_row,
    normalise_phone,
    parse_date,
    parse_yes_no,
)

DATA = Path(__file__).parent / "data"
SMALL = DATA / "scenario_small"
BAD_ROWS = DATA / "scenario_bad_rows"
CJK = re.compile(r"[\u4e00-\u9fff]")

DATE_COLUMNS = {"earliest_date", "report_date"}
FLOAT_COLUMNS = {"lat", "lon", "fixed_cost", "cost_per_km"}
INT_COLUMNS = {"seats", "count"}
CLOCK_COLUMNS = {"receive_from", "receive_until"}


def make_id_number(area: str, born: dt.date, sequence: int) -> str:
    """An 18-digit resident ID number with the right check digit."""
    body = f"{area}{born:%Y%m%d}{sequence:03d}"
    # calc_check_digit expects the number with a (placeholder) check digit.
    return body + ric.calc_check_digit(body + "0")


def read_csv(path: Path) -> list[list[str]]:
    """A CSV file's records, header first."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def write_csv(path: Path, records: list[list[str]], encoding: str = "utf-8") -> None:
    """Write records as a CSV file in the given encoding."""
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(records)


def excel_cell(column: str, text: str) -> object:
    """The value Excel would store when a clerk types ``text`` into ``column``."""
    if not text:
        return None
    if column in DATE_COLUMNS:
        parsed = parse_date(text)
        return dt.datetime.combine(parsed, dt.time()) if parsed else text
    if column in FLOAT_COLUMNS:
        return float(text)
    if column in INT_COLUMNS:
        return int(text)
    if column in CLOCK_COLUMNS and text != "24:00":
        hours, minutes = text.split(":")
        return dt.time(int(hours), int(minutes))
    return text


def folder_to_workbook(folder: Path, target: Path, sheet_names: dict[str, str] | None = None) -> Path:
    """Copy a scenario folder's CSV files into one workbook, with typed cells as Excel keeps them."""
    names = sheet_names or {}
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in ("townships", "factories", "travellers", "fleet"):
        records = read_csv(folder / f"{table}.csv")
        sheet = book.create_sheet(names.get(table, table))
        header = records[0]
        sheet.append(header)
        for record in records[1:]:
            sheet.append([excel_cell(column, text) for column, text in zip(header, record, strict=True)])
    book.save(target)
    if (folder / "policy.toml").exists():
        shutil.copy(folder / "policy.toml", target.with_name("policy.toml"))
    return target


@pytest.fixture(scope="session")
def small() -> Scenario:
    """The base case: 3 Yudu townships, 3 factories, 10 travellers, 2 coach types, charter_min_group 4."""
    return load_scenario(SMALL)


@pytest.fixture
def small_copy(tmp_path: Path) -> Path:
    """A writable copy of scenario_small for variants."""
    return Path(shutil.copytree(SMALL, tmp_path / "scenario"))


def problems_of(load: Callable[[], object]) -> list[ScenarioProblem]:
    """The problems of the InvalidScenario that ``load`` raises."""
    with pytest.raises(InvalidScenario) as info:
        load()
    return info.value.problems


def where(problems: list[ScenarioProblem]) -> set[tuple[str, int | None, str | None]]:
    """(file, row, field) of each problem."""
    return {(p.file, p.row, p.field) for p in problems}


def test_data_files_hold_checksummed_id_numbers() -> None:
    """Every ID number in scenario_small has a valid check digit and birth date, by stdnum."""
    records = read_csv(SMALL / "travellers.csv")
    column = records[0].index("id_number")
    for record in records[1:]:
        number = ric.compact(record[column])
        assert ric.calc_check_digit(number) == number[-1]
        assert ric.get_birth_date(number).year >= 1900
    assert make_id_number("360731", dt.date(1999, 3, 15), 11) == "360731199903150110"
    assert ric.is_valid(make_id_number("360731", dt.date(2001, 7, 2), 22))


def test_small_scenario_loads_into_the_right_objects(small: Scenario) -> None:
    """scenario_small gives its townships, factories, fleet, travellers and policy, in file order."""
    assert [t.township_id for t in small.townships] == ["360731100", "360731101", "360731102"]
    assert small.townships[0] == Township("360731100", "贡江镇", 25.964248, 115.412174)
    assert small.factories[1] == Factory(
        "dg-humen", "虎门服装城", 22.81899, 113.67306, "东莞市", "广东省", 7 * 3600 + 1800, 24 * 3600
    )
    assert small.fleet == (BusType("coach53", 53, 6, 3000.0, 6.5), BusType("coach35", 35, 4, 2200.0, 5.0))
    assert [t.traveller_id for t in small.travellers] == [f"T{i:03d}" for i in range(1, 11)]
    assert small.travellers[0] == Traveller(
        "T001",
        "刘建国",
        "360731199903150110",
        "13800000001",
        "360731100",
        "dg-changan",
        dt.date(2026, 2, 18),
        dt.date(2026, 2, 22),
        group_id="gj-1",
        registered_poor=False,
    )
    assert small.rules.charter_min_group == 4
    # Its policy.toml names Yudu's home settings, so nothing is assumed.
    assert (small.rules.county, small.rules.depot_name, small.rules.depot_lat) == ("于都县", "于都汽车站", 25.9594)
    assert small.assumptions == ()


def test_small_scenario_normalises_values(small: Scenario) -> None:
    """A lower-case x, a +86 phone with dashes, 2026/2/20 and 是/yes/1 are normalised."""
    t004 = small.travellers[3]
    assert t004.id_number.endswith("X")
    assert t004.phone == "13900000004"
    assert t004.earliest_date == dt.date(2026, 2, 20)
    assert [t.registered_poor for t in small.travellers] == [
        False,
        True,
        True,
        False,
        False,
        False,
        True,
        False,
        True,
        False,
    ]
    # T003 was born in 1985: stdnum's area table gives 360731 only from 1998, so its full check would refuse him.
    assert not ric.is_valid(small.travellers[2].id_number)


def test_xlsx_workbook_loads_to_an_equal_scenario(small: Scenario, tmp_path: Path) -> None:
    """The same data as an .xlsx workbook (date and time cells, numbers, ".csv" sheet names) loads equal."""
    book = folder_to_workbook(SMALL, tmp_path / "county.xlsx", {"factories": "factories.csv", "fleet": "Fleet"})
    assert load_scenario(book) == small


def test_xlsx_problems_name_workbook_and_sheet(tmp_path: Path) -> None:
    """Problems in a workbook name the workbook and sheet, with the same rows and fields as the CSV files."""
    book = folder_to_workbook(BAD_ROWS, tmp_path / "county.xlsx")
    csv_places = {(p.row, p.field) for p in problems_of(lambda: load_scenario(BAD_ROWS))}
    problems = problems_of(lambda: load_scenario(book))
    assert {(p.row, p.field) for p in problems} == csv_places
    assert ("county.xlsx sheet travellers", 3, "id_number") in where(problems)


def test_xlsx_missing_sheet_is_reported(tmp_path: Path) -> None:
    """A workbook without a fleet sheet says so and lists the sheets it has."""
    book = folder_to_workbook(SMALL, tmp_path / "county.xlsx", {"fleet": "coaches"})
    problems = problems_of(lambda: load_scenario(book))
    assert [(p.file, p.row, p.field) for p in problems] == [("county.xlsx", None, None)]
    assert "fleet" in problems[0].message and "coaches" in problems[0].message


def test_many_bad_rows_are_all_reported_with_row_and_field() -> None:
    """Every bad row of scenario_bad_rows is reported, at its spreadsheet row and column, and nothing else."""
    problems = problems_of(lambda: load_scenario(BAD_ROWS))
    assert where(problems) == {
        ("townships.csv", 3, "lat"),  # latitude 125.7
        ("fleet.csv", 3, "seats"),  # 0 seats
        ("travellers.csv", 3, "id_number"),  # bad checksum
        ("travellers.csv", 4, "phone"),  # 7 digits
        ("travellers.csv", 5, "township_id"),  # unknown township
        ("travellers.csv", 6, "factory_id"),  # unknown factory
        ("travellers.csv", 7, "report_date"),  # before earliest_date
        ("travellers.csv", 8, "traveller_id"),  # duplicate of row 2
        ("travellers.csv", 9, "id_number"),  # duplicate of row 2
        ("travellers.csv", 10, "id_number"),  # 16 characters
        ("travellers.csv", 11, "id_number"),  # born on 30 February
        ("travellers.csv", 12, "earliest_date"),  # 20/02/2026
        ("travellers.csv", 13, "registered_poor"),  # "maybe"
        ("travellers.csv", 14, "name"),  # empty
    }
    assert len(problems) == 14
    by_place = {(p.file, p.row): p for p in problems}
    assert "checksum" in by_place["travellers.csv", 3].message
    assert "rows 2 and 8" in by_place["travellers.csv", 8].message
    assert "rows 2 and 9" in by_place["travellers.csv", 9].message
    assert "18" in by_place["travellers.csv", 10].message
    assert "birth date" in by_place["travellers.csv", 11].message


def test_messages_have_english_and_chinese_text() -> None:
    """Every problem has an English message and a Chinese one, and str() shows file, row, whose row, field, the
    value and both messages."""
    problems = problems_of(lambda: load_scenario(BAD_ROWS))
    for problem in problems:
        assert re.search(r"[A-Za-z]{4,}", problem.message) and not CJK.search(problem.message)
        assert CJK.search(problem.message_zh)
    checksum = next(p for p in problems if p.row == 3 and p.field == "id_number")
    assert str(checksum) == (
        "travellers.csv row 3 (刘美华), field id_number = '360731199903150111': ID number 360731199903150111 fails its "
        "checksum (身份证号码校验位错误)"
    )


def test_invalid_scenario_lists_at_most_50_problems() -> None:
    """str(InvalidScenario) lists one problem per line, the first 50, then how many more."""
    err = InvalidScenario(
        [ScenarioProblem("travellers.csv", n, "phone", "bad phone", "手机号码错误") for n in range(2, 62)]
    )
    lines = str(err).splitlines()
    assert len(lines) == 51
    assert lines[0] == "travellers.csv row 2, field phone: bad phone (手机号码错误)"
    assert lines[-1] == "... and 10 more"
    assert len(err.problems) == 60


def test_invalid_scenario_survives_pickling() -> None:
    """An InvalidScenario sent back from a worker process keeps its problems."""
    err = InvalidScenario([ScenarioProblem("fleet.csv", 2, "seats", "bad", "错误")])
    copy = pickle.loads(pickle.dumps(err))
    assert copy.problems == err.problems and str(copy) == str(err)


def test_missing_travellers_csv_is_reported_by_name(small_copy: Path) -> None:
    """A folder without travellers.csv names the missing file, and other files are still checked."""
    (small_copy / "travellers.csv").unlink()
    write_csv(
        small_copy / "fleet.csv",
        [["vehicle_type", "seats", "count", "fixed_cost", "cost_per_km"], ["c", "x", "1", "0", "0"]],
    )
    problems = problems_of(lambda: load_scenario(small_copy))
    assert where(problems) == {("travellers.csv", None, None), ("fleet.csv", 2, "seats")}
    missing = next(p for p in problems if p.file == "travellers.csv")
    assert "travellers.csv" in missing.message and "travellers.csv" in missing.message_zh


def test_missing_column_is_reported_once(small_copy: Path) -> None:
    """A travellers.csv without a phone column gives one problem for the column, not one per row."""
    records = read_csv(small_copy / "travellers.csv")
    column = records[0].index("phone")
    write_csv(small_copy / "travellers.csv", [r[:column] + r[column + 1 :] for r in records])
    problems = problems_of(lambda: load_scenario(small_copy))
    assert where(problems) == {("travellers.csv", None, "phone")}
    assert "phone" in problems[0].message


def test_gbk_encoded_csv_is_read(small: Scenario, small_copy: Path) -> None:
    """A travellers.csv saved as GBK (Chinese Excel's default) loads like the UTF-8 one."""
    records = read_csv(small_copy / "travellers.csv")
    write_csv(small_copy / "travellers.csv", records, encoding="gbk")
    assert load_scenario(small_copy) == small


def test_read_traveller_rows_reads_csv_and_xlsx_uploads(small: Scenario, tmp_path: Path) -> None:
    """An uploaded GBK CSV and an uploaded .xlsx give the same travellers as the scenario."""
    records = read_csv(SMALL / "travellers.csv")
    buffer = io.StringIO()
    csv.writer(buffer).writerows(records)
    book = folder_to_workbook(SMALL, tmp_path / "upload.xlsx")
    township_ids = {t.township_id for t in small.townships}
    factory_ids = {f.factory_id for f in small.factories}
    for name, content in (("登记表.csv", buffer.getvalue().encode("gbk")), ("登记表.XLSX", book.read_bytes())):
        rows = read_traveller_rows(name, content)
        travellers, problems = check_traveller_rows(rows, township_ids, factory_ids, file=name)
        assert problems == []
        assert tuple(travellers) == small.travellers


def test_read_traveller_rows_refuses_unreadable_files() -> None:
    """Another extension, an old .xls, a broken workbook and undecodable bytes each get a clear problem."""
    cases = {
        "list.pdf": (b"%PDF", ".csv or .xlsx"),
        "list.xls": (b"\xd0\xcf\x11\xe0", ".xls"),
        "list.xlsx": (b"not a zip", ".xlsx"),
        "list.csv": (b"name\n\x80\xff\n", "UTF-8"),
    }
    for name, (content, expected) in cases.items():
        problems = problems_of(partial(read_traveller_rows, name, content))
        assert len(problems) == 1 and problems[0].file == name
        assert expected in problems[0].message and CJK.search(problems[0].message_zh)


def test_csv_reader_handles_bom_case_blank_rows_and_extra_columns() -> None:
    """Header names lose BOM, spaces and case; blank rows keep later row numbers right; extra columns are ignored."""
    good = make_id_number("360731", dt.date(2000, 1, 1), 1)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    content = (
        "\ufeffTraveller_ID , Name,ID_Number,Phone,Township_ID,Factory_ID,Earliest_Date,Report_Date,Notes\n"
        f"T1,甲,{good},13800000001,t1,f1,2026-02-20,2026-02-21,x\n"
        ",,,,,,,,\n"
        f"T2,乙,{bad},13800000002,t1,f1,2026-02-20,2026-02-21\n"
        "\n"
    ).encode()
    rows = read_traveller_rows("t.csv", content)
    travellers, problems = check_traveller_rows(rows, {"t1"}, {"f1"})
    assert [t.traveller_id for t in travellers] == ["T1"]
    assert where(problems) == {("travellers.csv", 4, "id_number")}


def test_bad_policy_toml_is_reported_with_its_file_name(small_copy: Path) -> None:
    """An unknown setting in policy.toml becomes a problem of policy.toml, next to the row problems."""
    (small_copy / "policy.toml").write_text("charter_min_grup = 4\n", encoding="utf-8")
    records = read_csv(small_copy / "travellers.csv")
    records[1][3] = "12345"
    write_csv(small_copy / "travellers.csv", records)
    problems = problems_of(lambda: load_scenario(small_copy))
    assert where(problems) == {("policy.toml", None, None), ("travellers.csv", 2, "phone")}
    policy = next(p for p in problems if p.file == "policy.toml")
    assert "charter_min_grup" in policy.message and CJK.search(policy.message_zh)


def test_assembly_points_that_are_not_tables_are_a_policy_problem(small_copy: Path) -> None:
    """``assembly_points = 5`` is reported as a problem of policy.toml, not a crash."""
    (small_copy / "policy.toml").write_text("assembly_points = 5\n", encoding="utf-8")
    problems = problems_of(lambda: load_scenario(small_copy))
    assert where(problems) == {("policy.toml", None, None)}
    assert "assembly_points" in problems[0].message


def test_policy_toml_syntax_error_gives_its_line(small_copy: Path) -> None:
    """A TOML syntax error is reported at its line."""
    (small_copy / "policy.toml").write_text("county = '于都县'\ncharter_min_group 4\n", encoding="utf-8")
    problems = problems_of(lambda: load_scenario(small_copy))
    assert where(problems) == {("policy.toml", 2, None)}


def test_explicit_policy_path_overrides_the_folder(small_copy: Path, tmp_path: Path) -> None:
    """--policy wins over the folder's policy.toml; a missing --policy file is a problem."""
    other = tmp_path / "county.toml"
    other.write_text("charter_min_group = 30\n", encoding="utf-8")
    assert load_scenario(small_copy, policy_path=other).rules.charter_min_group == 30
    problems = problems_of(lambda: load_scenario(small_copy, policy_path=tmp_path / "nope.toml"))
    assert where(problems) == {("nope.toml", None, None)}


def test_assembly_points_must_name_known_townships(small_copy: Path) -> None:
    """An assembly point in policy.toml that names an unknown township is reported."""
    (small_copy / "policy.toml").write_text(
        '[[assembly_points]]\nid = "station"\nlat = 25.96\nlon = 115.41\ntownships = ["360731101", "360731199"]\n',
        encoding="utf-8",
    )
    problems = problems_of(lambda: load_scenario(small_copy))
    assert where(problems) == {("policy.toml", None, "assembly_points")}
    assert "360731199" in problems[0].message


def test_townships_factories_and_fleet_checks(small_copy: Path) -> None:
    """Duplicate township ids, bad coordinates, receiving hours out of order, and fleet numbers are reported."""
    write_csv(
        small_copy / "townships.csv",
        [
            ["township_id", "name", "lat", "lon"],
            ["360731100", "a", "25.9", "115.4"],
            ["360731101", "b", "x", "200"],
            ["360731102", "c", "25.6", "115.4"],
            ["360731100", "d", "25.9", "115.4"],
        ],
    )
    write_csv(
        small_copy / "factories.csv",
        [
            ["factory_id", "name", "lat", "lon", "city", "province", "receive_from", "receive_until"],
            ["dg-changan", "a", "22.8", "113.8", "东莞市", "广东省", "18:00", "08:00"],
            ["dg-humen", "b", "22.8", "113.6", "东莞市", "", "7:30", "25:00"],
            ["ks-yushan", "c", "31.4", "120.9", "苏州市", "江苏省", "09：00", "24:00"],
        ],
    )
    write_csv(
        small_copy / "fleet.csv",
        [
            ["vehicle_type", "seats", "count", "fixed_cost", "cost_per_km"],
            ["c53", "53.0", "-1", "3000", "6.5"],
            ["c35", "35", "4", "-5", "abc"],
            ["c53", "53", "1", "0", "0"],
        ],
    )
    problems = problems_of(lambda: load_scenario(small_copy))
    assert where(problems) == {
        ("townships.csv", 3, "lat"),
        ("townships.csv", 3, "lon"),
        ("townships.csv", 5, "township_id"),
        ("factories.csv", 2, "receive_until"),
        ("factories.csv", 3, "province"),
        ("factories.csv", 3, "receive_until"),
        ("fleet.csv", 2, "count"),
        ("fleet.csv", 3, "fixed_cost"),
        ("fleet.csv", 3, "cost_per_km"),
        ("fleet.csv", 4, "vehicle_type"),
    }


def test_swapped_coordinates_get_a_hint() -> None:
    """A latitude of 115 next to a longitude of 25 says the columns look swapped."""
    row = {
        "factory_id": "f",
        "name": "n",
        "lat": "115.4",
        "lon": "25.9",
        "city": "c",
        "province": "p",
        "receive_from": "08:00",
        "receive_until": "24:00",
    }
    factory, problems = check_factory_row(row, row_number=7)
    assert factory is None
    assert [(p.row, p.field) for p in problems] == [(7, "lat")]
    assert "swapped" in problems[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800000001", "13800000001"),
        ("138 0000 0001", "13800000001"),
        ("138-0000-0001", "13800000001"),
        ("+86 138 0000 0001", "13800000001"),
        ("8613800000001", "13800000001"),
        ("0086-13800000001", "13800000001"),
        ("12800000001", None),
        ("0797-6321234", None),
        ("1380000000", None),
    ],
)
def test_phone_numbers_are_normalised(text: str, expected: str | None) -> None:
    """Mainland mobiles lose spaces, dashes and +86; landlines and short numbers are refused."""
    assert normalise_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-20", dt.date(2026, 2, 20)),
        ("2026/2/20", dt.date(2026, 2, 20)),
        ("2026-2-20", dt.date(2026, 2, 20)),
        ("2026年2月20日", dt.date(2026, 2, 20)),
        ("2026/2/20 0:00", dt.date(2026, 2, 20)),
        ("2026-02-30", None),
        ("20/02/2026", None),
        ("", None),
    ],
)
def test_dates_are_parsed(text: str, expected: dt.date | None) -> None:
    """ISO dates, slashes, Chinese dates and Excel's midnight suffix are dates; other forms are not."""
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是", True),
        ("是的", True),
        ("Yes", True),
        ("y", True),
        ("TRUE", True),
        ("1", True),
        ("否", False),
        ("no", False),
        ("N", False),
        ("false", False),
        ("0", False),
        ("", False),
        ("maybe", None),
    ],
)
def test_registered_poor_values(text: str, expected: bool | None) -> None:
    """registered_poor accepts yes/no in English, Chinese and as 1/0; empty means no."""
    assert parse_yes_no(text) == expected


def test_id_number_messages_are_specific() -> None:
    """Lower-case x is accepted; wrong length, 15-digit, checksum, birth date and Excel-rounded numbers differ."""
    good = make_id_number("360731", dt.date(2000, 5, 8), 3)
    assert good.endswith("X")
    assert check_id_number(good.lower()) == (good, None)
    assert check_id_number(good[:6] + " " + good[6:]) == (good, None)

    def message(text: str) -> str:
        number, problem = check_id_number(text)
        assert number is None and problem is not None
        return problem[0]

    assert "has 17 characters" in message(good[:-1])
    assert "15-digit" in message("360731000508003")
    assert "checksum" in message(good[:-1] + "1")
    assert "17 digits followed by" in message("36073A20000508003X")
    assert "Excel" in message("3.60731E+17")
    future = make_id_number("360731", dt.date.today() + dt.timedelta(days=400), 1)
    assert "birth date" in message(future)


def test_id_number_stored_as_a_number_in_xlsx_is_explained(small_copy: Path, tmp_path: Path) -> None:
    """An ID number cell that Excel turned into a rounded number gets the Excel explanation."""
    book = folder_to_workbook(small_copy, tmp_path / "county.xlsx")
    workbook = openpyxl.load_workbook(book)
    workbook["travellers"]["C2"] = 360731199903150110.0
    workbook.save(book)
    problems = problems_of(lambda: load_scenario(book))
    assert where(problems) == {("county.xlsx sheet travellers", 2, "id_number")}
    assert "Excel" in problems[0].message


def test_traveller_row_check_alone() -> None:
    """check_traveller_row builds a traveller from a clean row and reports every problem of a bad one."""
    row = {
        "traveller_id": "T1",
        "name": "甲",
        "id_number": make_id_number("360731", dt.date(2000, 1, 1), 1),
        "phone": "138 0000 0001",
        "township_id": "t1",
        "factory_id": "f1",
        "earliest_date": "2026-02-20",
        "report_date": "2026-02-22",
        "registered_poor": "是的",
    }
    traveller, problems = check_traveller_row(row, {"t1"}, {"f1"}, row_number=2)
    assert problems == [] and traveller is not None
    assert traveller.phone == "13800000001" and traveller.registered_poor and traveller.group_id == ""
    bad = {**row, "township_id": "t9", "factory_id": "", "report_date": "2026-02-19"}
    traveller, problems = check_traveller_row(bad, {"t1"}, {"f1"}, row_number=5)
    assert traveller is None
    assert [(p.row, p.field) for p in problems] == [(5, "township_id"), (5, "factory_id"), (5, "report_date")]
    # Without known townships (their file is broken) the unknown-township check is skipped.
    _, problems = check_traveller_row(bad, None, None, row_number=5)
    assert [p.field for p in problems] == ["factory_id", "report_date"]


def test_large_traveller_table_checks_quickly() -> None:
    """100,000 traveller rows are checked in a few seconds."""
    ids = [make_id_number("360731", dt.date(1980, 1, 1) + dt.timedelta(days=i // 500), i % 500) for i in range(100_000)]
    rows = [
        {
            "traveller_id": f"T{i:06d}",
            "name": "张三",
            "id_number": ids[i],
            "phone": f"138{i:08d}",
            "township_id": "t1",
            "factory_id": "f1",
            "earliest_date": "2026-02-20",
            "report_date": "2026-02-24",
            "group_id": f"g{i // 30}",
            "registered_poor": "否",
        }
        for i in range(100_000)
    ]
    started = dt.datetime.now()
    travellers, problems = check_traveller_rows(rows, {"t1"}, {"f1"})
    elapsed_s = (dt.datetime.now() - started).total_seconds()
    assert problems == [] and len(travellers) == 100_000
    # Generous for slow CI machines; about 1.5 s on a laptop.
    assert elapsed_s < 15


def test_header_only_table_is_reported_as_empty(small_copy: Path) -> None:
    """A travellers.csv with a header and no rows is reported as having no travellers."""
    records = read_csv(small_copy / "travellers.csv")
    write_csv(small_copy / "travellers.csv", records[:1])
    problems = problems_of(lambda: load_scenario(small_copy))
    assert where(problems) == {("travellers.csv", None, None)}
    assert "no traveller rows" in problems[0].message


def test_blank_rows_in_a_sheet_keep_row_numbers(tmp_path: Path) -> None:
    """In an uploaded workbook, a problem after blank rows is reported at the row Excel shows."""
    records = read_csv(SMALL / "travellers.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet.append(records[0])
    sheet.append(records[1])
    bad = list(records[2])
    bad[3] = "110"
    for column, text in enumerate(bad, start=1):
        sheet.cell(row=6, column=column, value=text)
    book.save(tmp_path / "upload.xlsx")
    rows = read_traveller_rows("upload.xlsx", (tmp_path / "upload.xlsx").read_bytes())
    travellers, problems = check_traveller_rows(rows, {"360731100"}, {"dg-changan"}, file="upload.xlsx")
    assert [t.traveller_id for t in travellers] == ["T001"]
    assert where(problems) == {("upload.xlsx", 6, "phone")}


FACTORY_ROW = {
    "factory_id": "f",
    "name": "n",
    "lat": "22.9",
    "lon": "113.7",
    "city": "东莞市",
    "province": "广东省",
    "receive_from": "08:00",
    "receive_until": "20:00",
}
FLEET_ROW = {"vehicle_type": "coach53", "seats": "53", "count": "4", "fixed_cost": "1800", "cost_per_km": "5.5"}


def test_the_optional_campaign_columns_are_read_and_blank_means_no_limit() -> None:
    """max_arrivals_per_day caps a gate per date; available_from/until bound a coach type's dates; blank or
    absent columns leave them unset."""
    factory, problems = check_factory_row({**FACTORY_ROW, "max_arrivals_per_day": "120"})
    assert problems == [] and factory is not None and factory.max_arrivals_per_day == 120
    for row in (FACTORY_ROW, {**FACTORY_ROW, "max_arrivals_per_day": " "}):
        factory, _ = check_factory_row(row)
        assert factory is not None and factory.max_arrivals_per_day is None
    coach, problems = check_bus_type_row({**FLEET_ROW, "available_from": "2026-02-20", "available_until": "2026/2/25"})
    assert problems == [] and coach is not None
    assert (coach.available_from, coach.available_until) == (dt.date(2026, 2, 20), dt.date(2026, 2, 25))
    assert [coach.available_on(dt.date(2026, 2, d)) for d in (19, 20, 25, 26)] == [False, True, True, False]
    coach, _ = check_bus_type_row(FLEET_ROW)
    assert coach is not None and coach.available_on(dt.date(2000, 1, 1)) and coach.available_on(dt.date(2099, 1, 1))


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({**FACTORY_ROW, "max_arrivals_per_day": "-1"}, "max_arrivals_per_day"),
        ({**FACTORY_ROW, "max_arrivals_per_day": "many"}, "max_arrivals_per_day"),
        ({**FLEET_ROW, "available_from": "2026-02-30"}, "available_from"),
        ({**FLEET_ROW, "available_from": "2026-02-25", "available_until": "2026-02-20"}, "available_until"),
    ],
)
def test_bad_campaign_columns_name_the_field_in_both_languages(row: dict[str, str], field: str) -> None:
    check = check_factory_row if "factory_id" in row else check_bus_type_row
    value, problems = check(row, row_number=3)  # type: ignore[operator]
    assert value is None
    assert [(p.row, p.field) for p in problems] == [(3, field)]
    assert problems[0].message and problems[0].message_zh


def test_wait_cost_per_day_is_a_policy_setting_that_cannot_be_negative() -> None:
    assert policy_from_dict({}).wait_cost_per_day == 5.0
    assert policy_from_dict({"wait_cost_per_day": 0}).wait_cost_per_day == 0.0
    with pytest.raises(InvalidPolicy, match="wait_cost_per_day"):
        policy_from_dict({"wait_cost_per_day": -1})


def test_a_bad_row_names_the_person_and_the_value() -> None:
    """A clerk finds the bad cell by whose row it is and what it held, not by counting rows."""
    from scheduler.validation import check_traveller_row

    row = {
        "traveller_id": "T9", "name": "李四", "id_number": "360731199001010021", "phone": "1380000010",
        "township_id": "360731100", "factory_id": "dg-changan", "earliest_date": "2026/2/20",
        "report_date": "2026-02-24",
    }  # fmt: skip
    traveller, problems = check_traveller_row(row, None, None, row_number=7)
    assert traveller is None
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {"id_number", "phone"}  # 2026/2/20 is a date people write: accepted
    assert by_field["id_number"].who == "李四" and by_field["id_number"].value == "360731199001010021"
    assert by_field["phone"].value == "1380000010"
    assert "row 7 (李四), field phone = '1380000010'" in str(by_field["phone"])
