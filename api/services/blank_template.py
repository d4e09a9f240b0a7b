"""The blank travellers spreadsheet a township fills in: travellers.csv's columns, notes in Chinese."""

from __future__ import annotations

import io

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from scheduler.spreadsheet import safe_row

# (column, 中文说明, example)
COLUMNS = [
    ("traveller_id", "人员编号（本乡镇内唯一；可留空，由系统分配）", "T0001"),
    ("name", "姓名（必填）", "刘建国"),
    ("id_number", "身份证号码（18位，末位可为X；本列为文本格式，勿改为数字）", "360731199903150110"),
    ("phone", "手机号码（11位大陆手机号）", "13800000001"),
    ("township_id", "乡镇编号（见“乡镇企业编号”表）", ""),
    ("factory_id", "企业编号（见“乡镇企业编号”表）", ""),
    ("earliest_date", "最早可出发日期，如 2026-02-18", "2026-02-18"),
    ("report_date", "报到日期（须不早于最早出发日期）", "2026-02-22"),
    ("group_id", "同行组编号（同组人员安排同一车；可空）", ""),
    ("registered_poor", "是否脱贫（建档立卡）劳动力：是/否（空=否）", "否"),
    ("remarks", "备注（可空）", ""),
]


# The header row's Chinese half; scheduler.scenario reads "姓名 name" (or either half alone) as the column.
HEADERS_ZH = {
    "traveller_id": "人员编号",
    "name": "姓名",
    "id_number": "身份证号码",
    "phone": "手机号码",
    "township_id": "乡镇编号",
    "factory_id": "企业编号",
    "earliest_date": "最早出发日期",
    "report_date": "报到日期",
    "group_id": "同行组",
    "registered_poor": "是否建档立卡",
    "remarks": "备注",
}
ROWS = 2000


def blank_template(townships: list[tuple[str, str]], factories: list[tuple[str, str, str]]) -> bytes:
    """An .xlsx whose first sheet "travellers" has only the header row (with a note on each header cell),
    a sheet "填写说明" explaining every column with an example, and a sheet of township and factory ids."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "travellers"
    sheet.append([f"{HEADERS_ZH[c]} {c}" for c, _, _ in COLUMNS])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for i, (column, note, _example) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font, cell.fill = bold, fill
        cell.comment = Comment(note, "fanggang")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 22 if column != "id_number" else 24
        if column in ("id_number", "phone", "traveller_id", "township_id"):
            # Text format, so that Excel does not turn an ID number into 3.60731E+17.
            for row in range(2, ROWS + 2):
                sheet.cell(row=row, column=i).number_format = "@"
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("填写说明")
    notes.append(["列名 column", "说明", "示例"])
    for column, note, example in COLUMNS:
        notes.append([column, note, example])
    notes.append([])
    notes.append(
        [
            "",
            "第一张表 travellers 的第1行为列名，请勿修改（中文或英文列名均可）；从第2行起每行一人。人员编号可留空，"
            "由系统分配。上传后系统先逐行检查，全部无误才导入。",
        ]
    )
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 60
    notes.column_dimensions["C"].width = 22
    ids = book.create_sheet("乡镇企业编号")
    ids.append(["乡镇编号 township_id", "乡镇", "", "企业编号 factory_id", "企业", "城市"])
    for n in range(max(len(townships), len(factories))):
        t = townships[n] if n < len(townships) else ("", "")
        f = factories[n] if n < len(factories) else ("", "", "")
        ids.append(safe_row([t[0], t[1], "", f[0], f[1], f[2]]))
    # Drop-down lists of the ids (Excel's data validation), so that a clerk picks instead of typing.
    for column, letter in (("township_id", "A"), ("factory_id", "D")):
        count = len(townships) if column == "township_id" else len(factories)
        if not count:
            continue
        choice = DataValidation(
            type="list",
            formula1=f"='乡镇企业编号'!${letter}$2:${letter}${count + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="编号不在列表中",
            error="请从下拉列表中选择（见“乡镇企业编号”表）",
        )
        index = [c for c, _, _ in COLUMNS].index(column) + 1
        target = sheet.cell(row=2, column=index).column_letter
        choice.add(f"{target}2:{target}{ROWS + 1}")
        sheet.add_data_validation(choice)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
