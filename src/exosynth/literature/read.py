"""Read any reference file: tell its format from its bytes and hand it to its reader.

The format is told by content, not by the file name: a workbook by its zip signature,
EndNote XML by ``<xml>``/``<record>``, MEDLINE by a first ``PMID-`` line, RIS by a ``TY  -``
line, BibTeX by an ``@type{`` block, and a delimited table by a header one of the layouts of
:mod:`exosynth.literature.tables` knows. Whatever the bytes, the answer is references and
problems: a file that is none of these is one problem naming it, and a reader that fails
is caught here and reported, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from exosynth.literature import bibtex, endnote_xml, medline, ris, syrf, tables
from exosynth.literature.references import Reference, decode, problem
from exosynth.problems import Problem

FORMATS = ("ris", "medline", "bibtex", "endnote_xml", "csv", "xlsx")


@dataclass
class ReadFile:
    """What one file gave: its references, its problems, and the outcomes blocks a
    quantitative export fills (by the reference's key)."""

    file: str
    format: str | None
    references: list[Reference] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    outcomes: dict[str, list[dict]] = field(default_factory=dict)


def read_path(path: str | Path, name: str | None = None) -> ReadFile:
    """Read a file from disk; ``name`` is how messages name it (default: the path)."""
    label = name or Path(path).as_posix()
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        return ReadFile(
            label,
            None,
            problems=[
                problem(
                    label,
                    f"cannot be read: {err.strerror or err}",
                    "check the path",
                    code="literature.unreadable",
                )
            ],
        )
    return read_bytes(data, label)


def read_bytes(data: bytes, file: str) -> ReadFile:
    """References and problems from a file's bytes; never raises."""
    try:
        return _read(data, file)
    except Exception as err:
        return ReadFile(
            file,
            None,
            problems=[
                problem(
                    file,
                    f"the reader failed on this file ({type(err).__name__}: {str(err)[:200]})",
                    "export the file again; if it still fails, report it with the file",
                    code="literature.reader_failed",
                )
            ],
        )


def _read(data: bytes, file: str) -> ReadFile:
    if not data.strip():
        return ReadFile(file, None, problems=[_refused(file, "the file is empty")])
    if data.startswith(b"PK\x03\x04"):
        rows, trouble = tables.xlsx_rows(data, file)
        if trouble:
            return ReadFile(file, "xlsx", problems=trouble)
        return _table(rows, file, "xlsx", [])
    text, trouble = decode(data, file)
    if "\x00" in text[:8192]:
        return ReadFile(
            file, None, problems=[_refused(file, "binary content (NUL bytes), not a text export")]
        )
    for name, looks, reader in (
        ("endnote_xml", endnote_xml.is_endnote_xml, endnote_xml.read_endnote_xml),
        ("medline", medline.is_medline, medline.read_medline),
        ("ris", ris.is_ris, ris.read_ris),
        ("bibtex", bibtex.is_bibtex, bibtex.read_bibtex),
    ):
        if looks(text):
            references, problems = reader(text, file)
            return ReadFile(file, name, references, trouble + problems)
    rows = tables.sniff_rows(text)
    if rows and len(rows[0]) > 1:
        return _table(rows, file, "csv", trouble)
    return ReadFile(
        file,
        None,
        problems=[
            *trouble,
            _refused(
                file,
                "not a reference file exosynth knows (RIS, MEDLINE, BibTeX, EndNote"
                " XML, or a CSV/XLSX table with a known header)",
            ),
        ],
    )


def _table(rows: list[list[str]], file: str, kind: str, trouble: list[Problem]) -> ReadFile:
    header, data = tables.table_rows(rows)
    layout = tables.detect_layout(header)
    if {"data", "node", "box", "n"} <= {tables.fold_header(h) for h in header}:
        why = "a PRISMA 2020 flow table (data, node, box, n), not a list of references"
        return ReadFile(file, kind, problems=[*trouble, _refused(file, why)])
    if layout is None:
        return ReadFile(file, kind, problems=[*trouble, tables.unknown_layout(header, file)])
    references, problems = tables.read_table(data, layout, file)
    result = ReadFile(file, f"{kind}:{layout.name}", references, trouble + problems)
    if layout.name == "syrf_quantitative":
        result.outcomes, more = syrf.outcomes_by_study(data, file)
        result.problems += more
    return result


def _refused(file: str, why: str) -> Problem:
    return problem(
        file,
        f"refused: {why}",
        "export the references as RIS, PubMed (.nbib), BibTeX, EndNote XML or a known CSV layout",
        code="literature.unknown_format",
    )
