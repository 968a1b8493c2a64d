"""Problems found in study records: what every stage reports and the report prints."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with one raw file, precise enough to fix without reading code."""

    file: str
    line: int | None
    field: str
    message: str
    hint: str = ""
    stage: str = "ingest"

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" [{self.field}]" if self.field else ""
        hint = f" -> {self.hint}" if self.hint else ""
        return f"{where}{field}: {self.message}{hint}"


def sort_key(problem: Problem) -> tuple[str, int, str, str, str]:
    return (problem.file, problem.line or 0, problem.field, problem.message, problem.stage)


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=sort_key)


def write_problems(problems: Iterable[Problem], path: str | Path) -> None:
    rows = [asdict(p) for p in sorted_problems(problems)]
    Path(path).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def read_problems(*paths: str | Path) -> list[Problem]:
    found: list[Problem] = []
    for path in paths:
        found.extend(Problem(**row) for row in json.loads(Path(path).read_text(encoding="utf-8")))
    return sorted_problems(found)


def field_path(parts: Iterable[str | int]) -> str:
    """Render a JSON path the way a YAML author reads it: ``in_vivo[0].species``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
