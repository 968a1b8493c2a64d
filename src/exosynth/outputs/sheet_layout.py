"""How a sheet's cells are sized: Excel's limits, column widths, wrapped lines and row heights."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from exosynth.outputs.columns import NO, NOT_REPORTED, PERCENT, YES

EXCEL_MAX_STRING = 32767  # UTF-16 code units per cell; longer text is silently truncated
# Rows per sheet. xlsxwriter ignores a write beyond it (returns -1), so a sheet would lose
# studies without a word: the workbook refuses instead, before writing anything.
EXCEL_MAX_ROWS = 1_048_576
MIN_WIDTH, MAX_WIDTH = 6, 50  # column widths in characters; longer text wraps
HEADER_LINE = 18  # characters of a header shown on one line before it wraps
WRAP_SLACK = 2  # characters per wrapped line fewer than the width: words do not split
ABOUT_WIDTH = 100  # the About sheet's value column
LINE_HEIGHT, MAX_LINES = 15, 40  # points per line of the default 11 pt font; a row's cap


def sheet_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as the workbook stores them: numbers stay numbers, NaN/inf empty, true/false as
    yes/no (NR where not reported: LibreOffice shows stored booleans as 1/0 or TRUE/FALSE
    depending on the row), the rest text."""
    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_float():
            columns.append(pl.when(column.is_finite()).then(column).alias(name))
        elif dtype.is_decimal():
            columns.append(column.cast(pl.Float64))
        elif dtype == pl.Boolean:
            columns.append(
                pl.when(column)
                .then(pl.lit(YES))
                .when(column.not_())
                .then(pl.lit(NO))
                .otherwise(pl.lit(NOT_REPORTED))
                .alias(name)
            )
        elif dtype.is_numeric():
            columns.append(column)
        else:
            columns.append(column.cast(pl.String))
    cells = frame.select(columns)
    _check_lengths(cells)
    return cells


def _check_lengths(cells: pl.DataFrame) -> None:
    """Refuse text Excel would cut off silently (the record schema keeps fields far shorter)."""
    text = [n for n, d in cells.schema.items() if d == pl.String]
    if not text:
        return
    # UTF-8 bytes >= UTF-16 units: a column whose longest value fits in bytes is fine.
    longest = cells.select(pl.col(text).str.len_bytes().max()).row(0, named=True)
    for name in (n for n, size in longest.items() if (size or 0) > EXCEL_MAX_STRING):
        for value in cells.filter(pl.col(name).str.len_bytes() > EXCEL_MAX_STRING)[name]:
            if len(value.encode("utf-16-le")) // 2 > EXCEL_MAX_STRING:
                raise ValueError(
                    f"{name}: a value of {len(value):,} characters is longer than Excel's "
                    f"limit of {EXCEL_MAX_STRING:,} per cell: {value[:60]!r}..."
                )


def check_rows(sheets: Sequence[tuple[str, int]]) -> None:
    """Refuse a sheet longer than Excel allows, naming it; the CSV and Parquet hold every row."""
    too_long = [(name, rows) for name, rows in sheets if rows > EXCEL_MAX_ROWS]
    if too_long:
        listed = "; ".join(f"sheet {name!r} needs {rows:,} rows" for name, rows in too_long)
        raise ValueError(
            f"{listed}: an Excel sheet holds at most {EXCEL_MAX_ROWS:,}. Every study is in "
            "results/studies.csv and the table CSVs; to keep a workbook, split the source into "
            "narrower ones in config/config.yaml"
        )


# Column widths are counted in digit widths ("0" of the default font), and text is set in a
# proportional font: "i" is half a digit wide, "m" one and a half. Counting characters
# alone made a 59-character result two lines high where it shows on one. The classes and
# their widths are DejaVu Sans's (LibreOffice's stand-in for Calibri; Calibri's are close).
_WIDTH_CLASSES = (
    (r"[ijlIJ.,:;'/|\\\s]", -0.52),  # about half a digit
    (r"[ftr()\[\]\-!]", -0.4),
    (r"[cszkvxy?*_`\"LPF]", -0.14),
    (r"[ABCDGHKNOQRUVXZ]", 0.13),
    (r"[mwMW%@#+<=>^~&]", 0.45),  # about one and a half
)


def _text_width(value: pl.Expr) -> pl.Expr:
    """Estimated width of a text in digit widths (within a few percent for Latin text)."""
    width = value.str.len_chars().cast(pl.Float64)
    for pattern, extra in _WIDTH_CLASSES:
        width = width + extra * value.str.count_matches(pattern)
    return width


def _shown(cells: pl.DataFrame, formats: Sequence[str | None]) -> list[pl.Expr]:
    """Each column as the text a reader sees, for measuring (numbers as formatted)."""
    shown = []
    for (name, dtype), number_format in zip(cells.schema.items(), formats, strict=True):
        column = pl.col(name)
        if number_format == PERCENT:
            shown.append((column * 100).round(1).cast(pl.String) + "%")
        else:
            shown.append(column.cast(pl.String) if dtype != pl.String else column)
    return shown


def column_widths(
    cells: pl.DataFrame, formats: Sequence[str | None] | None = None, width_cap: int = MAX_WIDTH
) -> list[int]:
    """Column widths from the widest value and the longest header word, within caps."""
    if not cells.width:
        return []
    formats = formats or [None] * cells.width
    longest = (
        cells.select(
            _text_width(e.fill_null("")).max().fill_null(0) for e in _shown(cells, formats)
        ).row(0)
        if cells.height
        else (0,) * cells.width
    )
    # A header may wrap, but short ones stay on one line and no word is broken (bold: wider).
    header = [
        1.1 * max(max((len(w) for w in name.split()), default=0), min(len(name), HEADER_LINE))
        for name in cells.columns
    ]
    return [
        min(width_cap, max(MIN_WIDTH, math.ceil(value) + 2, math.ceil(word) + 2))
        for value, word in zip(longest, header, strict=True)
    ]


def _line_count(value: pl.Expr, width: float) -> pl.Expr:
    """Lines a wrapped text takes in a column ``width`` digits wide.

    One line when it fits; beyond that words wrap early, so a line holds somewhat less.
    """
    measured = _text_width(value)
    room = max(1.0, width - 0.5)  # the cell's own padding
    # A wrapped line ends at a word: on average it leaves half a word (~4 digits) unused.
    wrapped = (measured / max(1.0, room - min(8.0, 0.15 * room))).ceil()
    # A word nearly a line long (a web address) after other words starts a line of
    # its own and leaves the line before it short: a line more for each.
    long_words = value.str.count_matches(rf"\s\S{{{max(2, int(room * 0.75))},}}")
    lines = pl.when(measured <= room).then(pl.lit(1.0)).otherwise(wrapped + long_words)
    return lines + value.str.count_matches("\n", literal=True)


def row_lines(cells: pl.DataFrame, widths: Sequence[int], *, bold: bool = False) -> list[int]:
    """Estimated wrapped lines per row, for row heights.

    LibreOffice keeps a stored xlsx row at one line however its text wraps, so the
    height is set where a text needs more than one line.
    """
    text = [
        (name, width / (1.05 if bold else 1.0))
        for (name, dtype), width in zip(cells.schema.items(), widths, strict=True)
        if dtype == pl.String
    ]
    if not text or not cells.height:
        return [1] * cells.height
    per_cell = [_line_count(pl.col(name).fill_null(""), width) for name, width in text]
    lines = pl.max_horizontal(per_cell).clip(lower_bound=1).cast(pl.Int64)
    return cells.select(lines.alias("lines"))["lines"].to_list()


def text_lines(text: str, width: float) -> int:
    """Lines of one text across ``width`` digits (a merged title or footnote)."""
    frame = pl.DataFrame({"text": [text]})
    return int(frame.select(_line_count(pl.col("text"), width).cast(pl.Int64)).item())


def set_height(sheet: Worksheet, row: int, lines: int) -> None:
    if lines > 1:
        sheet.set_row(row, LINE_HEIGHT * min(lines, MAX_LINES))


Writer = Callable[[int, int, Any, Format], int]
