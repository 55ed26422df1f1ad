"""Importing manual test cases from CSV and XLSX: a preview with per-row errors, then all or nothing.

Columns are found by their header, in English or Chinese (title/标题/用例标题, module/模块,
preconditions/前置条件, steps/测试步骤, expected result/预期结果, priority/优先级,
scene/场景); other columns are ignored and listed in the preview.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from itertools import islice
from typing import Any, TypedDict
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from sqlalchemy import select

from core.database import session_scope
from core.errors import InvalidInput
from core.library.catalog import CASE_FIELDS, clean_test_case, scene_ids
from core.library.importers import uploads
from db.models import TestCase

MAX_ROWS = 5000
MAX_SHEET_ROWS = 2 * MAX_ROWS
"""Rows read from a sheet at most, empty ones included: a bigger sheet is refused without reading it all."""
DELIMITERS = (",", ";", "\t")
"""CSV separators tried; the one whose first row names the most known columns wins (ties: the first)."""
XLSX_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, IndexError, ValueError, OSError, EOFError,
               ParseError)
"""What openpyxl raises for files that are not workbooks; defusedxml's refusals are ValueErrors."""
HEADERS = {
    "title": ("title", "name", "case title", "test case", "标题", "用例标题", "用例名称", "名称"),
    "module": ("module", "component", "模块", "所属模块", "功能模块"),
    "preconditions": ("preconditions", "precondition", "前置条件", "前提条件"),
    "steps": ("steps", "test steps", "步骤", "测试步骤", "操作步骤"),
    "expected_result": ("expected result", "expected results", "expected", "预期结果", "期望结果"),
    "priority": ("priority", "优先级"),
    "scene_id": ("scene", "scene id", "scene_id", "场景", "场景id", "场景编号", "接口场景"),
}
"""Field -> accepted headers (compared lower-case, with spaces, "_" and "-" alike)."""


class PreviewRow(TypedDict):
    line: int
    """The row's number as a spreadsheet shows it (the header is row 1)."""
    values: dict[str, Any]
    errors: list[str]


class Preview(TypedDict):
    filename: str
    rows: list[PreviewRow]
    ignored_columns: list[str]
    valid: bool
    """Every row is fine: importing would create exactly these test cases."""


def preview(data: bytes, filename: str) -> Preview:
    """What importing the file would create, and what is wrong with each row; writes nothing."""
    header, records = read_table(data, filename)
    columns = _columns(header, filename)
    with session_scope(read_only=True) as session:
        known = scene_ids(session)
    rows: list[PreviewRow] = []
    for line, record in records:
        raw = {field: record[index] if index < len(record) else "" for field, index in columns.items()}
        values, errors = clean_test_case(raw, known)
        rows.append(PreviewRow(line=line, values=values, errors=errors))
    ignored = [name for index, name in enumerate(header) if name.strip() and index not in columns.values()]
    return Preview(filename=filename, rows=rows, ignored_columns=ignored,
                   valid=bool(rows) and not any(row["errors"] for row in rows))


def import_cases(data: bytes, filename: str, *, skip_existing: bool = False) -> dict[str, Any]:
    """Creates every test case of the file in one transaction, or none when any row has an error.

    With ``skip_existing``, rows whose title and module match a test case already there are
    left out (reported as "skipped"), so the same file can be imported again.
    """
    result = preview(data, filename)
    if not result["rows"]:
        raise InvalidInput("{filename} has a header but no test cases.", filename=filename)
    bad = [row for row in result["rows"] if row["errors"]]
    if bad:
        shown = "; ".join(f"row {row['line']}: {' '.join(row['errors'])}" for row in bad[:5])
        more = f" (and {len(bad) - 5} more rows)" if len(bad) > 5 else ""
        raise InvalidInput("Nothing was imported: {bad_count} of {result_rows_count} rows have errors. "
                           "{shown}{more}",
                           bad_count=len(bad), result_rows_count=len(result['rows']), shown=shown, more=more)
    with session_scope() as session:
        known = scene_ids(session)
        present = {(title, module) for title, module in session.execute(select(TestCase.title, TestCase.module))
                   } if skip_existing else set()
        cases = []
        for row in result["rows"]:
            values, errors = clean_test_case(row["values"], known)
            if errors:  # a scene was removed since the preview
                raise InvalidInput("Nothing was imported: row {row_line}: {value}",
                                   row_line=row['line'], value=' '.join(errors))
            if (values["title"], values["module"]) not in present:
                cases.append(TestCase(**values))
        session.add_all(cases)
        session.flush()
        return {"filename": filename, "created": len(cases), "skipped": len(result["rows"]) - len(cases),
                "ids": [case.id for case in cases]}


def read_table(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows (with their row numbers) of a CSV or XLSX file, as text."""
    data, filename = uploads.check(data, filename)
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        table = _xlsx_rows(data, filename)
    elif name.endswith((".csv", ".txt")):
        table = _csv_rows(data, filename)
    else:
        raise InvalidInput("{filename}: upload a .csv or .xlsx file.", filename=filename)
    if not table:
        raise InvalidInput("{filename} is empty.", filename=filename)
    header, *rest = table
    records = [(line, row) for line, row in enumerate(rest, start=2) if any(cell.strip() for cell in row)]
    if len(records) > MAX_ROWS:
        raise InvalidInput("{filename} has {records_count} test cases; import at most {max_rows} at a time.",
                           filename=filename, records_count=len(records), max_rows=MAX_ROWS)
    return [cell.strip() for cell in header], records


def _csv_rows(data: bytes, filename: str) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in a Chinese locale saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput("{filename} is neither UTF-8 nor GBK text.", filename=filename)
    try:
        delimiter = max(DELIMITERS, key=lambda candidate: len(_match(_first_row(text, candidate))))
        return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as error:
        raise InvalidInput("{filename} is not a readable CSV file: {error}.", filename=filename, error=error) from None


def _first_row(text: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])


def _xlsx_rows(data: bytes, filename: str) -> list[list[str]]:
    """The first sheet's rows; a file that is not a plain workbook (a DTD, entities, a broken zip) is refused.

    openpyxl parses with defusedxml when it is installed (requirements.txt): entity
    declarations, the billion laughs and XXE, raise instead of expanding or reading files.
    """
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows = workbook.worksheets[0].iter_rows(values_only=True)
            table = [[_cell(value) for value in row] for row in islice(rows, MAX_SHEET_ROWS + 1)]
        finally:
            workbook.close()
    except XLSX_ERRORS:
        raise InvalidInput("{filename} is not a valid XLSX file: save it from Excel (or LibreOffice) as .xlsx "
                           "and upload that.", filename=filename) from None
    if len(table) > MAX_SHEET_ROWS:
        raise InvalidInput("{filename} has more than {max_sheet_rows} rows; import at most {max_rows} test "
                           "cases at a time.",
                           filename=filename, max_sheet_rows=MAX_SHEET_ROWS, max_rows=MAX_ROWS)
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _normal(header: str) -> str:
    return re.sub(r"[\s_\-]+", " ", header.strip().lower())


def _match(header: list[str]) -> dict[str, int]:
    """Field -> column index, for the fields the header names."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        for field, aliases in HEADERS.items():
            if _normal(name) in {_normal(alias) for alias in aliases} and field not in found:
                found[field] = index
    return found


def _columns(header: list[str], filename: str) -> dict[str, int]:
    """Field -> column index; the header must name the title column at least."""
    found = _match(header)
    if "title" not in found:
        raise InvalidInput("{filename} has no title column; the first row must name the columns ({value}).",
                           filename=filename, value=', '.join(CASE_FIELDS))
    return found
