"""A vocabulary's terms: each claimed by one code; an unknown one, with the closest known ones.

Shared by the vocabulary tables (vocabulary.py) and the source grammar (source_grammar.py).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


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


def claim(table: dict[str, str], term: str, code: str, where: str) -> None:
    """Put ``term`` -> ``code`` into ``table``; a term already claimed by another code is a
    ValueError naming ``where`` in config/vocabulary.yaml."""
    if table.get(term, code) != code:
        raise ValueError(
            f"config/vocabulary.yaml {where}: term {term!r} is listed for both "
            f"{table[term]!r} and {code!r}"
        )
    table[term] = code


def closest(folded: str, known: dict[str, str]) -> tuple[str, ...]:
    """Up to three known terms close to ``folded`` (difflib, cutoff 0.4), closest first."""
    return tuple(difflib.get_close_matches(folded, list(known), n=3, cutoff=0.4))
