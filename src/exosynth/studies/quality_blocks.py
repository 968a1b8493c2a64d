"""The quality blocks of the records (risk_of_bias, ev, dose, route) in codes, and their checks.

Ingest carries each block as one column of canonical JSON text, as the record wrote it (the
schema has checked its shape: judgements, types, a dose's unit, no summed score). Here the
spellings of isolation methods, routes and dose units become codes of config/vocabulary.yaml,
each distinct spelling looked up once; a spelling no entry knows is a problem that names the
closest entries (a rule of :data:`TERM_RULES`). Every block is rewritten in one canonical
form, so the synthesis reads codes only:

- ``risk_of_bias``: all ten SYRCLE items, each ``{"judgement": ..., "support": ...}``; an
  item the record leaves out or empty was not judged and is ``unclear``;
- ``ev``: every MISEV field, null where not reported; ``isolation`` a list of codes;
- ``dose``: ``{"value", "unit" (a code), "per_kg"}``;
- ``route``: a list of codes.

A record without a block keeps null there: the study was not assessed, or the fact is not
reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import polars as pl

from exosynth.checks import Rule, run_rules
from exosynth.problems import Problem
from exosynth.quality_terms import ITEM_CODES, UNCLEAR, DoseUnit, QualityTerms
from exosynth.studies.loading import line_of
from exosynth.studies.records import QUALITY_BLOCKS as BLOCKS
from exosynth.studies.records import canonical
from exosynth.vocabulary import UnknownTerm

STAGE = "normalize"
EV_FIELDS = (
    "isolation",
    "centrifugation",
    "particles",
    "size",
    "markers_positive",
    "markers_negative",
    "imaging",
)

# One row per spelling in a record: raw_file, field (as the author reads it), kind, term,
# and the lookup's code (null: unknown) and hint.
TERM_RULES: tuple[Rule, ...] = (
    Rule(
        "vocabulary.isolation",
        "{field}",
        (pl.col("kind") == "isolation") & pl.col("code").is_null(),
        "unknown EV isolation method {term!r}",
        "{hint}",
    ),
    Rule(
        "vocabulary.route",
        "{field}",
        (pl.col("kind") == "route") & pl.col("code").is_null(),
        "unknown route of administration {term!r}",
        "{hint}",
    ),
    Rule(
        "vocabulary.dose_unit",
        "{field}",
        (pl.col("kind") == "dose_unit") & pl.col("code").is_null(),
        "unknown dose unit {term!r}",
        "{hint}",
    ),
    Rule(
        "dose.per_kg_conflict",
        "dose.per_kg",
        (pl.col("kind") == "dose_unit") & pl.col("per_kg_conflict"),
        "per_kg is false but the unit {term!r} is per kg",
        "drop per_kg, or write the unit without /kg if the dose is not per body weight",
    ),
)

_TERM_SCHEMA = {
    "raw_file": pl.String,
    "field": pl.String,
    "kind": pl.String,
    "term": pl.String,
    "per_kg_conflict": pl.Boolean,
}


def _listed(value: Any) -> list[str]:
    """One spelling or a list of them, as a list; empty when not reported."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def _terms_of(raw_file: str, ev: Any, dose: Any, route: Any) -> list[tuple]:
    rows: list[tuple] = []
    if isinstance(ev, dict):
        isolation = ev.get("isolation")
        for i, term in enumerate(_listed(isolation)):
            field = "ev.isolation" if isinstance(isolation, str) else f"ev.isolation[{i}]"
            rows.append((raw_file, field, "isolation", term, False))
    for i, term in enumerate(_listed(route)):
        rows.append(
            (raw_file, "route" if isinstance(route, str) else f"route[{i}]", "route", term, False)
        )
    if isinstance(dose, dict) and isinstance(dose.get("unit"), str):
        rows.append((raw_file, "dose.unit", "dose_unit", dose["unit"], dose.get("per_kg") is False))
    return rows


def _decoded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _lookup(terms: pl.DataFrame, vocabulary: QualityTerms) -> pl.DataFrame:
    """Code, per-kg flag and hint of each distinct (kind, term), each looked up once."""
    rows = []
    for kind, term in terms.select("kind", "term").unique().sort("kind", "term").iter_rows():
        if kind == "dose_unit":
            found: Any = vocabulary.match_dose_unit(term)
        else:
            found = (vocabulary.isolation if kind == "isolation" else vocabulary.routes).match(term)
        if isinstance(found, UnknownTerm):
            rows.append((kind, term, None, None, found.hint))
        elif isinstance(found, DoseUnit):
            rows.append((kind, term, found.unit, found.per_kg, None))
        else:
            rows.append((kind, term, found, None, None))
    return pl.DataFrame(
        rows,
        schema={
            "kind": pl.String,
            "term": pl.String,
            "code": pl.String,
            "unit_per_kg": pl.Boolean,
            "hint": pl.String,
        },
        orient="row",
    )


def _risk_of_bias(block: Any) -> dict | None:
    if not isinstance(block, dict):
        return None
    items = {}
    for code in ITEM_CODES:
        entry = block.get(code)
        judgement, support = (
            (entry.get("judgement"), entry.get("support"))
            if isinstance(entry, dict)
            else (entry, None)
        )
        items[code] = {"judgement": judgement or UNCLEAR, "support": support}
    return items


def _codes(
    spellings: list[str], kind: str, codes: dict[tuple[str, str], str | None]
) -> list | None:
    found = [codes.get((kind, term)) for term in spellings]
    return list(dict.fromkeys(c for c in found if c is not None)) or None


def quality_blocks(
    records: pl.DataFrame, vocabulary: QualityTerms
) -> tuple[pl.DataFrame, list[Problem]]:
    """``records`` with its four block columns in canonical codes, and the problems of their
    spellings. ``records`` has ``raw_file`` and the block columns (JSON text or null)."""
    present = [b for b in BLOCKS if b in records.columns]
    if not present:
        return records, []
    decoded = {
        b: [_decoded(t) for t in (records[b] if b in present else [None] * records.height)]
        for b in BLOCKS
    }
    files = records["raw_file"].to_list()
    term_rows = [
        row
        for i, raw_file in enumerate(files)
        for row in _terms_of(raw_file, decoded["ev"][i], decoded["dose"][i], decoded["route"][i])
    ]
    terms = pl.DataFrame(term_rows, schema=_TERM_SCHEMA, orient="row")
    lookup = _lookup(terms, vocabulary)
    found = terms.join(lookup, on=["kind", "term"], how="left", maintain_order="left").with_columns(
        per_kg_conflict=pl.col("per_kg_conflict") & pl.col("unit_per_kg").fill_null(False)
    )
    problems = run_rules(found, TERM_RULES, STAGE)
    codes = {(k, t): c for k, t, c in lookup.select("kind", "term", "code").iter_rows()}
    per_kg = {
        t: bool(p)
        for k, t, p in lookup.select("kind", "term", "unit_per_kg").iter_rows()
        if k == "dose_unit"
    }
    rob, ev, dose, route = [], [], [], []
    for i in range(records.height):
        rob.append(canonical(_risk_of_bias(decoded["risk_of_bias"][i])))
        block = decoded["ev"][i]
        if isinstance(block, dict):
            fields = {name: block.get(name) for name in EV_FIELDS}
            fields["isolation"] = _codes(_listed(block.get("isolation")), "isolation", codes)
            for name in ("markers_positive", "markers_negative"):
                fields[name] = fields[name] or None  # an empty list reports nothing
            ev.append(canonical(fields))
        else:
            ev.append(None)
        given = decoded["dose"][i]
        if isinstance(given, dict) and isinstance(given.get("unit"), str):
            unit = given["unit"]
            dose.append(
                canonical(
                    {
                        "value": given.get("value"),
                        "unit": codes.get(("dose_unit", unit)),
                        "per_kg": bool(given.get("per_kg")) or per_kg.get(unit, False),
                    }
                )
            )
        else:
            dose.append(None)
        route.append(canonical(_codes(_listed(decoded["route"][i]), "route", codes)))
    return (
        records.with_columns(
            pl.Series("risk_of_bias", rob, pl.String),
            pl.Series("ev", ev, pl.String),
            pl.Series("dose", dose, pl.String),
            pl.Series("route", route, pl.String),
        ),
        problems,
    )


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(field: str) -> tuple[str | int, ...]:
    """``ev.isolation[1]`` -> ("ev", "isolation", 1): the inverse of problems.field_path."""
    return tuple(int(i) if i else name for name, i in _PART.findall(field))


def located(problems: list[Problem], read_text: Callable[[str], str]) -> list[Problem]:
    """The problems of :data:`TERM_RULES` with the line of their field, looked up in the
    file's text (``read_text(raw_file)``: the edge reads it, for the files with a problem
    only); other problems, and files that cannot be read, unchanged."""
    codes = {rule.code for rule in TERM_RULES}
    texts: dict[str, str | None] = {}
    found = []
    for problem in problems:
        if problem.code in codes and problem.line is None:
            if problem.file not in texts:
                try:
                    texts[problem.file] = read_text(problem.file)
                except (OSError, UnicodeDecodeError):
                    texts[problem.file] = None
            text = texts[problem.file]
            if text is not None:
                problem = replace(problem, line=line_of(text, _parts(problem.field)))  # noqa: PLW2901
        found.append(problem)
    return found
