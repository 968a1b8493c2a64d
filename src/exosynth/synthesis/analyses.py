"""The meta-analysis stage: from the study table to effect sizes and pooled estimates.

One call, :func:`synthesize`, chains effects.py and pooling.py on the interim study table
(its ``outcomes`` column), by its ``condition_group`` column and with the outcome synonyms of
the vocabulary.
A study table without outcome data gives empty frames with the contract's columns, at the
cost of a column check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from exosynth.analysis_groups import CONDITION_GROUP
from exosynth.problems import Problem
from exosynth.synthesis import pooling
from exosynth.synthesis.effects import EFFECT_SCHEMA, compute_effects, outcome_groups

# Codes of the effect sizes' problems that no check of a record finds (Synthesis.notes).
ARITHMETIC = frozenset({"outcome.degenerate"})


@dataclass(frozen=True)
class Synthesis:
    """The frames of one build's meta-analyses (``effects`` with ``analysis`` and ``used``)."""

    effects: pl.DataFrame
    pooled: pl.DataFrame
    cumulative: pl.DataFrame
    egger: pl.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def notes(self) -> list[Problem]:
        """What only the arithmetic finds: REML not converging for an analysis (``pooling.*``),
        a comparison with too few animals once its control is shared, or no spread
        (``outcome.degenerate``). The records' missing numbers are found when they are parsed
        (studies.outcome_checks), so the validation report has them from rule validate."""
        return [p for p in self.problems if p.code.startswith("pooling.") or p.code in ARITHMETIC]

    @property
    def n_analyses(self) -> int:
        """Analyses with a pooled estimate of two comparisons or more (a meta-analysis)."""
        return count_meta_analyses(self.pooled)


def count_meta_analyses(pooled: pl.DataFrame) -> int:
    """Analyses of pooled.csv pooling two comparisons or more (read as text or as numbers)."""
    rows = pooled.filter(
        (pl.col("source") == pooling.ALL) & (pl.col("k_comparisons").cast(pl.Int64) >= 2)
    )
    return rows.select("condition", "outcome").unique().height


def has_outcomes(studies: pl.DataFrame) -> bool:
    return "outcomes" in studies.columns and studies["outcomes"].is_not_null().any()


def synthesize(
    studies: pl.DataFrame,
    *,
    synonyms: Mapping[str, str] | None = None,
    knha: bool = False,
    source_order: Sequence[str] = (),
) -> Synthesis:
    """Effects, pooled estimates, cumulative meta-analysis and Egger's test of a study table.

    An analysis is a condition group (the study table's ``condition_group`` column, which
    effects.csv and pooled.csv call ``condition``) and an outcome; ``synonyms`` maps a folded
    outcome name to its group's label.
    """
    if not has_outcomes(studies):
        effects = pl.DataFrame(schema=EFFECT_SCHEMA).with_columns(
            analysis=pl.lit(None, dtype=pl.String), used=pl.lit(None, dtype=pl.Boolean)
        )
        empty, _ = pooling.pool(effects)
        return Synthesis(effects, empty, pooling.cumulative(effects), pooling.egger(effects))
    with_data = studies.filter(pl.col("outcomes").is_not_null()).with_columns(
        condition=pl.col(CONDITION_GROUP)
    )
    effects, problems = compute_effects(outcome_groups(with_data))
    effects = pooling.select_timepoints(pooling.with_analysis(effects, synonyms))
    pooled, pool_problems = pooling.pool(effects, knha=knha, source_order=source_order)
    return Synthesis(
        effects=effects,
        pooled=pooled,
        cumulative=pooling.cumulative(effects, knha=knha),
        egger=pooling.egger(effects, knha=knha),
        problems=[*problems, *pool_problems],
    )
