"""The numbers of the evidence map: studies per MSC source and condition group, by stage.

One cell per source and condition group that holds a study: how many studies, how many
reached each stage, and the highest stage reached. The page (``outputs/evidence_map.py``)
draws these cells and recomputes them in the browser by the same rule when a filter
changes; ``filter_studies`` is that filter, so a test can check the page against it.

Condition groups are the study table's ``condition_group`` column (set by the normalize
stage from config/vocabulary.yaml, :func:`exosynth.analysis_groups.with_condition_groups`).
Registered trials join a cell by source and by condition group: each of a trial's conditions
(``|``-separated) is grouped by the same vocabulary and compared in folded form.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from exosynth.analysis_groups import AnalysisGroups
from exosynth.vocabulary import STAGES, fold

NO_SPECIES = ""  # the species filter's value for a study with neither animal nor human work
TRIAL_EV_CLASS = "msc_ev"  # the trials a cell lists: therapies with MSC-derived vesicles
UNSPECIFIED_SOURCE = "unspecified"  # a trial that names no tissue

CELL_COLUMNS = (
    "source",
    "condition_group",
    "n_studies",
    *(f"n_{stage}" for stage in STAGES),
    "highest_stage",
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
    """One row per source and condition group with studies: counts by stage, highest stage.

    ``studies`` needs ``source``, ``condition_group`` and ``stage``. Rows: condition groups
    by studies (all sources) descending, then highest stage descending, then name; within a
    group, sources in ``source_order`` (the table order), any other source after them by name.
    """
    rank = {stage: i for i, stage in enumerate(STAGES)}
    order = {source: i for i, source in enumerate(source_order)}
    staged = studies.select(
        "source",
        "condition_group",
        stage_rank=pl.col("stage").replace_strict(rank, default=None, return_dtype=pl.Int64),
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
        )
        .join(groups, on="condition_group", how="left")
        .with_columns(
            highest_stage=pl.col("stage_rank").replace_strict(
                {i: s for s, i in rank.items()}, default=None, return_dtype=pl.String
            ),
            source_rank=pl.col("source").replace_strict(
                order, default=len(order), return_dtype=pl.Int64
            ),
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
