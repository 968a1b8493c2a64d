"""Meta-analysis figures: forest plot, funnel plot, cumulative plot (drawing only).

The rows drawn come from :mod:`exosynth.synthesis.meta_figure_data`; each function returns a
matplotlib figure in the fixed style of :mod:`exosynth.outputs.figures` (same font, DPI and
metadata, so the same numbers give byte-identical PNG and SVG). Diamonds are black, studies
grey squares: the figures read in black and white.
"""

from __future__ import annotations

import textwrap

import polars as pl
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from exosynth.outputs.figures import _freeze, _new_figure, style

NO_EFFECT = "#777777"
STUDY_COLOUR = "#555555"
DIAMOND_COLOUR = "#000000"
ROW_INCH = 0.26
NOTE_WIDTH = 110  # characters per line of the note under a figure
AXIS_LABEL = "Hedges' g (positive: benefit of the EV treatment), 95% CI"


def _fixed(value: float) -> str:
    """Two decimals, never "-0.00"."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def _below(label: str, note: str) -> str:
    """The axis label with the note under it (laid out with the axes, never over them)."""
    return label + "\n\n" + "\n".join(textwrap.wrap(note, NOTE_WIDTH)) if note else label


def _limits(low: list[float], high: list[float]) -> tuple[float, float]:
    lo, hi = min([*low, 0.0]), max([*high, 0.0])
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def forest_figure(rows: pl.DataFrame, title: str, note: str) -> Figure:
    """Studies grouped by source, a diamond per source and one overall, the note below."""
    n = rows.height
    with style():
        fig = _new_figure(8.0, 1.6 + ROW_INCH * (n + 1))
        ax = fig.add_subplot()
        low = [v for v in rows["ci_low"].to_list() if v is not None]
        high = [v for v in rows["ci_high"].to_list() if v is not None]
        left, right = _limits(low, high)
        for row in rows.iter_rows(named=True):
            y = n - row["row"]
            if row["kind"] == "source":
                ax.text(left, y, row["label"], fontweight="bold", va="center", ha="left")
                continue
            if row["kind"] == "comparison":
                ax.plot([row["ci_low"], row["ci_high"]], [y, y], color=STUDY_COLOUR, lw=1)
                ax.plot(row["estimate"], y, marker="s", color=STUDY_COLOUR, markersize=4)
            else:
                height = 0.35 if row["kind"] == "overall" else 0.25
                ax.add_patch(
                    Polygon(
                        [
                            (row["ci_low"], y),
                            (row["estimate"], y + height),
                            (row["ci_high"], y),
                            (row["estimate"], y - height),
                        ],
                        closed=True,
                        facecolor=DIAMOND_COLOUR if row["kind"] == "overall" else "white",
                        edgecolor=DIAMOND_COLOUR,
                    )
                )
            ax.text(
                right,
                y,
                f"{_fixed(row['estimate'])} [{_fixed(row['ci_low'])}, {_fixed(row['ci_high'])}]",
                va="center",
                ha="left",
                fontsize=8,
            )
        labels = rows.filter(pl.col("kind") != "source")
        ax.set_yticks([n - r for r in labels["row"]], labels["label"].to_list(), fontsize=8)
        ax.axvline(0, color=NO_EFFECT, lw=0.8, ls="--")
        ax.set_xlim(left, right)
        ax.set_ylim(0.3, n + 0.7)
        ax.set_xlabel(_below(AXIS_LABEL, note))
        ax.spines[["top", "right", "left"]].set_visible(False)
        ax.set_title(title, loc="left")
    return _freeze(fig)


def funnel_figure(points: pl.DataFrame, estimate: float, title: str, note: str) -> Figure:
    """g against its SE (SE axis downwards), with the pooled g and its 95% pseudo-limits."""
    with style():
        fig = _new_figure(6.0, 4.8)
        ax = fig.add_subplot()
        se_max = max(points["se"].to_list()) * 1.05
        ax.plot(
            [estimate - 1.96 * se_max, estimate, estimate + 1.96 * se_max],
            [se_max, 0, se_max],
            color=NO_EFFECT,
            lw=0.8,
            ls="--",
        )
        ax.axvline(estimate, color=DIAMOND_COLOUR, lw=0.8)
        ax.scatter(points["estimate"], points["se"], s=14, color=STUDY_COLOUR)
        ax.set_ylim(se_max, 0)
        ax.set_xlabel(_below("Hedges' g", note))
        ax.set_ylabel("Standard error")
        ax.set_title(title, loc="left")
    return _freeze(fig)


def cumulative_figure(rows: pl.DataFrame, title: str) -> Figure:
    """The pooled g and its 95% CI after each study, oldest first."""
    n = rows.height
    with style():
        fig = _new_figure(7.0, 1.4 + ROW_INCH * (n + 1))
        ax = fig.add_subplot()
        left, right = _limits(rows["ci_low"].to_list(), rows["ci_high"].to_list())
        for i, row in enumerate(rows.iter_rows(named=True)):
            y = n - i
            ax.plot([row["ci_low"], row["ci_high"]], [y, y], color=STUDY_COLOUR, lw=1)
            ax.plot(row["estimate"], y, marker="D", color=DIAMOND_COLOUR, markersize=4)
        labels = [
            f"+ {r['study_id']} ({'NR' if r['year'] is None else r['year']})"
            for r in rows.iter_rows(named=True)
        ]
        ax.set_yticks([n - i for i in range(n)], labels, fontsize=8)
        ax.axvline(0, color=NO_EFFECT, lw=0.8, ls="--")
        ax.set_xlim(left, right)
        ax.set_ylim(0.3, n + 0.7)
        ax.set_xlabel("Pooled Hedges' g after each study (REML), 95% CI")
        ax.spines[["top", "right", "left"]].set_visible(False)
        ax.set_title(title, loc="left")
    return _freeze(fig)
