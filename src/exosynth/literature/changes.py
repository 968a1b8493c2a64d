"""What changed since a baseline: studies and trials added, removed and edited, and how the
headline numbers per source moved.

Both sides are sets of results tables (``studies.csv``, ``trials.csv``, ``translation_gap.csv``
and, where both have it, ``synthesis/pooled.csv``), read as text so that a number printed
the same way compares equal. A study is matched by ``id``, a trial by ``trial_id``; an edit
names every column whose value differs (``raw_file``/``raw_files`` are where a record is
kept, not what it says, and are not compared). Nothing depends on the last build: the same
two sides give the same bytes.
"""

from __future__ import annotations

import csv
import io
from html import escape
from pathlib import Path

import polars as pl

KINDS = {"study": ("studies.csv", "id"), "trial": ("trials.csv", "trial_id")}
NOT_COMPARED = frozenset({"raw_file", "raw_files"})
# translation_gap.csv columns shown as headline numbers, in this order, with their words.
HEADLINES = {
    "n_studies": "Studies",
    "n_in_vitro": "Studies with in vitro work",
    "n_animal": "Studies with animal work",
    "n_clinical": "Studies with use in people",
    "clinical_share": "Clinical share",
    "n_trials": "Registered MSC-EV trials",
}
TABLES = ("studies.csv", "trials.csv", "translation_gap.csv", "synthesis/pooled.csv")
CHANGE_COLUMNS = ("kind", "id", "change", "source", "fields")
HEADLINE_COLUMNS = ("source", "measure", "baseline", "current", "difference")


def read_results(folder: str | Path) -> dict[str, pl.DataFrame]:
    """The results tables of a folder holding a results/ (or a results folder itself), as
    text columns; a table the folder lacks is absent from the mapping."""
    root = Path(folder)
    if (root / "results").is_dir():
        root = root / "results"
    return read_tables({name: str(root / name) for name in TABLES if (root / name).is_file()})


def read_tables(paths: dict[str, str]) -> dict[str, pl.DataFrame]:
    """Named tables (``studies.csv`` -> its path) as text columns."""
    return {name: pl.read_csv(path, infer_schema=False) for name, path in paths.items()}


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(pl.String).fill_null("") for c in frame.columns)


def record_changes(
    baseline: pl.DataFrame | None, current: pl.DataFrame | None, kind: str, key: str
) -> list[tuple[str, str, str, str, str]]:
    """(kind, id, added|removed|edited, source, changed columns joined by ';') per record."""
    before = _text(baseline) if baseline is not None else pl.DataFrame({key: []}, {key: pl.String})
    after = _text(current) if current is not None else pl.DataFrame({key: []}, {key: pl.String})
    old = {row[key]: row for row in before.iter_rows(named=True)}
    new = {row[key]: row for row in after.iter_rows(named=True)}
    compared = [c for c in before.columns if c in after.columns and c not in NOT_COMPARED]
    rows: list[tuple[str, str, str, str, str]] = []
    for ident in sorted(set(old) | set(new)):
        if ident not in old:
            rows.append((kind, ident, "added", new[ident].get("source", ""), ""))
        elif ident not in new:
            rows.append((kind, ident, "removed", old[ident].get("source", ""), ""))
        else:
            changed = [c for c in compared if old[ident][c] != new[ident][c]]
            if changed:
                rows.append(
                    (kind, ident, "edited", new[ident].get("source", ""), ";".join(changed))
                )
    return rows


def headline_changes(
    baseline: dict[str, pl.DataFrame], current: dict[str, pl.DataFrame]
) -> list[tuple[str, str, str, str, str]]:
    """(source, measure, baseline, current, difference) for the translation-gap numbers
    per source and, where both sides have them, the REML pooled estimates."""
    rows: list[tuple[str, str, str, str, str]] = []
    gap_before = _by(baseline.get("translation_gap.csv"), ("source",))
    gap_after = _by(current.get("translation_gap.csv"), ("source",))
    for source in _ordered(gap_before, gap_after):
        for column in HEADLINES:
            old = gap_before.get(source, {}).get(column, "")
            new = gap_after.get(source, {}).get(column, "")
            if column not in _columns(baseline, current, "translation_gap.csv"):
                continue
            rows.append((source[0], column, old, new, _difference(old, new)))
    pooled_key = ("condition", "outcome", "source", "measure", "method")
    pooled = "synthesis/pooled.csv"
    pooled_before = _by(baseline.get(pooled), pooled_key)
    pooled_after = _by(current.get(pooled), pooled_key)
    if pooled in baseline and pooled in current:  # an estimate added or gone shows too
        for key in _ordered(pooled_before, pooled_after):
            condition, outcome, source, measure, method = key
            if method != "REML":
                continue
            old = pooled_before.get(key, {}).get("estimate", "")
            new = pooled_after.get(key, {}).get("estimate", "")
            rows.append(
                (
                    source,
                    f"pooled {measure}: {condition} / {outcome}",
                    old,
                    new,
                    _difference(old, new),
                )
            )
    return rows


def _columns(
    baseline: dict[str, pl.DataFrame], current: dict[str, pl.DataFrame], name: str
) -> set[str]:
    return {c for side in (baseline, current) if name in side for c in side[name].columns}


def _by(frame: pl.DataFrame | None, key: tuple[str, ...]) -> dict[tuple[str, ...], dict]:
    if frame is None or not set(key) <= set(frame.columns):
        return {}
    return {tuple(row[k] for k in key): row for row in _text(frame).iter_rows(named=True)}


def _ordered(*sides: dict[tuple[str, ...], dict]) -> list[tuple[str, ...]]:
    """Keys of both sides: in the current side's order, the baseline's removed ones after;
    the ``all`` row last."""
    keys: list[tuple[str, ...]] = []
    for side in reversed(sides):
        keys += [k for k in side if k not in keys]
    return sorted(keys, key=lambda k: (k[-1] == "all" if len(k) == 1 else False, keys.index(k)))


def _difference(old: str, new: str) -> str:
    try:
        delta = float(new) - float(old)
    except ValueError:
        return ""
    if old.lstrip("-").isdigit() and new.lstrip("-").isdigit():
        return f"{int(delta):+d}"
    return f"{delta:+.4g}"


def compare(
    baseline: dict[str, pl.DataFrame], current: dict[str, pl.DataFrame]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The changes and the headline numbers, as frames of text columns."""
    rows: list[tuple[str, str, str, str, str]] = []
    for kind, (table, key) in KINDS.items():
        if table in baseline or table in current:
            rows += record_changes(baseline.get(table), current.get(table), kind, key)
    changes = pl.DataFrame(rows, schema=list(CHANGE_COLUMNS), orient="row")
    headlines = pl.DataFrame(
        headline_changes(baseline, current), schema=list(HEADLINE_COLUMNS), orient="row"
    )
    return changes, headlines


def to_csv(frame: pl.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.iter_rows())
    return out.getvalue()


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ") or " "


def to_markdown(
    changes: pl.DataFrame, headlines: pl.DataFrame, baseline_name: str, labels: dict[str, str]
) -> str:
    """results/changes.md: counts, the headline numbers, then each change."""
    lines = [f"# What changed since {baseline_name}", ""]
    counts = {
        (kind, change): changes.filter(
            (pl.col("kind") == kind) & (pl.col("change") == change)
        ).height
        for kind in KINDS
        for change in ("added", "removed", "edited")
    }
    for kind, many in (("study", "Studies"), ("trial", "Registered trials")):
        lines.append(
            f"- {many}: {counts[(kind, 'added')]} added, {counts[(kind, 'removed')]} removed, "
            f"{counts[(kind, 'edited')]} edited"
        )
    lines += ["", "## Headline numbers per source", ""]
    if headlines.height:
        lines += [
            "| Source | Measure | Baseline | Now | Change |",
            "| --- | --- | --- | --- | --- |",
        ]
        for source, measure, old, new, delta in headlines.iter_rows():
            words = HEADLINES.get(measure, measure)
            name = labels.get(source, "All sources" if source == "all" else source)
            lines.append(
                f"| {_md_cell(name)} | {_md_cell(words)} | {_md_cell(old)} | {_md_cell(new)} "
                f"| {_md_cell(delta)} |"
            )
    else:
        lines.append("No headline numbers on either side.")
    lines += ["", "## Studies and trials", ""]
    if changes.height:
        lines += [
            "| Kind | Id | Change | Source | Fields changed |",
            "| --- | --- | --- | --- | --- |",
        ]
        for kind, ident, change, source, fields in changes.iter_rows():
            lines.append(
                f"| {kind} | {_md_cell(ident)} | {change} | {_md_cell(labels.get(source, source))} "
                f"| {_md_cell(fields.replace(';', ', '))} |"
            )
    else:
        lines.append("Nothing changed.")
    return "\n".join(lines) + "\n"


def to_html(
    changes: pl.DataFrame, headlines: pl.DataFrame, baseline_name: str, labels: dict[str, str]
) -> str:
    """The changes for the HTML report: the same words as the Markdown, as HTML tables."""

    def table(header: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def name(source: str) -> str:
        return labels.get(source, "All sources" if source == "all" else source)

    numbers = table(
        ["Source", "Measure", "Baseline", "Now", "Change"],
        [[name(s), HEADLINES.get(m, m), o, n, d] for s, m, o, n, d in headlines.iter_rows()],
    )
    records = table(
        ["Kind", "Id", "Change", "Source", "Fields changed"],
        [[k, i, c, name(s), f.replace(";", ", ")] for k, i, c, s, f in changes.iter_rows()],
    )
    return (
        f"<h2>What changed since {escape(baseline_name)}</h2>\n<h3>Headline numbers per "
        f"source</h3>\n{numbers}\n<h3>Studies and trials</h3>\n{records}\n"
    )
