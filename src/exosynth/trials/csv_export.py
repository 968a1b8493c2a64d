"""One reader per registry layout (classic CSV, modern CSV, JSON download, API page)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exosynth.problems import ERROR, WARNING, Problem, plural
from exosynth.trials.shape import MULTI, STAGE, Defect, RegistryRecord

if TYPE_CHECKING:  # polars is imported where frames are built: the Snakefile reads this module
    pass

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


class LayoutError(ValueError):
    """An export whose header or JSON shape is none of the four known layouts, or that cannot
    be read at all; ``where`` is the JSON path or CSV column it concerns, ``line`` its line."""

    def __init__(self, message: str, *, where: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.where = where
        self.line = line


@dataclass
class Export:
    """One export as read: its layout, its rows, and what is wrong with the file as a whole
    (a column twice, a file cut short after its last whole JSON study)."""

    fmt: str
    records: list[RegistryRecord]
    problems: list[Problem] = field(default_factory=list)


# What an export may be, for the message of a file that is none of them.
ACCEPTED = (
    "accepted: a ClinicalTrials.gov CSV download (classic, or ctg-studies.csv with any of its "
    "columns), comma-, tab- or semicolon-separated, with a header line holding NCT Number; or "
    'its JSON download (an array of API v2 studies, or an API page {"studies": [...]})'
)
HINT = "export the trials from ClinicalTrials.gov again and drop the file in unchanged"
DELIMITERS = (",", "\t", ";")
CUT_HINT = (
    "download the export again (an interrupted download ends mid-row); the rows before it are read"
)


def _file_problem(
    path: str, where: str, message: str, hint: str, *, line: int | None = None,
    severity: str = ERROR, code: str = "trials.layout",
) -> Problem:  # fmt: skip
    return Problem(
        file=path, line=line, field=where, message=message, hint=hint, stage=STAGE, code=code,
        severity=severity,
    )  # fmt: skip


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


def _read_csv(path: str, text: str) -> Export:
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
                _file_problem(
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
        _file_problem(
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


def _get(study: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(study, dict):
            return None
        study = study.get(key)
    return study


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _type_label(code: str) -> str:
    """``DIETARY_SUPPLEMENT`` -> ``Dietary Supplement``, as the classic CSV wrote types."""
    return " ".join(word.capitalize() for word in code.split("_"))


def _intervention(text: str) -> str:
    """``BIOLOGICAL: name`` (modern CSV) -> ``Biological: name``, as the classic CSV and the
    JSON's type field give it, so one trial reads the same from every format."""
    kind, sep, name = text.partition(": ")
    if sep and re.fullmatch(r"[A-Z_]+", kind):
        return f"{_type_label(kind)}: {name}"
    return text


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(record: RegistryRecord, value: Any, where: str) -> list[Any]:
    """A JSON list; one text stands for a list of one, any other value is a defect."""
    if value is None or isinstance(value, list):
        return value or []
    if isinstance(value, str):
        return [value]
    record.defects.append(
        Defect(
            where.rsplit(".", 1)[-1],
            f"{where} is {type(value).__name__}, not a list: it is left out",
            "export the JSON again from the registry",
            severity=WARNING,
        )
    )
    return []


def _from_study(path: str, index: int, fmt: str, study: Any) -> RegistryRecord:
    record = RegistryRecord(file=path, row=index, line=None, fmt=fmt)
    protocol = _dict(_get(study, "protocolSection"))
    ident, status = _dict(protocol.get("identificationModule")), _dict(protocol.get("statusModule"))
    design = _dict(protocol.get("designModule"))
    record.trial_id = _text(ident.get("nctId"))
    record.title = _text(ident.get("briefTitle"))
    record.status = _text(status.get("overallStatus"))
    record.study_type = _text(design.get("studyType"))
    phases = _list(record, design.get("phases"), "protocolSection.designModule.phases")
    if all(isinstance(p, str) for p in phases):
        record.phases = [_text(p) for p in phases if _text(p)]
        if isinstance(design.get("phases"), list):
            record.phase = json.dumps(phases, ensure_ascii=False)
        else:
            record.phase = _text(design.get("phases"))
    else:  # a phase that is a number, a list or a mapping: no phase spelling at all
        record.phase = record.phases[0] if record.phases else _text(phases)[:200]
        record.phases = [record.phase]
    count = _get(design, "enrollmentInfo", "count")
    record.enrollment = "" if count is None else _text(count)
    record.start_date = _text(_get(status, "startDateStruct", "date"))
    record.primary_completion_date = _text(_get(status, "primaryCompletionDateStruct", "date"))
    record.completion_date = _text(_get(status, "completionDateStruct", "date"))
    record.first_posted = _text(_get(status, "studyFirstPostDateStruct", "date"))
    record.first_submitted = _text(status.get("studyFirstSubmitDate"))
    record.last_update = _text(_get(status, "lastUpdatePostDateStruct", "date"))
    conditions = _get(protocol, "conditionsModule", "conditions")
    record.conditions = [
        _text(c)
        for c in _list(record, conditions, "protocolSection.conditionsModule.conditions")
        if isinstance(c, str) and _text(c)
    ]
    items = _get(protocol, "armsInterventionsModule", "interventions")
    for item in _list(record, items, "protocolSection.armsInterventionsModule.interventions"):
        name = _text(_get(item, "name")) if isinstance(item, dict) else _text(item)
        kind = _text(_get(item, "type"))
        if name:
            record.interventions.append(f"{_type_label(kind)}: {name}" if kind else name)
    record.sponsor = _text(_get(protocol, "sponsorCollaboratorsModule", "leadSponsor", "name"))
    org = _text(_get(ident, "orgStudyIdInfo", "id"))
    record.secondary_ids = [org] if org else []
    others = ident.get("secondaryIdInfos")
    record.secondary_ids += [
        _text(_get(s, "id"))
        for s in _list(record, others, "protocolSection.identificationModule.secondaryIdInfos")
        if _text(_get(s, "id"))
    ]
    record.summary = _text(_get(protocol, "descriptionModule", "briefSummary"))
    return record


MAX_DEPTH = 64  # registry studies nest about 8 deep; far deeper is no registry export


def _too_deep(text: str, limit: int = MAX_DEPTH) -> str | None:
    """The JSON path (``[0].protocolSection.x[0]...``) where ``text`` nests deeper than
    ``limit``, read without recursion; None if it never does."""
    steps: list[list[Any]] = []  # per open container: [is_list, index or key]
    key = ""
    at, size = 0, len(text)
    string = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
    while at < size:
        char = text[at]
        if char == '"':
            found = string.match(text, at)
            end = found.end() if found else size
            key = text[at + 1 : end - 1]
            at = end
            continue
        if char in "[{":
            steps.append([char == "[", 0 if char == "[" else ""])
            if len(steps) > limit:
                return _path(steps[:-1])
        elif char in "]}":
            if steps:
                steps.pop()
        elif char == "," and steps and steps[-1][0]:
            steps[-1][1] += 1
        elif char == ":" and steps and not steps[-1][0]:
            steps[-1][1] = key
        at += 1
    return None


def _path(steps: list[list[Any]], shown: int = 12) -> str:
    parts = [f"[{step}]" if is_list else f".{step}" for is_list, step in steps]
    text = "".join(parts[:shown]).lstrip(".")
    return text + ("..." if len(parts) > shown else "")


def _json_value(text: str) -> Any:
    """The parsed JSON, or :class:`LayoutError` saying where it is broken or nested too deep."""
    try:
        return json.loads(text)
    except RecursionError:
        pass
    except json.JSONDecodeError as error:
        raise LayoutError(
            f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
            line=error.lineno,
        ) from None
    where = _too_deep(text) or ""
    raise LayoutError(
        f"the JSON is nested deeper than any registry export ({MAX_DEPTH}+ levels) at "
        f"{where or 'its root'}: it cannot be read",
        where=where,
    )


def _studies_before_cut(text: str) -> tuple[str, list[Any], int, int] | None:
    """The whole studies of a JSON array or API page that is cut short: (layout, studies,
    index of the cut study, line of the cut), or None when the JSON is not of that kind."""
    opening = re.match(r'\s*(\[)|\s*\{\s*"studies"\s*:\s*(\[)', text)
    if opening is None:
        return None
    fmt = "api_array" if opening.group(1) else "api_page"
    decoder = json.JSONDecoder()
    at = opening.end()
    studies: list[Any] = []
    while True:
        at = len(text) - len(text[at:].lstrip())
        if text.startswith("]", at):
            return None  # the array closes: the break lies elsewhere
        try:
            study, at = decoder.raw_decode(text, at)
        except (json.JSONDecodeError, RecursionError):
            return fmt, studies, len(studies), text.count("\n", 0, at) + 1
        studies.append(study)
        at = len(text) - len(text[at:].lstrip())
        if text.startswith(",", at):
            at += 1
        elif not text.startswith("]", at):
            return fmt, studies, len(studies), text.count("\n", 0, at) + 1


def _read_json(path: str, text: str) -> Export:
    problems: list[Problem] = []
    try:
        data = _json_value(text)
    except LayoutError as error:
        cut = _studies_before_cut(text) if error.line is not None else None
        if cut is None or not cut[1]:
            raise
        fmt, studies, index, line = cut
        data = studies if fmt == "api_array" else {"studies": studies}
        problems.append(
            _file_problem(
                path,
                f"studies[{index}]" if fmt == "api_page" else f"[{index}]",
                f"the file is cut short in study [{index}] (line {line}): {error}; the "
                f"{plural(index, 'whole study', 'whole studies')} before it are read",
                CUT_HINT.replace("mid-row", "mid-study").replace("rows before", "studies before"),
                line=line,
            )
        )
    if isinstance(data, list):
        fmt, studies = "api_array", data
    elif isinstance(data, dict) and isinstance(data.get("studies"), list):
        fmt, studies = "api_page", data["studies"]
    else:
        keys = ", ".join(sorted(map(str, data))) if isinstance(data, dict) else type(data).__name__
        raise LayoutError(
            "JSON that is neither an array of API v2 study objects nor a page "
            f'{{"studies": [...]}}: missing key studies (found: {keys}); {ACCEPTED}'
        )
    for index, study in enumerate(studies):
        if not isinstance(_get(study, "protocolSection", "identificationModule"), dict):
            raise LayoutError(
                f"JSON study [{index}] has no protocolSection.identificationModule: "
                "missing field protocolSection.identificationModule.nctId",
                where=f"[{index}].protocolSection.identificationModule",
            )
    return Export(fmt, [_from_study(path, i, fmt, s) for i, s in enumerate(studies)], problems)


def read_export_file(path: str, data: bytes) -> Export:
    """One export as read (:class:`Export`); :class:`LayoutError` when it cannot be read.

    The format is told by content: JSON starts with ``[`` or ``{``; a CSV by its header, its
    delimiter a comma, tab or semicolon. A UTF-8 BOM, CRLF line ends, newlines inside quoted
    cells and cells of any length are handled; a row cut short, with shifted cells or with a
    column twice with two values carries its defects.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LayoutError(
            f"not UTF-8 text (byte {error.start}, line {line}): export it again as UTF-8",
            line=line,
        ) from None
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        return _read_json(path, text)
    return _read_csv(path, text)


def read_export(path: str, data: bytes) -> tuple[str, list[RegistryRecord]]:
    """The format of one export and its records; :class:`LayoutError` when it is unreadable
    (:func:`read_export_file` also gives the problems of the file as a whole)."""
    export = read_export_file(path, data)
    return export.fmt, export.records
