"""The workbook's literature sheets, in words: "Changes" (since the baseline) and "PRISMA flow".

Made from results/changes.csv and results/prisma.csv (exosynth.literature): sources by their
labels, the change kinds and PRISMA boxes in words, counts as numbers.
"""

from __future__ import annotations

import polars as pl

CHANGES_SHEET = "Changes"
PRISMA_SHEET = "PRISMA flow"
_KINDS = {"study": "Study", "trial": "Registered trial"}
_CHANGES = {"added": "Added", "removed": "Removed", "edited": "Edited"}


def changes_rows(changes: pl.DataFrame, labels: dict[str, str]) -> pl.DataFrame:
    """One row per study or trial added, removed or edited, headed in words."""
    return pl.DataFrame(
        {
            "Kind": [_KINDS.get(k, k) for k in changes["kind"]],
            "Id": changes["id"].to_list(),
            "Change": [_CHANGES.get(c, c) for c in changes["change"]],
            "Source": [labels.get(s or "", s or "") for s in changes["source"]],
            "Fields changed": [(f or "").replace(";", ", ") or None for f in changes["fields"]],
        },
        schema=dict.fromkeys(("Kind", "Id", "Change", "Source", "Fields changed"), pl.String),
    )


def prisma_rows(prisma: pl.DataFrame) -> pl.DataFrame:
    """The PRISMA 2020 boxes in words with their counts (a list of names stays text)."""
    counts = [int(n) if str(n).isdigit() else None for n in prisma["n"]]
    details = [None if str(n).isdigit() else str(n) for n in prisma["n"]]
    return pl.DataFrame(
        {"Step": prisma["boxtext"].to_list(), "Count": counts, "Details": details},
        schema={"Step": pl.String, "Count": pl.Int64, "Details": pl.String},
    )
