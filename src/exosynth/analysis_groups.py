"""Condition groups and outcome synonyms (config/vocabulary.yaml): which analysis a record feeds.

Conditions are written freely ("Acute kidney injury (Cisplatin-induced)", "Ischemia/
reperfusion-induced acute kidney injury"); a group claims a condition when one of its terms
occurs in it as whole words, after folding (case, apostrophes dropped, other punctuation as a
space). The longest matching term wins, so "liver fibrosis" beats "liver injury"'s "liver"
only if both were terms; a tie goes to the group listed first. A condition no group claims is
its own group (its text, trimmed), and is listed in the validation report so the author can
place it. The group is computed in one place, :func:`with_condition_groups` (called by the
normalize stage): the study table's ``condition_group`` column, which every analysis, figure
and map reads; :func:`unclaimed_conditions` lists the conditions no group claims. Outcome
names are folded the same way with a plural s dropped, then mapped to their synonym group's
label (infarct size -> infarct volume).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

CONDITION_GROUP = "condition_group"  # the study table's column: the label of its group
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_PUNCTUATION = re.compile(r"[^\w]+|_+")


def fold_text(text: str) -> str:
    """Lower case, apostrophes dropped, punctuation and runs of spaces as one space."""
    return " ".join(_PUNCTUATION.sub(" ", _APOSTROPHES.sub("", text.casefold())).split())


def fold_outcome(name: str) -> str:
    """An outcome name folded for grouping: fold_text, then a plural s of the last word dropped."""
    words = fold_text(name).split()
    if words:
        last = words[-1]
        if len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
            words[-1] = last[:-1]
    return " ".join(words)


@dataclass(frozen=True)
class AnalysisGroups:
    """The ``conditions:`` and ``outcomes:`` sections as lookups."""

    # (folded term, code, label), longest term first, then in file order
    condition_terms: tuple[tuple[str, str, str], ...] = ()
    outcome_labels: dict[str, str] = field(default_factory=dict)
    _conditions: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> AnalysisGroups:
        """Build the lookups; a spelling claimed by two groups is a ValueError naming both."""
        terms: list[tuple[int, int, str, str, str]] = []
        claimed: dict[str, str] = {}
        for order, (code, entry) in enumerate((raw.get("conditions") or {}).items()):
            for spelling in [entry["label"], *entry.get("terms", [])]:
                term = fold_text(spelling)
                _claim(claimed, term, code, "conditions")
                terms.append((-len(term), order, term, code, entry["label"]))
        labels: dict[str, str] = {}
        for code, entry in (raw.get("outcomes") or {}).items():
            for spelling in [entry["label"], *entry.get("terms", [])]:
                _claim(labels, fold_outcome(spelling), entry["label"], f"outcomes.{code}")
        ordered = tuple((term, code, label) for _, _, term, code, label in sorted(set(terms)))
        return cls(condition_terms=ordered, outcome_labels=labels)

    def condition_group(self, condition: str) -> str | None:
        """The label of the group claiming ``condition``, or None when no group claims it."""
        if condition not in self._conditions:
            padded = f" {fold_text(condition)} "
            self._conditions[condition] = next(
                (label for term, _, label in self.condition_terms if f" {term} " in padded), None
            )
        return self._conditions[condition]

    def condition_label(self, condition: str) -> str:
        """The group's label; a condition no group claims is its own group."""
        return self.condition_group(condition) or " ".join(condition.split())

    def outcome_label(self, outcome: str) -> str:
        """The synonym group's label of an outcome name, else its folded name."""
        folded = fold_outcome(outcome)
        return self.outcome_labels.get(folded, folded)


def with_condition_groups(
    studies: pl.DataFrame, groups: AnalysisGroups | None = None
) -> pl.DataFrame:
    """``studies`` with its ``condition_group`` column: the label of the group claiming each
    condition, else the condition trimmed (no groups: every condition is its own group).

    Each distinct condition is looked up once; a study without a condition has no group.
    """
    lookup = groups or AnalysisGroups()
    conditions = studies.get_column("condition").drop_nulls().unique().to_list()
    labels = {condition: lookup.condition_label(condition) for condition in conditions}
    return studies.with_columns(
        pl.col("condition")
        .replace_strict(labels, default=None, return_dtype=pl.String)
        .alias(CONDITION_GROUP)
    )


def unclaimed_conditions(studies: pl.DataFrame, groups: AnalysisGroups) -> pl.DataFrame:
    """The conditions no group claims, each its own group: ``condition`` (trimmed, as its
    ``condition_group`` column holds it), ``n_studies`` and ``n_with_outcomes`` (studies with
    outcome data, pooled in an analysis of their own), by studies descending, then by name."""
    outcomes = pl.col("outcomes").is_not_null() if "outcomes" in studies.columns else pl.lit(False)
    conditions = studies.get_column("condition").drop_nulls().unique().to_list()
    unclaimed = [c for c in conditions if groups.condition_group(c) is None]
    return (
        studies.filter(pl.col("condition").is_in(unclaimed))
        .group_by(pl.col(CONDITION_GROUP).alias("condition"))
        .agg(
            n_studies=pl.len().cast(pl.Int64),
            n_with_outcomes=outcomes.sum().cast(pl.Int64),
        )
        .sort(["n_studies", "condition"], descending=[True, False])
    )


def _claim(table: dict[str, str], term: str, value: str, section: str) -> None:
    if table.get(term, value) != value:
        raise ValueError(
            f"config/vocabulary.yaml {section}: {term!r} is claimed by both "
            f"{table[term]!r} and {value!r}"
        )
    table[term] = value
