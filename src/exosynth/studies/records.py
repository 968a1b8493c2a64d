"""One raw file into one record row: parse, check against the schema, flatten every accepted value.

Every problem of every file is collected; nothing stops at the first error.
Every file becomes one record row: an accepted one, or a rejected one that still
carries each field the schema accepted (and lists the fields it did not), so the
later stages check the vocabulary and the other records of a rejected file in the
same build instead of in the next round.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from exosynth.problems import Problem
from exosynth.studies.loading import decode_text, line_of, parse_yaml
from exosynth.studies.outcome_checks import outcome_problems
from exosynth.studies.schema_messages import FieldPath, StudyValidator, invalid_path, problems_of

IN_VIVO_DTYPE = pl.List(
    pl.Struct({"model": pl.String, "species": pl.String, "model_type": pl.String})
)
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "raw_file": pl.String(),
    "sha256": pl.String(),
    "accepted": pl.Boolean(),
    # The file held a mapping of fields: later stages check what it holds, accepted or not.
    "parsed": pl.Boolean(),
    "id": pl.String(),
    "source": pl.String(),
    "review_row": pl.Int64(),
    "donor_species": pl.String(),
    "first_author": pl.String(),
    "year": pl.Int64(),
    "ref": pl.Int64(),
    "doi": pl.String(),
    "pmid": pl.String(),
    "title": pl.String(),
    "condition": pl.String(),
    "in_vitro": pl.Boolean(),
    "in_vivo": IN_VIVO_DTYPE,
    "clinical_patients": pl.Int64(),
    "results": pl.String(),
    # Known only from another review's table: that review's DOI or URL, the paper's ref there.
    "cited_in_doi": pl.String(),
    "cited_in_url": pl.String(),
    "cited_in_ref": pl.Int64(),
    # Fields whose values the schema rejected (dropped from this row): "in_vitro",
    # "citation" and "citation.doi", "in_vivo" for anything under in_vivo, ...
    "invalid_fields": pl.List(pl.String()),
    # The optional blocks, each as canonical JSON text, null when absent. Outcomes keep their
    # entries when one value in them was rejected (studies/outcome_checks.py reads each entry);
    # a quality block is null then (studies/quality_blocks.py turns them into codes).
    "outcomes": pl.String(),
    "risk_of_bias": pl.String(),
    "ev": pl.String(),
    "dose": pl.String(),
    "route": pl.String(),
}


# The optional blocks of a record that travel as one JSON text column each (issue 22).
QUALITY_BLOCKS = ("risk_of_bias", "ev", "dose", "route")


def canonical(value: Any) -> str | None:
    """The one JSON text of a block: keys sorted, no spaces, UTF-8 kept; None stays None."""
    if value is None:
        return None
    # default=str: a date YAML read (2021-03-04 unquoted) is written as its text, not a crash.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class Parsed:
    """One raw file as read: the mapping (``None`` if there is none), its problems, and the
    paths of the values the schema rejected (a rejected record's other fields stay usable)."""

    document: dict | None
    problems: list[Problem] = field(default_factory=list)
    invalid: frozenset[FieldPath] = frozenset()

    @property
    def accepted(self) -> bool:
        return self.document is not None and not any(p.is_error for p in self.problems)


def read_study(
    path: str, data: bytes, validator: StudyValidator
) -> tuple[dict | None, list[Problem]]:
    """Parse and check one raw file: the record, or ``None`` and every problem found."""
    parsed = parse_study(path, data, validator)
    return (parsed.document if parsed.accepted else None), parsed.problems


def parse_study(path: str, data: bytes, validator: StudyValidator) -> Parsed:
    """Parse and check one raw file, keeping whatever parsed even when something is wrong."""
    text, problem = decode_text(path, data)
    if problem:
        return Parsed(None, [problem])
    document, problem = parse_yaml(path, text)
    if problem:
        return Parsed(None, [problem])
    if document is None:
        return Parsed(
            None,
            [
                Problem(
                    path,
                    None,
                    "",
                    "file is empty (no fields, only blanks or comments)",
                    "fill in the record (`exosynth new SOURCE ID` writes one) or delete the file",
                    code="file.empty",
                )
            ],
        )
    if not isinstance(document, dict):
        kind = type(document).__name__
        return Parsed(
            None,
            [
                Problem(
                    path,
                    1,
                    "",
                    f"a study record is a mapping of fields, this file holds {kind}",
                    "keep one `field: value` per line (`exosynth new SOURCE ID` writes a record)",
                    code="file.not_mapping",
                )
            ],
        )
    errors = list(validator.iter_errors(document))  # fast for valid records
    problems = problems_of(path, text, errors)
    invalid = frozenset(invalid_path(error) for error in errors) - {None}
    stem = os.path.splitext(os.path.basename(path))[0]  # noqa: PTH119, PTH122 (no Path per file)
    if (
        isinstance(document.get("id"), str)
        and document["id"] != stem
        and not any(p.field == "id" for p in problems)
    ):
        problems.append(
            Problem(
                path,
                line_of(text, ("id",)),
                "id",
                f"id {document['id']!r} differs from the file name {stem!r}",
                f"rename the file to {document['id']}.yaml or set `id: {stem}`",
                code="file.id_mismatch",
            )
        )
    problem = _identity_problem(path, text, document)
    if problem:
        problems.append(problem)
    if "outcomes" in document:
        problems.extend(outcome_problems(path, text, document))
    return Parsed(document, problems, invalid)  # type: ignore[arg-type]


# The four ways a paper can be identified, for the message of a record with none of them.
IDENTITY_HINT = (
    "identify the paper in one of four ways: citation.first_author with citation.year; "
    "citation.doi; citation.pmid; or, for a paper known only from another review's table, "
    "citation.cited_in: {doi: <that review's DOI>, ref: <the paper's number there>} "
    "(url: <the table's address> in place of doi)"
)


def _identity_problem(path: str, text: str, document: dict) -> Problem | None:
    """A record must say which paper it is; a value given but invalid is a schema problem."""
    citation = document.get("citation")
    citation = citation if isinstance(citation, dict) else {}

    def given(name: str) -> bool:
        return citation.get(name) is not None

    if (given("first_author") and given("year")) or any(
        given(name) for name in ("doi", "pmid", "cited_in")
    ):
        return None
    partial = [name for name in ("first_author", "year") if given(name)]
    what = (
        f"only citation.{partial[0]} is given, which does not identify the paper"
        if partial
        else "nothing identifies the paper"
    )
    return Problem(
        path,
        line_of(text, ("citation",)) if "citation" in document else None,
        "citation",
        what,
        IDENTITY_HINT,
        code="citation.unidentified",
    )


# -- many files ------------------------------------------------------------------
def to_row(
    path: str, digest: str, record: dict | None, invalid: frozenset[FieldPath] = frozenset()
) -> dict[str, Any]:
    """One file as a flat row of :data:`RECORD_SCHEMA`, every value the schema accepted.

    ``invalid`` holds the paths of the values the schema rejected: they are left null (a
    value of the wrong type would not even fit the column) and listed in ``invalid_fields``.
    ``accepted`` is set by :func:`ingest`.
    """
    if record is None:
        return {"raw_file": path, "sha256": digest, "accepted": False, "parsed": False}

    def ok(*parts: str | int) -> bool:
        return not any(parts[: len(bad)] == bad for bad in invalid)

    def value(mapping: Any, *parts: str | int) -> Any:
        """The value at ``parts`` if every step exists and no rejected value is on the way."""
        current = mapping
        for depth, part in enumerate(parts):
            if not isinstance(current, dict) or not ok(*parts[: depth + 1]):
                return None
            current = current.get(part)
        return current

    models = []
    if isinstance(record.get("in_vivo"), list) and ok("in_vivo"):
        for index, entry in enumerate(record["in_vivo"]):
            # A rejected entry stays as an empty one: in_vivo[N] keeps its N in messages.
            usable = isinstance(entry, dict) and ok("in_vivo", index)
            models.append(
                {
                    key: entry.get(key) if usable and ok("in_vivo", index, key) else None
                    for key in ("model", "species", "model_type")
                }
            )

    def block(name: str) -> str | None:
        """A whole block as canonical JSON text; null when any value in it was rejected."""
        if any(bad[:1] == (name,) for bad in invalid):
            return None
        return canonical(record.get(name))

    pmid = value(record, "citation", "pmid")
    return {
        "raw_file": path,
        "sha256": digest,
        "accepted": False,  # set by ingest, which knows every problem of the file
        "parsed": True,
        "id": value(record, "id"),
        "source": value(record, "source"),
        "review_row": value(record, "review_row"),
        "donor_species": value(record, "donor_species"),
        "first_author": value(record, "citation", "first_author"),
        "year": value(record, "citation", "year"),
        "ref": value(record, "citation", "ref"),
        "doi": value(record, "citation", "doi"),
        "pmid": None if pmid is None else str(pmid),
        "title": value(record, "citation", "title"),
        "condition": value(record, "condition"),
        "in_vitro": value(record, "in_vitro"),
        "in_vivo": models,
        "clinical_patients": value(record, "clinical", "patients"),
        "results": value(record, "results"),
        "cited_in_doi": value(record, "citation", "cited_in", "doi"),
        "cited_in_url": value(record, "citation", "cited_in", "url"),
        "cited_in_ref": value(record, "citation", "cited_in", "ref"),
        "invalid_fields": _invalid_fields(invalid),
        "outcomes": canonical(record.get("outcomes")) if ok("outcomes") else None,
        **{name: block(name) for name in QUALITY_BLOCKS},
    }


def _invalid_fields(invalid: frozenset[FieldPath]) -> list[str]:
    """``in_vivo[0].species`` -> "in_vivo"; ``citation.doi`` -> "citation", "citation.doi"."""
    names: set[str] = set()
    for parts in invalid:
        if not parts:
            continue
        names.add(str(parts[0]))
        if len(parts) > 1 and isinstance(parts[1], str):
            names.add(f"{parts[0]}.{parts[1]}")
    return sorted(names)
