"""The author's decisions about trials (raw/trials/decisions.yaml), read and checked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exosynth.problems import Problem
from exosynth.settings import ConfigError, load_yaml, validate_against
from exosynth.trials.shape import STAGE

if TYPE_CHECKING:  # polars is imported where frames are built: the Snakefile reads this module
    pass


@dataclass(frozen=True)
class Decision:
    trial_id: str
    reason: str
    source: str | None = None
    include: bool = True
    ev_class: str | None = None


# -- decisions ---------------------------------------------------------------------------------
def read_decisions(
    raw: Any, path: str, source_codes: Iterable[str]
) -> tuple[dict[str, Decision], list[Problem]]:
    """The author's decisions (already checked against schemas/trial_decisions.schema.yaml)."""
    problems: list[Problem] = []
    decisions: dict[str, Decision] = {}
    known = set(source_codes)
    for trial_id, entry in ((raw or {}).get("decisions") or {}).items():
        source = entry.get("source")
        if source is not None and source not in known:
            problems.append(
                Problem(
                    file=path,
                    line=None,
                    field=f"decisions.{trial_id}.source",
                    message=f"source {source!r} is no source code of config/vocabulary.yaml",
                    hint=f"one of {', '.join(sorted(known))}",
                    stage=STAGE,
                    code="trials.decision",
                    record=trial_id,
                )
            )
            continue
        decisions[trial_id] = Decision(
            trial_id=trial_id,
            reason=" ".join(str(entry["reason"]).split()),
            source=source,
            include=entry.get("include", True),
            ev_class=entry.get("ev_class"),
        )
    return decisions, problems


def load_decisions(
    decision_file: str, decisions_schema: str, source_codes: set[str]
) -> tuple[dict[str, Decision], list[Problem]]:
    """raw/trials/decisions.yaml read and checked; none when there is no such file.

    A file the schema rejects is a problem naming it, not a crash; its decisions are then
    not applied.
    """
    if not decision_file:
        return {}, []
    try:
        raw = validate_against(load_yaml(decision_file) or {}, decisions_schema, decision_file)
    except ConfigError as error:
        problem = Problem(
            file=decision_file,
            line=None,
            field="decisions",
            message=str(error).replace("\n", " "),
            hint=f"see {decisions_schema}",
            stage=STAGE,
            code="trials.decisions",
        )
        return {}, [problem]
    return read_decisions(raw, decision_file, source_codes)
