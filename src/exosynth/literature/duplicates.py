"""Duplicate references: the same work twice in the imported files, or already in ``raw/``.

Two references are the same work when they share a DOI, a PMID, or the same normalized title,
year and first author's surname (title folded by :func:`~exosynth.literature.references.
fold_text`: accents, case, punctuation and a trailing ``[Chinese]`` note gone). Keys are
exact after folding, so a merge needs an identical identifier or an identical folded title
with the same year and first author: on the stroke benchmark of bib-dedupe this merges no
two different works (docs/literature.md gives the numbers). Groups are the connected
components over shared keys (union-find), so A=B by DOI and B=C by title join all three.
The first reference of a group (in the order the files were given, then record order) is
kept; its empty fields are filled from the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

from exosynth.literature.references import CONFLICT, Reference, fold_text, surname

# A main title shorter than this (folded, in characters) is too generic to match on alone.
MAIN_TITLE_MIN = 40


@dataclass(frozen=True)
class Known:
    """A work already present: a study record or a draft in ``raw/``."""

    file: str
    doi: str | None = None
    pmid: str | None = None
    title: str | None = None
    year: int | None = None
    first_author: str | None = None


@dataclass(frozen=True)
class Duplicate:
    """A reference not written, and why: the work it repeats and the key they share."""

    reference: Reference
    of: str  # the file (raw/...) or the reference (file record N) it repeats
    by: str  # doi | pmid | title


def _author_key(first_author: str | None) -> str:
    """The last word of the surname: "van Kessel" and "Kessel", "De Joode" and "Joode" agree;
    "Smith J" (initials after) is Smith."""
    return fold_text(surname(first_author or "")).rpartition(" ")[2]


def keys(
    doi: str | None,
    pmid: str | None,
    title: str | None,
    year: int | None,
    first_author: str | None,
) -> list[tuple[str, str]]:
    """The match keys of a work: (kind, value)."""
    found: list[tuple[str, str]] = []
    if doi:
        found.append(("doi", doi.casefold()))
    if pmid:
        found.append(("pmid", pmid))
    folded = fold_text(title)
    author = _author_key(first_author)
    if len(folded) >= 10 and year and author:
        found.append(("title", f"{folded}|{year}|{author}"))
    return found


_MINOR_WORDS = frozenset({"of", "the", "and", "for", "in", "on", "de", "la", "und", "der"})


def same_journal(a: Reference, b: Reference) -> bool:
    """Whether two journal names may be one journal: true when either is missing, or when a
    word of one starts a word of the other ("J Neurol" and "Journal of Neurology"); false
    for "Stroke" and "Canadian Journal of Neurological Sciences" (an abstract and the paper
    that followed it can share title, year and authors)."""
    words_a = set(fold_text(a.journal).split()) - _MINOR_WORDS
    words_b = set(fold_text(b.journal).split()) - _MINOR_WORDS
    if not words_a or not words_b:
        return True
    return any(x.startswith(y) or y.startswith(x) for x in words_a for y in words_b)


def main_title_key(reference: Reference) -> tuple[str, str] | None:
    """The key a title with a subtitle seeks: its main title, year and first author. It
    matches a reference whose whole title is that main title (a subtitle one database drops:
    "...: a retrospective study"), never another subtitle of the same main title."""
    title, year = reference.title or "", reference.year
    author = _author_key(reference.first_author)
    main = fold_text(re.split(r"[:?]\s", title, maxsplit=1)[0])
    if not (year and author) or len(main) < MAIN_TITLE_MIN or main == fold_text(title):
        return None
    return ("title", f"{main}|{year}|{author}")


def reference_keys(reference: Reference) -> list[tuple[str, str]]:
    return keys(
        reference.doi, reference.pmid, reference.title, reference.year, reference.first_author
    )


class _Groups:
    """Union-find over indices."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_references(references: list[Reference]) -> list[list[int]]:
    """Groups of indices of the same work (singletons included), each in input order."""
    groups = _Groups(len(references))
    first_with: dict[tuple[str, str], int] = {}
    for index, reference in enumerate(references):
        for key in reference_keys(reference):
            if key not in first_with:
                first_with[key] = index
            elif key[0] != "title" or same_journal(references[first_with[key]], reference):
                groups.join(first_with[key], index)
    for index, reference in enumerate(references):
        seek = main_title_key(reference)
        if (
            seek is not None
            and seek in first_with
            and same_journal(references[first_with[seek]], reference)
        ):
            groups.join(first_with[seek], index)
    found: dict[int, list[int]] = {}
    for index in range(len(references)):
        found.setdefault(groups.find(index), []).append(index)
    return list(found.values())


def _filled(kept: Reference, others: list[Reference]) -> Reference:
    """The kept reference with its empty fields taken from its duplicates; ``conflict`` when
    they carry different screening decisions."""
    changes: dict[str, object] = {}
    decisions = {r.decision for r in (kept, *others) if r.decision}
    if len(decisions) > 1:
        changes["decision"] = CONFLICT
    for other in others:
        for item in fields(Reference):
            name = item.name
            if name in {"file", "record", "line", "format", "extra"}:
                continue
            if getattr(kept, name) in (None, ()) and name not in changes:
                value = getattr(other, name)
                if value not in (None, ()):
                    changes[name] = value
    return replace(kept, **changes) if changes else kept


def deduplicate(
    references: list[Reference], known: list[Known]
) -> tuple[list[Reference], list[Duplicate]]:
    """The references to write (one per work, none already known) and the duplicates."""
    known_by: dict[tuple[str, str], str] = {}
    for work in known:
        for key in keys(work.doi, work.pmid, work.title, work.year, work.first_author):
            known_by.setdefault(key, work.file)
    kept: list[Reference] = []
    duplicates: list[Duplicate] = []
    for group in group_references(references):
        members = [references[i] for i in group]
        first, rest = members[0], members[1:]
        shared = next(
            (
                (kind, known_by[(kind, v)])
                for m in members
                for kind, v in [*reference_keys(m), main_title_key(m) or ("", "")]
                if (kind, v) in known_by
            ),
            None,
        )
        if shared is not None:
            kind, file = shared
            duplicates += [Duplicate(m, file, kind) for m in members]
            continue
        kept.append(_filled(first, rest))
        first_keys = dict(reference_keys(first))
        for other in rest:
            kind = next(
                (k for k, v in reference_keys(other) if first_keys.get(k) == v),
                "title",  # joined through a third reference
            )
            duplicates.append(
                Duplicate(other, f"{Path(first.file).name} record {first.record}", kind)
            )
    return kept, duplicates


def score_pairs(predicted: list[list[str]], truth: list[list[str]]) -> dict[str, int]:
    """Pairs found, missed and falsely merged, of predicted groups against true groups."""

    def pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
        return {(a, b) for g in groups for i, a in enumerate(sorted(g)) for b in sorted(g)[i + 1 :]}

    found, true = pairs(predicted), pairs(truth)
    return {
        "true_pairs": len(true),
        "found": len(found & true),
        "missed": len(true - found),
        "false": len(found - true),
    }
