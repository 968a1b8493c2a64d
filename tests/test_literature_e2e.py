"""End to end, literature in: import reference files, screen the drafts, complete and include
two, build; the PRISMA counts add up and follow the decisions, the two studies are in their
tables and in changes.csv; a git-tag baseline gives the same changes.csv as the same state
kept as a folder; a pooled estimate that moved since a baseline is a headline change."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml
from literature_shared import SHARED

from exosynth.literature.prisma import check_values, read_values

pytestmark = pytest.mark.e2e

SEARCH = """TY  - JOUR
AU  - Lee, K.
TI  - Bone marrow mesenchymal stem cell-derived exosomes attenuate renal fibrosis in mice
AB  - Exosomes from bone marrow MSCs reduced fibrosis after ureteral obstruction in mice.
PY  - 2021
DO  - 10.9999/exo.lee
ER  -
TY  - JOUR
AU  - Park, S.
TI  - Umbilical cord MSC exosomes improve wound healing in diabetic rats
AB  - hUC-MSC-Exos accelerated wound closure in diabetic rats and fibroblast migration in vitro.
PY  - 2022
DO  - 10.9999/exo.park
ER  -
TY  - JOUR
AU  - Roe, P.
TI  - Extracellular vesicles in regenerative medicine: a review
PY  - 2020
DO  - 10.9999/exo.roe
ER  -
TY  - JOUR
AU  - Lee, K.
TI  - Bone marrow mesenchymal stem cell-derived exosomes attenuate renal fibrosis in mice
PY  - 2021
DO  - https://doi.org/10.9999/EXO.LEE
ER  -
"""

COMPLETED = {
    "lee-2021": (
        "bone_marrow",
        {
            "condition": "Kidney fibrosis",
            "in_vitro": False,
            "in_vivo": [{"model": "Unilateral ureteral obstruction", "species": "Mice"}],
            "results": "Reduces renal fibrosis",
            # One comparison: a pooled.csv row (an analysis shown without pooling).
            "outcomes": [
                {
                    "outcome": "collagen area",
                    "direction": "lower_is_better",
                    "control": {"n": 8, "mean": 12.0, "sd": 2.0},
                    "treated": [{"label": "EV", "n": 8, "mean": 7.0, "sd": 2.0}],
                }
            ],
        },
    ),
    "park-2022": (
        "umbilical_cord",
        {
            "condition": "Diabetic wound",
            "in_vitro": True,
            "in_vivo": [{"model": "Diabetic wound model", "species": "Rat"}],
            "results": "Accelerates wound closure",
        },
    ),
}


def exosynth(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exosynth.cli", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def decide(path: Path, decision: str, reason: str | None = None, stage: str | None = None) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["screening"]["decision"] = decision
    document["screening"]["reason"] = reason
    if stage:
        document["screening"]["stage"] = stage
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def include_and_move(project: Path, ident: str) -> Path:
    """Complete a draft and move it into raw/<source>/ as a study record."""
    inbox = project / "raw" / "inbox"
    document = yaml.safe_load((inbox / f"{ident}.yaml").read_text(encoding="utf-8"))
    folder, fields = COMPLETED[ident]
    for block in ("screening", "draft"):
        document.pop(block)
    document.update(fields)
    document["clinical"] = None
    target = project / "raw" / folder / f"{ident}.yaml"
    target.write_text(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    (inbox / f"{ident}.yaml").unlink()
    return target


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, project_factory, run_snakemake) -> Path:
    project = project_factory(tmp_path_factory.mktemp("literature") / "project")
    (project / "search.ris").write_text(SEARCH, encoding="utf-8")
    files = ["search.ris"]
    scopus = SHARED / "camaradesuk+ASySD" / "scopus.ris"
    if scopus.is_file():
        files.append(str(scopus))
    imported = exosynth(project, "import", *files)
    assert imported.returncode == 0, imported.stderr + imported.stdout
    inbox = project / "raw" / "inbox"
    again = exosynth(project, "import", *files)
    assert "nothing written" in again.stdout
    drafts = sorted(p.stem for p in inbox.glob("*.yaml"))
    decide(inbox / "roe-2020.yaml", "exclude", "review_article")
    others = [d for d in drafts if d not in {"roe-2020", *COMPLETED}]
    for ident in others[:6]:
        decide(inbox / f"{ident}.yaml", "exclude", "Wrong population")
    if len(others) > 6:
        decide(inbox / f"{others[6]}.yaml", "exclude", "no_data", stage="full_text")
    checked = exosynth(
        project, "check", f"raw/inbox/{others[0]}.yaml" if others else "raw/inbox/roe-2020.yaml"
    )
    assert checked.returncode == 0
    for ident in COMPLETED:
        decide(inbox / f"{ident}.yaml", "include")
        todo = exosynth(project, "check", f"raw/inbox/{ident}.yaml")
        assert "[condition]: warning: included, but condition is still empty" in todo.stdout
        include_and_move(project, ident)
    result = run_snakemake(project)
    assert result.returncode == 0, result.stderr[-3000:]
    return project


def test_prisma_counts_add_up_and_follow_the_decisions(built: Path) -> None:
    values, problems = read_values((built / "results" / "prisma.csv").read_text(), "prisma.csv")
    assert problems == []
    scopus = 10 if (SHARED / "camaradesuk+ASySD" / "scopus.ris").is_file() else 0
    excluded = 1 + min(6, scopus)
    full_text = 1 if scopus > 6 else 0
    assert values["database_results"] == 4 + scopus
    assert values["duplicates"] == 1
    assert values["records_screened"] == 3 + scopus
    assert values["records_excluded"] == excluded
    assert values["awaiting_screening"] == 3 + scopus - excluded - full_text - 2
    assert values["dbr_excluded"] == ([("No in vivo or in vitro data", 1)] if full_text else 0)
    assert values["new_studies"] == 2
    assert values["new_studies_by_source"] == [("Bone marrow", 1), ("Umbilical cord", 1)]
    assert values["previous_studies"] == 26
    assert values["total_studies"] == 28
    # the template's sums hold once the records awaiting screening are set aside
    values["records_excluded"] += values["awaiting_screening"]  # type: ignore[operator]
    assert check_values(values, "prisma.csv") == []
    assert (built / "results" / "figures" / "prisma_flow.png").stat().st_size > 1000
    # SVG as the other figures: only with figures: {svg: true} in the config
    assert not (built / "results" / "figures" / "prisma_flow.svg").exists()


def test_the_two_studies_are_in_their_tables_and_drafts_are_not(built: Path) -> None:
    table1 = (built / "results" / "tables" / "table1.csv").read_text(encoding="utf-8")
    table3 = (built / "results" / "tables" / "table3.csv").read_text(encoding="utf-8")
    assert "Kidney fibrosis" in table1
    assert "Diabetic wound" in table3
    studies = {r["id"] for r in rows(built / "results" / "studies.csv")}
    assert {"lee-2021", "park-2022"} <= studies
    assert "roe-2020" not in studies
    report = (built / "results" / "validation_report.md").read_text(encoding="utf-8")
    assert "Files read: **28**" in report
    assert "Drafts in raw/inbox/" in report


def test_changes_list_the_two_as_added_against_the_review(built: Path) -> None:
    changes = rows(built / "results" / "changes.csv")
    assert [(r["kind"], r["id"], r["change"], r["source"]) for r in changes] == [
        ("study", "lee-2021", "added", "bone_marrow"),
        ("study", "park-2022", "added", "umbilical_cord"),
    ]
    headlines = {
        (r["source"], r["measure"]): r for r in rows(built / "results" / "changes_headlines.csv")
    }
    assert headlines[("all", "n_studies")]["difference"] == "+2"
    # the review's baseline has no pooled.csv: no pooled estimate among the headlines
    assert not [key for key in headlines if key[1].startswith("pooled")]
    assert (
        "| Bone marrow | Studies | 10 | 11 | +1 |" in (built / "results" / "changes.md").read_text()
    )


def test_workbook_has_changes_and_prisma_sheets(built: Path) -> None:
    book = openpyxl.load_workbook(built / "results" / "exosynth.xlsx", read_only=True)
    assert {"Changes", "PRISMA flow"} <= set(book.sheetnames)
    changes = list(book["Changes"].iter_rows(values_only=True))
    assert changes[0] == ("Kind", "Id", "Change", "Source", "Fields changed")
    assert ("Study", "lee-2021", "Added", "Bone marrow", None) in changes
    book.close()


def test_git_tag_baseline_equals_the_same_state_as_a_folder(
    built: Path, tmp_path: Path, run_snakemake
) -> None:
    folder = tmp_path / "sent-to-coauthors"
    shutil.copytree(built / "results", folder / "results")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q"], ["add", "raw", "config"], ["commit", "-qm", "v1"], ["tag", "v1"]):
        subprocess.run([*git, *args], cwd=built, check=True, env=env, capture_output=True)
    (built / "raw" / "umbilical_cord" / "park-2022.yaml").unlink()
    lee = built / "raw" / "bone_marrow" / "lee-2021.yaml"
    lee.write_text(lee.read_text().replace("Kidney fibrosis", "Renal fibrosis"), encoding="utf-8")
    config = built / "config" / "config.yaml"
    original = config.read_text(encoding="utf-8")
    outputs, headlines = {}, {}
    for baseline in ("git:v1", f"folder:{folder}"):
        config.write_text(original.replace("baseline: review", f"baseline: {baseline}"))
        result = run_snakemake(built, "results/changes.csv", "results/changes.md")
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[baseline] = (built / "results" / "changes.csv").read_bytes()
        headlines[baseline] = (built / "results" / "changes_headlines.csv").read_bytes()
    config.write_text(original)
    assert outputs["git:v1"] == outputs[f"folder:{folder}"]
    # the pooled estimates too: the git baseline's build makes its pooled.csv
    assert headlines["git:v1"] == headlines[f"folder:{folder}"]
    assert b"pooled smd:" in headlines["git:v1"]
    assert outputs["git:v1"].decode().split("\n")[1:3] == [
        "study,lee-2021,edited,bone_marrow,condition",
        "study,park-2022,removed,umbilical_cord,",
    ]


def test_changes_show_a_pooled_estimate_that_moved(
    built: Path, tmp_path: Path, run_snakemake
) -> None:
    folder = tmp_path / "sent-to-coauthors"
    shutil.copytree(built / "results", folder / "results")
    lee = built / "raw" / "bone_marrow" / "lee-2021.yaml"
    record = lee.read_text(encoding="utf-8")
    assert "mean: 7.0" in record
    config = built / "config" / "config.yaml"
    original = config.read_text(encoding="utf-8")
    try:
        lee.write_text(record.replace("mean: 7.0", "mean: 9.0"), encoding="utf-8")
        config.write_text(original.replace("baseline: review", f"baseline: folder:{folder}"))
        result = run_snakemake(built, "results/changes.csv")
        assert result.returncode == 0, result.stderr[-3000:]
        moved = {
            r["source"]: r
            for r in rows(built / "results" / "changes_headlines.csv")
            if r["measure"].startswith("pooled smd:") and r["measure"].endswith("collagen area")
        }
    finally:
        lee.write_text(record, encoding="utf-8")
        config.write_text(original)
    assert set(moved) == {"bone_marrow", "all"}
    assert float(moved["all"]["current"]) < float(moved["all"]["baseline"])  # less benefit
    assert moved["all"]["difference"].startswith("-")
    assert "collagen area" in (built / "results" / "changes.md").read_text(encoding="utf-8")


def test_what_an_included_draft_lacks_is_in_the_validation_report(
    built: Path, run_snakemake
) -> None:
    inbox = built / "raw" / "inbox"
    # a draft still as imported and undecided: ../shared's Scopus export leaves some, the
    # test's own RIS file none
    waiting = next(
        (
            p
            for p in sorted(inbox.glob("*.yaml"))
            if yaml.safe_load(p.read_text(encoding="utf-8"))["screening"]["decision"] is None
        ),
        None,
    )
    if waiting is None:
        pytest.skip(
            f"no undecided draft: {SHARED / 'camaradesuk+ASySD' / 'scopus.ris'} is not here"
        )
    original = waiting.read_text(encoding="utf-8")
    try:
        decide(waiting, "include")
        result = run_snakemake(built, "results/validation_report.md")
        assert result.returncode == 0, result.stderr[-3000:]
        report = (built / "results" / "validation_report.md").read_text(encoding="utf-8")
    finally:
        waiting.write_text(original, encoding="utf-8")
    notes = report.split("## Drafts, PRISMA flow and meta-analyses")[1]
    assert f"### `raw/inbox/{waiting.name}`" in notes
    assert "- `condition`: included, but condition is still empty" in notes
    assert "_(screening.incomplete)_" in notes
