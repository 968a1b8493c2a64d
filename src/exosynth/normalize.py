"""Normalize: map the words of the records to codes, one study per row.

Term lookups run once per distinct spelling; everything per record is a polars
expression, so the cost stays linear in the corpus and off the Python loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from pathlib import PurePosixPath

import pandera.polars as pa
import polars as pl

from exosynth.problems import Problem
from exosynth.settings import SourceTable
from exosynth.vocabulary import (
    STAGES,
    UNCLASSIFIED,
    SourceMatch,
    SpeciesMatch,
    UnknownTerm,
    Vocabulary,
)

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
)


def _map_terms(
    frame: pl.DataFrame,
    column: str,
    match: Callable[[str], SourceMatch | SpeciesMatch | UnknownTerm],
    *,
    codes: tuple[str, str],
    field: str,
    what: str,
) -> tuple[pl.DataFrame, list[Problem]]:
    """Join the codes of ``column``'s terms onto ``frame``, looking each distinct term up once.

    ``column`` is renamed ``<column>_term`` (the record's own wording) and ``codes`` are
    added; a term the vocabulary does not know leaves them null and is a problem of every
    file that uses it, with the closest known terms.
    """
    term = f"{column}_term"
    rows, unknown = [], {}
    for value in frame[column].unique().sort().to_list():
        found = match(value)
        if isinstance(found, UnknownTerm):
            unknown[value] = found
        else:
            rows.append((value, *astuple(found)))
    lookup = pl.DataFrame(
        rows, schema={term: pl.String, **dict.fromkeys(codes, pl.String)}, orient="row"
    )
    frame = frame.rename({column: term}).join(lookup, on=term, how="left")
    problems = [
        Problem(path, None, field, f"unknown {what} {value!r}", unknown[value].hint, "normalize")
        for path, value in frame.filter(pl.col(codes[0]).is_null())
        .select("raw_file", term)
        .iter_rows()
    ]
    return frame, problems


def model_type_expr(vocabulary: Vocabulary) -> pl.Expr:
    """The model type of the model text (null where the vocabulary cannot place it), by
    :meth:`Vocabulary.classify_model`, each distinct text classified once."""

    def classify(models: pl.Series) -> pl.Series:
        types = {}
        for model in models.drop_nulls().unique().to_list():
            found = vocabulary.classify_model(model).model_type
            types[model] = None if found == UNCLASSIFIED else found
        return models.replace_strict(types, default=None, return_dtype=pl.String)

    return pl.col("model").map_batches(classify, return_dtype=pl.String)


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


def normalize(
    records: pl.DataFrame,
    vocabulary: Vocabulary,
    tables: list[SourceTable],
    raw_dir: str,
) -> tuple[pl.DataFrame, list[Problem]]:
    """The normalized study table of the accepted records, and the problems of the rest."""
    studies = records.filter(pl.col("accepted"))
    problems: list[Problem] = []

    studies, found = _map_terms(
        studies, "source", vocabulary.match_source,
        codes=("source", "source_donor"), field="source", what="MSC source",
    )  # fmt: skip
    problems.extend(found)

    table_of = pl.DataFrame(
        {"source": [t.key for t in tables], "table": [t.table for t in tables]},
        schema={"source": pl.String, "table": pl.Int64},
    )
    studies = studies.join(table_of, on="source", how="left")
    configured = ", ".join(t.key for t in tables)
    for path, source in (
        studies.filter(pl.col("source").is_not_null() & pl.col("table").is_null())
        .select("raw_file", "source")
        .iter_rows()
    ):
        problems.append(
            Problem(
                path,
                None,
                "source",
                f"source {source!r} has no table",
                f"add {source} under sources in config/config.yaml (configured: {configured})",
                "normalize",
            )
        )

    prefix = PurePosixPath(raw_dir).as_posix().rstrip("/") + "/"
    folder = pl.col("raw_file").str.strip_prefix(prefix).str.replace(r"/?[^/]*$", "")
    misplaced = studies.with_columns(folder=folder).filter(
        pl.col("source").is_not_null() & (pl.col("folder") != pl.col("source"))
    )
    for path, source, folder_name in misplaced.select("raw_file", "source", "folder").iter_rows():
        problems.append(
            Problem(
                path,
                None,
                "source",
                f"source is {source!r} but the file is in folder {folder_name!r}",
                f"move the file to {raw_dir}/{source}/ or correct source",
                "normalize",
            )
        )

    # Two studies on one row of the review's table would make the table's order a guess.
    same_row = studies.filter(
        pl.col("review_row").is_not_null()
        & pl.struct("source", "review_row").is_duplicated()
        & pl.col("source").is_not_null()
    )
    for path, source, row in same_row.select("raw_file", "source", "review_row").iter_rows():
        problems.append(
            Problem(
                path,
                None,
                "review_row",
                f"review_row {row} is used by more than one {source} study",
                "give each study of the review its own row; leave review_row out for papers "
                "added after the review",
                "normalize",
            )
        )

    models = (
        studies.select("id", "raw_file", "in_vivo")
        .explode("in_vivo")
        .drop_nulls("in_vivo")
        .unnest("in_vivo")
        .with_row_index("entry")
    )
    models, found = _map_terms(
        models, "species", vocabulary.match_species,
        codes=("species_code", "strain"), field="in_vivo.species", what="species",
    )  # fmt: skip
    problems.extend(found)
    known_types = vocabulary.model_type_codes()
    models = models.with_columns(
        model_type=pl.coalesce(pl.col("model_type"), model_type_expr(vocabulary)),
        # "Mouse full-thickness incision wound model" names its species already; whole
        # words only, or "Rat" would hide in "degeneration".
        shown=pl.when(
            pl.col("model").str.contains(
                pl.concat_str(
                    pl.lit(r"(?i)\b"), pl.col("species_term").str.escape_regex(), pl.lit(r"\b")
                )
            )
        )
        .then(pl.col("model"))
        .otherwise(pl.concat_str("model", pl.lit(" ("), "species_term", pl.lit(")"))),
    )
    for path, model, code in (
        models.filter(
            pl.col("model_type").is_null() | ~pl.col("model_type").is_in(sorted(known_types))
        )
        .select("raw_file", "model", "model_type")
        .iter_rows()
    ):
        message = (
            f"model type {code!r} is not known"
            if code
            else f"cannot tell the model type of {model!r}"
        )
        problems.append(
            Problem(
                path,
                None,
                "in_vivo.model_type",
                message,
                f"add model_type: one of {', '.join(sorted(known_types))}",
                "normalize",
            )
        )

    per_study = (
        models.sort("entry")
        .group_by("id", maintain_order=True)
        .agg(
            in_vivo=pl.col("shown").str.join("; "),
            animal_species=_joined("species_code"),
            strain=_joined("strain"),
            animal_model_types=_joined("model_type"),
        )
    )
    clinical = pl.col("clinical_patients").is_not_null()
    studies = (
        studies.drop("in_vivo")
        .join(per_study, on="id", how="left")
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
    )

    rejected = {p.file for p in problems if p.is_error}
    studies = (
        studies.filter(~pl.col("raw_file").is_in(sorted(rejected)))
        .sort(["table", "review_row", "year", "first_author", "id"], nulls_last=True)
        .select(STUDY_COLUMNS)
    )
    return STUDIES_SCHEMA.validate(studies), problems


STUDIES_SCHEMA = pa.DataFrameSchema(
    {
        "id": pa.Column(str, unique=True),
        "source": pa.Column(str),
        "table": pa.Column(pl.Int64, pa.Check.ge(1)),
        "stage": pa.Column(str, pa.Check.isin(STAGES)),
        "in_vitro": pa.Column(bool),
        "clinical_patients": pa.Column(pl.Int64, pa.Check.ge(1), nullable=True),
        "species": pa.Column(str, pa.Check.str_matches(r"^[a-z_]+(;[a-z_]+)*$"), nullable=True),
        "raw_file": pa.Column(str, unique=True),
    },
    strict=False,
    ordered=False,
)
