"""How the vesicles were made and given: EV characterisation (MISEV) with its reporting
completeness, and dose and route, per study and per source.

- **EV reporting completeness** is EV-TRACK's: the MISEV items a study reports divided by the
  items that apply to it (:data:`EV_ITEMS`, each with the rule of when it applies), so an
  item that does not apply (centrifugation settings after a precipitation kit) is in
  neither count.
- **Doses** are summarised per unit (and per kg or not): never added or compared across
  units. What a study does not report is a ``not_reported`` row, never a guess.

Inputs are the normalized study table with the blocks as canonical JSON text in codes (see
:mod:`exosynth.studies.quality_blocks`); sources come in table order, then ``all``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from exosynth.settings import SourceTable
from exosynth.synthesis.study_blocks import DECIMALS, decoded, source_order, with_all

NOT_REPORTED = "not_reported"

# -- EV characterisation -----------------------------------------------------------------
CENTRIFUGATION_METHODS = frozenset({"ultracentrifugation", "density_gradient"})


@dataclass(frozen=True)
class EvItem:
    """A MISEV item of EV-TRACK's completeness: reported when its field holds a value, and
    counted only where it applies to the study."""

    field: str
    label: str
    applies: Callable[[dict], bool]


def _always(_: dict) -> bool:
    return True


EV_ITEMS: tuple[EvItem, ...] = (
    EvItem("isolation", "Isolation method", _always),
    EvItem(
        "centrifugation",
        "Centrifugation settings",
        lambda ev: bool(CENTRIFUGATION_METHODS & set(ev.get("isolation") or ())),
    ),
    EvItem("particles", "Particle count", _always),
    EvItem("size", "Size", _always),
    EvItem("markers_positive", "Positive markers", _always),
    EvItem("markers_negative", "Negative markers", _always),
    EvItem("imaging", "Imaging", _always),
)


def completeness(ev: dict) -> tuple[int, int]:
    """(items reported, items that apply) of one study's ev block."""
    applying = [item for item in EV_ITEMS if item.applies(ev)]
    reported = [item for item in applying if ev.get(item.field) not in (None, [], "")]
    return len(reported), len(applying)


def _joined(value: Any) -> str | None:
    if value is None:
        return None
    return ";".join(value) if isinstance(value, list) else str(value)


def ev_characterisation(studies: pl.DataFrame) -> pl.DataFrame:
    """One row per study with an ev block: its MISEV fields (lists ';'-joined), the items
    reported and applying, and the completeness (reported / applying)."""
    rows = []
    for study_id, source, ev in zip(
        studies["id"].to_list(), studies["source"].to_list(), decoded(studies["ev"]), strict=True
    ):
        if ev is None:
            continue
        reported, applying = completeness(ev)
        rows.append(
            (
                study_id,
                source,
                *(_joined(ev.get(item.field)) for item in EV_ITEMS),
                reported,
                applying,
                round(reported / applying, DECIMALS) if applying else None,
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "study_id": pl.String,
            "source": pl.String,
            **{item.field: pl.String for item in EV_ITEMS},
            "n_items_reported": pl.Int64,
            "n_items_applicable": pl.Int64,
            "completeness": pl.Float64,
        },
        orient="row",
    )


def ev_summary(studies: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """Per source and ``all``: studies, studies characterised (with an ev block) and not,
    completeness (median, min, max), and for each MISEV item the studies reporting it out of
    those it applies to (``<item>_reported``, ``<item>_applicable``)."""
    rows = []
    for source, ev in zip(studies["source"].to_list(), decoded(studies["ev"]), strict=True):
        if ev is None:
            continue
        reported, applying = completeness(ev)
        flags = []
        for item in EV_ITEMS:
            applies = item.applies(ev)
            flags += [applies and ev.get(item.field) not in (None, [], ""), applies]
        rows.append((source, reported / applying if applying else None, *flags))
    columns = [
        c for item in EV_ITEMS for c in (f"{item.field}_reported", f"{item.field}_applicable")
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "source": pl.String,
            "completeness": pl.Float64,
            **dict.fromkeys(columns, pl.Boolean),
        },
        orient="row",
    )
    counts = (
        with_all(frame)
        .group_by("source")
        .agg(
            pl.len().alias("n_characterised"),
            pl.col("completeness").median().round(DECIMALS).alias("completeness_median"),
            pl.col("completeness").min().round(DECIMALS).alias("completeness_min"),
            pl.col("completeness").max().round(DECIMALS).alias("completeness_max"),
            *(pl.col(c).sum() for c in columns),
        )
    )
    totals = with_all(studies.select("source")).group_by("source").agg(n_studies=pl.len())
    return (
        source_order(tables)
        .join(totals, on="source", how="left")
        .join(counts, on="source", how="left")
        .sort("order")
        .with_columns(pl.col("n_studies", "n_characterised", *columns).fill_null(0).cast(pl.Int64))
        .with_columns(n_not_characterised=pl.col("n_studies") - pl.col("n_characterised"))
        .select(
            "source",
            "n_studies",
            "n_characterised",
            "n_not_characterised",
            "completeness_median",
            "completeness_min",
            "completeness_max",
            *columns,
        )
    )


def ev_terms(ev: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """Per source and ``all``: studies per isolation method and per marker named
    (``aspect``: isolation, marker_positive, marker_negative). Markers are grouped regardless
    of case and shown in their most frequent spelling."""
    parts = []
    for aspect, column in (
        ("isolation", "isolation"),
        ("marker_positive", "markers_positive"),
        ("marker_negative", "markers_negative"),
    ):
        parts.append(
            ev.select(
                "study_id",
                "source",
                pl.lit(aspect).alias("aspect"),
                pl.col(column).str.split(";").alias("term"),
            )
            .explode("term")
            .drop_nulls("term")
            .with_columns(key=pl.col("term").str.to_lowercase().str.strip_chars())
            .unique(["study_id", "aspect", "key"], keep="first", maintain_order=True)
        )
    terms = pl.concat(parts)
    shown = (
        terms.group_by("aspect", "key", "term")
        .agg(n=pl.len())
        .sort("n", "term", descending=[True, False])
        .group_by("aspect", "key", maintain_order=True)
        .agg(shown=pl.col("term").first())
    )
    aspects = pl.DataFrame(
        {"aspect": ["isolation", "marker_positive", "marker_negative"], "aspect_order": [0, 1, 2]}
    )
    return (
        with_all(terms)
        .group_by("source", "aspect", "key")
        .agg(n_studies=pl.len().cast(pl.Int64))
        .join(shown, on=["aspect", "key"])
        .join(source_order(tables), on="source")
        .join(aspects, on="aspect")
        .sort(
            ["order", "aspect_order", "n_studies", "shown"], descending=[False, False, True, False]
        )
        .select("source", "aspect", pl.col("shown").alias("term"), "n_studies")
    )


# -- dose and route ----------------------------------------------------------------------
def routes(studies: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """Per source and ``all``: studies per route (a study counts once under each route it
    used), and ``not_reported`` for the studies that do not say."""
    rows = [
        (source, route)
        for source, given in zip(
            studies["source"].to_list(), decoded(studies["route"]), strict=True
        )
        for route in (given or [NOT_REPORTED])
    ]
    frame = pl.DataFrame(rows, schema={"source": pl.String, "route": pl.String}, orient="row")
    return (
        with_all(frame)
        .group_by("source", "route")
        .agg(n_studies=pl.len().cast(pl.Int64))
        .join(source_order(tables), on="source")
        .with_columns(last=pl.col("route") == NOT_REPORTED)
        .sort(["order", "last", "n_studies", "route"], descending=[False, False, True, False])
        .select("source", "route", "n_studies")
    )


def doses(studies: pl.DataFrame, tables: list[SourceTable]) -> pl.DataFrame:
    """Per source and ``all``, per dose unit and per kg or not: studies, and the lowest,
    median and highest dose. Doses of different units are never in one row; the studies
    that report no dose are a ``not_reported`` row."""
    rows = []
    for source, dose in zip(studies["source"].to_list(), decoded(studies["dose"]), strict=True):
        if dose is None or dose.get("unit") is None:
            rows.append((source, NOT_REPORTED, None, None))
        else:
            rows.append((source, dose["unit"], bool(dose.get("per_kg")), float(dose["value"])))
    frame = pl.DataFrame(
        rows,
        schema={"source": pl.String, "unit": pl.String, "per_kg": pl.Boolean, "value": pl.Float64},
        orient="row",
    )
    return (
        with_all(frame)
        .group_by("source", "unit", "per_kg")
        .agg(
            n_studies=pl.len().cast(pl.Int64),
            dose_min=pl.col("value").min(),
            dose_median=pl.col("value").median(),
            dose_max=pl.col("value").max(),
        )
        .join(source_order(tables), on="source")
        .with_columns(last=pl.col("unit") == NOT_REPORTED)
        .sort(["order", "last", "unit", "per_kg"], nulls_last=True)
        .select("source", "unit", "per_kg", "n_studies", "dose_min", "dose_median", "dose_max")
    )


def dosing(studies: pl.DataFrame) -> pl.DataFrame:
    """One row per study: its dose (value, unit code, per kg) and routes (';'-joined codes),
    null where the record does not report them."""
    rows = []
    for study_id, source, given, route in zip(
        studies["id"].to_list(),
        studies["source"].to_list(),
        decoded(studies["dose"]),
        decoded(studies["route"]),
        strict=True,
    ):
        dose = given or {}
        value = dose.get("value")
        rows.append(
            (
                study_id,
                source,
                None if value is None else float(value),
                dose.get("unit"),
                dose.get("per_kg") if dose else None,
                ";".join(route) if route else None,
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "study_id": pl.String,
            "source": pl.String,
            "dose_value": pl.Float64,
            "dose_unit": pl.String,
            "per_kg": pl.Boolean,
            "route": pl.String,
        },
        orient="row",
    )
