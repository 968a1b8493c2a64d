"""The numbers of the evidence map: studies per MSC source and condition group, by stage.

One cell per source and condition group that holds a study: how many studies, how many
reached each stage, the highest stage reached, and how many were assessed for risk of bias
and found at low risk (:func:`with_risk_status`). The page (``outputs/evidence_map.py``)
draws these cells and recomputes them in the browser by the same rule when a filter
changes; ``filter_studies`` is that filter, so a test can check the page against it.

Condition groups are the study table's ``condition_group`` column (set by the normalize
stage from config/vocabulary.yaml, :func:`exosynth.analysis_groups.with_condition_groups`).
Registered trials join a cell by source and by condition group: each of a trial's conditions
(``|``-separated) is grouped by the same vocabulary and compared in folded form.

Risk of bias: a study is **at low risk** when judged low on every configured item
(:func:`exosynth.synthesis.quality.low_risk_ids`), **not at low risk** when assessed but not,
and **not assessed** without a ``risk_of_bias`` block. A cell's ``low_risk_share`` is its
studies at low risk divided by its studies *assessed*: a study not assessed is left out of
the share, never counted as low or high risk; a cell with no study assessed has no share
(null) and its own class, ``none_assessed``.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from exosynth.analysis_groups import AnalysisGroups
from exosynth.synthesis.quality import DEFAULT_LOW_RISK_ITEMS, low_risk_ids, risk_of_bias
from exosynth.vocabulary import STAGES, fold

NO_SPECIES = ""  # the species filter's value for a study with neither animal nor human work
TRIAL_EV_CLASS = "msc_ev"  # the trials a cell lists: therapies with MSC-derived vesicles
UNSPECIFIED_SOURCE = "unspecified"  # a trial that names no tissue

# A study's risk of bias (column ``risk_status``), and a cell's class by its low-risk share.
LOW_RISK, NOT_LOW_RISK, NOT_ASSESSED = "low_risk", "not_low_risk", "not_assessed"
RISK_STATUSES = (LOW_RISK, NOT_LOW_RISK, NOT_ASSESSED)
ALL_LOW, SOME_LOW, NONE_LOW, NONE_ASSESSED = "all_low", "some_low", "none_low", "none_assessed"
RISK_CLASSES = (ALL_LOW, SOME_LOW, NONE_LOW, NONE_ASSESSED)

CELL_COLUMNS = (
    "source",
    "condition_group",
    "n_studies",
    *(f"n_{stage}" for stage in STAGES),
    "highest_stage",
    "n_assessed",
    "n_low_risk",
    "low_risk_share",
    "risk_class",
)


def with_risk_status(
    studies: pl.DataFrame,
    items: Iterable[str] = DEFAULT_LOW_RISK_ITEMS,
    rob: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The studies with ``risk_status``: ``low_risk`` (judged low on every one of ``items``),
    ``not_low_risk`` (assessed, but some item of them high or unclear) or ``not_assessed``
    (no ``risk_of_bias`` block). ``rob`` is :func:`exosynth.synthesis.quality.risk_of_bias`
    of ``studies`` where the caller has it already."""
    rob = risk_of_bias(studies) if rob is None else rob
    low = low_risk_ids(rob, tuple(items))
    assessed = rob.get_column("study_id").unique().to_list()
    return studies.with_columns(
        risk_status=pl.when(pl.col("id").is_in(low))
        .then(pl.lit(LOW_RISK))
        .when(pl.col("id").is_in(assessed))
        .then(pl.lit(NOT_LOW_RISK))
        .otherwise(pl.lit(NOT_ASSESSED))
    )


def risk_class(n_assessed: pl.Expr, n_low_risk: pl.Expr) -> pl.Expr:
    """A cell's colour class in the risk-of-bias mode: every assessed study at low risk,
    some, none, or no study assessed (never read as high risk)."""
    return (
        pl.when(n_assessed == 0)
        .then(pl.lit(NONE_ASSESSED))
        .when(n_low_risk == n_assessed)
        .then(pl.lit(ALL_LOW))
        .when(n_low_risk == 0)
        .then(pl.lit(NONE_LOW))
        .otherwise(pl.lit(SOME_LOW))
    )


def species_list(species: pl.Expr) -> pl.Expr:
    """The ``;``-joined species of a study as a list; empty for none."""
    return species.fill_null("").str.split(";").list.eval(pl.element().filter(pl.element() != ""))


def filter_studies(
    studies: pl.DataFrame,
    sources: Iterable[str] | None = None,
    species: Iterable[str] | None = None,
    stages: Iterable[str] | None = None,
) -> pl.DataFrame:
    """The studies the page's filters keep (``None``: that filter keeps everything).

    A study passes the species filter when one of its species is selected, or when it has
    none and ``NO_SPECIES`` is selected; the stage filter looks at its highest stage.
    """
    kept = studies
    if sources is not None:
        kept = kept.filter(pl.col("source").is_in(list(sources)))
    if stages is not None:
        kept = kept.filter(pl.col("stage").is_in(list(stages)))
    if species is not None:
        chosen = list(species)
        named = [s for s in chosen if s != NO_SPECIES]
        listed = species_list(pl.col("species"))
        keep = listed.list.eval(pl.element().is_in(named)).list.any()
        if NO_SPECIES in chosen:
            keep = keep | (listed.list.len() == 0)
        kept = kept.filter(keep)
    return kept


def evidence_cells(studies: pl.DataFrame, source_order: Iterable[str] = ()) -> pl.DataFrame:
    """One row per source and condition group with studies: counts by stage, highest stage,
    studies assessed for risk of bias and at low risk, the share of the assessed at low risk
    (null when none was assessed) and the cell's :func:`risk_class`.

    ``studies`` needs ``source``, ``condition_group`` and ``stage``, and ``risk_status``
    (:func:`with_risk_status`; without it every study counts as not assessed). Rows:
    condition groups by studies (all sources) descending, then highest stage descending, then
    name; within a group, sources in ``source_order`` (the table order), any other source
    after them by name.
    """
    rank = {stage: i for i, stage in enumerate(STAGES)}
    order = {source: i for i, source in enumerate(source_order)}
    status = pl.col("risk_status") if "risk_status" in studies.columns else pl.lit(NOT_ASSESSED)
    staged = studies.select(
        "source",
        "condition_group",
        stage_rank=pl.col("stage").replace_strict(rank, default=None, return_dtype=pl.Int64),
        risk_status=status.fill_null(NOT_ASSESSED),
    )
    groups = staged.group_by("condition_group").agg(
        group_studies=pl.len(), group_rank=pl.col("stage_rank").max()
    )
    cells = (
        staged.group_by("source", "condition_group")
        .agg(
            pl.len().cast(pl.Int64).alias("n_studies"),
            *(
                (pl.col("stage_rank") == i).sum().cast(pl.Int64).alias(f"n_{stage}")
                for stage, i in rank.items()
            ),
            pl.col("stage_rank").max(),
            n_assessed=(pl.col("risk_status") != NOT_ASSESSED).sum().cast(pl.Int64),
            n_low_risk=(pl.col("risk_status") == LOW_RISK).sum().cast(pl.Int64),
        )
        .join(groups, on="condition_group", how="left")
        .with_columns(
            highest_stage=pl.col("stage_rank").replace_strict(
                {i: s for s, i in rank.items()}, default=None, return_dtype=pl.String
            ),
            source_rank=pl.col("source").replace_strict(
                order, default=len(order), return_dtype=pl.Int64
            ),
            low_risk_share=pl.when(pl.col("n_assessed") > 0).then(
                pl.col("n_low_risk") / pl.col("n_assessed")
            ),
            risk_class=risk_class(pl.col("n_assessed"), pl.col("n_low_risk")),
        )
        .sort(
            ["group_studies", "group_rank", "condition_group", "source_rank", "source"],
            descending=[True, True, False, False, False],
            nulls_last=True,
        )
    )
    return cells.select(CELL_COLUMNS)


def group_order(cells: pl.DataFrame) -> list[str]:
    """The condition groups of ``cells`` in their row order (first appearance)."""
    return cells.get_column("condition_group").unique(maintain_order=True).to_list()


def trial_groups(trials: pl.DataFrame, groups: AnalysisGroups | None = None) -> pl.DataFrame:
    """One row per registered MSC-EV trial and condition group it names: ``trial_id``,
    ``source``, ``condition_group``, ``group_key`` (the group folded, to join on).

    Each ``|``-separated condition of a trial is grouped by ``groups`` as a study's condition
    is (none given: each its own group); a trial naming two conditions of one group is
    listed once for it.
    """
    lookup = (groups or AnalysisGroups()).condition_label
    named = (
        trials.filter(pl.col("ev_class") == TRIAL_EV_CLASS)
        .select(
            "trial_id",
            pl.col("source").fill_null(UNSPECIFIED_SOURCE),
            condition=pl.col("conditions").fill_null("").str.split("|"),
        )
        .explode("condition")
        .with_columns(pl.col("condition").str.strip_chars())
        .filter(pl.col("condition") != "")
    )
    terms = named.get_column("condition").unique().to_list()
    groups = {term: lookup(term) for term in terms}
    keys = {term: fold(group) for term, group in groups.items()}
    return (
        named.with_columns(
            condition_group=pl.col("condition").replace_strict(groups, return_dtype=pl.String),
            group_key=pl.col("condition").replace_strict(keys, return_dtype=pl.String),
        )
        .unique(["trial_id", "group_key"], keep="first", maintain_order=True)
        .select("trial_id", "source", "condition_group", "group_key")
        .sort("group_key", "trial_id")
    )
