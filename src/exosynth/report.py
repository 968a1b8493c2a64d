"""Report: the ledger of files read, included and rejected, and every problem found."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import Any

import polars as pl

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


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _by_file(problems: list[dict[str, Any]]) -> list[str]:
    """One section per file, one line per problem: line, field, message, fix and code."""
    lines: list[str] = []
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for problem in problems:
        by_file[problem["file"]].append(problem)
    for path, found in by_file.items():
        lines += [f"### `{path}`", ""]
        for p in found:
            where = f"line {p['line']}, " if p["line"] else ""
            field = f"`{p['field']}`" if p["field"] else "file"
            fix = f" **Fix:** {_cell(p['hint'])}" if p["hint"] else ""
            code = p.get("code") or p["stage"]
            lines.append(f"- {where}{field}: {_cell(p['message'])}.{fix} _({code})_")
        lines.append("")
    return lines


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
    lines += [
        "",
        "Included studies are listed, with the file each came from, in `results/studies.csv`.",
        "",
    ]
    return "\n".join(lines)
