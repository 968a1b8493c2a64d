"""CSV and XLSX exports of screening and extraction tools into references, by column mappings.

A :class:`Layout` says which header columns tell a tool's export apart (``signature``) and
which column holds which reference field. The ready layouts (``LAYOUTS``) are those of the
exports in ``../shared/literature`` (docs/literature.md lists them); ``generic`` takes any
table whose header names a title and a DOI, PMID or year under common spellings. Header
names are compared folded (case, spaces, punctuation). A layout with ``group_by`` has many
rows per reference (SyRF's quantitative export: one row per cohort and time point); the
first row of a group gives the reference. ``skip_when`` drops a second header row of
machine names (the CIDMap sheet).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from exosynth.literature.references import (
    Reference,
    clean,
    combine_decisions,
    decision_word,
    normalize_doi,
    normalize_pmid,
    parse_year,
    problem,
    surname,
)
from exosynth.problems import Problem

Row = dict[str, str]


@dataclass(frozen=True)
class Layout:
    """How one tool's table maps to references."""

    name: str
    description: str
    signature: tuple[str, ...]  # columns that must all be present (folded names)
    columns: dict[str, tuple[str, ...]]  # reference field -> candidate columns, first found wins
    author_separator: str = " and "
    group_by: str | None = None
    skip_when: tuple[str, str] | None = None  # (column, value): a second header row
    decisions: Callable[[Row], tuple[tuple[str, str], ...]] | None = None
    database: str | None = None
    extra: tuple[str, ...] = field(default=())


def fold_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.casefold())


def _syrf_reviewers(row: Row) -> tuple[tuple[str, str], ...]:
    names = [n.strip() for n in (row.get("investigatornames") or "").split(";")]
    said = [d.strip() for d in (row.get("screeningdecisions") or "").split(";")]
    return tuple(
        (names[i] if i < len(names) and names[i] else f"reviewer {i + 1}", d)
        for i, d in enumerate(said)
        if d
    )


def _synergy_label(row: Row) -> tuple[tuple[str, str], ...]:
    label = (row.get("labelincluded") or "").strip()
    return (("SYNERGY label", label),) if label else ()


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "syrf_quantitative",
        "SyRF quantitative export: one row per cohort and time point, references repeated",
        ("studyid", "numberofanimals", "outcomeaverage", "outcomeerror"),
        {
            "title": ("title",),
            "authors": ("authors",),
            "year": ("year",),
            "journal": ("publicationname", "alternatename"),
            "doi": ("doi",),
            "abstract": ("abstract",),
            "key": ("studyid",),
        },
        group_by="studyid",
        database="SyRF",
    ),
    Layout(
        "syrf_screening",
        "SyRF screening export (wide): decisions per study, no bibliographic columns",
        ("studyid", "screeningdecisions", "investigatornames"),
        {"key": ("studyid",), "database": ("systematicsearchname",)},
        decisions=_syrf_reviewers,
    ),
    Layout(
        "synergy",
        "SYNERGY / ASReview labels: DOI, PMID and OpenAlex id with an inclusion label",
        ("doi", "openalexid", "labelincluded"),
        {"doi": ("doi",), "pmid": ("pmid",), "key": ("openalexid",), "openalex": ("openalexid",)},
        decisions=_synergy_label,
        database="SYNERGY",
    ),
    Layout(
        "bib_dedupe",
        "bib-dedupe / CoLRev records: ID, title, year, author, journal",
        ("id", "title", "year", "author", "entrytype"),
        {
            "title": ("title",),
            "authors": ("author",),
            "year": ("year",),
            "journal": ("journal",),
            "doi": ("doi",),
            "abstract": ("abstract",),
            "key": ("id",),
        },
    ),
    Layout(
        "cidmap",
        "CIDMap MSC extraction sheet: one study per row, a second header row of machine names",
        ("referencenumber", "firstauthor", "title", "sourceofmsc"),
        {
            "title": ("title",),
            "first_author": ("firstauthor",),
            "year": ("year",),
            "journal": ("journal",),
            "doi": ("referenceurl",),
            "pmid": ("referenceurl",),
            "key": ("referencenumber",),
            "source": ("sourceofmsc",),
        },
        skip_when=("firstauthor", "ref_first_author"),
    ),
    Layout(
        "arm_sheet",
        "Arm-level extraction sheet (GALENOS LSR3): study_name 'Author (year)', one row per arm",
        ("armname", "studyname"),
        {"first_author_year": ("studyname",), "key": ("studyname",)},
        group_by="studyname",
    ),
    Layout(
        "generic",
        "Any table with a title and a DOI, PMID or year column under a common name",
        ("title",),
        {
            "title": ("title", "articletitle", "primarytitle"),
            "authors": ("authors", "author", "authorfullnames"),
            "first_author": ("firstauthor",),
            "year": ("year", "publicationyear", "pubyear", "py"),
            "journal": ("journal", "sourcetitle", "publicationname", "journaltitle"),
            "doi": ("doi",),
            "pmid": ("pmid", "pubmedid"),
            "abstract": ("abstract",),
            "key": ("id", "key", "recordid"),
            "decision": ("decision", "included", "label", "screeningdecision"),
        },
    ),
)


def detect_layout(header: list[str]) -> Layout | None:
    """The first layout whose signature columns are all in the header; ``generic`` also
    needs one of DOI, PMID or year."""
    folded = {fold_header(h) for h in header}
    for layout in LAYOUTS:
        if not set(layout.signature) <= folded:
            continue
        if layout.name == "generic" and not folded & {"doi", "pmid", "year", "publicationyear"}:
            continue
        return layout
    return None


def sniff_rows(text: str) -> list[list[str]]:
    """Rows of a delimited text: comma, semicolon or tab, whichever the header uses most.
    Read by the csv module (quoted line breaks stay in their cell; U+2028 is not a line end)."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def xlsx_rows(data: bytes, file: str) -> tuple[list[list[str]], list[Problem]]:
    """The first sheet's rows as text (numbers stored as text stay text; ranges stay text)."""
    import openpyxl  # noqa: PLC0415 (only for workbooks)

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [
            ["" if v is None else _cell_text(v) for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        book.close()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError, TypeError) as err:
        return [], [
            problem(
                file,
                f"a workbook that cannot be read: {err}",
                "save it again as .xlsx from Excel or LibreOffice",
                code="literature.unreadable",
            )
        ]
    return rows, []


def _cell_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.12g}"  # 2.2000000000000002 -> 2.2
    return str(value)


def table_rows(rows: list[list[str]]) -> tuple[list[str], list[tuple[int, Row]]]:
    """The header and each data row as {folded column: value} with its row number (1 under
    the header); a header name given twice keeps its first column."""
    if not rows:
        return [], []
    header = rows[0]
    names = [fold_header(h) for h in header]
    found: list[tuple[int, Row]] = []
    for number, row in enumerate(rows[1:], start=1):
        if not any(cell.strip() for cell in row):
            continue
        values: Row = {}
        for name, cell in zip(names, row, strict=False):
            values.setdefault(name, cell)
        found.append((number, values))
    return header, found


def read_table(
    rows: list[tuple[int, Row]], layout: Layout, file: str
) -> tuple[list[Reference], list[Problem]]:
    """References from a table's rows by a layout."""
    references: list[Reference] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, row in rows:
        if layout.skip_when and row.get(layout.skip_when[0], "").strip() == layout.skip_when[1]:
            continue
        if layout.group_by:
            group = (row.get(layout.group_by) or "").strip()
            if group in seen:
                continue
            seen.add(group)
        references.append(_reference(row, layout, file, len(references) + 1, number))
    if not references:
        problems.append(
            problem(
                file,
                f"a {layout.name} table without data rows",
                "check that this is the export meant",
                code="literature.empty",
            )
        )
    return references, problems


def _get(row: Row, layout: Layout, name: str) -> str | None:
    for column in layout.columns.get(name, ()):
        value = clean(row.get(column))
        if value:
            return value.strip('"').strip() or None
    return None


_NAME_YEAR = re.compile(r"^(.*?)[\s,]*\(?((?:19|20)\d\d)[a-z]?\)?\s*$")


def _reference(row: Row, layout: Layout, file: str, index: int, number: int) -> Reference:
    authors_text = _get(row, layout, "authors")
    authors = tuple(
        a.strip() for a in (authors_text or "").split(layout.author_separator) if a.strip()
    )
    first_author = _get(row, layout, "first_author") or (surname(authors[0]) if authors else None)
    year = parse_year(_get(row, layout, "year"))
    name_year = _get(row, layout, "first_author_year")
    if name_year:
        match = _NAME_YEAR.match(name_year)
        first_author = (match.group(1).strip() or None) if match else name_year
        year = int(match.group(2)) if match else None
    reviewers = layout.decisions(row) if layout.decisions else ()
    decision = (
        combine_decisions(reviewers) if reviewers else decision_word(_get(row, layout, "decision"))
    )
    return Reference(
        file=file,
        record=index,
        line=None,
        format=layout.name,
        authors=authors,
        first_author=surname(first_author) if first_author and not name_year else first_author,
        year=year,
        title=_get(row, layout, "title"),
        journal=_get(row, layout, "journal"),
        doi=normalize_doi(_get(row, layout, "doi")),
        pmid=normalize_pmid(_get(row, layout, "pmid")),
        abstract=_get(row, layout, "abstract"),
        database=_get(row, layout, "database") or layout.database,
        key=_get(row, layout, "key"),
        decision=decision,
        reviewers=reviewers,
        source=_get(row, layout, "source"),
        identifiers=(("openalex", openalex),)
        if (openalex := _get(row, layout, "openalex"))
        else (),
        extra=(("row", str(number)),),
    )


def unknown_layout(header: list[str], file: str) -> Problem:
    shown = ", ".join(h for h in header[:12] if h.strip()) or "(empty)"
    known = "; ".join(f"{lay.name}: {', '.join(lay.signature)}" for lay in LAYOUTS)
    return problem(
        file,
        f"a table whose columns match no known layout (header: {shown})",
        f"name the columns as one of the layouts does ({known}); docs/literature.md lists them",
        code="literature.unknown_layout",
        line=1,
        severity="error",
    )
