"""Scenario files -> ``Scenario``: the format boundary between what a county types and the planner.

A scenario is either a folder of UTF-8 CSV files::

    townships.csv   township_id, name, lat, lon
    factories.csv   factory_id, name, lat, lon, city, province, receive_from, receive_until (HH:MM)
    travellers.csv  traveller_id, name, id_number, phone, township_id, factory_id,
                    earliest_date, report_date (YYYY-MM-DD) [, group_id, registered_poor]
    fleet.csv       vehicle_type, seats, count, fixed_cost, cost_per_km
    policy.toml     optional county rules (see ``scheduler.policy``)

and optionally a distances file (policy.toml's ``distances_file``, or passed in) of road legs::

    from_id, to_id, km, minutes   place ids: townships, factories, assembly points, depot

or one .xlsx workbook with sheets of the same names (".csv" in a sheet name is ignored), its
policy.toml lying next to it. Column names are matched case-insensitively; extra columns are ignored.

Everything is checked before anything is built, and every problem is reported in one
``InvalidScenario`` (see ``scheduler.validation``, shared with the HTTP service).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from scheduler.defaults import infer_home_settings
from scheduler.model import DEPOT_ID, BusType, DistanceTable, Factory, Scenario, Township, Traveller
from scheduler.policy import InvalidPolicy, PolicyRules, load_policy
from scheduler.validation import (
    FACTORIES_FILE,
    FLEET_FILE,
    TOWNSHIPS_FILE,
    TRAVELLERS_FILE,
    InvalidScenario,
    ScenarioProblem,
    check_distance_rows,
    check_factory_rows,
    check_fleet_rows,
    check_home_settings,
    check_township_rows,
    check_traveller_rows,
    is_blank,
    known_ids,
)

__all__ = [
    "InvalidScenario",
    "ScenarioProblem",
    "check_traveller_rows",
    "load_scenario",
    "read_csv_rows",
    "read_sheet_rows",
    "read_table",
    "read_traveller_rows",
]

logger = logging.getLogger(__name__)

# Table name -> file name in a scenario folder; the table name is also the sheet name in a workbook.
TABLE_FILES: dict[str, str] = {
    "townships": TOWNSHIPS_FILE,
    "factories": FACTORIES_FILE,
    "fleet": FLEET_FILE,
    "travellers": TRAVELLERS_FILE,
}
POLICY_FILE = "policy.toml"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

_ZIP_MAGIC = b"PK\x03\x04"
_TOML_LINE_RE = re.compile(r"at line (\d+)")


@dataclass(frozen=True, slots=True)
class _Table:
    """Rows read from one CSV file or sheet, and the name problems should give for it."""

    file: str
    rows: list[dict[str, str]]


# ---------------------------------------------------------------------------------------------
# Reading tables


# The headers townships' own spreadsheets use (and the blank template's Chinese half), for the file's column.
CHINESE_HEADERS: dict[str, str] = {
    "人员编号": "traveller_id",
    "编号": "traveller_id",
    "姓名": "name",
    "名称": "name",
    "身份证号码": "id_number",
    "身份证号": "id_number",
    "身份证": "id_number",
    "公民身份号码": "id_number",
    "手机号码": "phone",
    "手机号": "phone",
    "手机": "phone",
    "联系电话": "phone",
    "电话": "phone",
    "乡镇编号": "township_id",
    "企业编号": "factory_id",
    "最早出发日期": "earliest_date",
    "最早可出发日期": "earliest_date",
    "出发日期": "earliest_date",
    "报到日期": "report_date",
    "到岗日期": "report_date",
    "同行组": "group_id",
    "同行组编号": "group_id",
    "是否脱贫劳动力": "registered_poor",
    "脱贫劳动力": "registered_poor",
    "是否建档立卡": "registered_poor",
    "建档立卡": "registered_poor",
    "备注": "remarks",
    "纬度": "lat",
    "经度": "lon",
    "城市": "city",
    "省份": "province",
}
_HEADER_WORD_RE = re.compile(r"[A-Za-z_]+")
_HEADER_NOTE_RE = re.compile(r"[（(].*?[)）]")


def _column_name(header: str) -> str:
    """The column a header names: "traveller_id", "姓名", "姓名 name" and "身份证号码（18位）" alike."""
    # Excel prepends a BOM to "CSV UTF-8" files; clerks type "Township_ID " with stray spaces.
    text = header.replace("\ufeff", "").strip()
    plain = text.lower()
    if plain.isascii():
        return plain
    bare = _HEADER_NOTE_RE.sub("", text).replace(" ", "").replace("\u3000", "")
    words = [w.lower() for w in _HEADER_WORD_RE.findall(text)]
    chinese = re.sub(r"[A-Za-z_]+", "", bare)
    if chinese in CHINESE_HEADERS:
        return CHINESE_HEADERS[chinese]
    return words[0] if len(words) == 1 else plain


def _rows_from_records(records: Iterator[Sequence[Any]], cell_text: Callable[[Any], str]) -> list[dict[str, str]]:
    """Turn records (header first) into dicts keyed by column name; blank rows are kept so that
    a row's position still gives its spreadsheet row number, but trailing blank rows are dropped."""
    header_cells = next(records, None)
    if header_cells is None:
        return []
    columns: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, cell in enumerate(header_cells):
        name = _column_name(cell_text(cell))
        # An unnamed column holds nothing we read; a repeated one is ignored after its first copy.
        if name and name not in seen:
            seen.add(name)
            columns.append((index, name))
    width = len(header_cells)
    rows: list[dict[str, str]] = []
    for cells in records:
        if len(cells) < width:
            cells = [*cells, *([None] * (width - len(cells)))]
        rows.append({name: cell_text(cells[index]) for index, name in columns})
    while rows and is_blank(rows[-1]):
        rows.pop()
    return rows


def _csv_cell_text(cell: str | None) -> str:
    return "" if cell is None else cell.strip()


def _decode_csv(content: bytes, file: str) -> str:
    """UTF-8 (with or without BOM), else GB18030, which Chinese Excel uses for "CSV" by default."""
    if content.startswith(_ZIP_MAGIC):
        raise InvalidScenario(
            [
                ScenarioProblem(
                    file,
                    None,
                    None,
                    "is an Excel workbook, not a CSV file; name it .xlsx or save it as CSV UTF-8",
                    "这是 Excel 工作簿而不是 CSV 文件；请把扩展名改为 .xlsx，或另存为“CSV UTF-8”格式",
                )
            ]
        )
    try:
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            # Excel's "Unicode Text" export.
            return content.decode("utf-16")
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidScenario(
            [
                ScenarioProblem(
                    file,
                    None,
                    None,
                    "cannot be read as text: save it as CSV UTF-8 (GBK/GB18030 was tried too)",
                    "无法读取文件编码：请另存为“CSV UTF-8”格式（已尝试 GBK/GB18030）",
                )
            ]
        ) from None
    logger.info("%s is not UTF-8; read it as GB18030", file)
    return text


def read_csv_rows(content: bytes, file: str) -> list[dict[str, str]]:
    """Read a CSV file's bytes into rows keyed by lower-case column name, values stripped.

    Decodes UTF-8 (a BOM is dropped) and falls back to GB18030/GBK, which Chinese Excel writes by
    default; a tab-separated header (Excel's "Unicode Text") switches the delimiter to tabs.

    Args:
        content: the file's bytes.
        file: the file name, for problems.

    Returns:
        One dict per record after the header, blank records included (so that index + 2 is the
        spreadsheet row), trailing blank records dropped. Every dict has every header column.

    Raises:
        InvalidScenario: the bytes are not text in any of these encodings, or not CSV.
    """
    text = _decode_csv(content, file)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return _rows_from_records(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), _csv_cell_text)
    except csv.Error as err:
        raise InvalidScenario(
            [ScenarioProblem(file, None, None, f"is not a valid CSV file ({err})", f"不是有效的 CSV 文件（{err}）")]
        ) from None


def read_table(path: Path) -> list[dict[str, str]]:
    """Read one CSV file from disk (see ``read_csv_rows``).

    Raises:
        InvalidScenario: the file is missing, unreadable or not CSV text, naming the file.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise InvalidScenario([_missing_file(path.name, path.parent)]) from None
    except OSError as err:
        raise InvalidScenario(
            [ScenarioProblem(path.name, None, None, f"cannot be read ({err})", f"无法读取文件（{err}）")]
        ) from None
    return read_csv_rows(content, path.name)


def _xlsx_cell_text(value: Any) -> str:
    """openpyxl cell value -> the text a clerk meant (dates as ISO dates, 53.0 as 53)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M") if value.second == 0 else value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        # An [h]:mm cell, the only way Excel shows 24:00.
        minutes = round(value.total_seconds() / 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, float):
        # Below 1e15 a whole float is exact; above it (an ID number typed as a number) keep the
        # exponent form so that the ID check can say what happened.
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value).strip()


def read_sheet_rows(sheet: Any) -> list[dict[str, str]]:
    """Read an openpyxl worksheet (header in row 1) into rows like ``read_csv_rows``.

    Excel date cells become YYYY-MM-DD, time cells HH:MM, whole numbers lose their ".0".

    Args:
        sheet: an openpyxl worksheet, read-only or not.

    Returns:
        One dict per row after the header, blank rows included, trailing blank rows dropped.
    """
    return _rows_from_records(iter(sheet.iter_rows(values_only=True)), _xlsx_cell_text)


def _sheet_key(title: str) -> str:
    return title.strip().lower().removesuffix(".csv").strip()


def _open_workbook(source: Path | io.BytesIO, file: str) -> Any:
    try:
        return openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as err:
        raise InvalidScenario(
            [
                ScenarioProblem(
                    file,
                    None,
                    None,
                    f"cannot be read as an Excel .xlsx workbook ({err or type(err).__name__})",
                    "无法作为 Excel .xlsx 工作簿读取，请确认文件未损坏并另存为 .xlsx 格式",
                )
            ]
        ) from None


def _unsupported_format(filename: str) -> ScenarioProblem:
    if PurePath(filename).suffix.lower() == ".xls":
        return ScenarioProblem(
            filename,
            None,
            None,
            "is in the old Excel .xls format; save it as .xlsx or as CSV UTF-8",
            "是旧版 Excel .xls 格式；请另存为 .xlsx 或“CSV UTF-8”格式",
        )
    return ScenarioProblem(
        filename,
        None,
        None,
        "expected a .csv or .xlsx file",
        "只接受 .csv 或 .xlsx 文件",
    )


def read_traveller_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """Read an uploaded travellers spreadsheet, as a township sends it, into rows.

    A .csv file is decoded as UTF-8 or GB18030; in an .xlsx workbook the sheet named "travellers"
    is read, or the first sheet when there is none. Check the rows with ``check_traveller_rows``.

    Args:
        filename: the uploaded file's name; its extension picks the format.
        content: the file's bytes.

    Returns:
        Rows keyed by lower-case column name (index + 2 = spreadsheet row).

    Raises:
        InvalidScenario: another extension, or a file that cannot be read, with a message saying how
            to save it.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        return read_csv_rows(content, filename)
    if suffix not in WORKBOOK_SUFFIXES:
        raise InvalidScenario([_unsupported_format(filename)])
    book = _open_workbook(io.BytesIO(content), filename)
    try:
        sheets = {_sheet_key(ws.title): ws for ws in book.worksheets}
        sheet = sheets.get("travellers") or book.worksheets[0]
        return read_sheet_rows(sheet)
    finally:
        book.close()


# ---------------------------------------------------------------------------------------------
# Loading a scenario


def _missing_file(file: str, folder: Path) -> ScenarioProblem:
    hint, hint_zh = "", ""
    workbook = folder / PurePath(file).with_suffix(".xlsx")
    if workbook.is_file():
        hint = f"; found {workbook.name}, save it as CSV UTF-8"
        hint_zh = f"；发现 {workbook.name}，请另存为“CSV UTF-8”格式"
    return ScenarioProblem(file, None, None, f"{file} is missing from {folder}{hint}", f"缺少文件 {file}{hint_zh}")


def _read_folder(folder: Path, problems: list[ScenarioProblem]) -> dict[str, _Table | None]:
    tables: dict[str, _Table | None] = {}
    for table, file in TABLE_FILES.items():
        try:
            tables[table] = _Table(file, read_table(folder / file))
        except InvalidScenario as err:
            problems.extend(err.problems)
            tables[table] = None
    return tables


def _read_workbook(path: Path, problems: list[ScenarioProblem]) -> dict[str, _Table | None]:
    book = _open_workbook(path, path.name)
    try:
        sheets = {_sheet_key(ws.title): ws for ws in book.worksheets}
        tables: dict[str, _Table | None] = {}
        for table in TABLE_FILES:
            sheet = sheets.get(table)
            if sheet is None:
                found = ", ".join(ws.title for ws in book.worksheets)
                problems.append(
                    ScenarioProblem(
                        path.name,
                        None,
                        None,
                        f"has no sheet named {table} (sheets found: {found})",
                        f"缺少名为 {table} 的工作表（现有工作表：{found}）",
                    )
                )
                tables[table] = None
            else:
                tables[table] = _Table(f"{path.name} sheet {sheet.title}", read_sheet_rows(sheet))
        return tables
    finally:
        book.close()


def _load_rules(policy_file: Path | None, problems: list[ScenarioProblem]) -> PolicyRules:
    """The county rules, or the defaults with a problem recorded when the file is bad."""
    if policy_file is None:
        return PolicyRules()
    name = policy_file.name
    try:
        return load_policy(policy_file)
    except InvalidPolicy as err:
        detail = str(err).removeprefix(f"{policy_file}: ")
        line = _TOML_LINE_RE.search(detail)
        # The English detail lists the known settings; the Chinese keeps only the first clause.
        summary = detail.split(";", 1)[0]
        problems.append(
            ScenarioProblem(name, int(line[1]) if line else None, None, detail, f"县政策设置有误：{summary}")
        )
    except FileNotFoundError:
        problems.append(
            ScenarioProblem(name, None, None, f"{policy_file} does not exist", f"找不到政策文件 {policy_file}")
        )
    except UnicodeDecodeError:
        problems.append(ScenarioProblem(name, None, None, "must be saved as UTF-8", "政策文件必须以 UTF-8 编码保存"))
    except OSError as err:
        problems.append(ScenarioProblem(name, None, None, f"cannot be read ({err})", f"无法读取政策文件（{err}）"))
    return PolicyRules()


def _check_assembly_points(
    rules: PolicyRules, township_ids: set[str] | None, file: str, problems: list[ScenarioProblem]
) -> None:
    if township_ids is None:
        return
    for point in rules.assembly_points:
        for township_id in point.township_ids:
            if township_id not in township_ids:
                problems.append(
                    ScenarioProblem(
                        file,
                        None,
                        "assembly_points",
                        f"assembly point {point.point_id} names unknown township {township_id}",
                        f"集中乘车点 {point.point_id} 中的乡镇编号 {township_id} 不在乡镇名单中",
                    )
                )


def _load_distances(
    distances_path: Path | None,
    rules: PolicyRules,
    policy_file: Path | None,
    place_ids: set[str] | None,
    problems: list[ScenarioProblem],
) -> DistanceTable | None:
    """The distances file given, else the policy's ``distances_file`` (relative to policy.toml), checked."""
    if distances_path is not None:
        path = Path(distances_path)
        if not path.is_file():
            problems.append(ScenarioProblem(path.name, None, None, f"{path} does not exist", f"找不到路程文件 {path}"))
            return None
    elif rules.distances_file and policy_file is not None:
        path = policy_file.parent / rules.distances_file
        if not path.is_file():
            problems.append(
                ScenarioProblem(
                    policy_file.name,
                    None,
                    "distances_file",
                    f"distances_file {rules.distances_file!r}: {path} does not exist",
                    f"找不到 distances_file 指定的路程文件 {path}",
                )
            )
            return None
    else:
        return None
    try:
        rows = read_table(path)
    except InvalidScenario as err:
        problems.extend(err.problems)
        return None
    legs, found = check_distance_rows(rows, place_ids, path.name)
    problems.extend(found)
    return DistanceTable(legs, path.name)


def load_scenario(path: Path, policy_path: Path | None = None, distances_path: Path | None = None) -> Scenario:
    """Read and check a scenario folder of CSV files, or an .xlsx workbook, into a ``Scenario``.

    Args:
        path: a folder holding townships.csv, factories.csv, travellers.csv, fleet.csv and an
            optional policy.toml; or an .xlsx workbook with sheets townships, factories, travellers
            and fleet (policy.toml then next to the workbook).
        policy_path: a policy.toml to use instead of the one found next to the data.
        distances_path: a distances file (from_id, to_id, km, minutes) to use instead of the policy's
            ``distances_file`` (which is relative to the policy file's folder).

    Home settings (county, province, depot) that the policy leaves unset are inferred from the
    travellers' ID numbers and the townships (``scheduler.defaults``); the scenario's ``assumptions``
    say what was assumed.

    Returns:
        The scenario, with townships, factories, travellers and fleet in file order, and the distances
        file's legs when there is one.

    Raises:
        InvalidScenario: listing every problem found in every file (missing files or sheets,
            missing columns, bad rows, duplicates, unknown ids, a bad policy.toml or distances file), not
            only the first;
            then a home county that cannot be inferred, or a depot more than 100 km from every township.
    """
    path = Path(path)
    problems: list[ScenarioProblem] = []
    if path.is_dir():
        tables = _read_folder(path, problems)
        default_policy = path / POLICY_FILE
    elif path.is_file() and path.suffix.lower() in WORKBOOK_SUFFIXES:
        tables = _read_workbook(path, problems)
        default_policy = path.with_name(POLICY_FILE)
    elif not path.exists():
        raise InvalidScenario(
            [ScenarioProblem(path.name or str(path), None, None, f"{path} does not exist", f"找不到 {path}")]
        )
    else:
        raise InvalidScenario(
            [
                ScenarioProblem(
                    path.name,
                    None,
                    None,
                    "expected a folder of CSV files or an .xlsx workbook",
                    "应为包含 CSV 文件的文件夹或 .xlsx 工作簿",
                )
            ]
        )

    townships: list[Township] = []
    factories: list[Factory] = []
    fleet: list[BusType] = []
    travellers: list[Traveller] = []
    township_ids: set[str] | None = None
    factory_ids: set[str] | None = None
    if (table := tables["townships"]) is not None:
        townships, found = check_township_rows(table.rows, table.file)
        problems.extend(found)
        township_ids = known_ids(table.rows, "township_id")
    if (table := tables["factories"]) is not None:
        factories, found = check_factory_rows(table.rows, table.file)
        problems.extend(found)
        factory_ids = known_ids(table.rows, "factory_id")
    if (table := tables["fleet"]) is not None:
        fleet, found = check_fleet_rows(table.rows, table.file)
        problems.extend(found)
    if (table := tables["travellers"]) is not None:
        travellers, found = check_traveller_rows(table.rows, township_ids, factory_ids, table.file)
        problems.extend(found)

    policy_file = policy_path if policy_path is not None else (default_policy if default_policy.is_file() else None)
    rules = _load_rules(Path(policy_file) if policy_file is not None else None, problems)
    if policy_file is not None:
        _check_assembly_points(rules, township_ids, Path(policy_file).name, problems)
    place_ids = None
    if township_ids is not None and factory_ids is not None:
        place_ids = township_ids | factory_ids | {p.point_id for p in rules.assembly_points} | {DEPOT_ID}
    distances = _load_distances(
        distances_path, rules, Path(policy_file) if policy_file is not None else None, place_ids, problems
    )

    if problems:
        raise InvalidScenario(problems)
    home = infer_home_settings(rules, townships, travellers)
    policy_name = Path(policy_file).name if policy_file is not None else POLICY_FILE
    problems = check_home_settings(home.rules, townships, policy_name, "depot_lat" in rules.missing_home_settings())
    if problems:
        raise InvalidScenario(problems)
    logger.info(
        "Loaded %s: %d townships, %d factories, %d travellers, %d coach types",
        path,
        len(townships),
        len(factories),
        len(travellers),
        len(fleet),
    )
    return Scenario(
        tuple(townships), tuple(factories), tuple(travellers), tuple(fleet), home.rules, home.assumptions, distances
    )
