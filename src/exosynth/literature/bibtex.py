"""BibTeX files into references, with bibtexparser 2.

bibtexparser 2 (stable since 2.0.0; the 1.x line is in maintenance) splits a file into blocks
without stopping at a bad one: a block it cannot parse, or a key given twice, comes back as
a failed block with its line, which here becomes a problem (a duplicate key keeps both
entries, with a warning). Its middlewares resolve ``@string`` macros, remove the braces and
decode LaTeX (``{\\textendash}``, ``{\\"u}``) and split ``author`` at ``and``. Field names are
compared in lower case (EndNote writes ``DOI``, ``ISSN``). Line ends are made ``\\n`` first:
EndNote's part of a file is CRLF and a hand-added part LF.
"""

from __future__ import annotations

import re

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors

from exosynth.literature.references import (
    Reference,
    clean,
    entry_reference,
    normalize_doi,
    normalize_pmid,
    problem,
)
from exosynth.problems import WARNING, Problem

FORMAT = "bibtex"


def is_bibtex(text: str) -> bool:
    """A file whose first non-blank, non-comment text is an ``@type{``/``@type(`` block."""
    return re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", text[:20000], re.MULTILINE) is not None


def read_bibtex(text: str, file: str) -> tuple[list[Reference], list[Problem]]:
    """Every entry of a BibTeX text; failed blocks and duplicate keys as problems."""
    problems: list[Problem] = []
    try:
        library = bibtexparser.parse_string(
            text.replace("\r\n", "\n"),
            append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors()],
        )
    except Exception as err:
        return [], [
            problem(
                file,
                f"BibTeX that cannot be read: {err}",
                "check the braces of the file, or export it again",
                code="literature.unreadable",
            )
        ]
    entries: list[tuple[int, model.Entry]] = [(e.start_line, e) for e in library.entries]
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, model.DuplicateBlockKeyBlock) and isinstance(
            block.ignore_error_block, model.Entry
        ):
            entries.append((block.start_line or 0, block.ignore_error_block))
            problems.append(
                problem(
                    file,
                    f"entry key {block.key!r} is used twice; both entries are read",
                    "give each entry its own key",
                    code="literature.duplicate_key",
                    line=line,
                    record=block.key,
                    severity=WARNING,
                )
            )
        elif isinstance(block, model.DuplicateFieldKeyBlock) and isinstance(
            block.ignore_error_block, model.Entry
        ):
            entries.append((block.start_line or 0, block.ignore_error_block))
            problems.append(
                problem(
                    file,
                    "a field is given twice in one entry "
                    f"({', '.join(sorted(block.duplicate_keys))}); the first is read",
                    "keep one of the two",
                    code="literature.duplicate_field",
                    line=line,
                    severity=WARNING,
                )
            )
        else:
            problems.append(
                problem(
                    file,
                    f"a block that cannot be read: {str(block.error)[:200]}",
                    "check its braces and quotes; the other entries are read",
                    code="literature.unreadable_record",
                    line=line,
                )
            )
    entries.sort(key=lambda pair: pair[0])
    references = [
        _reference(entry, file, index, start + 1)
        for index, (start, entry) in enumerate(entries, start=1)
    ]
    if not references:
        problems.append(
            problem(
                file,
                "no BibTeX entry found",
                "check that this is the file meant",
                code="literature.empty",
            )
        )
    return references, problems


def _fields(entry: model.Entry) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in entry.fields:
        value = item.value
        text = " and ".join(map(str, value)) if isinstance(value, list) else str(value)
        found.setdefault(item.key.casefold(), text)
    return found


def _authors(entry: model.Entry) -> tuple[str, ...]:
    for item in entry.fields:
        if item.key.casefold() == "author":
            value = item.value
            names = value if isinstance(value, list) else str(value).split(" and ")
            return tuple(a for a in (clean(str(n).strip("{}")) for n in names) if a)
    return ()


def _reference(entry: model.Entry, file: str, index: int, line: int) -> Reference:
    fields = _fields(entry)
    journal = next(
        (fields[k] for k in ("journal", "journaltitle", "booktitle") if fields.get(k)), None
    )
    return entry_reference(
        file,
        index,
        line,
        FORMAT,
        _authors(entry),
        year=fields.get("year") or fields.get("date"),
        title=fields.get("title"),
        journal=journal,
        abstract=fields.get("abstract"),
        database=fields.get("database") or fields.get("publisher"),
        doi=normalize_doi(fields.get("doi")) or normalize_doi(fields.get("url")),
        pmid=normalize_pmid(fields.get("pmid")),
        key=entry.key,
        identifiers=tuple(
            (k, clean(fields[k]) or "") for k in ("issn", "isbn", "eprint") if clean(fields.get(k))
        ),
    )
