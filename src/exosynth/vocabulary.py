"""Controlled vocabularies: turn the words papers use into stable codes.

Lookups are done once per distinct term (a corpus of 100,000 papers uses a few
hundred spellings), and the results are joined back onto the records by polars.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass, field

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
class ModelClass:
    """What an animal model is: its type, and how it was induced where the text says so."""

    model_type: str  # a model type code, or "unclassified"
    induction: str | None  # an induction code, or None: the text does not say


UNCLASSIFIED = "unclassified"
DISEASE_MODEL = "disease_model"  # what a named induction makes a model, unless typed before


@dataclass(frozen=True, slots=True)
class UnknownTerm:
    """A term no vocabulary entry knows, with the closest known spellings."""

    term: str
    suggestions: tuple[str, ...]
    # Why the term cannot be placed, where that is more useful than a list of near spellings
    # ("names no tissue"); it leads the hint.
    reason: str | None = None

    @property
    def hint(self) -> str:
        if self.reason:
            return self.reason
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
                _claim(species_terms, fold(term), code, "species")
            strains: dict[str, str] = {}
            keys: dict[str, str] = {}
            for strain, words in entry.get("strains", {}).items():
                for word in [strain, *words]:
                    _claim(strains, fold(word), strain, f"species.{code}.strains")
                    _claim(keys, _strain_key(word), strain, f"species.{code}.strains")
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
            close = _closest(folded, self.species_terms) or self._closest_word(folded)
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
        text = re.sub(f"[{_DASHES[1:]}]", "-", term.replace("\u2019", "'"))
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
            close = _closest(word, self.species_terms)
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


# -- the source grammar -----------------------------------------------------------
# Source spellings are folded to lower case with every run of separators made one character:
# "-" where the run holds only hyphens or dashes ("BMMSC\u2013EVs" -> "bmmsc-evs"), " " otherwise
# ("stem/stromal" -> "stem stromal"). Apostrophes go ("Wharton's" -> "whartons").
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_SEPARATOR_RUN = re.compile(rf"[\s{re.escape(_DASHES)}_/,;:()\[\]]+")
_APOSTROPHES = re.compile("['\u2019\u2018`\u00b4]")
_SEP = "[ -]?"  # between two parts: nothing (BMSC), a hyphen (BM-MSC) or a space (BM MSC)
_WORD_SEP = "[ -]"  # after a full word: "human bm", "rat-bm"
# A miR name is a modifier: miR-126, miR-126+, miR-126±, miR-21-5p, miR-let-7d-5p.
_MIR = r"mir[ -]?(?:let[ -]?)?\d+[a-z]?(?:[ -]\d?[a-z])?[+\u00b1]?"
_LINE = r"[a-z]*\d[a-z0-9.]*"  # a cell line named between the parts: "ESC-derived HuES9.E1 MSCs"
_LETTER_CELL = "msc"  # what a one-letter abbreviation must be written onto: AMSC, hpMSC


def fold_source(term: str, *, keep_case: bool = False) -> str:
    """The form source spellings are parsed in (see the comment above); ``keep_case`` for
    running text, where the case of an abbreviation tells SHED from "shed"."""
    text = _APOSTROPHES.sub("", term if keep_case else term.casefold()).strip().rstrip(".")

    def one(run: re.Match[str]) -> str:
        return "-" if all(c in _DASHES for c in run.group()) else " "

    return _SEPARATOR_RUN.sub(one, text).strip(" -")


def _key(spelling: str) -> str:
    """A spelling without its separators: "bone-marrow", "bone marrow" -> "bonemarrow"."""
    return re.sub("[ -]", "", fold_source(spelling))


def _alternation(spellings: list[str], *, plural: bool = False) -> str:
    """A regex alternation of spellings, longest first, separators optional."""
    parts = sorted({fold_source(s) for s in spellings}, key=lambda s: (-len(s), s))
    body = "|".join(_SEP.join(re.escape(w) for w in re.split("[ -]", p)) for p in parts)
    return f"(?:{body})" + ("s?" if plural else "")


@dataclass
class SourceGrammar:
    """The grammar of MSC source spellings:

    ``[modifier] [descriptor] [donor] tissue [cell word] [derived | product | modifier ...]``

    built from ``sources`` and ``source_grammar`` of ``config/vocabulary.yaml``.
    """

    tissues: dict[str, str]  # separator-free spelling -> source code
    donors: dict[str, str]  # separator-free donor word or prefix -> species code
    spellings: dict[str, str]  # every folded spelling of a source, for suggestions
    labels: dict[str, str]  # source code -> label
    whole: re.Pattern[str]
    inside: re.Pattern[str]
    inside_after: re.Pattern[str]
    donor_words: frozenset[str]
    dropped_words: frozenset[str]  # cell, product, descriptor words: not the tissue
    endings: tuple[str, ...]  # cell words written onto a compact spelling: msc, mscs, sc, scs

    @classmethod
    def from_mapping(cls, sources: dict, grammar: dict) -> SourceGrammar:
        tissues: dict[str, str] = {}
        words: list[str] = []
        abbreviations: list[str] = []
        letters: list[str] = []
        cell_abbreviations: list[str] = []
        terms: list[str] = []
        spellings: dict[str, str] = {}
        for code, entry in sources.items():
            full = [entry["label"], *entry.get("tissue", [])]
            for spelling in full:
                _claim(tissues, _key(spelling), code, "sources")
                _claim(spellings, fold_source(spelling), code, "sources")
            words += full
            for abbreviation in entry.get("abbreviations", []):
                _claim(tissues, _key(abbreviation), code, "sources")
                _claim(spellings, fold_source(abbreviation), code, "sources")
                (letters if len(_key(abbreviation)) == 1 else abbreviations).append(abbreviation)
            for spelling in entry.get("cell_abbreviations", []):
                _claim(tissues, _key(spelling), code, "sources")
                _claim(spellings, fold_source(spelling), code, "sources")
                cell_abbreviations.append(spelling)
            for spelling in entry.get("terms", []):
                _claim(tissues, _key(spelling), code, "sources")
                _claim(spellings, fold_source(spelling), code, "sources")
                terms.append(spelling)
        donors: dict[str, str] = {}
        donor_words: list[str] = []
        donor_prefixes: list[str] = []
        for code, entry in grammar.get("donors", {}).items():
            for word in entry.get("words", []):
                _claim(donors, _key(word), code, "source_grammar.donors")
                donor_words.append(word)
            for prefix in entry.get("prefixes", []):
                _claim(donors, _key(prefix), code, "source_grammar.donors")
                donor_prefixes.append(prefix)
        cells = grammar.get("cells", [])
        products = grammar.get("products", [])
        modifier_words = grammar.get("modifiers", [])
        descriptors = grammar.get("descriptors", [])
        _refuse_ambiguous(sources, tissues, set(donors), [_key(c) for c in cells])

        cell = _alternation(cells, plural=True)
        product = _alternation(products, plural=True)
        modifier_word = _alternation(modifier_words) if modifier_words else "(?!)"
        modifier = rf"(?:{_MIR}|(?:[a-z0-9]+{_SEP})?{modifier_word})"
        descriptor = rf"(?:{_alternation(descriptors)}{_WORD_SEP})*" if descriptors else ""
        donor = (
            rf"(?:(?P<donor_word>{_alternation(donor_words)}){_WORD_SEP})?" if donor_words else ""
        )
        prefix = rf"(?:(?P<donor_prefix>{_alternation(donor_prefixes)})-?)?"
        tissue = (
            rf"(?:(?P<tissue_word>{_alternation(words)})"
            rf"|(?P<tissue_abbreviation>{_alternation(abbreviations)})"
            rf"|(?P<tissue_letter>{_alternation(letters)})(?={{onto}}{_LETTER_CELL})"
            rf"|(?P<tissue_cell>{_alternation(cell_abbreviations)})s?)"
            if cell_abbreviations
            else rf"(?:(?P<tissue_word>{_alternation(words)})"
            rf"|(?P<tissue_abbreviation>{_alternation(abbreviations)})"
            rf"|(?P<tissue_letter>{_alternation(letters)})(?={{onto}}{_LETTER_CELL}))"
        )
        # After the tissue: cell words, products, "derived", modifiers, in any order
        # ("BMSC-derived exosomes", "iPSC-MSC-EVs", "ADSC-Exos-miR-126+").
        # In running text only cell and product words follow ("failure treated" is prose).
        tail = rf"(?P<tail>(?:{_SEP}(?:{cell}|{product}))*)"
        core = rf"{descriptor}{donor}{descriptor}{prefix}{tissue}"
        # A one-letter tissue is written onto the cell word: in a source field a hyphen between
        # them does not matter (hP-MSC as hpMSC, A-MSC as AMSC), nor a space after a donor
        # prefix (hP MSC); in running text only the word itself counts ("a MSC" is English).
        loose = r"(?(donor_prefix)[ -]?|-?)"
        line_tail = rf"(?:(?:{_SEP}(?:{cell}|{product}|{modifier}))|{_WORD_SEP}{_LINE})*"
        whole = re.compile(
            rf"^(?:{modifier}{_SEP})*{core.replace('{onto}', loose)}(?P<tail>{line_tail})$"
            + (f"|^(?P<term>{_alternation(terms)})$" if terms else "")
        )
        inside = re.compile(
            rf"(?<![a-z0-9]){core.replace('{onto}', '')}{tail}(?![a-z0-9+\u00b1])", re.IGNORECASE
        )
        # Running text also names the tissue after the cells: "Mesenchymal Stem Cells Derived
        # From the Umbilical Cord", "exosomes from human adipose tissue" (full words only;
        # "umbilical cord blood" is cord blood, not the cord).
        inside_after = re.compile(
            rf"(?<![a-z0-9])(?:{cell}|{product})"
            rf"(?:[ -]+(?:derived|isolated|obtained|harvested|prepared|expanded))?"
            rf"[ -]+(?:from|of)[ -]+(?:the[ -]+)?{descriptor}{donor}{descriptor}"
            rf"(?P<tissue_word>(?>{_alternation(words)}))(?![ -]?blood)(?![a-z0-9])",
            re.IGNORECASE,
        )
        dropped = {
            w
            for group in (cells, products, descriptors, modifier_words)
            for spelling in group
            for w in re.split("[ -]", fold_source(spelling))
        }
        dropped |= {w + "s" for w in dropped}
        return cls(
            tissues=tissues,
            donors=donors,
            spellings=spellings,
            labels={code: entry["label"] for code, entry in sources.items()},
            whole=whole,
            inside=inside,
            inside_after=inside_after,
            donor_words=frozenset(fold_source(w) for w in donor_words),
            dropped_words=frozenset(dropped),
            endings=tuple(e for c in cells if " " not in fold_source(c) for e in (c, c + "s")),
        )

    def donor_codes(self) -> set[str]:
        return set(self.donors.values())

    def _parsed(self, found: re.Match[str]) -> SourceMatch:
        if found.groupdict().get("term"):
            return SourceMatch(self.tissues[_key(found["term"])], None)
        tissue = next(
            found[g]
            for g in ("tissue_word", "tissue_abbreviation", "tissue_letter", "tissue_cell")
            if found.groupdict().get(g)
        )
        donor = found.groupdict().get("donor_word") or found.groupdict().get("donor_prefix")
        return SourceMatch(self.tissues[_key(tissue)], self.donors[_key(donor)] if donor else None)

    def match(self, term: str) -> SourceMatch | UnknownTerm:
        folded = fold_source(term)
        found = self.whole.match(folded)
        if found:
            return self._parsed(found)
        return self._unknown(term, folded)

    def find(self, text: str) -> tuple[SourceMatch, ...]:
        folded = fold_source(text, keep_case=True)
        found: dict[str, set[str | None]] = {}
        for mention in self._mentions(folded):
            if mention.re is self.inside_after:
                match = self._parsed(mention)
                found.setdefault(match.source, set()).add(match.donor_species)
                continue
            if not mention["tail"].strip(" -") and not mention["tissue_cell"]:
                continue  # "bone marrow failure", "UC" alone: a tissue, not a source
            abbreviation = mention["tissue_abbreviation"]
            if abbreviation and folded[mention.end("tissue_abbreviation") :].startswith(" "):
                # "at MSC", "AD mice and MSC": in running text an abbreviation counts only
                # written onto what follows (AD-MSC, ADSC), never across a space.
                continue
            together = mention["tissue_cell"]
            if together and sum(c.isupper() for c in together) < 2:
                continue  # "exosomes shed by MSCs", "Shed" in a title: not SHED, ASC, iPSC
            match = self._parsed(mention)
            found.setdefault(match.source, set()).add(match.donor_species)
        return tuple(
            SourceMatch(source, donors.pop() if len(donors) == 1 else None)
            for source, donors in found.items()
        )

    def _mentions(self, folded: str) -> list[re.Match[str]]:
        """The mentions of a tissue in running text, in the order they are written."""
        both = [*self.inside.finditer(folded), *self.inside_after.finditer(folded)]
        return sorted(
            both, key=lambda m: m.start("tissue_word") if m.re is self.inside_after else m.start()
        )

    def _bare(self, word: str) -> str:
        """A compact word without its cell or product ending and its donor prefix:
        "hmsc" -> "", "hadxmsc" -> "adx"."""
        for ending in sorted(self.endings, key=len, reverse=True):
            if word.endswith(ending):
                word = word[: -len(ending)]
                break
        for prefix in sorted(self.donors, key=len, reverse=True):
            if len(prefix) <= 2 and word.startswith(prefix) and len(word) - len(prefix) != 1:
                return word[len(prefix) :]
        return word

    def _unknown(self, term: str, folded: str) -> UnknownTerm:
        """Suggestions by tissue: the closest tissues to what is left of the spelling once
        donor, descriptor, cell and product words are set aside, so "Human Adipos MSC" is
        compared as "adipos" (and "human" or "MSC" cannot pull another tissue first)."""
        core = [
            self._bare(w)
            for w in re.split("[ -]", folded)
            if w and w not in self.donor_words and w not in self.dropped_words
        ]
        core_text = " ".join(w for w in core if w)
        if not core_text:
            return UnknownTerm(
                term,
                (),
                "the source names no tissue: write the tissue the MSC came from, as the "
                'paper says (e.g. "bone marrow MSC", "ADSC", "hUC-MSC"); an MSC study '
                "without a tissue belongs to no table",
            )
        scores: dict[str, tuple[float, str]] = {}
        for spelling, code in self.spellings.items():
            if len(_key(spelling)) < 2 or (
                len(_key(spelling)) <= 4 and abs(len(_key(spelling)) - len(_key(core_text))) > 1
            ):
                continue  # one letter is close to everything; "ips" is not close to "adipos"
            score = max(
                difflib.SequenceMatcher(None, core_text, spelling).ratio(),
                difflib.SequenceMatcher(None, core_text.replace(" ", ""), _key(spelling)).ratio(),
            )
            if score > scores.get(code, (0.0, ""))[0]:
                scores[code] = (score, spelling)
        ranked = sorted(
            ((score, spelling) for score, spelling in scores.values() if score >= 0.6),
            key=lambda s: (-s[0], s[1]),
        )
        return UnknownTerm(term, tuple(spelling for _, spelling in ranked[:3]))


def _refuse_ambiguous(
    sources: dict, tissues: dict[str, str], prefixes: set[str], cells: list[str]
) -> None:
    """A compact spelling listed for one source must not also read as another source's
    abbreviation plus a cell word ("adsc" under bone marrow would also be AD + SC), nor as a
    donor prefix plus another source's abbreviation: the grammar could not tell which."""
    compact_cells = [c for c in cells if c] + [c + "s" for c in cells if c]
    for code, entry in sources.items():
        for spelling in [*entry.get("abbreviations", []), *entry.get("cell_abbreviations", [])]:
            key = _key(spelling)
            readings = [
                (key[: -len(cell)], f"{key[: -len(cell)]} + {cell}")
                for cell in compact_cells
                if key.endswith(cell) and len(key) > len(cell)
            ] + [
                (key[len(prefix) :], f"{prefix} + {key[len(prefix) :]}")
                for prefix in prefixes
                if key.startswith(prefix) and len(key) > len(prefix)
            ]
            for rest, reading in readings:
                other = tissues.get(rest)
                if other is not None and other != code and len(rest) > 1:
                    raise ValueError(
                        f"config/vocabulary.yaml sources: term {key!r} is listed for both "
                        f"{code!r} and {other!r} (read as {reading})"
                    )


def _claim(table: dict[str, str], term: str, code: str, where: str) -> None:
    if table.get(term, code) != code:
        raise ValueError(
            f"config/vocabulary.yaml {where}: term {term!r} is listed for both "
            f"{table[term]!r} and {code!r}"
        )
    table[term] = code


def _closest(folded: str, known: dict[str, str]) -> tuple[str, ...]:
    return tuple(difflib.get_close_matches(folded, list(known), n=3, cutoff=0.4))
