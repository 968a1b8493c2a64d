"""End to end: records with outcome data in three sources give effect sizes, meta-analyses,
forest plots and workbook sheets; the shipped records (no outcome data) give header-only
synthesis files and the same study table and statistics as before."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from exosynth.studies.normalize import BLOCK_COLUMNS, STUDY_COLUMNS
from exosynth.synthesis.effects import EFFECT_COLUMNS
from exosynth.synthesis.pooling import POOLED_COLUMNS

pytestmark = pytest.mark.e2e
OUTCOME_RECORDS = Path(__file__).resolve().parent / "data" / "outcomes"
FOREST = "results/figures/meta_analysis/forest--acute-kidney-injury--serum-creatinine"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def with_outcomes(project_factory, run_snakemake, tmp_path_factory):
    project = project_factory(tmp_path_factory.mktemp("outcomes") / "project")
    shutil.copytree(OUTCOME_RECORDS, project / "raw", dirs_exist_ok=True)
    done = run_snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    return project, done


@pytest.fixture(scope="module")
def shipped(project_factory, run_snakemake, tmp_path_factory):
    project = project_factory(tmp_path_factory.mktemp("shipped") / "project")
    done = run_snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    return project, done


def test_effects_and_pooled_with_the_subgroup_test(with_outcomes) -> None:
    project, _ = with_outcomes
    effects = _rows(project / "results/synthesis/effects.csv")
    assert tuple(effects[0]) == EFFECT_COLUMNS
    # three spellings of acute kidney injury are one condition group
    assert {r["condition"] for r in effects if r["study_id"] != "egan-2020"} == {
        "Acute kidney injury"
    }
    pooled = _rows(project / "results/synthesis/pooled.csv")
    assert tuple(pooled[0]) == POOLED_COLUMNS
    creatinine = [
        r
        for r in pooled
        if r["outcome"] == "serum creatinine" and r["measure"] == "smd" and r["method"] == "REML"
    ]
    assert [r["source"] for r in creatinine] == ["bone_marrow", "adipose", "umbilical_cord", "all"]
    overall = creatinine[-1]
    assert (overall["k_studies"], overall["k_comparisons"]) == ("4", "6")
    assert overall["subgroup_df"] == "2"
    assert 0 < float(overall["subgroup_p"]) < 1
    assert all(r["subgroup_q"] == "" for r in creatinine[:-1])
    # one comparison: shown, not pooled, no heterogeneity
    stroke = next(r for r in pooled if r["outcome"] == "infarct volume" and r["source"] == "all")
    assert stroke["k_comparisons"] == "1"
    assert stroke["tau2"] == stroke["i2"] == stroke["pi_low"] == ""


def test_pooled_effects_over_the_studies_at_low_risk_of_bias(with_outcomes) -> None:
    """Issue 22's sensitivity analysis of the pooled effects: ames-2020 and dunn-2022 are judged
    low on both default items, bell-2021 high on sequence generation, cole-2019 not assessed."""
    import polars as pl  # noqa: PLC0415

    from exosynth.synthesis.meta import fit_model  # noqa: PLC0415

    project, _ = with_outcomes
    twins = pl.read_csv(project / "results/quality/pooled_sensitivity.csv")
    pooled = pl.read_csv(project / "results/synthesis/pooled.csv")
    keys = ["condition", "outcome", "source", "measure", "method"]
    # every pooled estimate has its row, with the unrestricted numbers of pooled.csv
    assert twins.select(keys).equals(pooled.select(keys))
    assert twins["estimate"].equals(pooled["estimate"])
    row = twins.filter(
        (pl.col("outcome") == "serum creatinine")
        & (pl.col("source") == "all")
        & (pl.col("measure") == "smd")
        & (pl.col("method") == "REML")
    ).row(0, named=True)
    assert (row["k_studies"], row["low_risk_k_studies"]) == (4, 2)
    assert row["low_risk_items"] == "sequence_generation;blinding_assessors"
    # by hand: REML over the low-risk studies' serum creatinine comparisons in effects.csv
    effects = pl.read_csv(project / "results/synthesis/effects.csv").filter(
        pl.col("study_id").is_in(["ames-2020", "dunn-2022"])
        & pl.col("outcome").is_in(["Serum creatinine", "SCr"])  # as written
    )
    assert effects.height == row["low_risk_k_comparisons"] >= 2
    mine = fit_model(effects["smd"].to_list(), effects["smd_var"].to_list(), "REML")
    assert row["low_risk_estimate"] == pytest.approx(mine.estimate, abs=1e-9)
    assert row["low_risk_ci_low"] == pytest.approx(mine.ci_low, abs=1e-9)
    assert row["low_risk_estimate"] != pytest.approx(row["estimate"])
    # adipose (cole-2019, not assessed): nothing pooled at low risk, the row kept
    adipose = twins.filter(
        (pl.col("outcome") == "serum creatinine") & (pl.col("source") == "adipose")
    )
    assert adipose.height
    assert (adipose["low_risk_k_studies"] == 0).all()
    assert adipose["low_risk_estimate"].is_null().all()
    page = (project / "results/quality/sensitivity.html").read_text(encoding="utf-8")
    assert "pooled effects over the studies at low risk of bias" in page


def test_forest_plot_and_cumulative_plot_are_drawn(with_outcomes) -> None:
    project, _ = with_outcomes
    for ext in ("png", "csv"):
        assert (project / f"{FOREST}.{ext}").stat().st_size > 0
    # SVG only where the config asks for it (figures: {svg: true}), as every figure
    assert not list((project / FOREST).parent.glob("*.svg"))
    drawn = _rows(project / f"{FOREST}.csv")
    kinds = [r["kind"] for r in drawn]
    assert kinds.count("source") == kinds.count("source_pooled") == 3
    assert kinds[-1] == "overall"
    # the line under the plot gives the subgroup test of the pooled.csv it is drawn from
    import polars as pl  # noqa: PLC0415

    from exosynth.synthesis.meta_figure_data import heterogeneity_text  # noqa: PLC0415

    pooled = pl.read_csv(project / "results/synthesis/pooled.csv")
    note = heterogeneity_text(pooled, "Acute kidney injury", "serum creatinine")
    assert "Subgroup differences between sources: Q = " in note
    cumulative = project / "results/figures/meta_analysis"
    assert (cumulative / "cumulative--acute-kidney-injury--serum-creatinine.png").exists()
    # fewer than 10 studies: no funnel plot
    assert not list(cumulative.glob("funnel--*"))


def test_workbook_sheets_in_words(with_outcomes) -> None:
    project, _ = with_outcomes
    book = openpyxl.load_workbook(project / "results/exosynth.xlsx", read_only=True)
    assert {"Effect sizes", "Meta-analysis"} <= set(book.sheetnames)
    header = [c.value for c in next(book["Meta-analysis"].iter_rows(max_row=1))]
    assert "Pooled estimate" in header
    assert "Q between sources" in header
    cells = {str(c.value) for row in book["Meta-analysis"].iter_rows() for c in row}
    assert "Bone marrow" in cells
    assert "All sources" in cells
    assert "Hedges' g" in cells
    assert not cells & {"bone_marrow", "all", "smd", "REML"}


def test_outcome_without_n_is_a_warning_and_the_study_stays(with_outcomes) -> None:
    project, done = with_outcomes
    report = (project / "results/validation_report.md").read_text(encoding="utf-8")
    assert "outcome.missing_number" in report
    assert "`outcomes[1].treated[0].n`" in report
    assert "cole-2019.yaml" in report
    # what only the arithmetic finds (rule workbook) is in the report too, by record and field
    notes = report.split("## Drafts, PRISMA flow and meta-analyses (2 notes in 1 file)")[1]
    assert "### `raw/umbilical_cord/egan-2020.yaml`" in notes
    assert "`outcomes[1].treated[0]`: too few animals" in notes
    assert "`outcomes[1].treated[1]`" in notes
    assert "_(outcome.degenerate)_" in notes
    page = (project / "results/validation_report.html").read_text(encoding="utf-8")
    assert "Drafts, PRISMA flow and meta-analyses (2 notes in 1 file)" in page
    ids = {r["id"] for r in _rows(project / "results/studies.csv")}
    assert "cole-2019" in ids
    assert "Cole" in (project / "results/tables/table2.csv").read_text(encoding="utf-8")
    cole = [
        r for r in _rows(project / "results/synthesis/effects.csv") if r["study_id"] == "cole-2019"
    ]
    assert [r["smd"] for r in cole] == [cole[0]["smd"], ""]
    assert cole[0]["smd"] != ""
    # the last line counts every warning the terminal printed: the record's and the two notes
    # of the arithmetic
    assert done.stderr.count("exosynth: warning: ") == 2
    assert (
        done.stderr.rstrip()
        .splitlines()[-1]
        .split("; HTML report")[0]
        .endswith("3 warnings, 2 meta-analyses -> results/exosynth.xlsx")
    )


def test_shipped_records_give_header_only_synthesis(shipped) -> None:
    project, done = shipped
    for name, columns in (("effects", EFFECT_COLUMNS), ("pooled", POOLED_COLUMNS)):
        text = (project / f"results/synthesis/{name}.csv").read_text(encoding="utf-8")
        assert text == ",".join(columns) + "\n"
    drawn = (project / "results/figures/meta_analysis").iterdir()
    assert [p.name for p in drawn if not p.name.startswith(".")] == []  # (Snakemake's stamp)
    book = openpyxl.load_workbook(project / "results/exosynth.xlsx", read_only=True)
    assert "Effect sizes" not in book.sheetnames
    assert "meta-analys" not in done.stderr.rstrip().splitlines()[-1]


def test_outcome_data_change_no_study_row_table_or_statistic(shipped, with_outcomes) -> None:
    old, _ = shipped
    new, _ = with_outcomes
    published = [c for c in STUDY_COLUMNS if c not in BLOCK_COLUMNS]
    old_rows = _rows(old / "results/studies.csv")
    assert list(old_rows[0]) == published
    added = {p.stem for p in OUTCOME_RECORDS.rglob("*.yaml")}
    kept = [r for r in _rows(new / "results/studies.csv") if r["id"] not in added]
    assert sorted(kept, key=json.dumps) == sorted(old_rows, key=json.dumps)
    for table in ("table1", "table3"):
        new_text = (new / f"results/tables/{table}.csv").read_text(encoding="utf-8")
        old_lines = (old / f"results/tables/{table}.csv").read_text(encoding="utf-8").splitlines()
        assert set(old_lines) <= set(new_text.splitlines())


def test_one_condition_group_column_feeds_the_maps_and_time_to_translation(with_outcomes) -> None:
    """Four spellings of acute kidney injury, in three sources: one group in studies.csv, one
    row of the condition map and of time to translation, one evidence map row; the
    condition as written stays in the tables."""
    project, _ = with_outcomes
    added = {p.stem for p in OUTCOME_RECORDS.rglob("*.yaml")}
    studies = [r for r in _rows(project / "results/studies.csv") if r["id"] in added]
    assert {r["id"]: r["condition_group"] for r in studies} == {
        "ames-2020": "Acute kidney injury",
        "bell-2021": "Acute kidney injury",
        "cole-2019": "Acute kidney injury",
        "dunn-2022": "Acute kidney injury",
        "egan-2020": "Ischaemic stroke",
    }
    assert "Ischemia/reperfusion-induced acute kidney injury" in (
        project / "results/tables/table1.csv"
    ).read_text(encoding="utf-8")
    cells = [
        r
        for r in _rows(project / "results/figures/condition_map.csv")
        if r["condition_group"] == "Acute kidney injury"
    ]
    assert {(r["source"], r["n_studies"]) for r in cells} == {
        ("bone_marrow", "2"),
        ("adipose", "1"),
        ("umbilical_cord", "1"),
    }
    assert {(r["group_studies"], r["n_conditions"]) for r in cells} == {("4", "4")}
    [aki] = [
        r
        for r in _rows(project / "results/stats/time_to_translation.csv")
        if r["condition_group"] == "Acute kidney injury"
    ]
    assert (aki["n_conditions"], aki["n_studies"]) == ("4", "4")
    page = (project / "results/evidence_map.html").read_text(encoding="utf-8")
    assert page.count('"Acute kidney injury"') >= 1
    assert '"Acute kidney injury (Cisplatin-induced)"' in page  # listed as written in its cell
