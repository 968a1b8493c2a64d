"""Effect sizes against metafor's escalc (checked-in numbers) and the rules of DESIGN.md.

The reference numbers in tests/reference/metafor/ were made by make_reference.R (R 4.2.2,
metafor 3.8-1) from checked-in group tables: hand-made cases, a table derived from SyRF's
quantitative export, and metadat's dat.normand1999 and dat.gibson2002.
"""

from __future__ import annotations

import json
import math

import polars as pl
import pytest
from metafor_reference import TOLERANCE, expected, groups

from exosynth.problems import WARNING
from exosynth.synthesis import effects as fx
from exosynth.synthesis.effects import EFFECT_COLUMNS, compute_effects, outcome_groups


@pytest.fixture(scope="module")
def computed() -> tuple[pl.DataFrame, list]:
    return compute_effects(groups().drop("dataset", "analysis"))


def test_effects_match_metafor_on_every_dataset(computed: tuple[pl.DataFrame, list]) -> None:
    frame, _ = computed
    reference = expected("effects").with_columns(pl.col("entry", "arm").cast(pl.Int64))
    joined = frame.join(reference, on=["study_id", "entry", "arm"], how="full", suffix="_r")
    assert joined.height == reference.height == frame.height == 74
    assert set(reference["dataset"]) == {"hand", "syrf", "lsr3", "normand1999", "gibson2002"}
    for column in ("smd", "smd_var", "nmd", "nmd_se", "n_control_shared"):
        ours, theirs = joined[column].to_list(), joined[f"{column}_r"].to_list()
        for row, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert (a is None) == (b is None), (column, joined.row(row, named=True))
            if a is not None:
                assert abs(a - b) <= TOLERANCE, (column, joined.row(row, named=True))


def test_reference_covers_the_cases_the_design_names(computed: tuple[pl.DataFrame, list]) -> None:
    frame, _ = computed
    h1 = frame.filter(pl.col("study_id") == "h1")
    # a control of 10 animals shared by three groups counts 10/3 each, not rounded
    assert h1["n_control_shared"].to_list() == pytest.approx([10 / 3] * 3, abs=1e-12)
    assert h1["n_control"].to_list() == [10, 10, 10]
    assert frame.filter(pl.col("study_id") == "h2")["direction"].item() == "higher_is_better"
    assert frame["nmd"].is_not_null().sum() >= 5


def test_exact_correction_not_the_approximation() -> None:
    # 1 - 3/(4m - 1) differs from the gamma form by ~1e-4 at m = 4: the test must see it
    exact = fx.hedges_correction(4)
    assert exact == pytest.approx(math.gamma(2) / (math.sqrt(2) * math.gamma(1.5)), abs=1e-15)
    assert abs(exact - (1 - 3 / (4 * 4 - 1))) > 1e-4


def _entry(direction: str = "lower_is_better", **extra: object) -> dict:
    entry = {
        "outcome": "Infarct volume",
        "direction": direction,
        "control": {"n": 10, "mean": 30.0, "sd": 5.0},
        "treated": [{"n": 10, "mean": 20.0, "sd": 5.0}],
    }
    entry.update(extra)
    return entry


def _studies(*entries: dict, study: str = "s1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [study],
            "source": ["bone_marrow"],
            "condition": ["stroke"],
            "year": [2020],
            "raw_file": [f"raw/bone_marrow/{study}.yaml"],
            "outcomes": [json.dumps(list(entries))],
        }
    )


def test_benefit_is_positive_whichever_way_the_outcome_moves() -> None:
    lower, _ = compute_effects(outcome_groups(_studies(_entry())))
    higher_entry = _entry(
        "higher_is_better",
        control={"n": 10, "mean": 20.0, "sd": 5.0},
        treated=[{"n": 10, "mean": 30.0, "sd": 5.0}],
    )
    higher, _ = compute_effects(outcome_groups(_studies(higher_entry)))
    assert lower["smd"].item() > 0
    assert higher["smd"].item() == pytest.approx(lower["smd"].item(), abs=1e-12)
    worse, _ = compute_effects(outcome_groups(_studies(_entry("higher_is_better"))))
    assert worse["smd"].item() == pytest.approx(-lower["smd"].item(), abs=1e-12)


def test_sem_is_converted_with_the_groups_own_n() -> None:
    by_sd, _ = compute_effects(outcome_groups(_studies(_entry())))
    by_sem_entry = _entry(treated=[{"n": 10, "mean": 20.0, "sem": 5.0 / math.sqrt(10)}])
    by_sem, _ = compute_effects(outcome_groups(_studies(by_sem_entry)))
    assert by_sem["smd"].item() == pytest.approx(by_sd["smd"].item(), abs=1e-12)


def test_nmd_is_positive_for_a_benefit_in_both_directions() -> None:
    lower = _entry(sham={"n": 5, "mean": 10.0, "sd": 1.0})
    higher = _entry(
        "higher_is_better",
        sham={"n": 5, "mean": 40.0, "sd": 1.0},
        control={"n": 10, "mean": 20.0, "sd": 5.0},
        treated=[{"n": 10, "mean": 30.0, "sd": 5.0}],
    )
    frame, _ = compute_effects(outcome_groups(_studies(lower, higher)))
    assert frame["nmd"].to_list() == pytest.approx([50.0, 50.0])
    # SE from the control's and treated group's SDs over |control - sham|, sham SD unused
    assert frame["nmd_se"][0] == pytest.approx(math.sqrt(2 * (100 * 5 / 20) ** 2 / 10))


def test_sham_equal_to_control_gives_no_nmd_but_keeps_the_smd() -> None:
    frame, _ = compute_effects(
        outcome_groups(_studies(_entry(sham={"n": 5, "mean": 30.0, "sd": 1.0})))
    )
    assert frame["nmd"].item() is None
    assert frame["smd"].item() is not None


def test_missing_numbers_keep_the_row_and_warn_with_the_field() -> None:
    entry = _entry(
        treated=[{"label": "low dose", "mean": 20.0, "sd": 5.0}, {"n": 10, "mean": 25.0, "sd": 5.0}]
    )
    frame, problems = compute_effects(outcome_groups(_studies(entry)))
    assert frame["treated"].to_list() == ["low dose", "group 2"]
    assert frame["smd"].to_list()[0] is None
    assert frame["smd"].to_list()[1] is not None
    # the control's n still counts as shared by both groups
    assert frame["n_control_shared"].to_list() == [5.0, 5.0]
    [problem] = problems
    assert problem.severity == WARNING
    assert problem.code == "outcome.missing_number"
    assert problem.file == "raw/bone_marrow/s1.yaml"
    assert problem.field == "outcomes[0].treated[0].n"


def test_no_control_and_no_direction_are_warnings_not_crashes() -> None:
    entry = {"outcome": "x", "treated": [{"n": 5, "mean": 1.0, "sd": 1.0}]}
    frame, problems = compute_effects(outcome_groups(_studies(entry)))
    assert frame.height == 1
    assert frame["smd"].item() is None
    assert {p.code for p in problems} == {"outcome.no_control", "outcome.no_direction"}


def test_wrong_types_read_as_missing() -> None:
    entry = _entry(control={"n": "ten", "mean": True, "sd": 5.0})
    frame, problems = compute_effects(outcome_groups(_studies(entry)))
    assert frame["smd"].item() is None
    assert {p.field for p in problems} == {"outcomes[0].control.n", "outcomes[0].control.mean"}


def test_studies_without_outcomes_give_an_empty_frame_with_the_contract_columns() -> None:
    studies = _studies(_entry()).with_columns(outcomes=pl.lit(None, dtype=pl.String))
    frame, problems = compute_effects(outcome_groups(studies))
    assert frame.is_empty()
    assert problems == []
    assert tuple(fx.effects_table(frame).columns) == EFFECT_COLUMNS
