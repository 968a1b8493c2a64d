"""The validation ledger: files read, included and rejected, every problem found, the summary."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from html import escape
from pathlib import PurePosixPath
from typing import Any

import polars as pl

from exosynth.outputs.html import html_page, html_table
from exosynth.problems import WARNING, Problem, plural


def raw_checksum(records: pl.DataFrame) -> str:
    """One SHA-256 over the raw set: every file's path and content hash, in path order."""
    digest = hashlib.sha256()
    for path, sha in records.select("raw_file", "sha256").sort("raw_file").iter_rows():
        digest.update(f"{path}\t{sha}\n".encode())
    return digest.hexdigest()


def ledger(
    records: pl.DataFrame, studies: pl.DataFrame, problems: list[Problem], raw_dir: str
) -> dict[str, Any]:
    """Records read = studies included + records rejected, by folder; machine-readable.

    A study record is one file. Only errors reject a record; warnings are counted and
    listed apart (``warnings``), and their records are included.
    """
    rejected = sorted({p.file for p in problems if p.is_error})
    included = set(studies["raw_file"].to_list())
    lost = sorted(set(records["raw_file"].to_list()) - included - set(rejected))
    if lost:  # a stage dropped a record without saying why: a bug, never to pass silently
        raise RuntimeError(f"files neither included nor reported: {lost[:10]}")
    prefix = PurePosixPath(raw_dir).as_posix().rstrip("/") + "/"
    by_folder: dict[str, dict[str, int]] = defaultdict(
        lambda: {"read": 0, "included": 0, "rejected": 0}
    )
    rejected_set = set(rejected)
    for path in records["raw_file"].to_list():
        inner = path.removeprefix(prefix)
        folder = inner.rsplit("/", 1)[0] if "/" in inner else "."
        counts = by_folder[folder]
        counts["read"] += 1
        counts["included" if path in included and path not in rejected_set else "rejected"] += 1
    return {
        "files_read": records.height,
        "included": studies.filter(~pl.col("raw_file").is_in(rejected)).height,
        "rejected": len(rejected),
        "raw_checksum": raw_checksum(records),
        "by_folder": dict(sorted(by_folder.items())),
        "rejected_files": rejected,
        "errors": sum(p.is_error for p in problems),
        "warnings": sum(not p.is_error for p in problems),
        "problems": [asdict(p) for p in problems],
    }


def _drafts_line(summary: dict[str, Any]) -> list[str]:
    """The drafts of raw/inbox/ (exosynth import): counted, never tabulated, never rejected."""
    drafts = summary.get("drafts")
    if not drafts:
        return []
    return [
        f"Drafts in raw/inbox/ (imported references, not tabulated): {drafts:,}; "
        "the PRISMA flow counts their screening (results/prisma.csv)",
        "",
    ]


UNCLAIMED_FIX = (
    "Each is its own group in the condition map, the evidence map, the time to translation "
    "and the meta-analyses. To place one, add it (or a term it contains) to a group's "
    "`terms:` under `conditions:` in `config/vocabulary.yaml`, or add a group for it."
)


def _unclaimed(summary: dict[str, Any]) -> pl.DataFrame:
    """The conditions no condition group claims (set by rule validate), as a table to read."""
    rows = summary.get("unclaimed_conditions") or []
    frame = pl.DataFrame(
        rows,
        schema={"condition": pl.String, "n_studies": pl.Int64, "n_with_outcomes": pl.Int64},
        orient="row",
    ).rename({"condition": "Condition", "n_studies": "Studies"})
    with_outcomes = frame["n_with_outcomes"].sum() > 0
    return frame.rename({"n_with_outcomes": "With outcome data"}).select(
        "Condition", "Studies", *(["With outcome data"] if with_outcomes else [])
    )


def _unclaimed_lines(summary: dict[str, Any]) -> list[str]:
    """The report's note on the conditions no group claims: each, its studies, the fix."""
    frame = _unclaimed(summary)
    if frame.is_empty():
        return []
    return [
        f"## Conditions no group claims ({frame.height:,})",
        "",
        UNCLAIMED_FIX,
        "",
        "| " + " | ".join(frame.columns) + " |",
        "|---" + "|---:" * (frame.width - 1) + "|",
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()),
        "",
    ]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _where(problem: dict[str, Any]) -> str:
    """``line 3, `` of a study file; ``row 2 (NCT01234567), `` of a record in a file of many."""
    where = f"line {problem['line']}, " if problem["line"] else ""
    if problem.get("row") is not None:
        record = f" ({problem['record']})" if problem.get("record") else ""
        where += f"row {problem['row']}{record}, "
    return where


def _by_file(problems: list[dict[str, Any]]) -> list[str]:
    """One section per file, one line per problem: line, field, message, fix and code."""
    lines: list[str] = []
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for problem in problems:
        by_file[problem["file"]].append(problem)
    for path, found in by_file.items():
        lines += [f"### `{path}`", ""]
        for p in found:
            where = _where(p)
            field = f"`{p['field']}`" if p["field"] else "file"
            fix = f" **Fix:** {_cell(p['hint'])}" if p["hint"] else ""
            code = p.get("code") or p["stage"]
            lines.append(f"- {where}{field}: {_cell(p['message'])}.{fix} _({code})_")
        lines.append("")
    return lines


def _outcome(summary: dict[str, Any], on_invalid: str) -> str:
    """What the build did with the rejected files: stopped, or left them out."""
    rejected = summary["rejected"]
    if not rejected:
        return "Every raw file was included."
    files = plural(rejected, "rejected file")
    if on_invalid == "exclude":
        return (
            f"The {files} {'is' if rejected == 1 else 'are'} left out of every output "
            "(`on_invalid: exclude`); the others were built."
        )
    return (
        f"**The build stopped** (`on_invalid: fail`) because of the {files}: results/ holds "
        "no study table, tables, workbook or figures, from this build or an earlier one. Fix "
        "the files below, or build without them with `--config on_invalid=exclude`."
    )


# The report's section on what the stages after the gate found (the PRISMA flow and the
# meta-analyses of rule workbook): the drafts of raw/inbox/, the PRISMA sums, the
# meta-analyses. Its heading and sentence, once.
AFTER_GATE = "Drafts, PRISMA flow and meta-analyses"
AFTER_GATE_TEXT = (
    "Found after the study table was built: the screening of the drafts in raw/inbox/ (a draft "
    "is never tabulated), the sums of the PRISMA flow, and the meta-analyses (what only their "
    "arithmetic finds; an analysis is named by condition, outcome, source and measure). None "
    "of these rejects a record or stops the build."
)


def _after_gate(later: Sequence[dict[str, Any]]) -> list[str]:
    """The Markdown section of ``later`` (problems as dicts), by file; none without any."""
    if not later:
        return []
    files = len({p["file"] for p in later})
    return [
        f"## {AFTER_GATE} ({plural(len(later), 'note')} in {plural(files, 'file')})",
        "",
        AFTER_GATE_TEXT,
        "",
        *_by_file(later),
    ]


def render_markdown(
    summary: dict[str, Any], on_invalid: str = "fail", later: Sequence[dict[str, Any]] = ()
) -> str:
    """The validation report a review author reads: ledger first, then problems by file.

    ``on_invalid`` says what the build does with rejected files, so the report says whether
    the study table it points to exists. ``later``: the problems the stages after the gate
    found (drafts, PRISMA sums, meta-analyses), as dicts, in a section of their own.
    """
    lines = [
        "# exosynth validation report",
        "",
        f"Files read: **{summary['files_read']}** · included: **{summary['included']}** · "
        f"rejected: **{summary['rejected']}**",
        "",
        *_drafts_line(summary),
        _outcome(summary, on_invalid),
        "",
        "Raw set checksum (SHA-256 over every file's path and content): "
        f"`{summary['raw_checksum']}`",
        "",
        "| folder | read | included | rejected |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {_cell(folder)} | {c['read']} | {c['included']} | {c['rejected']} |"
        for folder, c in summary["by_folder"].items()
    ]
    problems = [p for p in summary["problems"] if p.get("severity") != WARNING]
    cautions = [p for p in summary["problems"] if p.get("severity") == WARNING]
    files = len({p["file"] for p in problems})
    lines += [
        "",
        "## Problems"
        + (f" ({plural(len(problems), 'error')} in {plural(files, 'file')})" if problems else ""),
        "",
        "An error keeps its record out of the outputs (and, with `on_invalid: fail`, stops the "
        "build).",
        "",
    ]
    if not problems:
        lines.append("None: every record passed the schema, cross-record and vocabulary checks.")
        lines.append("")
    lines += _by_file(problems)
    if cautions:
        files = len({p["file"] for p in cautions})
        lines += [
            f"## Warnings ({plural(len(cautions), 'warning')} in {plural(files, 'file')})",
            "",
            "A warning never rejects a record: these studies are included. Each says how to "
            "make the record more precise.",
            "",
            *_by_file(cautions),
        ]
    lines += _unclaimed_lines(summary)
    lines += _after_gate(later)
    lines += render_trials(summary)
    built = not summary["rejected"] or on_invalid == "exclude"
    lines += [
        "",
        "Included studies are listed, with the file each came from, in `results/studies.csv`."
        if built
        else "Once every file passes, the included studies are listed in `results/studies.csv`.",
        "",
    ]
    return "\n".join(lines)


def render_html(
    summary: dict[str, Any], on_invalid: str = "fail", later: Sequence[dict[str, Any]] = ()
) -> str:
    """The validation report as an HTML page for Snakemake's report: the ledger, then problems
    (``later``: those found after the gate, as in :func:`render_markdown`)."""
    outcome = escape(_outcome(summary, on_invalid).replace("**", "").replace("`", ""))
    folders = pl.DataFrame(
        [(f, c["read"], c["included"], c["rejected"]) for f, c in summary["by_folder"].items()],
        schema={"folder": pl.String, "read": pl.Int64, "included": pl.Int64, "rejected": pl.Int64},
        orient="row",
    )
    body = [
        "<h1>Validation ledger</h1>",
        f"<p>Files read: <b>{summary['files_read']:,}</b> · included: "
        f"<b>{summary['included']:,}</b> · rejected: <b>{summary['rejected']:,}</b>. "
        f"{outcome}</p>",
        *(f"<p>{escape(line)}</p>" for line in _drafts_line(summary)[:1]),
        f"<p>Raw set checksum (SHA-256): <code>{escape(summary['raw_checksum'])}</code></p>",
        html_table(
            folders,
            caption="Raw files by folder",
            classes={"read": "n", "included": "n", "rejected": "n"},
        ),
    ]
    problems = [p for p in summary["problems"] if p.get("severity") != WARNING]
    cautions = [p for p in summary["problems"] if p.get("severity") == WARNING]
    # The heading counts what the section lists: errors, and the files they are in (a trial
    # row's error is in an export, which is not a rejected study file).
    files = len({p["file"] for p in problems})
    body.append(
        "<h2>Problems"
        + (f" ({plural(len(problems), 'error')} in {plural(files, 'file')})" if problems else "")
        + "</h2>"
    )
    if not problems:
        body.append(
            "<p>None: every record passed the schema, cross-record and vocabulary checks.</p>"
        )
    body += _html_by_file(problems)
    if cautions:
        files = len({p["file"] for p in cautions})
        body.append(
            f"<h2>Warnings ({plural(len(cautions), 'warning')} in {plural(files, 'file')})</h2>"
        )
        body.append("<p>A warning never rejects a record: these studies are included.</p>")
        body += _html_by_file(cautions)
    unclaimed = _unclaimed(summary)
    if not unclaimed.is_empty():
        body.append(f"<h2>Conditions no group claims ({unclaimed.height:,})</h2>")
        body.append(f"<p>{escape(UNCLAIMED_FIX.replace('`', ''))}</p>")
        body.append(
            html_table(
                unclaimed,
                caption="Conditions no group claims",
                classes=dict.fromkeys(unclaimed.columns[1:], "n"),
            )
        )
    if later:
        files = len({p["file"] for p in later})
        body.append(
            f"<h2>{AFTER_GATE} ({plural(len(later), 'note')} in {plural(files, 'file')})</h2>"
        )
        body.append(f"<p>{escape(AFTER_GATE_TEXT)}</p>")
        body += _html_by_file(list(later))
    return html_page("exosynth validation report", "\n".join(body) + "\n")


def _html_by_file(problems: list[dict[str, Any]]) -> list[str]:
    """One heading per file, one list item per problem: where, field, message and fix."""
    body: list[str] = []
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for problem in problems:
        by_file[problem["file"]].append(problem)
    for path, found in by_file.items():
        body.append(f"<h3><code>{escape(path)}</code></h3>\n<ul>")
        for p in found:
            where = escape(_where(p))
            field = f"<code>{escape(p['field'])}</code>" if p["field"] else "file"
            fix = f" <b>Fix:</b> {escape(p['hint'])}" if p["hint"] else ""
            body.append(f"<li>{where}{field}: {escape(p['message'])}.{fix}</li>")
        body.append("</ul>")
    return body


# -- the build's summary: the terminal's last line and the HTML report's front page ----
MSC_EV = "msc_ev"
UNSPECIFIED, UNSPECIFIED_LABEL = "unspecified", "Source not named"


def _trial_summary(
    trials: pl.DataFrame, ledger_summary: dict[str, Any], tables: list[Any]
) -> dict[str, Any]:
    """Registered trials: how many, of MSC-EV products how many, per configured source and
    for those whose registry text names no tissue."""
    ev = trials.filter(pl.col("ev_class") == MSC_EV)
    per_source = dict(ev.group_by("source").len().iter_rows())
    exports = (ledger_summary.get("trials") or {}).get("exports", 0)
    return {
        "trials": trials.height,
        "msc_ev": ev.height,
        "exports": int(exports),
        "msc_ev_by_source": {
            **{t.key: int(per_source.get(t.key, 0)) for t in tables},
            UNSPECIFIED: int(per_source.get(UNSPECIFIED, 0)),
        },
    }


def build_summary(
    studies: pl.DataFrame,
    ledger_summary: dict[str, Any],
    tables: list[Any],
    on_invalid: str,
    trials: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """What a finished build holds: studies per source (added since the review apart), the
    files left out, the warnings, the registered trials; machine-readable, written by the gate
    next to studies.csv.
    """
    per_source = {
        row["source"]: row
        for row in studies.group_by("source")
        .agg(
            studies=pl.len(),
            added=pl.col("review_row").is_null().sum(),
            in_vitro=pl.col("in_vitro").fill_null(False).sum(),
            animal=pl.col("in_vivo").is_not_null().sum(),
            clinical=pl.col("clinical_patients").is_not_null().sum(),
        )
        .iter_rows(named=True)
    }
    empty = {"studies": 0, "added": 0, "in_vitro": 0, "animal": 0, "clinical": 0}
    by_source = [
        {
            "source": t.key,
            "label": t.label,
            "table": t.table,
            **{k: int(per_source.get(t.key, empty)[k]) for k in empty},
        }
        for t in tables
    ]
    return {
        "studies": studies.height,
        "added": sum(s["added"] for s in by_source),
        "tables": len(tables),
        "files_read": ledger_summary["files_read"],
        "rejected": ledger_summary["rejected"],
        "rejected_files": list(ledger_summary["rejected_files"]),
        "warnings": sum(1 for p in ledger_summary["problems"] if p.get("severity") == WARNING),
        "on_invalid": on_invalid,
        "raw_checksum": ledger_summary["raw_checksum"],
        "by_source": by_source,
        **(
            {"registered_trials": _trial_summary(trials, ledger_summary, tables)}
            if trials is not None
            else {}
        ),
    }


SHOWN_FILES = 3  # rejected files named in the one-line summary; the report lists all


def summary_line(
    summary: dict[str, Any], workbook: str, report: str, meta_analyses: int = 0
) -> str:
    """The line that ends a build, e.g. ``exosynth: 30 studies (4 added since the review) in 3
    tables, 1,389 registered trials (32 MSC-EV), 0 rejected, 2 warnings ->
    results/exosynth.xlsx`` (``, 3 meta-analyses`` before the arrow when the records' outcome
    data gave any)."""
    rejected = summary["rejected"]
    if rejected and summary["on_invalid"] == "exclude":
        files = summary["rejected_files"]
        named = ", ".join(files[:SHOWN_FILES])
        more = f" and {len(files) - SHOWN_FILES:,} more" if len(files) > SHOWN_FILES else ""
        left_out = (
            f"{plural(rejected, 'invalid file')} left out (on_invalid=exclude: {named}{more}; "
            f"see {report})"
        )
    else:
        left_out = f"{rejected:,} rejected"
    registered = summary.get("registered_trials")
    if registered is None:
        trials = ""
    elif not registered["exports"]:
        trials = "no registry export, "
    else:
        trials = (
            f"{plural(registered['trials'], 'registered trial')} "
            f"({registered['msc_ev']:,} MSC-EV), "
        )
    return (
        f"exosynth: {plural(summary['studies'], 'study', 'studies')} "
        f"({summary['added']:,} added since the review) in {plural(summary['tables'], 'table')}, "
        f"{trials}{left_out}, {plural(summary['warnings'], 'warning')}"
        + (f", {plural(meta_analyses, 'meta-analysis', 'meta-analyses')}" if meta_analyses else "")
        + f" -> {workbook}"
    )


def failure_line(ledger_summary: dict[str, Any] | None, on_invalid: str, report: str) -> str:
    """The line that ends a failed build: why it stopped and what results/ holds now."""
    gone = "results/ holds no study table, tables, workbook or figures"
    if ledger_summary is not None and ledger_summary["rejected"] and on_invalid == "fail":
        problems = ledger_summary["problems"]
        n_errors = sum(1 for p in problems if p.get("severity") != WARNING)
        return (
            f"exosynth: build stopped: {ledger_summary['rejected']:,} of "
            f"{plural(ledger_summary['files_read'], 'raw file')} invalid "
            f"({plural(n_errors, 'problem')}, {plural(len(problems) - n_errors, 'warning')}); "
            f"{gone} -> {report}"
        )
    kept = f"; the validation report is current -> {report}" if ledger_summary else ""
    return (
        f"exosynth: build failed (the error is above, each rule's log under results/logs/); "
        f"{gone}{kept}"
    )


def summary_rst(summary: dict[str, Any], review: str = "") -> str:
    """The HTML report's opening: what the corpus holds, per source, in reStructuredText."""

    def cell(text: object) -> str:
        return str(text).replace("|", "\\|")

    registered = summary.get("registered_trials")
    counted = bool(registered and registered["exports"])  # a trial column only with exports
    ev = (registered or {}).get("msc_ev_by_source", {})
    rows = [
        (s["label"], f"Table {s['table']}", s["studies"], s["added"], s["in_vitro"], s["animal"],
         s["clinical"], *([ev.get(s["source"], 0)] if counted else []))
        for s in summary["by_source"]
    ]  # fmt: skip
    if counted:  # the MSC-EV trials whose registry text names no tissue
        rows.append((UNSPECIFIED_LABEL, "", 0, 0, 0, 0, 0, ev.get(UNSPECIFIED, 0)))
    total = [sum(r[i] for r in rows) for i in range(2, len(rows[0]) if rows else 7)]
    header = ("MSC source", "Table", "Studies", "Added since the review", "In vitro", "Animal",
              "Clinical", *(["MSC-EV trials"] if counted else []))  # fmt: skip
    lines = [
        f"**The corpus:** {plural(summary['studies'], 'study', 'studies')} in "
        f"{plural(summary['tables'], 'table')}, "
        f"{summary['added']:,} of them added since the review"
        + (f" ({review})" if review else "")
        + f"; {plural(summary['files_read'], 'raw file')} read, {summary['rejected']:,} rejected"
        + (" and left out" if summary["rejected"] else "")
        + f", {plural(summary['warnings'], 'warning')}. "
        f"Raw set checksum ``{summary['raw_checksum'][:16]}…``.",
        "",
        *(
            [
                f"**Registered trials:** {plural(registered['trials'], 'trial')} from "
                f"{plural(registered['exports'], 'registry export')} (ClinicalTrials.gov), "
                f"{registered['msc_ev']:,} of them of MSC-EV products; the trials are listed "
                "under Tables, Registered trials, and counted per source in the translation "
                "gap.",
                "",
            ]
            if registered and registered["exports"]
            else [
                "**Registered trials:** no registry export in ``raw/trials/``: a "
                "ClinicalTrials.gov export dropped there is read, and its trials counted per "
                "source beside the studies.",
                "",
            ]
            if registered
            else []
        ),
        ".. list-table::",
        "   :header-rows: 1",
        "",
    ]
    for row in [header, *rows, ("All sources", "", *total)]:
        lines.append(f"   * - {cell(row[0])}")
        lines += [f"     - {cell(value)}" for value in row[1:]]
    return "\n".join(lines) + "\n"


# -- registered trials (exosynth.trials) ---------------------------------------------------
def add_trials(
    summary: dict[str, Any], trial_ledger: dict[str, Any], trial_problems: list[Problem]
) -> dict[str, Any]:
    """The ledger with the registry exports: trial rows read = included + rejected, per file.

    Trial problems join the list of problems and its counts of errors and warnings (so the
    gate, rule publish, stops on an error in a trial row as on one in a study file); the
    counts of files read, included and rejected stay those of the study files.
    """
    by_file = trial_ledger.get("by_file", {})
    lost = [path for path, c in by_file.items() if c["read"] != c["included"] + c["rejected"]]
    if lost:  # a row neither included nor reported: a bug, never to pass silently
        raise RuntimeError(f"trial rows neither included nor rejected in: {lost}")
    problems = [*summary["problems"], *(asdict(p) for p in trial_problems)]
    return {
        **summary,
        "errors": summary["errors"] + sum(p.is_error for p in trial_problems),
        "warnings": summary["warnings"] + sum(not p.is_error for p in trial_problems),
        "problems": problems,
        "trials": trial_ledger,
    }


def render_trials(summary: dict[str, Any]) -> list[str]:
    """The report's section on registry exports: rows read, included and rejected per file."""
    trials = summary.get("trials")
    if trials is None:
        return []
    lines = [
        "## Registered trials",
        "",
        f"Registry exports: **{trials['exports']}** · trial rows read: **{trials['rows_read']}** · "
        f"included: **{trials['included']}** · rejected: **{trials['rejected']}** · "
        f"trials after merging duplicates: **{trials['trials']}**",
        "",
    ]
    if trials["by_file"]:
        lines += [
            "| export | format | rows read | included | rejected | left out by decision |",
            "|---|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {_cell(path)} | {c['format']} | {c['read']} | {c['included']} | "
            f"{c['rejected']} | {c['left_out']} |"
            for path, c in trials["by_file"].items()
        ]
        lines.append("")
    else:
        lines += ["No registry export in the trials folder.", ""]
    for entry in trials.get("left_out_by_decision", []):
        lines.append(f"- {entry['trial_id']} left out by decision: {_cell(entry['reason'])}")
    if trials.get("decisions_unused"):
        unused = ", ".join(trials["decisions_unused"])
        lines.append(f"- Decisions about trials no export holds (not applied): {unused}")
    return [*lines, ""]
