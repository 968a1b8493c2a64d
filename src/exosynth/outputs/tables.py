"""The review's Tables 1..N: their cells, as CSV, Markdown (manuscripts) and HTML (the report)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, NamedTuple

import polars as pl

from exosynth.outputs.columns import NOT_REPORTED, TABLE_COLUMNS
from exosynth.outputs.html import html_page, html_table
from exosynth.settings import SourceTable, source_tables


# -- table cells ---------------------------------------------------------------
def _in_vivo_cell() -> pl.Expr:
    """Animal models, then use in people, joined by "; "; "-" when there was neither."""
    patients = pl.col("clinical_patients")
    clinical = (
        pl.when(patients == 1)
        .then(pl.lit("Clinical patient"))
        .when(patients.is_not_null())
        .then(pl.concat_str([pl.lit("Clinical patients ("), patients.cast(pl.String), pl.lit(")")]))
    )
    animal = pl.col("in_vivo").replace("", None)
    return (
        pl.when(animal.is_null() & clinical.is_null())
        .then(pl.lit("-"))
        .otherwise(pl.concat_str([animal, clinical], separator="; ", ignore_nulls=True))
    )


NR_FOOTNOTE = "NR: not reported by the source."


def _ref_cell() -> pl.Expr:
    """The citation as the review prints it, "Damania et al[23], 2018"; added papers lack [N].

    A paper without first author and year is cited by what identifies it, in this order:
    "PMID 29378639", "doi:10.1016/...", "cited in doi:10.1186/... ref 19" (or the citing
    table's URL), after the first author where known ("Varkouhi et al, cited in ... ref 19")
    and before the year where only the year is known ("PMID 29378639, 2018").
    """
    # concat_str, not pl.format: polars 2.1's streaming engine panicked on pl.format over
    # sliced multi-chunk frames ("assertion failed: i < self.len()").
    author, year = pl.col("first_author"), pl.col("year").cast(pl.String)
    ref = pl.col("ref").cast(pl.String)
    cited = pl.concat_str(
        [pl.col("first_author"), pl.lit(" et al"), pl.concat_str([pl.lit("["), ref, pl.lit("]")])],
        ignore_nulls=True,
    )
    doi = (
        pl.col("doi")
        .str.strip_chars()
        .str.replace(r"(?i)^(?:https?://)?(?:dx\.)?doi\.org/", "")
        .str.replace(r"(?i)^doi:\s*", "")
    )
    identifier = pl.coalesce(
        pl.concat_str([pl.lit("PMID "), pl.col("pmid")]),
        pl.concat_str([pl.lit("doi:"), doi]),
        pl.concat_str(
            [pl.lit("cited in "), pl.col("cited_in"), pl.lit(" ref "), pl.col("cited_in_ref")]
        ),
    )
    return (
        pl.when(author.is_not_null() & year.is_not_null())
        .then(pl.concat_str([cited, year], separator=", "))
        .when(author.is_not_null())
        .then(pl.concat_str([cited, identifier], separator=", ", ignore_nulls=True))
        .otherwise(pl.concat_str([identifier, year], separator=", ", ignore_nulls=True))
    )


def table_rows(studies: pl.DataFrame, table: SourceTable) -> pl.DataFrame:
    """The rows of one table with the review's five columns, in the studies' (review) order."""
    condition, in_vitro, in_vivo, results, ref = TABLE_COLUMNS
    return (
        studies.lazy()
        .filter(pl.col("source") == table.key)
        .select(
            pl.col("condition").alias(condition),
            pl.when(pl.col("in_vitro"))
            .then(pl.lit("+"))
            .when(pl.col("in_vitro").not_())
            .then(pl.lit("-"))
            .otherwise(pl.lit(NOT_REPORTED))
            .alias(in_vitro),
            _in_vivo_cell().alias(in_vivo),
            pl.col("results").fill_null(NOT_REPORTED).alias(results),
            _ref_cell().alias(ref),
        )
        .collect()
    )


def footnote(rows: pl.DataFrame, table: SourceTable) -> str:
    """The table's abbreviations, and what NR means where a cell says it."""
    columns = [c for c in (TABLE_COLUMNS[1], TABLE_COLUMNS[3]) if c in rows.columns]
    has_nr = (
        rows.height > 0
        and bool(columns)
        and bool(rows.select(pl.any_horizontal(pl.col(columns) == NOT_REPORTED).any()).item())
    )
    return " ".join(part for part in (table.footnote_text, NR_FOOTNOTE if has_nr else "") if part)


# -- CSV and Markdown ------------------------------------------------------------
def table_csv(rows: pl.DataFrame) -> bytes:
    """Header and one line per study, UTF-8 with "\\n" line ends; nothing else, for analysts."""
    return rows.write_csv().encode("utf-8")


def _markdown_cell(column: str) -> pl.Expr:
    r"""A cell that cannot break the pipe table: "\" and "|" escaped, line breaks as spaces."""
    return (
        pl.col(column)
        .cast(pl.String)
        .fill_null("")
        .str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all("|", "\\|", literal=True)
        .str.replace_all(r"\r\n|\r|\n", " ")
    )


def review_reference(review: Mapping[str, str] | None) -> str:
    """The review as cited: its reference and DOI from the config, or its title, or ""."""
    review = review or {}
    reference = (review.get("citation") or review.get("title") or "").strip()
    doi = (review.get("doi") or "").strip()
    if doi:
        reference = f"{reference} doi:{doi}".strip()
    return reference


_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def added_table(table: SourceTable, review: Mapping[str, Any] | None) -> str:
    """What a table the review does not have is, in words: "the review has no Table 4: a table
    added to the review's three"; "" for one of the review's own tables."""
    if table.in_review:
        return ""
    n = len((review or {}).get("tables") or [])
    count = _COUNT_WORDS[n] if n < len(_COUNT_WORDS) else f"{n:,}"
    return f"the review has no Table {table.table}: a table added to the review's {count}"


def table_caption(
    table: SourceTable, review: Mapping[str, str] | None, n_review: int, n_added: int
) -> str:
    """Where a table's rows come from: the review's table (cited), then the papers added since.

    Added papers always follow the review's rows (the study order), so their row numbers
    say which they are.
    """
    reference = review_reference(review)
    if not reference or not n_review + n_added:
        return ""
    reference = reference.rstrip(".")
    papers = "1 paper" if n_added == 1 else f"{n_added:,} papers"
    if not n_review:  # a table the review does not have (a source configured since)
        rows = "The row is a paper" if n_added == 1 else f"All rows are {papers}"
        added = added_table(table, review)
        return f"{rows} added since the review ({reference})" + (f"; {added}." if added else ".")
    source = f"Table {table.table} of {reference}."
    if not n_added:
        return f"Source: {source}"
    first, last = n_review + 1, n_review + n_added
    added = f"Row {first:,}" if n_added == 1 else f"Rows {first:,}-{last:,}"
    review_rows = "Row 1" if n_review == 1 else f"Rows 1-{n_review:,}"
    return f"{review_rows}: {source} {added}: {papers} added since the review."


def table_markdown(rows: pl.DataFrame, table: SourceTable, caption: str = "") -> str:
    """Title line, a GitHub-flavoured pipe table, the footnote and the caption citing the review.

    One stable text for diffs; ``caption`` (:func:`table_caption`) goes last, in italics.
    """
    header = "| " + " | ".join(c.replace("|", "\\|") for c in rows.columns) + " |"
    rule = "| " + " | ".join(":---:" if c == TABLE_COLUMNS[1] else "---" for c in rows.columns)
    body = (
        rows.select(
            pl.concat_str(
                [
                    pl.lit("| "),
                    pl.concat_str([_markdown_cell(c) for c in rows.columns], separator=" | "),
                    pl.lit(" |"),
                ]
            ).alias("line")
        )["line"].to_list()
        if rows.width
        else []
    )
    lines = [f"**Table {table.table}** {table.title}", "", header, rule + " |", *body]
    if footnote(rows, table):
        lines += ["", footnote(rows, table)]
    if caption:
        escaped = caption.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
        lines += ["", f"*{escaped}*"]
    return "\n".join(lines) + "\n"


def table_html(rows: pl.DataFrame, table: SourceTable, caption: str = "") -> str:
    """Table N as an HTML page: title, the review's columns, footnote and caption."""
    body = html_table(rows, caption=table.heading, classes={TABLE_COLUMNS[1]: "c"})
    for note in (footnote(rows, table), caption):
        if note:
            body += f'<p class="note">{html.escape(note)}</p>\n'
    return html_page(table.heading, body)


class ReviewTable(NamedTuple):
    """One table in its three forms, and how many studies it holds."""

    csv: bytes
    markdown: str
    html: str
    studies: int


def review_tables(studies: pl.DataFrame, config: dict) -> dict[int, ReviewTable]:
    """Tables 1..N by number: CSV (for analysts), Markdown (for manuscripts and diffs) and
    HTML (for the report), the Markdown and HTML captioned with the review they come from."""
    tables: dict[int, ReviewTable] = {}
    for table in source_tables(config):
        rows = table_rows(studies, table)
        mine = studies.filter(pl.col("source") == table.key)
        n_added = mine["review_row"].null_count() if "review_row" in mine.columns else 0
        caption = table_caption(table, config.get("review"), rows.height - n_added, n_added)
        tables[table.table] = ReviewTable(
            table_csv(rows),
            table_markdown(rows, table, caption),
            table_html(rows, table, caption),
            rows.height,
        )
    return tables
