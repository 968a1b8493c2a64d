"""RIS files (any database or reference manager) into references, with rispy's line parser.

rispy (the maintained RIS library) splits each line into tag and content and appends a line
without a tag to the tag before it, which is how EndNote continues ``AD``, ``SN``, ``KW`` and
``N1`` on bare lines. Around it this module adds what real exports need: the line where each
record starts, a record cut off by the end of the file, Ovid's ``1.`` numbering and ``Link to
the Ovid Full Text`` lines between records (and its ``NL`` tag after ``ER``), and one reading
of the tags the flavours use for the same thing (title ``TI``/``T1``, abstract ``AB``/``N2``,
year ``PY``/``Y1``, PMID in ``AN``/``C2``/``C5``, DOI in ``DO`` as bare DOI or URL).
Rayyan's screening (``RAYYAN-INCLUSION`` in ``N1``) becomes per-reviewer decisions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import rispy

from exosynth.literature.references import (
    Reference,
    clean,
    combine_decisions,
    entry_reference,
    lines,
    normalize_doi,
    normalize_pmid,
    problem,
)
from exosynth.problems import WARNING, Problem

FORMAT = "ris"
_TAG_LINE = re.compile(r"^[A-Z][A-Z0-9]  -")


class _Tags(dict):
    """Every tag maps to itself: the reader keeps tags, the flavours are read below."""

    def __missing__(self, tag: str) -> str:
        return tag


class _Every(list):
    """Every tag is a list tag: repeated tags and continuation lines keep each value."""

    def __contains__(self, tag: object) -> bool:
        return True


class _Parser(rispy.RisParser):
    DEFAULT_MAPPING = _Tags()
    DEFAULT_LIST_TAGS = _Every()
    DEFAULT_DELIMITER_MAPPING: dict = {}  # noqa: RUF012 (rispy's class attribute)


def is_ris(text: str) -> bool:
    """A file with a ``TY  -`` line near its start (after Ovid's numbering, if any)."""
    return any(line.startswith("TY  -") for line in lines(text[:20000])[:200])


def read_ris(text: str, file: str) -> tuple[list[Reference], list[Problem]]:
    """Every record of a RIS text; problems for records cut off or without identity."""
    parser = _Parser(skip_unknown_tags=False, enforce_list_tags=True)
    references: list[Reference] = []
    problems: list[Problem] = []
    # Listed first: a tag after ER (Ovid's NL) joins its record after the record was yielded.
    records = list(_records(parser, lines(text)))
    for index, (start, tags, ended) in enumerate(records, start=1):
        if not ended:
            problems.append(
                problem(
                    file,
                    f"record {index} has no ER line: the file ends inside it",
                    "the file looks cut off: export it again; the record is read as far as it goes",
                    code="literature.truncated",
                    line=start,
                    row=index,
                    severity=WARNING,
                )
            )
        references.append(_reference(tags, file, index, start))
    if not references:
        problems.append(
            problem(
                file,
                "no RIS record found (no line starting with 'TY  -')",
                "export the references as RIS, or check that this is the file meant",
                code="literature.empty",
            )
        )
    return references, problems


def _records(parser: _Parser, text_lines: list[str]) -> Iterator[tuple[int, dict, bool]]:
    """(first line, tags, ended with ER) per record; tags between ER and the next TY (Ovid
    writes ``NL`` there) belong to the record before."""
    record: dict | None = None
    start = 0
    last_tag = "TY"
    previous: dict | None = None
    for number, line in enumerate(text_lines, start=1):
        raw = line.rstrip("\r")
        if record is None:
            if raw.startswith("TY  -"):
                record, start, last_tag = {}, number, "TY"
                parser._add_tag(record, "TY", raw[6:].strip())
            elif previous is not None and _TAG_LINE.match(raw):
                tag, content = parser.parse_line(raw)
                if tag and content:
                    parser._add_tag(previous, tag, content)
            continue
        tag, content = parser.parse_line(raw)
        if tag == "ER":
            yield start, record, True
            previous, record = record, None
            continue
        if tag is None:
            if content:
                parser._add_tag(record, last_tag, content)
            continue
        if content:
            parser._add_tag(record, tag, content)
        last_tag = tag
    if record is not None:
        yield start, record, False


def _first(tags: dict, *names: str) -> str | None:
    for name in names:
        for value in tags.get(name, []):
            if clean(value):
                return clean(value)
    return None


def _text(tags: dict, *names: str) -> str | None:
    """A text field continued over several lines, joined: the first tag that has it."""
    for name in names:
        values = [v for v in (clean(x) for x in tags.get(name, [])) if v]
        if values:
            return " ".join(values)
    return None


_NLM = re.compile(r"nlm|pubmed|medline", re.IGNORECASE)


def _reference(tags: dict, file: str, index: int, start: int) -> Reference:
    authors = tuple(a for a in (clean(x) for name in ("AU", "A1") for x in tags.get(name, [])) if a)
    dois: list[str] = []
    for name in ("DO", "M3", "L2", "UR", "L3"):
        for value in tags.get(name, []):
            doi = normalize_doi(value) if name == "DO" or "doi" in value.casefold() else None
            if doi and doi not in dois:
                dois.append(doi)
    database = _first(tags, "DB", "DP")
    accession = _first(tags, "AN")
    pmid = normalize_pmid(_first(tags, "C5")) or normalize_pmid(_first(tags, "C2"))
    identifiers: list[tuple[str, str]] = [("doi", d) for d in dois[1:]]
    if accession:
        numeric = normalize_pmid(accession) if accession.isdigit() else None
        names_nlm = any(_NLM.search(v) for n in ("DB", "DP") for v in tags.get(n, []))
        if numeric and (names_nlm or pmid is None):
            pmid = pmid or numeric
        else:
            identifiers.append(("accession", accession))
    for name, kind in (("U2", "accession"), ("ID", "record_number")):
        value = _first(tags, name)
        if value:
            identifiers.append((kind, value))
    reviewers, reasons, labels = _rayyan(tags)
    extra = [("labels", "; ".join(labels))] if labels else []
    return entry_reference(
        file,
        index,
        start,
        FORMAT,
        authors,
        year=_first(tags, "PY", "Y1", "DA", "Y2"),
        title=_text(tags, "TI", "T1", "CT", "BT"),
        journal=_first(tags, "JF", "T2", "JO", "JA", "J2", "NL"),  # Ovid writes NL after ER
        abstract=_text(tags, "AB", "N2"),
        database=database,
        doi=dois[0] if dois else None,
        pmid=pmid,
        key=accession or _first(tags, "ID"),
        identifiers=tuple(identifiers),
        decision=combine_decisions(reviewers),
        reasons=reasons,
        reviewers=reviewers,
        extra=tuple(extra),
    )


_RAYYAN_DECISION = re.compile(r'"([^"]*)"\s*=>\s*"([^"]*)"')


def _rayyan(tags: dict) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...]]:
    """Rayyan's screening kept in ``N1``: ``RAYYAN-INCLUSION: {"Zbys"=>"Excluded", ...} |
    RAYYAN-LABELS: ... | RAYYAN-EXCLUSION-REASONS: wrong population,background``."""
    reviewers: list[tuple[str, str]] = []
    reasons: list[str] = []
    labels: list[str] = []
    for note in tags.get("N1", []):
        for part in note.split("|"):
            head, _, body = part.strip().partition(":")
            head = head.strip().upper()
            if head == "RAYYAN-INCLUSION":
                reviewers += _RAYYAN_DECISION.findall(body)
            elif head == "RAYYAN-EXCLUSION-REASONS":
                reasons += [r.strip() for r in body.split(",") if r.strip()]
            elif head == "RAYYAN-LABELS":
                labels += [r.strip() for r in body.split(",") if r.strip()]
    return tuple(reviewers), tuple(reasons), tuple(labels)
