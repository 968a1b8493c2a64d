"""Export: the review's tables as CSV, Markdown and an Excel workbook.

Every output is built from the one normalized study table, so the CSV an
analyst loads, the Markdown a manuscript quotes and the sheet a reviewer reads
hold the same cells. Cells are computed with polars expressions (linear in the
corpus, no per-record Python); the only per-cell Python is the unavoidable
xlsxwriter call that puts a value into a cell.

The functions take data and return data or bytes; the one exception,
:func:`write_workbook`, writes its file because xlsxwriter's constant-memory
mode streams rows to disk instead of holding 100,000 studies in memory.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from exosynth.problems import plural
from exosynth.settings import SourceTable, source_tables
from exosynth.trials import TRIAL_LABELS

TABLE_COLUMNS = (
    "Condition",
    "In vitro study",
    "In vivo study (animal model / clinical use)",
    "Results",
    "Ref.",
)
TRANSLATION_GAP_SHEET = "Translation gap"
STUDIES_SHEET = "Studies"
TRIALS_SHEET = "Registered trials"
ABOUT_SHEET = "About"

# Data never becomes a formula, a link or a number by accident: a results text that
# starts with "=" stays text. constant_memory streams rows to disk (100k studies).
WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "constant_memory": True,
}
# A fixed document date: xlsxwriter would otherwise stamp now() into docProps/core.xml
# and two builds of the same data would differ.
WORKBOOK_CREATED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
EXCEL_MAX_STRING = 32767  # UTF-16 code units per cell; longer text is silently truncated
# Rows per sheet. xlsxwriter ignores a write beyond it (returns -1), so a sheet would lose
# studies without a word: the workbook refuses instead, before writing anything.
EXCEL_MAX_ROWS = 1_048_576
MIN_WIDTH, MAX_WIDTH = 6, 50  # column widths in characters; longer text wraps
HEADER_LINE = 18  # characters of a header shown on one line before it wraps
WRAP_SLACK = 2  # characters per wrapped line fewer than the width: words do not split
ABOUT_WIDTH = 100  # the About sheet's value column
LINE_HEIGHT, MAX_LINES = 15, 40  # points per line of the default 11 pt font; a row's cap

_HEADER_FILL = "#DCE6F1"


# -- table cells ---------------------------------------------------------------
def _in_vivo_cell() -> pl.Expr:
    """Animal models, then use in people, joined by "; "; "-" when there was neither."""
    patients = pl.col("clinical_patients")
    clinical = (
        pl.when(patients == 1)
        .then(pl.lit("Clinical patient"))
        .when(patients.is_not_null())
        .then(pl.concat_str([pl.lit("Clinical patients ("), patients.cast(pl.String), pl.lit(")")]))
    )
    animal = pl.col("in_vivo").replace("", None)
    return (
        pl.when(animal.is_null() & clinical.is_null())
        .then(pl.lit("-"))
        .otherwise(pl.concat_str([animal, clinical], separator="; ", ignore_nulls=True))
    )


def _ref_cell() -> pl.Expr:
    """The citation as the review prints it, "Damania et al[23], 2018"; added papers lack [N]."""
    # concat_str, not pl.format: polars 2.1's streaming engine panicked on pl.format over
    # sliced multi-chunk frames ("assertion failed: i < self.len()").
    author, year = pl.col("first_author"), pl.col("year").cast(pl.String)
    ref = pl.col("ref").cast(pl.String)
    return (
        pl.when(ref.is_not_null())
        .then(pl.concat_str([author, pl.lit(" et al["), ref, pl.lit("], "), year]))
        .otherwise(pl.concat_str([author, pl.lit(" et al, "), year]))
    )


def table_rows(studies: pl.DataFrame, table: SourceTable) -> pl.DataFrame:
    """The rows of one table with the review's five columns, in the studies' (review) order."""
    condition, in_vitro, in_vivo, results, ref = TABLE_COLUMNS
    return (
        studies.lazy()
        .filter(pl.col("source") == table.key)
        .select(
            pl.col("condition").alias(condition),
            pl.when(pl.col("in_vitro")).then(pl.lit("+")).otherwise(pl.lit("-")).alias(in_vitro),
            _in_vivo_cell().alias(in_vivo),
            pl.col("results").alias(results),
            _ref_cell().alias(ref),
        )
        .collect()
    )


# -- CSV and Markdown ------------------------------------------------------------
def table_csv(rows: pl.DataFrame) -> bytes:
    """Header and one line per study, UTF-8 with "\\n" line ends; nothing else, for analysts."""
    return rows.write_csv().encode("utf-8")


def _markdown_cell(column: str) -> pl.Expr:
    r"""A cell that cannot break the pipe table: "\" and "|" escaped, line breaks as spaces."""
    return (
        pl.col(column)
        .cast(pl.String)
        .fill_null("")
        .str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all("|", "\\|", literal=True)
        .str.replace_all(r"\r\n|\r|\n", " ")
    )


def table_markdown(rows: pl.DataFrame, table: SourceTable) -> str:
    """Title line, a GitHub-flavoured pipe table and the footnote: one stable text for diffs."""
    header = "| " + " | ".join(c.replace("|", "\\|") for c in rows.columns) + " |"
    rule = "| " + " | ".join(":---:" if c == TABLE_COLUMNS[1] else "---" for c in rows.columns)
    body = (
        rows.select(
            pl.concat_str(
                [
                    pl.lit("| "),
                    pl.concat_str([_markdown_cell(c) for c in rows.columns], separator=" | "),
                    pl.lit(" |"),
                ]
            ).alias("line")
        )["line"].to_list()
        if rows.width
        else []
    )
    lines = [f"**Table {table.table}** {table.title}", "", header, rule + " |", *body]
    if table.footnote_text:
        lines += ["", table.footnote_text]
    return "\n".join(lines) + "\n"


# -- the workbook ------------------------------------------------------------------
def sheet_names(tables: Sequence[SourceTable], *, trials: bool = False) -> list[str]:
    """The workbook's sheets in order; the About sheet lists them from here too."""
    return [f"Table {t.table}" for t in tables] + [
        TRANSLATION_GAP_SHEET,
        STUDIES_SHEET,
        *([TRIALS_SHEET] if trials else []),
        ABOUT_SHEET,
    ]


def about_rows(
    config: dict, ledger: dict, version: str, *, trials: bool = False
) -> list[tuple[str, str]]:
    """What the workbook is and what it was built from, for a reader without the repository.

    No timestamps: the workbook must be byte-identical when its inputs are.
    """
    review = config.get("review") or {}
    tables = source_tables(config)
    missing = "(not given in config/config.yaml)"
    rows = [
        (
            "What this is",
            "The evidence tables of therapy studies of exosomes derived from mesenchymal stem "
            "cells (MSC), rebuilt by exosynth from one record per paper, with the translation-gap "
            "statistics and the normalized study list. Every cell holds a value; nothing in it "
            "is a formula.",
        ),
        ("Review", review.get("title") or missing),
        ("Data cut-off", review.get("data_cutoff") or missing),
        ("How to cite", review.get("cite_as") or missing),
        ("Raw files read", str(ledger["files_read"])),
        ("Studies included", str(ledger["included"])),
        ("Raw files rejected", str(ledger["rejected"])),
        ("Raw set checksum (SHA-256)", str(ledger["raw_checksum"])),
        ("exosynth version", version),
        ("Sheets", ", ".join(sheet_names(tables, trials=trials))),
    ]
    rows += [
        (
            f"Table {t.table}",
            f"{t.title} ({t.key}): one row per study, the review's "
            "columns; abbreviations under the table",
        )
        for t in tables
    ]
    rows += [
        (
            TRANSLATION_GAP_SHEET,
            "Per MSC source and all sources: studies, studies with in vitro, animal and clinical "
            "work, the share of studies that reached people (clinical_share) with its 95% "
            "interval, and translation_gap = 1 - clinical_share",
        ),
        (
            STUDIES_SHEET,
            "The normalized study table, one row per included study, the columns "
            "of results/studies.csv",
        ),
        *trials_about_rows(ledger if trials else None),
        (ABOUT_SHEET, "This sheet"),
    ]
    return rows


class _Styles:
    """The workbook's cell formats, created once per workbook (xlsxwriter ties them to it)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 12})
        self.header = book.add_format(
            {
                "bold": True,
                "bg_color": _HEADER_FILL,
                "bottom": 1,
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.text = book.add_format({"text_wrap": True, "valign": "top"})
        self.centered = book.add_format({"align": "center", "valign": "top"})
        self.value = book.add_format({"valign": "top"})
        self.key = book.add_format({"bold": True, "valign": "top"})
        self.footnote = book.add_format({"italic": True})


def _cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as the workbook stores them: numbers stay numbers, NaN/inf empty, the rest text."""
    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_float():
            columns.append(pl.when(column.is_finite()).then(column).alias(name))
        elif dtype.is_decimal():
            columns.append(column.cast(pl.Float64))
        elif dtype.is_numeric() or dtype == pl.Boolean:
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


def _check_rows(sheets: Sequence[tuple[str, int]]) -> None:
    """Refuse a sheet longer than Excel allows, naming it; the CSV and Parquet hold every row."""
    too_long = [(name, rows) for name, rows in sheets if rows > EXCEL_MAX_ROWS]
    if too_long:
        listed = "; ".join(f"sheet {name!r} needs {rows:,} rows" for name, rows in too_long)
        raise ValueError(
            f"{listed}: an Excel sheet holds at most {EXCEL_MAX_ROWS:,}. Every study is in "
            "results/studies.csv and the table CSVs; to keep a workbook, split the source into "
            "narrower ones in config/config.yaml"
        )


def _widths(cells: pl.DataFrame) -> list[int]:
    """Column widths from the longest value and the longest header word, within caps."""
    if not cells.width:
        return []
    longest = (
        cells.select(
            pl.col(n).cast(pl.String).str.len_chars().max().fill_null(0) for n in cells.columns
        ).row(0)
        if cells.height
        else (0,) * cells.width
    )
    # A header may wrap, but short ones stay on one line and no word is broken.
    header = [
        max(max((len(w) for w in name.split()), default=0), min(len(name), HEADER_LINE))
        for name in cells.columns
    ]
    return [
        min(MAX_WIDTH, max(MIN_WIDTH, value + 2, word + 2))
        for value, word in zip(longest, header, strict=True)
    ]


def _lines(cells: pl.DataFrame, widths: Sequence[int]) -> list[int]:
    """Estimated wrapped lines per row, for row heights.

    LibreOffice keeps a stored xlsx row at one line however its text wraps, so the
    height is set; a line holds about ``width - WRAP_SLACK`` characters.
    """
    text = [
        (name, width)
        for (name, dtype), width in zip(cells.schema.items(), widths, strict=True)
        if dtype == pl.String
    ]
    if not text or not cells.height:
        return [1] * cells.height
    per_cell = []
    for name, width in text:
        value = pl.col(name).fill_null("")
        length = value.str.len_chars()
        # A column is as wide as its longest value + 2 unless capped: only capped text wraps.
        wrapped = pl.when(length > width - 2).then((length / max(1, width - WRAP_SLACK)).ceil())
        per_cell.append(wrapped.otherwise(1) + value.str.count_matches("\n", literal=True))
    lines = pl.max_horizontal(per_cell).clip(lower_bound=1).cast(pl.Int64)
    return cells.select(lines.alias("lines"))["lines"].to_list()


def _set_height(sheet: Worksheet, row: int, lines: int) -> None:
    if lines > 1:
        sheet.set_row(row, LINE_HEIGHT * min(lines, MAX_LINES))


Writer = Callable[[int, int, Any, Format], int]


def _writers(
    sheet: Worksheet, cells: pl.DataFrame, styles: _Styles, centered: Sequence[str]
) -> list[tuple[Writer, Format]]:
    """One typed write method and format per column, chosen once, not per cell."""
    chosen: list[tuple[Writer, Format]] = []
    for name, dtype in cells.schema.items():
        if dtype == pl.Boolean:
            chosen.append((sheet.write_boolean, styles.value))
        elif dtype.is_numeric():
            chosen.append((sheet.write_number, styles.value))
        else:  # write_string: text is stored as text, never parsed as a formula or number
            chosen.append(
                (sheet.write_string, styles.centered if name in centered else styles.text)
            )
    return chosen


def _write_frame(
    sheet: Worksheet,
    frame: pl.DataFrame,
    first_row: int,
    styles: _Styles,
    centered: Sequence[str] = (),
) -> int:
    """Header at ``first_row`` then one row per record, row by row (constant-memory order).

    Nulls are left as empty cells. Returns the index of the last row written.
    """
    cells = _cells(frame)
    widths = _widths(cells)
    header_lines = _lines(pl.DataFrame([cells.columns], schema=cells.columns, orient="row"), widths)
    _set_height(sheet, first_row, header_lines[0])
    for col, (name, width) in enumerate(zip(cells.columns, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(first_row, col, name, styles.header)
    writers = _writers(sheet, cells, styles, centered)
    rows = zip(cells.iter_rows(), _lines(cells, widths), strict=True)
    for row, (values, lines) in enumerate(rows, start=first_row + 1):
        _set_height(sheet, row, lines)
        for col, value in enumerate(values):
            if value is not None:
                write, cell_format = writers[col]
                write(row, col, value, cell_format)
    last = first_row + cells.height
    sheet.freeze_panes(first_row + 1, 0)
    sheet.autofilter(first_row, 0, last, max(cells.width - 1, 0))
    sheet.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
    return last


def _table_sheet(sheet: Worksheet, table: SourceTable, rows: pl.DataFrame, styles: _Styles) -> None:
    """Title, header, the studies, a blank row and the footnote, as the review prints them."""
    sheet.write_string(0, 0, table.heading, styles.title)
    last = _write_frame(sheet, rows, 1, styles, centered=(TABLE_COLUMNS[1],))
    if table.footnote_text:
        sheet.write_string(last + 2, 0, table.footnote_text, styles.footnote)
    sheet.repeat_rows(1)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def _about_sheet(sheet: Worksheet, about: Sequence[tuple[str, str]], styles: _Styles) -> None:
    """Key and value, one pair a row; long values wrap in a wide second column."""
    cells = pl.DataFrame(list(about), schema=["key", "value"], orient="row")
    widths = [min(MAX_WIDTH, max((len(k) for k, _ in about), default=0) + 2), ABOUT_WIDTH]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    for row, ((key, value), lines) in enumerate(zip(about, _lines(cells, widths), strict=True)):
        _set_height(sheet, row, lines)
        sheet.write_string(row, 0, key, styles.key)
        sheet.write_string(row, 1, value, styles.text)
    sheet.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def write_workbook(
    path: str | Path,
    tables: Sequence[tuple[SourceTable, pl.DataFrame]],
    translation_gap: pl.DataFrame,
    studies: pl.DataFrame,
    about: Sequence[tuple[str, str]],
    *,
    gap_map_png: bytes | None = None,
    trials: pl.DataFrame | None = None,
) -> None:
    """The reviewer workbook: "Table N" sheets, "Translation gap", "Studies", "About".

    Made to be handed out: text is written as text (no formula, link or number is
    derived from data), and the same inputs give a byte-identical file (fixed
    document date, no author, xlsxwriter's fixed zip entry times). ``gap_map_png``, the
    evidence gap map, goes on the "Translation gap" sheet under the table.
    """
    _check_rows(
        [
            (f"Table {t.table}", 2 + rows.height + (2 if t.footnote_text else 0))
            for t, rows in tables
        ]
        + [(TRANSLATION_GAP_SHEET, 1 + translation_gap.height), (STUDIES_SHEET, 1 + studies.height)]
        + ([(TRIALS_SHEET, 1 + trials.height)] if trials is not None else [])
    )
    with xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS) as book:
        book.set_properties(
            {
                "title": "exosynth evidence tables",
                "comments": "Built by exosynth; see the About sheet for what it was built from.",
                "author": "",
                "created": WORKBOOK_CREATED,
            }
        )
        styles = _Styles(book)
        for table, rows in tables:
            _table_sheet(book.add_worksheet(f"Table {table.table}"), table, rows, styles)
        for name, frame in ((TRANSLATION_GAP_SHEET, translation_gap), (STUDIES_SHEET, studies)):
            sheet = book.add_worksheet(name)
            _write_frame(sheet, frame, 0, styles)
            sheet.repeat_rows(0)
            sheet.set_landscape()
            if name == TRANSLATION_GAP_SHEET:  # a few columns: one page wide when printed
                sheet.fit_to_pages(1, 0)
                if gap_map_png:  # the evidence gap map, below the numbers it is drawn from
                    sheet.insert_image(
                        frame.height + 3,
                        0,
                        "evidence_gap_map.png",
                        {
                            "image_data": io.BytesIO(gap_map_png),
                            "x_scale": 0.6,
                            "y_scale": 0.6,
                            "description": "Evidence gap map: studies by source and highest stage",
                        },
                    )
        if trials is not None:
            write_trials_sheet(book.add_worksheet(TRIALS_SHEET), trials, styles)
        _about_sheet(book.add_worksheet(ABOUT_SHEET), about, styles)


# -- registered trials (exosynth.trials) ---------------------------------------------------
# Human headers of the trial columns the "Translation gap" sheet gains (the lead merges these
# into that sheet's column -> label mapping).
TRIAL_GAP_LABELS = {
    "n_trials": "MSC-EV trials",
    "n_trials_phase1": "MSC-EV trials in phase 1 (incl. 1/2)",
    "n_trials_phase2_plus": "MSC-EV trials in phase 2 or later",
    "n_trials_phase3_plus": "MSC-EV trials in phase 3 or later",
    "n_trials_no_phase": "MSC-EV trials without a phase",
    "n_secretome_trials": "Secretome trials (not EV)",
    "first_trial_year": "First MSC-EV trial registered",
}


def trial_sheet_rows(trials: pl.DataFrame) -> pl.DataFrame:
    """The trial table with human headers (exosynth.trials.TRIAL_LABELS), in its row order."""
    return trials.select(
        pl.col(name).alias(TRIAL_LABELS.get(name, name)) for name in trials.columns
    )


def write_trials_sheet(sheet: Worksheet, trials: pl.DataFrame, styles: _Styles) -> None:
    """The "Registered trials" sheet: one row per trial, written as text by the shared writer
    (no cell becomes a formula, a link or a number), frozen header, autofilter."""
    _write_frame(sheet, trial_sheet_rows(trials), 0, styles)
    sheet.repeat_rows(0)
    sheet.set_landscape()


def trials_about_rows(ledger: dict | None) -> list[tuple[str, str]]:
    """What the "Registered trials" sheet is, for the About sheet (nothing without it)."""
    if ledger is None:
        return []
    counts = ledger.get("trials") or {}
    exports = plural(counts.get("exports", 0), "export")
    rows = plural(counts.get("rows_read", 0), "row")
    return [
        (
            TRIALS_SHEET,
            "One row per trial registered at ClinicalTrials.gov, from the registry exports in "
            f"raw/trials/ ({exports}, {rows} read, duplicates "
            "merged): its product class (MSC-EV, MSC secretome, other) with the rule that "
            "gave it, its MSC source and where that comes from (registry text, product list, "
            "or the author's decision with its reason), phase and status",
        )
    ]
