"""The evidence map page: one self-contained HTML file to explore studies and trials.

MSC source (columns) by condition group (rows); a bubble per cell, its area the number of
studies, its colour (a "Colour by" choice) the highest stage reached or the risk of bias:
the share of the cell's assessed studies at low risk of bias, with "no study assessed" a
white bubble of its own, never read as high risk. A click lists the cell's studies (with DOI
or PubMed links and each one's risk of bias in words) and the registered MSC-EV trials of
that source and condition group; check boxes filter by source, species and stage. The cells
come from ``exosynth.synthesis.evidence_map``; the page redraws them in the browser by the
same rule when a filter changes (tests/test_evidence_map_browser.py checks the two agree).

Why plotly.js, inlined from the ``plotly`` wheel (``plotly.offline.get_plotlyjs``):
- **Deterministic.** The page is our own template around the bundle and canonical JSON, no
  generated ids; the same tables give the same bytes. (Bokeh's ``file_html`` with INLINE
  resources writes a fresh uuid4 into every page, and its model ids depend on how many
  models the process made before.)
- **Offline.** One pure-Python wheel ships the whole bundle; the page loads nothing (the
  browser test cuts the network and counts requests). Vega-Lite through altair inlines its
  JavaScript only through vl-convert-python, an 84 MB native binary, to build a page.
- **Clicks and filters** are plotly's ``plotly_click`` event and ``Plotly.react``; the list
  and the filters are plain DOM, so no widget framework is needed.
- The cost is size: plotly.js is 4.8 MB (a bokeh page is 1.3 MB, a vega one 0.9 MB), which
  a browser opens from disk in well under a second.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any
from urllib.parse import quote

import polars as pl
from plotly.offline import get_plotlyjs

from exosynth.analysis_groups import AnalysisGroups
from exosynth.outputs.figures import STAGE_COLOURS, STAGE_LABELS
from exosynth.outputs.quality_figures import COLOURS as JUDGEMENT_COLOURS
from exosynth.quality_terms import HIGH, ITEM_LABELS, LOW, UNCLEAR
from exosynth.settings import SourceTable
from exosynth.synthesis.evidence_map import (
    ALL_LOW,
    LOW_RISK,
    NO_SPECIES,
    NONE_ASSESSED,
    NONE_LOW,
    NOT_ASSESSED,
    NOT_LOW_RISK,
    SOME_LOW,
    UNSPECIFIED_SOURCE,
    evidence_cells,
    group_order,
    species_list,
    trial_groups,
    with_risk_status,
)
from exosynth.synthesis.quality import DEFAULT_LOW_RISK_ITEMS, risk_of_bias
from exosynth.vocabulary import STAGES, fold

DIV_ID = "evidence-map"  # fixed: plotly would otherwise draw a fresh id per page
TITLE = "Evidence map: MSC-derived exosome studies by source, condition and stage"
NO_SPECIES_LABEL = "none (in vitro only)"
UNSPECIFIED_LABEL = "no tissue named"
REGISTRY_LINKS = {"NCT": "https://clinicaltrials.gov/study/{id}"}

# The risk-of-bias colours: the robvis figures' Okabe-Ito green, yellow and vermilion for all,
# some and none of a cell's assessed studies at low risk; white in a grey ring for a cell
# with no study assessed (neither low nor high: nothing was judged).
NOT_ASSESSED_COLOUR, NOT_ASSESSED_RING = "#FFFFFF", "#666666"
RISK_CLASS_STYLE = {
    ALL_LOW: ("All assessed studies at low risk", JUDGEMENT_COLOURS[LOW]),
    SOME_LOW: ("Some at low risk", JUDGEMENT_COLOURS[UNCLEAR]),
    NONE_LOW: ("None at low risk", JUDGEMENT_COLOURS[HIGH]),
    NONE_ASSESSED: ("No study assessed", NOT_ASSESSED_COLOUR),
}
JUDGEMENT_WORDS = {LOW: "low", UNCLEAR: "unclear", HIGH: "high"}  # after an item's name
RISK_STATUS_WORDS = {
    LOW_RISK: "Low risk of bias",
    NOT_LOW_RISK: "Not at low risk of bias",
    NOT_ASSESSED: "Not assessed",
}


_DOI_PREFIX = re.compile(r"^\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def doi_link(doi: str | None) -> str | None:
    """The resolver address of a DOI (``https://doi.org/...``), or None; a DOI written as
    an address or with ``doi:`` in front is resolved once, not nested."""
    bare = _DOI_PREFIX.sub("", doi or "").strip()
    return f"https://doi.org/{quote(bare, safe='/')}" if bare else None


def pubmed_link(pmid: str | None) -> str | None:
    """The PubMed page of a PMID, or None."""
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid.strip()}/" if pmid and pmid.strip() else None


def trial_link(trial_id: str) -> str | None:
    """The registry page of a trial where its registry is known by its id's prefix."""
    for prefix, pattern in REGISTRY_LINKS.items():
        if trial_id.startswith(prefix):
            return pattern.format(id=quote(trial_id))
    return None


def _phase_words(phase: str | None) -> str:
    """A trial's phase code in words: ``phase1_2`` -> "Phase 1/2"."""
    if not phase:
        return "Phase not given"
    if phase == "not_applicable":
        return "Phase not applicable"
    words = re.sub(r"phase(\d)", r"phase \1", phase).replace("early_", "early ")
    return words.replace("_", "/").capitalize()


def _judgements(rob: pl.DataFrame, items: tuple[str, ...]) -> dict[str, str]:
    """Per assessed study, its judgements on the low-risk items in words:
    ``"Sequence generation: low; Blinding of outcome assessors: high"``."""
    wanted = rob.filter(pl.col("item").is_in(list(items)))
    words: dict[str, list[str]] = {}
    for study_id, item, judgement in wanted.select("study_id", "item", "judgement").iter_rows():
        words.setdefault(study_id, []).append(f"{ITEM_LABELS[item]}: {JUDGEMENT_WORDS[judgement]}")
    return {study_id: "; ".join(parts) for study_id, parts in words.items()}


def _study_rows(studies: pl.DataFrame, judged: dict[str, str]) -> list[dict[str, Any]]:
    cited = "cited_in" in studies.columns
    rows = []
    frame = studies.with_columns(species_names=species_list(pl.col("species")))
    for row in frame.iter_rows(named=True):
        author, year = row.get("first_author"), row.get("year")
        label = " ".join(str(p) for p in (author, year) if p is not None) or row["id"]
        link = doi_link(row.get("doi")) or pubmed_link(row.get("pmid"))
        where = (
            f"DOI {row['doi']}"
            if row.get("doi")
            else f"PMID {row['pmid']}"
            if row.get("pmid")
            else (f"cited in {row['cited_in']}" if cited and row.get("cited_in") else "")
        )
        rows.append(
            {
                "id": row["id"],
                "label": label,
                "source": row["source"],
                "group": row["condition_group"],
                "condition": row["condition"],
                "stage": row["stage"],
                "species": row["species_names"],
                "link": link,
                "where": where,
                "file": row.get("raw_file") or "",
                "risk": row["risk_status"],
                "risk_items": judged.get(row["id"], ""),
            }
        )
    return rows


def _trial_rows(trials: pl.DataFrame, groups: AnalysisGroups | None) -> list[dict[str, Any]]:
    if trials.is_empty():
        return []
    groups = trial_groups(trials, groups).group_by("trial_id", maintain_order=True).agg("group_key")
    keyed = dict(groups.iter_rows())
    rows = []
    for row in trials.sort("trial_id").iter_rows(named=True):
        if row["trial_id"] not in keyed:
            continue
        rows.append(
            {
                "id": row["trial_id"],
                "title": row.get("title") or "",
                "source": row.get("source") or UNSPECIFIED_SOURCE,
                "phase": _phase_words(row.get("phase")),
                "status": (row.get("status") or "status not given").replace("_", " "),
                "link": trial_link(row["trial_id"]),
                "groups": keyed[row["trial_id"]],
            }
        )
    return rows


def map_payload(
    studies: pl.DataFrame,
    trials: pl.DataFrame,
    tables: list[SourceTable],
    groups: AnalysisGroups | None = None,
    low_risk_items: tuple[str, ...] | list[str] = DEFAULT_LOW_RISK_ITEMS,
) -> dict[str, Any]:
    """Everything the page draws, as plain data: sources, stages, species, the risk-of-bias
    classes and the items that define low risk, the condition groups in row order, the cells
    of the unfiltered map, one entry per study (with its risk of bias) and per registered
    MSC-EV trial (with the folded groups it names).

    Studies are grouped by their ``condition_group`` column; ``groups`` (the vocabulary's
    ``conditions:``, which made that column) groups the trials' conditions the same way.
    """
    items = tuple(low_risk_items)
    rob = risk_of_bias(studies)
    grouped = with_risk_status(studies, items, rob).sort("id")
    order = [t.key for t in tables]
    cells = evidence_cells(grouped, order)
    labels = {t.key: t.label for t in tables}
    present = grouped.get_column("source").unique().sort().to_list()
    sources = [*order, *(s for s in present if s not in labels)]
    species = sorted(
        set(grouped.select(species_list(pl.col("species"))).to_series().explode().drop_nulls())
    )
    return {
        "sources": [
            {"code": s, "label": labels.get(s, s.replace("_", " ").capitalize())} for s in sources
        ],
        "unspecified": {"code": UNSPECIFIED_SOURCE, "label": UNSPECIFIED_LABEL},
        "stages": [
            {"code": s, "label": STAGE_LABELS[s], "colour": STAGE_COLOURS[s]} for s in STAGES
        ],
        "species": [
            *({"code": s, "label": s.replace("_", " ")} for s in species),
            {"code": NO_SPECIES, "label": NO_SPECIES_LABEL},
        ],
        "risk_classes": [
            {"code": code, "label": label, "colour": colour}
            for code, (label, colour) in RISK_CLASS_STYLE.items()
        ],
        "not_assessed_ring": NOT_ASSESSED_RING,
        "risk_words": RISK_STATUS_WORDS,
        "low_risk_items": [ITEM_LABELS[item] for item in items],
        "groups": group_order(cells),
        "group_keys": {group: fold(group) for group in group_order(cells)},
        "cells": cells.to_dicts(),
        "max_studies": int(cells.get_column("n_studies").max() or 1),
        "studies": _study_rows(grouped, _judgements(rob, items)),
        "trials": _trial_rows(trials, groups),
    }


def _resource(name: str) -> str:
    return resources.files("exosynth.outputs").joinpath(name).read_text(encoding="utf-8")


def _json_for_script(data: Any) -> str:
    """Canonical JSON that cannot close the script element it sits in."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _checkboxes(name: str, legend: str, options: Iterable[tuple[str, str]]) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="{name}" value="{html.escape(code)}" checked>'
        f" {html.escape(label)}</label>"
        for code, label in options
    )
    return f'<fieldset id="filter-{name}"><legend>{legend}</legend>{boxes}</fieldset>'


COLOUR_MODES = (("stage", "Highest stage reached"), ("risk", "Risk of bias"))


def _colour_by() -> str:
    """The "Colour by" choice: highest stage (checked) or risk of bias."""
    radios = "".join(
        f'<label><input type="radio" name="colour" value="{code}"'
        f"{' checked' if i == 0 else ''}> {html.escape(label)}</label>"
        for i, (code, label) in enumerate(COLOUR_MODES)
    )
    return f'<fieldset id="colour-by"><legend>Colour by</legend>{radios}</fieldset>'


def _swatches(entries: Iterable[tuple[str, str, str]]) -> str:
    """A legend list: (colour, ring colour, words) per entry."""
    return (
        '<ul class="swatches">'
        + "".join(
            f'<li><span class="swatch" style="background:{colour};border-color:{ring}"></span>'
            f"{html.escape(words)}</li>"
            for colour, ring, words in entries
        )
        + "</ul>"
    )


def colour_legends(payload: dict[str, Any]) -> str:
    """What the colours mean, in words, one legend per colour mode (the page shows the one
    of the mode chosen): the stages, or the risk-of-bias classes with the items that define
    low risk and what "not assessed" means."""
    ring = "#333333"
    stages = _swatches((s["colour"], ring, s["label"]) for s in payload["stages"])
    items = "; ".join(payload["low_risk_items"])
    words = {
        ALL_LOW: "every assessed study in the cell is at low risk of bias",
        SOME_LOW: "some of the assessed studies are, some are not",
        NONE_LOW: "no assessed study is (each has one of those items judged high or unclear)",
        NONE_ASSESSED: "none of the cell's studies was assessed; not assessed is not high risk",
    }
    risk = _swatches(
        (
            c["colour"],
            payload["not_assessed_ring"] if c["code"] == NONE_ASSESSED else ring,
            f"{c['label']}: {words[c['code']]}",
        )
        for c in payload["risk_classes"]
    )
    return (
        '<div id="colour-legend">'
        '<div class="legend" data-mode="stage"><p>Colour: the highest stage any study in '
        f"the cell reached.</p>{stages}</div>"
        '<div class="legend" data-mode="risk" hidden><p>Colour: the share of the cell\'s '
        "studies assessed for risk of bias (SYRCLE) that are at low risk, that is judged "
        f"low on every one of: {html.escape(items)}. Studies not assessed are left out of "
        "the share; hover over a bubble for its numbers.</p>"
        f"{risk}</div></div>"
    )


def evidence_map_page(
    studies: pl.DataFrame,
    trials: pl.DataFrame,
    tables: list[SourceTable],
    groups: AnalysisGroups | None = None,
    *,
    review: str | None = None,
    low_risk_items: tuple[str, ...] | list[str] = DEFAULT_LOW_RISK_ITEMS,
) -> str:
    """The evidence map as one HTML document (plotly.js, data, script and style inline);
    ``low_risk_items`` are the SYRCLE items a study must have judged low to be at low risk
    of bias (config ``quality.low_risk_items``)."""
    payload = map_payload(studies, trials, tables, groups, low_risk_items)
    filters = "".join(
        (
            _colour_by(),
            _checkboxes(
                "source", "MSC source", ((s["code"], s["label"]) for s in payload["sources"])
            ),
            _checkboxes(
                "species", "Species", ((s["code"], s["label"]) for s in payload["species"])
            ),
            _checkboxes(
                "stage", "Highest stage", ((s["code"], s["label"]) for s in payload["stages"])
            ),
        )
    )
    n_studies, n_trials = len(payload["studies"]), len(payload["trials"])
    intro = (
        f"{n_studies:,} studies in {len(payload['groups']):,} condition groups; "
        f"{n_trials:,} registered MSC-EV trials. Each bubble is one MSC source and condition "
        "group: its area is the number of studies, the number inside it the count, its colour "
        "the highest stage any of them reached or, coloured by risk of bias, the share of its "
        "assessed studies at low risk of bias. Click a bubble to list its studies and the "
        "registered trials of that source and condition."
    )
    cited = (
        f'<p class="review">Built with exosynth from the records of: {html.escape(review)}</p>'
        if review
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(TITLE)}</title>\n"
        f"<style>\n{_resource('evidence_map.css')}</style>\n"
        # plotly.js reads this before it starts: no MathJax, nothing fetched.
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
        f"<script>{get_plotlyjs()}</script>\n"
        "</head>\n<body>\n"
        f"<header><h1>{html.escape(TITLE)}</h1>\n"
        f'<p id="intro">{html.escape(intro)}</p>{cited}</header>\n'
        f'<form id="filters">{filters}</form>\n'
        f"{colour_legends(payload)}\n"
        '<p id="shown" role="status"></p>\n'
        f'<main><div id="{DIV_ID}"></div>\n'
        '<section id="details" aria-live="polite"><p class="hint">Click a bubble to list its '
        "studies and registered trials.</p></section></main>\n"
        f'<script type="application/json" id="evidence-data">{_json_for_script(payload)}</script>\n'
        f"<script>\n{_resource('evidence_map.js')}</script>\n"
        "</body>\n</html>\n"
    )
