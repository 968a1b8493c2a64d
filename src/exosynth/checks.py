"""Checks declared one way: a table of rules, each a polars filter over a frame of records.

validate (across records) and normalize (vocabularies, folders, table rows) declare
their checks as :class:`Rule` tables and run them with :func:`run_rules`. A rule
fires on the rows its ``when`` expression selects; a null in the expression never
fires, so a rule about a field that is missing or was rejected by the schema stays
quiet instead of guessing. Only polars is imported here: ``exosynth check`` runs these
rules in a fresh process and must start fast (no pandera, no Snakemake).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from exosynth.problems import ERROR, Problem

# The column ingest fills with the fields the schema rejected (their values are dropped).
INVALID_FIELDS = "invalid_fields"


@dataclass(frozen=True)
class Rule:
    """One check: its stable code, the field it is about, the rows it fires on, the words.

    ``message``, ``hint`` and ``field`` are ``str.format`` templates over the firing row's
    columns (``"id {id!r} is used by more than one file"``). ``needs`` names record fields
    whose schema problems make the rule meaningless for a row: such rows are skipped (their
    schema problem is already reported).
    """

    code: str
    field: str
    when: pl.Expr
    message: str
    hint: str
    severity: str = ERROR
    needs: tuple[str, ...] = ()


def run_rules(frame: pl.DataFrame, rules: Iterable[Rule], stage: str) -> list[Problem]:
    """Every problem of every rule on ``frame`` (one row per record, or per model entry)."""
    problems: list[Problem] = []
    for rule in rules:
        when = rule.when
        if rule.needs and INVALID_FIELDS in frame.columns:
            invalid = pl.col(INVALID_FIELDS).fill_null([])
            when = when & ~pl.any_horizontal(
                [invalid.list.contains(pl.lit(name)) for name in rule.needs]
            )
        for row in frame.filter(when).iter_rows(named=True):
            problems.append(
                Problem(
                    row["raw_file"],
                    None,
                    rule.field.format(**row),
                    rule.message.format(**row),
                    rule.hint.format(**row),
                    stage,
                    rule.code,
                    rule.severity,
                )
            )
    return problems


def with_others(frame: pl.DataFrame, column: str, key: pl.Expr) -> pl.DataFrame:
    """``frame`` with ``column``: the other files sharing this row's ``key``, ", "-joined.

    Only rows whose key is present and shared get a value (where the duplicate is); the
    groups are built from those rows alone, never from the null key that most rows share
    (a window over it would be quadratic: 220 s for 10,000 papers). ``frame`` has one
    row per ``raw_file``.
    """
    shared = frame.select("raw_file", key.alias("_key")).filter(
        pl.col("_key").is_not_null() & pl.col("_key").is_duplicated()
    )
    files = shared.group_by("_key").agg(_files=pl.col("raw_file").sort())
    found = shared.join(files, on="_key").select(
        "raw_file",
        pl.col("_files")
        .list.set_difference(pl.concat_list(pl.col("raw_file")))
        .list.sort()
        .list.join(", ")
        .alias(column),
    )
    return frame.join(found, on="raw_file", how="left", maintain_order="left")
