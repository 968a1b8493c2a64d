"""Pooling: random-effects meta-analyses per analysis (condition group x outcome), by source.

An analysis is a condition group and an outcome (folded for case, punctuation and plural,
then mapped to its synonym group's label). In an analysis a study contributes one entry,
the one marked ``primary: true``, else the last one listed (``select_timepoints`` marks it
``used``). Each analysis is pooled for all sources and for each source, by REML and by
DerSimonian-Laird, on Hedges' g and on the normalized mean difference (meta.py does the
arithmetic, as metafor); the ``all`` rows carry the test of subgroup differences between the
sources, each pooled with its own tau^2. Also here: the cumulative meta-analysis by
publication year and Egger's test for analyses with at least 10 studies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from exosynth.analysis_groups import fold_outcome
from exosynth.problems import WARNING, Problem, plural
from exosynth.synthesis import meta

STAGE = "pooling"
ALL = "all"
MEASURES = ("smd", "nmd")
EGGER_MIN_STUDIES = 10
POOLED_FILE = "results/synthesis/pooled.csv"

# results/synthesis/pooled.csv (DESIGN.md output contract), in this order.
POOLED_SCHEMA: dict[str, Any] = {
    "condition": pl.String,
    "outcome": pl.String,
    "source": pl.String,
    "measure": pl.String,
    "method": pl.String,
    "k_studies": pl.Int64,
    "k_comparisons": pl.Int64,
    "estimate": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p": pl.Float64,
    "tau2": pl.Float64,
    "i2": pl.Float64,
    "q": pl.Float64,
    "q_p": pl.Float64,
    "pi_low": pl.Float64,
    "pi_high": pl.Float64,
    "subgroup_q": pl.Float64,
    "subgroup_df": pl.Int64,
    "subgroup_p": pl.Float64,
}
POOLED_COLUMNS = tuple(POOLED_SCHEMA)

# The columns naming an analysis's fit, and those of one fit, as in pooled.csv.
KEY_COLUMNS = ("condition", "outcome", "measure", "method")
FIT_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "p", "tau2", "i2")


def _pooled_columns(*names: str) -> dict[str, Any]:
    """The named columns of POOLED_SCHEMA with their types, in the order named."""
    return {name: POOLED_SCHEMA[name] for name in names}


CUMULATIVE_SCHEMA: dict[str, Any] = (
    _pooled_columns(*KEY_COLUMNS)
    | {"step": pl.Int64, "study_id": pl.String, "year": pl.Int64}
    | _pooled_columns("k_studies", "k_comparisons", *FIT_COLUMNS)
)

EGGER_SCHEMA: dict[str, Any] = _pooled_columns(*KEY_COLUMNS, "k_studies", "k_comparisons") | {
    "test": pl.String,
    "statistic": pl.Float64,
    "df": pl.Int64,
    "p": pl.Float64,
    "limit": pl.Float64,
    "limit_ci_low": pl.Float64,
    "limit_ci_high": pl.Float64,
}


def with_analysis(effects: pl.DataFrame, synonyms: Mapping[str, str] | None = None) -> pl.DataFrame:
    """Add ``analysis``: the outcome's synonym group label, else its folded name.

    ``synonyms`` maps a folded spelling to its group's label (config/vocabulary.yaml).
    """
    table = dict(synonyms or {})
    names = effects["outcome"].unique().drop_nulls().to_list()
    labels = {name: table.get(fold_outcome(name), fold_outcome(name)) for name in names}
    return effects.with_columns(
        analysis=pl.col("outcome").replace_strict(labels, default=None, return_dtype=pl.String)
    )


def select_timepoints(effects: pl.DataFrame) -> pl.DataFrame:
    """Add ``used``: whether a comparison's entry is the one its study gives the analysis.

    Per study and analysis: the entry marked ``primary: true`` (the first such), else the
    last one listed.
    """
    if "analysis" not in effects.columns:
        effects = with_analysis(effects)
    keys = ["study_id", "condition", "analysis"]
    chosen = (
        effects.group_by(keys)
        .agg(
            pl.col("entry").filter(pl.col("primary").fill_null(value=False)).min().alias("first"),
            pl.col("entry").max().alias("last"),
        )
        .select(*keys, pl.coalesce("first", "last").alias("chosen"))
    )
    return (
        effects.join(chosen, on=keys, how="left", nulls_equal=True)
        .with_columns(used=pl.col("entry") == pl.col("chosen"))
        .drop("chosen")
    )


def _prepared(effects: pl.DataFrame, synonyms: Mapping[str, str] | None) -> pl.DataFrame:
    if "analysis" not in effects.columns:
        effects = with_analysis(effects, synonyms)
    if "used" not in effects.columns:
        effects = select_timepoints(effects)
    return effects.filter(pl.col("used") & pl.col("analysis").is_not_null())


def _analyses(used: pl.DataFrame) -> list[tuple[tuple[Any, ...], pl.DataFrame]]:
    """The used comparisons per (condition, analysis), in the order of their names."""
    groups = used.group_by(["condition", "analysis"])
    return sorted(groups, key=lambda item: tuple(map(str, item[0])))


def _values(rows: pl.DataFrame, measure: str) -> pl.DataFrame:
    """The rows with a value of ``measure``, as y (effect) and v (its sampling variance)."""
    variance = pl.col("smd_var") if measure == "smd" else pl.col("nmd_se") ** 2
    return rows.filter(pl.col(measure).is_not_null()).with_columns(y=pl.col(measure), v=variance)


def _fit(rows: pl.DataFrame, method: str, knha: bool, where: str) -> tuple[meta.Fit, list[Problem]]:
    y, v = rows["y"].to_list(), rows["v"].to_list()
    try:
        return meta.fit_model(y, v, method, knha), []
    except meta.NotConvergedError:
        # The analysis's problem, not one record's: it names the records that feed it.
        files = sorted(set(rows["raw_file"].drop_nulls())) if "raw_file" in rows.columns else []
        problem = Problem(
            file=POOLED_FILE,
            line=None,
            field=where,
            message=f"REML did not converge for {where}: its REML row holds the "
            "DerSimonian-Laird estimate"
            + (f" (from {plural(len(files), 'record')}: {', '.join(files)})" if files else ""),
            hint="nothing to fix in the records; read the DL rows for this analysis",
            stage=STAGE,
            code="pooling.reml_not_converged",
            severity=WARNING,
        )
        return meta.fit_model(y, v, meta.DL, knha), [problem]


def _fit_columns(fit: meta.Fit) -> dict[str, float | None]:
    """One fit's FIT_COLUMNS: the estimate, its CI and p, tau^2 and I^2."""
    return {name: getattr(fit, name) for name in FIT_COLUMNS}


def _row(labels: dict[str, str], rows: pl.DataFrame, fit: meta.Fit) -> dict[str, Any]:
    """A pooled.csv row: ``labels`` holds condition, outcome, source, measure and method."""
    return labels | {
        "k_studies": rows["study_id"].n_unique(),
        "k_comparisons": rows.height,
        **_fit_columns(fit),
        "q": fit.q,
        "q_p": fit.q_p,
        "pi_low": fit.pi_low,
        "pi_high": fit.pi_high,
        "subgroup_q": None,
        "subgroup_df": None,
        "subgroup_p": None,
    }


def _sources(present: Iterable[str], order: Sequence[str]) -> list[str]:
    present = set(present)
    return [s for s in order if s in present] + sorted(present - set(order))


def pool(
    effects: pl.DataFrame,
    *,
    knha: bool = False,
    methods: Sequence[str] = meta.METHODS,
    source_order: Sequence[str] = (),
    synonyms: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, list[Problem]]:
    """pooled.csv from an effects frame (compute_effects' columns, any subset of its rows).

    One row per analysis, measure, method and source (sources in ``source_order``, then any
    other, then ``all``); ``knha`` applies Knapp-Hartung. A frame without ``analysis`` or
    ``used`` gets them (folded outcome names; the one-entry-per-study rule).
    """
    used = _prepared(effects, synonyms)
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for (condition, outcome), analysis in _analyses(used):
        for measure in MEASURES:
            values = _values(analysis, measure)
            if values.is_empty():
                continue
            sources = _sources(values["source"].to_list(), source_order)
            for method in methods:
                fits: list[meta.Fit] = []
                for source in [*sources, ALL]:
                    subset = values if source == ALL else values.filter(pl.col("source") == source)
                    where = f"{condition} / {outcome} / {source} / {measure}"
                    fit, found = _fit(subset, method, knha, where)
                    problems += found
                    labels = {
                        "condition": str(condition),
                        "outcome": str(outcome),
                        "source": source,
                        "measure": measure,
                        "method": method,
                    }
                    row = _row(labels, subset, fit)
                    if source == ALL:
                        if len(fits) >= 2 and all(f.se > 0 for f in fits):
                            q, df, p = meta.subgroup_test(
                                [f.estimate for f in fits], [f.se for f in fits]
                            )
                            row |= {"subgroup_q": q, "subgroup_df": df, "subgroup_p": p}
                    else:
                        fits.append(fit)
                    rows.append(row)
    return pl.DataFrame(rows, schema=POOLED_SCHEMA, orient="row"), problems


def _study_order(values: pl.DataFrame) -> list[tuple[str, int | None]]:
    studies = (
        values.group_by("study_id")
        .agg(pl.col("year").min())
        .sort(["year", "study_id"], nulls_last=True)
    )
    return list(studies.select("study_id", "year").iter_rows())


def cumulative(
    effects: pl.DataFrame,
    *,
    knha: bool = False,
    methods: Sequence[str] = meta.METHODS,
    synonyms: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Cumulative meta-analysis (all sources): studies added one by one by publication year.

    Step i pools every comparison of the first i studies (year, then id; no year last).
    """
    used = _prepared(effects, synonyms)
    rows: list[dict[str, Any]] = []
    for (condition, outcome), analysis in _analyses(used):
        for measure in MEASURES:
            values = _values(analysis, measure)
            order = _study_order(values)
            for method in methods:
                for step, (study_id, year) in enumerate(order, start=1):
                    included = {s for s, _ in order[:step]}
                    subset = values.filter(pl.col("study_id").is_in(included))
                    fit, _ = _fit(subset, method, knha, "")
                    rows.append(
                        {
                            "condition": condition,
                            "outcome": outcome,
                            "measure": measure,
                            "method": method,
                            "step": step,
                            "study_id": study_id,
                            "year": year,
                            "k_studies": step,
                            "k_comparisons": subset.height,
                            **_fit_columns(fit),
                        }
                    )
    return pl.DataFrame(rows, schema=CUMULATIVE_SCHEMA, orient="row")


def egger(
    effects: pl.DataFrame,
    *,
    knha: bool = False,
    methods: Sequence[str] = meta.METHODS,
    min_studies: int = EGGER_MIN_STUDIES,
    synonyms: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Egger's regression test (metafor's regtest defaults) where an analysis has enough studies."""
    used = _prepared(effects, synonyms)
    rows: list[dict[str, Any]] = []
    for (condition, outcome), analysis in _analyses(used):
        for measure in MEASURES:
            values = _values(analysis, measure)
            if values["study_id"].n_unique() < min_studies:
                continue
            for method in methods:
                try:
                    test = meta.egger_test(
                        values["y"].to_list(), values["v"].to_list(), method, knha
                    )
                except meta.NotConvergedError:
                    continue
                rows.append(
                    {
                        "condition": condition,
                        "outcome": outcome,
                        "measure": measure,
                        "method": method,
                        "k_studies": values["study_id"].n_unique(),
                        "k_comparisons": values.height,
                        "test": "z" if test.df is None else "t",
                        "statistic": test.stat,
                        "df": test.df,
                        "p": test.p,
                        "limit": test.limit,
                        "limit_ci_low": test.limit_ci_low,
                        "limit_ci_high": test.limit_ci_high,
                    }
                )
    return pl.DataFrame(rows, schema=EGGER_SCHEMA, orient="row")
