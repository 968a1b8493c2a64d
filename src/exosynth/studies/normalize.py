"""Normalize: map the words of the records to codes, one study per row.

Term lookups (sources, species, model texts) run once per distinct spelling in
Python and are joined back; every check is a :class:`exosynth.checks.Rule` of
:data:`RECORD_RULES` or :data:`MODEL_RULES`, a polars filter over the records or
over their animal models. Every record that parsed is checked, a rejected one too,
so its vocabulary problems come out of the same build as its schema problems; only
accepted records without an error become studies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from pathlib import PurePosixPath
from typing import Any

import polars as pl

from exosynth.analysis_groups import AnalysisGroups, with_condition_groups
from exosynth.checks import Rule, run_rules, with_others
from exosynth.problems import WARNING, Problem
from exosynth.quality_terms import QualityTerms
from exosynth.settings import SourceTable
from exosynth.studies.quality_blocks import quality_blocks
from exosynth.studies.records import QUALITY_BLOCKS
from exosynth.studies.validate import cited_document
from exosynth.vocabulary import STAGES, UnknownTerm, Vocabulary

STAGE = "normalize"
UNCLASSIFIED = "unclassified"

STUDY_COLUMNS = (
    "id",
    "source",
    "table",
    "condition",
    "in_vitro",
    "in_vivo",
    "species",
    "strain",
    "model_type",
    "stage",
    "clinical_patients",
    "results",
    "first_author",
    "year",
    "ref",
    "doi",
    "pmid",
    "raw_file",
    # Added by issue 10, after the contract's columns so existing readers keep working.
    "source_donor",
    "model_induction",
    "cited_in",
    "cited_in_ref",
    # The row in the review's table, empty for a paper added after the review (the workbook
    # marks and counts those).
    "review_row",
    # The condition's group (config/vocabulary.yaml conditions:; a condition no group claims
    # is its own group): what the analyses, figures and maps count by. "condition" stays as
    # written, for the tables.
    "condition_group",
    # The record's optional blocks as JSON text, the quality blocks in codes: for synthesis/
    # only, not published (studies.csv keeps its contract columns).
    "outcomes",
    *QUALITY_BLOCKS,
)
# The columns of the interim study table that studies.csv, .parquet and the workbook leave out.
BLOCK_COLUMNS = ("outcomes", *QUALITY_BLOCKS)

_ADD_TO_VOCABULARY = "otherwise add the term to config/vocabulary.yaml"

# Checks of one record (frame: one row per file that parsed, with the codes joined on).
RECORD_RULES: tuple[Rule, ...] = (
    Rule(
        "vocabulary.source",
        "source",
        pl.col("source_term").is_not_null() & pl.col("source").is_null(),
        "unknown MSC source {source_term!r}",
        "{source_hint}",
    ),
    Rule(
        "normalize.source_table",
        "source",
        pl.col("source").is_not_null() & pl.col("table").is_null(),
        "source {source!r} has no table",
        "add {source} under sources in config/config.yaml (configured: {configured})",
    ),
    Rule(
        "normalize.source_folder",
        "source",
        pl.col("source").is_not_null() & (pl.col("folder") != pl.col("source")),
        "source is {source!r} but the file is in folder {folder!r}",
        "move the file to {raw_dir}/{source}/ or correct source",
    ),
    Rule(
        "vocabulary.donor_species",
        "donor_species",
        pl.col("donor_species_term").is_not_null() & pl.col("donor_code").is_null(),
        "unknown donor species {donor_species_term!r}",
        "{donor_species_hint}",
    ),
    Rule(
        "normalize.donor_conflict",
        "donor_species",
        pl.col("donor_code").is_not_null()
        & pl.col("spelled_donor").is_not_null()
        & (pl.col("donor_code") != pl.col("spelled_donor")),
        "donor_species is {donor_code!r} but source {source_term!r} names a {spelled_donor} donor",
        "correct donor_species or source, whichever the paper contradicts",
    ),
    # Two studies on one row of the review's table would make the table's order a guess.
    Rule(
        "normalize.review_row",
        "review_row",
        pl.col("source").is_not_null()
        & pl.col("review_row").is_not_null()
        & pl.struct("source", "review_row").is_duplicated(),
        "review_row {review_row} is used by more than one {source} study (also {row_others})",
        "give each study of the review its own row; leave review_row out for papers "
        "added after the review",
    ),
    # A reference number copied along with an old record ("ref: 23" in a new paper).
    Rule(
        "normalize.ref_reused",
        "citation.ref",
        pl.col("source").is_not_null()
        & pl.col("ref").is_not_null()
        & pl.struct("source", "ref").is_duplicated(),
        "ref {ref} is used by more than one {source} study (also {ref_others})",
        "ref is the paper's number in the review's reference list: correct it, or leave it "
        "out for a paper that is not in the review",
    ),
)

# Checks of one animal model (frame: one row per in_vivo entry of a file that parsed).
MODEL_RULES: tuple[Rule, ...] = (
    Rule(
        "vocabulary.species",
        "in_vivo[{index}].species",
        pl.col("species_term").is_not_null() & pl.col("species_code").is_null(),
        "unknown species {species_term!r}",
        "{species_hint}",
    ),
    Rule(
        "model_type.unknown",
        "in_vivo[{index}].model_type",
        pl.col("given_type").is_not_null() & ~pl.col("given_type_known"),
        "model type {given_type!r} is not known",
        "use one of {model_type_codes}, or leave model_type out",
    ),
    Rule(
        "model_type.unclassified",
        "in_vivo[{index}].model",
        pl.col("given_type").is_null() & (pl.col("classified") == UNCLASSIFIED),
        "the vocabulary cannot tell the model type of {model!r}: it counts as unclassified",
        "add `model_type:` (one of {model_type_codes}) to in_vivo[{index}] of the record, "
        "or a keyword for it under model_types in config/vocabulary.yaml",
        severity=WARNING,
    ),
)


def _map_terms(
    frame: pl.DataFrame,
    column: str,
    match: Callable[[str], Any],
    *,
    codes: tuple[str, str],
) -> pl.DataFrame:
    """Join the codes of ``column``'s terms onto ``frame``, looking each distinct term up once.

    ``column`` is renamed ``<column>_term`` (the record's own wording); ``codes`` are added,
    and ``<column>_hint`` (the closest known terms) where the vocabulary does not know a
    term, which leaves its codes null for a rule to report.
    """
    term, hint = f"{column}_term", f"{column}_hint"
    rows = []
    for value in frame[column].drop_nulls().unique().sort().to_list():
        found = match(value)
        if isinstance(found, UnknownTerm):
            rows.append((value, None, None, found.hint))
        else:
            rows.append((value, *astuple(found), None))
    lookup = pl.DataFrame(
        rows,
        schema={term: pl.String, **dict.fromkeys(codes, pl.String), hint: pl.String},
        orient="row",
    )
    return frame.rename({column: term}).join(lookup, on=term, how="left")


def _classify(models: pl.DataFrame, vocabulary: Vocabulary) -> pl.DataFrame:
    """The vocabulary's model type and induction of each distinct model text, joined on."""
    rows = []
    for text in models["model"].drop_nulls().unique().sort().to_list():
        found = vocabulary.classify_model(text)  # type: ignore[attr-defined]
        rows.append((text, found.model_type, found.induction))
    lookup = pl.DataFrame(
        rows,
        schema={"model": pl.String, "classified": pl.String, "induction": pl.String},
        orient="row",
    )
    return models.join(lookup, on="model", how="left")


def _labels(models: pl.DataFrame, vocabulary: Vocabulary) -> pl.DataFrame:
    """The vocabulary's label of each distinct species and strain ("Rat"), joined on."""
    pairs = (
        models.select("species_code", "strain")
        .drop_nulls("species_code")
        .unique()
        .sort("species_code", "strain", nulls_last=False)
    )
    lookup = pairs.with_columns(
        species_label=pl.Series(
            [
                vocabulary.species_label(species, strain)  # type: ignore[attr-defined]
                for species, strain in pairs.iter_rows()
            ],
            dtype=pl.String,
        )
    )
    return models.join(lookup, on=["species_code", "strain"], how="left", nulls_equal=True)


def _joined(column: str) -> pl.Expr:
    """Distinct non-empty values, sorted, joined by ';' (the contract's form for several)."""
    return pl.col(column).drop_nulls().unique().sort().str.join(";")


def _codes_with(column: str, code: str, condition: pl.Expr) -> pl.Expr:
    """The ';'-joined codes of ``column`` plus ``code`` where ``condition`` holds, sorted."""
    return (
        pl.concat_list(
            pl.col(column).fill_null("").str.split(";"),
            pl.when(condition).then(pl.lit(code)).otherwise(pl.lit("")),
        )
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.unique()
        .list.sort()
        .list.join(";")
        .replace("", None)
    )


def _word(term: pl.Expr) -> pl.Expr:
    """A regex matching ``term`` as whole words, case-insensitively."""
    return pl.concat_str(pl.lit(r"(?i)\b"), term.str.escape_regex(), pl.lit(r"\b"))


def _records(
    records: pl.DataFrame, vocabulary: Vocabulary, tables: list[SourceTable], raw_dir: str
) -> pl.DataFrame:
    """Every record that parsed, with source, table, folder and donor codes joined on."""
    frame = _map_terms(
        records.filter(pl.col("parsed")), "source", vocabulary.match_source,
        codes=("source", "spelled_donor"),
    )  # fmt: skip
    frame = _map_terms(
        frame, "donor_species", vocabulary.match_species, codes=("donor_code", "donor_strain")
    )
    table_of = pl.DataFrame(
        {"source": [t.key for t in tables], "table": [t.table for t in tables]},
        schema={"source": pl.String, "table": pl.Int64},
    )
    prefix = PurePosixPath(raw_dir).as_posix().rstrip("/") + "/"
    frame = frame.join(table_of, on="source", how="left", maintain_order="left").with_columns(
        folder=pl.col("raw_file").str.strip_prefix(prefix).str.replace(r"/?[^/]*$", ""),
        source_donor=pl.coalesce("donor_code", "spelled_donor"),
        cited_in=cited_document(),
        configured=pl.lit(", ".join(t.key for t in tables)),
        raw_dir=pl.lit(raw_dir),
    )
    # Keys with a null part are no key: a study without review_row shares none.
    for column, part in (("row_others", "review_row"), ("ref_others", "ref")):
        key = pl.when(pl.col("source").is_not_null() & pl.col(part).is_not_null()).then(
            pl.struct("source", part)
        )
        frame = with_others(frame, column, key)
    return frame


def _models(records: pl.DataFrame, vocabulary: Vocabulary) -> pl.DataFrame:
    """One row per animal model of every record, with species, strain and model type."""
    models = (
        records.select("raw_file", "review_row", "in_vivo")
        .with_columns(pl.col("in_vivo").fill_null([]))
        .explode("in_vivo")
        .drop_nulls("in_vivo")
        .with_columns(index=pl.int_range(pl.len()).over("raw_file"))
        .unnest("in_vivo")
        .rename({"model_type": "given_type"})
        .with_row_index("entry")
    )
    models = _map_terms(
        models, "species", vocabulary.match_species, codes=("species_code", "strain")
    )
    models = _labels(_classify(models, vocabulary), vocabulary)
    known = sorted(vocabulary.model_type_codes() | {UNCLASSIFIED})
    # The review's own papers print their species as the review does ("Nude mice"); added
    # papers print the vocabulary's label ("Rat", not "rats"), strain kept.
    written = pl.col("review_row").is_not_null() | pl.col("species_label").is_null()
    label = pl.when(written).then(pl.col("species_term")).otherwise(pl.col("species_label"))
    return models.with_columns(
        given_type_known=pl.col("given_type").is_in(known),
        # What a record may name for an animal model: "clinical" is for use in people.
        model_type_codes=pl.lit(", ".join(c for c in known if c not in (UNCLASSIFIED, "clinical"))),
        model_type=pl.coalesce("given_type", "classified"),
        # "Mouse full-thickness incision wound model" names its species already; whole
        # words only, or "Rat" would hide in "degeneration".
        shown=pl.when(
            pl.col("model").str.contains(_word(pl.col("species_term")))
            | pl.col("model").str.contains(_word(label))
        )
        .then(pl.col("model"))
        .otherwise(pl.concat_str("model", pl.lit(" ("), label, pl.lit(")"))),
    )


def check(
    records: pl.DataFrame, vocabulary: Vocabulary, tables: list[SourceTable], raw_dir: str
) -> tuple[pl.DataFrame, pl.DataFrame, list[Problem]]:
    """The records and their models with codes joined on, and every problem of both."""
    frame = _records(records, vocabulary, tables, raw_dir)
    models = _models(frame, vocabulary)
    frame, quality = quality_blocks(frame, QualityTerms.from_vocabulary(vocabulary.short_lists))
    problems = run_rules(frame, RECORD_RULES, STAGE) + run_rules(models, MODEL_RULES, STAGE)
    return frame, models, problems + quality


def normalize(
    records: pl.DataFrame,
    vocabulary: Vocabulary,
    tables: list[SourceTable],
    raw_dir: str,
    groups: AnalysisGroups | None = None,
) -> tuple[pl.DataFrame, list[Problem]]:
    """The normalized study table of the accepted records, and the problems of every record.

    ``groups`` (the vocabulary's ``conditions:``) gives each study its ``condition_group``;
    without it every condition is its own group.
    """
    frame, models, problems = check(records, vocabulary, tables, raw_dir)
    rejected = sorted({p.file for p in problems if p.is_error})
    per_study = (
        models.sort("entry")
        .group_by("raw_file", maintain_order=True)
        .agg(
            in_vivo=pl.col("shown").str.join("; "),
            animal_species=_joined("species_code"),
            strain=_joined("strain"),
            animal_model_types=_joined("model_type"),
            model_induction=_joined("induction").replace("", None),
        )
    )
    clinical = pl.col("clinical_patients").is_not_null()
    studies = (
        frame.filter(pl.col("accepted") & ~pl.col("raw_file").is_in(rejected))
        .drop("in_vivo")
        .join(per_study, on="raw_file", how="left")
        .with_columns(
            species=_codes_with("animal_species", "human", clinical),
            model_type=_codes_with("animal_model_types", "clinical", clinical),
            strain=pl.col("strain").replace("", None),
            stage=pl.when(clinical)
            .then(pl.lit("clinical"))
            .when(pl.col("animal_species").is_not_null())
            .then(pl.lit("animal"))
            .otherwise(pl.lit("in_vitro")),
        )
        .pipe(with_condition_groups, groups)
        .sort(["table", "review_row", "year", "first_author", "id"], nulls_last=True)
        .select(STUDY_COLUMNS)
    )
    return studies, problems


def check_contract(studies: pl.DataFrame) -> pl.DataFrame:
    """The study table checked against its output contract with pandera (a bug if it fails).

    Kept out of :func:`normalize` so that ``exosynth check``, which builds no outputs, does
    not pay pandera's import (about a second), and called by rule tables, beside the
    figures, not on the path from an added paper to the last output.
    """
    import pandera.polars as pa  # noqa: PLC0415 (see above)

    schema = pa.DataFrameSchema(
        {
            "id": pa.Column(str, unique=True),
            "source": pa.Column(str),
            "table": pa.Column(pl.Int64, pa.Check.ge(1)),
            "stage": pa.Column(str, pa.Check.isin(STAGES)),
            "in_vitro": pa.Column(bool, nullable=True),  # null: not reported
            "clinical_patients": pa.Column(pl.Int64, pa.Check.ge(1), nullable=True),
            "species": pa.Column(str, pa.Check.str_matches(r"^[a-z_]+(;[a-z_]+)*$"), nullable=True),
            "raw_file": pa.Column(str, unique=True),
            "condition_group": pa.Column(str),  # every condition has one, its own at least
        },
        strict=False,
        ordered=False,
    )
    return schema.validate(studies)
