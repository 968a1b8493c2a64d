"""Problems found in raw records: what every stage reports and the report prints.

A problem belongs to a record: a study file, or one row (or JSON index) of a
registry export that holds many records. It has a severity (an ``error`` keeps
its record out of the outputs and fails the build by default; a ``warning``
never does) and a stable ``code`` (``schema.required``, ``vocabulary.species``,
``model_type.unclassified``, ...) that tests and users can rely on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with one record, precise enough to fix without reading code.

    ``row`` is the record's place in a file of many records (a CSV data row counted
    from 1 under the header, or a JSON array index); ``record`` its id there (a
    trial id). Both stay empty for a study file, which is one record.
    """

    file: str
    line: int | None
    field: str
    message: str
    hint: str = ""
    stage: str = "ingest"
    code: str = ""
    severity: str = ERROR
    row: int | None = None
    record: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def where(self) -> str:
        """``file:line``, or ``file row 3 (NCT01234567)`` for a record inside a file."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.record:
            where += f" ({self.record})"
        return where

    def render(self) -> str:
        field = f" [{self.field}]" if self.field else ""
        hint = f" -> {self.hint}" if self.hint else ""
        level = "warning: " if self.severity == WARNING else ""
        return f"{self.where}{field}: {level}{self.message}{hint}"


def sort_key(problem: Problem) -> tuple[str, int, int, str, str, str, str]:
    return (
        problem.file,
        -1 if problem.row is None else problem.row,
        problem.line or 0,
        problem.field,
        problem.code,
        problem.message,
        problem.stage,
    )


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=sort_key)


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if not p.is_error]


def write_problems(problems: Iterable[Problem], path: str | Path) -> None:
    rows = [asdict(p) for p in sorted_problems(problems)]
    Path(path).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def read_problems(*paths: str | Path) -> list[Problem]:
    found: list[Problem] = []
    for path in paths:
        found.extend(Problem(**row) for row in json.loads(Path(path).read_text(encoding="utf-8")))
    return sorted_problems(found)


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 problem``, ``2 problems``; ``many`` for irregular plurals (``2 studies``)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def field_path(parts: Iterable[str | int]) -> str:
    """Render a JSON path the way a YAML author reads it: ``in_vivo[0].species``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
