"""The numbers behind the meta-analysis figures: forest, funnel and cumulative plots.

Each function returns the rows a figure draws, in drawing order, from the frames of
effects.py and pooling.py; outputs/meta_figures.py only draws them. The figures show Hedges'
g pooled by REML (the default method); the CSVs hold every measure and method.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import polars as pl

from exosynth.synthesis import meta
from exosynth.synthesis.pooling import ALL, EGGER_MIN_STUDIES

MEASURE = "smd"
METHOD = meta.REML

FOREST_SCHEMA: dict[str, Any] = {
    "row": pl.Int64,
    "kind": pl.String,  # source | comparison | source_pooled | overall
    "source": pl.String,
    "label": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "k_studies": pl.Int64,
}
FUNNEL_SCHEMA: dict[str, Any] = {
    "study_id": pl.String,
    "treated": pl.String,
    "source": pl.String,
    "estimate": pl.Float64,
    "se": pl.Float64,
}


def slug(text: str) -> str:
    """A file-name part from a label: lower case ASCII letters and digits joined by ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "unnamed"


def analyses(pooled: pl.DataFrame) -> list[tuple[str, str]]:
    """The analyses with a pooled Hedges' g, in pooled.csv's order."""
    rows = pooled.filter(
        (pl.col("measure") == MEASURE) & (pl.col("method") == METHOD) & (pl.col("source") == ALL)
    )
    return list(rows.select("condition", "outcome").iter_rows())


def analysis_name(condition: str, outcome: str) -> str:
    return f"{slug(condition)}--{slug(outcome)}"


def _one(pooled: pl.DataFrame, condition: str, outcome: str) -> pl.DataFrame:
    return pooled.filter(
        (pl.col("condition") == condition)
        & (pl.col("outcome") == outcome)
        & (pl.col("measure") == MEASURE)
        & (pl.col("method") == METHOD)
    )


def forest_rows(
    effects: pl.DataFrame,
    pooled: pl.DataFrame,
    condition: str,
    outcome: str,
    source_labels: Mapping[str, str],
) -> pl.DataFrame:
    """Top to bottom: per source a heading, its comparisons, its diamond; then the overall one.

    ``effects`` holds the comparisons the analysis used (pooling's ``used`` rows).
    """
    table = _one(pooled, condition, outcome)
    chosen = effects.filter(
        (pl.col("condition") == condition)
        & (pl.col("analysis") == outcome)
        & pl.col(MEASURE).is_not_null()
    )
    rows: list[dict[str, Any]] = []
    for source in table.filter(pl.col("source") != ALL)["source"]:
        label = source_labels.get(source, source)
        rows.append({"kind": "source", "source": source, "label": label})
        for comparison in (
            chosen.filter(pl.col("source") == source)
            .sort(["year", "study_id", "entry", "arm"], nulls_last=True)
            .iter_rows(named=True)
        ):
            half = meta.Z_975 * math.sqrt(comparison["smd_var"])
            rows.append(
                {
                    "kind": "comparison",
                    "source": source,
                    "label": f"{comparison['study_id']}, {comparison['treated']}",
                    "estimate": comparison[MEASURE],
                    "ci_low": comparison[MEASURE] - half,
                    "ci_high": comparison[MEASURE] + half,
                    "k_studies": 1,
                }
            )
        pooled_row = table.filter(pl.col("source") == source).row(0, named=True)
        rows.append(_diamond("source_pooled", source, f"{label} (pooled)", pooled_row))
    overall = table.filter(pl.col("source") == ALL).row(0, named=True)
    rows.append(_diamond("overall", ALL, "All sources", overall))
    return pl.DataFrame(
        [{"row": i, **row} for i, row in enumerate(rows)], schema=FOREST_SCHEMA, orient="row"
    )


def _diamond(kind: str, source: str, label: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "source": source,
        "label": label,
        "estimate": row["estimate"],
        "ci_low": row["ci_low"],
        "ci_high": row["ci_high"],
        "k_studies": row["k_studies"],
    }


def _number(value: float | None, digits: int = 2) -> str:
    return "NR" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    if value is None:
        return "NR"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def heterogeneity_text(pooled: pl.DataFrame, condition: str, outcome: str) -> str:
    """The line under a forest plot: heterogeneity, prediction interval, subgroup test."""
    overall = _one(pooled, condition, outcome).filter(pl.col("source") == ALL).row(0, named=True)
    if overall["tau2"] is None:
        text = "One comparison: no heterogeneity to estimate."
    else:
        text = (
            f"Heterogeneity: tau\u00b2 = {_number(overall['tau2'], 3)}, "
            f"I\u00b2 = {_number(overall['i2'], 0)}%, Q = {_number(overall['q'])} "
            f"(df = {overall['k_comparisons'] - 1}, {_p(overall['q_p'])}); "
            f"95% prediction interval {_number(overall['pi_low'])} to "
            f"{_number(overall['pi_high'])}."
        )
    if overall["subgroup_q"] is not None:
        text += (
            f" Subgroup differences between sources: Q = {_number(overall['subgroup_q'])} "
            f"(df = {overall['subgroup_df']}, {_p(overall['subgroup_p'])})."
        )
    return text


def funnel_points(effects: pl.DataFrame, condition: str, outcome: str) -> pl.DataFrame:
    """Each comparison's g and SE (the funnel plot's points)."""
    chosen = effects.filter(
        (pl.col("condition") == condition)
        & (pl.col("analysis") == outcome)
        & pl.col(MEASURE).is_not_null()
    ).sort(["study_id", "entry", "arm"])
    return chosen.select(
        "study_id", "treated", "source", estimate=pl.col(MEASURE), se=pl.col("smd_var").sqrt()
    ).cast(FUNNEL_SCHEMA)


def has_funnel(pooled: pl.DataFrame, condition: str, outcome: str) -> bool:
    """Whether the analysis has the studies for a funnel plot and Egger's test."""
    overall = _one(pooled, condition, outcome).filter(pl.col("source") == ALL)
    return overall.height > 0 and overall["k_studies"].item() >= EGGER_MIN_STUDIES


def cumulative_rows(cumulative: pl.DataFrame, condition: str, outcome: str) -> pl.DataFrame:
    """The cumulative meta-analysis of one analysis, one row per study added."""
    return cumulative.filter(
        (pl.col("condition") == condition)
        & (pl.col("outcome") == outcome)
        & (pl.col("measure") == MEASURE)
        & (pl.col("method") == METHOD)
    ).sort("step")
