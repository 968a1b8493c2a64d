"""Validate: checks across records, declared as a table of rules (exosynth.checks).

The JSON Schema sees one file at a time; here the corpus is checked as a whole
(unique ids, no paper entered twice under its DOI, PMID or citing review's
reference) together with the rules that tie fields of one record together. Every
record whose fields are present is checked, a rejected one too, so a file's schema
and cross-record problems come out of one build.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from exosynth.checks import Rule, run_rules, with_others
from exosynth.problems import Problem

STAGE = "validate"
_SAME_PAPER = "the same paper is entered twice: keep one of the files"

RULES: tuple[Rule, ...] = (
    Rule(
        "validate.unique_id",
        "id",
        pl.col("id").is_not_null() & pl.col("id").is_duplicated(),
        "id {id!r} is used by more than one file (also {id_others})",
        "give each paper its own id, e.g. add a suffix: zhang-2018a, zhang-2018b",
    ),
    Rule(
        "validate.unique_doi",
        "citation.doi",
        pl.col("doi_key").is_not_null() & pl.col("doi_key").is_duplicated(),
        "DOI {doi!r} is entered in more than one file (also {doi_others})",
        _SAME_PAPER,
    ),
    Rule(
        "validate.unique_pmid",
        "citation.pmid",
        pl.col("pmid_key").is_not_null() & pl.col("pmid_key").is_duplicated(),
        "PMID {pmid!r} is entered in more than one file (also {pmid_others})",
        _SAME_PAPER,
    ),
    Rule(
        "validate.unique_cited_in",
        "citation.cited_in",
        pl.col("cited_key").is_not_null() & pl.col("cited_key").is_duplicated(),
        "ref {cited_in_ref} of {cited_doc} is entered in more than one file (also {cited_others})",
        _SAME_PAPER + ", or correct the reference number",
    ),
    Rule(
        "validate.has_evidence",
        "in_vitro",
        (pl.col("in_vitro").fill_null(False).not_())
        & (pl.col("in_vivo").list.len().fill_null(0) == 0)
        & pl.col("clinical_patients").is_null(),
        "no evidence: in_vitro is {in_vitro_text}, in_vivo is empty and clinical is null",
        "set in_vitro: true, add an in_vivo model or clinical: {{patients: N}}",
        # A value the schema rejected is missing here, not absent from the paper.
        needs=("in_vitro", "in_vivo", "clinical"),
    ),
)


def doi_key(doi: pl.Expr) -> pl.Expr:
    """A DOI as compared: lower case, without resolver prefixes (DOIs are case-insensitive)."""
    return (
        doi.str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^(?:https?://)?(?:dx\.)?doi\.org/", "")
        .str.replace(r"^doi:\s*", "")
    )


def cited_document() -> pl.Expr:
    """The citing review as cited: ``doi:10.1186/...`` (bare, case kept) or its URL."""
    bare = pl.col("cited_in_doi").str.strip_chars()
    bare = bare.str.replace(r"(?i)^(?:https?://)?(?:dx\.)?doi\.org/", "").str.replace(
        r"(?i)^doi:\s*", ""
    )
    return pl.coalesce(pl.concat_str([pl.lit("doi:"), bare]), pl.col("cited_in_url"))


def with_keys(records: pl.DataFrame) -> pl.DataFrame:
    """The records with the keys they are compared by: a paper entered twice shares one."""
    cited_key = pl.concat_str(
        [
            pl.coalesce(doi_key(pl.col("cited_in_doi")), pl.col("cited_in_url").str.strip_chars()),
            pl.col("cited_in_ref").cast(pl.String),
        ],
        separator=" ref ",
    )
    return records.with_columns(
        doi_key=doi_key(pl.col("doi")),
        # The schema admits digits only, without leading zeros: a PMID is compared as written.
        pmid_key=pl.col("pmid"),
        cited_key=cited_key,
    )


# What two records share when one record's cross-record problem names the other: the keys
# of RULES here, and the review row and reference number that normalize compares per table.
SHARED_KEYS = ("id", "doi_key", "pmid_key", "cited_key", "review_row", "ref")


def sharing_a_key(records: pl.DataFrame, files: Sequence[str]) -> pl.DataFrame:
    """The records of ``files`` and every record that shares a key with one of them.

    A cross-record problem of a named file (here or in exosynth.normalize) involves only
    records that share one of :data:`SHARED_KEYS` with it, so checking the named files
    against these finds every problem checking them against all records would.
    """
    frame = with_keys(records)
    named = pl.col("raw_file").is_in(list(files))
    mine = frame.filter(named)
    keep = named
    for key in SHARED_KEYS:
        keep = keep | pl.col(key).is_in(mine[key].drop_nulls().unique().implode())
    return records.filter(frame.select(keep.alias("keep"))["keep"])


def checked_frame(records: pl.DataFrame) -> pl.DataFrame:
    """The records with the comparison keys and, per key, the other files that share it."""
    frame = with_keys(records).with_columns(
        cited_doc=cited_document(),
        in_vitro_text=pl.col("in_vitro").cast(pl.String).fill_null("not reported"),
    )
    for key in ("id", "doi_key", "pmid_key", "cited_key"):
        frame = with_others(frame, f"{key.removesuffix('_key')}_others", pl.col(key))
    return frame


def validate_records(records: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Check every record against the others (a rejected one too: its fields that parsed).

    Returns the frame with ``accepted`` cleared for every record that broke a rule
    with an error, and one problem per record and rule.
    """
    records = records.sort("raw_file")
    problems = run_rules(checked_frame(records.filter(pl.col("parsed"))), RULES, STAGE)
    rejected = sorted({p.file for p in problems if p.is_error})
    return (
        records.with_columns(accepted=pl.col("accepted") & ~pl.col("raw_file").is_in(rejected)),
        problems,
    )
