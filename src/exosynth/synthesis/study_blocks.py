"""The quality blocks of the study table decoded, and the per-source frame shapes the
quality syntheses share (sources in table order, then ``all``)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from exosynth.settings import SourceTable
from exosynth.synthesis.gap import ALL

DECIMALS = 4


def decoded(column: pl.Series) -> list[Any]:
    """The JSON text of a block column, decoded (None stays None)."""
    return [None if text is None else json.loads(text) for text in column.to_list()]


def source_order(tables: list[SourceTable]) -> pl.DataFrame:
    """The configured sources in table order, then ``all``, with their ``order``."""
    return pl.DataFrame(
        {"source": [t.key for t in tables] + [ALL], "order": list(range(len(tables) + 1))},
        schema={"source": pl.String, "order": pl.Int64},
    )


def with_all(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows once under their own source and once under ``all``."""
    return pl.concat([frame, frame.with_columns(source=pl.lit(ALL))])
