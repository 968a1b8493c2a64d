"""Figures of the evidence, drawn from the same normalized tables as every other output.

Each ``*_figure`` function takes polars frames and returns the matplotlib figure
together with the polars frame of exactly the numbers it drew; the rule writes
that frame next to the picture (``results/figures/<name>.csv``) so tests and
readers can check the numbers without reading pixels.

Figures use the object API (:class:`matplotlib.figure.Figure` on an Agg canvas,
no pyplot state), one font shipped with matplotlib (DejaVu Sans), fixed sizes
and DPI, and no dates or version strings in the files, so the same tables give
byte-identical PNG and SVG. Colours are from the Okabe-Ito palette, and every
colour also has a hatch or a printed number, so a figure reads in
black and white and for colour-blind readers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager

import matplotlib as mpl
import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import PercentFormatter

from exosynth.outputs.stage_style import STAGE_COLOURS, STAGE_LABELS
from exosynth.outputs.words import Words
from exosynth.settings import SourceTable
from exosynth.synthesis import figure_data
from exosynth.synthesis.figure_data import (
    DEFAULT_TOP_CONDITIONS,
    NO_IN_VIVO,
    OTHER,
    TRIAL_TIMELINE,
)
from exosynth.synthesis.gap import ALL, UNSPECIFIED, evidence_gap_map
from exosynth.vocabulary import STAGES

FIGURE_NAMES = (
    "evidence_gap_map",
    "condition_map",
    "translation_funnel",
    "species_mix",
    "model_mix",
)
DPI = 150
FONT = "DejaVu Sans"  # ships with matplotlib, so every machine draws the same glyphs

STYLE = {
    "font.family": FONT,
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "figure.titlesize": 11.0,
    "svg.fonttype": "none",  # text stays text in the SVG: searchable, and the counts are readable
    "svg.hashsalt": "exosynth",  # fixed ids in the SVG instead of random ones
    "hatch.linewidth": 0.8,
    "path.simplify": False,
    # No layout engine from the rc settings: a figure's layout is its own, then frozen.
    "figure.autolayout": False,
    "figure.constrained_layout.use": False,
}
# Metadata that would otherwise carry the date or the library version.
SVG_METADATA = {"Date": None, "Creator": None}
PNG_METADATA = {"Software": None}

# The stages' labels and colours (exosynth.outputs.stage_style), a hatch each for
# black-and-white prints.
STAGE_HATCHES = {"in_vitro": "", "animal": "///", "clinical": "xxx"}
MIX_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442")
MIX_HATCHES = ("", "///", "\\\\\\", "xxx", "...", "---", "+++")
OTHER_COLOUR, OTHER_HATCH = "#999999", "ooo"
NONE_COLOUR, NONE_HATCH = "#FFFFFF", ""
MIX_AXES_WIDTH = 6.0  # inches of the mix figures' bars, to tell whether a count fits its segment
MAX_LABEL = 48  # characters of a condition shown on the axis; the CSV keeps the full name


@contextmanager
def style() -> Iterator[None]:
    """The fixed style, for drawing and for saving (some settings are read at save time)."""
    with mpl.rc_context(STYLE):
        yield


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


TITLE_MARGIN = 0.12  # inches between a figure's left edge and its title


def _suptitle(fig: Figure, text: str) -> None:
    """The figure's title, left-aligned a small margin in from the edge (not touching it)."""
    fig.suptitle(text, x=TITLE_MARGIN / fig.get_figwidth(), ha="left")


def _freeze(fig: Figure) -> Figure:
    """Lay the figure out once and keep that layout: every later save draws the same places.

    Constrained layout refines its solution on each draw, so without this two saves of one
    figure differ in the last digits of the coordinates. The engine is then removed (None),
    not set to "none": "none" leaves a placeholder engine, and savefig draws a figure that
    has any engine once more, without rendering, before it renders it (a third of the time
    of every save, for the same pixels).
    """
    with style():
        fig.draw_without_rendering()
        fig.set_layout_engine(None)  # None: no engine, as STYLE turns off the automatic ones
    return fig


def _labels(tables: list[SourceTable]) -> dict[str, str]:
    return figure_data.source_labels(tables)


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


# --- evidence gap map -------------------------------------------------------------------


def evidence_gap_map_figure(drawn: pl.DataFrame, gap_map: pl.DataFrame) -> Figure:
    """Tiles of source by highest stage reached, in the stage colours, counts printed.

    ``drawn`` is :func:`exosynth.synthesis.figure_data.gap_map_tiles` of ``gap_map``
    (:func:`exosynth.synthesis.gap.evidence_gap_map`: one row per source and ``all``).
    """
    labels = dict(zip(drawn["source"], drawn["label"], strict=False))
    sources = gap_map["source"].to_list()
    with style():
        fig = _new_figure(6.4, 1.6 + 0.55 * len(sources))
        ax = fig.add_subplot()
        # Each stage in its colour and hatch, as in the other figures; the count says how many
        # (a shade scale would need a key, and its dark end clashed with the stage colours).
        for _source, _label, stage, count, _total, row, column in drawn.iter_rows():
            filled = bool(count)
            ax.add_patch(
                Rectangle(
                    (column - 0.5, row - 0.5),
                    1,
                    1,
                    facecolor=STAGE_COLOURS[stage] if filled else "white",
                    hatch=STAGE_HATCHES[stage] if filled else "",
                    edgecolor="black",
                    linewidth=0.8,
                )
            )
            ax.text(
                column,
                row,
                f"{count:,}",
                ha="center",
                va="center",
                fontsize=11,
                fontweight="bold",
                color="black" if filled else "#555555",
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none"}
                if filled
                else None,
            )
        if ALL in sources:
            ax.axhline(sources.index(ALL) - 0.5, color="black", linewidth=2.5)
        ax.set_xlim(-0.5, len(STAGES) - 0.5)
        ax.set_ylim(len(sources) - 0.5, -0.5)
        ax.set_xticks(range(len(STAGES)), [STAGE_LABELS[s] for s in STAGES])
        ax.xaxis.tick_top()
        totals = dict(zip(gap_map["source"], gap_map["total"], strict=True))
        ax.set_yticks(
            range(len(sources)), [f"{labels.get(s, s)}\n(n = {totals[s]:,})" for s in sources]
        )
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("Highest stage reached (each study counted once; white: none)")
        ax.set_title(
            "Evidence gap map: studies by MSC source and highest stage reached", loc="left"
        )
    return _freeze(fig)


# --- condition map ----------------------------------------------------------------------


def condition_map_figure(
    drawn: pl.DataFrame, tables: list[SourceTable], sources: list[str], n_conditions: int
) -> Figure:
    """Condition group by source, each cell coloured and hatched by the highest stage reached.

    ``drawn`` is :func:`exosynth.synthesis.figure_data.condition_map_frame`; ``sources`` its
    columns in order, ``n_conditions`` how many condition groups there are in all. A row
    label says how many studies the group holds and, past one, how many conditions as
    written.
    """
    labels = _labels(tables)
    rows = (
        drawn.select("row", "condition_group", "group_studies", "n_conditions").unique().sort("row")
    )
    shown = rows.height
    what = (
        f"all {n_conditions:,} condition groups"
        if shown == n_conditions
        else f"top {shown:,} of {n_conditions:,} condition groups by number of studies"
    )
    with style():
        fig = _new_figure(2.6 + 1.25 * len(sources) + 1.6, 1.9 + 0.3 * max(shown, 1))
        ax = fig.add_subplot()
        cells = drawn.select("row", "column", "n_studies", "highest_stage")
        for row, column, count, stage in cells.iter_rows():
            rgb = to_rgb(STAGE_COLOURS[stage])
            ax.add_patch(
                Rectangle(
                    (column - 0.5, row - 0.5),
                    1,
                    1,
                    facecolor=rgb,
                    edgecolor="black",
                    linewidth=0.6,
                    hatch=STAGE_HATCHES[stage],
                )
            )
            ax.text(
                column,
                row,
                f"{count:,}",
                ha="center",
                va="center",
                fontsize=8,
                color="black",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            )
        ax.set_xlim(-0.5, len(sources) - 0.5)
        ax.set_ylim(max(shown, 1) - 0.5, -0.5)
        ax.set_xticks(range(len(sources)), [labels.get(s, s) for s in sources])
        ax.xaxis.tick_top()
        ax.set_yticks(
            rows["row"].to_list(),
            [
                f"{_short(group)} ({n:,})" + (f" [{k:,} conditions]" if k > 1 else "")
                for _, group, n, k in rows.iter_rows()
            ],
        )
        ax.set_xticks([x + 0.5 for x in range(len(sources) - 1)], minor=True)
        ax.set_yticks([y + 0.5 for y in range(shown - 1)], minor=True)
        ax.grid(which="minor", color="#DDDDDD", linewidth=0.6)
        ax.tick_params(which="both", length=0)
        ax.set_axisbelow(True)
        ax.legend(
            handles=[
                Patch(
                    facecolor=STAGE_COLOURS[s],
                    hatch=STAGE_HATCHES[s],
                    edgecolor="black",
                    label=STAGE_LABELS[s],
                )
                for s in STAGES
            ],
            title="Highest stage",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )
        ax.set_xlabel(
            "Numbers: studies of the condition group from the source; blank: none\n"
            "Row: condition group (studies) [conditions as written it holds, where several]"
        )
        fig.suptitle(
            f"Condition groups by MSC source, coloured by highest stage reached\n({what})",
            x=TITLE_MARGIN / fig.get_figwidth(),
            ha="left",
        )
    return _freeze(fig)


# --- translation funnel -----------------------------------------------------------------


def _funnel_count(stage: str, count: int, row: dict) -> str:
    """A bar's count: "15 of 26"; for in vitro work, not reported is counted apart from none."""
    n = row["n_studies"]
    nr = row.get(f"{stage}_nr") or 0
    if not nr:
        return f"{count:,} of {n:,}"
    if nr == n:
        return f"not reported ({nr:,} of {n:,})"
    return f"{count:,} of {n - nr:,} that report it; {nr:,} not reported"


def translation_funnel_figure(drawn: pl.DataFrame) -> Figure:
    """Per source: studies with in vitro, animal and clinical evidence; the clinical share.

    ``drawn`` is :func:`exosynth.synthesis.figure_data.funnel_frame`. Bars are shares of the
    source's studies, so a small source reads as well as a large one, with the counts
    printed; the right panel shows the clinical share and its 95% Wilson interval.
    """
    n = drawn.height
    with style():
        fig = _new_figure(10.0, 1.8 + 0.95 * n)
        bars, shares = fig.subplots(1, 2, sharey=True, width_ratios=[1.6, 1.0])
        height = 0.26
        for i, row in enumerate(drawn.iter_rows(named=True)):
            for j, stage in enumerate(STAGES):
                y = i + (j - 1) * height
                count, length = row[stage], row[f"{stage}_bar"] or 0.0
                bars.barh(
                    y,
                    length,
                    height=height * 0.92,
                    color=STAGE_COLOURS[stage],
                    hatch=STAGE_HATCHES[stage],
                    edgecolor="black",
                    linewidth=0.6,
                    label=STAGE_LABELS[stage] if i == 0 else None,
                )
                bars.text(
                    length + 0.01,
                    y,
                    _funnel_count(stage, count, row),
                    va="center",
                    ha="left",
                    fontsize=8,
                )
            share, low, high = (
                row["clinical_share"],
                row["clinical_share_ci_low"],
                row["clinical_share_ci_high"],
            )
            if share is None:
                shares.text(0.01, i, "no studies", va="center", fontsize=8)
                continue
            shares.errorbar(
                share,
                i,
                xerr=[[share - low], [high - share]],
                fmt="o",
                color="black",
                ecolor="black",
                capsize=4,
                markersize=6,
                markerfacecolor=STAGE_COLOURS["clinical"],
                clip_on=False,  # a share of 0% sits on the axis: drawn whole, above it
                zorder=3,
            )
            # Under its interval, from the left: next to the point it describes, whatever
            # the share, and clear of the bars above and below.
            shares.text(
                0.01,
                i + 0.3,
                f"{row['clinical']:,}/{row['n_studies']:,} = "
                f"{share:.1%} (95% CI {low:.1%}\u2013{high:.1%})",
                va="center",
                ha="left",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            )
        bars.set_yticks(
            range(n),
            [f"{lbl}\n(n = {t:,})" for lbl, t in drawn.select("label", "n_studies").iter_rows()],
        )
        bars.set_ylim(n - 0.5, -0.5)
        bars.set_xlim(0, 1.3)
        bars.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        bars.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        bars.set_xlabel(
            "Share of the source's studies with evidence at each stage (in vitro: of those\n"
            "that report whether they did in vitro work); a study can count at several"
        )
        bars.grid(axis="x", color="#DDDDDD", linewidth=0.6)
        bars.set_axisbelow(True)
        bars.legend(loc="lower right", frameon=True, framealpha=1.0, edgecolor="none", fontsize=8)
        bars.set_title("Studies with in vitro, animal and clinical evidence", loc="left")
        shares.set_xlim(-0.04, 1.0)  # room left of 0%, so a share of 0 is not half hidden
        shares.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        shares.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        shares.set_xlabel("Share of studies with use in people\n(95% Wilson interval)")
        shares.set_title("Clinical share", loc="left")
        shares.grid(axis="x", color="#DDDDDD", linewidth=0.6)
        shares.set_axisbelow(True)
        if ALL in drawn["source"].to_list():
            for ax in (bars, shares):
                ax.axhline(drawn["source"].to_list().index(ALL) - 0.5, color="black", linewidth=1.2)
        _suptitle(fig, "Translation funnel per MSC source")
    return _freeze(fig)


# --- species and model mix --------------------------------------------------------------


def _mix_style(code: str, position: int) -> tuple[str, str]:
    if code == NO_IN_VIVO:
        return NONE_COLOUR, NONE_HATCH
    if code == OTHER:
        return OTHER_COLOUR, OTHER_HATCH
    return MIX_COLOURS[position % len(MIX_COLOURS)], MIX_HATCHES[position % len(MIX_HATCHES)]


def _mix_figure(
    drawn: pl.DataFrame,
    gap_map: pl.DataFrame,
    labels: dict[str, str],
    title: str,
    what: str,
    *,
    legend: dict[str, str],
) -> Figure:
    sources = gap_map.filter(pl.col("source") != ALL)["source"].to_list()
    totals = dict(zip(gap_map["source"], gap_map["total"], strict=True))
    with style():
        fig = _new_figure(9.0, 2.2 + 0.6 * len(sources))
        ax = fig.add_subplot()
        left = dict.fromkeys(range(len(sources)), 0.0)
        seen: dict[str, Patch] = {}
        for _s, _l, code, count, share, row, position in drawn.iter_rows():
            colour, hatch = _mix_style(code, position)
            ax.barh(
                row,
                share,
                left=left[row],
                height=0.62,
                color=colour,
                hatch=hatch,
                edgecolor="black",
                linewidth=0.6,
            )
            if share * MIX_AXES_WIDTH >= 0.07 * len(f"{count:,}") + 0.1:  # inches: fits
                ax.text(
                    left[row] + share / 2,
                    row,
                    f"{count:,}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
                )
            left[row] += share
            seen.setdefault(
                code,
                Patch(facecolor=colour, hatch=hatch, edgecolor="black", label=legend[code]),
            )
        ordered = sorted(
            seen.items(), key=lambda item: drawn.filter(pl.col("code") == item[0])["position"][0]
        )
        ax.set_yticks(
            range(len(sources)), [f"{labels.get(s, s)}\n(n = {totals[s]:,})" for s in sources]
        )
        ax.set_ylim(len(sources) - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(
            f"Share of the bar (numbers: studies per {what}; white: studies with no in vivo work)"
        )
        ax.legend(
            handles=[patch for _code, patch in ordered],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )
        ax.set_title(title, loc="left")
    return fig


MIX_POOLS = {OTHER: "Other", NO_IN_VIVO: "None (in vitro only)"}  # the pooled segments


def mix_figure(
    drawn: pl.DataFrame,
    column: str,
    gap_map: pl.DataFrame,
    tables: list[SourceTable],
    words: Words | None = None,
) -> Figure:
    """Stacked bars per source: studies per species or model type
    (``drawn`` from :func:`exosynth.synthesis.figure_data.mix_frame`).

    ``human`` and ``clinical`` stand for use in people; a study with several codes
    counts for each.
    """
    noun = column.replace("_", " ")
    several = {"species": "species", "model_type": "model types"}[column]
    title = (
        f"{noun.capitalize()} mix per MSC source (a study with several {several} counts for each)"
    )
    words = words or Words()
    codes = [c for c in dict.fromkeys(drawn["code"].to_list()) if c not in MIX_POOLS]
    shown = words.column(pl.Series(codes, dtype=pl.String), column).to_list()
    legend = {**dict(zip(codes, shown, strict=True)), **MIX_POOLS}  # codes in words
    fig = _mix_figure(drawn, gap_map, _labels(tables), title, noun, legend=legend)
    return _freeze(fig)


# --- all figures, and saving them -------------------------------------------------------


def draw_all(
    studies: pl.DataFrame,
    tables: list[SourceTable],
    top_conditions: int = DEFAULT_TOP_CONDITIONS,
    trials: pl.DataFrame | None = None,
    words: Words | None = None,
    *,
    names: Collection[str] = (*FIGURE_NAMES, TRIAL_TIMELINE),
) -> dict[str, tuple[Figure, pl.DataFrame]]:
    """The figures of ``names`` (all of :data:`FIGURE_NAMES` by default, and the trial timeline
    with ``trials``), each with the frame of the numbers drawn.

    The numbers come from :func:`exosynth.synthesis.figure_data.figure_numbers` (the same
    statistics rule workbook writes), so the figures agree with the CSVs without waiting.
    """
    numbers = figure_data.figure_numbers(studies, tables, top_conditions, trials)
    gap_map = numbers.pop("_gap_map")
    sources, n_conditions = figure_data.condition_map_columns(studies, tables)
    drawers: dict[str, Callable[[], Figure]] = {
        "evidence_gap_map": lambda: evidence_gap_map_figure(numbers["evidence_gap_map"], gap_map),
        "condition_map": lambda: condition_map_figure(
            numbers["condition_map"], tables, sources, n_conditions
        ),
        "translation_funnel": lambda: translation_funnel_figure(numbers["translation_funnel"]),
        "species_mix": lambda: mix_figure(
            numbers["species_mix"], "species", gap_map, tables, words
        ),
        "model_mix": lambda: mix_figure(numbers["model_mix"], "model_type", gap_map, tables, words),
    }
    if trials is not None:  # the registered trials beside the studies (rule trials)
        drawers[TRIAL_TIMELINE] = lambda: trial_timeline_figure(numbers[TRIAL_TIMELINE], tables)
    return {name: (draw(), numbers[name]) for name, draw in drawers.items() if name in names}


def gap_map_figure(studies: pl.DataFrame, tables: list[SourceTable]) -> tuple[Figure, pl.DataFrame]:
    """The evidence gap map with the frame of its tiles: the figure, and the workbook's
    picture (rule workbook draws it once for both)."""
    gap_map = evidence_gap_map(studies, tables)
    tiles = figure_data.gap_map_tiles(gap_map, tables)
    return evidence_gap_map_figure(tiles, gap_map), tiles


def render(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes, without dates or version strings."""
    metadata = {"png": PNG_METADATA, "svg": SVG_METADATA}[fmt]
    buffer = io.BytesIO()
    with style():
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
    return buffer.getvalue()


# --- registered trials: studies and trial registrations per year ------------------------
STUDY_BAR = ("#56B4E9", "")  # Okabe-Ito sky blue, plain
TRIAL_BAR = ("#D55E00", "///")  # Okabe-Ito vermilion, hatched
UNSPECIFIED_LABEL = "Source not named (trials)"


def _undated_note(studies: int, trials: int) -> str:
    """What a panel leaves off its time axis: "8 of its studies have no year (not drawn)"."""
    parts = [
        f"{studies:,} {'study has' if studies == 1 else 'studies have'} no year" if studies else "",
        f"{trials:,} MSC-EV {'trial has' if trials == 1 else 'trials have'} no date"
        if trials
        else "",
    ]
    return "; ".join(p for p in parts if p) + " (not drawn)"


def undated_caption(drawn: pl.DataFrame | None, tables: list[SourceTable]) -> str:
    """The timeline caption's sentence on what has no year, per panel (reStructuredText)."""
    no_year = figure_data.undated(drawn) if drawn is not None else {}
    if not no_year:
        return "Every study has a year and every MSC-EV trial a date: all are drawn.\n"
    labels = {**_labels(tables), UNSPECIFIED: UNSPECIFIED_LABEL}
    listed = "; ".join(
        f"{labels.get(source, source)}: {_undated_note(*counts).removesuffix(' (not drawn)')}"
        for source, counts in no_year.items()
    )
    return (
        f"**Not on the time axis** (no year given, so not drawn; each panel says so): {listed}. "
        "These are the rows with an empty year of ``trial_timeline.csv``.\n"
    )


def trial_timeline_figure(drawn: pl.DataFrame, tables: list[SourceTable]) -> Figure:
    """Small multiples, one panel per source: studies per year beside MSC-EV trials registered
    per year, counts printed on the bars (so it reads in black and white); ``drawn`` is
    :func:`exosynth.synthesis.figure_data.trial_timeline_frame`."""
    labels = {**_labels(tables), UNSPECIFIED: UNSPECIFIED_LABEL}
    panels = [t.key for t in tables] + [UNSPECIFIED, ALL]
    no_year = figure_data.undated(drawn)
    drawn = drawn.filter(pl.col("year").is_not_null())
    years = drawn["year"].to_list()
    first, last = (min(years), max(years)) if years else (2000, 2001)
    width = 0.4
    with style():
        fig = _new_figure(max(7.0, 0.32 * (last - first + 1) + 2.5), 1.3 + 1.35 * len(panels))
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        for ax, source in zip(axes, panels, strict=True):
            rows = drawn.filter(pl.col("source") == source)
            for offset, column, (colour, hatch), label in (
                (-width / 2, "n_studies", STUDY_BAR, "Studies published"),
                (width / 2, "n_trials", TRIAL_BAR, "MSC-EV trials registered"),
            ):
                xs = [y + offset for y in rows["year"].to_list()]
                counts = rows[column].to_list()
                ax.bar(xs, counts, width=width * 0.95, color=colour, hatch=hatch,
                       edgecolor="black", linewidth=0.5, label=label)  # fmt: skip
                for x, count in zip(xs, counts, strict=True):
                    if count:
                        ax.text(x, count, f"{count}", ha="center", va="bottom", fontsize=7)
            top = max([*rows["n_studies"].to_list(), *rows["n_trials"].to_list(), 1])
            ax.set_ylim(0, top * 1.3 + 0.5)
            if not rows.height and source not in no_year:
                ax.text(0.5, 0.5, "no studies and no MSC-EV trials", transform=ax.transAxes,
                        ha="center", va="center", fontsize=8, color="#555555")  # fmt: skip
            if source in no_year:  # not on the time axis, but said: never silently left out
                ax.text(
                    0.99,
                    0.95,
                    _undated_note(*no_year[source]),
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                    fontsize=8,
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "#999"},
                )
            ax.set_ylabel(labels.get(source, source), rotation=0, ha="right", va="center")
            ax.set_yticks([])
            ax.grid(axis="x", color="#EEEEEE", linewidth=0.6)
            ax.set_axisbelow(True)
        axes[-1].set_xlim(first - 0.7, last + 0.7)
        axes[-1].set_xlabel(
            "Year (studies: publication; trials: first posted at ClinicalTrials.gov)"
        )
        axes[0].legend(loc="upper left", frameon=True, framealpha=1.0, edgecolor="none", fontsize=8)
        _suptitle(fig, "Studies and registered MSC-EV trials per year and MSC source")
    return _freeze(fig)
