"""Validate: checks across records with pandera (polars backend).

The JSON Schema sees one file at a time; here the corpus is checked as a whole
(unique ids, no paper entered twice under its DOI or PMID) together with the
rules that tie fields of one record together.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from exosynth.problems import Problem


@dataclass(frozen=True)
class Rule:
    """A cross-record rule: the field it is about, what is wrong, how to fix it."""

    field: str
    column: str
    message: str
    hint: str


RULES: dict[str, Rule] = {
    "unique_id": Rule(
        "id",
        "id",
        "id {value!r} is used by more than one file",
        "give each paper its own id, e.g. add a suffix: zhang-2018a, zhang-2018b",
    ),
    "unique_doi": Rule(
        "citation.doi",
        "doi",
        "DOI {value!r} is entered in more than one file",
        "the same paper is entered twice: keep one file",
    ),
    "unique_pmid": Rule(
        "citation.pmid",
        "pmid",
        "PMID {value!r} is entered in more than one file",
        "the same paper is entered twice: keep one file",
    ),
    "has_evidence": Rule(
        "in_vitro",
        "in_vitro",
        "no evidence: in_vitro is false, in_vivo is empty and clinical is null",
        "set in_vitro: true, add an in_vivo model or clinical: {patients: N}",
    ),
    "patients_at_least_one": Rule(
        "clinical.patients",
        "clinical_patients",
        "{value!r} patients",
        "clinical use needs at least 1 patient; use clinical: null when there was none",
    ),
}


def _unique_among_present(column: str) -> pa.Check:
    return pa.Check(
        lambda data: data.lazyframe.select(
            pl.col(column).is_null() | pl.col(column).is_duplicated().not_()
        ),
        name=f"unique_{column.removesuffix('_key')}",
    )


RECORDS_SCHEMA = pa.DataFrameSchema(
    {
        "raw_file": pa.Column(str, unique=True),
        "id": pa.Column(
            str,
            checks=pa.Check(
                lambda data: data.lazyframe.select(pl.col("id").is_duplicated().not_()),
                name="unique_id",
            ),
        ),
        "doi_key": pa.Column(str, nullable=True, checks=_unique_among_present("doi_key")),
        "pmid_key": pa.Column(str, nullable=True, checks=_unique_among_present("pmid_key")),
        "clinical_patients": pa.Column(
            pl.Int64,
            nullable=True,
            checks=pa.Check(
                lambda data: data.lazyframe.select(
                    pl.col("clinical_patients").is_null() | (pl.col("clinical_patients") >= 1)
                ),
                name="patients_at_least_one",
            ),
        ),
    },
    checks=[
        pa.Check(
            lambda data: data.lazyframe.select(
                pl.col("in_vitro")
                | (pl.col("in_vivo").list.len().fill_null(0) > 0)
                | pl.col("clinical_patients").is_not_null()
            ),
            name="has_evidence",
        )
    ],
    strict=False,
)


def doi_key(doi: pl.Expr) -> pl.Expr:
    """A DOI as compared: lower case, without resolver prefixes (DOIs are case-insensitive)."""
    return (
        doi.str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^(?:https?://)?(?:dx\.)?doi\.org/", "")
        .str.replace(r"^doi:\s*", "")
    )


def pmid_key(pmid: pl.Expr) -> pl.Expr:
    return pmid.str.strip_chars().str.replace(r"^0+", "")


def validate_records(records: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Check the accepted records against each other; rejected rows are passed through.

    Returns the frame with ``accepted`` cleared for every record that broke a rule,
    and one problem per record and rule.
    """
    records = records.sort("raw_file")
    candidates = records.filter(pl.col("accepted")).with_columns(
        doi_key=doi_key(pl.col("doi")), pmid_key=pmid_key(pl.col("pmid"))
    )
    problems: list[Problem] = []
    try:
        RECORDS_SCHEMA.validate(candidates, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases.filter(pl.col("index").is_not_null())
        files = candidates["raw_file"]
        for row in failures.iter_rows(named=True):
            rule = RULES.get(row["check"])
            if rule is None:  # a dtype or column check: the ingest contract itself was broken
                raise
            index = row["index"]
            value = candidates[rule.column][index]
            problems.append(
                Problem(
                    files[index],
                    None,
                    rule.field,
                    rule.message.format(value=value),
                    rule.hint,
                    "validate",
                )
            )
    rejected = {p.file for p in problems if p.is_error}
    return (
        records.with_columns(accepted=pl.col("accepted") & ~pl.col("raw_file").is_in(rejected)),
        problems,
    )
