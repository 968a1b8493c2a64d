"""Controlled vocabularies: turn the words papers use into stable codes.

Lookups are done once per distinct term (a corpus of 100,000 papers uses a few
hundred spellings), and the results are joined back onto the records by polars.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")

# The highest stage a study reached, in order: in vitro < animal < clinical.
STAGES = ("in_vitro", "animal", "clinical")


def fold(term: str) -> str:
    """The form terms are compared in: case-folded, white space folded, no trailing dot."""
    return _SPACE.sub(" ", term.replace("\u2019", "'")).strip().rstrip(".").casefold()


@dataclass(frozen=True, slots=True)
class SpeciesMatch:
    species: str
    strain: str | None


@dataclass(frozen=True, slots=True)
class SourceMatch:
    source: str
    donor_species: str | None


@dataclass(frozen=True, slots=True)
class UnknownTerm:
    """A term no vocabulary entry knows, with the closest known spellings."""

    term: str
    suggestions: tuple[str, ...]

    @property
    def hint(self) -> str:
        if self.suggestions:
            quoted = ", ".join(f'"{s}"' for s in self.suggestions)
            return f"did you mean {quoted}? Otherwise add the term to config/vocabulary.yaml"
        return "add the term to config/vocabulary.yaml"


@dataclass
class Vocabulary:
    """The vocabularies of ``config/vocabulary.yaml`` as lookup tables."""

    source_terms: dict[str, str]
    source_suffixes: tuple[str, ...]
    species_terms: dict[str, str]
    strain_terms: dict[str, dict[str, str]]
    model_types: list[tuple[str, tuple[str, ...]]]

    @classmethod
    def from_mapping(cls, raw: dict) -> Vocabulary:
        source_terms: dict[str, str] = {}
        for code, entry in raw["sources"].items():
            for term in [code.replace("_", " "), entry["label"], *entry["terms"]]:
                _claim(source_terms, fold(term), code, "sources")
        species_terms: dict[str, str] = {}
        strain_terms: dict[str, dict[str, str]] = {}
        for code, entry in raw["species"].items():
            for term in [code.replace("_", " "), *entry["terms"]]:
                _claim(species_terms, fold(term), code, "species")
            strains: dict[str, str] = {}
            for strain, words in entry.get("strains", {}).items():
                for word in [strain, *words]:
                    _claim(strains, fold(word), strain, f"species.{code}.strains")
            strain_terms[code] = strains
        suffixes = sorted({fold(s) for s in raw.get("source_suffixes", [])}, key=len, reverse=True)
        return cls(
            source_terms=source_terms,
            source_suffixes=tuple(suffixes),
            species_terms=species_terms,
            strain_terms=strain_terms,
            model_types=[
                (m["code"], tuple(fold(k) for k in m["keywords"])) for m in raw["model_types"]
            ],
        )

    # -- sources -----------------------------------------------------------------
    def match_source(self, term: str) -> SourceMatch | UnknownTerm:
        """``"human bone marrow"`` -> bone_marrow from a human donor; ``"ADSC"`` -> adipose."""
        folded = fold(term)
        split = self._donor_prefix(folded)
        donor = split[1] if split else None
        candidates = [folded, split[0]] if split else [folded]
        for candidate in candidates:
            for stripped in self._strip_suffixes(candidate):
                if stripped in self.source_terms:
                    return SourceMatch(
                        self.source_terms[stripped], donor if candidate != folded else None
                    )
        return UnknownTerm(term, _closest(folded, self.source_terms))

    def _donor_prefix(self, folded: str) -> tuple[str, str] | None:
        """Split a leading donor species off: ("bone marrow", "human") for "human bone marrow"."""
        for word in sorted(self.species_terms, key=len, reverse=True):
            if folded.startswith(word + " "):
                return folded[len(word) + 1 :].strip(), self.species_terms[word]
        if folded.startswith("h") and len(folded) > 2 and folded[1:] in self.source_terms:
            return folded[1:], "human"  # hUC-MSC, hBMSC: "h" for human
        return None

    def _strip_suffixes(self, folded: str) -> list[str]:
        forms = [folded]
        current = folded
        changed = True
        while changed:
            changed = False
            for suffix in self.source_suffixes:
                if current.endswith(suffix) and len(current) > len(suffix):
                    current = current[: -len(suffix)].strip(" -")
                    forms.append(current)
                    changed = True
                    break
        return forms

    # -- species -----------------------------------------------------------------
    def match_species(self, term: str) -> SpeciesMatch | UnknownTerm:
        """``"SD rats"`` -> rat, Sprague-Dawley; ``"Nude mice"`` -> mouse, nude."""
        folded = fold(term)
        if folded in self.species_terms:
            return SpeciesMatch(self.species_terms[folded], None)
        for word in sorted(self.species_terms, key=len, reverse=True):
            if folded.endswith(" " + word):
                species = self.species_terms[word]
                descriptor = folded[: -len(word) - 1].strip()
                strains = self.strain_terms.get(species, {})
                if descriptor in strains:
                    return SpeciesMatch(species, strains[descriptor])
                known = [f"{s} {word}" for s in strains]
                return UnknownTerm(term, tuple(difflib.get_close_matches(folded, known, 3, 0.5)))
        return UnknownTerm(term, _closest(folded, self.species_terms))

    # -- model types -------------------------------------------------------------
    def model_type_codes(self) -> set[str]:
        return {code for code, _ in self.model_types}


def _claim(table: dict[str, str], term: str, code: str, where: str) -> None:
    if table.get(term, code) != code:
        raise ValueError(
            f"config/vocabulary.yaml {where}: term {term!r} is listed for both "
            f"{table[term]!r} and {code!r}"
        )
    table[term] = code


def _closest(folded: str, known: dict[str, str]) -> tuple[str, ...]:
    return tuple(difflib.get_close_matches(folded, list(known), n=3, cutoff=0.4))


# -- STAND-IN (contract helper, wip-contract): remove when wip-vocab's classify_model and
# species_label land. Same names and return types as the vocab helper's API; the matching
# is today's (first model type whose keyword occurs in the text, or "unclassified").
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True, slots=True)
class ModelClass:
    model_type: str
    induction: str | None


def _classify_model(self: Vocabulary, text: str) -> ModelClass:
    folded = fold(text)
    for code, keywords in self.model_types:
        if any(keyword in folded for keyword in keywords):
            return ModelClass(code, None)
    return ModelClass(UNCLASSIFIED, None)


def _species_label(self: Vocabulary, species: str, strain: str | None) -> str:
    label = species.replace("_", " ").capitalize()
    return f"{label}, {strain}" if strain else label


Vocabulary.classify_model = _classify_model  # type: ignore[attr-defined]
Vocabulary.species_label = _species_label  # type: ignore[attr-defined]
# -- END STAND-IN
