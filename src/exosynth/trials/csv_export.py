"""The CSV readers: ClinicalTrials.gov's classic CSV and the modern ctg-studies.csv, by header.

The classic CSV (before mid-2023: ``"Rank","NCT Number","Title",...``) and the modern
``ctg-studies.csv`` (any subset of its 30 columns, in any order) are told apart by the
columns only one of them has; comma-, tab- or semicolon-separated alike.
"""

from __future__ import annotations

import csv
import io
import re

from exosynth.problems import ERROR, WARNING, Problem
from exosynth.trials.layouts import (
    ACCEPTED,
    CUT_HINT,
    Export,
    LayoutError,
    file_problem,
    type_label,
)
from exosynth.trials.shape import MULTI, Defect, RegistryRecord

CSV_COLUMNS: dict[str, str | None] = {
    # in both layouts
    "NCT Number": "trial_id",
    "Acronym": None,
    "Study Results": None,
    "Conditions": "conditions",
    "Interventions": "interventions",
    "Age": None,
    "Phases": "phase",
    "Enrollment": "enrollment",
    "Study Type": "study_type",
    "Other IDs": "secondary_ids",
    "Start Date": "start_date",
    "Primary Completion Date": "primary_completion_date",
    "Completion Date": "completion_date",
    "First Posted": "first_posted",
    "Results First Posted": None,
    "Last Update Posted": "last_update",
    "Locations": None,
    "Study Documents": None,
    # classic only
    "Rank": None,
    "Title": "title",
    "Status": "status",
    "Outcome Measures": None,
    "Sponsor/Collaborators": "sponsor",
    "Gender": None,
    "Funded Bys": None,
    "Study Designs": None,
    "URL": None,
    # modern only
    "Study Title": "title",
    "Study URL": None,
    "Study Status": "status",
    "Brief Summary": "summary",
    "Primary Outcome Measures": None,
    "Secondary Outcome Measures": None,
    "Other Outcome Measures": None,
    "Sponsor": "sponsor",
    "Collaborators": None,
    "Sex": None,
    "Funder Type": None,
    "Study Design": None,
}
CLASSIC_ONLY = frozenset(
    ["Rank", "Title", "Status", "Outcome Measures", "Sponsor/Collaborators", "Gender",
     "Funded Bys", "Study Designs", "URL"]
)  # fmt: skip
MODERN_ONLY = frozenset(
    ["Study Title", "Study URL", "Study Status", "Brief Summary", "Primary Outcome Measures",
     "Secondary Outcome Measures", "Other Outcome Measures", "Sponsor", "Collaborators", "Sex",
     "Funder Type", "Study Design"]
)  # fmt: skip
REQUIRED_CSV = ("NCT Number",)
_MULTI_FIELDS = ("conditions", "interventions", "secondary_ids")


DELIMITERS = (",", "\t", ";")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(MULTI) if part.strip()]


def _header(text: str) -> tuple[str, list[str]]:
    """The delimiter and header of a CSV export: the first delimiter whose first line holds
    every required column (a spreadsheet saves tab- or semicolon-separated text)."""
    first = text.split("\n", 1)[0]
    found: list[str] = []
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
        except csv.Error:
            continue
        header = [name.strip() for name in cells]
        if all(name in header for name in REQUIRED_CSV):
            return delimiter, header
        found = found if len(found) >= len(header) else header
    if not text.strip():
        raise LayoutError(f"the file is empty: expected a header line with NCT Number; {ACCEPTED}")
    known = sorted(set(found) & set(CSV_COLUMNS))
    raise LayoutError(
        f"no ClinicalTrials.gov CSV header: missing column {', '.join(REQUIRED_CSV)} "
        f"(recognized: {', '.join(known) or 'none'}); {ACCEPTED}",
        line=1,
    )


def read_csv(path: str, text: str) -> Export:
    """A classic or modern CSV export: its rows, each with its defects; :class:`LayoutError`
    when its header holds no NCT Number."""
    delimiter, header = _header(text)
    # A cell may be as long as the file (the real 172-trial export has a 74,036-character
    # Locations cell; Python's csv stops at 131,072 by default).
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader)
    columns = set(header)
    fmt = "classic_csv" if columns & CLASSIC_ONLY and not columns & MODERN_ONLY else "ctg_csv"
    first, repeats, problems = _repeated_columns(path, header)
    export = Export(fmt, [], problems)
    wanted = [(i, CSV_COLUMNS[name]) for name, i in first.items() if CSV_COLUMNS.get(name)]
    checked = [(name, indices) for name, indices in repeats.items() if CSV_COLUMNS.get(name)]
    start = reader.line_num + 1
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # the rows before it are kept
            export.problems.append(
                file_problem(
                    path, "", f"row {number + 1} cannot be read as CSV ({error})", CUT_HINT,
                    line=reader.line_num,
                )
            )  # fmt: skip
            break
        number += 1
        if any(cell.strip() for cell in cells):
            record = _csv_record(RegistryRecord(file=path, row=number, line=start, fmt=fmt),
                                 cells, wanted)  # fmt: skip
            _check_cells(record, cells, len(header), checked)
            export.records.append(record)
        start = reader.line_num + 1
    _check_end(text, export.records)
    return export


def _repeated_columns(
    path: str, header: list[str]
) -> tuple[dict[str, int], dict[str, list[int]], list[Problem]]:
    """Each column's first position, the positions of the columns named twice or more, and a
    problem for each of them (an error where the column is read, else a warning)."""
    first: dict[str, int] = {}
    repeats: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        if name in first:
            repeats.setdefault(name, [first[name]]).append(index)
        else:
            first[name] = index
    problems = [
        file_problem(
            path,
            name,
            f"column {name!r} appears {len(indices)} times (columns "
            f"{' and '.join(str(i + 1) for i in indices)}); a row whose copies differ is left "
            "out, the others are read",
            "keep one of the columns: export again, or delete the copy",
            line=1,
            severity=ERROR if CSV_COLUMNS.get(name) else WARNING,
            code="trials.duplicate_column",
        )
        for name, indices in repeats.items()
    ]
    return first, repeats, problems


def _csv_record(
    record: RegistryRecord, cells: list[str], wanted: list[tuple[int, str | None]]
) -> RegistryRecord:
    """The record's fields from the cells of its row (the first of a column named twice)."""
    for index, name in wanted:
        value = cells[index].strip() if index < len(cells) else ""
        if name == "interventions":
            record.interventions = [_intervention(i) for i in _split(value)]
        elif name in _MULTI_FIELDS:
            setattr(record, name, _split(value))
        elif name == "sponsor":  # classic: "Lead|Collaborator|..."; the lead comes first
            record.sponsor = _split(value)[0] if value else ""
        elif name:
            setattr(record, name, value)
    record.phases = _split(record.phase)
    return record


def _check_cells(
    record: RegistryRecord, cells: list[str], width: int, repeats: list[tuple[str, list[int]]]
) -> None:
    """A row with fewer cells than the header is cut short, with more its cells are shifted;
    one column twice with two values cannot be read either."""
    if len(cells) < width:
        record.defects.append(
            Defect(
                "",
                f"the row has {len(cells)} of the header's {width} cells: the file is "
                "cut short here (an interrupted download?) or a quote is unbalanced",
                CUT_HINT,
            )
        )
    elif len(cells) > width:
        record.defects.append(
            Defect(
                "",
                f"the row has {len(cells)} cells where the header has {width}: its "
                "cells are shifted (a delimiter or quote inside a cell?)",
                "export again from the registry; do not edit the file in a spreadsheet",
            )
        )
    for name, indices in repeats:
        values = list(dict.fromkeys(cells[i].strip() for i in indices if i < len(cells)))
        if len(values) > 1:
            shown = " and ".join(repr(v[:80]) for v in values)
            record.defects.append(
                Defect(
                    name,
                    f"column {name!r} appears twice with two values, {shown}: which one is "
                    "the registry's cannot be told",
                    "keep one of the columns: export again, or delete the copy",
                )
            )


def _check_end(text: str, records: list[RegistryRecord]) -> None:
    """Registry downloads end with a line break and close every quote: a file that does not
    may have lost the end of its last row, which its cell count cannot always show."""
    if not records or any(d.severity == ERROR for d in records[-1].defects):
        return
    last = records[-1]
    if text.count('"') % 2:
        last.defects.append(
            Defect(
                "",
                "the file ends inside a quoted cell: it is cut short in this row "
                "(an interrupted download?)",
                CUT_HINT,
            )
        )
    elif not text.endswith(("\n", "\r")):
        last.defects.append(
            Defect(
                "",
                "the file does not end with a line break, as registry downloads do: this last "
                "row may be cut short; it is read as it stands",
                "compare the row with the registry, or download the export again",
                severity=WARNING,
            )
        )


def _intervention(text: str) -> str:
    """``BIOLOGICAL: name`` (modern CSV) -> ``Biological: name``, as the classic CSV and the
    JSON's type field give it, so one trial reads the same from every format."""
    kind, sep, name = text.partition(": ")
    if sep and re.fullmatch(r"[A-Z_]+", kind):
        return f"{type_label(kind)}: {name}"
    return text
