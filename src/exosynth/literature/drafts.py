"""Draft records: one YAML file per imported reference, in the inbox, for the author to finish.

A draft is a study record (the input contract of DESIGN) with what the reference file gave
filled in (first author, year, title, DOI, PMID; authors, journal and abstract in its
``draft`` block), every other field present and marked ``# TODO``, and a ``screening`` block
for the decision. The MSC source is guessed from title and abstract with the source grammar
of the vocabulary, and the draft says so (``draft.source_guessed``); with no tissue named, or
several, it stays empty. A quantitative export (SyRF) fills ``outcomes``.

The text is made here (deterministic: the same reference gives the same bytes); writing it
is :func:`write_new`, which never overwrites a file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from exosynth.literature.references import CONFLICT, EXCLUDE, INCLUDE, Reference, fold_text
from exosynth.vocabulary import Vocabulary

# Top-level fields the author fills, with the words of the TODO comment.
TODO = {
    "source": "MSC tissue source as the paper writes it (bone marrow, ADSC, hUC-MSC, ...)",
    "condition": "disease or condition studied, as the table shows it",
    "in_vitro": "true / false: in vitro experiments reported (null: not reported)",
    "in_vivo": "animal models: [{model: ..., species: ...}], [] when none",
    "clinical": "{patients: N} for use in people, null when none",
    "results": "main result, as the table shows it",
}


@dataclass(frozen=True)
class Draft:
    id: str
    reference: Reference
    text: str


def slug(text: str) -> str:
    """``Jahanian-Najafabadi`` -> ``jahanian-najafabadi``; ``Müller`` -> ``muller``."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    words = re.findall(r"[a-z0-9]+", plain)
    text = "-".join(words)
    return text if text[:1].isalpha() else f"ref-{text}" if text else ""


def draft_id(reference: Reference, taken: set[str]) -> str:
    """``shahtalebi-2018``, then ``shahtalebi-2018b``, ``...c`` when taken; an identifier
    when author or year is missing (``pmid-16644224``, ``doi-10-1016-j-knee``)."""
    if reference.first_author and reference.year:
        base = f"{slug(reference.first_author)[:40]}-{reference.year}"
    elif reference.pmid:
        base = f"pmid-{reference.pmid}"
    elif reference.doi:
        base = f"doi-{slug(reference.doi)[:50]}"
    elif reference.first_author:
        base = f"{slug(reference.first_author)[:40]}-nd"
    else:
        base = f"ref-{slug(reference.title or reference.key or str(reference.record))[:40]}"
    base = base.strip("-") or "ref"
    if base not in taken:
        return base
    for suffix in "bcdefghijklmnopqrstuvwxyz":
        if base + suffix not in taken:
            return base + suffix
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def guess_source(reference: Reference, vocabulary: Vocabulary) -> tuple[str | None, list[str]]:
    """The source label when title and abstract name exactly one MSC source; the codes of
    every source they name."""
    text = " ".join(t for t in (reference.title, reference.abstract) if t)
    if not text or vocabulary.source_grammar is None:
        return None, []
    found = vocabulary.find_sources(text)
    codes = [m.source for m in found]
    if len(found) != 1:
        return None, codes
    return vocabulary.source_grammar.labels.get(found[0].source, found[0].source), codes


def match_reason(reasons: Iterable[str], configured: dict[str, str]) -> str | None:
    """The configured reason key a file's reason names (by key or label, folded), else None."""
    by_word = {fold_text(k): k for k in configured} | {
        fold_text(v): k for v, k in ((v, k) for k, v in configured.items())
    }
    for reason in reasons:
        key = by_word.get(fold_text(reason))
        if key:
            return key
    return None


def draft_document(
    reference: Reference,
    draft_id_: str,
    vocabulary: Vocabulary,
    reasons: dict[str, str],
    outcomes: list[dict] | None = None,
) -> dict:
    """The draft as a mapping, keys in the order the author reads them."""
    stated = reference.source
    guessed, named = (None, []) if stated else guess_source(reference, vocabulary)
    decision = reference.decision if reference.decision in (INCLUDE, EXCLUDE) else None
    screening: dict[str, object] = {
        "decision": decision,
        "reason": match_reason(reference.reasons, reasons) if decision == EXCLUDE else None,
        "stage": "title_abstract",
    }
    if reference.reasons:
        screening["reasons_in_file"] = list(reference.reasons)
    if reference.reviewers:
        screening["reviewers"] = dict(reference.reviewers)
    if reference.decision == CONFLICT:
        screening["note"] = "the reviewers in the file disagree: decide"
    origin: dict[str, object] = {
        "file": Path(reference.file).name,
        "record": reference.record,
        "format": reference.format,
    }
    if reference.line:
        origin["line"] = reference.line
    for name in ("database", "key"):
        value = getattr(reference, name)
        if value:
            origin[name] = value
    draft: dict[str, object] = {
        "imported_from": origin,
        "authors": list(reference.authors),
        "journal": reference.journal,
        "abstract": reference.abstract,
    }
    if guessed:
        draft["source_guessed"] = True
        draft["source_guessed_from"] = "title and abstract, by the source grammar"
    elif len(named) > 1:
        draft["sources_named"] = named
    if reference.identifiers:
        draft["identifiers"] = dict(reversed(reference.identifiers))
    document: dict[str, object] = {
        "id": draft_id_,
        "source": stated or guessed,
        "citation": {
            "first_author": reference.first_author,
            "year": reference.year,
            "doi": reference.doi,
            "pmid": reference.pmid,
            "title": reference.title,
        },
        "condition": None,
        "in_vitro": None,
        "in_vivo": None,
        "clinical": None,
        "results": None,
    }
    if outcomes:
        document["outcomes"] = outcomes
    document["screening"] = screening
    document["draft"] = draft
    return document


_HEADER = """\
# Draft record written by `exosynth import`: not in any table until it is complete and
# moved into raw/<source>/ (`exosynth check FILE` says what is still missing).
# Screening: set screening.decision to include or exclude; an exclusion names a reason
# from config/config.yaml literature.exclusion_reasons. Fields marked TODO are yours to fill.
"""


def render(document: dict) -> str:
    """The draft as YAML text with a header and a TODO comment on each field to fill."""
    text = yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    out: list[str] = []
    for line in text.split("\n"):
        name = line.split(":", 1)[0]
        todo = name in TODO and not line.startswith(" ")
        out.append(f"{line}  # TODO: {TODO[name]}" if todo else line)
    return _HEADER + "\n".join(out)


def write_new(path: Path, text: str) -> bool:
    """Write a file that does not exist yet; False (nothing written) when it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        return False
    return True
