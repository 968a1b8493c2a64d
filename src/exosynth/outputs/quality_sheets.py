"""The workbook's quality sheets: "Risk of bias" (studies as rows, SYRCLE's ten items as
columns in words, traffic-light fills, a legend) and "Vesicles and dosing" (how each
study's vesicles were isolated and characterised, its EV reporting completeness, dose and
route, in words; NR where the record does not say).

The numbers come from :mod:`exosynth.synthesis.quality` and
:mod:`exosynth.synthesis.vesicles`; here they only become words and cells. Text is written
as text (never a formula, link or number), so the sheets are safe to hand out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from exosynth.outputs.sheet_layout import row_lines, set_height, sheet_cells
from exosynth.quality_terms import (
    HIGH,
    ITEM_CODES,
    ITEM_LABELS,
    JUDGEMENT_LABELS,
    JUDGEMENTS,
    LOW,
    UNCLEAR,
)
from exosynth.settings import SourceTable
from exosynth.synthesis import quality, vesicles

# The study table's columns these sheets read (the interim table carries them).
QUALITY_BLOCKS = ("risk_of_bias", "ev", "dose", "route")

RISK_OF_BIAS_SHEET = "Risk of bias"
VESICLES_SHEET = "Vesicles and dosing"
NR = "NR"
NOT_ASSESSED = "not assessed"
DOES_NOT_APPLY = "does not apply"
# Light traffic-light fills: the words stay readable on them, in colour and in grey.
FILLS = {LOW: "#B7E1CD", UNCLEAR: "#FFF2B3", HIGH: "#F4B6A6"}
WORDS = {LOW: "Low", UNCLEAR: "Unclear", HIGH: "High"}
_HEADER_FILL = "#DCE6F1"
ITEM_WIDTH = 14
EV_COLUMNS = {
    "isolation": "Isolation",
    "centrifugation": "Centrifugation settings",
    "particles": "Particle count",
    "size": "Size",
    "markers_positive": "Positive markers",
    "markers_negative": "Negative markers",
    "imaging": "Imaging",
}


def _source_labels(tables: Sequence[SourceTable]) -> dict[str, str]:
    return {t.key: t.label for t in tables}


def risk_of_bias_rows(studies: pl.DataFrame, tables: Sequence[SourceTable]) -> pl.DataFrame:
    """One row per study (the study table's order): Study, MSC source, Assessment, then one
    column per SYRCLE item headed in words holding low, unclear or high (codes)."""
    rob = quality.risk_of_bias(studies)
    wide = (
        rob.pivot(on="item", index="study_id", values="judgement")
        if rob.height
        else pl.DataFrame(schema={"study_id": pl.String})
    )
    for item in ITEM_CODES:
        if item not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.String).alias(item))
    return (
        studies.select(pl.col("id").alias("study_id"), "source")
        .join(wide, on="study_id", how="left", maintain_order="left")
        .select(
            pl.col("study_id").alias("Study"),
            pl.col("source")
            .replace_strict(_source_labels(tables), default=pl.col("source"))
            .alias("MSC source"),
            pl.when(pl.col(ITEM_CODES[0]).is_null())
            .then(pl.lit(NOT_ASSESSED))
            .otherwise(pl.lit("assessed"))
            .alias("Assessment"),
            *(pl.col(item).alias(ITEM_LABELS[item]) for item in ITEM_CODES),
        )
    )


def _number(value: float) -> str:
    """100 -> "100"; 1e10 -> "1 x 10^10"; 2.5e9 -> "2.5 x 10^9"."""
    if value and abs(value) >= 1e5:
        exponent = len(str(int(abs(value)))) - 1
        return f"{value / 10**exponent:g} x 10^{exponent}"
    return f"{value:g}"


def _codes_of(found: Mapping[str, object]) -> dict:
    """The ev block's isolation codes back as a list, for an item's rule of when it applies."""
    isolation = found.get("isolation")
    return {"isolation": isolation.split(";") if isinstance(isolation, str) else []}


def vesicle_rows(
    studies: pl.DataFrame,
    tables: Sequence[SourceTable],
    labels: Mapping[str, Mapping[str, str]] | None = None,
) -> pl.DataFrame:
    """One row per study, in words: MISEV fields, completeness, dose, route; NR where the
    record does not report it. ``labels`` maps ``isolation``, ``routes`` and ``dose_units``
    codes to the vocabulary's words (codes with spaces where it has none)."""
    labels = labels or {}

    def words(kind: str, codes: str | None) -> str:
        if not codes:
            return NR
        known = labels.get(kind, {})
        return "; ".join(known.get(c, c.replace("_", " ")) for c in codes.split(";"))

    ev = {r["study_id"]: r for r in vesicles.ev_characterisation(studies).iter_rows(named=True)}
    dosing = {r["study_id"]: r for r in vesicles.dosing(studies).iter_rows(named=True)}
    sources = _source_labels(tables)
    rows = []
    for study_id, source in studies.select("id", "source").iter_rows():
        found, given = ev.get(study_id), dosing[study_id]
        if found is None:
            characterised = [NR] * len(EV_COLUMNS)
            complete = "NR (no EV block)"
        else:
            applies = {item.field: item.applies(_codes_of(found)) for item in vesicles.EV_ITEMS}
            characterised = [
                words("isolation", found["isolation"])
                if field == "isolation"
                else DOES_NOT_APPLY
                if not applies[field]
                else (found[field] or NR).replace(";", "; ")
                for field in EV_COLUMNS
            ]
            complete = (
                f"{found['n_items_reported']} of {found['n_items_applicable']} "
                f"({found['completeness']:.0%})"
            )
        if given["dose_value"] is None:
            dose = NR
        else:
            unit = labels.get("dose_units", {}).get(given["dose_unit"], given["dose_unit"])
            dose = f"{_number(given['dose_value'])} {unit}" + ("/kg" if given["per_kg"] else "")
        rows.append(
            (
                study_id,
                sources.get(source, source),
                *characterised,
                complete,
                dose,
                words("routes", given["route"]),
            )
        )
    return pl.DataFrame(
        rows,
        schema=[
            "Study",
            "MSC source",
            *EV_COLUMNS.values(),
            "EV reporting completeness (items reported of those that apply)",
            "Dose",
            "Route",
        ],
        orient="row",
    )


def _formats(book: xlsxwriter.Workbook) -> dict[str, object]:
    base = {"valign": "top", "text_wrap": True}
    return {
        "header": book.add_format({**base, "bold": True, "bg_color": _HEADER_FILL, "bottom": 1}),
        "text": book.add_format(base),
        "note": book.add_format({**base, "italic": True}),
        **{
            j: book.add_format({**base, "bg_color": FILLS[j], "align": "center", "border": 1})
            for j in JUDGEMENTS
        },
    }


def _header(sheet: Worksheet, frame: pl.DataFrame, widths: Sequence[int], fmt: object) -> None:
    header = pl.DataFrame([frame.columns], schema=frame.columns, orient="row")
    set_height(sheet, 0, row_lines(header, widths, bold=True)[0])
    for col, (name, width) in enumerate(zip(frame.columns, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, name, fmt)


def write_risk_of_bias_sheet(
    book: xlsxwriter.Workbook, sheet: Worksheet, rows: pl.DataFrame
) -> None:
    """The "Risk of bias" sheet: a judgement cell says Low, Unclear or High in words on its
    traffic-light fill; a legend below the table says what the fills and words mean."""
    formats = _formats(book)
    cells = sheet_cells(rows)
    widths = [max(12, int(cells["Study"].str.len_chars().max() or 0) + 2), 16, 14] + [
        ITEM_WIDTH
    ] * len(ITEM_CODES)
    _header(sheet, cells, widths, formats["header"])
    for row, values in enumerate(cells.iter_rows(), start=1):
        for col, value in enumerate(values):
            if value is None:
                continue
            if col >= 3:
                sheet.write_string(row, col, WORDS.get(value, value), formats[value])
            else:
                sheet.write_string(row, col, value, formats["text"])
    last = cells.height
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, last, cells.width - 1)
    assessed = int((cells["Assessment"] != NOT_ASSESSED).sum())
    row = last + 2
    sheet.write_string(row, 0, "Legend", formats["header"])
    last_col = min(8, cells.width - 1)
    for j in JUDGEMENTS:
        row += 1
        sheet.write_string(row, 0, WORDS[j], formats[j])
        sheet.merge_range(row, 1, row, last_col, "", formats["text"])
        sheet.write_string(row, 1, JUDGEMENT_LABELS[j] + _MEANING[j], formats["text"])
    for text in (
        f"Assessed: {assessed}; not assessed: {cells.height - assessed} (the record has no "
        "risk_of_bias block; its item cells stay empty).",
        "SYRCLE's risk of bias tool for animal studies (Hooijmans et al. 2014). An item the "
        "record does not judge counts as unclear. There is no summed score: SYRCLE's authors "
        "advise against adding up the items.",
    ):
        row += 1
        sheet.merge_range(row, 0, row, last_col, "", formats["note"])
        sheet.write_string(row, 0, text, formats["note"])
        set_height(sheet, row, 2)
    sheet.repeat_rows(0)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


_MEANING = {
    LOW: ": the paper reports what the item asks (e.g. randomised allocation)",
    UNCLEAR: ": the paper does not report enough to judge",
    HIGH: ": the paper reports a failure of what the item asks",
}


def write_vesicles_sheet(book: xlsxwriter.Workbook, sheet: Worksheet, rows: pl.DataFrame) -> None:
    """The "Vesicles and dosing" sheet: one row per study, text cells only."""
    formats = _formats(book)
    cells = sheet_cells(rows)
    widths = [max(12, min(40, int(cells[c].str.len_chars().max() or 0) + 2)) for c in cells.columns]
    widths = [max(w, min(18, len(c) // 2 + 2)) for w, c in zip(widths, cells.columns, strict=True)]
    _header(sheet, cells, widths, formats["header"])
    lines = row_lines(cells, widths)
    for row, (values, height) in enumerate(zip(cells.iter_rows(), lines, strict=True), start=1):
        set_height(sheet, row, height)
        for col, value in enumerate(values):
            if value is not None:
                sheet.write_string(row, col, value, formats["text"])
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, cells.height, cells.width - 1)
    note = cells.height + 2
    sheet.merge_range(note, 0, note, min(6, cells.width - 1), "", formats["note"])
    sheet.write_string(
        note,
        0,
        "NR: not reported by the record; does not apply: an item the isolation method has no "
        "use for, counted on neither side. EV reporting completeness as EV-TRACK counts it: "
        "the MISEV items reported of those that apply (centrifugation settings apply only to "
        "ultracentrifugation and density gradients). Doses are compared only within a unit.",
        formats["note"],
    )
    set_height(sheet, note, 3)
    sheet.repeat_rows(0)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


# What the two sheets are, for the workbook's About sheet.
QUALITY_ABOUT = [
    (
        RISK_OF_BIAS_SHEET,
        "One row per study: SYRCLE's ten risk-of-bias items in words (Low, Unclear, High) on "
        "traffic-light fills, a legend below; a study without an assessment says not "
        "assessed. No summed score. The judgements are in results/quality/risk_of_bias.csv",
    ),
    (
        VESICLES_SHEET,
        "One row per study: how the vesicles were isolated and characterised (MISEV), the EV "
        "reporting completeness (items reported of those that apply), the dose with its unit "
        "and the route; NR where the record does not say",
    ),
]
