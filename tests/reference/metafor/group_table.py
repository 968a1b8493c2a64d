"""The long group table both derive scripts write: its columns, where ../shared is, the file.

derive_syrf.py and derive_lsr3.py (run once, by hand, from this folder) import it; the
layout is the one make_reference.R reads. Sources are assigned to studies in turn, so that
the subgroup test has three sources to compare.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = ("bone_marrow", "adipose", "umbilical_cord")
FIELDS = (
    "dataset",
    "condition",
    "analysis",
    "study_id",
    "source",
    "year",
    "entry",
    "outcome",
    "timepoint",
    "direction",
    "role",
    "arm",
    "label",
    "n",
    "mean",
    "sd",
    "sem",
)


def shared_literature(folder: str) -> Path:
    """A folder of ../shared/literature beside the checkout (or beside its worktree folder)."""
    return next(
        (
            base / "shared" / "literature" / folder
            for base in (HERE.parents[3], HERE.parents[4])
            if (base / "shared" / "literature").is_dir()
        ),
        HERE.parents[3] / "shared" / "literature" / folder,
    )


def write_groups(name: str, rows: Iterable[Mapping[str, object]]) -> None:
    """Write the group rows to ``name`` in this folder, header first, ``\\n`` line ends."""
    with (HERE / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
