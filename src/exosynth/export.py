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
import html
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from exosynth.problems import plural
from exosynth.settings import SourceTable, source_tables

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
ADDED_COLUMN = "Added since the review"  # the table sheets' mark of papers not in the review
ALL_SOURCES = "All sources"  # the label of the translation gap's "all" row
YES, NO, NOT_REPORTED = "yes", "no", "NR"  # the one way a true/false value is shown to readers
PERCENT = "0.0%"  # shares are numbers (0.1) shown as 10.0%


@dataclass(frozen=True)
class Column:
    """A column of a CSV output as readers meet it: its heading in words and what it means."""

    label: str
    meaning: str
    number_format: str | None = None  # Excel number format; None: as the value comes


# The one mapping from CSV column names to headings (workbook, HTML) and to the About sheet's
# data dictionary. A frame gaining a column (e.g. trial counts in the translation gap) gains
# an entry here; tests fail on a column without one.
COLUMNS: dict[str, dict[str, Column]] = {
    "translation_gap.csv": {
        "source": Column("MSC source", "source code; the workbook shows its label from the config"),
        "n_studies": Column("Studies", "included studies of the source"),
        "n_in_vitro": Column("In vitro", "studies with in vitro work"),
        "n_animal": Column("Animal", "studies with any animal model"),
        "n_clinical": Column("Clinical", "studies with use in people"),
        "clinical_share": Column(
            "Clinical share", "n_clinical / n_studies; empty without studies", PERCENT
        ),
        "clinical_share_ci_low": Column(
            "95% CI low", "lower bound of the clinical share's Wilson 95% interval", PERCENT
        ),
        "clinical_share_ci_high": Column(
            "95% CI high", "upper bound of the clinical share's Wilson 95% interval", PERCENT
        ),
        "translation_gap": Column(
            "Translation gap", "1 - clinical_share: the share that never reached people", PERCENT
        ),
        "n_in_vitro_nr": Column(
            "In vitro NR", "studies whose in vitro work is not reported (never counted as none)"
        ),
        "n_trials": Column("MSC-EV trials", "registered trials of MSC-EV products"),
        "n_trials_phase1": Column(
            "MSC-EV trials in phase 1", "MSC-EV trials in early phase 1, phase 1 or phase 1/2"
        ),
        "n_trials_phase2_plus": Column(
            "MSC-EV trials in phase 2 or later", "MSC-EV trials in phase 2, 2/3, 3 or 4"
        ),
        "n_trials_phase3_plus": Column(
            "MSC-EV trials in phase 3 or later", "MSC-EV trials in phase 3 or 4"
        ),
        "n_trials_no_phase": Column(
            "MSC-EV trials without a phase", "MSC-EV trials with no phase or not applicable"
        ),
        "n_secretome_trials": Column(
            "Secretome trials (not EV)", "trials of conditioned medium, secretome or lysate"
        ),
        "first_trial_year": Column(
            "First MSC-EV trial registered", "year the source's first MSC-EV trial was posted"
        ),
    },
    "trials.csv": {
        "trial_id": Column("Trial", "ClinicalTrials.gov id, NCT followed by 8 digits"),
        "title": Column("Title", "the trial's title as registered"),
        "ev_class": Column("Product class", "msc_ev, msc_secretome or other (ev_rule says why)"),
        "source": Column("MSC source", "source code, or unspecified where no tissue is named"),
        "source_basis": Column("Source from", "registry text, product list or decision"),
        "phase": Column("Phase", "phase code (phase1, phase1_2, ...); empty where none given"),
        "status": Column("Status", "the registry's status in lower snake case"),
        "study_type": Column("Study type", "interventional, observational, ..."),
        "enrollment": Column("Enrollment", "participants, as registered"),
        "start_date": Column("Start", "start date, as precise as registered (YYYY-MM or date)"),
        "first_posted": Column("First posted", "date first posted"),
        "last_update": Column("Last update", "date of the last update posted"),
        "conditions": Column("Conditions", "conditions, '|'-joined"),
        "interventions": Column("Interventions", "interventions, '|'-joined"),
        "sponsor": Column("Sponsor", "the lead sponsor"),
        "secondary_ids": Column("Other ids", "secondary ids, '|'-joined"),
        "raw_files": Column("Exports", "every export file the trial was found in"),
        "first_submitted": Column("First submitted", "date first submitted, where given"),
        "phase_registry": Column("Phase as registered", "the phase as the export wrote it"),
        "ev_rule": Column("Class rule", "the config/trials.yaml rule that set the class"),
        "source_term": Column("Source named as", "the words that named the source"),
        "decision_reason": Column("Author's decision", "the reason of a decision, if any"),
    },
    "studies.csv": {
        "id": Column("Study id", "the record's id, its file name under raw/<source>/"),
        "source": Column("MSC source", "source code (bone_marrow, adipose, umbilical_cord, ...)"),
        "table": Column("Table", "table number from config/config.yaml"),
        "condition": Column("Condition", "disease or condition as the table shows it"),
        "in_vitro": Column(
            "In vitro", "true/false in the CSV, yes/no in the workbook (NR: not reported)"
        ),
        "in_vivo": Column("Animal models", "animal models with their species, '; '-joined"),
        "species": Column("Species", "species codes, ';'-joined; human: use in people"),
        "strain": Column("Strain", "strains or descriptors (nude, Sprague-Dawley), ';'-joined"),
        "model_type": Column("Model type", "model type codes, ';'-joined; clinical: use in people"),
        "stage": Column("Highest stage", "in_vitro < animal < clinical"),
        "clinical_patients": Column("Patients", "patients treated; empty if no use in people"),
        "results": Column("Results", "main result as the table shows it"),
        "first_author": Column("First author", "surname of the first author"),
        "year": Column("Year", "year of publication"),
        "ref": Column("Ref. in review", "number in the review's reference list"),
        "doi": Column("DOI", "the paper's DOI"),
        "pmid": Column("PMID", "the paper's PubMed id"),
        "raw_file": Column("Raw file", "the record file the row came from"),
        "source_donor": Column(
            "MSC donor", "species the MSC came from (donor_species, or the source spelling)"
        ),
        "model_induction": Column(
            "Model induction", "how disease models were induced (chemical, surgical...), ';'-joined"
        ),
        "cited_in": Column(
            "Cited in", "for a paper known from another review's table: that review (DOI or URL)"
        ),
        "cited_in_ref": Column("Ref. there", "the paper's number in that review's table"),
        "review_row": Column(
            "Row in review", "row in the review's table; empty: added since the review"
        ),
    },
}

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


NOT_REPORTED = "NR"
NR_FOOTNOTE = "NR: not reported by the source."


def _ref_cell() -> pl.Expr:
    """The citation as the review prints it, "Damania et al[23], 2018"; added papers lack [N].

    A paper without first author and year is cited by what identifies it, in this order:
    "PMID 29378639", "doi:10.1016/...", "cited in doi:10.1186/... ref 19" (or the citing
    table's URL), after the first author where known ("Varkouhi et al, cited in ... ref 19")
    and before the year where only the year is known ("PMID 29378639, 2018").
    """
    # concat_str, not pl.format: polars 2.1's streaming engine panicked on pl.format over
    # sliced multi-chunk frames ("assertion failed: i < self.len()").
    author, year = pl.col("first_author"), pl.col("year").cast(pl.String)
    ref = pl.col("ref").cast(pl.String)
    cited = pl.concat_str(
        [pl.col("first_author"), pl.lit(" et al"), pl.concat_str([pl.lit("["), ref, pl.lit("]")])],
        ignore_nulls=True,
    )
    doi = (
        pl.col("doi")
        .str.strip_chars()
        .str.replace(r"(?i)^(?:https?://)?(?:dx\.)?doi\.org/", "")
        .str.replace(r"(?i)^doi:\s*", "")
    )
    identifier = pl.coalesce(
        pl.concat_str([pl.lit("PMID "), pl.col("pmid")]),
        pl.concat_str([pl.lit("doi:"), doi]),
        pl.concat_str(
            [pl.lit("cited in "), pl.col("cited_in"), pl.lit(" ref "), pl.col("cited_in_ref")]
        ),
    )
    return (
        pl.when(author.is_not_null() & year.is_not_null())
        .then(pl.concat_str([cited, year], separator=", "))
        .when(author.is_not_null())
        .then(pl.concat_str([cited, identifier], separator=", ", ignore_nulls=True))
        .otherwise(pl.concat_str([identifier, year], separator=", ", ignore_nulls=True))
    )


def table_rows(studies: pl.DataFrame, table: SourceTable) -> pl.DataFrame:
    """The rows of one table with the review's five columns, in the studies' (review) order."""
    condition, in_vitro, in_vivo, results, ref = TABLE_COLUMNS
    return (
        studies.lazy()
        .filter(pl.col("source") == table.key)
        .select(
            pl.col("condition").alias(condition),
            pl.when(pl.col("in_vitro"))
            .then(pl.lit("+"))
            .when(pl.col("in_vitro").not_())
            .then(pl.lit("-"))
            .otherwise(pl.lit(NOT_REPORTED))
            .alias(in_vitro),
            _in_vivo_cell().alias(in_vivo),
            pl.col("results").fill_null(NOT_REPORTED).alias(results),
            _ref_cell().alias(ref),
        )
        .collect()
    )


def footnote(rows: pl.DataFrame, table: SourceTable) -> str:
    """The table's abbreviations, and what NR means where a cell says it."""
    columns = [c for c in (TABLE_COLUMNS[1], TABLE_COLUMNS[3]) if c in rows.columns]
    has_nr = rows.height > 0 and bool(columns) and bool(
        rows.select(pl.any_horizontal(pl.col(columns) == NOT_REPORTED).any()).item()
    )
    return " ".join(part for part in (table.footnote_text, NR_FOOTNOTE if has_nr else "") if part)


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


def review_reference(review: Mapping[str, str] | None) -> str:
    """The review as cited: its reference and DOI from the config, or its title, or ""."""
    review = review or {}
    reference = (review.get("citation") or review.get("title") or "").strip()
    doi = (review.get("doi") or "").strip()
    if doi:
        reference = f"{reference} doi:{doi}".strip()
    return reference


def table_caption(
    table: SourceTable, review: Mapping[str, str] | None, n_review: int, n_added: int
) -> str:
    """Where a table's rows come from: the review's table (cited), then the papers added since.

    Added papers always follow the review's rows (the study order), so their row numbers
    say which they are.
    """
    reference = review_reference(review)
    if not reference or not n_review + n_added:
        return ""
    reference = reference.rstrip(".")
    papers = "1 paper" if n_added == 1 else f"{n_added:,} papers"
    if not n_review:  # a table the review does not have (a source configured since)
        rows = "The row is a paper" if n_added == 1 else f"All rows are {papers}"
        return f"{rows} added since the review ({reference})."
    source = f"Table {table.table} of {reference}."
    if not n_added:
        return f"Source: {source}"
    first, last = n_review + 1, n_review + n_added
    added = f"Row {first:,}" if n_added == 1 else f"Rows {first:,}-{last:,}"
    review_rows = "Row 1" if n_review == 1 else f"Rows 1-{n_review:,}"
    return f"{review_rows}: {source} {added}: {papers} added since the review."


def table_markdown(rows: pl.DataFrame, table: SourceTable, caption: str = "") -> str:
    """Title line, a GitHub-flavoured pipe table, the footnote and the caption citing the review.

    One stable text for diffs; ``caption`` (:func:`table_caption`) goes last, in italics.
    """
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
    if footnote(rows, table):
        lines += ["", footnote(rows, table)]
    if caption:
        escaped = caption.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
        lines += ["", f"*{escaped}*"]
    return "\n".join(lines) + "\n"


# -- HTML, for the report ------------------------------------------------------------
# Snakemake's report shows an HTML output in the page; these are small, self-contained
# documents (no script, no fetched resource) with a style of their own.
_HTML_STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:14px;"
    "margin:12px;color:#111}"
    "table{border-collapse:collapse;margin:8px 0}"
    "th,td{border:1px solid #bbb;padding:4px 8px;vertical-align:top;text-align:left}"
    "th{background:#DCE6F1}td.n{text-align:right}td.c{text-align:center}"
    "caption{caption-side:top;text-align:left;font-weight:bold;padding:4px 0}"
    "p.note{font-style:italic;max-width:70em}"
)


def html_page(title: str, body: str) -> str:
    """A whole HTML document around ``body`` (already escaped)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_HTML_STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def html_table(
    frame: pl.DataFrame,
    *,
    caption: str = "",
    classes: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
) -> str:
    """An HTML table of ``frame``: headers as its column names, every cell escaped.

    ``classes`` sets a column's cell class (``n``: right-aligned number, ``c``: centred);
    ``formats`` turns a column's values into text (nulls stay empty).
    """
    classes, formats = dict(classes or {}), dict(formats or {})
    lines = ["<table>"]
    if caption:
        lines.append(f"<caption>{html.escape(caption)}</caption>")
    header = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    lines.append(f"<thead><tr>{header}</tr></thead>")
    lines.append("<tbody>")
    for row in frame.iter_rows():
        cells = []
        for name, value in zip(frame.columns, row, strict=True):
            text = "" if value is None else formats.get(name, str)(value)
            cls = f' class="{classes[name]}"' if name in classes else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines) + "\n"


def table_html(rows: pl.DataFrame, table: SourceTable, caption: str = "") -> str:
    """Table N as an HTML page: title, the review's columns, footnote and caption."""
    body = html_table(rows, caption=table.heading, classes={TABLE_COLUMNS[1]: "c"})
    for note in (footnote(rows, table), caption):
        if note:
            body += f'<p class="note">{html.escape(note)}</p>\n'
    return html_page(table.heading, body)


def _percent(value: float) -> str:
    return f"{value:.1%}"


def translation_gap_html(gap: pl.DataFrame, tables: Sequence[SourceTable]) -> str:
    """The translation gap as the workbook shows it: words, source labels, percentages."""
    labels = {**{t.key: t.label for t in tables}, "all": ALL_SOURCES}
    columns = COLUMNS["translation_gap.csv"]
    frame, _ = _in_words(gap, columns, labels)
    shares = {columns[c].label for c in gap.columns if c in columns and columns[c].number_format}
    classes = {c: "n" for c, d in frame.schema.items() if d.is_numeric()}
    body = html_table(
        frame,
        caption="Translation gap per MSC source",
        classes=classes,
        formats=dict.fromkeys(shares, _percent),
    )
    body += (
        '<p class="note">Clinical share: studies with use in people / studies, with its Wilson '
        "95% interval (Wilson 1927; Newcombe 1998); translation gap = 1 - clinical share. "
        "The numbers are in results/translation_gap.csv.</p>\n"
    )
    return html_page("Translation gap", body)


# -- the workbook ------------------------------------------------------------------
def sheet_names(tables: Sequence[SourceTable], *, trials: bool = False) -> list[str]:
    """The workbook's sheets in order; the About sheet lists them from here too."""
    return [f"Table {t.table}" for t in tables] + [
        TRANSLATION_GAP_SHEET,
        STUDIES_SHEET,
        *([TRIALS_SHEET] if trials else []),
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
    sheets = {"studies.csv": STUDIES_SHEET, "translation_gap.csv": TRANSLATION_GAP_SHEET}
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
    config: dict, ledger: dict, version: str,
    *,
    added: Mapping[int, int] | None = None,
    trials: bool = False,
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
        ("Sheets", ", ".join(sheet_names(tables, trials=trials))),
    ]
    rows += [
        (
            f"Table {t.table}",
            f"{t.title} ({t.label}): one row per study, the review's columns and "
            f"{ADDED_COLUMN!r} ({YES}: not in the review's Table {t.table}); abbreviations "
            "under the table",
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
            f"results/studies.csv, headed in words (below); true/false shown as {YES}/{NO}",
        ),
        *trials_about_rows(ledger if trials else None),
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

    def number(self, number_format: str) -> Format:
        if number_format not in self._numbers:
            self._numbers[number_format] = self.book.add_format(
                {"num_format": number_format, "valign": "top"}
            )
        return self._numbers[number_format]


def _cells(frame: pl.DataFrame) -> pl.DataFrame:
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


def _widths(
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
    lines = pl.when(measured <= room).then(pl.lit(1.0)).otherwise(wrapped)
    return lines + value.str.count_matches("\n", literal=True)


def _lines(cells: pl.DataFrame, widths: Sequence[int], *, bold: bool = False) -> list[int]:
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


def _text_lines(text: str, width: float) -> int:
    """Lines of one text across ``width`` digits (a merged title or footnote)."""
    frame = pl.DataFrame({"text": [text]})
    return int(frame.select(_line_count(pl.col("text"), width).cast(pl.Int64)).item())


def _set_height(sheet: Worksheet, row: int, lines: int) -> None:
    if lines > 1:
        sheet.set_row(row, LINE_HEIGHT * min(lines, MAX_LINES))


Writer = Callable[[int, int, Any, Format], int]


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
) -> tuple[int, list[int]]:
    """Header at ``first_row`` then one row per record, row by row (constant-memory order).

    ``formats`` gives a column's Excel number format (e.g. :data:`PERCENT`). Nulls are left
    as empty cells. Returns the index of the last row written and the column widths.
    """
    formats = list(formats or [None] * frame.width)
    cells = _cells(frame)
    widths = _widths(cells, formats)
    header = pl.DataFrame([cells.columns], schema=cells.columns, orient="row")
    _set_height(sheet, first_row, _lines(header, widths, bold=True)[0])
    for col, (name, width) in enumerate(zip(cells.columns, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(first_row, col, name, styles.header)
    writers = _writers(sheet, cells, styles, centered, formats)
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
    return last, widths


def _write_note(
    sheet: Worksheet, row: int, text: str, *, widths: Sequence[int], cell_format: Format
) -> None:
    """A line of text across the table's width (merged, wrapped), not spilling beyond it."""
    _set_height(sheet, row, _text_lines(text, sum(widths)))
    if len(widths) > 1:
        sheet.merge_range(row, 0, row, len(widths) - 1, "", cell_format)
    sheet.write_string(row, 0, text, cell_format)


def _added_note(table: SourceTable, rows: pl.DataFrame) -> str:
    if ADDED_COLUMN not in rows.columns:
        return ""
    n_added = rows.filter(pl.col(ADDED_COLUMN) == YES).height
    return (
        f"{ADDED_COLUMN}: {YES} for a paper that is not in Table {table.table} of the review "
        f"({n_added:,} of {rows.height:,} {'row' if rows.height == 1 else 'rows'})."
    )


def _table_sheet(sheet: Worksheet, table: SourceTable, rows: pl.DataFrame, styles: _Styles) -> None:
    """Title, header, the studies, a blank row and the footnote, as the review prints them."""
    formats = [None] * rows.width
    widths = _widths(_cells(rows), formats)
    # The title spans the table; the header row is below it (written by _write_frame).
    _write_note(sheet, 0, table.heading, widths=widths, cell_format=styles.title)
    last, widths = _write_frame(
        sheet, rows, 1, styles, centered=(TABLE_COLUMNS[1], ADDED_COLUMN), formats=formats
    )
    notes = [n for n in (footnote(rows, table), _added_note(table, rows)) if n]
    for offset, note in enumerate(notes):
        _write_note(sheet, last + 2 + offset, note, widths=widths, cell_format=styles.footnote)
    sheet.repeat_rows(1)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def _about_sheet(sheet: Worksheet, about: Sequence[tuple[str, str]], styles: _Styles) -> None:
    """Key and value, one pair a row; long values wrap in a wide second column."""
    cells = pl.DataFrame(list(about), schema=["key", "value"], orient="row")
    # The keys are bold, about a tenth wider than _widths measures.
    key_width = math.ceil(1.1 * (_widths(cells, width_cap=40)[0] - 2)) + 2 if about else MIN_WIDTH
    widths = [min(key_width, 44), ABOUT_WIDTH]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    lines = _lines(cells, widths) if about else []
    for row, ((key, value), height) in enumerate(zip(about, lines, strict=True)):
        _set_height(sheet, row, height)
        sheet.write_string(row, 0, key, styles.key)
        sheet.write_string(row, 1, value, styles.text)
    sheet.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def _in_words(
    frame: pl.DataFrame, columns: Mapping[str, Column], labels: Mapping[str, str] | None = None
) -> tuple[pl.DataFrame, list[str | None]]:
    """A frame headed in words (:data:`COLUMNS`) with its number formats; source codes as labels.

    A column without an entry keeps its name (a frame from elsewhere, e.g. a test's).
    """
    if labels is not None and "source" in frame.columns:
        frame = frame.with_columns(
            pl.col("source").replace_strict(dict(labels), default=pl.col("source"))
        )
    formats = [columns[c].number_format if c in columns else None for c in frame.columns]
    return frame.rename({c: columns[c].label for c in frame.columns if c in columns}), formats


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
    document date, no author, xlsxwriter's fixed zip entry times). Headings are in words
    (:data:`COLUMNS`), sources by their labels, shares as percentages. ``gap_map_png``, the
    evidence gap map, goes on the "Translation gap" sheet under the table.
    """
    _check_rows(
        [
            (f"Table {t.table}", 2 + rows.height + (2 if t.footnote_text else 0) + 1)
            for t, rows in tables
        ]
        + [(TRANSLATION_GAP_SHEET, 1 + translation_gap.height), (STUDIES_SHEET, 1 + studies.height)]
        + ([(TRIALS_SHEET, 1 + trials.height)] if trials is not None else [])
    )
    labels = {**{t.key: t.label for t, _ in tables}, "all": ALL_SOURCES}
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

        sheet = book.add_worksheet(TRANSLATION_GAP_SHEET)
        gap, formats = _in_words(translation_gap, COLUMNS["translation_gap.csv"], labels)
        _write_frame(sheet, gap, 0, styles, formats=formats)
        sheet.repeat_rows(0)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)  # a few columns: one page wide when printed
        if gap_map_png:  # the evidence gap map, below the numbers it is drawn from
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

        sheet = book.add_worksheet(STUDIES_SHEET)
        listed, formats = _in_words(studies, COLUMNS["studies.csv"])
        _write_frame(sheet, listed, 0, styles, formats=formats)
        sheet.repeat_rows(0)
        sheet.repeat_columns(0)  # printed over several pages wide: each page names the study
        sheet.set_landscape()
        if trials is not None:
            write_trials_sheet(book.add_worksheet(TRIALS_SHEET), trials, styles)
        _about_sheet(book.add_worksheet(ABOUT_SHEET), about, styles)


# -- registered trials (exosynth.trials) ---------------------------------------------------
def write_trials_sheet(sheet: Worksheet, trials: pl.DataFrame, styles: _Styles) -> None:
    """The "Registered trials" sheet: one row per trial, written as text by the shared writer
    (no cell becomes a formula, a link or a number), frozen header, autofilter."""
    listed, formats = _in_words(trials, COLUMNS["trials.csv"])
    _write_frame(sheet, listed, 0, styles, formats=formats)
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
