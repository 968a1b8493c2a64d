"""Pooling against metafor's rma/predict/cumul/regtest (checked-in numbers), and its rules."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest
from metafor_reference import TOLERANCE, expected, groups

from exosynth.analysis_groups import fold_outcome
from exosynth.synthesis import meta, pooling
from exosynth.synthesis.effects import compute_effects, outcome_groups

NUMBERS = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "tau2",
    "i2",
    "q",
    "q_p",
    "pi_low",
    "pi_high",
)
HETEROGENEITY = ("tau2", "i2", "q", "q_p", "pi_low", "pi_high")


@pytest.fixture(scope="module")
def reference_effects() -> pl.DataFrame:
    frame = groups()
    computed, _ = compute_effects(frame.drop("dataset", "analysis"))
    analyses = frame.select("study_id", "entry", "analysis").unique()
    return computed.join(analyses, on=["study_id", "entry"])


def _close(
    ours: pl.DataFrame, theirs: pl.DataFrame, keys: list[str], columns: tuple[str, ...]
) -> None:
    joined = ours.join(theirs, on=keys, how="full", suffix="_r", coalesce=True)
    assert joined.height == ours.height == theirs.height, (ours.height, theirs.height)
    for row in joined.iter_rows(named=True):
        for column in columns:
            a, b = row[column], row[f"{column}_r"]
            assert a is not None, (column, row)
            assert abs(a - b) <= TOLERANCE, (column, a, b, row)


@pytest.mark.parametrize("knha", [False, True], ids=["z", "knha"])
def test_pooled_numbers_match_metafor(reference_effects: pl.DataFrame, knha: bool) -> None:
    pooled, problems = pooling.pool(reference_effects, knha=knha)
    assert problems == []
    reference = (
        expected("pooled")
        .filter(pl.col("test") == ("knha" if knha else "z"))
        .rename({"analysis": "outcome"})
    )
    several = pooled.filter(pl.col("k_comparisons") > 1)
    _close(
        several.drop("condition"),
        reference.filter(pl.col("k") > 1),
        ["outcome", "source", "measure", "method"],
        NUMBERS,
    )
    # k = 1: the comparison itself, normal CI and p (metafor also falls back to z), no
    # heterogeneity cells
    keys = ["outcome", "source", "measure", "method"]
    single = pooled.filter(pl.col("k_comparisons") == 1)
    assert single.height > 0
    # (the R script fits no Knapp-Hartung model to an analysis of one comparison in all)
    _close(
        single.join(reference.select(keys), on=keys, how="semi").drop("condition"),
        reference.filter(pl.col("k") == 1),
        keys,
        ("estimate", "se", "ci_low", "ci_high", "p"),
    )
    assert single.select(pl.all_horizontal(pl.col(HETEROGENEITY).is_null())).to_series().all()


@pytest.mark.parametrize("knha", [False, True], ids=["z", "knha"])
def test_subgroup_test_matches_metafor(reference_effects: pl.DataFrame, knha: bool) -> None:
    pooled, _ = pooling.pool(reference_effects, knha=knha)
    rows = pooled.filter(pl.col("subgroup_q").is_not_null())
    assert (rows["source"] == "all").all()
    reference = (
        expected("subgroups")
        .filter(pl.col("test") == ("knha" if knha else "z"))
        .rename({"analysis": "outcome"})
    )
    _close(
        rows.select("outcome", "measure", "method", "subgroup_q", "subgroup_df", "subgroup_p"),
        reference,
        ["outcome", "measure", "method"],
        ("subgroup_q", "subgroup_df", "subgroup_p"),
    )


def test_reference_has_k1_k2_and_tau2_zero(reference_effects: pl.DataFrame) -> None:
    pooled, _ = pooling.pool(reference_effects)
    everyone = pooled.filter(pl.col("source") == "all", pl.col("measure") == "smd")
    k = dict(zip(everyone["outcome"], everyone["k_comparisons"], strict=False))
    assert k["single"] == 1
    assert k["pair"] == 2
    homogeneous = everyone.filter(pl.col("outcome") == "homogeneous")
    assert homogeneous["tau2"].to_list() == [0.0, 0.0]
    assert homogeneous["i2"].to_list() == [0.0, 0.0]
    # I2 from tau2 and the typical variance, not (Q - df) / Q: they differ under REML
    gibson = everyone.filter(pl.col("outcome") == "days off work", pl.col("method") == "REML")
    q, i2 = gibson["q"].item(), gibson["i2"].item()
    assert abs(i2 - 100 * (q - 12) / q) > 1


def test_one_entry_per_study_and_analysis(reference_effects: pl.DataFrame) -> None:
    marked = pooling.select_timepoints(reference_effects)
    # SyRF study a3a7af08 gives the analysis at 336 min (entry 0) and 312 min (entry 1)
    a3 = marked.filter(pl.col("study_id") == "a3a7af08")
    assert a3.filter(pl.col("used"))["timepoint"].to_list() == ["312 min"]
    primary = reference_effects.with_columns(
        primary=pl.when(pl.col("study_id") == "a3a7af08").then(pl.col("entry") == 0)
    )
    chosen = pooling.select_timepoints(primary).filter(pl.col("study_id") == "a3a7af08")
    assert chosen.filter(pl.col("used"))["timepoint"].to_list() == ["336 min"]


def test_cumulative_matches_metafor_cumul(reference_effects: pl.DataFrame) -> None:
    ours = pooling.cumulative(
        reference_effects.filter(pl.col("analysis").is_in(["length of stay", "days off work"]))
    )
    ours = ours.filter(pl.col("measure") == "smd").with_columns(
        dataset=pl.col("outcome").replace(
            {"length of stay": "normand1999", "days off work": "gibson2002"}
        )
    )
    reference = expected("cumulative")
    _close(
        ours.select("dataset", "method", "step", "study_id", "estimate", "se", "ci_low", "ci_high"),
        reference.drop("tau2"),
        ["dataset", "method", "step", "study_id"],
        ("estimate", "se", "ci_low", "ci_high"),
    )
    several = ours.filter(pl.col("step") > 1)
    _close(
        several.select("dataset", "method", "step", "tau2"),
        reference.filter(pl.col("step") > 1).select("dataset", "method", "step", "tau2"),
        ["dataset", "method", "step"],
        ("tau2",),
    )


@pytest.mark.parametrize("knha", [False, True], ids=["z", "knha"])
def test_egger_matches_metafor_regtest(reference_effects: pl.DataFrame, knha: bool) -> None:
    ours = pooling.egger(reference_effects, knha=knha).filter(pl.col("measure") == "smd")
    # only the analyses with at least 10 studies (SyRF's immobility has 10, 17 comparisons)
    assert sorted(set(ours["outcome"])) == ["days off work", "fst immobility"]
    assert ours["test"].to_list() == ["t" if knha else "z"] * 4
    reference = expected("egger").filter(pl.col("test") == ("knha" if knha else "z"))
    _close(
        ours.select(
            "outcome", "method", "statistic", "p", "limit", "limit_ci_low", "limit_ci_high"
        ).rename({"statistic": "stat"}),
        reference.drop("dataset", "test", "k").rename({"analysis": "outcome"}),
        ["outcome", "method"],
        ("stat", "p", "limit", "limit_ci_low", "limit_ci_high"),
    )


def test_distributions_against_known_values() -> None:
    assert meta.chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, abs=1e-12)
    assert meta.chi2_sf(18.307038053275146, 10) == pytest.approx(0.05, abs=1e-12)
    assert meta.t_quantile_975(1) == pytest.approx(12.706204736174698, abs=1e-9)
    assert meta.t_quantile_975(12) == pytest.approx(2.178812829667228, abs=1e-12)
    assert meta.t_sf2(2.228138851986274, 10) == pytest.approx(0.05, abs=1e-12)


def test_reml_that_does_not_converge_falls_back_to_dl_and_names_the_analysis(
    reference_effects: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(meta, "MAX_ITER", 0)
    frame = reference_effects.filter(pl.col("analysis") == "days off work")
    pooled, problems = pooling.pool(frame)
    assert problems
    assert {p.code for p in problems} == {"pooling.reml_not_converged"}
    assert any("days off work / all / smd" in p.message for p in problems)
    rows = pooled.filter(pl.col("source") == "all", pl.col("measure") == "smd")
    reml, dl = rows.filter(pl.col("method") == "REML"), rows.filter(pl.col("method") == "DL")
    assert reml["estimate"].item() == dl["estimate"].item()


def test_fold_outcome() -> None:
    assert fold_outcome("Infarct Volumes") == "infarct volume"
    assert fold_outcome("infarct-volume (%)") == "infarct volume"
    assert fold_outcome("  Serum  creatinine ") == "serum creatinine"
    assert fold_outcome("fibrosis") == "fibrosis"
    assert fold_outcome("grip strength") == "grip strength"


def test_synonyms_put_two_names_in_one_analysis() -> None:
    entries = []
    studies = []
    for i, name in enumerate(["Infarct volume", "infarct sizes"]):
        entries = [
            {
                "outcome": name,
                "direction": "lower_is_better",
                "control": {"n": 8, "mean": 30.0 + i, "sd": 5.0},
                "treated": [{"n": 8, "mean": 20.0, "sd": 5.0}],
            }
        ]
        studies.append(
            {
                "id": f"s{i}",
                "source": "adipose",
                "condition": "stroke",
                "year": 2020 + i,
                "raw_file": f"s{i}.yaml",
                "outcomes": json.dumps(entries),
            }
        )
    effects, _ = compute_effects(outcome_groups(pl.DataFrame(studies)))
    apart, _ = pooling.pool(effects)
    assert set(apart["outcome"]) == {"infarct volume", "infarct size"}
    together, _ = pooling.pool(
        effects, synonyms={"infarct volume": "infarct volume", "infarct size": "infarct volume"}
    )
    assert set(together["outcome"]) == {"infarct volume"}
    assert together.filter(pl.col("source") == "all")["k_studies"].to_list() == [2, 2]


def test_no_effects_give_the_contract_header_only() -> None:
    empty, _ = compute_effects(outcome_groups(pl.DataFrame({"id": [], "outcomes": []})))
    pooled, problems = pooling.pool(empty)
    assert pooled.is_empty()
    assert problems == []
    assert pooled.columns == list(pooling.POOLED_COLUMNS)
    assert pooling.cumulative(empty).is_empty()
    assert pooling.egger(empty).is_empty()


def test_cumulative_and_egger_columns_keep_their_published_order(
    reference_effects: pl.DataFrame,
) -> None:
    """Their schemas are built from pooled.csv's columns: the CSVs' column order must not move."""
    keys = ["condition", "outcome", "measure", "method"]
    fit = ["estimate", "se", "ci_low", "ci_high", "p", "tau2", "i2"]
    assert pooling.cumulative(reference_effects).columns == [
        *keys, "step", "study_id", "year", "k_studies", "k_comparisons", *fit
    ]  # fmt: skip
    egger = pooling.egger(reference_effects)
    assert not egger.is_empty()
    assert egger.columns == [
        *keys, "k_studies", "k_comparisons", "test", "statistic", "df", "p", "limit",
        "limit_ci_low", "limit_ci_high",
    ]  # fmt: skip


def test_k1_has_a_normal_interval() -> None:
    fit = meta.fit_model([0.8], [0.25])
    assert (fit.ci_low, fit.ci_high) == pytest.approx(
        (0.8 - 1.959963984540054 * 0.5, 0.8 + 1.959963984540054 * 0.5)
    )
    assert fit.p == pytest.approx(math.erfc(1.6 / math.sqrt(2)))
    assert fit.tau2 is None
