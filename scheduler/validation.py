"""Row-level checks of scenario tables, shared by the command line and the HTTP service.

A county clerk fixes a spreadsheet in one go only when every problem is listed at once, with the row
number they see in Excel (header = row 1, first data row = row 2), the column, and a message in
English and Chinese. So these checks never stop at the first problem: each returns a list of
``ScenarioProblem`` and, when a row is clean, the domain object built from it.

Rows are ``dict[str, str]`` keyed by lower-case column name, as ``scheduler.scenario`` reads them from
CSV files and xlsx sheets. Extra columns are ignored.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from geopy.distance import geodesic
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from scheduler.clock import parse_clock
from scheduler.model import BusType, Factory, Leg, Township, Traveller
from scheduler.policy import PolicyRules

TOWNSHIPS_FILE = "townships.csv"
FACTORIES_FILE = "factories.csv"
TRAVELLERS_FILE = "travellers.csv"
FLEET_FILE = "fleet.csv"

TOWNSHIP_COLUMNS: tuple[str, ...] = ("township_id", "name", "lat", "lon")
FACTORY_COLUMNS: tuple[str, ...] = (
    "factory_id",
    "name",
    "lat",
    "lon",
    "city",
    "province",
    "receive_from",
    "receive_until",
)
TRAVELLER_COLUMNS: tuple[str, ...] = (
    "traveller_id",
    "name",
    "id_number",
    "phone",
    "township_id",
    "factory_id",
    "earliest_date",
    "report_date",
)
# Optional: a missing group_id means travelling alone, a missing registered_poor means "no".
TRAVELLER_OPTIONAL_COLUMNS: tuple[str, ...] = ("group_id", "registered_poor")
FLEET_COLUMNS: tuple[str, ...] = ("vehicle_type", "seats", "count", "fixed_cost", "cost_per_km")
# A distances file: road km and driving minutes from one place id to another (as a map service exports them).
DISTANCE_COLUMNS: tuple[str, ...] = ("from_id", "to_id", "km", "minutes")

# Characters no cell may hold (a cell is one line of text): C0 and C1 controls, tab and newline included,
# surrogates and the two non-characters. They break xlsx files, PostgreSQL text and printed manifests.
_FORBIDDEN_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def forbidden_character(text: str) -> str | None:
    """The code point ("U+0007") of the first character no text may hold, or None."""
    bad = _FORBIDDEN_CHARS.search(text)
    return f"U+{ord(bad.group()):04X}" if bad else None


# The longest text a cell may hold, per column (the database's column widths); any other column: DEFAULT.
MAX_CELL_CHARS: dict[str, int] = {
    "township_id": 40,
    "factory_id": 40,
    "vehicle_type": 40,
    "id_number": 40,
    "phone": 40,
    "traveller_id": 60,
    "group_id": 60,
}
DEFAULT_MAX_CELL_CHARS = 100
# Dates the service can reckon with: a typo such as 9999-12-31 or 0202-02-20 is refused, not stored.
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2099, 12, 31)

# How many problems str(InvalidScenario) lists before summarising the rest.
MAX_LISTED_PROBLEMS = 50
# A depot farther than this (straight line) from every township is not the county's: a typo or another county.
DEPOT_MAX_KM = 100.0


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """One thing wrong in a scenario file, located as a clerk would find it in Excel.

    ``row`` is the spreadsheet row (header = 1, first data row = 2), or None for a problem with a
    whole file or column; ``field`` is the column name, or None for a problem with a whole file or row.
    """

    file: str
    row: int | None
    field: str | None
    message: str
    message_zh: str
    # Whose row it is (its name column) and what the cell held, so that a clerk finds it without counting rows.
    who: str = ""
    value: str = ""

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} row {self.row}"
        if self.who:
            where += f" ({self.who})"
        if self.field is not None:
            where += f", field {self.field}"
            if self.value:
                where += f" = {self.value!r}"
        return f"{where}: {self.message} ({self.message_zh})"


def format_problems(problems: Sequence[ScenarioProblem], limit: int = MAX_LISTED_PROBLEMS) -> str:
    """One problem per line, the first ``limit`` of them, then "... and N more"."""
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    return "\n".join(lines)


class InvalidScenario(ValueError):
    """Scenario files with problems; ``problems`` lists every one of them, or the first of them when
    ``shorten`` made a digest: ``by_field`` and ``bad_rows`` then still count all.

    The command line maps it to exit code 2 and the HTTP service to 422.
    """

    def __init__(
        self,
        problems: Iterable[ScenarioProblem],
        by_field: Mapping[str, int] | None = None,
        bad_rows: int | None = None,
    ) -> None:
        self.problems: list[ScenarioProblem] = list(problems)
        counted = Counter(p.field or "" for p in self.problems)
        self.by_field: dict[str, int] = dict(by_field) if by_field is not None else dict(counted.most_common())
        self.bad_rows = bad_rows if bad_rows is not None else len({p.row for p in self.problems})
        super().__init__(format_problems(self.problems))

    @property
    def count(self) -> int:
        return sum(self.by_field.values())

    def shorten(self, keep: int) -> InvalidScenario:
        """The same problems with only the first ``keep`` listed (a file of junk has a million)."""
        return InvalidScenario(self.problems[:keep], self.by_field, self.bad_rows)

    def __reduce__(self) -> tuple[type[InvalidScenario], tuple[Any, ...]]:
        # Planning jobs may run in another process; rebuild from the problems, not from the message.
        return (type(self), (self.problems, self.by_field, self.bad_rows))


# ---------------------------------------------------------------------------------------------
# Values


_DATE_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    # Excel's CSV export writes a date cell as "2026/2/20 0:00"; accept a midnight time.
    r"(?:[ T]+0?0:00(?::00)?)?"
)
_ID_FORM_RE = re.compile(r"[0-9]{17}[0-9X]")
# "3.60731E+17": an ID number that Excel turned into a number and rounded.
_EXCEL_NUMBER_RE = re.compile(r"\d(?:\.\d*)?e\+?\d+", re.IGNORECASE)
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_PHONE_JUNK = str.maketrans("", "", " \t\u00a0\u3000-\u2010\u2011\u2012\u2013\u2014()（）")
_ID_JUNK = str.maketrans("", "", " \t\u00a0\u3000-")

_YES = frozenset({"yes", "y", "true", "t", "1", "是", "是的"})
_NO = frozenset({"", "no", "n", "false", "f", "0", "否", "不是"})


@lru_cache(maxsize=4096)
def parse_date(text: str) -> dt.date | None:
    """Parse 2026-02-20, 2026/2/20, 2026.2.20 or 2026年2月20日 (with an optional midnight time).

    Returns:
        The date, or None when the text is not a real calendar date in one of these forms.
    """
    # Cached: a campaign's 100,000 rows use a few dozen distinct dates.
    match = _DATE_RE.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def normalise_phone(text: str) -> str | None:
    """A mainland mobile number as 11 digits (spaces, dashes and a +86/0086/86 prefix removed), or None."""
    digits = text.translate(_PHONE_JUNK)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _MOBILE_RE.fullmatch(digits) else None


def parse_yes_no(text: str) -> bool | None:
    """yes/no, y/n, true/false, 1/0, 是/否, 是的 (any case); empty means no. None when unrecognised."""
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None


def check_id_number(text: str) -> tuple[str | None, tuple[str, str] | None]:
    """Check an 18-character mainland resident ID number (居民身份证号码) with python-stdnum.

    Checks the form, the check digit and the birth date; not the birth place, because stdnum's
    table dates each area code (it gives 于都县 360731 only from 1998) and would reject real
    numbers of people born earlier.

    Returns:
        (normalised number with an upper-case X, None) when valid, else (None, (message, message_zh)).
    """
    number = text.translate(_ID_JUNK).upper()
    if _ID_FORM_RE.fullmatch(number) is None:
        if _EXCEL_NUMBER_RE.fullmatch(number):
            return None, (
                (
                    f"ID number {text} was stored as a number by Excel and lost its last digits; "
                    "format the column as text and enter it again"
                ),
                "身份证号码被 Excel 存成了数字，后几位已丢失；请把该列设置为文本格式后重新录入",
            )
        if len(number) != 18:
            hint = " (old 15-digit numbers are not accepted)" if len(number) == 15 else ""
            hint_zh = "（不接受15位旧号码）" if len(number) == 15 else ""
            return None, (
                f"ID number {text} has {len(number)} characters; expected 18{hint}",
                f"身份证号码应为18位，实际为{len(number)}位{hint_zh}",
            )
        return None, (
            f"ID number {text} must be 17 digits followed by a digit or X",
            "身份证号码应为17位数字加1位数字或X",
        )
    if ric.calc_check_digit(number) != number[-1]:
        return None, (f"ID number {text} fails its checksum", "身份证号码校验位错误")
    born = _birth_date(number[6:14])
    if born is None or born.year < 1900 or born > dt.date.today():
        birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        return None, (
            f"ID number {text} has an impossible birth date {birth}",
            f"身份证号码中的出生日期 {birth} 不存在",
        )
    return number, None


@lru_cache(maxsize=65536)
def _birth_date(yyyymmdd: str) -> dt.date | None:
    # Cached by date: stdnum's parsing dominated the time of checking 100,000 rows.
    try:
        return ric.get_birth_date(f"000000{yyyymmdd}0000")
    except ValidationError:
        return None


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        pass
    # Spreadsheets often turn 53 into "53.0".
    value = _parse_float(text)
    return int(value) if value is not None and value.is_integer() else None


# ---------------------------------------------------------------------------------------------
# One row


def _shown_text(value: object, limit: int) -> str:
    """A cell as a problem quotes it: control characters as "?", cut to ``limit`` characters."""
    text = "" if value is None else str(value).strip()
    return "".join("?" if forbidden_character(c) else c for c in text[:limit])


class _RowChecker:
    """Collects the problems of one row; each method returns the parsed value or None."""

    __slots__ = ("file", "problems", "raw", "refused", "row", "row_number")

    def __init__(self, row: Mapping[str, str], file: str, row_number: int | None) -> None:
        self.file = file
        self.row_number = row_number
        self.raw = row
        self.problems: list[ScenarioProblem] = []
        self.refused: set[str] = set()  # columns whose text was refused (one problem each)
        self.row = {field: self._clean(field, value) for field, value in row.items()}

    def _clean(self, field: str, value: object) -> str:
        """A cell's text in NFC (so that the same name typed on two phones compares equal), or "" with a problem
        when it holds a forbidden character or is too long."""
        text = value if isinstance(value, str) else ("" if value is None else str(value))
        text = unicodedata.normalize("NFC", text.strip())
        limit = MAX_CELL_CHARS.get(field, DEFAULT_MAX_CELL_CHARS)
        if code := forbidden_character(text):
            self.add(field, f"{field} holds a control character ({code})", f"{field} 含有不可见的控制字符（{code}）")
        elif len(text) > limit:
            self.add(
                field,
                f"{field} is {len(text)} characters long; at most {limit}",
                f"{field} 过长：{len(text)} 个字符，最多 {limit} 个",
            )
        else:
            return text
        self.refused.add(field)
        return ""

    def add(self, field: str | None, message: str, message_zh: str) -> None:
        self.problems.append(
            ScenarioProblem(
                self.file,
                self.row_number,
                field,
                message,
                message_zh,
                who=_shown_text(self.raw.get("name"), 40),
                value=_shown_text(self.raw.get(field), 60) if field else "",
            )
        )

    def value(self, field: str) -> str:
        return self.row.get(field, "")

    def required(self, field: str, label_zh: str) -> str:
        value = self.value(field)
        if not value and field not in self.refused:
            self.add(field, f"{field} is empty; a value is required", f"{label_zh}（{field}）不能为空")
        return value

    def number(self, field: str, label_zh: str, minimum: float | None = None) -> float | None:
        text = self.required(field, label_zh)
        if not text:
            return None
        value = _parse_float(text)
        if value is None:
            self.add(field, f"{field} {text!r} is not a number", f"{label_zh}（{field}）应为数字，实际为“{text}”")
        elif minimum is not None and value < minimum:
            self.add(
                field, f"{field} must be >= {minimum:g}, got {text}", f"{label_zh}不能小于 {minimum:g}，实际为 {text}"
            )
            return None
        return value

    def optional_integer(self, field: str, label_zh: str, minimum: int) -> int | None:
        """A whole number, or None for a blank cell."""
        return self.integer(field, label_zh, minimum) if self.value(field) else None

    def optional_date(self, field: str, label_zh: str) -> dt.date | None:
        """A date, or None for a blank cell."""
        return self.date(field, label_zh) if self.value(field) else None

    def integer(self, field: str, label_zh: str, minimum: int) -> int | None:
        text = self.required(field, label_zh)
        if not text:
            return None
        value = _parse_int(text)
        if value is None:
            self.add(field, f"{field} {text!r} is not a whole number", f"{label_zh}（{field}）应为整数，实际为“{text}”")
        elif value < minimum:
            self.add(field, f"{field} must be >= {minimum}, got {text}", f"{label_zh}不能小于 {minimum}，实际为 {text}")
            return None
        return value

    def coordinates(self) -> tuple[float | None, float | None]:
        lat = self.number("lat", "纬度")
        lon = self.number("lon", "经度")
        lat_ok = lat is not None and -90 <= lat <= 90
        lon_ok = lon is not None and -180 <= lon <= 180
        # A latitude of 115 next to a longitude of 25 means the two columns were swapped.
        swapped = lat is not None and lon is not None and -90 <= lon <= 90 and -180 <= lat <= 180
        hint, hint_zh = (" (lat and lon look swapped)", "（纬度和经度似乎填反了）") if swapped else ("", "")
        if lat is not None and not lat_ok:
            self.add("lat", f"latitude {lat} is outside -90..90{hint}", f"纬度 {lat} 超出 -90 到 90 的范围{hint_zh}")
        if lon is not None and not lon_ok:
            self.add("lon", f"longitude {lon} is outside -180..180", f"经度 {lon} 超出 -180 到 180 的范围")
        return (lat if lat_ok else None), (lon if lon_ok else None)

    def date(self, field: str, label_zh: str) -> dt.date | None:
        text = self.required(field, label_zh)
        if not text:
            return None
        value = parse_date(text)
        if value is None:
            self.add(
                field,
                f"{field} {text!r} is not a valid date; expected YYYY-MM-DD such as 2026-02-20",
                f"{label_zh}“{text}”不是有效日期，应为 YYYY-MM-DD 格式，例如 2026-02-20",
            )
        elif not FIRST_DATE <= value <= LAST_DATE:
            self.add(
                field,
                f"{field} {text} is outside {FIRST_DATE} .. {LAST_DATE}",
                f"{label_zh} {text} 超出 {FIRST_DATE} 至 {LAST_DATE} 的范围",
            )
            return None
        return value

    def clock(self, field: str, label_zh: str) -> int | None:
        text = self.required(field, label_zh)
        if not text:
            return None
        value = parse_clock(text)
        if value is None:
            self.add(
                field,
                f"{field} {text!r} is not a time of day; expected HH:MM between 00:00 and 24:00",
                f"{label_zh}“{text}”不是有效时间，应为 00:00 到 24:00 之间的 HH:MM 格式",
            )
        return value

    def build_failed(self, err: ValueError) -> None:
        # The checks above should catch everything the domain objects refuse; this is a safety net.
        self.add(None, str(err), f"数据有误：{err}")


def check_township_row(
    row: Mapping[str, str], *, file: str = TOWNSHIPS_FILE, row_number: int | None = None
) -> tuple[Township | None, list[ScenarioProblem]]:
    """Check one townships.csv row (township_id, name, lat, lon).

    Args:
        row: column name -> cell text.
        file: the file name to put in problems.
        row_number: the spreadsheet row (header = 1) to put in problems.

    Returns:
        (the Township, []) for a clean row, else (None, its problems).
    """
    c = _RowChecker(row, file, row_number)
    township_id = c.required("township_id", "乡镇编号")
    name = c.required("name", "乡镇名称")
    lat, lon = c.coordinates()
    if c.problems or lat is None or lon is None:
        return None, c.problems
    try:
        return Township(township_id, name, lat, lon), []
    except ValueError as err:
        c.build_failed(err)
        return None, c.problems


def check_factory_row(
    row: Mapping[str, str], *, file: str = FACTORIES_FILE, row_number: int | None = None
) -> tuple[Factory | None, list[ScenarioProblem]]:
    """Check one factories.csv row (factory_id, name, lat, lon, city, province, receive_from, receive_until;
    optional max_arrivals_per_day).

    receive_from and receive_until are the gate's hours as HH:MM; 24:00 is allowed as receive_until.

    Args:
        row: column name -> cell text.
        file: the file name to put in problems.
        row_number: the spreadsheet row (header = 1) to put in problems.

    Returns:
        (the Factory, []) for a clean row, else (None, its problems).
    """
    c = _RowChecker(row, file, row_number)
    factory_id = c.required("factory_id", "企业编号")
    name = c.required("name", "企业名称")
    lat, lon = c.coordinates()
    city = c.required("city", "所在城市")
    province = c.required("province", "所在省份")
    receive_from = c.clock("receive_from", "开始接收时间")
    receive_until = c.clock("receive_until", "停止接收时间")
    if receive_from is not None and receive_until is not None and receive_from >= receive_until:
        c.add(
            "receive_until",
            f"receive_until {c.value('receive_until')} must be later than receive_from {c.value('receive_from')}",
            f"停止接收时间 {c.value('receive_until')} 应晚于开始接收时间 {c.value('receive_from')}",
        )
    cap = c.optional_integer("max_arrivals_per_day", "每日接收人数上限", minimum=0)
    if c.problems or lat is None or lon is None or receive_from is None or receive_until is None:
        return None, c.problems
    try:
        return Factory(factory_id, name, lat, lon, city, province, receive_from, receive_until, cap), []
    except ValueError as err:
        c.build_failed(err)
        return None, c.problems


def check_bus_type_row(
    row: Mapping[str, str], *, file: str = FLEET_FILE, row_number: int | None = None
) -> tuple[BusType | None, list[ScenarioProblem]]:
    """Check one fleet.csv row (vehicle_type, seats, count, fixed_cost, cost_per_km; optional available_from,
    available_until).

    Args:
        row: column name -> cell text.
        file: the file name to put in problems.
        row_number: the spreadsheet row (header = 1) to put in problems.

    Returns:
        (the BusType, []) for a clean row, else (None, its problems).
    """
    c = _RowChecker(row, file, row_number)
    vehicle_type = c.required("vehicle_type", "车型")
    seats = c.integer("seats", "座位数", minimum=1)
    count = c.integer("count", "车辆数", minimum=0)
    fixed_cost = c.number("fixed_cost", "每车固定费用", minimum=0)
    cost_per_km = c.number("cost_per_km", "每公里费用", minimum=0)
    available_from = c.optional_date("available_from", "可用起始日期")
    available_until = c.optional_date("available_until", "可用截止日期")
    if available_from and available_until and available_until < available_from:
        c.add(
            "available_until",
            f"available_until {available_until} must not be before available_from {available_from}",
            f"可用截止日期 {available_until} 不能早于可用起始日期 {available_from}",
        )
    if c.problems or seats is None or count is None or fixed_cost is None or cost_per_km is None:
        return None, c.problems
    try:
        return BusType(vehicle_type, seats, count, fixed_cost, cost_per_km, available_from, available_until), []
    except ValueError as err:
        c.build_failed(err)
        return None, c.problems


def check_traveller_row(
    row: Mapping[str, str],
    township_ids: Collection[str] | None,
    factory_ids: Collection[str] | None,
    *,
    file: str = TRAVELLERS_FILE,
    row_number: int | None = None,
) -> tuple[Traveller | None, list[ScenarioProblem]]:
    """Check one travellers.csv row and normalise its ID number (upper-case X) and phone (11 digits).

    Required: traveller_id, name, id_number, phone, township_id, factory_id, earliest_date,
    report_date. Optional: group_id (empty = alone), registered_poor (yes/no, 是/否, ...; empty = no).

    Args:
        row: column name -> cell text (xlsx dates may already be ISO text).
        township_ids: the known townships; None skips this check (townships.csv itself is broken).
        factory_ids: the known factories; None skips this check.
        file: the file name to put in problems.
        row_number: the spreadsheet row (header = 1) to put in problems.

    Returns:
        (the Traveller, []) for a clean row, else (None, its problems).
    """
    c = _RowChecker(row, file, row_number)
    traveller_id = c.required("traveller_id", "人员编号")
    name = c.required("name", "姓名")
    id_text = c.required("id_number", "身份证号码")
    id_number: str | None = None
    if id_text:
        id_number, problem = check_id_number(id_text)
        if problem is not None:
            c.add("id_number", *problem)
    phone_text = c.required("phone", "手机号码")
    phone: str | None = None
    if phone_text:
        phone = normalise_phone(phone_text)
        if phone is None:
            c.add(
                "phone",
                f"phone {phone_text} is not a mainland mobile number (11 digits starting with 13-19)",
                f"手机号码 {phone_text} 不是有效的大陆手机号（应为13–19开头的11位数字）",
            )
    township_id = c.required("township_id", "乡镇编号")
    if township_id and township_ids is not None and township_id not in township_ids:
        c.add(
            "township_id",
            f"unknown township_id {township_id} (not in the townships list)",
            f"乡镇编号 {township_id} 不在乡镇名单中",
        )
    factory_id = c.required("factory_id", "企业编号")
    if factory_id and factory_ids is not None and factory_id not in factory_ids:
        c.add(
            "factory_id",
            f"unknown factory_id {factory_id} (not in the factories list)",
            f"企业编号 {factory_id} 不在企业名单中",
        )
    earliest = c.date("earliest_date", "最早出发日期")
    report = c.date("report_date", "报到日期")
    if earliest is not None and report is not None and report < earliest:
        c.add(
            "report_date",
            f"report_date {report} is before earliest_date {earliest}",
            f"报到日期 {report} 早于最早出发日期 {earliest}",
        )
    poor_text = c.value("registered_poor")
    registered_poor = parse_yes_no(poor_text)
    if registered_poor is None:
        c.add(
            "registered_poor",
            f"registered_poor {poor_text!r} is not yes or no",
            f"是否脱贫（建档立卡）劳动力应填“是”或“否”，实际为“{poor_text}”",
        )
    if c.problems or id_number is None or phone is None or earliest is None or report is None:
        return None, c.problems
    try:
        traveller = Traveller(
            traveller_id,
            name,
            id_number,
            phone,
            township_id,
            factory_id,
            earliest,
            report,
            group_id=c.value("group_id"),
            registered_poor=bool(registered_poor),
        )
    except ValueError as err:
        c.build_failed(err)
        return None, c.problems
    return traveller, []


# ---------------------------------------------------------------------------------------------
# Whole tables


def check_columns(rows: Sequence[Mapping[str, str]], required: Sequence[str], file: str) -> list[ScenarioProblem]:
    """One problem per required column absent from the table (not one per row).

    Rows read by ``scheduler.scenario`` all carry every header column, so the first row tells.
    An empty table has no columns to check; ``check_*_rows`` report it as having no rows.
    """
    if not rows:
        return []
    present = rows[0].keys()
    missing = [name for name in required if name not in present]
    if not missing:
        return []
    found = ", ".join(k for k in present if k) or "none"
    return [
        ScenarioProblem(
            file,
            None,
            name,
            f"column {name} is missing (expected columns: {', '.join(required)}; found: {found})",
            f"缺少列 {name}（应有的列：{', '.join(required)}）",
        )
        for name in missing
    ]


def is_blank(row: Mapping[str, str]) -> bool:
    """True for a row with no text in any cell (kept by readers so row numbers stay right)."""
    return not any(v.strip() if isinstance(v, str) else v is not None for v in row.values())


def _no_rows(file: str, what: str, what_zh: str) -> ScenarioProblem:
    return ScenarioProblem(file, None, None, f"has no {what} rows", f"没有{what_zh}数据")


def _duplicate(file: str, row: int, field: str, value: str, first_row: int, what_zh: str) -> ScenarioProblem:
    return ScenarioProblem(
        file,
        row,
        field,
        f"{field} {value} is repeated: rows {first_row} and {row}",
        f"{what_zh} {value} 重复：第 {first_row} 行和第 {row} 行",
    )


_T = TypeVar("_T")


def _check_rows(
    rows: Sequence[Mapping[str, str]],
    required: Sequence[str],
    file: str,
    what: tuple[str, str],
    check_row: Callable[[Mapping[str, str], int], tuple[_T | None, list[ScenarioProblem]]],
    unique: Sequence[tuple[str, str]],
) -> tuple[list[_T], list[ScenarioProblem]]:
    """Shared loop: column check once, per-row checks, duplicate keys; rows numbered as in Excel."""
    problems = check_columns(rows, required, file)
    missing = {p.field for p in problems}
    objects: list[_T] = []
    seen: dict[str, dict[str, int]] = {field: {} for field, _ in unique}
    any_rows = False
    for row_number, row in enumerate(rows, start=2):
        if is_blank(row):
            continue
        any_rows = True
        obj, row_problems = check_row(row, row_number)
        if missing:
            # A missing column was reported once above; do not repeat it on every row.
            row_problems = [p for p in row_problems if p.field not in missing]
        for field, what_zh in unique:
            key = _unique_key(field, row.get(field))
            if not key:
                continue
            first = seen[field].setdefault(key, row_number)
            if first != row_number:
                row_problems.append(_duplicate(file, row_number, field, key, first, what_zh))
        if row_problems:
            problems.extend(row_problems)
        elif obj is not None and not missing:
            objects.append(obj)
    if not any_rows:
        problems.append(_no_rows(file, *what))
    return objects, problems


def _unique_key(field: str, value: str | None) -> str:
    text = value.strip() if isinstance(value, str) else ("" if value is None else str(value).strip())
    # The same ID number typed with a lower-case x or spaces is the same person.
    return text.translate(_ID_JUNK).upper() if field == "id_number" else text


def check_township_rows(
    rows: Sequence[Mapping[str, str]], file: str = TOWNSHIPS_FILE
) -> tuple[list[Township], list[ScenarioProblem]]:
    """Check a whole townships table: columns, every row, duplicate township_id.

    Args:
        rows: the table's rows in file order (row 2 first), blank rows included.
        file: the file name to put in problems.

    Returns:
        (the townships of the clean rows, every problem found).
    """
    return _check_rows(
        rows,
        TOWNSHIP_COLUMNS,
        file,
        ("township", "乡镇"),
        lambda row, n: check_township_row(row, file=file, row_number=n),
        [("township_id", "乡镇编号")],
    )


def check_factory_rows(
    rows: Sequence[Mapping[str, str]], file: str = FACTORIES_FILE
) -> tuple[list[Factory], list[ScenarioProblem]]:
    """Check a whole factories table: columns, every row, duplicate factory_id.

    Args:
        rows: the table's rows in file order (row 2 first), blank rows included.
        file: the file name to put in problems.

    Returns:
        (the factories of the clean rows, every problem found).
    """
    return _check_rows(
        rows,
        FACTORY_COLUMNS,
        file,
        ("factory", "企业"),
        lambda row, n: check_factory_row(row, file=file, row_number=n),
        [("factory_id", "企业编号")],
    )


def check_fleet_rows(
    rows: Sequence[Mapping[str, str]], file: str = FLEET_FILE
) -> tuple[list[BusType], list[ScenarioProblem]]:
    """Check a whole fleet table: columns, every row, duplicate vehicle_type.

    Args:
        rows: the table's rows in file order (row 2 first), blank rows included.
        file: the file name to put in problems.

    Returns:
        (the bus types of the clean rows, every problem found).
    """
    return _check_rows(
        rows,
        FLEET_COLUMNS,
        file,
        ("coach type", "车型"),
        lambda row, n: check_bus_type_row(row, file=file, row_number=n),
        [("vehicle_type", "车型")],
    )


def check_traveller_rows(
    rows: Sequence[Mapping[str, str]],
    township_ids: Collection[str] | None,
    factory_ids: Collection[str] | None,
    file: str = TRAVELLERS_FILE,
) -> tuple[list[Traveller], list[ScenarioProblem]]:
    """Check a whole travellers table: columns, every row, duplicate traveller_id and id_number.

    A duplicate is reported on its later row, naming both rows.

    Args:
        rows: the table's rows in file order (row 2 first), blank rows included.
        township_ids: the known townships; None skips the check (their own file is broken).
        factory_ids: the known factories; None skips the check.
        file: the file name to put in problems.

    Returns:
        (the travellers of the clean rows, every problem found). The service may import the clean
        rows and show the problems; ``load_scenario`` refuses the whole scenario instead.
    """
    # Sets make the 100,000 membership tests cheap whatever collection the caller passed.
    townships = None if township_ids is None else frozenset(township_ids)
    factories = None if factory_ids is None else frozenset(factory_ids)
    return _check_rows(
        rows,
        TRAVELLER_COLUMNS,
        file,
        ("traveller", "人员"),
        lambda row, n: check_traveller_row(row, townships, factories, file=file, row_number=n),
        [("traveller_id", "人员编号"), ("id_number", "身份证号码")],
    )


def known_ids(rows: Sequence[Mapping[str, str]], column: str) -> set[str] | None:
    """The non-empty ids in ``column``, including those of rows with other problems.

    Travellers are checked against these, so that one bad township row does not also flag every
    traveller from that township.

    Returns:
        The ids, or None when the table has no ids at all (no rows, or no such column): then every
        traveller would be "unknown", and the table's own problem already says what is wrong.
    """
    ids = {v.strip() for row in rows if (v := row.get(column)) and v.strip()}
    return ids or None


def check_distance_rows(
    rows: Sequence[Mapping[str, str]], place_ids: Collection[str] | None, file: str
) -> tuple[dict[tuple[str, str], Leg], list[ScenarioProblem]]:
    """Check a distances table (from_id, to_id, km, minutes): columns, every row, repeated pairs.

    km and minutes must be numbers above zero; from_id and to_id must name two different known places
    (townships, factories, assembly points, or ``depot``). A pair given twice in the same direction is
    reported on its later row; the reverse pair is not a repeat.

    Args:
        rows: the table's rows in file order (row 2 first), blank rows included.
        place_ids: every place id the table may name; None skips the check (a places file is broken).
        file: the file name to put in problems.

    Returns:
        ((from_id, to_id) -> Leg for the clean rows, every problem found).
    """
    problems = check_columns(rows, DISTANCE_COLUMNS, file)
    if problems:
        return {}, problems
    places = None if place_ids is None else frozenset(place_ids)
    legs: dict[tuple[str, str], Leg] = {}
    first_row: dict[tuple[str, str], int] = {}
    any_rows = False
    for row_number, row in enumerate(rows, start=2):
        if is_blank(row):
            continue
        any_rows = True
        c = _RowChecker(row, file, row_number)
        ends = [c.required("from_id", "起点编号"), c.required("to_id", "终点编号")]
        for field, place_id in zip(("from_id", "to_id"), ends, strict=True):
            if place_id and places is not None and place_id not in places:
                c.add(
                    field,
                    f"unknown place {field} {place_id} (not a township, factory, assembly point or depot)",
                    f"地点编号 {place_id} 不是已知的乡镇、企业、集中乘车点或 depot（发车点）",
                )
        if ends[0] and ends[0] == ends[1]:
            c.add("to_id", f"to_id {ends[1]} is the same place as from_id", f"终点 {ends[1]} 与起点相同")
        km = _positive(c, "km", "公里数")
        minutes = _positive(c, "minutes", "行车分钟数")
        pair = (ends[0], ends[1])
        if all(pair):
            first = first_row.setdefault(pair, row_number)
            if first != row_number:
                c.add(
                    "to_id",
                    f"the pair {pair[0]} -> {pair[1]} is repeated: rows {first} and {row_number}",
                    f"{pair[0]} 到 {pair[1]} 的路程重复：第 {first} 行和第 {row_number} 行",
                )
        if c.problems:
            problems.extend(c.problems)
        elif km is not None and minutes is not None:
            legs[pair] = Leg(km, round(minutes * 60))
    if not any_rows:
        problems.append(_no_rows(file, "distance", "路程"))
    return legs, problems


def _positive(c: _RowChecker, field: str, label_zh: str) -> float | None:
    value = c.number(field, label_zh)
    if value is not None and value <= 0:
        c.add(field, f"{field} must be above 0, got {c.value(field)}", f"{label_zh}应大于 0，实际为 {c.value(field)}")
        return None
    return value


# ---------------------------------------------------------------------------------------------
# Home settings


def check_home_settings(
    rules: PolicyRules, townships: Sequence[Township], file: str, depot_inferred: bool = False
) -> list[ScenarioProblem]:
    """Check the home settings once they are complete (given in policy.toml or inferred from the scenario).

    County and province must be known (``scheduler.defaults`` leaves them unset only when no traveller's ID
    number could be placed), and the depot must lie within ``DEPOT_MAX_KM`` in a straight line of some
    township.

    Args:
        rules: the rules with their home settings filled in.
        townships: the scenario's townships.
        file: the policy file to name in problems (the one to add the settings to).
        depot_inferred: whether the depot was inferred rather than given, for the message.

    Returns:
        The problems, each naming the policy.toml setting to add or change.
    """
    problems: list[ScenarioProblem] = []
    for name, label_zh in (("county", "县名"), ("province", "省份")):
        if not getattr(rules, name):
            problems.append(
                ScenarioProblem(
                    file,
                    None,
                    name,
                    f"{name} is not set and cannot be inferred: no traveller's ID number has an area code "
                    f'python-stdnum knows; add {name} = "..." to {file}',
                    f'未设置{label_zh}（{name}），且无法从旅客身份证号码推定；请在 {file} 中写明 {name} = "..."',
                )
            )
    if rules.depot_lat is None or rules.depot_lon is None or not townships:
        return problems
    depot = (rules.depot_lat, rules.depot_lon)
    nearest = min(townships, key=lambda t: geodesic(depot, (t.lat, t.lon)).km)
    km = geodesic(depot, (nearest.lat, nearest.lon)).km
    if km > DEPOT_MAX_KM:
        where = f"{rules.depot_lat}, {rules.depot_lon}"
        if depot_inferred:
            what = f"the inferred depot {where} (the townships' weighted centre)"
            what_zh = f"推算的发车点 {where}（乡镇加权中心）"
        else:
            what, what_zh = f"the depot {where}", f"发车点 {where}"
        problems.append(
            ScenarioProblem(
                file,
                None,
                "depot_lat/depot_lon",
                f"{what} is {km:.0f} km from the nearest township ({nearest.name}), more than "
                f"{DEPOT_MAX_KM:.0f} km from every township; set depot_lat and depot_lon to the county's bus station",
                f"{what_zh}距最近的乡镇（{nearest.name}）{km:.0f} 公里，离所有乡镇都超过 {DEPOT_MAX_KM:.0f} 公里；"
                "请把 depot_lat 和 depot_lon 设为本县汽车站的坐标",
            )
        )
    return problems
