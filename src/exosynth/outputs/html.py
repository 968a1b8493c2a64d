"""HTML pages for the Snakemake report: a page, a table, the translation gap."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from exosynth.outputs.columns import COLUMNS, in_words
from exosynth.outputs.words import Words
from exosynth.settings import SourceTable

# -- HTML, for the report ------------------------------------------------------------
# Snakemake's report shows an HTML output in the page; these are small, self-contained
# documents (no script, no fetched resource) with a style of their own.
# A table never runs off the right edge of the page: it is at most as wide as the page, its
# headers wrap between words (and within one only where a word alone is wider than its
# column), and a table too wide even so scrolls inside its own box, not the page.
_HTML_STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:14px;"
    "margin:12px;color:#111}"
    "div.wide{max-width:100%;overflow-x:auto}"
    "table{border-collapse:collapse;margin:8px 0;width:100%}"
    "th,td{border:1px solid #bbb;padding:4px 6px;vertical-align:top;text-align:left}"
    "th{hyphens:auto;font-size:12.5px}td{font-size:13.5px;overflow-wrap:break-word}td.w{overflow-wrap:anywhere}td.t{min-width:18em}td.m{min-width:9em}"
    "th{background:#DCE6F1}td.n{text-align:right}td.c{text-align:center}"
    "caption{caption-side:top;text-align:left;font-weight:bold;padding:4px 0}"
    "p.note{font-style:italic;max-width:70em}"
)


def html_page(title: str, body: str) -> str:
    """A whole HTML document around ``body`` (already escaped)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_HTML_STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def html_table(
    frame: pl.DataFrame,
    *,
    caption: str = "",
    classes: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
) -> str:
    """An HTML table of ``frame``: headers as its column names, every cell escaped.

    ``classes`` sets a column's cell class (``n``: right-aligned number, ``c``: centred);
    ``formats`` turns a column's values into text (nulls stay empty).
    """
    classes, formats = dict(classes or {}), dict(formats or {})
    lines = ['<div class="wide"><table>']
    if caption:
        lines.append(f"<caption>{html.escape(caption)}</caption>")
    header = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    lines.append(f"<thead><tr>{header}</tr></thead>")
    lines.append("<tbody>")
    for row in frame.iter_rows():
        cells = []
        for name, value in zip(frame.columns, row, strict=True):
            text = "" if value is None else formats.get(name, str)(value)
            cls = f' class="{classes[name]}"' if name in classes else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines += ["</tbody>", "</table></div>"]
    return "\n".join(lines) + "\n"


def _percent(value: float) -> str:
    return f"{value:.1%}"


def translation_gap_html(
    gap: pl.DataFrame, tables: Sequence[SourceTable], words: Words | None = None
) -> str:
    """The translation gap as the workbook shows it: words, source labels, percentages."""
    words = words or Words.of({"sources": {t.key: {"label": t.label} for t in tables}})
    columns = COLUMNS["translation_gap.csv"]
    frame, _ = in_words(gap, columns, words)
    shares = {columns[c].label for c in gap.columns if c in columns and columns[c].number_format}
    classes = {c: "n" for c, d in frame.schema.items() if d.is_numeric()}
    body = html_table(
        frame,
        caption="Translation gap per MSC source",
        classes=classes,
        formats=dict.fromkeys(shares, _percent),
    )
    body += (
        '<p class="note">Clinical share: studies with use in people / studies, with its Wilson '
        "95% interval (Wilson 1927; Newcombe 1998); translation gap = 1 - clinical share. "
        "The numbers are in results/translation_gap.csv.</p>\n"
    )
    return html_page("Translation gap", body)


# The trial columns a reader of the report sees (every column is in results/trials.csv).
TRIAL_PAGE_COLUMNS = (
    "trial_id",
    "title",
    "ev_class",
    "source",
    "phase",
    "status",
    "enrollment",
    "first_posted",
    "conditions",
    "sponsor",
    "decision_reason",
)
EV_FIRST = {"msc_ev": 0, "msc_secretome": 1}  # the page lists MSC-EV trials first


def trials_html(trials: pl.DataFrame, words: Words | None = None) -> str:
    """The registered trials as a page of the report: one row per trial, codes in words."""
    columns = COLUMNS["trials.csv"]
    if "ev_class" in trials.columns:
        rank = pl.col("ev_class").replace_strict(EV_FIRST, default=2, return_dtype=pl.Int64)
        trials = trials.sort(rank, maintain_order=True)
    wanted = [c for c in TRIAL_PAGE_COLUMNS if c in trials.columns]
    if "decision_reason" in wanted and trials["decision_reason"].null_count() == trials.height:
        wanted.remove("decision_reason")  # no decision: no empty column
    shown = trials.select(wanted)
    multi = [c for c in ("conditions", "interventions") if c in shown.columns]
    shown = shown.with_columns(pl.col(multi).str.replace_all("|", "; ", literal=True))
    frame, _ = in_words(shown, columns, words)
    classes = {c: "n" for c, d in frame.schema.items() if d.is_numeric()}
    # long free texts may break within a word where a line has no room for it: the page
    # stays as wide as the window (ids, phases and dates never break)
    free = ("title", "conditions", "sponsor", "decision_reason")
    classes.update({columns[c].label: "w" for c in free if c in shown.columns})
    classes[columns["title"].label] = "w t"  # the title keeps room to be read
    classes.update({columns[c].label: "w m" for c in ("conditions", "sponsor")})
    n_ev = trials.filter(pl.col("ev_class") == "msc_ev").height if "ev_class" in trials else 0
    caption = f"Registered trials: {trials.height:,} ({n_ev:,} of MSC-EV products)"
    body = html_table(frame, caption=caption, classes=classes)
    body += (
        '<p class="note">MSC-EV trials first, then MSC secretome trials, then the others. '
        "Every column (how the source was found, the rule that set the class, the "
        "interventions, other ids, the exports), with the codes, is in results/trials.csv "
        "(and results/trials.parquet); the About sheet of the workbook explains each.</p>\n"
    )
    return html_page("Registered trials", body)
