"""HTML pages for the Snakemake report: a page, a table, the translation gap."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from exosynth.outputs.columns import ALL_SOURCES, COLUMNS, in_words
from exosynth.settings import SourceTable

# -- HTML, for the report ------------------------------------------------------------
# Snakemake's report shows an HTML output in the page; these are small, self-contained
# documents (no script, no fetched resource) with a style of their own.
_HTML_STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:14px;"
    "margin:12px;color:#111}"
    "table{border-collapse:collapse;margin:8px 0}"
    "th,td{border:1px solid #bbb;padding:4px 8px;vertical-align:top;text-align:left}"
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
    lines = ["<table>"]
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
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines) + "\n"


def _percent(value: float) -> str:
    return f"{value:.1%}"


def translation_gap_html(gap: pl.DataFrame, tables: Sequence[SourceTable]) -> str:
    """The translation gap as the workbook shows it: words, source labels, percentages."""
    labels = {**{t.key: t.label for t in tables}, "all": ALL_SOURCES}
    columns = COLUMNS["translation_gap.csv"]
    frame, _ = in_words(gap, columns, labels)
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
