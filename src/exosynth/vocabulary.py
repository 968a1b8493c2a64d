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

    @classmethod
    def from_mapping(cls, raw: dict) -> Vocabulary:
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
            model_types=[
                (m["code"], tuple(fold(k) for k in m["keywords"])) for m in raw["model_types"]
            ],
            source_grammar=grammar,
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


def fold_source(term: str) -> str:
    """The form source spellings are parsed in (see the comment above)."""
    text = _APOSTROPHES.sub("", term.casefold()).strip().rstrip(".")

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
            rf"|(?P<tissue_letter>{_alternation(letters)})(?={_LETTER_CELL})"
            rf"|(?P<tissue_cell>{_alternation(cell_abbreviations)})s?)"
            if cell_abbreviations
            else rf"(?:(?P<tissue_word>{_alternation(words)})"
            rf"|(?P<tissue_abbreviation>{_alternation(abbreviations)})"
            rf"|(?P<tissue_letter>{_alternation(letters)})(?={_LETTER_CELL}))"
        )
        # After the tissue: cell words, products, "derived", modifiers, in any order
        # ("BMSC-derived exosomes", "iPSC-MSC-EVs", "ADSC-Exos-miR-126+").
        # In running text only cell and product words follow ("failure treated" is prose).
        tail = rf"(?P<tail>(?:{_SEP}(?:{cell}|{product}))*)"
        core = rf"{descriptor}{donor}{descriptor}{prefix}{tissue}"
        line_tail = rf"(?:(?:{_SEP}(?:{cell}|{product}|{modifier}))|{_WORD_SEP}{_LINE})*"
        whole = re.compile(
            rf"^(?:{modifier}{_SEP})*{core}(?P<tail>{line_tail})$"
            + (f"|^(?P<term>{_alternation(terms)})$" if terms else "")
        )
        inside = re.compile(rf"(?<![a-z0-9]){core}{tail}(?![a-z0-9+\u00b1])")
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
        donor = found["donor_word"] or found["donor_prefix"]
        return SourceMatch(self.tissues[_key(tissue)], self.donors[_key(donor)] if donor else None)

    def match(self, term: str) -> SourceMatch | UnknownTerm:
        folded = fold_source(term)
        found = self.whole.match(folded)
        if found:
            return self._parsed(found)
        return self._unknown(term, folded)

    def find(self, text: str) -> tuple[SourceMatch, ...]:
        folded = fold_source(text)
        found: dict[str, set[str | None]] = {}
        for mention in self.inside.finditer(folded):
            if not mention["tail"].strip(" -") and not mention["tissue_cell"]:
                continue  # "bone marrow failure", "UC" alone: a tissue, not a source
            abbreviation = mention["tissue_abbreviation"]
            if abbreviation and folded[mention.end("tissue_abbreviation") :].startswith(" "):
                # "at MSC", "AD mice and MSC": in running text an abbreviation counts only
                # written onto what follows (AD-MSC, ADSC), never across a space.
                continue
            match = self._parsed(mention)
            found.setdefault(match.source, set()).add(match.donor_species)
        return tuple(
            SourceMatch(source, donors.pop() if len(donors) == 1 else None)
            for source, donors in found.items()
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


def _claim(table: dict[str, str], term: str, code: str, where: str) -> None:
    if table.get(term, code) != code:
        raise ValueError(
            f"config/vocabulary.yaml {where}: term {term!r} is listed for both "
            f"{table[term]!r} and {code!r}"
        )
    table[term] = code


def _closest(folded: str, known: dict[str, str]) -> tuple[str, ...]:
    return tuple(difflib.get_close_matches(folded, list(known), n=3, cutoff=0.4))
