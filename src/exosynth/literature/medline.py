"""PubMed MEDLINE files (``.nbib``, PubMed's "Save as PubMed format" ``.txt``) into references.

A small reader of our own. The one PyPI package for the format, ``nbib`` (0.3.2, last
released March 2021), is unmaintained, keeps no line numbers and drops what it does not
know; the format itself is simple: a tag padded to four characters and ``- `` (``PMID- ``,
``TI  - ``), continuation lines indented by six spaces, records apart by a blank line.
Lines are split at ``\\n``/``\\r\\n`` only (abstracts contain U+2028). The DOI is taken from
``LID``/``AID`` values tagged ``[doi]``, never from ``[pii]``; the PMID from ``PMID``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from exosynth.literature.references import (
    Reference,
    clean,
    lines,
    normalize_doi,
    normalize_pmid,
    parse_year,
    problem,
    surname,
)
from exosynth.problems import WARNING, Problem

FORMAT = "medline"
_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- ?(.*)$")


def is_medline(text: str) -> bool:
    """A file whose first tagged line is ``PMID- ``."""
    for line in lines(text[:5000])[:50]:
        if line.strip():
            return line.startswith("PMID-")
    return False


def read_medline(text: str, file: str) -> tuple[list[Reference], list[Problem]]:
    """Every record of a MEDLINE text; a record without a PMID is a warning."""
    references: list[Reference] = []
    problems: list[Problem] = []
    for index, (start, tags) in enumerate(_records(lines(text)), start=1):
        reference = _reference(tags, file, index, start)
        if reference.pmid is None:
            problems.append(
                problem(
                    file,
                    f"record {index} has no PMID line",
                    "export the records again from PubMed (Send to: Citation manager)",
                    code="literature.no_pmid",
                    line=start,
                    row=index,
                    field="PMID",
                    severity=WARNING,
                )
            )
        references.append(reference)
    if not references:
        problems.append(
            problem(
                file,
                "no MEDLINE record found (no line starting with 'PMID- ')",
                "export from PubMed with Send to: Citation manager (.nbib)",
                code="literature.empty",
            )
        )
    return references, problems


def _records(text_lines: list[str]) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """(first line, [(tag, value)]) per record; a continuation line joins the value before."""
    tags: list[tuple[str, str]] = []
    start = 0
    for number, line in enumerate(text_lines, start=1):
        raw = line.rstrip("\r")
        if not raw.strip():
            if tags:
                yield start, tags
            tags = []
            continue
        match = _TAG.match(raw)
        if raw.startswith("      ") or not match:
            if tags:
                tag, value = tags[-1]
                tags[-1] = (tag, f"{value} {raw.strip()}")
            continue
        tag, value = match.group(1), match.group(2).strip()
        if tag == "PMID" and tags:  # no blank line between two records
            yield start, tags
            tags = []
        if not tags:
            start = number
        tags.append((tag, value))
    if tags:
        yield start, tags


def _values(tags: list[tuple[str, str]], name: str) -> list[str]:
    return [v for t, v in tags if t == name and clean(v)]


def _first(tags: list[tuple[str, str]], *names: str) -> str | None:
    for name in names:
        values = _values(tags, name)
        if values:
            return clean(values[0])
    return None


def _reference(tags: list[tuple[str, str]], file: str, index: int, start: int) -> Reference:
    full = _values(tags, "FAU")
    authors = tuple(clean(a) or "" for a in (full or _values(tags, "AU")))
    groups = tuple(clean(a) or "" for a in _values(tags, "CN"))
    dois = [
        normalize_doi(value)
        for name in ("LID", "AID")
        for value in _values(tags, name)
        if value.rstrip().endswith("[doi]")
    ]
    doi = next((d for d in dois if d), None)
    identifiers = [("pmc", v) for v in _values(tags, "PMC")]
    identifiers += [("original_title", clean(v) or "") for v in _values(tags, "TT")]
    first = authors[0] if authors else (groups[0] if groups else None)
    return Reference(
        file=file,
        record=index,
        line=start,
        format=FORMAT,
        authors=authors + groups,
        first_author=surname(first) if authors and first else first,
        year=parse_year(_first(tags, "DP", "DEP", "EDAT")),
        title=_first(tags, "TI", "BTI"),
        journal=_first(tags, "JT", "TA"),
        doi=doi,
        pmid=normalize_pmid(_first(tags, "PMID")),
        abstract=_first(tags, "AB"),
        database="PubMed",
        key=_first(tags, "PMID"),
        identifiers=tuple(identifiers),
    )
