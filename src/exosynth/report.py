"""Report: the ledger of files read, included and rejected, and every problem found."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import Any

import polars as pl

from exosynth.problems import Problem


def raw_checksum(records: pl.DataFrame) -> str:
    """One SHA-256 over the raw set: every file's path and content hash, in path order."""
    digest = hashlib.sha256()
    for path, sha in records.select("raw_file", "sha256").sort("raw_file").iter_rows():
        digest.update(f"{path}\t{sha}\n".encode())
    return digest.hexdigest()


def ledger(
    records: pl.DataFrame, studies: pl.DataFrame, problems: list[Problem], raw_dir: str
) -> dict[str, Any]:
    """Files read = studies included + files rejected, by folder; machine-readable."""
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
        "problems": [asdict(p) for p in problems],
    }


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(summary: dict[str, Any]) -> str:
    """The validation report a review author reads: ledger first, then problems by file."""
    lines = [
        "# exosynth validation report",
        "",
        f"Files read: **{summary['files_read']}** · included: **{summary['included']}** · "
        f"rejected: **{summary['rejected']}**",
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
    problems = summary["problems"]
    lines += ["", f"## Problems ({len(problems)} in {summary['rejected']} files)", ""]
    if not problems:
        lines.append("None: every record passed the schema, cross-record and vocabulary checks.")
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for problem in problems:
        by_file[problem["file"]].append(problem)
    for path, found in by_file.items():
        lines += [f"### `{path}`", ""]
        for p in found:
            where = f"line {p['line']}, " if p["line"] else ""
            if p.get("row") is not None:  # a record inside a file of many (a trial row)
                where += f"row {p['row']}" + (f" ({p['record']})" if p.get("record") else "") + ", "
            field = f"`{p['field']}`" if p["field"] else "file"
            fix = f" **Fix:** {_cell(p['hint'])}" if p["hint"] else ""
            lines.append(f"- {where}{field}: {_cell(p['message'])}.{fix} _({p['stage']})_")
        lines.append("")
    lines += render_trials(summary)
    lines += [
        "",
        "Included studies are listed, with the file each came from, in `results/studies.csv`.",
        "",
    ]
    return "\n".join(lines)


# -- registered trials (exosynth.trials) ---------------------------------------------------
def add_trials(
    summary: dict[str, Any], trial_ledger: dict[str, Any], trial_problems: list[Problem]
) -> dict[str, Any]:
    """The ledger with the registry exports: trial rows read = included + rejected, per file.

    Trial problems join the list of problems (so the gate, rule publish, stops on an error
    in a trial row as on one in a study file); the study counts keep their values.
    """
    by_file = trial_ledger.get("by_file", {})
    lost = [path for path, c in by_file.items() if c["read"] != c["included"] + c["rejected"]]
    if lost:  # a row neither included nor reported: a bug, never to pass silently
        raise RuntimeError(f"trial rows neither included nor rejected in: {lost}")
    problems = [*summary["problems"], *(asdict(p) for p in trial_problems)]
    return {**summary, "problems": problems, "trials": trial_ledger}


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
