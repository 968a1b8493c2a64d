"""Figures that hide nothing and speak in words: what has no year is counted, in vitro work not
reported is not none, legends in words, titles clear of the edge."""

from __future__ import annotations

import polars as pl

from exosynth.outputs import figures
from exosynth.outputs.words import Words
from exosynth.settings import SourceTable
from exosynth.synthesis import figure_data

TABLES = [
    SourceTable("bone_marrow", 1, "Bone marrow", "BM", ()),
    SourceTable("placenta", 4, "Placenta", "P", (), in_review=False),
]


def timeline() -> pl.DataFrame:
    studies = pl.DataFrame(
        {
            "source": ["bone_marrow", "bone_marrow", "placenta", "placenta"],
            "year": [2019, None, None, None],
        },
        schema={"source": pl.String, "year": pl.Int64},
    )
    trials = pl.DataFrame(
        {
            "ev_class": ["msc_ev", "msc_ev", "other"],
            "source": ["bone_marrow", "unspecified", "bone_marrow"],
            "first_posted": ["2021-01-02", None, None],
            "first_submitted": [None, None, None],
        },
        schema=dict.fromkeys(("ev_class", "source", "first_posted", "first_submitted"), pl.String),
    )
    return figure_data.trial_timeline_frame(studies, trials, TABLES)


def test_the_timeline_counts_what_has_no_year() -> None:
    frame = timeline()
    undated = figure_data.undated(frame)
    # placenta: both studies undated (its panel would be empty without the count)
    assert undated == {
        "bone_marrow": (1, 0),
        "placenta": (2, 0),
        "unspecified": (0, 1),  # an MSC-EV trial without a date
        "all": (3, 1),
    }
    dated = frame.filter(pl.col("year").is_not_null())
    assert dated.filter(pl.col("source") == "bone_marrow").rows() == [
        ("bone_marrow", 2019, 1, 0),
        ("bone_marrow", 2021, 0, 1),
    ]
    caption = figures.undated_caption(frame, TABLES)
    assert "Placenta: 2 studies have no year" in caption
    assert "Source not named (trials): 1 MSC-EV trial has no date" in caption
    svg = figures.render(figures.trial_timeline_figure(frame, TABLES), "svg").decode()
    assert "2 studies have no year (not drawn)" in svg
    assert "1 study has no year (not drawn)" in svg


def test_the_funnel_shows_not_reported_apart_from_none() -> None:
    gap = pl.DataFrame(
        {
            "source": ["bone_marrow", "placenta"],
            "n_studies": [4, 1],
            "n_in_vitro": [1, 0],
            "n_animal": [4, 1],
            "n_clinical": [0, 0],
            "clinical_share": [0.0, 0.0],
            "clinical_share_ci_low": [0.0, 0.0],
            "clinical_share_ci_high": [0.49, 0.79],
            "n_in_vitro_nr": [2, 1],
        }
    )
    drawn = figure_data.funnel_frame(gap, TABLES)
    # the in vitro bar is a share of the studies that say: 1 of 2, not 1 of 4
    assert drawn["in_vitro_bar"].to_list() == [0.5, None]
    svg = figures.render(figures.translation_funnel_figure(drawn), "svg").decode()
    assert "1 of 2 that report it; 2 not reported" in svg
    assert "not reported (1 of 1)" in svg
    assert svg.count(">0 of 1<") == 1  # the clinical bar; in vitro is not reported, not none


def test_legends_in_words_and_titles_clear_of_the_edge() -> None:
    gap_map = pl.DataFrame({"source": ["bone_marrow", "all"], "in_vitro": [1, 1], "total": [3, 3]})
    drawn = pl.DataFrame(
        {
            "source": ["bone_marrow"] * 3,
            "label": ["Bone marrow"] * 3,
            "code": ["guinea_pig", "non_human_primate", figure_data.NO_IN_VIVO],
            "n_studies": [1, 1, 1],
            "share": [0.3333, 0.3333, 0.3334],
            "row": [0, 0, 0],
            "position": [0, 1, 2],
        }
    )
    words = Words.of({}, {"species": {"non_human_primate": {"label": "Monkey"}}})
    fig = figures.mix_figure(drawn, "species", gap_map, TABLES, words)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["Guinea pig", "Monkey", "None (in vitro only)"]
    funnel = figures.translation_funnel_figure(
        figure_data.funnel_frame(
            pl.DataFrame(
                {
                    "source": ["bone_marrow"],
                    "n_studies": [1],
                    "n_in_vitro": [1],
                    "n_animal": [1],
                    "n_clinical": [0],
                    "clinical_share": [0.0],
                    "clinical_share_ci_low": [0.0],
                    "clinical_share_ci_high": [0.79],
                }
            ),
            TABLES,
        )
    )
    title = funnel.get_suptitle()
    assert title == "Translation funnel per MSC source"
    x = funnel._suptitle.get_position()[0] * funnel.get_figwidth()
    assert x >= figures.TITLE_MARGIN * 0.99  # inches from the left edge, not touching it
