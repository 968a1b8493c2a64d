"""Registered trials: registry exports as downloaded, read into one row shape and normalized.

The second evidence stream of the translation gap. A review author drops ClinicalTrials.gov
exports, unchanged, into ``raw/trials/``; each file's format is told by its header or its
JSON shape, never by its name or by column positions:

- the classic CSV (before mid-2023: ``"Rank","NCT Number","Title",...``),
- the modern ``ctg-studies.csv`` (any subset of its 30 columns, in any order),
- the website's JSON download (a bare array of API v2 study objects),
- an API v2 page (``{"studies": [...], "nextPageToken": ...}``).

As sqlite-utils does, every format becomes the same flat record at the edge
(:class:`RegistryRecord`); everything after that (codes, dates, the EV class, the MSC
source, duplicates, decisions) is format-blind, so the same trial read from two formats
gives the same row. A row that cannot be read (a bad id, a non-numeric enrollment, an
impossible date, a phase or status no rule knows) is a :class:`~exosynth.problems.Problem`
naming the file, the row (or JSON index), the trial id and the field; the file's other rows
still go in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exosynth.problems import ERROR, Problem
from exosynth.vocabulary import SourceMatch, Vocabulary

if TYPE_CHECKING:  # polars is imported where frames are built: the Snakefile reads this module
    import polars as pl

STAGE = "trials"
UNSPECIFIED = "unspecified"
TRIAL_ID = re.compile(r"^NCT\d{8}$")
MULTI = "|"  # how registry multi-values (conditions, interventions, ids, files) are joined

# The output contract (DESIGN.md): the columns in its order, then what says why.
TRIAL_COLUMNS: dict[str, str] = {
    "trial_id": "String",
    "title": "String",
    "ev_class": "String",
    "source": "String",
    "source_basis": "String",
    "phase": "String",
    "status": "String",
    "study_type": "String",
    "enrollment": "Int64",
    "start_date": "String",
    "first_posted": "String",
    "last_update": "String",
    "conditions": "String",
    "interventions": "String",
    "sponsor": "String",
    "secondary_ids": "String",
    "raw_files": "String",
    # Beyond the contract's columns: dates the registry gives in some formats only, the
    # phase as the registry wrote it, and why the class and source are what they are.
    "first_submitted": "String",
    "phase_registry": "String",
    "ev_rule": "String",
    "source_term": "String",
    "decision_reason": "String",
}


def trial_schema() -> pl.Schema:
    """The polars schema of the trial table (results/trials.parquet)."""
    import polars as pl  # noqa: PLC0415 - here, not at the top: the Snakefile imports this module

    return pl.Schema({name: getattr(pl, dtype)() for name, dtype in TRIAL_COLUMNS.items()})


# -- one row shape at the edge ---------------------------------------------------------------
@dataclass
class RegistryRecord:
    """One trial as an export holds it, whatever the format: text, not yet normalized."""

    file: str
    row: int  # CSV data row counted from 1 under the header, or the JSON array index
    line: int | None  # the CSV line the row starts on (rows may span lines)
    fmt: str
    trial_id: str = ""
    title: str = ""
    status: str = ""
    study_type: str = ""
    phase: str = ""  # as written: "Phase 1|Phase 2", "PHASE1|PHASE2", '["PHASE1", "PHASE2"]'
    phases: list[str] = field(default_factory=list)
    enrollment: str = ""
    start_date: str = ""
    first_posted: str = ""
    first_submitted: str = ""
    last_update: str = ""
    conditions: list[str] = field(default_factory=list)
    interventions: list[str] = field(default_factory=list)  # "Biological: name"
    sponsor: str = ""
    secondary_ids: list[str] = field(default_factory=list)
    summary: str = ""


# CSV column names of both CSV layouts -> RegistryRecord fields (None: read, not used).
# The modern names follow the ClinicalTrials.gov download's 30 columns (jvfe/pytrials
# fields.csv maps each to its API v2 field); the classic names are the 27 of the old export.
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


# -- the vocabulary of config/trials.yaml ------------------------------------------------------
def fold_code(text: str) -> str:
    """The form codes are compared in: "Phase 1", "PHASE1" -> "phase 1", "phase1"."""
    return " ".join(re.sub(r"[\s_,\-]+", " ", text).split()).casefold()


@dataclass(frozen=True)
class EvRule:
    name: str
    ev_class: str
    description: str
    study_type: tuple[str, ...]
    matches: tuple[str, ...]
    with_: tuple[str, ...]
    without: tuple[str, ...]
    product: bool


@dataclass(frozen=True)
class Product:
    name: str
    source: str
    pattern: re.Pattern[str]
    documented: str


@dataclass
class TrialVocabulary:
    """config/trials.yaml as lookup tables and compiled patterns."""

    phases: dict[str, str]
    phase_pairs: dict[frozenset[str], str]
    statuses: dict[str, str]
    study_types: dict[str, str]
    patterns: dict[str, re.Pattern[str]]
    rules: list[EvRule]
    products: list[Product]
    source_spellings: list[tuple[re.Pattern[str], str]]
    raw: dict = field(repr=False, default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: dict) -> TrialVocabulary:
        def table(entries: dict[str, list[str]], where: str) -> dict[str, str]:
            found: dict[str, str] = {}
            for code, spellings in entries.items():
                for spelling in [code, *spellings]:
                    key = fold_code(spelling)
                    if found.get(key, code) != code:
                        raise ValueError(
                            f"config/trials.yaml {where}: {spelling!r} is listed for both "
                            f"{found[key]!r} and {code!r}"
                        )
                    found[key] = code
            return found

        patterns = {
            name: re.compile("|".join(f"(?:{p})" for p in items), re.IGNORECASE)
            for name, items in raw["patterns"].items()
        }
        rules = []
        for entry in raw["ev_rules"]:
            when = entry["when"]
            for group in [
                *when.get("matches", []),
                *when.get("with", []),
                *when.get("without", []),
            ]:
                if group not in patterns:
                    raise ValueError(
                        f"config/trials.yaml ev_rules.{entry['name']}: no pattern list {group!r}"
                    )
            rules.append(
                EvRule(
                    name=entry["name"],
                    ev_class=entry["class"],
                    description=" ".join(entry["description"].split()),
                    study_type=tuple(when.get("study_type", [])),
                    matches=tuple(when.get("matches", [])),
                    with_=tuple(when.get("with", [])),
                    without=tuple(when.get("without", [])),
                    product=bool(when.get("product")),
                )
            )
        products = [
            Product(
                name=name,
                source=entry["source"],
                pattern=_words([name, *entry["spellings"]]),
                documented=" ".join(entry["documented"].split()),
            )
            for name, entry in raw["products"].items()
        ]
        spellings = [
            (_words(words), code) for code, words in (raw.get("source_spellings") or {}).items()
        ]
        return cls(
            phases=table(raw["phases"], "phases"),
            phase_pairs={frozenset(pair): code for code, pair in raw["phase_pairs"].items()},
            statuses=table(raw["statuses"], "statuses"),
            study_types=table(raw["study_types"], "study_types"),
            patterns=patterns,
            rules=rules,
            products=products,
            source_spellings=spellings,
            raw=raw,
        )

    @property
    def phase_codes(self) -> list[str]:
        return [*dict.fromkeys(self.phases.values()), *self.phase_pairs.values()]


def _words(spellings: Iterable[str]) -> re.Pattern[str]:
    """Any of the spellings as a whole word (not inside a longer word), case-insensitive."""
    alternatives = sorted({re.escape(s.casefold()) for s in spellings}, key=len, reverse=True)
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(alternatives)})(?![a-z0-9])", re.IGNORECASE)


# -- the MSC source named in free text ---------------------------------------------------------
SourceFinder = Callable[[str], SourceMatch | None]


def source_finder(vocabulary: Vocabulary) -> SourceFinder:
    """The source grammar's free-text finder (``Vocabulary.find_source``): one tissue or None."""
    return vocabulary.find_source


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


_CLAUSE = re.compile(r"\s*(?:\band\b|\bor\b|\bwith\b|\bversus\b|\bvs\b\.?|[,;+|/]|\s-\s)\s*", re.I)


def _clauses(text: str) -> list[str]:
    """A title or intervention cut at "and", "or", "with", commas...: each product apart."""
    return [c for c in _CLAUSE.split(text) if c and c.strip()]


def _name(intervention: str) -> str:
    """``Biological: MSC-Exos`` -> ``MSC-Exos``: the type is not part of the product's name."""
    kind, sep, name = intervention.partition(": ")
    return name if sep and len(kind) < 30 else intervention


@dataclass
class Classified:
    ev_class: str
    ev_rule: str
    source: str
    source_basis: str
    source_term: str


def _first_rule(
    terms: TrialVocabulary, joined: str, study_type: str, product: Product | None
) -> tuple[str, str]:
    """The name and class of the first rule of config/trials.yaml whose condition holds."""
    found = {name for name, pattern in terms.patterns.items() if pattern.search(joined)}
    has = found.__contains__  # each pattern list searched once per trial, not once per rule
    for rule in terms.rules:
        held = (
            (not rule.study_type or study_type in rule.study_type)
            and (not rule.product or product is not None)
            and all(has(g) for g in rule.matches)
            and (not rule.with_ or any(has(g) for g in rule.with_))
            and not any(has(g) for g in rule.without)
        )
        if held:
            return rule.name, rule.ev_class
    return "no_rule", "other"  # the vocabulary's last rule holds always; never leave one unclassed


# The pattern lists whose clauses may name a class's tissue: for an EV trial the clause with
# the EVs, not a comparator arm of cells from another tissue. Other classes: any clause.
_BEARING = {"msc_ev": ("ev",), "msc_secretome": ("secretome", "ev_enriched_cells", "ev")}


def _source_in(
    texts: Sequence[str], groups: Sequence[str], terms: TrialVocabulary, find_source: SourceFinder
) -> tuple[str, str] | None:
    """The source code and the clause naming it: the first clause that names one tissue."""
    patterns = [terms.patterns[g] for g in groups if g in terms.patterns]
    for clause in (c for text in texts for c in _clauses(text)):
        if patterns and not any(p.search(clause) for p in patterns):
            continue
        found = find_source(clause)
        if found is not None:
            return found.source, clause.strip()
        for pattern, code in terms.source_spellings:
            if pattern.search(clause):
                return code, clause.strip()
    return None


def classify(
    record: RegistryRecord,
    study_type: str,
    terms: TrialVocabulary,
    find_source: SourceFinder,
    forced_class: str | None = None,
) -> Classified:
    """The EV class (the first rule of config/trials.yaml that holds) and the MSC source.

    The source: a tissue the registry text names in a clause about the class's product
    (title and interventions first, the brief summary after the product list), else the
    product list for a named MSC-EV product, else ``unspecified``: never a guess.
    """
    texts = [record.title, *(_name(i) for i in record.interventions)]
    if not record.interventions and record.summary:
        texts.append(record.summary)  # an export without interventions: the summary says what
    joined = "\n".join(texts)
    product = next((p for p in terms.products if p.pattern.search(joined)), None)
    if forced_class is None:
        rule_name, ev_class = _first_rule(terms, joined, study_type, product)
    else:
        rule_name, ev_class = "decision", forced_class
    groups = _BEARING.get(ev_class, ())
    found = _source_in(texts, groups, terms, find_source)
    if found:
        return Classified(ev_class, rule_name, found[0], "registry", found[1])
    if product is not None and ev_class == "msc_ev":
        return Classified(ev_class, rule_name, product.source, "product", product.name)
    if record.summary and record.summary not in texts:
        found = _source_in([record.summary], groups, terms, find_source)
        if found:
            return Classified(ev_class, rule_name, found[0], "registry", found[1])
    return Classified(ev_class, rule_name, UNSPECIFIED, "", "")


@dataclass(frozen=True)
class Decision:
    trial_id: str
    reason: str
    source: str | None = None
    include: bool = True
    ev_class: str | None = None


def _problem(record: RegistryRecord, field_name: str, message: str, hint: str) -> Problem:
    return Problem(
        file=record.file,
        line=record.line,
        field=field_name,
        message=message,
        hint=hint,
        stage=STAGE,
        code=f"trials.{field_name}",
        severity=ERROR,
        row=record.row,
        record=record.trial_id,
    )


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
    problems: list[Problem] = []
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
    for name in ("start_date", "first_posted", "first_submitted", "last_update"):
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
    if problems:
        return None, problems
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
        line=None,
        field="",
        message=f"unreadable registry export: {error}",
        hint="export from ClinicalTrials.gov as CSV (classic or ctg-studies.csv) or JSON, "
        "and drop the file in unchanged",
        stage=STAGE,
        code="trials.layout",
    )


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
        counts["format"], records = read_export(path, data)
    except LayoutError as error:
        counts["format"] = "unreadable"
        return counts, [], [_layout_problem(path, error)]
    rows: list[tuple[dict[str, Any], RegistryRecord]] = []
    problems: list[Problem] = []
    for record in records:
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
        counts, rows, bad = _read_rows(path, data, terms, find_source, decisions)
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
    return TrialsResult(frame, problems, ledger)
