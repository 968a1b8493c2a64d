"""The JSON readers: the website's JSON download (an array of API v2 studies) and an API page.

An API v2 page is ``{"studies": [...], "nextPageToken": ...}``. A file cut short keeps its
whole studies; JSON nested deeper than any registry export is refused with its path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from exosynth.problems import WARNING, Problem, plural
from exosynth.trials.layouts import (
    ACCEPTED,
    CUT_HINT,
    Export,
    LayoutError,
    file_problem,
    type_label,
)
from exosynth.trials.shape import Defect, RegistryRecord


def _get(study: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(study, dict):
            return None
        study = study.get(key)
    return study


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


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
            record.interventions.append(f"{type_label(kind)}: {name}" if kind else name)
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


def read_json(path: str, text: str) -> Export:
    """A JSON download or API page: its studies, each a record; the whole studies of a file
    cut short; :class:`LayoutError` for JSON of another shape."""
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
            file_problem(
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
