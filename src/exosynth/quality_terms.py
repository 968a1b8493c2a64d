"""The words of a record's quality blocks: SYRCLE's items and judgements, EV isolation
methods, routes of administration and dose units.

SYRCLE's ten items (Hooijmans et al. 2014, BMC Med Res Methodol 14:43) are listed here once,
in the tool's order, with the words people read; the record schema names the same ten (a
test holds the two together). The isolation methods, routes and dose units are short lists
of ``config/vocabulary.yaml`` (``ev_isolation``, ``routes``, ``dose_units``): a code, its
label and the spellings that name it. Spellings are compared folded (case, dots, hyphens,
slashes, spaces, the micro sign), so ``"i.v."`` is ``"IV"`` and ``"Size-exclusion"`` is
``"size exclusion"``; a spelling no entry knows is an :class:`UnknownTerm` naming the
closest labels.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from exosynth.vocabulary import UnknownTerm


@dataclass(frozen=True, slots=True)
class SyrcleItem:
    code: str  # the record's field name under risk_of_bias
    label: str  # the item in words, as robvis and the tables of reviews show it
    domain: str  # the type of bias it belongs to


SYRCLE_ITEMS: tuple[SyrcleItem, ...] = (
    SyrcleItem("sequence_generation", "Sequence generation", "Selection bias"),
    SyrcleItem("baseline_characteristics", "Baseline characteristics", "Selection bias"),
    SyrcleItem("allocation_concealment", "Allocation concealment", "Selection bias"),
    SyrcleItem("random_housing", "Random housing", "Performance bias"),
    SyrcleItem(
        "blinding_caregivers", "Blinding of caregivers and investigators", "Performance bias"
    ),
    SyrcleItem("random_outcome_assessment", "Random outcome assessment", "Detection bias"),
    SyrcleItem("blinding_assessors", "Blinding of outcome assessors", "Detection bias"),
    SyrcleItem("incomplete_outcome_data", "Incomplete outcome data", "Attrition bias"),
    SyrcleItem("selective_reporting", "Selective outcome reporting", "Reporting bias"),
    SyrcleItem("other_bias", "Other sources of bias", "Other"),
)
ITEM_CODES: tuple[str, ...] = tuple(item.code for item in SYRCLE_ITEMS)
ITEM_LABELS: dict[str, str] = {item.code: item.label for item in SYRCLE_ITEMS}

# Judgements in the order figures and tables show them; "unclear" is also a judgement not made.
LOW, HIGH, UNCLEAR = "low", "high", "unclear"
JUDGEMENTS: tuple[str, ...] = (LOW, UNCLEAR, HIGH)
JUDGEMENT_LABELS = {LOW: "Low risk", UNCLEAR: "Unclear risk", HIGH: "High risk"}

# The sections of config/vocabulary.yaml read here.
SECTIONS = ("ev_isolation", "routes", "dose_units")

_MICRO = re.compile("[\u00b5\u03bc]")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_/,;:()+]+")
# "/kg", "per kg", "/kg body weight", "per kg of bw" at the end of a unit.
_PER_KG = re.compile(
    r"\s*(?:/|\bper\b)\s*kg\b(?:\s*(?:of\s+)?(?:body\s*weight|bw))?\s*$", re.IGNORECASE
)


def fold_term(term: str) -> str:
    """The form short-list spellings are compared in: ``"I.V."`` -> ``"iv"``,
    ``"Size-exclusion chromatography"`` -> ``"size exclusion chromatography"``,
    ``"µg"`` -> ``"ug"``."""
    text = _MICRO.sub("u", term.casefold()).replace(".", "").replace("'", "")
    return _SEPARATORS.sub(" ", text).strip()


@dataclass(frozen=True)
class TermList:
    """One short list: code -> label, and every folded spelling -> code."""

    name: str
    labels: dict[str, str]
    spellings: dict[str, str]

    @classmethod
    def from_mapping(cls, name: str, raw: dict) -> TermList:
        spellings: dict[str, str] = {}
        for code, entry in raw.items():
            for term in [code.replace("_", " "), entry["label"], *entry.get("terms", [])]:
                folded = fold_term(term)
                if spellings.get(folded, code) != code:
                    raise ValueError(
                        f"config/vocabulary.yaml {name}: term {term!r} is listed for both "
                        f"{spellings[folded]!r} and {code!r}"
                    )
                spellings[folded] = code
        return cls(name, {code: entry["label"] for code, entry in raw.items()}, spellings)

    def match(self, term: str) -> str | UnknownTerm:
        """The code a spelling names, or an :class:`UnknownTerm` with the closest labels."""
        folded = fold_term(term)
        if folded in self.spellings:
            return self.spellings[folded]
        close = difflib.get_close_matches(folded, list(self.spellings), n=6, cutoff=0.6)
        labels = tuple(dict.fromkeys(self.labels[self.spellings[c]] for c in close))[:3]
        if labels:
            return UnknownTerm(term, labels)
        known = ", ".join(self.labels.values())
        return UnknownTerm(
            term,
            (),
            f"use one of: {known}; or add the spelling under {self.name} in config/vocabulary.yaml",
        )

    def label(self, code: str) -> str:
        return self.labels.get(code, code.replace("_", " "))


@dataclass(frozen=True, slots=True)
class DoseUnit:
    unit: str  # a dose_units code
    per_kg: bool


@dataclass(frozen=True)
class QualityTerms:
    """The three short lists of the vocabulary."""

    isolation: TermList
    routes: TermList
    dose_units: TermList

    @classmethod
    def from_vocabulary(cls, raw: dict) -> QualityTerms:
        return cls(
            TermList.from_mapping("ev_isolation", raw.get("ev_isolation", {})),
            TermList.from_mapping("routes", raw.get("routes", {})),
            TermList.from_mapping("dose_units", raw.get("dose_units", {})),
        )

    def labels(self) -> dict[str, dict[str, str]]:
        """Each list's codes in words, by the names the quality sheets use."""
        return {
            "isolation": self.isolation.labels,
            "routes": self.routes.labels,
            "dose_units": self.dose_units.labels,
        }

    def match_dose_unit(self, term: str) -> DoseUnit | UnknownTerm:
        """``"ug protein/kg"`` -> ug_protein per kg; ``"particles"`` -> particles, not per kg."""
        bare = _PER_KG.sub("", term)
        found = self.dose_units.match(bare or term)
        if isinstance(found, UnknownTerm):
            return UnknownTerm(term, found.suggestions, found.reason)
        return DoseUnit(found, bare != term)
