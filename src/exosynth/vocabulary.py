"""Controlled vocabularies: turn the words papers use into stable codes.

Lookups are done once per distinct term (a corpus of 100,000 papers uses a few
hundred spellings), and the results are joined back onto the records by polars. The MSC
source spellings are parsed by source_grammar.py; a term no table knows is terms.py's
:class:`~exosynth.terms.UnknownTerm`, with the closest known spellings.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from exosynth.source_grammar import DASHES, SourceGrammar, SourceMatch
from exosynth.terms import UnknownTerm, claim, closest

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
class ModelClass:
    """What an animal model is: its type, and how it was induced where the text says so."""

    model_type: str  # a model type code, or "unclassified"
    induction: str | None  # an induction code, or None: the text does not say


UNCLASSIFIED = "unclassified"
DISEASE_MODEL = "disease_model"  # what a named induction makes a model, unless typed before


@dataclass
class Vocabulary:
    """The vocabularies of ``config/vocabulary.yaml`` as lookup tables."""

    source_terms: dict[str, str]
    source_suffixes: tuple[str, ...]
    species_terms: dict[str, str]
    strain_terms: dict[str, dict[str, str]]
    model_types: list[tuple[str, tuple[str, ...]]]
    source_grammar: SourceGrammar | None = None
    # (code, whole-word pattern) in priority order; built from model_types and inductions.
    model_patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()
    induction_patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()
    induction_order: tuple[str, ...] = ()
    # species code -> strain key (casefolded, no spaces, hyphens or slashes) -> strain
    strain_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    # species code -> (label, plural): "Rat", "rats"
    species_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    species_descriptors: re.Pattern[str] | None = None
    # The short term lists of the quality blocks (ev_isolation, routes, dose_units) as
    # written: exosynth.quality_terms reads them (issue 22).
    short_lists: dict[str, dict] = field(default_factory=dict)
    # Distinct model texts are classified once: a corpus repeats a few hundred of them.
    _model_classes: dict[str, ModelClass] = field(default_factory=dict, repr=False)
    _species_regex: re.Pattern[str] | None = field(default=None, repr=False)
    _species_lookup: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mapping(cls, raw: dict) -> Vocabulary:
        species_terms: dict[str, str] = {}
        strain_terms: dict[str, dict[str, str]] = {}
        strain_keys: dict[str, dict[str, str]] = {}
        for code, entry in raw["species"].items():
            for term in [code.replace("_", " "), *entry["terms"]]:
                claim(species_terms, fold(term), code, "species")
            strains: dict[str, str] = {}
            keys: dict[str, str] = {}
            for strain, words in entry.get("strains", {}).items():
                for word in [strain, *words]:
                    claim(strains, fold(word), strain, f"species.{code}.strains")
                    claim(keys, _strain_key(word), strain, f"species.{code}.strains")
            strain_terms[code] = strains
            strain_keys[code] = keys
        grammar = SourceGrammar.from_mapping(raw["sources"], raw.get("source_grammar", {}))
        unknown_donors = sorted(set(grammar.donor_codes()) - set(raw["species"]))
        if unknown_donors:
            raise ValueError(
                "config/vocabulary.yaml source_grammar.donors: "
                f"{', '.join(unknown_donors)} not listed under species"
            )
        return cls(
            source_terms=grammar.spellings,
            source_suffixes=(),
            species_terms=species_terms,
            strain_terms=strain_terms,
            strain_keys=strain_keys,
            model_types=[
                (m["code"], tuple(fold(k) for k in m["keywords"])) for m in raw["model_types"]
            ],
            source_grammar=grammar,
            model_patterns=tuple(
                (m["code"], _keyword_pattern(m["keywords"]))
                for m in raw["model_types"]
                if m["keywords"]
            ),
            induction_patterns=tuple(
                (i["code"], _keyword_pattern(i["keywords"])) for i in raw.get("inductions", [])
            ),
            induction_order=tuple(i["code"] for i in raw.get("inductions", [])),
            species_names={
                code: (
                    entry.get("label", code.replace("_", " ").capitalize()),
                    entry.get("plural", code.replace("_", " ") + "s"),
                )
                for code, entry in raw["species"].items()
            },
            species_descriptors=_words_pattern(raw.get("species_descriptors", [])),
            short_lists={
                name: raw.get(name, {}) for name in ("ev_isolation", "routes", "dose_units")
            },
        )

    # -- sources -----------------------------------------------------------------
    def match_source(self, term: str) -> SourceMatch | UnknownTerm:
        """The MSC source a spelling names, parsed by the grammar of ``source_grammar``.

        ``"human bone marrow"`` -> bone_marrow from a human donor; ``"ADSC"`` -> adipose;
        ``"hUC-MSC-Exos"`` -> umbilical_cord, human. A spelling the grammar cannot parse is
        an :class:`UnknownTerm` whose suggestions are tissues close to the part of the
        spelling left once donor, cell and product words are set aside.
        """
        assert self.source_grammar is not None
        return self.source_grammar.match(term)

    def find_source(self, text: str) -> SourceMatch | None:
        """The one MSC source a free text (a trial title, an intervention) names, or None.

        ``"Exosomes Derived From Bone Marrow Mesenchymal Stem Cells in COVID-19"`` ->
        bone_marrow. Only whole words count ("AD" in "ADVANCED" is not adipose, "BM" in
        "BMI" is not bone marrow), and a tissue counts only with a cell or product word
        after it ("bone marrow failure" names no source). None when the text names no
        tissue, and None too when it names several different tissues ("Placental Derived
        Exosomes and Umbilical Cord Mesenchymal Stem Cells"): :meth:`find_sources` lists
        them.
        """
        found = self.find_sources(text)
        return found[0] if len(found) == 1 else None

    def find_sources(self, text: str) -> tuple[SourceMatch, ...]:
        """Every distinct MSC source a free text names, in the order of first mention.

        One entry per source: its donor is the donor every mention of it names, else None.
        """
        assert self.source_grammar is not None
        return self.source_grammar.find(text)

    # -- species -----------------------------------------------------------------
    def match_species(self, term: str) -> SpeciesMatch | UnknownTerm:
        """``"SD rats"`` -> rat, Sprague-Dawley; ``"Nude mice"`` -> mouse, nude.

        Read as families of spellings, not one by one: sex, age and life-stage words are
        dropped wherever they stand (``species_descriptors``: ``"6-8 weeks old female
        C57BL/6 J mice"``, ``"Wistar rats/male"``, ``"SD rats (male)"``); a slash next to a
        species or descriptor word, parentheses and commas separate words (a slash inside a
        strain, BALB/c, FVB/N, stays); the strain may stand before or after the species word
        (``"mice (C57BL/6)"``); case, hyphens and slashes do not matter in a strain
        (``"BALB-c"``, ``"balbc"``). A strain the vocabulary does not list, in a species it
        knows, is kept as written (``"FVB/N mice"`` -> mouse, FVB/N), unless it is a letter
        away from a listed one with the same numbers: then it is a likely typo, and the
        message names the strain meant (``"Wister rats"``: did you mean "wistar rats").
        """
        text = self._species_words(term)
        pattern, lookup = self._species_index()
        found = [
            (m.start(), m.end(), lookup[_species_key(m.group())]) for m in pattern.finditer(text)
        ]
        codes = sorted({code for _, _, code in found})
        if not codes:
            folded = fold(text)
            close = closest(folded, self.species_terms) or self._closest_word(folded)
            return UnknownTerm(term, close)
        if len(codes) > 1:
            return UnknownTerm(
                term,
                (),
                f"names several species ({', '.join(codes)}): give each its own in_vivo entry",
            )
        species = codes[0]
        rest = text
        for start, end, _ in reversed(found):
            rest = rest[:start] + " " + rest[end:]
        rest = _trim(rest)
        if not rest:
            return SpeciesMatch(species, None)
        strains = self.strain_keys.get(species, {})
        key = _strain_key(rest)
        if key in strains:
            return SpeciesMatch(species, strains[key])
        word = fold(text[found[-1][0] : found[-1][1]])
        typos = _near_strains(key, strains)
        if typos:
            return UnknownTerm(term, tuple(f"{fold(s)} {word}" for s in typos))
        return SpeciesMatch(species, rest)

    def _species_words(self, term: str) -> str:
        """The term, case kept, with descriptors and ages dropped and separators made spaces:
        ``"FVB/N mice/male"`` -> ``"FVB/N mice"``, ``"Male SD rats (8 weeks)"`` -> ``"SD rats"``.
        """
        text = re.sub(f"[{DASHES[1:]}]", "-", term.replace("\u2019", "'"))
        text = re.sub(r"[(),;:\[\]]", " ", text)
        text = " ".join(self._split_slashes(token) for token in _SPACE.split(text) if token)
        text = _AGE.sub(" ", text)
        if self.species_descriptors:
            text = self.species_descriptors.sub(" ", text)
        return _trim(text)

    def _split_slashes(self, token: str) -> str:
        """A slash next to a species or descriptor word is a separator ("mice/male",
        "male/SD"); inside a strain it is kept ("BALB/c", "FVB/N", "db/db")."""
        if "/" not in token:
            return token
        _, lookup = self._species_index()
        parts = token.split("/")
        joined = parts[0]
        for left, right in itertools.pairwise(parts):
            loose = any(
                _species_key(p) in lookup
                or (self.species_descriptors is not None and self.species_descriptors.fullmatch(p))
                for p in (left, right)
            )
            joined += (" " if loose else "/") + right
        return joined

    def _species_index(self) -> tuple[re.Pattern[str], dict[str, str]]:
        """Every species term as one whole-word pattern (longest first, so "guinea pigs" is
        found before "pigs"; a hyphen or a space between words), and term -> species code."""
        if self._species_regex is None:
            terms = sorted(self.species_terms, key=lambda t: (-len(t), t))
            body = "|".join("[ -]".join(re.escape(w) for w in re.split("[ -]", t)) for t in terms)
            self._species_regex = re.compile(rf"(?<![\w/])(?:{body})(?![\w/])", re.IGNORECASE)
            self._species_lookup = {_species_key(t): c for t, c in self.species_terms.items()}
        return self._species_regex, self._species_lookup

    def _closest_word(self, folded: str) -> tuple[str, ...]:
        """The closest species terms to any one word of a longer text ("FVB/N mic")."""
        for word in folded.split(" "):
            close = closest(word, self.species_terms)
            if close:
                return close
        return ()

    def species_label(self, species: str, strain: str | None) -> str:
        """How tables print an animal model's species, in the review's style: the common
        name in the singular ("Rat", "Mouse"), or after a strain in the plural ("Nude mice",
        "Sprague-Dawley rats", "C57BL/6 mice"); a strain that names the animal stands alone
        ("Minipigs")."""
        label, plural = self.species_names.get(
            species, (species.replace("_", " ").capitalize(), species.replace("_", " ") + "s")
        )
        if not strain:
            return label
        last = fold(strain).split(" ")[-1]
        if any(last.endswith(word) for word, code in self.species_terms.items() if code == species):
            return _capitalized(strain if strain.endswith("s") else strain + "s")
        return _capitalized(f"{strain} {plural}")

    # -- model types -------------------------------------------------------------
    def model_type_codes(self) -> set[str]:
        """The model type codes of the vocabulary (``unclassified`` is not one of them)."""
        return {code for code, _ in self.model_types}

    def induction_codes(self) -> set[str]:
        return set(self.induction_order)

    def classify_model(self, text: str) -> ModelClass:
        """The model type and induction of an animal model's text.

        ``"Transient MCAO"`` -> disease_model, surgical; ``"E. coli (5x10^9 CFUs), IT"`` ->
        disease_model, infection; ``"Calvarial defect"`` -> bone_defect, no induction. The
        type is the first of ``model_types`` (in their order) with a keyword in the text,
        except that a named induction makes it disease_model unless a type listed before
        disease_model matched; ``unclassified`` when nothing matches.
        """
        known = self._model_classes.get(text)
        if known is None:
            folded = fold_model(text)
            induction = next(
                (code for code, pattern in self.induction_patterns if pattern.search(folded)),
                None,
            )
            model_type = next(
                (
                    code
                    for code, pattern in self.model_patterns
                    if (code == DISEASE_MODEL and induction is not None) or pattern.search(folded)
                ),
                UNCLASSIFIED,
            )
            known = self._model_classes[text] = ModelClass(model_type, induction)
        return known


# Ages written beside a species: "6-week-old", "6-8 weeks old", "8 weeks of age", "aged 8 weeks";
# body weights: "250 g", "200-250 g".
_AGE = re.compile(
    r"(?<![\w/])(?:aged\s+)?\d+(?:\.\d+)?(?:\s*(?:-|to)\s*\d+(?:\.\d+)?)?[\s-]*"
    r"(?:weeks?|wks?|days?|months?|mo|years?|yrs?|d|w)\b(?:[\s-]*(?:old|of\s+age))?"
    r"|(?<![\w/])\d+(?:\.\d+)?(?:\s*(?:-|to)\s*\d+(?:\.\d+)?)?\s*(?:g|kg|grams?)\b",
    re.IGNORECASE,
)


def _species_key(text: str) -> str:
    """A species term as it is looked up: folded, a hyphen read as a space."""
    return fold(text.replace("-", " "))


def _strain_key(text: str) -> str:
    """A strain without case, spaces, hyphens, dots or slashes: "BALB/c", "Balb-c" -> "balbc"."""
    return re.sub(r"[\s\-/.]+", "", fold(text))


_DIGITS = re.compile(r"\d+")


def _near_strains(key: str, strains: dict[str, str]) -> list[str]:
    """The listed strains a written strain is a likely typo of: one letter added, dropped,
    changed or two swapped (Wister, Wistr; two in a name of ten letters or more, "sprauge
    dawly"), with the same numbers (C57BL/10 is its own strain, not a typo of C57BL/6).
    A longer name is another strain, not a typo: Wistar Han, BALB/cByJ, Lewis/SsN."""
    near: dict[str, int] = {}
    for known, strain in strains.items():
        if _DIGITS.findall(known) != _DIGITS.findall(key) or min(len(known), len(key)) < 4:
            continue
        edits = _edits(key, known)
        allowed = 2 if min(len(known), len(key)) >= 10 else 1
        if 0 < edits <= allowed and edits < near.get(strain, allowed + 1):
            near[strain] = edits
    return sorted(near, key=lambda s: (near[s], s))[:3]


def _edits(a: str, b: str) -> int:
    """Letters added, dropped, changed or swapped with their neighbour to turn a into b."""
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1]


def _trim(text: str) -> str:
    """Separators off both ends, but a knockout's "-/-" stays ("ApoE-/-")."""
    text = _SPACE.sub(" ", text).strip(" ,;.")
    knockout = text.endswith(("-/-", "\u2212/\u2212"))
    text = text.lstrip(" ,;-/") if knockout else text.strip(" ,;-/")
    return text.strip(" ,;.")


def _words_pattern(words: list[str]) -> re.Pattern[str] | None:
    """Whole words or phrases, separated by spaces or hyphens, as one pattern."""
    if not words:
        return None
    phrases = sorted({fold(w) for w in words}, key=lambda w: (-len(w), w))
    body = "|".join("[ -]".join(re.escape(p) for p in re.split("[ -]", w)) for w in phrases)
    return re.compile(rf"(?<![\w/])(?:{body})(?![\w/])", re.IGNORECASE)


def _capitalized(text: str) -> str:
    """The first letter upper case, the rest as written (BALB/c stays BALB/c)."""
    return text[:1].upper() + text[1:]


# -- model texts --------------------------------------------------------------------
_NOT_WORD = re.compile(r"[^a-z0-9*]+")


def fold_model(text: str) -> str:
    """The form model texts and keywords are compared in: lower case, every run of other
    characters one space, "-/-" (a knockout) the word "knockout"."""
    text = text.casefold().replace("-/-", " knockout ").replace("\u2212/\u2212", " knockout ")
    return " " + _NOT_WORD.sub(" ", text).strip() + " "


def _keyword_pattern(keywords: list[str]) -> re.Pattern[str]:
    """One whole-word pattern for keywords; the last word may be plural, "*" is a wildcard
    at a word's start or end ("*itis", "infect*")."""
    parts = []
    for keyword in sorted({fold_model(k).strip() for k in keywords}, key=lambda k: (-len(k), k)):
        words = keyword.split(" ")
        *head, last = words
        if last.startswith("*"):
            last_pattern = "[a-z0-9]*" + re.escape(last[1:]) + "(?:e?s)?"
        elif last.endswith("*"):
            last_pattern = re.escape(last[:-1]) + "[a-z0-9]*"
        elif last.endswith("y") and len(last) > 2:
            last_pattern = re.escape(last[:-1]) + "(?:y|ies)"
        else:
            last_pattern = re.escape(last) + "(?:e?s)?"
        parts.append(" ".join([*(re.escape(w) for w in head), last_pattern]))
    return re.compile(r"(?<=[ ])(?:" + "|".join(parts) + r")(?=[ ])")
