"""A reviewer's returned workbook read against the current build: every changed cell and
every cell comment, mapped to the record file and field it came from; rows added or deleted.

The workbook says where its cells came from: its hidden "Provenance" sheet
(``provenance_rows``, written when the workbook is built) maps each column of the
"Studies" sheet to a study-table column and a record field, and each row to a study id,
its raw file and the SHA-256 of that file's bytes. Rows are matched by the "Study id"
cell, so sorted, filtered or shortened copies read the same. The current build's values
are the study table's, as the workbook writes them (``sheet_layout.sheet_cells``).

Which field a column edits is declared once, in ``RECORD_FIELDS``: a column the build
computes (species, model type, stage...) has no field of its own; a change there is listed
with the field to edit by hand, never applied.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from exosynth.outputs.columns import COLUMNS, STUDIES_SHEET, in_words
from exosynth.outputs.sheet_layout import sheet_cells
from exosynth.outputs.words import Words

PROVENANCE_SHEET = "Provenance"
PROVENANCE_NOTE = (
    "Written by exosynth when this workbook was built: the record file, field and SHA-256 "
    "each cell of the Studies sheet came from. Reading a returned workbook needs it: do not edit."
)
COLUMN_HEADER = ("Column", "Heading", "Study table column", "Record field")
RECORD_HEADER = ("Sheet", "Row", "Study id", "Raw file", "SHA-256")

# study-table column -> (record field it is written from, whether an edit can be applied)
RECORD_FIELDS: dict[str, tuple[str, bool]] = {
    "id": ("id", False),  # the file's name too: rename by hand
    "source": ("source", False),  # the folder too
    "table": ("source", False),
    "condition": ("condition", True),
    "in_vitro": ("in_vitro", True),
    "in_vivo": ("in_vivo", False),
    "species": ("in_vivo", False),
    "strain": ("in_vivo", False),
    "model_type": ("in_vivo", False),
    "stage": ("in_vivo", False),
    "clinical_patients": ("clinical.patients", True),
    "results": ("results", True),
    "first_author": ("citation.first_author", True),
    "year": ("citation.year", True),
    "ref": ("citation.ref", True),
    "doi": ("citation.doi", True),
    "pmid": ("citation.pmid", True),
    "raw_file": ("id", False),
    "source_donor": ("donor_species", False),
    "model_induction": ("in_vivo", False),
    "cited_in": ("citation.cited_in", False),
    "cited_in_ref": ("citation.cited_in", False),
    "review_row": ("review_row", True),
    # computed from the condition by the vocabulary (conditions: in config/vocabulary.yaml)
    "condition_group": ("condition", False),
}
CHANGE_COLUMNS = (
    "kind",  # changed | comment | row_added | row_deleted
    "sheet",
    "cell",
    "study_id",
    "raw_file",
    "field",
    "column",  # the study-table column of the cell
    "line",
    "before",
    "after",
    "comment",
    "status",
)


def _letter(index: int) -> str:
    """0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def provenance_rows(studies: pl.DataFrame, digests: dict[str, str]) -> list[tuple[Any, ...]]:
    """The hidden sheet's rows: a note, the column map of the Studies sheet, a blank row,
    then one row per study (its Excel row on the Studies sheet, id, raw file, digest).
    """
    labels = COLUMNS["studies.csv"]
    rows: list[tuple[Any, ...]] = [(PROVENANCE_NOTE,), COLUMN_HEADER]
    for i, column in enumerate(studies.columns):
        field = RECORD_FIELDS.get(column, ("", False))[0]
        heading = labels[column].label if column in labels else column
        rows.append((_letter(i), heading, column, field))
    rows += [(), RECORD_HEADER]
    for excel_row, (study_id, raw_file) in enumerate(
        studies.select("id", "raw_file").iter_rows(), start=2
    ):
        rows.append((STUDIES_SHEET, excel_row, study_id, raw_file, digests.get(raw_file, "")))
    return rows


@dataclass(frozen=True)
class Provenance:
    columns: dict[str, str]  # heading -> study-table column
    records: dict[str, tuple[str, str]]  # study id -> (raw file, digest)


def read_provenance(book: Any) -> Provenance | None:
    """The hidden sheet of an openpyxl workbook, or None when it has none."""
    if PROVENANCE_SHEET not in book.sheetnames:
        return None
    columns: dict[str, str] = {}
    records: dict[str, tuple[str, str]] = {}
    section = None
    for values in book[PROVENANCE_SHEET].iter_rows(values_only=True):
        row = tuple("" if v is None else v for v in values)
        if row[: len(COLUMN_HEADER)] == COLUMN_HEADER:
            section = "columns"
        elif row[: len(RECORD_HEADER)] == RECORD_HEADER:
            section = "records"
        elif section == "columns" and len(row) >= 3 and row[1]:
            columns[str(row[1])] = str(row[2])
        elif section == "records" and len(row) >= 5 and row[2]:
            records[str(row[2])] = (str(row[3]), str(row[4]))
    return Provenance(columns, records)


def _text(value: Any) -> str:
    """A cell's value as compared: numbers without a trailing .0, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _change(**values: Any) -> dict[str, Any]:
    return {column: values.get(column) for column in CHANGE_COLUMNS}


def read_returned(book: Any, studies: pl.DataFrame, words: Words | None = None) -> pl.DataFrame:
    """Every change of the returned workbook ``book`` (openpyxl, not read-only: comments)
    against the current study table ``studies``: one row per changed cell, comment, row
    added or row deleted (:data:`CHANGE_COLUMNS`; ``line`` is left for the caller, who reads
    the record files). ``status`` says what can be done with it.
    """
    provenance = read_provenance(book)
    if provenance is None:
        raise ValueError(
            f"the workbook has no {PROVENANCE_SHEET!r} sheet: it was not built by this version "
            "of exosynth, or the sheet was removed; its changes cannot be mapped to records"
        )
    if STUDIES_SHEET not in book.sheetnames:
        raise ValueError(f"the workbook has no {STUDIES_SHEET!r} sheet")
    sheet = book[STUDIES_SHEET]
    headings = [_text(c.value) for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    columns = [provenance.columns.get(h) for h in headings]
    if "id" not in columns:
        raise ValueError(f"the {STUDIES_SHEET!r} sheet has no 'Study id' column")
    id_col = columns.index("id")
    # The sheet shows codes in words (exosynth.outputs.words): compared as shown, with the
    # words of the build that wrote it (``words``; the config's labels), in column order.
    shown, _ = in_words(studies, COLUMNS["studies.csv"], words)
    current = dict(zip(studies.get_column("id").to_list(), sheet_cells(shown).rows(), strict=True))
    positions = {name: i for i, name in enumerate(studies.columns)}
    changes: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in sheet.iter_rows(min_row=2):
        study_id = _text(row[id_col].value) if id_col < len(row) else ""
        if (
            not study_id
            and all(_text(c.value) == "" for c in row)
            and not any(c.comment for c in row)
        ):
            continue
        known = provenance.records.get(study_id)
        raw_file = known[0] if known else ""
        if known is None or study_id not in current:
            changes.append(
                _change(
                    kind="row_added",
                    sheet=STUDIES_SHEET,
                    cell=f"A{row[0].row}:{_letter(len(row) - 1)}{row[0].row}",
                    study_id=study_id,
                    after=" | ".join(_text(c.value) for c in row if _text(c.value)),
                    status="not applied: add a record with `exosynth new SOURCE ID`",
                )
            )
            continue
        seen.add(study_id)
        values = current[study_id]
        for cell, column in zip(row, columns, strict=False):
            if column is None:
                continue
            field, editable = RECORD_FIELDS.get(column, (column, False))
            where = {
                "sheet": STUDIES_SHEET,
                "cell": cell.coordinate,
                "study_id": study_id,
                "raw_file": raw_file,
                "field": field,
                "column": column,
            }
            before = _text(values[positions[column]]) if column in positions else ""
            after = _text(cell.value)
            if after != before:
                status = (
                    "accepted"
                    if editable
                    else f"not applied: computed by the build; edit {field} in the record"
                )
                changes.append(
                    _change(kind="changed", before=before, after=after, status=status, **where)
                )
            if cell.comment is not None:
                changes.append(
                    _change(
                        kind="comment",
                        comment=cell.comment.text.strip(),
                        status=f"by {cell.comment.author}" if cell.comment.author else "",
                        **where,
                    )
                )
    for study_id, (raw_file, _) in sorted(provenance.records.items()):
        if study_id not in seen and study_id in current:
            changes.append(
                _change(
                    kind="row_deleted",
                    sheet=STUDIES_SHEET,
                    study_id=study_id,
                    raw_file=raw_file,
                    status=f"not applied: delete {raw_file} by hand if the study should go",
                )
            )
    changes += _other_comments(book)
    frame = pl.DataFrame(changes, schema=dict.fromkeys(CHANGE_COLUMNS, pl.String), orient="row")
    return frame.with_columns(pl.col("line").cast(pl.Int64))


def _other_comments(book: Any) -> list[dict[str, Any]]:
    """Comments on the other sheets: listed where they are (no record field behind them)."""
    found = []
    for name in book.sheetnames:
        if name in (STUDIES_SHEET, PROVENANCE_SHEET):
            continue
        for row in book[name].iter_rows():
            found += [
                _change(
                    kind="comment",
                    sheet=name,
                    cell=cell.coordinate,
                    after=_text(cell.value),
                    comment=cell.comment.text.strip(),
                    status=f"by {cell.comment.author}" if cell.comment.author else "",
                )
                for cell in row
                if cell.comment is not None
            ]
    return found


def digest_of(provenance: Provenance, study_id: str) -> str:
    return provenance.records.get(study_id, ("", ""))[1]


def typed_value(column: str, text: str, dtype: pl.DataType) -> tuple[Any, str | None]:
    """The record value of an accepted cell text, or (None, why it cannot be)."""
    if text == "":
        return None, None
    if dtype == pl.Boolean:
        words = {"yes": True, "no": False, "nr": None}
        if text.casefold() not in words:
            return None, f"{column}: {text!r} is not yes, no or NR"
        return words[text.casefold()], None
    if dtype.is_integer():
        try:
            return int(text), None
        except ValueError:
            return None, f"{column}: {text!r} is not a whole number"
    return text, None


def changes_csv(changes: pl.DataFrame) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CHANGE_COLUMNS)
    writer.writerows(("" if v is None else v for v in row) for row in changes.rows())
    return out.getvalue().encode("utf-8")


def _md(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def changes_markdown(changes: pl.DataFrame, workbook: str) -> str:
    """The changes as a Markdown report: counts first, then one table row per change."""
    counts = dict(changes.group_by("kind").len().iter_rows())
    parts = ", ".join(
        f"{counts.get(kind, 0)} {label}"
        for kind, label in (
            ("changed", "changed cells"),
            ("comment", "comments"),
            ("row_added", "rows added"),
            ("row_deleted", "rows deleted"),
        )
    )
    lines = [f"# Returned workbook: {workbook}", "", f"{parts}.", ""]
    headings = ("What", "Sheet", "Cell", "Study", "Record", "Field", "Line", "Was", "Now", "Note")
    lines += ["| " + " | ".join(headings) + " |", "|" + " --- |" * len(headings)]
    for row in changes.iter_rows(named=True):
        note = "; ".join(v for v in (row["comment"], row["status"]) if v)
        cells = (
            row["kind"].replace("_", " "),
            row["sheet"],
            row["cell"],
            row["study_id"],
            row["raw_file"],
            row["field"],
            row["line"],
            row["before"],
            row["after"],
            note,
        )
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_reports(changes: pl.DataFrame, workbook: str, out_dir: Path) -> list[Path]:
    """``<workbook stem>.changes.md`` and ``.csv`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(workbook).stem
    md, table = out_dir / f"{stem}.changes.md", out_dir / f"{stem}.changes.csv"
    md.write_text(changes_markdown(changes, workbook), encoding="utf-8")
    table.write_bytes(changes_csv(changes))
    return [md, table]


def accepted(changes: pl.DataFrame) -> Iterable[dict[str, Any]]:
    return changes.filter(kind="changed", status="accepted").iter_rows(named=True)
