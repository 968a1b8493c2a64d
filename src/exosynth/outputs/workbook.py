"""The reviewer workbook: a sheet per table, the statistics, the studies, registered trials, About.

Every output is built from the one normalized study table, so the CSV an
analyst loads, the Markdown a manuscript quotes and the sheet a reviewer reads
hold the same cells. Cells are computed with polars expressions (linear in the
corpus, no per-record Python); the only per-cell Python is the unavoidable
xlsxwriter call that puts a value into a cell.

The functions take data and return data or bytes; the one exception,
:func:`write_workbook`, writes its file (xlsxwriter writes it as it closes).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from exosynth.outputs import figures, meta_sheets
from exosynth.outputs.columns import (
    ABOUT_SHEET,
    ADDED_COLUMN,
    COLUMNS,
    NO,
    STUDIES_SHEET,
    TABLE_COLUMNS,
    TRANSLATION_GAP_SHEET,
    TRIALS_SHEET,
    YES,
    Column,
    detail_headings,
    in_words,
)
from exosynth.outputs.literature_sheets import (
    CHANGES_SHEET,
    PRISMA_SHEET,
    changes_rows,
    prisma_rows,
)
from exosynth.outputs.meta_sheets import EFFECTS_SHEET, META_SHEET
from exosynth.outputs.printing import PrintPlan, print_setup
from exosynth.outputs.quality_sheets import (
    QUALITY_ABOUT,
    QUALITY_BLOCKS,
    RISK_OF_BIAS_SHEET,
    VESICLES_SHEET,
    risk_of_bias_rows,
    vesicle_rows,
    write_risk_of_bias_sheet,
    write_vesicles_sheet,
)
from exosynth.outputs.returned import PROVENANCE_SHEET, provenance_rows
from exosynth.outputs.sheet_layout import (
    ABOUT_WIDTH,
    MAX_WIDTH,
    MIN_WIDTH,
    Writer,
    check_rows,
    column_widths,
    row_lines,
    set_height,
    sheet_cells,
    text_lines,
)
from exosynth.outputs.tables import added_table, footnote, review_reference, table_rows
from exosynth.outputs.words import Words
from exosynth.problems import plural
from exosynth.quality_terms import QualityTerms
from exosynth.settings import SourceTable, source_tables
from exosynth.synthesis.analyses import Synthesis
from exosynth.synthesis.gap import translation_gap, translation_gap_with_trials

# Data never becomes a formula, a link or a number by accident: a results text that
# starts with "=" stays text. Text goes into the shared-string table, each distinct text
# once, not inline in every cell (constant_memory): at 100,260 studies the workbook takes
# about a quarter less CPU and its file is a third smaller, for about twice the memory
# (docs/benchmarks.md). A reader sees the same cells (tools/compare_workbooks.py).
WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "constant_memory": False,
}
# xlsxwriter holds every cell of a shared-string workbook until it closes: at 100,260
# studies (6.4 million cells counted here, nulls included) the workbook job peaks at about
# 900 MB against 375 MB. Beyond this many cells (about 125,000 studies) the workbook
# streams its rows to disk with inline strings (constant_memory), as it did before:
# slower, the same cells, memory flat up to Excel's million rows.
SHARED_STRINGS_MAX_CELLS = 8_000_000
# A fixed document date: xlsxwriter would otherwise stamp now() into docProps/core.xml
# and two builds of the same data would differ.
WORKBOOK_CREATED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


_HEADER_FILL = "#DCE6F1"
# The widest column of the long lists (studies, trials): two dozen columns must fit a printed
# page across, so their long texts wrap sooner than the tables'.
LIST_WIDTH = 30


# -- the workbook ------------------------------------------------------------------
def sheet_names(
    tables: Sequence[SourceTable],
    *,
    trials: bool = False,
    quality: bool = False,
    meta: bool = False,
    literature: bool = False,
) -> list[str]:
    """The workbook's sheets in order; the About sheet lists them from here too."""
    return [f"Table {t.table}" for t in tables] + [
        TRANSLATION_GAP_SHEET,
        STUDIES_SHEET,
        *([RISK_OF_BIAS_SHEET, VESICLES_SHEET] if quality else []),
        *([EFFECTS_SHEET, META_SHEET] if meta else []),
        *([TRIALS_SHEET] if trials else []),
        *([CHANGES_SHEET, PRISMA_SHEET] if literature else []),
        ABOUT_SHEET,
    ]


def _added() -> pl.Expr:
    """A study added since the review: it has no row in the review's table."""
    return pl.col("review_row").is_null()


def table_sheet_rows(studies: pl.DataFrame, table: SourceTable) -> pl.DataFrame:
    """A table sheet's rows: the review's columns (:func:`table_rows`) and "Added since the review".

    The CSV and Markdown tables keep the review's five columns; there the added papers are
    the rows after the review's (:func:`table_caption` says which).
    """
    added = studies.filter(pl.col("source") == table.key).select(
        pl.when(_added()).then(pl.lit(YES)).otherwise(pl.lit(NO)).alias(ADDED_COLUMN)
    )
    return pl.concat([table_rows(studies, table), added], how="horizontal")


def added_by_table(studies: pl.DataFrame, tables: Sequence[SourceTable]) -> dict[int, int]:
    """Studies added since the review, per table number (every configured table, 0 included)."""
    counts = dict(
        studies.filter(_added()).group_by("table").len().select("table", "len").iter_rows()
    )
    return {t.table: int(counts.get(t.table, 0)) for t in tables}


def _dictionary_rows() -> list[tuple[str, str]]:
    """The data dictionary: each CSV's columns with their heading in the workbook and meaning."""
    rows: list[tuple[str, str]] = []
    sheets = {
        "studies.csv": STUDIES_SHEET,
        "translation_gap.csv": TRANSLATION_GAP_SHEET,
        "synthesis/effects.csv": EFFECTS_SHEET,
        "synthesis/pooled.csv": META_SHEET,
    }
    for name, columns in COLUMNS.items():
        sheet = sheets.get(name)
        shown = f"; headings of the {sheet!r} sheet" if sheet else ""
        rows += [
            ("", ""),  # a blank row sets each file's columns apart
            (f"Columns of results/{name}", f"CSV column: heading in words{shown} \u2014 meaning"),
        ]
        rows += [(column, f"{c.label} \u2014 {c.meaning}") for column, c in columns.items()]
    return rows


def about_rows(
    config: dict,
    ledger: dict,
    version: str,
    *,
    added: Mapping[int, int] | None = None,
    trials: bool = False,
    quality: bool = False,
    meta: Sequence[tuple[str, str]] = (),
    literature: bool = False,
) -> list[tuple[str, str]]:
    """What the workbook is and what it was built from, for a reader without the repository.

    ``added`` counts the studies added since the review per table (:func:`added_by_table`).
    No timestamps: the workbook must be byte-identical when its inputs are.
    """
    review = config.get("review") or {}
    tables = source_tables(config)
    missing = "(not given in config/config.yaml)"
    added = dict(added or {})
    n_added = sum(added.values())
    per_table = ", ".join(f"Table {n}: {count:,}" for n, count in sorted(added.items()) if count)
    rows = [
        (
            "What this is",
            "The evidence tables of therapy studies of exosomes derived from mesenchymal stem "
            "cells (MSC), rebuilt by exosynth from one record per paper, with the translation-gap "
            "statistics and the normalized study list. Every cell holds a value; nothing in it "
            "is a formula.",
        ),
        ("Review", review_reference(review) or missing),
        ("Data cut-off", review.get("data_cutoff") or missing),
        ("How to cite", review.get("cite_as") or missing),
        ("Raw files read", str(ledger["files_read"])),
        ("Studies included", str(ledger["included"])),
        (
            "Studies added since the review",
            f"{n_added:,} ({per_table})" if n_added else "0: every study is in the review's tables",
        ),
        ("Raw files rejected", str(ledger["rejected"])),
        ("Raw set checksum (SHA-256)", str(ledger["raw_checksum"])),
        ("exosynth version", version),
        (
            "Sheets",
            ", ".join(
                sheet_names(
                    tables, trials=trials, quality=quality, meta=bool(meta), literature=literature
                )
            ),
        ),
    ]
    rows += [
        (
            f"Table {t.table}",
            f"{t.title} ({t.label}): one row per study, the review's columns and "
            f"{ADDED_COLUMN!r} ({_added_meaning(t, review)}); abbreviations under the table",
        )
        for t in tables
    ]
    gap = COLUMNS["translation_gap.csv"]
    rows += [
        (
            TRANSLATION_GAP_SHEET,
            "Per MSC source and all sources: studies, studies with in vitro, animal and clinical "
            f"work, the share of studies that reached people ({gap['clinical_share'].label}) "
            f"with its Wilson 95% interval, and {gap['translation_gap'].label} = 1 - "
            f"{gap['clinical_share'].label}; under them, the evidence gap map",
        ),
        (
            STUDIES_SHEET,
            "The normalized study table, one row per included study: the columns of "
            f"results/studies.csv, headed in words (below), codes in words; true/false shown "
            f"as {YES}/{NO}. {_folded(COLUMNS['studies.csv'])}",
        ),
        *(QUALITY_ABOUT if quality else []),
        *meta,
        *trials_about_rows(ledger if trials else None),
        *(
            [
                (
                    CHANGES_SHEET,
                    "Studies and registered trials added, removed or edited since the baseline "
                    "(config/config.yaml literature.baseline), with the fields that changed",
                ),
                (
                    PRISMA_SHEET,
                    "The PRISMA 2020 flow of the literature imported with exosynth import: "
                    "records identified, duplicates, screened, excluded, assessed, included",
                ),
            ]
            if literature
            else []
        ),
        (ABOUT_SHEET, "This sheet"),
    ]
    return rows + _dictionary_rows()


class _Styles:
    """The workbook's cell formats, created once per workbook (xlsxwriter ties them to it)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.title = book.add_format({"bold": True, "font_size": 12, "valign": "top"})
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
        # Small numbers and short marks centred: a right-aligned "1" next to left-aligned text
        # reads as one word ("1Liver disease").
        self.centered = book.add_format({"align": "center", "valign": "top"})
        self.value = book.add_format({"valign": "top"})
        self.key = book.add_format({"bold": True, "valign": "top", "text_wrap": True})
        self.footnote = book.add_format({"italic": True, "text_wrap": True, "valign": "top"})
        self._numbers: dict[str, Format] = {}
        self.printing = PrintPlan()  # each sheet's width and header row, for print_setup

    def number(self, number_format: str) -> Format:
        if number_format not in self._numbers:
            self._numbers[number_format] = self.book.add_format(
                {"num_format": number_format, "valign": "top"}
            )
        return self._numbers[number_format]


def _writers(
    sheet: Worksheet,
    cells: pl.DataFrame,
    styles: _Styles,
    centered: Sequence[str],
    formats: Sequence[str | None],
) -> list[tuple[Writer, Format]]:
    """One typed write method and format per column, chosen once, not per cell."""
    chosen: list[tuple[Writer, Format]] = []
    for (name, dtype), number_format in zip(cells.schema.items(), formats, strict=True):
        if number_format:
            chosen.append((sheet.write_number, styles.number(number_format)))
        elif dtype.is_integer():
            chosen.append((sheet.write_number, styles.centered))
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
    *,
    centered: Sequence[str] = (),
    formats: Sequence[str | None] | None = None,
    width_cap: int = MAX_WIDTH,
    details: Collection[str] = (),
) -> tuple[int, list[int]]:
    """Header at ``first_row`` then one row per record.

    ``formats`` gives a column's Excel number format (e.g. :data:`PERCENT`); ``width_cap``
    the widest a column gets (a longer text wraps); ``details`` the headings of columns for
    analysts, grouped and folded away (the + above them shows them; folded, they do not
    print, and the row heights fit the columns shown). Nulls are left as empty cells.
    Returns the index of the last row written and the column widths.
    """
    formats = list(formats or [None] * frame.width)
    cells = sheet_cells(frame)
    widths = column_widths(cells, formats, width_cap)
    header = pl.DataFrame([cells.columns], schema=cells.columns, orient="row")
    shown = [(c, w) for c, w in zip(cells.columns, widths, strict=True) if c not in details]
    set_height(sheet, first_row, row_lines(header, widths, bold=True)[0])
    for col, (name, width) in enumerate(zip(cells.columns, widths, strict=True)):
        folded = {"level": 1, "hidden": True} if name in details else {}
        sheet.set_column(col, col, width, None, folded)
        sheet.write_string(first_row, col, name, styles.header)
    writers = _writers(sheet, cells, styles, centered, formats)
    lines = row_lines(cells.select(c for c, _ in shown), [w for _, w in shown])
    rows = zip(cells.iter_rows(), lines, strict=True)
    for row, (values, lines) in enumerate(rows, start=first_row + 1):
        set_height(sheet, row, lines)
        for col, value in enumerate(values):
            if value is not None:
                write, cell_format = writers[col]
                write(row, col, value, cell_format)
    last = first_row + cells.height
    styles.printing.record(sheet, sum(w for _, w in shown), first_row)
    sheet.freeze_panes(first_row + 1, 0)
    sheet.autofilter(first_row, 0, last, max(cells.width - 1, 0))
    sheet.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
    return last, widths


def _write_note(
    sheet: Worksheet, row: int, text: str, *, widths: Sequence[int], cell_format: Format
) -> None:
    """A line of text across the table's width (merged, wrapped), not spilling beyond it."""
    set_height(sheet, row, text_lines(text, sum(widths)))
    if len(widths) > 1:
        sheet.merge_range(row, 0, row, len(widths) - 1, "", cell_format)
    sheet.write_string(row, 0, text, cell_format)


def _added_meaning(table: SourceTable, review: Mapping[str, Any] | None) -> str:
    """What "yes" in the added column means for this table, true for a table the review lacks."""
    added = added_table(table, review)
    if added:
        return f"{YES} for every paper: {added}"
    return f"{YES} for a paper that is not in Table {table.table} of the review"


def _added_note(table: SourceTable, rows: pl.DataFrame, review: Mapping[str, Any] | None) -> str:
    if ADDED_COLUMN not in rows.columns:
        return ""
    n_added = rows.filter(pl.col(ADDED_COLUMN) == YES).height
    return (
        f"{ADDED_COLUMN}: {_added_meaning(table, review)} "
        f"({n_added:,} of {rows.height:,} {'row' if rows.height == 1 else 'rows'})."
    )


def _table_sheet(
    sheet: Worksheet,
    table: SourceTable,
    rows: pl.DataFrame,
    styles: _Styles,
    review: Mapping[str, Any] | None = None,
) -> None:
    """Title, header, the studies, a blank row and the footnote, as the review prints them."""
    formats = [None] * rows.width
    widths = column_widths(sheet_cells(rows), formats)
    # The title spans the table; the header row is below it (written by _write_frame).
    _write_note(sheet, 0, table.heading, widths=widths, cell_format=styles.title)
    last, widths = _write_frame(
        sheet, rows, 1, styles, centered=(TABLE_COLUMNS[1], ADDED_COLUMN), formats=formats
    )
    notes = [n for n in (footnote(rows, table), _added_note(table, rows, review)) if n]
    for offset, note in enumerate(notes):
        _write_note(sheet, last + 2 + offset, note, widths=widths, cell_format=styles.footnote)


def _about_sheet(sheet: Worksheet, about: Sequence[tuple[str, str]], styles: _Styles) -> None:
    """Key and value, one pair a row; long values wrap in a wide second column."""
    cells = pl.DataFrame(list(about), schema=["key", "value"], orient="row")
    # The keys are bold, about a tenth wider than column_widths measures.
    key_width = (
        math.ceil(1.1 * (column_widths(cells, width_cap=40)[0] - 2)) + 2 if about else MIN_WIDTH
    )
    widths = [min(key_width, 44), ABOUT_WIDTH]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    lines = row_lines(cells, widths) if about else []
    for row, ((key, value), height) in enumerate(zip(about, lines, strict=True)):
        set_height(sheet, row, height)
        sheet.write_string(row, 0, key, styles.key)
        sheet.write_string(row, 1, value, styles.text)
    sheet.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
    styles.printing.record(sheet, sum(widths), None)


def write_workbook(
    path: str | Path,
    tables: Sequence[tuple[SourceTable, pl.DataFrame]],
    translation_gap: pl.DataFrame,
    studies: pl.DataFrame,
    about: Sequence[tuple[str, str]],
    *,
    gap_map_png: bytes | None = None,
    trials: pl.DataFrame | None = None,
    quality: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    words: Words | None = None,
    review: Mapping[str, Any] | None = None,
    meta: Sequence[tuple[str, pl.DataFrame, list[str | None]]] = (),
    extra_sheets: Sequence[tuple[str, pl.DataFrame]] = (),
    provenance: Sequence[Sequence[Any]] | None = None,
) -> None:
    """The reviewer workbook: "Table N" sheets, "Translation gap", "Studies", "About";
    ``quality`` (the rows of :mod:`exosynth.outputs.quality_sheets`) adds "Risk of bias" and
    "Vesicles and dosing" after "Studies"; ``extra_sheets`` (name, rows in words) go before
    "About".

    Made to be handed out: text is written as text (no formula, link or number is
    derived from data), and the same inputs give a byte-identical file (fixed
    document date, no author, xlsxwriter's fixed zip entry times). Headings are in words
    (:data:`COLUMNS`), sources by their labels, shares as percentages. ``gap_map_png``, the
    evidence gap map, goes on the "Translation gap" sheet under the table.
    """
    check_rows(
        [
            (f"Table {t.table}", 2 + rows.height + (2 if t.footnote_text else 0) + 1)
            for t, rows in tables
        ]
        + [(TRANSLATION_GAP_SHEET, 1 + translation_gap.height), (STUDIES_SHEET, 1 + studies.height)]
        + [(name, 1 + frame.height) for name, frame, _ in meta]
        + ([(TRIALS_SHEET, 1 + trials.height)] if trials is not None else [])
        + [(name, 1 + rows.height) for name, rows in extra_sheets]
    )
    words = words or Words.of({"sources": {t.key: {"label": t.label} for t, _ in tables}})
    held = sum(
        frame.height * frame.width
        for frame in (
            translation_gap,
            studies,
            *(rows for _, rows in tables),
            *(sheet for _, sheet, _ in meta),
            *(quality or ()),
            *([trials] if trials is not None else []),
            *(rows for _, rows in extra_sheets),
        )
    ) + sum(len(row) for row in provenance or ())
    streamed = {"constant_memory": held > SHARED_STRINGS_MAX_CELLS}
    with xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, **streamed}) as book:
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
            _table_sheet(book.add_worksheet(f"Table {table.table}"), table, rows, styles, review)

        sheet = book.add_worksheet(TRANSLATION_GAP_SHEET)
        gap, formats = in_words(translation_gap, COLUMNS["translation_gap.csv"], words)
        _write_frame(sheet, gap, 0, styles, formats=formats)
        if gap_map_png:  # the evidence gap map, below the numbers it is drawn from
            styles.printing.pictures.add(sheet.name)
            sheet.insert_image(
                gap.height + 3,
                0,
                "evidence_gap_map.png",
                {
                    "image_data": io.BytesIO(gap_map_png),
                    # The PNG's own size (150 dpi): its 9 pt text prints at 9 pt.
                    "x_scale": 1.0,
                    "y_scale": 1.0,
                    "object_position": 3,  # keeps its size when columns are resized
                    "description": "Evidence gap map: studies by source and highest stage",
                },
            )

        _list_sheet(book.add_worksheet(STUDIES_SHEET), studies, "studies.csv", styles, words)
        if quality is not None:
            rob_rows, vesicle_rows = quality
            write_risk_of_bias_sheet(book, book.add_worksheet(RISK_OF_BIAS_SHEET), rob_rows)
            write_vesicles_sheet(book, book.add_worksheet(VESICLES_SHEET), vesicle_rows)
        for name, frame, frame_formats in meta:  # "Effect sizes", "Meta-analysis" (in words)
            sheet = book.add_worksheet(name)
            _write_frame(sheet, frame, 0, styles, formats=frame_formats)
        if trials is not None:
            write_trials_sheet(book.add_worksheet(TRIALS_SHEET), trials, styles, words)
        for name, rows in extra_sheets:  # printed as every sheet is (print_setup, below)
            _write_frame(book.add_worksheet(name), rows, 0, styles)
        _about_sheet(book.add_worksheet(ABOUT_SHEET), about, styles)
        for sheet in book.worksheets():  # every sheet, those added later too, prints alike
            print_setup(sheet, styles.printing)
        if provenance is not None:  # a returned workbook is read back through it
            _provenance_sheet(book.add_worksheet(PROVENANCE_SHEET), provenance)


def _provenance_sheet(sheet: Worksheet, rows: Sequence[Sequence[Any]]) -> None:
    """The hidden sheet of :func:`exosynth.outputs.returned.provenance_rows`, as text and
    whole numbers."""
    for row, values in enumerate(rows):
        for col, value in enumerate(values):
            if isinstance(value, int):
                sheet.write_number(row, col, value)
            else:
                sheet.write_string(row, col, str(value))
    sheet.hide()


# -- registered trials (exosynth.trials) ---------------------------------------------------
def write_trials_sheet(
    sheet: Worksheet, trials: pl.DataFrame, styles: _Styles, words: Words | None = None
) -> None:
    """The "Registered trials" sheet: one row per trial, written as text by the shared writer
    (no cell becomes a formula, a link or a number), codes in words, frozen header,
    autofilter."""
    _list_sheet(sheet, trials, "trials.csv", styles, words)


def _list_sheet(
    sheet: Worksheet, frame: pl.DataFrame, table: str, styles: _Styles, words: Words | None
) -> None:
    """A long list (Studies, Registered trials): the CSV ``table``'s columns in words, long
    texts wrapped at :data:`LIST_WIDTH`, the analysts' columns folded away."""
    listed, formats = in_words(frame, COLUMNS[table], words)
    _write_frame(
        sheet,
        listed,
        0,
        styles,
        formats=formats,
        width_cap=LIST_WIDTH,
        details=detail_headings(COLUMNS[table]),
    )


def _folded(columns: Mapping[str, Column]) -> str:
    """What the About sheet says of a sheet's folded columns (:func:`detail_headings`)."""
    folded = [c.label for c in columns.values() if c.detail]
    return (
        f"Columns for analysts ({', '.join(folded)}) are folded away and not printed: the + "
        "above the column letters shows them."
    )


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
            "or the author's decision with its reason), phase and status, in words. "
            + _folded(COLUMNS["trials.csv"]),
        )
    ]


def reviewer_workbook(
    path: str | Path,
    studies: pl.DataFrame,
    summary: dict,
    config: dict,
    version: str,
    *,
    trials: pl.DataFrame | None = None,
    vocabulary: Mapping[str, Any] | None = None,
    changes: pl.DataFrame | None = None,
    prisma: pl.DataFrame | None = None,
    digests: Mapping[str, str] | None = None,
    synthesis: Synthesis | None = None,
    knha: bool = False,
    gap_map_png: bytes | None = None,
) -> None:
    """The reviewer workbook of a build, with an About sheet saying what it was built from.

    ``vocabulary`` (config/vocabulary.yaml as read) gives the words of sources without a
    table and of species (:class:`exosynth.outputs.words.Words`). ``changes`` and ``prisma``
    (results/changes.csv and results/prisma.csv) add the sheets "Changes" and "PRISMA flow".
    ``digests`` (raw file -> SHA-256 of its bytes) go on the hidden Provenance sheet, with the
    record and field of each cell of the Studies sheet (:mod:`exosynth.outputs.returned`).
    A study table that carries the quality blocks (the interim one) adds the "Risk of bias"
    and "Vesicles and dosing" sheets, their codes in the vocabulary's words; the Studies
    sheet keeps results/studies.csv's columns only. ``synthesis``
    (:func:`exosynth.synthesis.analyses.synthesize` of the same study table) adds the
    "Effect sizes" and "Meta-analysis" sheets when the records hold outcome data.

    The translation gap and the evidence gap map come from the functions the statistics and
    the figures use (:mod:`exosynth.synthesis.gap`), computed here from the study table, so the
    workbook (the slowest output at scale) need not wait for the figures. ``gap_map_png`` is
    the gap map's picture as rule workbook saved it (results/figures/evidence_gap_map.png):
    drawn once for both; without it, it is drawn here.
    """
    sources = source_tables(config)
    words = Words.of(config, vocabulary)
    gap = (
        translation_gap(studies, sources)
        if trials is None
        else translation_gap_with_trials(studies, sources, trials)
    )
    if gap_map_png is None:
        gap_map_png = figures.render(figures.gap_map_figure(studies, sources)[0], "png")
    labels = {t.key: t.label for t in sources}
    meta: list[tuple[str, pl.DataFrame, list[str | None]]] = []
    meta_about: list[tuple[str, str]] = []
    if synthesis is not None and synthesis.effects.height:
        meta = [
            (EFFECTS_SHEET, *meta_sheets.effects_sheet(synthesis.effects, labels)),
            (META_SHEET, *meta_sheets.meta_analysis_sheet(synthesis.pooled, labels)),
        ]
        meta_about = meta_sheets.about_rows(synthesis.effects.height, synthesis.n_analyses, knha)
    quality_words = QualityTerms.from_vocabulary(dict(vocabulary or {})).labels()
    quality = (
        (risk_of_bias_rows(studies, sources), vesicle_rows(studies, sources, quality_words))
        if set(QUALITY_BLOCKS) <= set(studies.columns)
        else None
    )
    # The Studies sheet and its provenance hold studies.csv's columns, not the blocks' JSON.
    studies = studies.select(list(COLUMNS["studies.csv"]))
    write_workbook(
        path,
        [(t, table_sheet_rows(studies, t)) for t in sources],
        gap,
        studies,
        about_rows(
            config,
            summary,
            version,
            added=added_by_table(studies, sources),
            trials=trials is not None,
            quality=quality is not None,
            meta=meta_about,
            literature=changes is not None and prisma is not None,
        ),
        gap_map_png=gap_map_png,
        trials=trials,
        quality=quality,
        words=words,
        review=config.get("review"),
        meta=meta,
        extra_sheets=(
            [
                (CHANGES_SHEET, changes_rows(changes, dict(words.sources))),
                (PRISMA_SHEET, prisma_rows(prisma)),
            ]
            if changes is not None and prisma is not None
            else []
        ),
        provenance=None if digests is None else provenance_rows(studies, digests),
    )
