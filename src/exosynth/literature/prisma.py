"""The PRISMA 2020 flow: counts from the import logs and the drafts, checks that they add up,
and the PRISMA2020 data layout (the template of the PRISMA2020 R package and Shiny app).

Identified: the references read, per imported file (its database where the file names one).
Removed before screening: duplicates, and rows with nothing to identify them. Screened: the
drafts written. Excluded at screening: drafts excluded at ``title_abstract``, per reason.
Awaiting screening: drafts without a decision (not a PRISMA box; shown so the sums close).
Reports sought: the rest; not retrieved: full-text exclusions for ``no_full_text``; assessed:
sought minus not retrieved; excluded after assessment: full-text exclusions per reason. New
studies: drafts included, those already moved into ``raw/<source>/`` per source, the others
as pending. Previous studies: the review's own.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field

from exosynth.literature.references import EXCLUDE, INCLUDE, problem
from exosynth.literature.screening import DraftState
from exosynth.problems import WARNING, Problem

NOT_RETRIEVED = "no_full_text"
PENDING = "pending"  # included, not yet moved into raw/<source>/

# The PRISMA2020 template's rows: data, node, box, boxtext (the template's own words).
TEMPLATE = (
    ("previous_studies", "node5", "box1", "Studies included in previous version of review"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review"),
    ("database_results", "node7", "box2", "Databases"),
    ("database_specific_results", "NA", "box2", "Specific Databases"),
    ("register_results", "NA", "box2", "Registers"),
    ("register_specific_results", "NA", "box2", "Specific Registers"),
    ("website_results", "node17", "box11", "Websites"),
    ("organisation_results", "", "box11", "Organisations"),
    ("citations_results", "NA", "box11", "Citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons"),
    ("records_screened", "node9", "box4", "Records screened"),
    ("records_excluded", "node10", "box5", "Records excluded"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility"),
    ("dbr_excluded", "node14", "box9", "Reports excluded"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility"),
    ("other_excluded", "node21", "box15", "Reports excluded"),
    ("new_studies", "node15", "box10", "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies"),
    ("total_studies", "node22", "box16", "Total studies included in review"),
    ("total_reports", "NA", "box16", "Reports of total included studies"),
)
# Rows exosynth adds after the template's (the R package reads rows by `data` and skips these).
EXTRA = (
    ("awaiting_screening", "NA", "NA", "Records awaiting screening (exosynth)"),
    ("new_studies_by_source", "NA", "NA", "New studies included, per MSC source (exosynth)"),
)
HEADER = ("data", "node", "box", "boxtext", "n")


@dataclass
class Counts:
    """The flow's numbers; lists are (name, count) in a fixed order."""

    identified: list[tuple[str, int]] = field(default_factory=list)
    duplicates: int = 0
    removed_other: int = 0
    screened: int = 0
    excluded_screening: list[tuple[str, int]] = field(default_factory=list)
    awaiting: int = 0
    not_retrieved: int = 0
    excluded_full_text: list[tuple[str, int]] = field(default_factory=list)
    included: list[tuple[str, int]] = field(default_factory=list)  # per source code, pending
    previous: int = 0

    @property
    def identified_total(self) -> int:
        return sum(n for _, n in self.identified)

    @property
    def records_excluded(self) -> int:
        return sum(n for _, n in self.excluded_screening)

    @property
    def sought(self) -> int:
        return self.screened - self.records_excluded - self.awaiting

    @property
    def assessed(self) -> int:
        return self.sought - self.not_retrieved

    @property
    def reports_excluded(self) -> int:
        return sum(n for _, n in self.excluded_full_text)

    @property
    def new_studies(self) -> int:
        return sum(n for _, n in self.included)


def count(
    logs: list[dict],
    states: list[DraftState],
    moved: dict[str, str],
    previous: int,
) -> Counts:
    """The flow from the import logs, the inbox drafts' states, the drafts already moved into
    ``raw/<source>/`` (id -> source code) and the number of the review's own studies."""
    identified: Counter[str] = Counter()
    counts = Counts(previous=previous)
    logged: set[str] = set()
    for log in logs:
        name = log.get("database") or log.get("file") or "unnamed file"
        identified[str(name)] += int(log.get("references_read") or 0)
        counts.duplicates += int(log.get("duplicates_removed") or 0)
        counts.removed_other += int(log.get("not_identified") or 0)
        logged.update(str(i) for i in log.get("drafts") or [])
    counts.identified = sorted(identified.items())
    in_inbox = {s.id: s for s in states}
    flow = [s for s in states if s.id in logged] + [
        DraftState(i, "", INCLUDE, None, "full_text") for i in sorted(moved) if i in logged
    ]
    counts.screened = len(flow)
    screening_out: Counter[str] = Counter()
    full_text_out: Counter[str] = Counter()
    included: Counter[str] = Counter()
    for state in flow:
        if state.decision is None:
            counts.awaiting += 1
        elif state.decision == EXCLUDE and state.stage == "title_abstract":
            screening_out[state.reason or "no reason given"] += 1
        elif state.decision == EXCLUDE and state.reason == NOT_RETRIEVED:
            counts.not_retrieved += 1
        elif state.decision == EXCLUDE:
            full_text_out[state.reason or "no reason given"] += 1
        elif state.id in moved and state.id not in in_inbox:
            included[moved[state.id]] += 1
        else:
            included[PENDING] += 1
    counts.excluded_screening = sorted(screening_out.items())
    counts.excluded_full_text = sorted(full_text_out.items())
    counts.included = sorted(included.items(), key=lambda kv: (kv[0] == PENDING, kv[0]))
    return counts


def check(counts: Counts, logs: list[dict]) -> list[Problem]:
    """The sums the flow must satisfy; each broken one is an error naming both sides."""
    written = sum(int(log.get("drafts_written") or 0) for log in logs)
    rules = (
        (
            "identified - duplicates - removed = screened",
            counts.identified_total - counts.duplicates - counts.removed_other,
            written,
        ),
        ("drafts written = drafts found (inbox + raw/<source>/)", written, counts.screened),
        (
            "screened - excluded - awaiting = sought",
            counts.screened - counts.records_excluded - counts.awaiting,
            counts.sought,
        ),
        (
            "assessed - excluded = included",
            counts.assessed - counts.reports_excluded,
            counts.new_studies,
        ),
    )
    return [
        problem(
            "results/prisma.csv",
            f"the PRISMA counts do not add up: {rule} ({left} vs {right})",
            "a draft was deleted or renamed by hand, or an import log edited: restore it, "
            "or mark the draft excluded with a reason instead of deleting it",
            code="prisma.sum",
            field=rule,
        )
        for rule, left, right in rules
        if left != right
    ]


def _listing(items: list[tuple[str, int]], labels: dict[str, str]) -> str:
    return "; ".join(f"{labels.get(name, name)}, {n}" for name, n in items)


def template_values(counts: Counts, labels: dict[str, str]) -> dict[str, str]:
    """The counts by the template's ``data`` names (``n`` as the template writes it)."""
    values = {
        "previous_studies": counts.previous,
        "previous_reports": counts.previous,
        "database_results": counts.identified_total,
        "database_specific_results": _listing(counts.identified, labels),
        "duplicates": counts.duplicates,
        "excluded_other": counts.removed_other,
        "records_screened": counts.screened,
        "records_excluded": counts.records_excluded,
        "dbr_sought_reports": counts.sought,
        "dbr_notretrieved_reports": counts.not_retrieved,
        "dbr_assessed": counts.assessed,
        "dbr_excluded": _listing(counts.excluded_full_text, labels) or 0,
        "new_studies": counts.new_studies,
        "new_reports": counts.new_studies,
        "total_studies": counts.previous + counts.new_studies,
        "total_reports": counts.previous + counts.new_studies,
        "awaiting_screening": counts.awaiting,
        "new_studies_by_source": _listing(counts.included, labels),
    }
    return {k: str(v) for k, v in values.items()}


def prisma_csv(counts: Counts, labels: dict[str, str]) -> str:
    """results/prisma.csv: the PRISMA2020 data layout, every template row, exosynth's after."""
    values = template_values(counts, labels)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for data, node, box, text in TEMPLATE + EXTRA:
        writer.writerow((data, node, box, text, values.get(data, "0")))
    return out.getvalue()


def fill_template(template: str, values: dict[str, str]) -> str:
    """A PRISMA2020 CSV (the template, or a filled one) with ``n`` set from ``values``: rows
    matched by ``data``, not by position; every other cell, and rows it lacks, as they were."""
    rows = list(csv.reader(io.StringIO(template, newline="")))
    header = rows[0]
    data_at, n_at = header.index("data"), header.index("n")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows[1:]:
        if len(row) > max(data_at, n_at) and row[data_at] in values:
            row = [*row]  # noqa: PLW2901 (a changed copy)
            row[n_at] = values[row[data_at]]
        writer.writerow(row)
    return out.getvalue()


_ITEM = re.compile(r"^\s*(.+?)\s*,\s*(\d+)\s*$")
_LOOSE_ITEM = re.compile(r"^\s*(.+?)\s*[.:]?\s+(\d+)\s*$")  # "EMBASE. 1332"


def read_values(text: str, file: str) -> tuple[dict[str, object], list[Problem]]:
    """A filled PRISMA2020 CSV as {data: int or [(name, count)]}, with a problem for each
    value that is neither a number nor ``Name, count; Name, count``."""
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for number, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=1):
        data, raw = (row.get("data") or "").strip(), (row.get("n") or "").strip()
        if not data or data == "NA":
            continue
        if re.fullmatch(r"\d+", raw):
            values[data] = int(raw)
            continue
        items: list[tuple[str, int]] = []
        for part in raw.split(";"):
            match = _ITEM.match(part)
            loose = None if match else _LOOSE_ITEM.match(part)
            if match:
                items.append((match.group(1), int(match.group(2))))
            elif loose:
                items.append((loose.group(1), int(loose.group(2))))
                problems.append(
                    problem(
                        file,
                        f"{data}: {part.strip()!r} read as {loose.group(1)!r}, {loose.group(2)}",
                        "write Name, count (a comma before the count)",
                        code="prisma.item",
                        row=number,
                        field=data,
                        severity=WARNING,
                    )
                )
            elif part.strip():
                problems.append(
                    problem(
                        file,
                        f"{data}: {part.strip()!r} is not 'Name, count'",
                        "write each item as Name, count and separate items with ;",
                        code="prisma.item",
                        row=number,
                        field=data,
                    )
                )
        values[data] = items
    return values, problems


def check_values(values: dict[str, object], file: str) -> list[Problem]:
    """The sums of a filled PRISMA2020 CSV (any tool's): each broken one a problem."""

    def n(name: str) -> int:
        value = values.get(name, 0)
        return sum(c for _, c in value) if isinstance(value, list) else int(value)  # type: ignore[arg-type]

    rules = [
        (
            "database_results = sum of database_specific_results",
            n("database_results"),
            n("database_specific_results"),
        ),
        (
            "databases + registers - duplicates - removed = records_screened",
            n("database_results")
            + n("register_results")
            - n("duplicates")
            - n("excluded_automatic")
            - n("excluded_other"),
            n("records_screened"),
        ),
        (
            "records_screened - records_excluded = dbr_sought_reports",
            n("records_screened") - n("records_excluded"),
            n("dbr_sought_reports"),
        ),
        (
            "dbr_sought_reports - dbr_notretrieved_reports = dbr_assessed",
            n("dbr_sought_reports") - n("dbr_notretrieved_reports"),
            n("dbr_assessed"),
        ),
        (
            "dbr_assessed - dbr_excluded + other_assessed - other_excluded = new_reports",
            n("dbr_assessed") - n("dbr_excluded") + n("other_assessed") - n("other_excluded"),
            n("new_reports"),
        ),
    ]
    if (
        isinstance(values.get("register_specific_results"), list)
        and values["register_specific_results"]
    ):
        rules.append(
            (
                "register_results = sum of register_specific_results",
                n("register_results"),
                n("register_specific_results"),
            )
        )
    if n("total_studies"):
        rules.append(
            (
                "previous_studies + new_studies = total_studies",
                n("previous_studies") + n("new_studies"),
                n("total_studies"),
            )
        )
    return [
        problem(
            file,
            f"does not add up: {rule} ({left} vs {right})",
            "check the counts of the flow diagram",
            code="prisma.sum",
            field=rule,
        )
        for rule, left, right in rules
        if left != right
    ]
