"""One registry record into one trial row: codes, dates, phase, class, source, decision."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from exosynth.problems import ERROR, WARNING, Problem
from exosynth.trials.classify import TrialVocabulary, fold_code
from exosynth.trials.shape import MULTI, STAGE, TRIAL_ID, RegistryRecord

if TYPE_CHECKING:  # polars is imported where frames are built: the Snakefile reads this module
    pass

# -- normalizing one record --------------------------------------------------------------------
_MONTHS = {m.casefold(): i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}  # fmt: skip
_LONG_DATE = re.compile(r"^([A-Za-z]+)\s+(?:(\d{1,2}),\s*)?(\d{4})$")  # June 17, 2020 / June 2020
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")  # 2020-01-20 / 2011-08 / 2011


def parse_date(text: str) -> str | None:
    """ISO text at the precision given: "June 17, 2020" -> "2020-06-17", "January 2023" ->
    "2023-01", "2011-08" stays "2011-08". ``None`` for a date that cannot be (or is not) one.
    """
    text = text.strip()
    year = month = day = None
    if found := _LONG_DATE.match(text):
        month = _MONTHS.get(found.group(1).casefold())
        if month is None:
            return None
        day = int(found.group(2)) if found.group(2) else None
        year = int(found.group(3))
    elif found := _ISO_DATE.match(text):
        year = int(found.group(1))
        month = int(found.group(2)) if found.group(2) else None
        day = int(found.group(3)) if found.group(3) else None
    else:
        return None
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        return None
    if year < 1900:
        return None
    if day is not None:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if month is not None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


def _problem(
    record: RegistryRecord, field_name: str, message: str, hint: str, severity: str = ERROR
) -> Problem:
    return Problem(
        file=record.file,
        line=record.line,
        field=field_name,
        message=message,
        hint=hint,
        stage=STAGE,
        code=f"trials.{field_name or 'row'}",
        severity=severity,
        row=record.row,
        record=record.trial_id,
    )


DATES = ("start_date", "first_posted", "first_submitted", "last_update",
         "primary_completion_date", "completion_date")  # fmt: skip


def _out_of_order(record: RegistryRecord, dates: dict[str, str | None]) -> list[Problem]:
    """A start after the (primary) completion: compared at the precision both dates have
    ("2020-06" is not after "2020-06-17"); the registry's record, kept, with a warning."""
    start = dates["start_date"]
    problems = []
    for name in ("primary_completion_date", "completion_date"):
        end = dates[name]
        if start and end:
            common = min(len(start), len(end))
            if start[:common] > end[:common]:
                problems.append(
                    _problem(
                        record,
                        name,
                        f"starts {start}, after its {name.replace('_', ' ')} {end}",
                        "check the dates of the trial's registry record (the trial is counted "
                        "as registered); download the export again if they differ",
                        severity=WARNING,
                    )
                )
    return problems


def _phase(record: RegistryRecord, terms: TrialVocabulary) -> str | None:
    """The phase code: "" when the registry gives none, None when a spelling is unknown."""
    if not record.phases:
        return ""
    codes = {terms.phases.get(fold_code(p)) for p in record.phases}
    if None in codes:
        return None
    if len(codes) == 1:
        return codes.pop()
    return terms.phase_pairs.get(frozenset(codes))  # type: ignore[arg-type]


def normalize_record(
    record: RegistryRecord, terms: TrialVocabulary
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The record's codes, dates and numbers, or ``None`` and the problems that keep it out."""
    problems = [
        _problem(record, d.field, d.message, d.hint, severity=d.severity) for d in record.defects
    ]
    trial_id = record.trial_id.strip().upper()
    if not TRIAL_ID.match(trial_id):
        problems.append(
            _problem(
                record,
                "trial_id",
                f"trial id {record.trial_id!r} is not a ClinicalTrials.gov id",
                "an NCT number is NCT and 8 digits (NCT01234567); fix the row or remove it",
            )
        )
    phase = _phase(record, terms)
    if phase is None:
        problems.append(
            _problem(
                record,
                "phase",
                f"phase {record.phase!r} is no phase spelling config/trials.yaml knows",
                f"one of {', '.join(terms.phase_codes)}; add the spelling under phases",
            )
        )
    status = terms.statuses.get(fold_code(record.status)) if record.status else ""
    if status is None:
        problems.append(
            _problem(
                record,
                "status",
                f"status {record.status!r} is no status config/trials.yaml knows",
                "add the spelling under statuses",
            )
        )
    kind = re.split(r"[:\[]", record.study_type, maxsplit=1)[0].strip()
    study_type = terms.study_types.get(fold_code(kind)) if kind else ""
    if study_type is None:
        problems.append(
            _problem(
                record,
                "study_type",
                f"study type {record.study_type!r} is no study type config/trials.yaml knows",
                "add the spelling under study_types",
            )
        )
    enrollment: int | None = None
    if record.enrollment:
        text = record.enrollment.replace(",", "")
        if re.fullmatch(r"\d+(\.0+)?", text):
            enrollment = int(float(text))
        else:
            problems.append(
                _problem(
                    record,
                    "enrollment",
                    f"enrollment {record.enrollment!r} is not a whole number",
                    "the registry's enrollment count is a whole number; leave it empty if unknown",
                )
            )
    dates: dict[str, str | None] = {}
    for name in DATES:
        value = getattr(record, name)
        dates[name] = parse_date(value) if value else None
        if value and dates[name] is None:
            problems.append(
                _problem(
                    record,
                    name,
                    f"{name.replace('_', ' ')} {value!r} is not a date",
                    'dates read "June 17, 2020", "January 2023", "2020-01-20" or "2011-08"',
                )
            )
    if any(p.is_error for p in problems):
        return None, problems
    problems += _out_of_order(record, dates)
    return (
        {
            "trial_id": trial_id,
            "title": record.title or None,
            "phase": phase or None,
            "status": status or None,
            "study_type": study_type or None,
            "enrollment": enrollment,
            **dates,
            "conditions": MULTI.join(record.conditions) or None,
            "interventions": MULTI.join(record.interventions) or None,
            "sponsor": record.sponsor or None,
            "secondary_ids": MULTI.join(record.secondary_ids) or None,
            "phase_registry": record.phase or None,
        },
        problems,
    )
