"""Statistics: Wilson intervals against independent references, and the review's own numbers."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import shipped_condition_groups
from scipy.stats import binomtest

from exosynth import settings
from exosynth.analysis_groups import with_condition_groups
from exosynth.synthesis import gap as gap_stats
from exosynth.vocabulary import STAGES


@pytest.fixture(scope="module")
def studies(review_studies: pl.DataFrame) -> pl.DataFrame:
    """The normalized table of the 26 real records (conftest builds it once per session)."""
    return review_studies


def _wilson(k: int, n: int) -> tuple[float, float]:
    low, high = gap_stats.wilson_interval(pl.lit(k), pl.lit(n))
    row = pl.select(low=low, high=high).row(0)
    return row[0], row[1]


# Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score).
@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_published_values(k: int, n: int, low: float, high: float) -> None:
    got_low, got_high = _wilson(k, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize("n", [1, 2, 7, 9, 10, 26, 100, 1000])
def test_wilson_matches_scipy_for_every_count(n: int) -> None:
    for k in range(n + 1):
        reference = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        low, high = _wilson(k, n)
        assert low == pytest.approx(reference.low, abs=1e-9)
        assert high == pytest.approx(reference.high, abs=1e-9)


@pytest.mark.parametrize("n", [1, 3, 9, 20, 263])
def test_wilson_bounds_are_exact_at_none_and_all(n: int) -> None:
    """0 of n has a lower bound of exactly 0, n of n an upper bound of exactly 1 (not 5.55e-17)."""
    assert _wilson(0, n)[0] == 0.0
    assert _wilson(n, n)[1] == 1.0
    assert 0.0 < _wilson(0, n)[1] < 1.0
    assert 0.0 < _wilson(n, n)[0] < 1.0


def test_wilson_interval_is_empty_without_trials() -> None:
    assert _wilson(0, 0) == (None, None)


def test_translation_gap_reproduces_the_review(studies: pl.DataFrame, tables: list) -> None:
    gap = gap_stats.translation_gap(studies, tables)
    assert gap.columns == [
        "source",
        "n_studies",
        "n_in_vitro",
        "n_animal",
        "n_clinical",
        "clinical_share",
        "clinical_share_ci_low",
        "clinical_share_ci_high",
        "translation_gap",
        "n_in_vitro_nr",  # added after the contract's columns
    ]
    rows = {r["source"]: r for r in gap.iter_rows(named=True)}
    assert list(rows) == ["bone_marrow", "adipose", "umbilical_cord", "all"]
    assert (rows["bone_marrow"]["n_studies"], rows["bone_marrow"]["n_clinical"]) == (10, 1)
    assert (rows["adipose"]["n_studies"], rows["adipose"]["n_clinical"]) == (7, 0)
    assert (rows["umbilical_cord"]["n_studies"], rows["umbilical_cord"]["n_clinical"]) == (9, 1)
    assert (rows["all"]["n_studies"], rows["all"]["n_clinical"]) == (26, 2)
    for row in rows.values():
        share = row["n_clinical"] / row["n_studies"]
        assert row["clinical_share"] == pytest.approx(share, abs=1e-4)
        assert row["translation_gap"] == pytest.approx(1 - share, abs=1e-4)
        assert (
            row["clinical_share_ci_low"] <= row["clinical_share"] <= row["clinical_share_ci_high"]
        )
    # The 95% interval is Wilson's (scipy's, independently), rounded to 4 decimals exactly.
    for row in rows.values():
        reference = binomtest(row["n_clinical"], row["n_studies"]).proportion_ci(
            confidence_level=0.95, method="wilson"
        )
        assert row["clinical_share_ci_low"] == round(reference.low, 4)
        assert row["clinical_share_ci_high"] == round(reference.high, 4)
        assert row["clinical_share"] == round(row["n_clinical"] / row["n_studies"], 4)
        assert row["translation_gap"] == round(1 - row["n_clinical"] / row["n_studies"], 4)
    assert rows["umbilical_cord"]["clinical_share"] == 0.1111  # 1 of 9: 4 decimals, not 0.111
    # Table 2 of the review has three animal studies and four in vitro only.
    assert (rows["adipose"]["n_animal"], rows["adipose"]["n_in_vitro"]) == (3, 5)


def test_source_without_studies_gets_a_row_of_zeros(studies: pl.DataFrame, tables: list) -> None:
    placenta = settings.SourceTable("placenta", 4, "Placenta", "Exosomes from placenta MSC", ())
    gap = gap_stats.translation_gap(studies, [*tables, placenta])
    row = gap.filter(pl.col("source") == "placenta").row(0, named=True)
    assert row["n_studies"] == 0
    assert row["clinical_share"] is None
    assert row["clinical_share_ci_low"] is None
    assert gap["source"].to_list()[-1] == "all"


def test_evidence_gap_map_counts_highest_stage(studies: pl.DataFrame, tables: list) -> None:
    gap_map = gap_stats.evidence_gap_map(studies, tables)
    rows = {r["source"]: r for r in gap_map.iter_rows(named=True)}
    assert rows["adipose"] == {
        "source": "adipose",
        "in_vitro": 4,
        "animal": 3,
        "clinical": 0,
        "total": 7,
    }
    # Each row against the stage worked out here from the record fields, not from `stage`.
    highest = studies.select(
        "source",
        reached=pl.when(pl.col("clinical_patients").is_not_null())
        .then(pl.lit("clinical"))
        .when(pl.col("in_vivo").is_not_null())
        .then(pl.lit("animal"))
        .otherwise(pl.lit("in_vitro")),
    )
    for source, row in rows.items():
        mine = highest if source == "all" else highest.filter(pl.col("source") == source)
        expected = {stage: mine.filter(pl.col("reached") == stage).height for stage in STAGES}
        assert row == {"source": source, **expected, "total": mine.height}


def test_species_by_source_counts_each_study_once_per_species(tables: list) -> None:
    frame = pl.DataFrame(
        {
            "source": ["bone_marrow", "bone_marrow", "adipose"],
            "species": ["mouse;rat", "rat", None],
        }
    )
    counts = gap_stats.species_by_source(frame, tables)
    as_dict = {(r["source"], r["species"]): r["n_studies"] for r in counts.iter_rows(named=True)}
    assert as_dict == {
        ("bone_marrow", "rat"): 2,
        ("bone_marrow", "mouse"): 1,
        ("all", "rat"): 2,
        ("all", "mouse"): 1,
    }


def test_time_to_translation_measures_years_from_animal_to_clinical_per_condition_group() -> None:
    """Three spellings of GvHD are one condition group: its translation runs from the
    first animal study of any of them to the first use in people of any of them."""
    frame = pl.DataFrame(
        {
            "condition": ["GvHD", "Graft vs host disease", "Acute GVHD (skin)", "Colitis"],
            "source": ["bone_marrow", "umbilical_cord", "bone_marrow", "adipose"],
            "stage": ["in_vitro", "animal", "clinical", "animal"],
            "year": [2010, 2012, 2019, 2015],
            "in_vivo": [None, "GvHD model (Mouse)", None, "Colitis model (Mouse)"],
            "clinical_patients": [None, None, 3, None],
        }
    )
    grouped = with_condition_groups(frame, shipped_condition_groups())
    rows = gap_stats.time_to_translation(grouped).iter_rows(named=True)
    result = {r["condition_group"]: r for r in rows}
    gvhd = result["Graft-versus-host disease"]
    assert (gvhd["n_conditions"], gvhd["n_studies"]) == (3, 3)
    assert gvhd["highest_stage"] == "clinical"
    assert gvhd["first_year"] == 2010
    assert gvhd["years_animal_to_clinical"] == 7
    assert gvhd["sources"] == "bone_marrow;umbilical_cord"
    assert result["Inflammatory bowel disease"]["first_clinical_year"] is None
    # highest stage first
    assert list(result) == ["Graft-versus-host disease", "Inflammatory bowel disease"]
    # As written, each spelling would be a translation of its own, and none would have one.
    as_written = gap_stats.time_to_translation(with_condition_groups(frame))
    assert as_written["years_animal_to_clinical"].null_count() == 4


def test_a_source_with_one_study_has_a_share(tables: list) -> None:
    """1 of 1 and 0 of 1 are shares (1.0 and 0.0) with intervals, not empty."""
    one = pl.DataFrame(
        {
            "source": ["bone_marrow", "adipose"],
            "in_vitro": [True, True],
            "in_vivo": [None, "Model (Rat)"],
            "clinical_patients": [3, None],
        }
    )
    rows = {r["source"]: r for r in gap_stats.translation_gap(one, tables).iter_rows(named=True)}
    assert (rows["bone_marrow"]["clinical_share"], rows["bone_marrow"]["translation_gap"]) == (
        1.0,
        0.0,
    )
    assert rows["bone_marrow"]["clinical_share_ci_high"] == 1.0
    assert (rows["adipose"]["clinical_share"], rows["adipose"]["clinical_share_ci_low"]) == (
        0.0,
        0.0,
    )
    assert rows["all"]["clinical_share"] == 0.5


def test_counts_by_source_follow_the_tables_then_count_then_code(tables: list) -> None:
    """Sources in the config's table order, then "all"; in a source the most studied code
    first, ties by code; a study without the column's value is not counted."""
    frame = pl.DataFrame(
        {
            "source": ["umbilical_cord", "bone_marrow", "bone_marrow", "bone_marrow", "adipose"],
            "species": ["rat", "rabbit;rat", "mouse;rat", None, "rat"],
        }
    )
    rows = [tuple(r) for r in gap_stats.species_by_source(frame, tables).iter_rows()]
    assert rows == [
        ("bone_marrow", "rat", 2),
        ("bone_marrow", "mouse", 1),
        ("bone_marrow", "rabbit", 1),
        ("adipose", "rat", 1),
        ("umbilical_cord", "rat", 1),
        ("all", "rat", 4),
        ("all", "mouse", 1),
        ("all", "rabbit", 1),
    ]
    models = frame.rename({"species": "model_type"})
    assert [tuple(r) for r in gap_stats.model_type_by_source(models, tables).iter_rows()] == rows


def test_evidence_gap_map_keeps_a_configured_source_without_studies(studies, tables) -> None:
    placenta = settings.SourceTable("placenta", 4, "Placenta", "Exosomes from placenta MSC", ())
    gap_map = gap_stats.evidence_gap_map(studies, [*tables, placenta])
    order = ["bone_marrow", "adipose", "umbilical_cord", "placenta", "all"]
    assert gap_map["source"].to_list() == order
    zeros = {"source": "placenta", "in_vitro": 0, "animal": 0, "clinical": 0, "total": 0}
    assert gap_map.row(3, named=True) == zeros
    assert gap_map.schema["total"] == pl.Int64


def test_time_to_translation_rows_in_full() -> None:
    frame = pl.DataFrame(
        {
            "condition": ["GvHD", "GvHD", "Stroke", "Stroke", "Colitis", "Sepsis"],
            "source": ["bone_marrow", "adipose", "adipose", "adipose", "adipose", "bone_marrow"],
            "stage": ["animal", "clinical", "animal", "animal", "animal", "in_vitro"],
            "year": [2012, 2019, 2016, 2014, 2015, 2011],
            "in_vivo": ["GvHD model (Mouse)", "x", "MCAO (Rat)", "MCAO (Rat)", "DSS (Mouse)", None],
            "clinical_patients": [None, 3, None, None, None, None],
        }
    )
    rows = gap_stats.time_to_translation(with_condition_groups(frame)).to_dicts()
    assert rows == [
        {
            "condition_group": "GvHD",
            "n_conditions": 1,
            "n_studies": 2,
            "sources": "adipose;bone_marrow",
            "highest_stage": "clinical",
            "first_year": 2012,
            "first_animal_year": 2012,
            "first_clinical_year": 2019,
            "years_animal_to_clinical": 7,
        },
        # at one stage, the condition with more studies first, then by name
        {
            "condition_group": "Stroke",
            "n_conditions": 1,
            "n_studies": 2,
            "sources": "adipose",
            "highest_stage": "animal",
            "first_year": 2014,
            "first_animal_year": 2014,
            "first_clinical_year": None,
            "years_animal_to_clinical": None,
        },
        {
            "condition_group": "Colitis",
            "n_conditions": 1,
            "n_studies": 1,
            "sources": "adipose",
            "highest_stage": "animal",
            "first_year": 2015,
            "first_animal_year": 2015,
            "first_clinical_year": None,
            "years_animal_to_clinical": None,
        },
        {
            "condition_group": "Sepsis",
            "n_conditions": 1,
            "n_studies": 1,
            "sources": "bone_marrow",
            "highest_stage": "in_vitro",
            "first_year": 2011,
            "first_animal_year": None,
            "first_clinical_year": None,
            "years_animal_to_clinical": None,
        },
    ]
    assert (
        gap_stats.time_to_translation(with_condition_groups(frame)).schema["highest_stage"]
        == pl.String
    )


def test_translation_gap_counts_studies_whose_in_vitro_work_is_not_reported(tables) -> None:
    frame = pl.DataFrame(
        {
            "source": ["bone_marrow", "bone_marrow", "bone_marrow", "adipose"],
            "stage": ["in_vitro", "animal", "animal", "in_vitro"],
            "in_vitro": [True, None, False, None],
            "in_vivo": [None, "x (Rat)", "y (Mouse)", None],
            "clinical_patients": [None, None, None, None],
            "species": [None, "rat", "mouse", None],
            "model_type": [None, "disease_model", "disease_model", None],
        },
        schema_overrides={"clinical_patients": pl.Int64},
    )
    gap = {r["source"]: r for r in gap_stats.translation_gap(frame, tables).iter_rows(named=True)}
    assert gap["bone_marrow"]["n_in_vitro_nr"] == 1
    assert gap["adipose"]["n_in_vitro_nr"] == 1
    assert gap["umbilical_cord"]["n_in_vitro_nr"] == 0
    assert gap["all"]["n_in_vitro_nr"] == 2


# -- registered trials by phase (what the planted-bug audit asked for) ----------------------
def _trials(rows: list[tuple[str, str, str | None, str | None]]) -> pl.DataFrame:
    """Trials of the trial table's schema from (source, ev_class, phase, first posted)."""
    from exosynth.trials.shape import trial_schema  # noqa: PLC0415 - the schema only

    schema = trial_schema()
    frame = pl.DataFrame(
        [
            {"trial_id": f"NCT0999{i:04d}", "source": source, "ev_class": ev_class,
             "phase": phase, "first_posted": posted}
            for i, (source, ev_class, phase, posted) in enumerate(rows)
        ],
        schema={k: schema[k] for k in ("trial_id", "source", "ev_class", "phase", "first_posted")},
    )  # fmt: skip
    return frame.with_columns(
        [pl.lit(None, dtype).alias(k) for k, dtype in schema.items() if k not in frame.columns]
    ).select(list(schema))


def test_trial_counts_by_phase_group_count_every_phase_once(tables: list) -> None:
    trials = _trials([
        ("bone_marrow", "msc_ev", "early_phase1", "2021-03-04"),
        ("bone_marrow", "msc_ev", "phase1_2", "2022-01"),
        ("bone_marrow", "msc_ev", "phase3", "2023-05-06"),
        ("bone_marrow", "msc_ev", "not_applicable", "2024"),
        ("bone_marrow", "msc_ev", None, None),
        ("bone_marrow", "msc_secretome", "phase2", "2019-02-02"),
        ("unspecified", "msc_ev", "phase2", "2020-12-31"),
    ])  # fmt: skip
    counts = {r["source"]: r for r in gap_stats.trial_counts(trials, tables).to_dicts()}
    marrow = counts["bone_marrow"]
    assert marrow["n_trials"] == 5  # the secretome trial counts apart
    assert (marrow["n_trials_phase1"], marrow["n_trials_phase2_plus"]) == (2, 1)
    assert marrow["n_trials_phase3_plus"] == 1
    assert marrow["n_trials_no_phase"] == 2  # not applicable, and no phase given
    assert marrow["n_secretome_trials"] == 1
    # every MSC-EV trial is in exactly one of phase 1, phase 2+ or no phase
    assert (
        marrow["n_trials_phase1"] + marrow["n_trials_phase2_plus"] + marrow["n_trials_no_phase"]
        == marrow["n_trials"]
    )
    assert marrow["first_trial_year"] == 2021  # the year of the first MSC-EV trial, in full
    assert counts["all"]["first_trial_year"] == 2020
    assert counts["adipose"]["n_trials"] == 0
    assert counts["adipose"]["first_trial_year"] is None


def test_time_to_trial_without_a_cut_off_leaves_censored_years_empty(studies, tables) -> None:
    trials = _trials([("bone_marrow", "msc_ev", "phase1", "2021-03-04")])
    frame = {
        r["source"]: r for r in gap_stats.time_to_trial(studies, trials, tables, "").to_dicts()
    }
    assert frame["bone_marrow"]["censored"] is False
    assert frame["bone_marrow"]["followed_to_year"] == 2021
    censored = frame["adipose"]
    assert censored["censored"] is True
    assert (censored["followed_to_year"], censored["years_animal_to_trial"]) == (None, None)
