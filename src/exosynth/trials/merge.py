"""The trials stage: every export read, normalized and merged into one row per trial id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exosynth.problems import WARNING, Problem
from exosynth.trials.classify import SourceFinder, TrialVocabulary, classify, source_finder
from exosynth.trials.decisions import Decision
from exosynth.trials.normalize import normalize_record
from exosynth.trials.readers import LayoutError, read_export_file
from exosynth.trials.shape import (
    MULTI,
    STAGE,
    TRIAL_COLUMNS,
    UNSPECIFIED,
    RegistryRecord,
    trial_schema,
)
from exosynth.vocabulary import Vocabulary

if TYPE_CHECKING:  # polars is imported where frames are built: the Snakefile reads this module
    import polars as pl


# -- the whole stage ---------------------------------------------------------------------------
@dataclass
class TrialsResult:
    trials: pl.DataFrame
    problems: list[Problem]
    ledger: dict[str, Any]


def _source_rank(codes: Sequence[str]) -> dict[str, int]:
    return {code: i for i, code in enumerate(codes)}


def _layout_problem(path: str, error: LayoutError) -> Problem:
    return Problem(
        file=path,
        line=error.line,
        field=error.where,
        message=f"unreadable registry export: {error}",
        hint="export from ClinicalTrials.gov as CSV (classic or ctg-studies.csv) or JSON, "
        "and drop the file in unchanged",
        stage=STAGE,
        code="trials.layout",
    )


def _internal_problem(path: str, error: Exception) -> Problem:
    """A failure no check foresaw: the file is named and left out, the build goes on to
    report it (a bug of exosynth: the tests look for this code)."""
    return Problem(
        file=path,
        line=None,
        field="",
        message=f"exosynth could not read this export ({type(error).__name__}: {error})",
        hint="leave the file out (move it elsewhere) and report this file to exosynth's "
        "developers: every export should be read or get a problem that says why",
        stage=STAGE,
        code="trials.internal",
    )


def _unused_decisions(
    decisions: dict[str, Decision], trial_ids: set[str], decision_file: str
) -> list[Problem]:
    """A decision about a trial no export holds: a warning (a typo in an id, a missing export)."""
    return [
        Problem(
            file=decision_file or "raw/trials/decisions.yaml",
            line=None,
            field=f"decisions.{trial_id}",
            message=f"a decision about {trial_id}, a trial no export holds: not applied",
            hint="check the trial id against the registry, or add the export that holds it",
            stage=STAGE,
            code="trials.decision_unused",
            severity=WARNING,
            record=trial_id,
        )
        for trial_id in sorted(decisions)
        if decisions[trial_id].include and trial_id not in trial_ids
    ]


def _read_rows(
    path: str,
    data: bytes,
    terms: TrialVocabulary,
    find_source: SourceFinder,
    decisions: dict[str, Decision],
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], RegistryRecord]], list[Problem]]:
    """One export's counts, its normalized and classified rows, and its problems."""
    counts: dict[str, Any] = {"format": "", "read": 0, "included": 0, "rejected": 0, "left_out": 0}
    try:
        export = read_export_file(path, data)
    except LayoutError as error:
        counts["format"] = "unreadable"
        return counts, [], [_layout_problem(path, error)]
    counts["format"] = export.fmt
    rows: list[tuple[dict[str, Any], RegistryRecord]] = []
    problems: list[Problem] = list(export.problems)
    for record in export.records:
        counts["read"] += 1
        row, found = normalize_record(record, terms)
        problems.extend(found)
        decision = decisions.get(row["trial_id"]) if row else None
        if row is None or (decision is not None and not decision.include):
            counts["rejected"] += 1
            counts["left_out"] += row is not None
            continue
        counts["included"] += 1
        chosen = classify(
            record,
            row["study_type"] or "",
            terms,
            find_source,
            forced_class=decision.ev_class if decision else None,
        )
        row.update(
            ev_class=chosen.ev_class,
            ev_rule=chosen.ev_rule,
            source=chosen.source,
            source_basis=chosen.source_basis or None,
            source_term=chosen.source_term or None,
            decision_reason=None,
        )
        if decision is not None:
            if decision.source:
                row.update(source=decision.source, source_basis="decision", source_term=None)
            row["decision_reason"] = decision.reason
        rows.append((row, record))
    return counts, rows, problems


def _merge(
    found: Sequence[tuple[int, dict[str, Any], RegistryRecord]],
) -> list[dict[str, Any]]:
    """One row per trial id: the latest last update wins (among equals, the later export);
    ``raw_files`` lists every export the trial came from."""
    best: dict[str, tuple[tuple[str, str, int], dict[str, Any]]] = {}
    seen: dict[str, set[str]] = {}
    for order, row, record in found:
        key = (row["last_update"] or "", record.file, order)
        seen.setdefault(row["trial_id"], set()).add(record.file)
        if row["trial_id"] not in best or key >= best[row["trial_id"]][0]:
            best[row["trial_id"]] = (key, row)
    return [
        {**row, "raw_files": MULTI.join(sorted(seen[trial_id]))}
        for trial_id, (_, row) in best.items()
    ]


def build_trials(
    exports: Sequence[tuple[str, bytes]],
    terms: TrialVocabulary,
    vocabulary: Vocabulary,
    *,
    source_order: Sequence[str],
    decisions: dict[str, Decision] | None = None,
    decision_file: str = "",
) -> TrialsResult:
    """Every export read, normalized, classified and de-duplicated into one row per trial.

    ``exports`` are (path, bytes) pairs; ``source_order`` the configured sources in table
    order (rows are sorted by source in that order, other codes after them, unspecified
    last, then by first posted and id). The ledger counts per file: rows read = included +
    rejected (bad rows, and rows the author left out by decision).
    """
    import polars as pl  # noqa: PLC0415 - here, not at the top: the Snakefile imports this module

    decisions = decisions or {}
    find_source = source_finder(vocabulary)
    problems: list[Problem] = []
    files: dict[str, dict[str, Any]] = {}
    found: list[tuple[int, dict[str, Any], RegistryRecord]] = []
    for order, (path, data) in enumerate(exports):
        try:
            counts, rows, bad = _read_rows(path, data, terms, find_source, decisions)
        except Exception as error:  # no traceback whatever the bytes: a problem naming the file
            counts = {"format": "unreadable", "read": 0, "included": 0, "rejected": 0,
                      "left_out": 0}  # fmt: skip
            rows, bad = [], [_internal_problem(path, error)]
        files[path] = counts
        problems.extend(bad)
        found.extend((order, row, record) for row, record in rows)
    schema = trial_schema()
    merged = _merge(found)
    frame = pl.DataFrame(merged, schema=schema, orient="row") if merged else schema.to_frame()
    others = sorted(set(frame["source"]) - set(source_order) - {UNSPECIFIED})
    rank = _source_rank([*source_order, *others, UNSPECIFIED])
    frame = (
        frame.with_columns(_rank=pl.col("source").replace_strict(rank, return_dtype=pl.Int64))
        .sort(["_rank", "first_posted", "trial_id"], nulls_last=True)
        .drop("_rank")
        .select(list(TRIAL_COLUMNS))
    )
    ledger = {
        "exports": len(exports),
        "rows_read": sum(c["read"] for c in files.values()),
        "included": sum(c["included"] for c in files.values()),
        "rejected": sum(c["rejected"] for c in files.values()),
        "trials": frame.height,
        "by_file": dict(sorted(files.items())),
        "decisions_file": decision_file,
        "decisions": len(decisions),
        "left_out_by_decision": [
            {"trial_id": d.trial_id, "reason": d.reason}
            for d in sorted(decisions.values(), key=lambda d: d.trial_id)
            if not d.include
        ],
        "decisions_unused": sorted(
            t for t, d in decisions.items() if d.include and t not in set(frame["trial_id"])
        ),
    }
    if exports:  # without any export no decision can apply yet: the report lists them
        problems += _unused_decisions(decisions, set(frame["trial_id"]), decision_file)
    return TrialsResult(frame, problems, ledger)
