"""The checked-in metafor reference (tests/reference/metafor/) as polars frames for the tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from exosynth.synthesis.effects import GROUP_SCHEMA

REFERENCE = Path(__file__).resolve().parent / "reference" / "metafor"
INPUTS = ("groups_handmade.csv", "groups_syrf.csv", "groups_lsr3.csv", "groups_metadat.csv")
TOLERANCE = 1e-6


def groups() -> pl.DataFrame:
    """All reference datasets as one long frame of groups (GROUP_SCHEMA plus dataset/analysis).

    ``condition`` is ``dataset: condition`` so the datasets never share an analysis.
    """
    frames = [
        pl.read_csv(REFERENCE / name, infer_schema_length=0).with_columns(
            condition=pl.col("dataset") + ": " + pl.col("condition"),
            raw_file=pl.col("dataset") + "/" + pl.col("study_id") + ".yaml",
            primary=pl.lit(None, dtype=pl.Boolean),
        )
        for name in INPUTS
    ]
    frame = pl.concat(frames, how="diagonal")
    return frame.select(
        "dataset",
        "analysis",
        *(pl.col(name).cast(dtype) for name, dtype in GROUP_SCHEMA.items()),
    )


def expected(name: str) -> pl.DataFrame:
    return pl.read_csv(REFERENCE / f"expected_{name}.csv")
