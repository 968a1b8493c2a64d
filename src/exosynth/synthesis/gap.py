"""The translation gap: how much of each MSC source's evidence ever reaches people.

Every number is computed from the one normalized study table, with polars
expressions only, so the statistics, the tables and the workbook agree.
"""

from __future__ import annotations

import polars as pl

from exosynth.analysis_groups import CONDITION_GROUP
from exosynth.settings import SourceTable
from exosynth.vocabulary import STAGES

Z_95 = 1.959963984540054  # standard normal quantile for a two-sided 95% interval
ALL = "all"
DECIMALS = 4


def wilson_interval(
    successes: pl.Expr, trials: pl.Expr, z: float = Z_95
) -> tuple[pl.Expr, pl.Expr]:
    """Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998, method 3).

    Unlike the Wald interval it stays inside [0, 1] and is informative at 0 of n,
    which is the usual count of clinical studies per source.
    """
    n = trials.cast(pl.Float64)
    p = successes.cast(pl.Float64) / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * ((p * (1 - p) / n + z**2 / (4 * n**2)).sqrt()) / (1 + z**2 / n)
    # At 0 of n and n of n the bound is exactly 0 (1) in closed form; computed, it comes out
    # as float noise such as 5.55e-17, so those ends are set, not computed.
    k = successes.cast(pl.Float64)
    low = pl.when(n > 0).then(
        pl.when(k == 0).then(pl.lit(0.0)).otherwise((centre - half).clip(0.0, 1.0))
    )
    high = pl.when(n > 0).then(
        pl.when(k == n).then(pl.lit(1.0)).otherwise((centre + half).clip(0.0, 1.0))
    )
    return low, high


def _source_order(tables: list[SourceTable]) -> pl.DataFrame:
    """The configured sources in table order, then ``all``."""
    return pl.DataFrame(
        {"source": [t.key for t in tables] + [ALL], "order": list(range(len(tables) + 1))},
        schema={"source": pl.String, "order": pl.Int64},
    )


def _by_source_and_all(studies: pl.DataFrame) -> pl.DataFrame:
    """The studies once under their own source and once under ``all``."""
    return pl.concat([studies, studies.with_columns(source=pl.lit(ALL))])


def translation_gap(studies: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """One row per configured source (in table order) and an ``all`` row (DESIGN.md contract).

    ``n_animal`` counts studies with any animal work, ``n_clinical`` studies with
    use in people; ``translation_gap`` is the share of studies that never reached people.
    ``n_in_vitro`` counts studies that report in vitro work, ``n_in_vitro_nr`` those whose
    source does not say (never counted as without); it comes last, after the contract's
    columns.
    """
    counts = (
        _by_source_and_all(studies)
        .group_by("source")
        .agg(
            n_studies=pl.len(),
            n_in_vitro=pl.col("in_vitro").sum(),
            n_animal=pl.col("in_vivo").is_not_null().sum(),
            n_clinical=pl.col("clinical_patients").is_not_null().sum(),
            n_in_vitro_nr=pl.col("in_vitro").is_null().sum(),
        )
    )
    frame = (
        _source_order(tables)
        .join(counts, on="source", how="left")
        .sort("order")
        .drop("order")
        .with_columns(pl.col("^n_.*$").fill_null(0).cast(pl.Int64))
    )
    low, high = wilson_interval(pl.col("n_clinical"), pl.col("n_studies"))
    share = pl.when(pl.col("n_studies") > 0).then(pl.col("n_clinical") / pl.col("n_studies"))
    return frame.with_columns(
        clinical_share=share.round(DECIMALS),
        clinical_share_ci_low=low.round(DECIMALS),
        clinical_share_ci_high=high.round(DECIMALS),
        translation_gap=(1 - share).round(DECIMALS),
    ).select(pl.exclude("n_in_vitro_nr"), "n_in_vitro_nr")


def _count_codes(studies: pl.DataFrame, column: str, tables: list[SourceTable]) -> pl.DataFrame:
    """Studies per source and code of a ';'-joined column (a study counts once per code)."""
    exploded = (
        _by_source_and_all(studies.select("source", pl.col(column).str.split(";")))
        .explode(column)
        .drop_nulls(column)
    )
    return (
        exploded.group_by("source", column)
        .agg(n_studies=pl.len().cast(pl.Int64))
        .join(_source_order(tables), on="source", how="left")
        .sort("order", pl.col("n_studies"), column, descending=[False, True, False])
        .drop("order")
    )


def species_by_source(studies: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    return _count_codes(studies, "species", tables)


def model_type_by_source(studies: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    return _count_codes(studies, "model_type", tables)


def evidence_gap_map(studies: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """Source by highest stage reached: the evidence gap map, one row per source and ``all``."""
    counts = (
        _by_source_and_all(studies)
        .group_by("source")
        .agg(*[(pl.col("stage") == stage).sum().alias(stage) for stage in STAGES], total=pl.len())
    )
    return (
        _source_order(tables)
        .join(counts, on="source", how="left")
        .sort("order")
        .drop("order")
        .with_columns(pl.col(*STAGES, "total").fill_null(0).cast(pl.Int64))
    )


def time_to_translation(studies: pl.DataFrame) -> pl.DataFrame:
    """Per condition group: highest stage reached and the years of its first animal and
    clinical study; ``n_conditions`` counts the conditions as written the group holds.

    Follows the measure of Ineichen et al. (2024, PLOS Biology): years from the first
    animal study of a condition to its first use in people. A condition is its group
    (``condition_group``), so that three spellings of one disease are one translation.
    """
    rank = {stage: i for i, stage in enumerate(STAGES)}
    return (
        studies.with_columns(stage_rank=pl.col("stage").replace_strict(rank, return_dtype=pl.Int8))
        .group_by(CONDITION_GROUP)
        .agg(
            n_conditions=pl.col("condition").n_unique().cast(pl.Int64),
            n_studies=pl.len().cast(pl.Int64),
            sources=pl.col("source").unique().sort().str.join(";"),
            highest_rank=pl.col("stage_rank").max(),
            first_year=pl.col("year").min(),
            first_animal_year=pl.col("year").filter(pl.col("in_vivo").is_not_null()).min(),
            first_clinical_year=pl.col("year")
            .filter(pl.col("clinical_patients").is_not_null())
            .min(),
        )
        .with_columns(
            highest_stage=pl.col("highest_rank").replace_strict(
                {i: s for s, i in rank.items()}, return_dtype=pl.String
            ),
            years_animal_to_clinical=pl.col("first_clinical_year") - pl.col("first_animal_year"),
        )
        .sort(["highest_rank", "n_studies", CONDITION_GROUP], descending=[True, True, False])
        .select(
            CONDITION_GROUP,
            "n_conditions",
            "n_studies",
            "sources",
            "highest_stage",
            "first_year",
            "first_animal_year",
            "first_clinical_year",
            "years_animal_to_clinical",
        )
    )


# -- registered trials (exosynth.trials) ---------------------------------------------------
UNSPECIFIED = "unspecified"
MSC_EV = "msc_ev"
# Phase groups of the trial counts. A phase 1/2 trial is counted with phase 1: it has not
# yet reached a phase 2 of its own.
PHASE_GROUPS = {
    "n_trials_phase1": ("early_phase1", "phase1", "phase1_2"),
    "n_trials_phase2_plus": ("phase2", "phase2_3", "phase3", "phase4"),
    "n_trials_phase3_plus": ("phase3", "phase4"),
}
TRIAL_GAP_COLUMNS = (
    "n_trials",
    *PHASE_GROUPS,
    "n_trials_no_phase",
    "n_secretome_trials",
    "first_trial_year",
)


def trial_year() -> pl.Expr:
    """The year a trial was registered: first posted, else first submitted (some exports
    carry only one of them). Dates are ISO text at their own precision, so the year leads."""
    return (
        pl.coalesce(pl.col("first_posted"), pl.col("first_submitted"))
        .str.slice(0, 4)
        .cast(pl.Int64, strict=False)
    )


def _trial_source_order(tables: list[SourceTable]) -> pl.DataFrame:
    """The configured sources in table order, then ``unspecified``, then ``all``."""
    keys = [t.key for t in tables] + [UNSPECIFIED, ALL]
    return pl.DataFrame(
        {"source": keys, "order": list(range(len(keys)))},
        schema={"source": pl.String, "order": pl.Int64},
    )


def trial_counts(trials: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """Per source, ``unspecified`` and ``all``: MSC-EV trials by phase, secretome trials apart,
    and the year of the first registered MSC-EV trial.

    ``all`` counts every MSC-EV trial, those whose registry text names no tissue and those
    of sources without a table of their own included.
    """
    both = pl.concat([trials, trials.with_columns(source=pl.lit(ALL))])
    ev = pl.col("ev_class") == MSC_EV
    phase = pl.col("phase")
    counts = both.group_by("source").agg(
        n_trials=ev.sum(),
        **{name: (ev & phase.is_in(list(codes))).sum() for name, codes in PHASE_GROUPS.items()},
        n_trials_no_phase=(ev & (phase.is_null() | (phase == "not_applicable"))).sum(),
        n_secretome_trials=(pl.col("ev_class") == "msc_secretome").sum(),
        first_trial_year=trial_year().filter(ev).min(),
    )
    return (
        _trial_source_order(tables)
        .join(counts, on="source", how="left")
        .sort("order")
        .drop("order")
        .with_columns(pl.col("^n_.*$").fill_null(0).cast(pl.Int64))
        .with_columns(pl.col("first_trial_year").cast(pl.Int64))
    )


def translation_gap_with_trials(
    studies: pl.DataFrame, tables: list[SourceTable], trials: pl.DataFrame
) -> pl.DataFrame:
    """:func:`translation_gap` with the trial columns; a row ``unspecified`` before ``all``.

    The study columns keep their values; the ``unspecified`` row has no studies (a study
    record always names its source), so its shares are empty.
    """
    gap = translation_gap(studies, tables)
    empty = gap.clear(1).with_columns(
        source=pl.lit(UNSPECIFIED),
        **{c: pl.lit(0, pl.Int64) for c in gap.columns if c.startswith("n_")},
    )
    gap = pl.concat(
        [gap.filter(pl.col("source") != ALL), empty, gap.filter(pl.col("source") == ALL)]
    )
    return gap.join(trial_counts(trials, tables), on="source", how="left", maintain_order="left")


def _cutoff_year(data_cutoff: str) -> int | None:
    """The year of the data cut-off ("2019", "2022-10-09"), or None when none is configured."""
    text = (data_cutoff or "").strip()[:4]
    return int(text) if text.isdigit() else None


def time_to_trial(
    studies: pl.DataFrame,
    trials: pl.DataFrame,
    tables: list[SourceTable],
    data_cutoff: str,
) -> pl.DataFrame:
    """Per source: years from its first animal study to its first registered MSC-EV trial.

    A source with no MSC-EV trial is censored at the data cut-off (``censored`` true,
    ``years`` counted to the cut-off year), as time-to-event data are: it has not reached a
    trial yet, which is not the same as never. Empty years where the source has no animal
    study, or (censored) where no cut-off is configured.
    """
    cutoff = _cutoff_year(data_cutoff)
    animal = (
        _by_source_and_all(studies)
        .filter(pl.col("in_vivo").is_not_null())
        .group_by("source")
        .agg(first_animal_year=pl.col("year").min().cast(pl.Int64))
    )
    first_trial = trial_counts(trials, tables).select("source", "n_trials", "first_trial_year")
    order = _source_order(tables)
    frame = (
        order.join(animal, on="source", how="left")
        .join(first_trial, on="source", how="left")
        .sort("order")
        .drop("order")
    )
    censored = pl.col("first_trial_year").is_null()
    end = pl.when(censored).then(pl.lit(cutoff, pl.Int64)).otherwise(pl.col("first_trial_year"))
    return frame.with_columns(
        censored=censored,
        followed_to_year=end,
        years_animal_to_trial=end - pl.col("first_animal_year"),
    ).select(
        "source",
        "first_animal_year",
        "n_trials",
        "first_trial_year",
        "censored",
        "followed_to_year",
        "years_animal_to_trial",
    )


def statistics(
    studies: pl.DataFrame,
    tables: list[SourceTable],
    trials: pl.DataFrame | None = None,
    data_cutoff: str = "",
) -> dict[str, pl.DataFrame]:
    """Every statistic of rule stats, by name: the translation gap (with the registered
    trials when there are any), species and model mix, the gap map, the time to translation
    and, with trials, the time to the first trial."""
    numbers = {
        "translation_gap": (
            translation_gap(studies, tables)
            if trials is None
            else translation_gap_with_trials(studies, tables, trials)
        ),
        "species_by_source": species_by_source(studies, tables),
        "model_type_by_source": model_type_by_source(studies, tables),
        "evidence_gap_map": evidence_gap_map(studies, tables),
        "time_to_translation": time_to_translation(studies),
    }
    if trials is not None:
        numbers["time_to_trial"] = time_to_trial(studies, trials, tables, data_cutoff)
    return numbers
