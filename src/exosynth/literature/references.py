"""One row shape for a reference, whatever file it came from, and the clean-ups every reader shares.

Every reader (RIS, PubMed MEDLINE, BibTeX, EndNote XML, screening and extraction tables)
returns :class:`Reference` rows and :class:`~exosynth.problems.Problem` s, never raises on
bad bytes. Identifiers are normalised here once: a DOI is lower case without resolver or
``doi:`` prefix, a PMID is digits only. What a file does not say stays ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from urllib.parse import unquote

import polars as pl

from exosynth.problems import WARNING, Problem

STAGE = "import"

INCLUDE = "include"
EXCLUDE = "exclude"
CONFLICT = "conflict"  # reviewers disagree: the author decides


@dataclass(frozen=True, slots=True)
class Reference:
    """One bibliographic reference as read from one record of one file."""

    file: str
    record: int  # 1-based position of the record in its file
    line: int | None  # line (or CSV row under the header) where the record starts
    format: str  # ris, medline, bibtex, endnote_xml, or a table layout's name
    authors: tuple[str, ...] = ()
    first_author: str | None = None  # surname
    year: int | None = None
    title: str | None = None
    journal: str | None = None
    doi: str | None = None
    pmid: str | None = None
    abstract: str | None = None
    database: str | None = None  # where the search ran (Embase, PubMed, Scopus, ...)
    key: str | None = None  # the file's own id of the record (RN109, rayyan-14431, a SyRF id)
    identifiers: tuple[tuple[str, str], ...] = ()  # other ids: (kind, value)
    decision: str | None = None  # include | exclude | conflict, where the file carries one
    reasons: tuple[str, ...] = ()  # exclusion reasons as the file words them
    reviewers: tuple[tuple[str, str], ...] = ()  # (reviewer, decision as written)
    source: str | None = None  # MSC source where the file states it (an extraction sheet)
    extra: tuple[tuple[str, str], ...] = field(default=())  # other fields worth keeping

    @property
    def label(self) -> str:
        """How a message names the reference: first author and year, else its title."""
        if self.first_author or self.year:
            return f"{self.first_author or '?'} {self.year or 'n.d.'}"
        return (self.title or self.doi or self.pmid or self.key or f"record {self.record}")[:60]


COLUMNS = [f.name for f in fields(Reference)]


def entry_reference(
    file: str,
    record: int,
    line: int | None,
    format: str,
    authors: tuple[str, ...],
    *,
    year: object,
    title: object,
    journal: object,
    abstract: object,
    database: object,
    doi: str | None,
    pmid: str | None,
    key: str | None,
    identifiers: tuple[tuple[str, str], ...] = (),
    decision: str | None = None,
    reasons: tuple[str, ...] = (),
    reviewers: tuple[tuple[str, str], ...] = (),
    extra: tuple[tuple[str, str], ...] = (),
) -> Reference:
    """One entry of a library file (RIS, BibTeX, EndNote XML) into a :class:`Reference`.

    The reader finds each value (its DOI and PMID already normalized); here the texts are
    cleaned, the year parsed and the first author's surname taken from ``authors``.
    """
    return Reference(
        file=file,
        record=record,
        line=line,
        format=format,
        authors=authors,
        first_author=surname(authors[0]) if authors else None,
        year=parse_year(year),
        title=clean(title),
        journal=clean(journal),
        doi=doi,
        pmid=pmid,
        abstract=clean(abstract),
        database=clean(database),
        key=key,
        identifiers=identifiers,
        decision=decision,
        reasons=reasons,
        reviewers=reviewers,
        extra=extra,
    )


def to_frame(references: list[Reference]) -> pl.DataFrame:
    """References as a polars frame: lists for the tuples, one row per reference."""
    schema = {
        "file": pl.String,
        "record": pl.Int64,
        "line": pl.Int64,
        "format": pl.String,
        "authors": pl.List(pl.String),
        "first_author": pl.String,
        "year": pl.Int64,
        "title": pl.String,
        "journal": pl.String,
        "doi": pl.String,
        "pmid": pl.String,
        "abstract": pl.String,
        "database": pl.String,
        "key": pl.String,
        "identifiers": pl.List(pl.String),
        "decision": pl.String,
        "reasons": pl.List(pl.String),
        "reviewers": pl.List(pl.String),
        "source": pl.String,
    }
    rows = [
        {
            **{name: getattr(r, name) for name in schema if name not in _PAIRS},
            "authors": list(r.authors),
            "reasons": list(r.reasons),
            "identifiers": [f"{k}:{v}" for k, v in r.identifiers],
            "reviewers": [f"{k}:{v}" for k, v in r.reviewers],
        }
        for r in references
    ]
    return pl.DataFrame(rows, schema=schema)


_PAIRS = {"authors", "reasons", "identifiers", "reviewers"}


# -- text ---------------------------------------------------------------------------
def decode(data: bytes, file: str) -> tuple[str, list[Problem]]:
    """Bytes as text: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252.

    A file that is not UTF-8 is read as Windows-1252 (what Excel on Windows writes) with a
    warning; bytes Windows-1252 leaves undefined are read as Latin-1, never an exception.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as err:
        at = err.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    line = data[:at].count(b"\n") + 1
    return text, [
        problem(
            file,
            f"not UTF-8 (byte 0x{data[at]:02x} at line {line}): read as Windows-1252",
            "save the file as UTF-8, or check the accents of the drafts",
            code="literature.encoding",
            line=line,
            severity=WARNING,
        )
    ]


def lines(text: str) -> list[str]:
    """Lines split at ``\\n`` and ``\\r\\n`` only: ``str.splitlines`` would also cut at U+2028
    (LINE SEPARATOR), which abstracts contain."""
    return text.replace("\r\n", "\n").split("\n")


_WS = re.compile(r"\s+")


def clean(value: object) -> str | None:
    """A text value with white space folded (no-break spaces, U+2028, tabs); None when empty."""
    if value is None:
        return None
    text = _WS.sub(" ", str(value).replace("\u00a0", " ")).strip()
    return text or None


def problem(
    file: str,
    message: str,
    hint: str,
    *,
    code: str,
    line: int | None = None,
    row: int | None = None,
    field: str = "",
    record: str = "",
    severity: str = "error",
) -> Problem:
    """A Problem of the import stage."""
    return Problem(
        file=file,
        line=line,
        field=field,
        message=message,
        hint=hint,
        stage=STAGE,
        code=code,
        severity=severity,
        row=row,
        record=record,
    )


# -- identifiers --------------------------------------------------------------------
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(
    r"^(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi:\s*|https?://doi\.org/)", re.IGNORECASE
)


def normalize_doi(value: object) -> str | None:
    """A DOI in its comparable form: ``https://doi.org/10.1000/ABC.`` -> ``10.1000/abc``.

    Resolver URLs (doi.org, dx.doi.org), a ``doi:`` prefix, a ``[doi]`` tag, percent
    escapes and trailing punctuation go; DOIs are case-insensitive, so lower case. None when
    the value holds no DOI.
    """
    text = clean(value)
    if text is None:
        return None
    text = re.sub(r"\s*\[doi\]\s*$", "", text, flags=re.IGNORECASE)
    text = _DOI_PREFIX.sub("", text)
    if "%" in text:
        text = unquote(text)
    found = _DOI.search(text)
    if not found:
        return None
    doi = found.group()
    if text[: found.start()].endswith("="):  # a link's query parameter: doi=10.1/x&partnerID=
        doi = doi.split("&")[0]
    return doi.rstrip(".,;:)]}>").casefold()


_PMID_URL = re.compile(r"pubmed(?:\.ncbi\.nlm\.nih\.gov|/)\D*(\d{1,9})\b", re.IGNORECASE)
_PMID_TEXT = re.compile(r"^(?:pmid\s*:?\s*)?(\d{1,9})(?:\s*\[[a-z]+\])?$", re.IGNORECASE)


def normalize_pmid(value: object) -> str | None:
    """A PMID as digits: ``https://pubmed.ncbi.nlm.nih.gov/16644224`` or ``PMID: 16644224`` ->
    ``16644224``. None for anything else (``rayyan-14431`` is no PMID)."""
    text = clean(value)
    if text is None:
        return None
    found = _PMID_URL.search(text) or _PMID_TEXT.match(text)
    if not found or int(found.group(1)) == 0:
        return None
    return str(int(found.group(1)))


_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def parse_year(value: object) -> int | None:
    """The first plausible year in a value: ``2019//`` -> 2019, ``2018 Mar 27`` -> 2018."""
    text = clean(value)
    if text is None:
        return None
    found = _YEAR.search(text)
    return int(found.group()) if found else None


def surname(author: str) -> str | None:
    """The surname of an author as databases write them: ``Liu R.``, ``Shahtalebi, M. A.``,
    ``Shahtalebi MA``, ``L. Akinfiresoye``, ``Akinfiresoye L``; a group author as written."""
    text = clean(author)
    if text is None:
        return None
    words = text.split(" ")
    if len(words) > 1 and re.fullmatch(r"(?:[A-Z]\.-?)+", words[0]):
        # "L. Akinfiresoye"; Rayyan's "E.A. Lotfi R.A. Abdel-Aziz S.E, El-Khateeb"
        return words[1].rstrip(",") or None
    if "," in text:
        head, _, tail = text.partition(",")
        # Rayyan writes "S, Choudhary": initials before the comma, the surname after it.
        if re.fullmatch(r"[A-Z]{1,3}\.?", head.strip()) and tail.strip():
            return tail.strip().split(" ")[0]
        return head.strip() or None
    if len(words) > 1 and re.fullmatch(r"(?:[A-Z]\.?-?){1,4}", words[-1]):
        return " ".join(words[:-1])  # "Shahtalebi MA", "Liu R."
    return text


_APOSTROPHE = re.compile("['\u2019\u2018`]")


def fold_text(text: str | None) -> str:
    """A title or name in the form duplicates are compared in: accents, case, punctuation and
    bracketed language notes (``[Chinese]``) gone, white space single."""
    if not text:
        return ""
    while True:  # "Title. [Chinese]", "Title [corrected] [published erratum appears in ...]"
        shorter = re.sub(r"(?<=[\w\].?!])[\s.]*\[[^\[\]]*\]\s*\.?\s*$", "", text)
        if shorter == text:
            break
        text = shorter
    text = _APOSTROPHE.sub("", unicodedata.normalize("NFKD", text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _WS.sub(" ", re.sub(r"[^0-9a-z]+", " ", text)).strip()


_SAYS_INCLUDE = re.compile(r"^(?:include[sd]?|yes|1|true)$", re.IGNORECASE)
_SAYS_EXCLUDE = re.compile(r"^(?:exclude[sd]?|no|0|false)$", re.IGNORECASE)


def decision_word(value: object) -> str | None:
    """``Included``/``include``/``1`` -> include, ``Excluded``/``0`` -> exclude, else None
    (maybe, undecided, empty)."""
    text = clean(value)
    if text is None:
        return None
    if _SAYS_INCLUDE.match(text):
        return INCLUDE
    if _SAYS_EXCLUDE.match(text):
        return EXCLUDE
    return None


def combine_decisions(reviewers: tuple[tuple[str, str], ...]) -> str | None:
    """The decision of a record from its reviewers': include or exclude when all who decided
    agree, ``conflict`` when they differ, None when nobody decided."""
    said = {d for d in (decision_word(v) for _, v in reviewers) if d}
    if len(said) > 1:
        return CONFLICT
    return said.pop() if said else None
