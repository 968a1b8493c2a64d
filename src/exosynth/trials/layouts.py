"""What the registry readers share: the export as read, the error of one that cannot be, its words.

csv_export.py reads the two CSV layouts, json_export.py the two JSON ones; readers.py tells
an export's layout by its content and hands it to its reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exosynth.problems import ERROR, Problem
from exosynth.trials.shape import STAGE, RegistryRecord


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
CUT_HINT = (
    "download the export again (an interrupted download ends mid-row); the rows before it are read"
)


def file_problem(
    path: str, where: str, message: str, hint: str, *, line: int | None = None,
    severity: str = ERROR, code: str = "trials.layout",
) -> Problem:  # fmt: skip
    """A problem of the export as a whole (or of its row ``line``), at ``where``."""
    return Problem(
        file=path, line=line, field=where, message=message, hint=hint, stage=STAGE, code=code,
        severity=severity,
    )  # fmt: skip


def type_label(code: str) -> str:
    """``DIETARY_SUPPLEMENT`` -> ``Dietary Supplement``, as the classic CSV wrote types."""
    return " ".join(word.capitalize() for word in code.split("_"))
