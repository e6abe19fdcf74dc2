"""Reading and writing spreadsheets: encodings, quoting, row numbers, XLSX numbers, and every kind
of malformed file refused with a reason (never a crash)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from mercato.core import tabular
from mercato.core.tabular import FileFormat, MalformedFile, Row, read_table, write_table


def xlsx(*rows: list[object]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refusal(data: bytes, filename: str = "f.csv", **kwargs: object) -> tuple[str, dict[str, object]]:
    with pytest.raises(MalformedFile) as caught:
        read_table(data, filename=filename, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "core.malformed_file"
    return caught.value.message, caught.value.params


def test_reads_utf8_csv_with_row_numbers_and_padding() -> None:
    table = read_table(b"a,b,c\r\n1,2,3\r\n\r\n4,5\r\n", filename="f.csv")

    assert table.header == ["a", "b", "c"]
    assert table.rows == [
        Row(number=2, cells={"a": "1", "b": "2", "c": "3"}),
        Row(number=4, cells={"a": "4", "b": "5", "c": ""}),
    ]


def test_reads_utf8_with_bom() -> None:
    table = read_table("\ufeff名称,价格\n苹果,1.50\n".encode(), filename="f.csv")

    assert table.header == ["名称", "价格"]
    assert table.rows == [Row(number=2, cells={"名称": "苹果", "价格": "1.50"})]


def test_falls_back_to_gb18030() -> None:
    table = read_table("名称,规格\n纯棉T恤,颜色=红色\n".encode("gb18030"), filename="f.csv")

    assert table.rows == [Row(number=2, cells={"名称": "纯棉T恤", "规格": "颜色=红色"})]


def test_quoted_cells_keep_commas_quotes_and_line_breaks_in_one_row() -> None:
    data = b'a,b\n"x, y","say ""hi""\nthere"\nlast,1\n'

    table = read_table(data, filename="f.csv")

    assert table.rows == [
        Row(number=2, cells={"a": "x, y", "b": 'say "hi"\nthere'}),
        Row(number=3, cells={"a": "last", "b": "1"}),
    ]


def test_header_names_are_stripped_and_trailing_empty_columns_dropped() -> None:
    table = read_table(b" a , b ,,\n1,2,,\n", filename="f.csv")

    assert table.header == ["a", "b"]
    assert table.rows == [Row(number=2, cells={"a": "1", "b": "2"})]


def test_row_get_strips_and_defaults_to_empty() -> None:
    row = Row(number=2, cells={"a": "  x  "})

    assert (row.get("a"), row.get("missing")) == ("x", "")


@pytest.mark.parametrize(
    ("_case", "data", "message", "params"),
    [
        ("empty", b"", "The file is empty.", {}),
        ("blank", b" \r\n ", "The file is empty.", {}),
        ("bom only", b"\xef\xbb\xbf", "The file is empty.", {}),
        ("header only", b"a,b\r\n", "The file has a header but no rows.", {}),
        ("blank first row", b",\na,b\n", "Row 1 must be the header: the names of the columns.", {}),
        (
            "duplicate header",
            b"a,b,a\n1,2,3\n",
            "The column {name} appears twice in the header.",
            {"name": "a"},
        ),
        ("blank header name", b"a,,b\n1,2,3\n", "Column {column} of the header has no name.", {"column": 2}),
        (
            "extra cell",
            b"a,b\n1,2\n3,4,5\n",
            "Row {row} has more cells than the header has columns.",
            {"row": 3},
        ),
        (
            "stray quote",
            b'a,b\n1,2\n"x"y,2\n',
            "Row {row} is not valid CSV: check the quotation marks.",
            {"row": 3},
        ),
        (
            "unclosed quote",
            b'a,b\n"1,2\n',
            "Row {row} is not valid CSV: check the quotation marks.",
            {"row": 2},
        ),
        (
            "nul bytes (utf-16)",
            "a,b\n1,2\n".encode("utf-16"),
            "The file contains NUL bytes: it is not CSV text (save it as CSV UTF-8 or XLSX).",
            {},
        ),
        ("undecodable", b"a,b\n\x80\xff,1\n", "The file is neither UTF-8 nor GB18030 text.", {}),
    ],
)
def test_refuses_malformed_csv(_case: str, data: bytes, message: str, params: dict[str, object]) -> None:
    assert refusal(data) == (message, params)


def test_refuses_more_rows_than_the_limit() -> None:
    data = b"a\n" + b"x\n" * 4

    assert refusal(data, max_rows=3) == ("The file has more than {max_rows} rows.", {"max_rows": 3})
    assert len(read_table(data, filename="f.csv", max_rows=4).rows) == 4


def test_refuses_a_cell_over_the_length_limit() -> None:
    assert refusal(b"a\nxxxx\n", max_cell_chars=3) == (
        "Row {row}: a cell is longer than {max_chars} characters.",
        {"row": 2, "max_chars": 3},
    )


def test_refuses_a_cell_over_the_csv_module_limit() -> None:
    data = b"a\n" + b"x" * 200_000 + b"\n"

    assert refusal(data) == (
        "Row {row}: a cell is longer than {max_chars} characters.",
        {"row": 2, "max_chars": 100_000},
    )


def test_refuses_a_file_over_the_upload_limit() -> None:
    data = b"a\n" + b"x" * tabular.MAX_UPLOAD_BYTES

    assert refusal(data) == ("The file is too large: at most {max_megabytes} MB.", {"max_megabytes": 20})


def test_refuses_a_header_with_too_many_columns() -> None:
    data = ",".join(f"c{i}" for i in range(201)).encode() + b"\n" + b"1\n"

    assert refusal(data) == ("The header has more than {max_columns} columns.", {"max_columns": 200})


@pytest.mark.parametrize(
    ("_case", "filename", "content_type", "data", "expected"),
    [
        ("xlsx extension", "a.xlsx", None, b"", FileFormat.xlsx),
        ("csv extension", "a.CSV", "application/octet-stream", b"", FileFormat.csv),
        ("txt extension", "a.txt", None, b"", FileFormat.csv),
        ("declared xlsx", None, tabular.XLSX_MEDIA_TYPE, b"", FileFormat.xlsx),
        ("declared csv", "", "text/csv; charset=utf-8", b"PK\x03\x04", FileFormat.csv),
        ("zip content", "upload", None, b"PK\x03\x04rest", FileFormat.xlsx),
        ("text content", "upload", None, b"a,b", FileFormat.csv),
    ],
)
def test_detects_the_format(
    _case: str, filename: str | None, content_type: str | None, data: bytes, expected: FileFormat
) -> None:
    assert tabular.detect_format(data, filename=filename, content_type=content_type) is expected


@pytest.mark.parametrize("filename", ["old.xls", "sheet.ods", "book.numbers"])
def test_refuses_other_spreadsheet_formats(filename: str) -> None:
    assert refusal(b"anything", filename) == (
        "This spreadsheet format is not supported; save the file as CSV or XLSX.",
        {},
    )


def test_reads_the_first_xlsx_sheet_with_exact_numbers() -> None:
    data = xlsx(
        ["code", "price", "count", "big", "date", "flag", "empty"],
        ["A-1", 199.0, 12, 6901234567890, dt.datetime(2026, 3, 1), True, None],  # noqa: DTZ001 - Excel dates are naive
        ["A-2", 19.9, 0, 1e-07, dt.datetime(2026, 3, 1, 8, 30), False, None],  # noqa: DTZ001
        [None, None, None, None, None, None, None],
        ["A-3", Decimal("0.10"), -5, 1.5, dt.date(2026, 1, 2), "text", "x"],
    )

    table = read_table(data, filename="stock.xlsx")

    assert table.header == ["code", "price", "count", "big", "date", "flag", "empty"]
    assert [row.number for row in table.rows] == [2, 3, 5]
    assert [row.cells for row in table.rows] == [
        {
            "code": "A-1",
            "price": "199",
            "count": "12",
            "big": "6901234567890",
            "date": "2026-03-01",
            "flag": "TRUE",
            "empty": "",
        },
        {
            "code": "A-2",
            "price": "19.9",
            "count": "0",
            "big": "0.0000001",
            "date": "2026-03-01T08:30:00",
            "flag": "FALSE",
            "empty": "",
        },
        {
            "code": "A-3",
            "price": "0.1",
            "count": "-5",
            "big": "1.5",
            "date": "2026-01-02",
            "flag": "text",
            "empty": "x",
        },
    ]


def test_refuses_a_text_file_named_xlsx() -> None:
    assert refusal(b"sku_code,on_hand\nA,1\n", "stock.xlsx") == ("The file is not a valid XLSX workbook.", {})


def test_refuses_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")

    assert refusal(buffer.getvalue(), "book.xlsx") == ("The file is not a valid XLSX workbook.", {})


def test_refuses_a_truncated_workbook() -> None:
    data = xlsx(["a"], ["b"])

    assert refusal(data[: len(data) // 2], "book.xlsx") == ("The file is not a valid XLSX workbook.", {})


def test_refuses_an_xlsx_with_an_extra_cell_beyond_the_header() -> None:
    data = xlsx(["a", "b"], [1, 2], [3, 4, 5])

    assert refusal(data, "book.xlsx") == ("Row {row} has more cells than the header has columns.", {"row": 3})


def test_writes_csv_with_bom_and_escapes_formula_like_text() -> None:
    data = write_table(
        FileFormat.csv,
        ["title", "price", "count", "note"],
        [["=HYPERLINK(1)", Decimal("199.00"), 3, None], ["'quoted", Decimal("0.50"), 0, "a,b\nc"]],
    )

    assert data == (
        b"\xef\xbb\xbftitle,price,count,note\r\n'=HYPERLINK(1),199.00,3,\r\n''quoted,0.50,0,\"a,b\nc\"\r\n"
    )
    assert [row.cells for row in read_table(data, filename="out.csv").rows] == [
        {"title": "=HYPERLINK(1)", "price": "199.00", "count": "3", "note": ""},
        {"title": "'quoted", "price": "0.50", "count": "0", "note": "a,b\nc"},
    ]


def test_csv_round_trips_chinese_text() -> None:
    data = write_table(FileFormat.csv, ["标题"], [["纯棉圆领T恤 - 红色"]])

    assert read_table(data, filename="out.csv").rows == [Row(number=2, cells={"标题": "纯棉圆领T恤 - 红色"})]


def test_writes_xlsx_text_as_text_never_as_a_formula() -> None:
    data = write_table(
        FileFormat.xlsx,
        ["title", "price", "count"],
        [["=1+1", Decimal("19.90"), 7], ["bad\x01char", None, 0]],
    )

    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["title", "price", "count"],
        ["=1+1", 19.9, 7],
        ["badchar", None, 0],
    ]
    assert sheet["A2"].data_type == "s"
    assert [row.cells for row in read_table(data, filename="out.xlsx").rows] == [
        {"title": "=1+1", "price": "19.9", "count": "7"},
        {"title": "badchar", "price": "", "count": "0"},
    ]


def test_problems_are_listed_up_to_the_limit_and_counted_beyond() -> None:
    problems = tabular.RowProblems(limit=2)
    for number in (2, 3, 4):
        problems.add(number, "price", "x.code", "Message.")

    assert problems.count == 3
    assert [(f.loc, f.code) for f in problems.report()] == [
        (("row", 2, "price"), "x.code"),
        (("row", 3, "price"), "x.code"),
        (("file",), "core.too_many_problems"),
    ]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("C:\\Users\\me\\商品.csv", "商品.csv"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\nc.csv", "abc.csv"),
        (None, "upload"),
        ("", "upload"),
    ],
)
def test_safe_filename(filename: str | None, expected: str) -> None:
    assert tabular.safe_filename(filename) == expected
