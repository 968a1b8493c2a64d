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


def test_forest_plot_and_cumulative_plot_are_drawn(with_outcomes) -> None:
    project, _ = with_outcomes
    for ext in ("png", "svg", "csv"):
        assert (project / f"{FOREST}.{ext}").stat().st_size > 0
    drawn = _rows(project / f"{FOREST}.csv")
    kinds = [r["kind"] for r in drawn]
    assert kinds.count("source") == kinds.count("source_pooled") == 3
    assert kinds[-1] == "overall"
    assert "Subgroup differences between sources" in (project / f"{FOREST}.svg").read_text(
        encoding="utf-8"
    )
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
    # what only the arithmetic finds (rule synthesis) is in the report too, by record and field
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
    assert (
        done.stderr.rstrip()
        .splitlines()[-1]
        .split("; HTML report")[0]
        .endswith("1 warning, 2 meta-analyses -> results/exosynth.xlsx")
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
