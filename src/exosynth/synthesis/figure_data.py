"""The numbers behind each figure: one frame per figure, written as its CSV and drawn as is.

Every frame is built from the normalized study table (and the registered trials) by the
statistics of :mod:`exosynth.synthesis.gap`; :mod:`exosynth.outputs.figures` only draws
them, so a figure and its CSV cannot disagree.
"""

from __future__ import annotations

import polars as pl

from exosynth.analysis_groups import CONDITION_GROUP
from exosynth.settings import SourceTable
from exosynth.synthesis import gap as gap_stats
from exosynth.synthesis.gap import ALL
from exosynth.vocabulary import STAGES

DEFAULT_TOP_CONDITIONS = 40
ALL_LABEL = "All sources"
OTHER = "other"
NO_IN_VIVO = "none (in vitro only)"
MAX_MIX_CODES = 7  # coloured segments of a mix bar, ``other`` included (one colour and hatch each)
TRIAL_TIMELINE = "trial_timeline"


def source_labels(tables: list[SourceTable]) -> dict[str, str]:
    """Each source code's label for readers, and the ``all`` row's."""
    return {**{t.key: t.label for t in tables}, ALL: ALL_LABEL}


def gap_map_tiles(gap_map: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """The evidence gap map as tiles: one row per source and stage, with its place."""
    labels = source_labels(tables)
    return (
        gap_map.unpivot(
            index=["source", "total"],
            on=list(STAGES),
            variable_name="stage",
            value_name="n_studies",
        )
        .with_columns(
            label=pl.col("source").replace_strict(labels, default=pl.col("source")),
            row=pl.col("source").replace_strict(
                {s: i for i, s in enumerate(gap_map["source"])}, return_dtype=pl.Int64
            ),
            column=pl.col("stage").replace_strict(
                {s: i for i, s in enumerate(STAGES)}, return_dtype=pl.Int64
            ),
        )
        .sort("row", "column")
        .select("source", "label", "stage", "n_studies", "total", "row", "column")
    )


def condition_cells(studies: pl.DataFrame, top_n: int = DEFAULT_TOP_CONDITIONS) -> pl.DataFrame:
    """Studies and highest stage per condition group and source, for the ``top_n`` groups.

    Groups (the study table's ``condition_group``) are ranked by studies (all sources), then by
    highest stage, then by name; ``n_conditions`` counts the conditions as written each holds.
    """
    rank = {stage: i for i, stage in enumerate(STAGES)}
    ranked = studies.with_columns(
        stage_rank=pl.col("stage").replace_strict(rank, return_dtype=pl.Int64)
    )
    groups = (
        ranked.group_by(CONDITION_GROUP)
        .agg(
            group_studies=pl.len().cast(pl.Int64),
            n_conditions=pl.col("condition").n_unique().cast(pl.Int64),
            group_rank=pl.col("stage_rank").max(),
        )
        .sort(["group_studies", "group_rank", CONDITION_GROUP], descending=[True, True, False])
        .head(top_n)
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
    )
    return (
        ranked.join(groups, on=CONDITION_GROUP, how="inner")
        .group_by("row", CONDITION_GROUP, "group_studies", "n_conditions", "source")
        .agg(n_studies=pl.len().cast(pl.Int64), stage_rank=pl.col("stage_rank").max())
        .with_columns(
            highest_stage=pl.col("stage_rank").replace_strict(
                {i: s for s, i in rank.items()}, return_dtype=pl.String
            )
        )
        .drop("stage_rank")
    )


def condition_map_columns(
    studies: pl.DataFrame, tables: list[SourceTable]
) -> tuple[list[str], int]:
    """The condition map's columns (configured sources, then any other) and its rows: how
    many condition groups there are."""
    sources = [t.key for t in tables]
    sources += sorted(set(studies["source"].unique().to_list()) - set(sources))
    return sources, studies[CONDITION_GROUP].n_unique()


def condition_map_frame(
    studies: pl.DataFrame, tables: list[SourceTable], top_n: int = DEFAULT_TOP_CONDITIONS
) -> pl.DataFrame:
    """The condition map's cells: condition group by source, studies and highest stage, placed."""
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    labels = source_labels(tables)
    sources, _ = condition_map_columns(studies, tables)
    return (
        condition_cells(studies, top_n)
        .with_columns(
            label=pl.col("source").replace_strict(labels, default=pl.col("source")),
            column=pl.col("source").replace_strict(
                {s: i for i, s in enumerate(sources)}, return_dtype=pl.Int64
            ),
        )
        .sort("row", "column")
        .select(
            "row",
            CONDITION_GROUP,
            "group_studies",
            "n_conditions",
            "column",
            "source",
            "label",
            "n_studies",
            "highest_stage",
        )
    )


def funnel_frame(translation_gap: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """The translation funnel: per source, studies at each stage and their share of the source.

    In vitro work not reported is not none: ``in_vitro_nr`` counts it apart, and the in vitro
    bar is the share of the studies that say (``in_vitro_reported``), empty where none does.
    """
    labels = source_labels(tables)
    nr = (
        pl.col("n_in_vitro_nr") if "n_in_vitro_nr" in translation_gap.columns else pl.lit(0)
    ).cast(pl.Int64)
    reported = {"in_vitro": pl.col("n_studies") - pl.col("in_vitro_nr")}
    return translation_gap.select(
        "source",
        label=pl.col("source").replace_strict(labels, default=pl.col("source")),
        n_studies="n_studies",
        in_vitro="n_in_vitro",
        in_vitro_nr=nr,
        animal="n_animal",
        clinical="n_clinical",
        clinical_share="clinical_share",
        clinical_share_ci_low="clinical_share_ci_low",
        clinical_share_ci_high="clinical_share_ci_high",
    ).with_columns(
        (
            pl.when(reported.get(stage, pl.col("n_studies")) > 0)
            .then(pl.col(stage) / reported.get(stage, pl.col("n_studies")))
            .round(4)
            .alias(f"{stage}_bar")
        )
        for stage in STAGES
    )


def mix_frame(
    counts: pl.DataFrame,
    column: str,
    gap_map: pl.DataFrame,
    tables: list[SourceTable],
    max_codes: int = MAX_MIX_CODES,
) -> pl.DataFrame:
    """Studies per source and code, the rarest codes pooled as ``other``, plus in vitro only.

    ``counts`` is :func:`exosynth.stats.species_by_source` or ``model_type_by_source``
    (a study counts once per code); the studies with no in vivo work are the
    ``in_vitro`` column of the gap map. At most ``max_codes`` coloured segments, ``other``
    included, so every segment keeps a colour and hatch of its own. Shares are of the
    source's bar.
    """
    labels = source_labels(tables)
    sources = gap_map.filter(pl.col("source") != ALL)["source"].to_list()
    ranked = (
        counts.filter(pl.col("source") != ALL)
        .group_by(column)
        .agg(pl.col("n_studies").sum().alias("everywhere"))
        .sort(["everywhere", column], descending=[True, False])[column]
        .to_list()
    )
    kept = ranked if len(ranked) <= max_codes else ranked[: max_codes - 1]
    order = {code: i for i, code in enumerate([*kept, OTHER, NO_IN_VIVO])}
    coded = counts.filter(pl.col("source") != ALL).select(
        "source",
        code=pl.when(pl.col(column).is_in(kept)).then(pl.col(column)).otherwise(pl.lit(OTHER)),
        n_studies="n_studies",
    )
    none = gap_map.filter(pl.col("source") != ALL).select(
        "source", code=pl.lit(NO_IN_VIVO), n_studies=pl.col("in_vitro").cast(pl.Int64)
    )
    source_order = {s: i for i, s in enumerate(sources)}
    return (
        pl.concat([coded, none])
        .group_by("source", "code")
        .agg(pl.col("n_studies").sum().cast(pl.Int64))
        .filter(pl.col("n_studies") > 0)
        .with_columns(
            label=pl.col("source").replace_strict(labels, default=pl.col("source")),
            row=pl.col("source").replace_strict(
                source_order, default=len(sources), return_dtype=pl.Int64
            ),
            position=pl.col("code").replace_strict(order, return_dtype=pl.Int64),
        )
        .with_columns(
            share=(pl.col("n_studies") / pl.col("n_studies").sum().over("source")).round(4)
        )
        .sort("row", "position")
        .select("source", "label", "code", "n_studies", "share", "row", "position")
    )


def trial_timeline_frame(
    studies: pl.DataFrame, trials: pl.DataFrame, tables: list[SourceTable]
) -> pl.DataFrame:
    """Per source and year: studies published and MSC-EV trials registered (first posted).

    Rows for the configured sources, ``unspecified`` (trials whose registry text names no
    tissue) and ``all``; only years with a study or a trial; and, last of its source, a row
    with an empty year counting the studies and trials that have none.
    """
    order = [t.key for t in tables] + [gap_stats.UNSPECIFIED, ALL]
    ev = trials.filter(pl.col("ev_class") == gap_stats.MSC_EV).select(
        "source", year=gap_stats.trial_year()
    )
    ev = pl.concat([ev, ev.with_columns(source=pl.lit(ALL))]).drop_nulls("year")
    papers = studies.select("source", year=pl.col("year").cast(pl.Int64))
    papers = pl.concat([papers, papers.with_columns(source=pl.lit(ALL))]).drop_nulls("year")
    counted = (
        papers.group_by("source", "year")
        .agg(n_studies=pl.len().cast(pl.Int64))
        .join(
            ev.group_by("source", "year").agg(n_trials=pl.len().cast(pl.Int64)),
            on=["source", "year"],
            how="full",
            coalesce=True,
        )
        .filter(pl.col("source").is_in(order))
        .with_columns(pl.col("n_studies", "n_trials").fill_null(0))
    )
    # What has no year is not drawn on the time axis, but it is counted: one row per source
    # with an empty year (studies without a publication year, MSC-EV trials without a date).
    undated = (
        pl.concat(
            [
                studies.select("source", n_studies=pl.col("year").is_null().cast(pl.Int64)),
                trials.filter(pl.col("ev_class") == gap_stats.MSC_EV).select(
                    "source", n_trials=gap_stats.trial_year().is_null().cast(pl.Int64)
                ),
            ],
            how="diagonal",
        )
        .with_columns(pl.col("n_studies", "n_trials").fill_null(0))
        .pipe(lambda f: pl.concat([f, f.with_columns(source=pl.lit(ALL))]))
        .group_by("source")
        .agg(pl.col("n_studies", "n_trials").sum())
        .filter(pl.col("source").is_in(order) & ((pl.col("n_studies") + pl.col("n_trials")) > 0))
        .select("source", pl.lit(None, pl.Int64).alias("year"), "n_studies", "n_trials")
    )
    rank = {code: i for i, code in enumerate(order)}
    return (
        pl.concat([counted.select(undated.columns), undated])
        .with_columns(_rank=pl.col("source").replace_strict(rank, return_dtype=pl.Int64))
        .sort("_rank", "year", nulls_last=True)
        .drop("_rank")
        .select("source", "year", "n_studies", "n_trials")
    )


def undated(drawn: pl.DataFrame) -> dict[str, tuple[int, int]]:
    """Per source of a timeline frame: (studies, trials) without a year, not on the time axis."""
    rows = drawn.filter(pl.col("year").is_null())
    return {s: (n, t) for s, _, n, t in rows.iter_rows()}


def figure_numbers(
    studies: pl.DataFrame,
    tables: list[SourceTable],
    top_conditions: int = DEFAULT_TOP_CONDITIONS,
    trials: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The frame of every figure by name, and the gap map they share as ``_gap_map``."""
    gap_map = gap_stats.evidence_gap_map(studies, tables)
    numbers = {
        "evidence_gap_map": gap_map_tiles(gap_map, tables),
        "condition_map": condition_map_frame(studies, tables, top_conditions),
        "translation_funnel": funnel_frame(gap_stats.translation_gap(studies, tables), tables),
        "species_mix": mix_frame(
            gap_stats.species_by_source(studies, tables), "species", gap_map, tables
        ),
        "model_mix": mix_frame(
            gap_stats.model_type_by_source(studies, tables), "model_type", gap_map, tables
        ),
        "_gap_map": gap_map,
    }
    if trials is not None:
        numbers[TRIAL_TIMELINE] = trial_timeline_frame(studies, trials, tables)
    return numbers
