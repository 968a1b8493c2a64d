"""The workbook's "Effect sizes" and "Meta-analysis" sheets in words (no codes); the HTML table.

Each function takes the frames of :func:`exosynth.synthesis.analyses.synthesize` and returns
a frame headed in words (:data:`exosynth.outputs.columns.COLUMNS`) with sources, measures and
methods as words, and its number formats; the workbook writes it with its shared writer.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import polars as pl

from exosynth.outputs.columns import COLUMNS, NO, YES, in_words
from exosynth.outputs.words import ALL_SOURCES

EFFECTS_SHEET = "Effect sizes"
META_SHEET = "Meta-analysis"
USED_COLUMN = "In the meta-analysis"
MEASURE_WORDS = {"smd": "Hedges' g", "nmd": "Normalized mean difference (%)"}
METHOD_WORDS = {"REML": "REML random effects", "DL": "DerSimonian-Laird random effects"}


def effects_sheet(
    effects: pl.DataFrame, labels: Mapping[str, str]
) -> tuple[pl.DataFrame, list[str | None]]:
    """One row per comparison; the last column says whether the meta-analysis used it."""
    columns = COLUMNS["synthesis/effects.csv"]
    frame = effects.select(
        *columns,
        pl.when(pl.col("used"))
        .then(pl.lit(YES))
        .otherwise(pl.lit(f"{NO}: another timepoint of the study is used"))
        .alias(USED_COLUMN),
    ).with_columns(pl.col("n_control", "n_treated").round().cast(pl.Int64))
    frame = frame.with_columns(
        pl.col("source").replace_strict(dict(labels), default=pl.col("source"))
    )
    return in_words(frame, columns)


def meta_analysis_sheet(
    pooled: pl.DataFrame, labels: Mapping[str, str]
) -> tuple[pl.DataFrame, list[str | None]]:
    """pooled.csv in words: sources by label, measures and methods spelled out."""
    frame = pooled.with_columns(
        pl.col("measure").replace_strict(MEASURE_WORDS, default=pl.col("measure")),
        pl.col("method").replace_strict(METHOD_WORDS, default=pl.col("method")),
    )
    sources = {**labels, "all": ALL_SOURCES}
    frame = frame.with_columns(pl.col("source").replace_strict(sources, default=pl.col("source")))
    return in_words(frame, COLUMNS["synthesis/pooled.csv"])


def about_rows(n_comparisons: int, n_analyses: int, knha: bool) -> list[tuple[str, str]]:
    """What the two sheets hold, for the About sheet."""
    test = (
        "with the Knapp-Hartung adjustment (t distribution)"
        if knha
        else "with normal-distribution confidence intervals"
    )
    return [
        (
            EFFECTS_SHEET,
            f"{n_comparisons:,} treated-versus-control comparisons from the records' outcome "
            "data: Hedges' g (positive: benefit) with its variance as R's metafor computes it, "
            "a shared control's animals divided among the groups it serves, and the normalized "
            "mean difference where there is a sham group",
        ),
        (
            META_SHEET,
            f"{n_analyses:,} analyses (condition group x outcome), pooled for all sources and "
            f"per source by REML and DerSimonian-Laird random effects {test}; heterogeneity "
            "(tau\u00b2, I\u00b2, Q), the 95% prediction interval, and the test of differences "
            "between sources on the all-sources rows",
        ),
    ]


def _cell(value: object) -> str:
    if value is None:
        return ""
    return html.escape(f"{value:.3g}" if isinstance(value, float) else str(value))


def meta_analysis_html(pooled: pl.DataFrame, labels: Mapping[str, str]) -> str:
    """The REML Hedges' g rows as an HTML table for the Snakemake report, in words."""
    rows = pooled.filter((pl.col("measure") == "smd") & (pl.col("method") == "REML"))
    listed, _ = meta_analysis_sheet(rows, labels)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in listed.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
        for row in listed.iter_rows()
    )
    if not body:
        body = f'<tr><td colspan="{listed.width}">No outcome data in the records.</td></tr>'
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Meta-analysis</title>'
        f"</head><body><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "</body></html>\n"
    )
