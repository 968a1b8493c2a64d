"""One reader per registry layout (classic CSV, modern CSV, JSON download, API page)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import TYPE_CHECKING, Any

from exosynth.trials.shape import MULTI, RegistryRecord

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
    "Primary Completion Date": None,
    "Completion Date": None,
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
    """An export whose header or JSON shape is none of the four known layouts."""


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(MULTI) if part.strip()]


def _read_csv(path: str, text: str) -> tuple[str, list[RegistryRecord]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise LayoutError("the file is empty: expected a header line with NCT Number") from None
    missing = [name for name in REQUIRED_CSV if name not in header]
    if missing:
        known = sorted(set(header) & set(CSV_COLUMNS))
        raise LayoutError(
            f"no ClinicalTrials.gov CSV header: missing column {', '.join(missing)} "
            f"(recognized: {', '.join(known) or 'none'})"
        )
    columns = set(header)
    fmt = "classic_csv" if columns & CLASSIC_ONLY and not columns & MODERN_ONLY else "ctg_csv"
    wanted = [(i, CSV_COLUMNS[name]) for i, name in enumerate(header) if CSV_COLUMNS.get(name)]
    records: list[RegistryRecord] = []
    start = reader.line_num + 1
    for number, cells in enumerate(reader, start=1):
        if not any(cell.strip() for cell in cells):
            start = reader.line_num + 1
            continue
        record = RegistryRecord(file=path, row=number, line=start, fmt=fmt)
        for index, name in wanted:
            value = cells[index].strip() if index < len(cells) else ""
            if name == "interventions":
                record.interventions = [_intervention(i) for i in _split(value)]
            elif name in _MULTI_FIELDS:
                setattr(record, name, _split(value))
            elif name == "sponsor":  # classic: "Lead|Collaborator|..."; the lead comes first
                record.sponsor = _split(value)[0] if value else ""
            else:
                setattr(record, name, value)
        record.phases = _split(record.phase)
        records.append(record)
        start = reader.line_num + 1
    return fmt, records


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


def _from_study(path: str, index: int, fmt: str, study: Any) -> RegistryRecord:
    record = RegistryRecord(file=path, row=index, line=None, fmt=fmt)
    protocol = _get(study, "protocolSection") or {}
    ident, status = protocol.get("identificationModule") or {}, protocol.get("statusModule") or {}
    design = protocol.get("designModule") or {}
    record.trial_id = _text(ident.get("nctId"))
    record.title = _text(ident.get("briefTitle"))
    record.status = _text(status.get("overallStatus"))
    record.study_type = _text(design.get("studyType"))
    phases = design.get("phases")
    if isinstance(phases, list):
        record.phases = [_text(p) for p in phases if _text(p)]
        record.phase = json.dumps(phases, ensure_ascii=False)
    elif phases is not None:
        record.phase = _text(phases)
        record.phases = [record.phase]
    count = _get(design, "enrollmentInfo", "count")
    record.enrollment = "" if count is None else _text(count)
    record.start_date = _text(_get(status, "startDateStruct", "date"))
    record.first_posted = _text(_get(status, "studyFirstPostDateStruct", "date"))
    record.first_submitted = _text(status.get("studyFirstSubmitDate"))
    record.last_update = _text(_get(status, "lastUpdatePostDateStruct", "date"))
    record.conditions = [
        _text(c) for c in _get(protocol, "conditionsModule", "conditions") or [] if _text(c)
    ]
    for item in _get(protocol, "armsInterventionsModule", "interventions") or []:
        name = _text(_get(item, "name"))
        kind = _text(_get(item, "type"))
        if name:
            record.interventions.append(f"{_type_label(kind)}: {name}" if kind else name)
    record.sponsor = _text(_get(protocol, "sponsorCollaboratorsModule", "leadSponsor", "name"))
    org = _text(_get(ident, "orgStudyIdInfo", "id"))
    record.secondary_ids = [org] if org else []
    record.secondary_ids += [
        _text(_get(s, "id")) for s in ident.get("secondaryIdInfos") or [] if _text(_get(s, "id"))
    ]
    record.summary = _text(_get(protocol, "descriptionModule", "briefSummary"))
    return record


def _read_json(path: str, text: str) -> tuple[str, list[RegistryRecord]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise LayoutError(f"not valid JSON: {error}") from None
    if isinstance(data, list):
        fmt, studies = "api_array", data
    elif isinstance(data, dict) and isinstance(data.get("studies"), list):
        fmt, studies = "api_page", data["studies"]
    else:
        keys = ", ".join(sorted(data)) if isinstance(data, dict) else type(data).__name__
        raise LayoutError(
            "JSON that is neither an array of API v2 study objects nor a page "
            f'{{"studies": [...]}}: missing key studies (found: {keys})'
        )
    for index, study in enumerate(studies):
        if not isinstance(_get(study, "protocolSection", "identificationModule"), dict):
            raise LayoutError(
                f"JSON study [{index}] has no protocolSection.identificationModule: "
                "missing field protocolSection.identificationModule.nctId"
            )
    return fmt, [_from_study(path, i, fmt, s) for i, s in enumerate(studies)]


def read_export(path: str, data: bytes) -> tuple[str, list[RegistryRecord]]:
    """The format of one export and its records; :class:`LayoutError` when it is unreadable.

    The format is told by content: JSON starts with ``[`` or ``{``; a CSV by its header.
    A UTF-8 BOM, CRLF line ends and newlines inside quoted cells are handled.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LayoutError(
            f"not UTF-8 text (byte {error.start}): export it again as UTF-8"
        ) from None
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        return _read_json(path, text)
    return _read_csv(path, text)
