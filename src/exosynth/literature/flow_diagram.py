"""The PRISMA 2020 flow diagram drawn from the counts (PNG and SVG, same bytes every build).

The layout of the PRISMA 2020 statement's diagram for new systematic reviews with a previous
version: identification, screening and included phases down the left, the boxes of records
removed or excluded on the right, the previous version's studies above the total.
"""

from __future__ import annotations

import io

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from exosynth.literature.prisma import PENDING, Counts

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8.0,
    "svg.fonttype": "none",
    "svg.hashsalt": "exosynth-prisma",
    "path.simplify": False,
}
METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}
DPI = 150
PHASE_COLOUR = "#56B4E9"  # Okabe-Ito sky blue
BOX_EDGE = "#333333"


def _lines(items: list[tuple[str, int]], labels: dict[str, str], limit: int = 8) -> list[str]:
    shown = [f"  {labels.get(name, name)} (n = {n:,})" for name, n in items[:limit]]
    if len(items) > limit:
        shown.append(f"  {len(items) - limit} more (n = {sum(n for _, n in items[limit:]):,})")
    return shown


def box_texts(counts: Counts, labels: dict[str, str]) -> dict[str, str]:
    """The text of each box, in words (the figure's and the report's)."""
    source_labels = {**labels, PENDING: "not yet moved into raw/<source>/"}
    return {
        "previous": f"Studies included in the review\n(n = {counts.previous:,})",
        "identified": "\n".join(
            [
                f"Records identified (n = {counts.identified_total:,}):",
                *_lines(counts.identified, labels),
            ]
        ),
        "removed": "Records removed before screening:\n"
        f"  Duplicate records (n = {counts.duplicates:,})\n"
        f"  Without title or identifier (n = {counts.removed_other:,})",
        "screened": f"Records screened\n(n = {counts.screened:,})",
        "excluded": "\n".join(
            [
                f"Records excluded (n = {counts.records_excluded:,})",
                *_lines(counts.excluded_screening, labels),
                f"Awaiting screening (n = {counts.awaiting:,})",
            ]
        ),
        "sought": f"Reports sought for retrieval\n(n = {counts.sought:,})",
        "not_retrieved": f"Reports not retrieved\n(n = {counts.not_retrieved:,})",
        "assessed": f"Reports assessed for eligibility\n(n = {counts.assessed:,})",
        "reports_excluded": "\n".join(
            [
                f"Reports excluded (n = {counts.reports_excluded:,}):",
                *_lines(counts.excluded_full_text, labels),
            ]
        ),
        "new": "\n".join(
            [
                f"New studies included (n = {counts.new_studies:,})",
                *_lines(counts.included, source_labels),
            ]
        ),
        "total": f"Total studies included\n(n = {counts.previous + counts.new_studies:,})",
    }


# Box centres in data units of an 11 x 12 canvas: the previous review's column on the left,
# the new search down the middle, what was removed or excluded on the right.
PLACES = {
    "previous": (1.75, 10.3),
    "identified": (5.0, 10.3),
    "removed": (8.85, 10.3),
    "screened": (5.0, 7.7),
    "excluded": (8.85, 7.7),
    "sought": (5.0, 5.9),
    "not_retrieved": (8.85, 5.9),
    "assessed": (5.0, 4.1),
    "reports_excluded": (8.85, 4.1),
    "new": (5.0, 1.6),
    "total": (1.75, 1.6),
}
# (from, to, side of the from box, side of the to box): sides as bbox fractions.
DOWN, RIGHT, LEFT = ((0.5, 0.0), (0.5, 1.0)), ((1.0, 0.5), (0.0, 0.5)), ((0.0, 0.5), (1.0, 0.5))
ARROWS = (
    ("identified", "screened", DOWN),
    ("identified", "removed", RIGHT),
    ("screened", "sought", DOWN),
    ("screened", "excluded", RIGHT),
    ("sought", "assessed", DOWN),
    ("sought", "not_retrieved", RIGHT),
    ("assessed", "new", DOWN),
    ("assessed", "reports_excluded", RIGHT),
    ("new", "total", LEFT),
    ("previous", "total", DOWN),
)
PHASES = (("Identification", 9.0, 11.6), ("Screening", 3.0, 9.0), ("Included", 0.4, 3.0))


def flow_figure(counts: Counts, labels: dict[str, str]) -> Figure:
    """The diagram as a matplotlib Figure (object API, Agg canvas)."""
    texts = box_texts(counts, labels)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(10.0, 10.5), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(-0.6, 11.0)
        ax.set_ylim(0, 12)
        ax.axis("off")
        for phase, y0, y1 in PHASES:
            ax.add_patch(
                FancyBboxPatch(
                    (-0.5, y0 + 0.05),
                    0.35,
                    y1 - y0 - 0.1,
                    boxstyle="round,pad=0.02",
                    fc=PHASE_COLOUR,
                    ec="none",
                )
            )
            ax.text(
                -0.325,
                (y0 + y1) / 2,
                phase,
                rotation=90,
                ha="center",
                va="center",
                fontweight="bold",
            )
        boxes = {
            name: ax.text(
                x,
                y,
                texts[name],
                ha="center",
                va="center",
                bbox={"boxstyle": "square,pad=0.5", "fc": "white", "ec": BOX_EDGE},
            )
            for name, (x, y) in PLACES.items()
        }
        for start, end, (from_side, to_side) in ARROWS:
            ax.annotate(
                "",
                xy=to_side,
                xycoords=boxes[end],
                xytext=from_side,
                textcoords=boxes[start],
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": BOX_EDGE,
                    "lw": 0.8,
                    "shrinkA": 6,
                    "shrinkB": 6,
                },
            )
    return fig


def render(fig: Figure, fmt: str) -> bytes:
    """PNG or SVG bytes without dates or version strings."""
    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=METADATA[fmt], facecolor="white")
    return buffer.getvalue()
