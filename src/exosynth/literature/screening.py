"""Screening decisions kept in the drafts of the inbox, and what a draft still lacks.

A draft's ``screening`` block holds ``decision`` (include, exclude, or empty: not screened
yet), ``reason`` (for an exclusion: a key or label of ``literature.exclusion_reasons`` in the
config) and ``stage`` (``title_abstract``, the default, or ``full_text``: an exclusion after
reading the report). A draft never fails a build: every problem here is a warning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from exosynth.literature.importer import IMPORTS
from exosynth.literature.references import EXCLUDE, INCLUDE, fold_text, problem
from exosynth.problems import WARNING, Problem

STAGES = ("title_abstract", "full_text")
# What a draft needs before it can be moved into raw/<source>/ as a study record.
NEEDED = ("source", "condition")
# Filled as "not reported" by the import: the author confirms or fills them.
UNCHECKED = ("in_vitro", "in_vivo", "clinical", "results")


@dataclass(frozen=True)
class DraftState:
    """One draft's screening, as the PRISMA flow counts it."""

    id: str
    file: str
    decision: str | None  # include | exclude | None (awaiting screening)
    reason: str | None  # a configured reason key, for an exclusion
    stage: str
    missing: tuple[str, ...] = field(default=())


def read_inbox(inbox: str | Path) -> list[tuple[str, object]]:
    """Every draft file of the inbox (not the import logs) with its parsed YAML, or the
    error text when it cannot be parsed."""
    found: list[tuple[str, object]] = []
    root = Path(inbox)
    if not root.is_dir():
        return found
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != IMPORTS and not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.endswith((".yaml", ".yml")):
                continue
            path = Path(dirpath, name)
            try:
                found.append((path.as_posix(), yaml.load(path.read_bytes(), Loader=loader)))
            except (OSError, yaml.YAMLError) as err:
                found.append((path.as_posix(), f"cannot be read: {err}"))
    return sorted(found, key=lambda pair: pair[0])


def read_logs(inbox: str | Path) -> list[dict]:
    """The import logs, in file name order."""
    root = Path(inbox) / IMPORTS
    if not root.is_dir():
        return []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    logs: list[dict] = []
    for path in sorted(root.glob("*.yaml")):
        try:
            document = yaml.load(path.read_bytes(), Loader=loader)
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(document, dict):
            logs.append({**document, "log": path.as_posix()})
    return logs


def _reason_key(value: object, reasons: dict[str, str]) -> str | None:
    folded = fold_text(str(value)) if value is not None else ""
    for key, label in reasons.items():
        if folded in (fold_text(key), fold_text(label)):
            return key
    return None


def missing_fields(document: dict) -> tuple[str, ...]:
    """Fields a draft still needs before it becomes a study record."""
    lacking = [name for name in NEEDED if document.get(name) in (None, "")]
    citation = document.get("citation") if isinstance(document.get("citation"), dict) else {}
    if not any(citation.get(k) for k in ("first_author", "doi", "pmid")):
        lacking.append("citation")
    return tuple(lacking)


def draft_state(
    file: str, document: object, reasons: dict[str, str]
) -> tuple[DraftState | None, list[Problem]]:
    """The draft's decision, with warnings for what is wrong with it."""
    if not isinstance(document, dict):
        why = document if isinstance(document, str) else "not a YAML mapping"
        return None, [
            problem(
                file,
                f"draft {why}",
                "fix the YAML, or import the reference again",
                code="screening.unreadable",
                severity=WARNING,
            )
        ]
    problems: list[Problem] = []
    screening = document.get("screening")
    screening = screening if isinstance(screening, dict) else {}
    said = screening.get("decision")
    decision = said if said in (INCLUDE, EXCLUDE) else None
    if said not in (None, "", INCLUDE, EXCLUDE):
        problems.append(
            problem(
                file,
                f"screening.decision {said!r} is neither include nor exclude",
                "write include or exclude, or leave it empty while not screened",
                code="screening.decision",
                field="screening.decision",
                severity=WARNING,
            )
        )
    stage = screening.get("stage") or STAGES[0]
    if stage not in STAGES:
        problems.append(
            problem(
                file,
                f"screening.stage {stage!r} is not one of {', '.join(STAGES)}",
                "title_abstract for a decision on the record, full_text after the report",
                code="screening.stage",
                field="screening.stage",
                severity=WARNING,
            )
        )
        stage = STAGES[0]
    reason = None
    if decision == EXCLUDE:
        reason = _reason_key(screening.get("reason"), reasons)
        if reason is None:
            given = screening.get("reason")
            problems.append(
                problem(
                    file,
                    "an exclusion without a reason"
                    if not given
                    else f"exclusion reason {given!r} is not in the configured list",
                    f"use one of: {', '.join(reasons)} (config/config.yaml literature."
                    "exclusion_reasons), or add it there",
                    code="screening.reason",
                    field="screening.reason",
                    severity=WARNING,
                )
            )
    missing = missing_fields(document) if decision == INCLUDE else ()
    problems += [
        problem(
            file,
            f"included, but {name} is still empty: the draft cannot become a study record yet",
            f"fill {name} from the paper, then move the file into raw/<source>/ without its "
            "screening and draft blocks (exosynth check says what else is left)",
            code="screening.incomplete",
            field=name,
            severity=WARNING,
        )
        for name in missing
    ]
    return DraftState(
        id=str(document.get("id") or Path(file).stem),
        file=file,
        decision=decision,
        reason=reason,
        stage=stage,
        missing=missing,
    ), problems


def screen_inbox(
    inbox: str | Path, reasons: dict[str, str]
) -> tuple[list[DraftState], list[Problem]]:
    """Every draft's state, and the warnings of all drafts at once."""
    states: list[DraftState] = []
    problems: list[Problem] = []
    for file, document in read_inbox(inbox):
        state, trouble = draft_state(file, document, reasons)
        problems += trouble
        if state is not None:
            states.append(state)
    return states, problems


def what_is_missing(document: dict) -> list[str]:
    """What ``exosynth check`` says of a draft: each line one thing still to do."""
    todo: list[str] = []
    screening = document.get("screening") if isinstance(document.get("screening"), dict) else {}
    if screening.get("decision") not in (INCLUDE, EXCLUDE):
        todo.append("screening.decision: not screened yet (include or exclude)")
    if screening.get("decision") == EXCLUDE:
        return todo
    if screening.get("decision") != INCLUDE:  # an included draft's are its problems
        todo += [f"{name}: still empty" for name in missing_fields(document)]
    draft = document.get("draft") if isinstance(document.get("draft"), dict) else {}
    if draft.get("source_guessed"):
        todo.append("source: guessed from title and abstract; check it against the paper")
    for name in UNCHECKED:
        if document.get(name) is None:
            todo.append(f"{name}: not reported? fill it from the paper, or leave it null")
    todo.append("then move the file into raw/<source>/ without its screening and draft blocks")
    return todo
