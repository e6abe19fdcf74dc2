"""Spreadsheet files (CSV and XLSX) in and out: a header plus rows of text cells, no business rules.

Reading turns an upload into a :class:`Table`: the header's column names and each non-empty row
as ``{column: text}`` with its 1-based spreadsheet row number (the header is row 1). Anything
that is not a readable table raises :class:`MalformedFile` (422 ``core.malformed_file``) naming
the reason and the row, never a server error:

- CSV: UTF-8 with or without a byte order mark, else GB18030 (what Excel in Chinese saves);
  comma separated, quoted as the ``csv`` module (Excel) does; strict about stray quotes.
- XLSX: the first sheet, read with openpyxl in read-only mode (cached values of formulas); numbers
  become text without a spurious ``.0`` and with their decimals as written (``Decimal(str(x))``).

Writing makes CSV (UTF-8 with a byte order mark, so Excel shows Chinese correctly) or XLSX
(write-only mode). CSV text cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) are written with a leading ``'``, and the CSV
reader drops one leading ``'``, so exporting then importing gives back the same text. XLSX text
cells are always written as text, never as formulas.

Parsing is CPU work: async callers use :func:`read_upload` / :func:`write_table_async`, which
run it in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePath

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as SheetCell

from mercato.core.errors import FieldError, InvalidInput
from mercato.core.i18n import N_

MiB = 1024 * 1024
#: The largest spreadsheet an import route accepts (the middleware allows it on those paths).
MAX_UPLOAD_BYTES = 20 * MiB
#: Data rows a file may hold (the header not counted).
MAX_ROWS = 20_000
#: Characters a cell may hold.
MAX_CELL_CHARS = 100_000
#: Columns a header may name.
MAX_COLUMNS = 200
#: Bytes an XLSX may unpack to (its declared sizes; zipfile never inflates past them).
MAX_UNPACKED_BYTES = 400 * MiB
#: Problems listed in one report; the rest are counted only.
MAX_PROBLEMS = 1_000

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XLSX_MAGIC = b"PK\x03\x04"


class MalformedFile(InvalidInput):
    """The upload is not a table we can read; ``message`` says why, with ``row`` where it helps."""

    code = "core.malformed_file"
    message = "The file cannot be read as a CSV or XLSX spreadsheet."


class FileFormat(StrEnum):
    """Spreadsheet formats we read and write."""

    csv = "csv"  # comma-separated text
    xlsx = "xlsx"  # Office Open XML workbook (Excel 2007 and later, WPS)

    @property
    def media_type(self) -> str:
        return XLSX_MEDIA_TYPE if self is FileFormat.xlsx else CSV_MEDIA_TYPE


@dataclass(frozen=True)
class Row:
    """One data row: its spreadsheet row number and its cells by column (missing cells are "")."""

    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The cell of ``column``, stripped of surrounding whitespace ("" when absent)."""
        return self.cells.get(column, "").strip()


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[Row]


# --- Reading ---------------------------------------------------------------------------------

#: Records of a file with their spreadsheet row numbers.
Lines = Generator[tuple[int, list[str]], None, None]


def safe_filename(filename: str | None, *, default: str = "upload") -> str:
    """The last path segment of an uploaded file's name, without control characters, at most 100
    characters: fit for an audit entry or a ledger reason."""
    name = PurePath((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[-100:] or default


def detect_format(data: bytes, *, filename: str | None, content_type: str | None) -> FileFormat:
    """The format of an upload: by its extension, else its declared type, else its content.

    The content decides when nothing else does; a file named ``.xlsx`` that is not a zip archive
    is refused when it is read, not silently read as CSV.

    Raises:
        MalformedFile: a spreadsheet format we do not read (``.xls``, ``.ods``, ``.numbers``).
    """
    suffix = PurePath((filename or "").lower()).suffix
    declared = (content_type or "").split(";")[0].strip().lower()
    if suffix == ".xlsx" or (not suffix and declared == XLSX_MEDIA_TYPE):
        return FileFormat.xlsx
    if suffix in {".csv", ".txt"} or (not suffix and declared in {"text/csv", "text/plain"}):
        return FileFormat.csv
    if suffix in {".xls", ".xlsm", ".xlsb", ".ods", ".numbers", ".et"}:
        raise MalformedFile(N_("This spreadsheet format is not supported; save the file as CSV or XLSX."))
    return FileFormat.xlsx if data.startswith(_XLSX_MAGIC) else FileFormat.csv


def read_table(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    max_rows: int = MAX_ROWS,
    max_cell_chars: int = MAX_CELL_CHARS,
) -> Table:
    """Read an uploaded CSV or XLSX file (see the module doc). Empty rows are skipped.

    Raises:
        MalformedFile: too large, empty, no header, duplicate or blank column names, a row with
            more cells than the header, too many rows, a cell too long, undecodable text, NUL
            bytes, broken quoting, a corrupt workbook, or no data rows.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise MalformedFile(
            N_("The file is too large: at most {max_megabytes} MB."), max_megabytes=MAX_UPLOAD_BYTES // MiB
        )
    if not data.strip():
        raise MalformedFile(N_("The file is empty."))
    file_format = detect_format(data, filename=filename, content_type=content_type)
    lines = _xlsx_lines(data) if file_format is FileFormat.xlsx else _csv_lines(data)
    with contextlib.closing(lines):
        return _tabulate(lines, max_rows=max_rows, max_cell_chars=max_cell_chars)


async def read_upload(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    max_rows: int = MAX_ROWS,
) -> Table:
    """:func:`read_table` in a worker thread, so parsing a large file does not stall the loop."""
    return await asyncio.to_thread(
        read_table, data, filename=filename, content_type=content_type, max_rows=max_rows
    )


def _tabulate(lines: Iterable[tuple[int, list[str]]], *, max_rows: int, max_cell_chars: int) -> Table:
    header: list[str] | None = None
    rows: list[Row] = []
    for number, cells in lines:
        for cell in cells:
            if len(cell) > max_cell_chars:
                raise MalformedFile(
                    N_("Row {row}: a cell is longer than {max_chars} characters."),
                    row=number,
                    max_chars=max_cell_chars,
                )
        if header is None:
            if not any(cell.strip() for cell in cells):
                raise MalformedFile(N_("Row 1 must be the header: the names of the columns."))
            header = _header(cells)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if any(cell.strip() for cell in cells[len(header) :]):
            raise MalformedFile(N_("Row {row} has more cells than the header has columns."), row=number)
        if len(rows) == max_rows:
            raise MalformedFile(N_("The file has more than {max_rows} rows."), max_rows=max_rows)
        padded = cells[: len(header)] + [""] * (len(header) - len(cells))
        rows.append(Row(number=number, cells=dict(zip(header, padded, strict=True))))
    if header is None:
        raise MalformedFile(N_("The file is empty."))
    if not rows:
        raise MalformedFile(N_("The file has a header but no rows."))
    return Table(header=header, rows=rows)


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip() for cell in cells]
    while names and not names[-1]:
        names.pop()  # spreadsheets often carry empty trailing columns
    if len(names) > MAX_COLUMNS:
        raise MalformedFile(N_("The header has more than {max_columns} columns."), max_columns=MAX_COLUMNS)
    for index, name in enumerate(names):
        if not name:
            raise MalformedFile(N_("Column {column} of the header has no name."), column=index + 1)
        if name in names[:index]:
            raise MalformedFile(N_("The column {name} appears twice in the header."), name=name[:60])
    return names


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise MalformedFile(
            N_("The file contains NUL bytes: it is not CSV text (save it as CSV UTF-8 or XLSX).")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise MalformedFile(N_("The file is neither UTF-8 nor GB18030 text.")) from None


def _csv_lines(data: bytes) -> Lines:
    """CSV records with their spreadsheet row numbers (a quoted line break stays in its cell)."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), dialect="excel", strict=True)
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row = number + 1
            if "field larger than field limit" in str(exc):
                raise MalformedFile(
                    N_("Row {row}: a cell is longer than {max_chars} characters."),
                    row=row,
                    max_chars=MAX_CELL_CHARS,
                ) from None
            raise MalformedFile(
                N_("Row {row} is not valid CSV: check the quotation marks."), row=row
            ) from None
        number += 1
        yield number, [_unescape(cell) for cell in record]


def _unescape(cell: str) -> str:
    return cell.removeprefix("'")


def _xlsx_lines(data: bytes) -> Lines:
    """The first sheet's rows as text (at most ``MAX_COLUMNS + 1`` cells are looked at per row)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise MalformedFile(N_("The file is not a valid XLSX workbook.")) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise MalformedFile(N_("The workbook is too large once unpacked."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for a corrupt or foreign archive
        raise MalformedFile(N_("The file is not a valid XLSX workbook.")) from None
    try:
        yield from _sheet_lines(workbook)
    except MalformedFile:
        raise
    except Exception:  # a sheet part that does not parse
        raise MalformedFile(N_("The file is not a valid XLSX workbook.")) from None
    finally:
        workbook.close()


def _sheet_lines(workbook: Workbook) -> Iterator[tuple[int, list[str]]]:
    if not workbook.worksheets:
        raise MalformedFile(N_("The file is empty."))
    sheet = workbook.worksheets[0]
    reset = getattr(sheet, "reset_dimensions", None)
    if reset is not None:
        reset()  # trust the rows present, not a declared size such as A1:XFD1048576
    for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), start=1):
        yield number, [cell_text(value) for value in values]


def cell_text(value: object) -> str:
    """A spreadsheet value as text: integers without ``.0``, decimals as written, dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer():
            return str(int(value))
        return format(Decimal(str(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --- Per-row problems ------------------------------------------------------------------------


@dataclass
class RowProblems:
    """Collects problems of rows (``loc = ("row", number, column)``), keeping the first
    :data:`MAX_PROBLEMS` and counting them all."""

    limit: int = MAX_PROBLEMS
    fields: list[FieldError] = field(default_factory=list)
    count: int = 0

    def add(self, row: int | str, column: str, code: str, message: str) -> None:
        self.count += 1
        if len(self.fields) < self.limit:
            self.fields.append(FieldError(loc=("row", row, column), code=code, message=message))

    def add_header(self, column: str, code: str, message: str) -> None:
        self.count += 1
        if len(self.fields) < self.limit:
            self.fields.append(FieldError(loc=("header", column), code=code, message=message))

    def __bool__(self) -> bool:
        return self.count > 0

    def report(self) -> list[FieldError]:
        """The listed problems, with a last entry saying how many were left out, if any."""
        if self.count <= len(self.fields):
            return list(self.fields)
        return [
            *self.fields,
            FieldError(
                loc=("file",),
                code="core.too_many_problems",
                message=N_("Only the first 1000 problems are listed; fix them and try again."),
            ),
        ]


# --- Writing ---------------------------------------------------------------------------------

Cell = str | int | Decimal | None


@dataclass(frozen=True)
class ExportedFile:
    """A written spreadsheet: what to call it, its media type and its bytes."""

    filename: str
    media_type: str
    content: bytes


def write_table(file_format: FileFormat, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The file's bytes: CSV (UTF-8 with BOM, formula-like text escaped) or XLSX (one sheet)."""
    if file_format is FileFormat.xlsx:
        return _write_xlsx(header, rows)
    return _write_csv(header, rows)


async def write_table_async(
    file_format: FileFormat, header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> bytes:
    """:func:`write_table` in a worker thread (``rows`` should already be in memory)."""
    return await asyncio.to_thread(write_table, file_format, header, rows)


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith((*_FORMULA_START, "'")) else value
    return str(value)


def _write_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow([_csv_cell(name) for name in header])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")

    def cells(values: Sequence[Cell]) -> list[SheetCell | int | Decimal | None]:
        out: list[SheetCell | int | Decimal | None] = []
        for value in values:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"  # text, even when it starts with "=" (never a formula)
                out.append(cell)
            else:
                out.append(value)
        return out

    sheet.append(cells(list(header)))
    for row in rows:
        sheet.append(cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
