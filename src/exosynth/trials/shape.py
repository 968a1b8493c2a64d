"""The one row shape of a registered trial: the flat record every export becomes, the trial columns.


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

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
    "primary_completion_date": "String",
    "completion_date": "String",
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
    primary_completion_date: str = ""
    completion_date: str = ""
    conditions: list[str] = field(default_factory=list)
    interventions: list[str] = field(default_factory=list)  # "Biological: name"
    sponsor: str = ""
    secondary_ids: list[str] = field(default_factory=list)
    summary: str = ""
    # What the reader found wrong with the row itself (cut short, cells shifted, one column
    # twice with two values): reported by normalize; an error keeps the row out.
    defects: list[Defect] = field(default_factory=list)


@dataclass(frozen=True)
class Defect:
    """A fault of one row as the export holds it, found while reading it."""

    field: str
    message: str
    hint: str
    severity: str = "error"


# CSV column names of both CSV layouts -> RegistryRecord fields (None: read, not used).
# The modern names follow the ClinicalTrials.gov download's 30 columns (jvfe/pytrials
# fields.csv maps each to its API v2 field); the classic names are the 27 of the old export.
