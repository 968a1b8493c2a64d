"""SyRF's quantitative export into the ``outcomes`` blocks of draft records.

One row of the export is one cohort at one time point. Rows are grouped into comparisons by
study, experiment, outcome and time; in each, the cohort with the disease and the control
treatment (``IsTreatmentControl`` true, ``IsDiseaseModelControl`` false) is the control, a
cohort without the disease and with the control treatment is the sham, and every cohort with
the disease and a treatment is a treated group sharing that control (the record contract of
DESIGN "Outcomes, quality and dose"). ``GreaterIsWorse`` gives the direction, ``ErrorType``
whether the error is an SD or an SEM. Units are folded (``Seconds `` -> ``seconds``);
``TimeInMinute`` becomes the timepoint ``20 min``.
"""

from __future__ import annotations

from collections import defaultdict

from exosynth.literature.references import clean, problem
from exosynth.literature.tables import Row
from exosynth.problems import WARNING, Problem


def _true(value: str | None) -> bool:
    return (value or "").strip().casefold() in {"true", "yes", "1"}


def _number(value: str | None) -> float | int | None:
    text = clean(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def _group(row: Row) -> dict[str, object] | None:
    """A cohort's numbers: n, mean and sd or sem; None when a number is missing."""
    n, mean, error = (
        _number(row.get("numberofanimals")),
        _number(row.get("outcomeaverage")),
        _number(row.get("outcomeerror")),
    )
    if n is None or mean is None or error is None:
        return None
    kind = (row.get("errortype") or "").strip().casefold()
    spread = "sem" if kind in {"sem", "se", "standard error"} else "sd"
    return {"n": n, "mean": mean, spread: error}


def _timepoint(row: Row) -> str | None:
    minutes = _number(row.get("timeinminute"))
    return None if minutes is None else f"{minutes} min"


def outcomes_by_study(
    rows: list[tuple[int, Row]], file: str
) -> tuple[dict[str, list[dict]], list[Problem]]:
    """{StudyId: [outcome entries]} in the order of the export; problems for comparisons
    without a control or with numbers missing (warnings: the author completes the draft)."""
    groups: dict[tuple[str, str, str, str], list[tuple[int, Row]]] = defaultdict(list)
    for number, row in rows:
        key = tuple(
            (row.get(name) or "").strip()
            for name in ("studyid", "experimentid", "outcomeid", "timeinminute")
        )
        groups[key].append((number, row))  # type: ignore[index]
    found: dict[str, list[dict]] = defaultdict(list)
    problems: list[Problem] = []
    for (study, _, _, _), members in groups.items():
        entry, trouble = _entry(members, file)
        problems += trouble
        if entry is not None:
            found[study].append(entry)
    return dict(found), problems


def _entry(members: list[tuple[int, Row]], file: str) -> tuple[dict | None, list[Problem]]:
    first_row_number, first = members[0]
    control: dict | None = None
    sham: dict | None = None
    treated: list[dict] = []
    problems: list[Problem] = []
    for number, row in members:
        group = _group(row)
        if group is None:
            problems.append(
                problem(
                    file,
                    f"cohort {row.get('cohortlabel', '')!r} lacks n, mean or error: left out",
                    "fill NumberOfAnimals, OutcomeAverage and OutcomeError in SyRF, or add the"
                    " group to the draft by hand",
                    code="literature.syrf_numbers",
                    row=number,
                    severity=WARNING,
                )
            )
            continue
        sham_like = _true(row.get("isdiseasemodelcontrol"))
        if _true(row.get("istreatmentcontrol")):
            if sham_like:
                sham = sham or group
            else:
                control = control or group
        elif not sham_like:
            label = clean(row.get("treatmentlabels")) or clean(row.get("cohortlabel"))
            treated.append({"label": label, **group} if label else group)
    if not treated:
        return None, problems
    unit = clean(first.get("outcomeunit"))
    entry: dict[str, object] = {"outcome": clean(first.get("outcomelabel"))}
    if unit:
        entry["unit"] = unit.casefold()
    timepoint = _timepoint(first)
    if timepoint:
        entry["timepoint"] = timepoint
    entry["direction"] = (
        "lower_is_better" if _true(first.get("greaterisworse")) else "higher_is_better"
    )
    if sham is not None:
        entry["sham"] = sham
    entry["control"] = control
    entry["treated"] = treated
    if control is None:
        problems.append(
            problem(
                file,
                f"outcome {entry['outcome']!r} at {timepoint or 'no time'} has treated cohorts but"
                " no control cohort (disease model with the control treatment)",
                "mark the control cohort in SyRF (IsTreatmentControl), or fill `control` in the"
                " draft",
                code="literature.syrf_no_control",
                row=first_row_number,
                severity=WARNING,
            )
        )
    return entry, problems
