"""How far to trust each study: risk of bias (SYRCLE) per study and per source, and the
translation gap recomputed over the studies at low risk of bias.

Every function takes the normalized study table (one row per study, with the quality blocks
as canonical JSON text in codes: see :mod:`exosynth.studies.quality_blocks`) and returns a
polars frame. Sources come in table order, then ``all``.

- A study without a ``risk_of_bias`` block is **not assessed**: it has no rows in the long
  risk-of-bias frame (``results/quality/risk_of_bias.csv``), the summaries count it in
  ``n_not_assessed``, and it is never at low risk of bias. There is no summed score.

How the vesicles were made and given (EV characterisation, dose, route) is
:mod:`exosynth.synthesis.vesicles`.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from exosynth.quality_terms import HIGH, ITEM_CODES, JUDGEMENTS, LOW, UNCLEAR
from exosynth.settings import SourceTable
from exosynth.synthesis import vesicles
from exosynth.synthesis.gap import translation_gap
from exosynth.synthesis.pooling import POOLED_SCHEMA
from exosynth.synthesis.study_blocks import DECIMALS, decoded, source_order, with_all

ROB_COLUMNS = ("study_id", "source", "item", "judgement")
DEFAULT_LOW_RISK_ITEMS = ("sequence_generation", "blinding_assessors")


def _share(part: str, whole: str) -> pl.Expr:
    return pl.when(pl.col(whole) > 0).then((pl.col(part) / pl.col(whole)).round(DECIMALS))


# -- risk of bias ------------------------------------------------------------------------
def risk_of_bias(studies: pl.DataFrame) -> pl.DataFrame:
    """One row per assessed study and SYRCLE item, in the study table's order and the tool's
    item order: ``study_id, source, item, judgement`` (the output contract) and ``support``.
    A study without a risk_of_bias block has no rows: it was not assessed."""
    rows = []
    for study_id, source, block in zip(
        studies["id"].to_list(),
        studies["source"].to_list(),
        decoded(studies["risk_of_bias"]),
        strict=True,
    ):
        if block is None:
            continue
        for item in ITEM_CODES:
            entry = block.get(item) or {}
            rows.append(
                (study_id, source, item, entry.get("judgement") or UNCLEAR, entry.get("support"))
            )
    return pl.DataFrame(
        rows,
        schema={
            "study_id": pl.String,
            "source": pl.String,
            "item": pl.String,
            "judgement": pl.String,
            "support": pl.String,
        },
        orient="row",
    )


def risk_of_bias_summary(
    studies: pl.DataFrame, rob: pl.DataFrame, tables: list[SourceTable]
) -> pl.DataFrame:
    """Per source (and ``all``) and item: how many studies, how many assessed, and the count
    and share (of those assessed) judged low, unclear and high."""
    counts = (
        with_all(rob)
        .group_by("source", "item")
        .agg(
            n_assessed=pl.len(),
            **{f"n_{j}": (pl.col("judgement") == j).sum() for j in JUDGEMENTS},
        )
    )
    totals = with_all(studies.select("source")).group_by("source").agg(n_studies=pl.len())
    items = pl.DataFrame(
        {"item": list(ITEM_CODES), "item_order": list(range(len(ITEM_CODES)))},
        schema={"item": pl.String, "item_order": pl.Int64},
    )
    return (
        source_order(tables)
        .join(items, how="cross")
        .join(totals, on="source", how="left")
        .join(counts, on=["source", "item"], how="left")
        .sort("order", "item_order")
        .with_columns(pl.col("^n_.*$").fill_null(0).cast(pl.Int64))
        .with_columns(n_not_assessed=pl.col("n_studies") - pl.col("n_assessed"))
        .with_columns(**{f"share_{j}": _share(f"n_{j}", "n_assessed") for j in JUDGEMENTS})
        .select(
            "source",
            "item",
            "n_studies",
            "n_assessed",
            "n_not_assessed",
            *(f"n_{j}" for j in JUDGEMENTS),
            *(f"share_{j}" for j in JUDGEMENTS),
        )
    )


def low_risk_ids(rob: pl.DataFrame, items: tuple[str, ...] | list[str]) -> list[str]:
    """The studies judged ``low`` on every one of ``items`` (a study not assessed is never
    among them), in the order of ``rob``. The pooled effects' sensitivity analysis restricts
    its comparisons to these ids too."""
    unknown = sorted(set(items) - set(ITEM_CODES))
    if unknown:
        raise ValueError(f"not SYRCLE items: {', '.join(unknown)} (items: {', '.join(ITEM_CODES)})")
    wanted = rob.filter(pl.col("item").is_in(list(items)))
    low = (
        wanted.group_by("study_id", maintain_order=True)
        .agg(all_low=(pl.col("judgement") == LOW).all(), n=pl.len())
        .filter(pl.col("all_low") & (pl.col("n") == len(set(items))))
    )
    return low["study_id"].to_list()


# -- the sensitivity analysis ------------------------------------------------------------
def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _phrase(row: dict) -> str:
    """``clinical share 12% overall, 20% among low-risk studies, n = 5``."""
    if not row["n_studies"]:
        return "no studies"
    overall = f"clinical share {_percent(row['clinical_share'])} overall"
    if not row["n_low_risk"]:
        not_assessed = row["n_not_assessed"]
        return f"{overall}; no study at low risk of bias (n = 0, not assessed: {not_assessed})"
    return (
        f"{overall}, {_percent(row['low_risk_clinical_share'])} among low-risk studies, "
        f"n = {row['n_low_risk']}"
    )


def sensitivity(
    studies: pl.DataFrame,
    rob: pl.DataFrame,
    tables: list[SourceTable],
    items: tuple[str, ...] | list[str] = DEFAULT_LOW_RISK_ITEMS,
) -> pl.DataFrame:
    """The translation gap per source over every study beside the same over the studies at
    low risk of bias (judged low on every one of ``items``), with a sentence per source.

    Both halves come from :func:`exosynth.synthesis.gap.translation_gap`, so the unrestricted
    numbers are exactly those of ``translation_gap.csv``.
    """
    keep = ("source", "n_studies", "n_clinical", "clinical_share", "translation_gap")
    overall = translation_gap(studies, tables).select(keep)
    low_ids = low_risk_ids(rob, items)
    restricted = (
        translation_gap(studies.filter(pl.col("id").is_in(low_ids)), tables)
        .select(keep)
        .rename(lambda c: c if c == "source" else "low_risk_" + c.removeprefix("n_"))
        .rename({"low_risk_studies": "n_low_risk", "low_risk_clinical": "n_low_risk_clinical"})
    )
    assessed = (
        with_all(rob.select("study_id", "source").unique())
        .group_by("source")
        .agg(n_assessed=pl.len())
    )
    frame = (
        overall.join(restricted, on="source", how="left", maintain_order="left")
        .join(assessed, on="source", how="left", maintain_order="left")
        .with_columns(pl.col("n_assessed").fill_null(0).cast(pl.Int64))
        .with_columns(
            n_not_assessed=pl.col("n_studies") - pl.col("n_assessed"),
            low_risk_items=pl.lit(";".join(items)),
        )
        .select(
            "source",
            "n_studies",
            "n_clinical",
            "clinical_share",
            "translation_gap",
            "n_assessed",
            "n_not_assessed",
            "n_low_risk",
            "n_low_risk_clinical",
            "low_risk_clinical_share",
            "low_risk_translation_gap",
            "low_risk_items",
        )
    )
    return frame.with_columns(
        summary=pl.Series([_phrase(row) for row in frame.iter_rows(named=True)], dtype=pl.String)
    )


def assessment_counts(studies: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """Per source and ``all``: studies, and how many carry each quality block (risk of bias
    assessed, EV characterised, dose and route reported) and how many do not."""
    flags = studies.select(
        "source",
        *(pl.col(b).is_not_null().alias(b) for b in ("risk_of_bias", "ev", "dose", "route")),
    )
    counts = (
        with_all(flags)
        .group_by("source")
        .agg(
            n_studies=pl.len(),
            n_assessed=pl.col("risk_of_bias").sum(),
            n_ev=pl.col("ev").sum(),
            n_dose=pl.col("dose").sum(),
            n_route=pl.col("route").sum(),
        )
    )
    return (
        source_order(tables)
        .join(counts, on="source", how="left")
        .sort("order")
        .drop("order")
        .with_columns(pl.col("^n_.*$").fill_null(0).cast(pl.Int64))
        .with_columns(n_not_assessed=pl.col("n_studies") - pl.col("n_assessed"))
        .select("source", "n_studies", "n_assessed", "n_not_assessed", "n_ev", "n_dose", "n_route")
    )


# The columns of a pooled estimate set beside its low-risk twin (results/synthesis/pooled.csv's
# names; the low-risk ones prefixed).
POOLED_KEYS = ("condition", "outcome", "source", "measure", "method")
POOLED_NUMBERS = ("k_studies", "k_comparisons", "estimate", "ci_low", "ci_high", "i2")


def pooled_sensitivity(
    studies: pl.DataFrame,
    rob: pl.DataFrame,
    pool: Callable[[pl.DataFrame], pl.DataFrame],
    items: tuple[str, ...] | list[str] = DEFAULT_LOW_RISK_ITEMS,
) -> pl.DataFrame:
    """Each pooled estimate beside the same analysis over the studies at low risk of bias.

    ``pool`` is the build's meta-analysis of a study table (its ``pooled.csv`` frame, as rule
    synthesis makes it: the same condition groups, synonyms and Knapp-Hartung option), so
    the unrestricted numbers are exactly those of ``pooled.csv``. An analysis without a
    low-risk study keeps its row with the low-risk numbers empty and ``low_risk_k_studies``
    0: nothing was pooled, never a guess.
    """
    low_ids = low_risk_ids(rob, items)
    overall = pool(studies).select(*POOLED_KEYS, *POOLED_NUMBERS)
    restricted = (
        pool(studies.filter(pl.col("id").is_in(low_ids)))
        .select(*POOLED_KEYS, *POOLED_NUMBERS)
        .rename({c: f"low_risk_{c}" for c in POOLED_NUMBERS})
    )
    return overall.join(
        restricted, on=list(POOLED_KEYS), how="left", maintain_order="left"
    ).with_columns(
        pl.col("low_risk_k_studies", "low_risk_k_comparisons").fill_null(0),
        low_risk_items=pl.lit(";".join(items)),
    )


__all__ = [
    "HIGH",
    "LOW",
    "ROB_COLUMNS",
    "UNCLEAR",
    "assessment_counts",
    "low_risk_ids",
    "pooled_sensitivity",
    "risk_of_bias",
    "risk_of_bias_summary",
    "sensitivity",
]


# -- the stage ---------------------------------------------------------------------------
QUALITY_NUMBERS = (
    "risk_of_bias",
    "risk_of_bias_summary",
    "sensitivity",
    "pooled_sensitivity",
    "assessment",
    "ev_characterisation",
    "ev_summary",
    "ev_terms",
    "routes",
    "doses",
)


def assess(
    studies: pl.DataFrame,
    tables: list[SourceTable],
    low_risk_items: tuple[str, ...] | list[str] = DEFAULT_LOW_RISK_ITEMS,
    pool: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> dict[str, pl.DataFrame]:
    """Every quality number of rule quality by name (:data:`QUALITY_NUMBERS`), from the
    normalized study table. ``risk_of_bias`` has the output contract's columns.

    ``pool`` (the build's meta-analysis of a study table, see :func:`pooled_sensitivity`)
    gives the pooled effects over the studies at low risk of bias beside all; without it
    that frame holds its header only.
    """
    rob = risk_of_bias(studies)
    ev = vesicles.ev_characterisation(studies)
    return {
        "risk_of_bias": rob.select(ROB_COLUMNS),
        "risk_of_bias_summary": risk_of_bias_summary(studies, rob, tables),
        "sensitivity": sensitivity(studies, rob, tables, low_risk_items),
        "pooled_sensitivity": pooled_sensitivity(
            studies, rob, pool or _nothing_pooled, low_risk_items
        ),
        "assessment": assessment_counts(studies, tables),
        "ev_characterisation": ev,
        "ev_summary": vesicles.ev_summary(studies, tables),
        "ev_terms": vesicles.ev_terms(ev, tables),
        "routes": vesicles.routes(studies, tables),
        "doses": vesicles.doses(studies, tables),
    }


def _nothing_pooled(_: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame(schema=POOLED_SCHEMA)
