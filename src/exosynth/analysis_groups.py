"""Condition groups and outcome synonyms (config/vocabulary.yaml): which analysis a record feeds.

Conditions are written freely ("Acute kidney injury (Cisplatin-induced)", "Ischemia/
reperfusion-induced acute kidney injury"); a group claims a condition when one of its terms
occurs in it as whole words, after folding (case, apostrophes dropped, other punctuation as a
space). The longest matching term wins, so "liver fibrosis" beats "liver injury"'s "liver"
only if both were terms; a tie goes to the group listed first. A condition no group claims is
its own group (its text, trimmed), and is listed in the validation report so the author can
place it. Outcome names are folded the same way with a plural s dropped, then mapped to their
synonym group's label (infarct size -> infarct volume).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


def _claim(table: dict[str, str], term: str, value: str, section: str) -> None:
    if table.get(term, value) != value:
        raise ValueError(
            f"config/vocabulary.yaml {section}: {term!r} is claimed by both "
            f"{table[term]!r} and {value!r}"
        )
    table[term] = value
