"""Risk-of-bias figures in the style of robvis: a traffic-light plot per study and a summary
bar chart per item and source. Drawing only: every number comes from
:mod:`exosynth.synthesis.quality`, and the rule writes that frame beside the picture.

Each judgement has a colour (Okabe-Ito: bluish green, yellow, vermilion) AND a symbol
(``+`` low, ``?`` unclear, ``-`` high) in the traffic lights, and a hatch in the bars, so
both figures read in black and white and for colour-blind readers. The fixed style,
layout freezing and metadata-free saving of :mod:`exosynth.outputs.figures` keep the files
byte-identical from one build to the next.

Why not a package: critiplot (PyPI, the one Python package for robvis-style plots) draws
ROBIS, NOS, JBI, GRADE and MMAT but not SYRCLE, reads its data from a file path and saves
through pyplot's global state with the date and version in the files, pulls in pandas,
seaborn and pyarrow, and turns a judgement it does not know into "Unclear" silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch

from exosynth.outputs.figures import _freeze, _new_figure, style
from exosynth.outputs.stage_style import JUDGEMENT_COLOURS
from exosynth.quality_terms import HIGH, ITEM_CODES, ITEM_LABELS, JUDGEMENTS, LOW, UNCLEAR
from exosynth.settings import SourceTable
from exosynth.synthesis.gap import ALL

COLOURS = JUDGEMENT_COLOURS  # shared with the evidence map page (exosynth.outputs.stage_style)
SYMBOLS = {LOW: "+", UNCLEAR: "?", HIGH: "\u2212"}
HATCHES = {LOW: "", UNCLEAR: "...", HIGH: "///"}
WORDS = {LOW: "Low risk", UNCLEAR: "Unclear risk", HIGH: "High risk"}
ALL_LABEL = "All sources"
ROW_HEIGHT = 0.24  # inches per study in the traffic-light plot


def _labels(tables: list[SourceTable]) -> dict[str, str]:
    return {**{t.key: t.label for t in tables}, ALL: ALL_LABEL}


def _legend(ax: object, *, symbols: bool) -> None:
    handles = [
        Patch(
            facecolor=COLOURS[j],
            edgecolor="black",
            hatch="" if symbols else HATCHES[j],
            label=f"{SYMBOLS[j]}  {WORDS[j]}" if symbols else WORDS[j],
        )
        for j in JUDGEMENTS
    ]
    ax.legend(  # type: ignore[attr-defined]
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        title="Judgement",
    )


def _empty(title: str, note: str) -> Figure:
    with style():
        fig = _new_figure(7.0, 1.6)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_title(title, loc="left")
        ax.text(0.0, 0.5, note, ha="left", va="center", transform=ax.transAxes)
    return _freeze(fig)


def traffic_light_figure(
    rob: pl.DataFrame, tables: list[SourceTable], n_not_assessed: int = 0
) -> Figure:
    """One row per assessed study, grouped by source in table order; the ten SYRCLE items
    in columns. ``rob`` is :func:`exosynth.synthesis.quality.risk_of_bias`."""
    title = "Risk of bias per study (SYRCLE)"
    note = f"not assessed: {n_not_assessed}"
    if rob.is_empty():
        return _empty(title, f"No study has a risk-of-bias assessment ({note}).")
    labels = _labels(tables)
    order = {t.key: i for i, t in enumerate(tables)}
    studies = (
        rob.select("study_id", "source")
        .unique(maintain_order=True)
        .with_columns(order=pl.col("source").replace_strict(order, default=len(order)))
        .sort("order", maintain_order=True)
    )
    # Rows top to bottom: a heading row per source, then its studies.
    rows: list[tuple[str, str]] = []  # (kind, text): ("source", label) or ("study", id)
    for source in studies["source"].unique(maintain_order=True).to_list():
        rows.append(("source", labels.get(source, source)))
        rows += [("study", s) for s in studies.filter(pl.col("source") == source)["study_id"]]
    y_of = {text: i for i, (kind, text) in enumerate(rows) if kind == "study"}
    judgement = {(s, i): j for s, i, j in rob.select("study_id", "item", "judgement").iter_rows()}
    with style():
        fig = _new_figure(9.5, 2.6 + ROW_HEIGHT * len(rows))
        ax = fig.add_subplot()
        for (study, item), found in judgement.items():
            x, y = ITEM_CODES.index(item), y_of[study]
            ax.add_patch(
                Circle((x, y), 0.36, facecolor=COLOURS[found], edgecolor="black", linewidth=0.6)
            )
            ax.text(x, y, SYMBOLS[found], ha="center", va="center", fontsize=9, weight="bold")
        for i, (kind, text) in enumerate(rows):
            if kind == "source":
                ax.text(-0.6, i, text, ha="right", va="center", weight="bold")
                ax.axhline(i + 0.5, color="#999999", linewidth=0.5)
            else:
                ax.text(-0.6, i, text, ha="right", va="center")
        ax.set_xlim(-0.6, len(ITEM_CODES) - 0.4)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.set_yticks([])
        ax.xaxis.tick_top()
        ax.set_xticks(
            range(len(ITEM_CODES)),
            [ITEM_LABELS[i] for i in ITEM_CODES],
            rotation=45,
            ha="left",
            rotation_mode="anchor",
        )
        for side in ("right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        _legend(ax, symbols=True)
        ax.set_xlabel(note, loc="left")
        fig.suptitle(title, x=0.01, ha="left")
    return _freeze(fig)


def summary_bar_figure(summary: pl.DataFrame, tables: list[SourceTable]) -> Figure:
    """Per source (and all sources), one bar per SYRCLE item: the share of the assessed
    studies judged low, unclear and high. ``summary`` is
    :func:`exosynth.synthesis.quality.risk_of_bias_summary`."""
    labels = _labels(tables)
    sources = summary["source"].unique(maintain_order=True).to_list()
    title = "Risk of bias per item and MSC source (share of the studies assessed)"
    if summary.filter(pl.col("source") == ALL)["n_assessed"].max() in (0, None):
        total = summary.filter(pl.col("source") == ALL)["n_not_assessed"].max() or 0
        return _empty(title, f"No study has a risk-of-bias assessment (not assessed: {total}).")
    with style():
        fig = _new_figure(10.0, 1.0 + 2.6 * len(sources))
        axes = fig.subplots(len(sources), 1, sharex=True, squeeze=False)[:, 0]
        for ax, source in zip(axes, sources, strict=True):
            part = summary.filter(pl.col("source") == source)
            assessed = int(part["n_assessed"].max() or 0)
            not_assessed = int(part["n_not_assessed"].max() or 0)
            ax.set_title(
                f"{labels.get(source, source)}: assessed {assessed}, not assessed: {not_assessed}",
                loc="left",
            )
            ax.set_yticks(range(len(ITEM_CODES)), [ITEM_LABELS[i] for i in ITEM_CODES])
            ax.set_ylim(len(ITEM_CODES) - 0.5, -0.5)
            ax.set_xlim(0, 1)
            for row in part.iter_rows(named=True):
                y, left = ITEM_CODES.index(row["item"]), 0.0
                for j in JUDGEMENTS:
                    share = row[f"share_{j}"]
                    if not share:
                        continue
                    ax.barh(
                        y,
                        share,
                        left=left,
                        height=0.7,
                        color=COLOURS[j],
                        hatch=HATCHES[j],
                        edgecolor="black",
                        linewidth=0.5,
                    )
                    left += share
        axes[-1].xaxis.set_major_formatter("{x:.0%}")
        axes[-1].set_xlabel("Share of the studies assessed")
        _legend(axes[0], symbols=False)
        fig.suptitle(title, x=0.01, ha="left")
    return _freeze(fig)


QUALITY_FIGURES = ("risk_of_bias_traffic_light", "risk_of_bias_summary")


def figure_specs(
    numbers: dict[str, pl.DataFrame], tables: list[SourceTable]
) -> dict[str, tuple[Callable[..., Figure], tuple[Any, ...], pl.DataFrame]]:
    """The two quality figures of rule figures by name, each as its drawing function and
    arguments (drawn, or taken from the figure cache: exosynth.outputs.figure_cache) with
    the frame of the numbers drawn (``numbers`` is :func:`exosynth.synthesis.quality.assess`)."""
    assessment = numbers["assessment"].filter(pl.col("source") == ALL)
    not_assessed = int(assessment["n_not_assessed"][0]) if assessment.height else 0
    rob, summary = numbers["risk_of_bias"], numbers["risk_of_bias_summary"]
    return {
        "risk_of_bias_traffic_light": (traffic_light_figure, (rob, tables, not_assessed), rob),
        "risk_of_bias_summary": (summary_bar_figure, (summary, tables), summary),
    }


def draw(
    numbers: dict[str, pl.DataFrame], tables: list[SourceTable]
) -> dict[str, tuple[Figure, pl.DataFrame]]:
    """The two quality figures drawn (:func:`figure_specs`), each with its numbers."""
    return {
        name: (figure(*args), frame)
        for name, (figure, args, frame) in figure_specs(numbers, tables).items()
    }
