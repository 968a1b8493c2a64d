"""The grammar of MSC source spellings: a source field parsed, sources found in running text.

``[modifier] [descriptor] [donor] tissue [cell word] [derived | product | modifier ...]``,
built from ``sources`` and ``source_grammar`` of ``config/vocabulary.yaml``; a spelling it
cannot parse is an :class:`~exosynth.terms.UnknownTerm` whose suggestions are the closest
tissues. :class:`exosynth.vocabulary.Vocabulary` holds one and answers through it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from exosynth.terms import UnknownTerm, claim


@dataclass(frozen=True, slots=True)
class SourceMatch:
    source: str
    donor_species: str | None


# Source spellings are folded to lower case with every run of separators made one character:
# "-" where the run holds only hyphens or dashes ("BMMSC\u2013EVs" -> "bmmsc-evs"), " " otherwise
# ("stem/stromal" -> "stem stromal"). Apostrophes go ("Wharton's" -> "whartons").
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_SEPARATOR_RUN = re.compile(rf"[\s{re.escape(DASHES)}_/,;:()\[\]]+")
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
        return "-" if all(c in DASHES for c in run.group()) else " "

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
                claim(tissues, _key(spelling), code, "sources")
                claim(spellings, fold_source(spelling), code, "sources")
            words += full
            for abbreviation in entry.get("abbreviations", []):
                claim(tissues, _key(abbreviation), code, "sources")
                claim(spellings, fold_source(abbreviation), code, "sources")
                (letters if len(_key(abbreviation)) == 1 else abbreviations).append(abbreviation)
            for spelling in entry.get("cell_abbreviations", []):
                claim(tissues, _key(spelling), code, "sources")
                claim(spellings, fold_source(spelling), code, "sources")
                cell_abbreviations.append(spelling)
            for spelling in entry.get("terms", []):
                claim(tissues, _key(spelling), code, "sources")
                claim(spellings, fold_source(spelling), code, "sources")
                terms.append(spelling)
        donors: dict[str, str] = {}
        donor_words: list[str] = []
        donor_prefixes: list[str] = []
        for code, entry in grammar.get("donors", {}).items():
            for word in entry.get("words", []):
                claim(donors, _key(word), code, "source_grammar.donors")
                donor_words.append(word)
            for prefix in entry.get("prefixes", []):
                claim(donors, _key(prefix), code, "source_grammar.donors")
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
