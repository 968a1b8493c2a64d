"""The quality numbers for people: the sensitivity table as an HTML page for the Snakemake
report, and a short Markdown summary (``results/quality/summary.md``) that says how many
studies were assessed and not assessed, per source, with the low-risk sentence of each."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from exosynth.outputs.html import html_page, html_table
from exosynth.outputs.words import ALL_SOURCES
from exosynth.quality_terms import ITEM_LABELS
from exosynth.settings import SourceTable

SENSITIVITY_WORDS = {
    "source": "MSC source",
    "n_studies": "Studies",
    "clinical_share": "Clinical share, all studies",
    "n_not_assessed": "Not assessed",
    "n_low_risk": "Studies at low risk of bias",
    "low_risk_clinical_share": "Clinical share, low-risk studies",
    "summary": "In words",
}


POOLED_WORDS = {
    "condition": "Condition",
    "outcome": "Outcome",
    "source": "MSC source",
    "k_studies": "Studies",
    "estimate": "Pooled effect, all studies",
    "ci_low": "95% CI from",
    "ci_high": "95% CI to",
    "low_risk_k_studies": "Studies at low risk of bias",
    "low_risk_estimate": "Pooled effect, low-risk studies",
    "low_risk_ci_low": "Low-risk 95% CI from",
    "low_risk_ci_high": "Low-risk 95% CI to",
}


def _labels(tables: Sequence[SourceTable]) -> dict[str, str]:
    return {**{t.key: t.label for t in tables}, "all": ALL_SOURCES}


def _items_in_words(items: str) -> str:
    return " and ".join(ITEM_LABELS.get(i, i).lower() for i in items.split(";") if i)


def sensitivity_html(
    sensitivity: pl.DataFrame,
    tables: Sequence[SourceTable],
    pooled: pl.DataFrame | None = None,
) -> str:
    """The translation gap over all studies beside the same over the low-risk studies; with
    ``pooled`` (:func:`exosynth.synthesis.quality.pooled_sensitivity`) holding rows, the
    pooled effects likewise."""
    labels = _labels(tables)
    frame = sensitivity.select(
        pl.col("source").replace_strict(labels, default=pl.col("source")),
        *(c for c in SENSITIVITY_WORDS if c != "source"),
    ).rename(SENSITIVITY_WORDS)
    percent = {SENSITIVITY_WORDS[c] for c in ("clinical_share", "low_risk_clinical_share")}
    items = sensitivity["low_risk_items"][0] if sensitivity.height else ""
    body = html_table(
        frame,
        caption="Sensitivity analysis: the clinical share among the studies at low risk of bias",
        classes={c: "n" for c, d in frame.schema.items() if d.is_numeric()},
        formats=dict.fromkeys(percent, lambda v: f"{v:.0%}"),
    )
    body += (
        f'<p class="note">A study is at low risk of bias when it is judged low on '
        f"{_items_in_words(items)} (SYRCLE; config/config.yaml quality.low_risk_items). A study "
        "without a risk-of-bias assessment is not assessed and never counts as at low risk. "
        "The numbers are in results/quality/sensitivity.csv.</p>\n"
    )
    if pooled is not None and pooled.height:
        effects = (
            pooled.select(
                *(c for c in POOLED_WORDS if c != "source"),
            )
            .with_columns(
                pl.Series("source", [labels.get(v, v) for v in pooled["source"]], dtype=pl.String)
            )
            .select(list(POOLED_WORDS))
            .rename(POOLED_WORDS)
        )
        body += html_table(
            effects,
            caption="Sensitivity analysis: the pooled effects over the studies at low risk of bias",
            classes={c: "n" for c, d in effects.schema.items() if d.is_numeric()},
            formats={
                c: (lambda v: f"{v:.2f}") for c, d in effects.schema.items() if d == pl.Float64
            },
        )
        body += (
            '<p class="note">Effects are standardized mean differences (Hedges\' g) or '
            "normalized mean differences, a benefit positive, pooled as in "
            "results/synthesis/pooled.csv; an empty low-risk cell: no study at low risk of bias "
            "in that analysis. The numbers are in results/quality/pooled_sensitivity.csv.</p>\n"
        )
    return html_page("Sensitivity analysis", body)


def summary_markdown(
    assessment: pl.DataFrame, sensitivity: pl.DataFrame, tables: Sequence[SourceTable]
) -> str:
    """``# Quality of the evidence`` with a line per source: assessed, not assessed, the EV,
    dose and route blocks reported, and the low-risk sentence."""
    labels = _labels(tables)
    sentence = dict(sensitivity.select("source", "summary").iter_rows())
    everything = assessment.filter(pl.col("source") == "all").row(0, named=True)
    lines = [
        "# Quality of the evidence",
        "",
        f"Risk of bias (SYRCLE): assessed {everything['n_assessed']}, "
        f"not assessed: {everything['n_not_assessed']}.",
        "",
        "| MSC source | Studies | Assessed | Not assessed | EV characterised | Dose | Route "
        "| Sensitivity |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {labels.get(r['source'], r['source'])} | {r['n_studies']} | {r['n_assessed']} "
        f"| {r['n_not_assessed']} | {r['n_ev']} | {r['n_dose']} | {r['n_route']} "
        f"| {sentence.get(r['source'], '')} |"
        for r in assessment.iter_rows(named=True)
    ]
    items = sensitivity["low_risk_items"][0] if sensitivity.height else ""
    lines += [
        "",
        f"Low risk of bias: judged low on {_items_in_words(items)}. There is no summed score: "
        "SYRCLE's authors advise against one.",
        "",
    ]
    return "\n".join(lines)
