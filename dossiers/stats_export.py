"""A statistics report (``dossiers.statistics``) laid out as the monthly report centres file: a title, the
centre and the period, then one row per group and the total, with Vietnamese column headers.

CSV: UTF-8 with a byte-order mark (Excel then reads the Vietnamese letters), counts as integers, rates
as percentages with a dot (``99.95``), the median in minutes. XLSX (openpyxl): the same table, rates
as numbers formatted as percentages, the title merged over the table.

Text cells carry names officers type (a centre's name, which its admin edits): a spreadsheet must show
them, never run them. In the CSV a text starting with ``= + - @``, a tab or a carriage return gets an
apostrophe in front (:func:`safe_cell`, the OWASP advice against CSV injection); in the XLSX every text
cell is written as a string (``data_type "s"``), which Excel and LibreOffice never evaluate.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from dossiers.statistics import GROUP_NAMES_VI, Figures, Ratio, Report, duration_vi

TITLE = "BÁO CÁO KẾT QUẢ SỐ HÓA HỒ SƠ, KẾT QUẢ GIẢI QUYẾT TTHC"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text: an apostrophe before a leading ``= + - @``,
    tab or carriage return (which would make it a formula or a DDE call)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _pct(ratio: Ratio) -> Decimal | None:
    return ratio.percent()


def _minutes(fig: Figures) -> Decimal | None:
    if fig.median_seconds is None:
        return None
    return (Decimal(str(fig.median_seconds)) / 60).quantize(Decimal("0.01"))


# (header, value of a row, kind): kind "n" a count, "pct" a percentage, "min" minutes.
COLUMNS: list[tuple[str, Callable[[Figures], Any], str]] = [
    ("Tổng số thành phần hồ sơ tiếp nhận", lambda f: f.components_received, "n"),
    ("Số thành phần đã số hóa", lambda f: f.components_digitised, "n"),
    ("Tỷ lệ số hóa thành phần hồ sơ khi tiếp nhận (%)", lambda f: _pct(f.intake), "pct"),
    ("Số thành phần tái sử dụng từ kho dữ liệu", lambda f: f.components_reused, "n"),
    ("Tỷ lệ tái sử dụng (%)", lambda f: _pct(f.reused), "pct"),
    ("Số hồ sơ có kết quả giải quyết", lambda f: f.result_dossiers, "n"),
    ("Số hồ sơ có kết quả điện tử đã ký số", lambda f: f.result_dossiers_issued, "n"),
    ("Tỷ lệ số hóa kết quả giải quyết (%)", lambda f: _pct(f.results), "pct"),
    ("Tổng số bản sao và kết quả", lambda f: f.signed.denominator, "n"),
    ("Số bản được ký số", lambda f: f.signed.numerator, "n"),
    ("Tỷ lệ ký số (%)", lambda f: _pct(f.signed), "pct"),
    ("Số thành phần số hóa từ bản quét", lambda f: f.components_scanned, "n"),
    ("Số thành phần cần kiểm tra lại", lambda f: f.components_needs_review, "n"),
    ("Tỷ lệ cần kiểm tra lại (%)", lambda f: _pct(f.needs_review), "pct"),
    ("Số thành phần được cán bộ sửa", lambda f: f.components_corrected, "n"),
    ("Tỷ lệ được sửa (%)", lambda f: _pct(f.corrected), "pct"),
    ("Thời gian trung vị từ tiếp nhận đến ký số (phút)", lambda f: _minutes(f), "min"),
]


def headers(report: Report) -> list[str]:
    return [GROUP_NAMES_VI[report.by] if report.rows else "Nội dung", *(c[0] for c in COLUMNS)]


def _lines(report: Report) -> list[Figures]:
    return [*report.rows, report.total]


def _heading(report: Report) -> list[str]:
    centre = f"{report.centre_name} ({report.centre_code})" if report.centre_code else report.centre_name
    return [TITLE, f"Đơn vị: {centre}", f"Kỳ báo cáo: {report.period.text_vi()}"]


def filename(report: Report, ext: str) -> str:
    scope = report.centre_code or "toan-he-thong"
    return f"thong-ke-{scope}-{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}.{ext}"


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in _heading(report):
        writer.writerow([safe_cell(line)])
    writer.writerow([])
    writer.writerow([safe_cell(h) for h in headers(report)])
    for fig in _lines(report):
        values = ["" if (v := get(fig)) is None else str(v) for _, get, _ in COLUMNS]  # numbers only
        writer.writerow([safe_cell(fig.label), *values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _text(sheet: Any, row: int, column: int, text: str) -> Any:
    """A text cell written as a string whatever it starts with (openpyxl would store ``=…`` as a formula)."""
    cell = sheet.cell(row=row, column=column, value=text)
    cell.data_type = "s"
    return cell


def to_xlsx(report: Report, *, generated: date | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Thống kê"
    width = len(COLUMNS) + 1
    for row, line in enumerate(_heading(report), start=1):
        _text(sheet, row, 1, line).font = Font(bold=row == 1, size=14 if row == 1 else 11)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        sheet.cell(row=row, column=1).alignment = Alignment(horizontal="center")
    top = len(_heading(report)) + 2
    for col, text in enumerate(headers(report), start=1):
        cell = _text(sheet, top, col, text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[get_column_letter(col)].width = 28 if col == 1 else 16
    lines = _lines(report)
    for offset, fig in enumerate(lines, start=1):
        row = top + offset
        _text(sheet, row, 1, fig.label).font = Font(bold=fig is report.total)
        for col, (_, get, kind) in enumerate(COLUMNS, start=2):
            value = get(fig)
            if value is None:
                continue
            if kind == "pct":
                cell = sheet.cell(row=row, column=col, value=float(value) / 100)
                cell.number_format = "0.00%"
            elif kind == "min":
                cell = sheet.cell(row=row, column=col, value=float(value))
                cell.number_format = "0.00"
            else:
                cell = sheet.cell(row=row, column=col, value=int(value))
                cell.number_format = "#,##0"
            cell.font = Font(bold=fig is report.total)
    sheet.freeze_panes = f"B{top + 1}"
    if generated is not None:
        _text(sheet, top + len(lines) + 2, 1, f"Ngày lập: {generated:%d/%m/%Y}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# The human table (``sohoa stats``): each figure as "numerator/denominator = rate".
TEXT_COLUMNS: list[tuple[str, Callable[[Figures], str]]] = [
    ("Số hóa khi tiếp nhận", lambda f: f.intake.text_vi()),
    ("Số hóa kết quả", lambda f: f.results.text_vi()),
    ("Ký số", lambda f: f.signed.text_vi()),
    ("Tái sử dụng từ kho", lambda f: f.reused.text_vi()),
    ("Cần kiểm tra lại", lambda f: f.needs_review.text_vi()),
    ("Được cán bộ sửa", lambda f: f.corrected.text_vi()),
    ("Trung vị đến ký số", lambda f: duration_vi(f.median_seconds)),
]


def to_text(report: Report) -> str:
    """The report as a plain-text table, Vietnamese number format (``1.939/1.940 = 99,95 %``)."""
    head = [GROUP_NAMES_VI[report.by] if report.rows else "", *(c[0] for c in TEXT_COLUMNS)]
    body = [[fig.label, *(get(fig) for _, get in TEXT_COLUMNS)] for fig in _lines(report)]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    rows = [line(r) for r in body[:-1]]
    return "\n".join([*_heading(report), "", line(head), rule, *rows, *([rule] if rows else []), line(body[-1])])
