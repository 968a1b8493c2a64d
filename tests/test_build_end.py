"""How a build ends, as the review author meets it: one summary line, a results/ folder that is
never half old, a bare `snakemake` that builds, and the gate's list of problems.

The end-to-end tests run the real DAG on a private copy of the project (tests/conftest.py).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import snakemake_bare

from exosynth import adapters
from exosynth.outputs import columns as column_dictionary
from exosynth.problems import Problem

ADDED_PAPER = """\
id: alvarez-2021
source: placenta
citation:
  first_author: Alvarez
  year: 2021
condition: Preeclampsia
in_vitro: true
in_vivo:
- model: Preeclampsia model
  species: Rat
results: Lowers blood pressure
"""
PLACENTA = {"table": 4, "label": "Placenta", "title": "Exosomes derived from placental MSC"}


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def raw_count(project: Path) -> int:
    """Study records only: raw/trials/ holds registry exports and decisions.yaml."""
    return sum(
        p.relative_to(project / "raw").parts[0] != "trials"
        for p in (project / "raw").rglob("*.yaml")
    )


def csv_ids(project: Path) -> list[str]:
    with (project / "results/studies.csv").open(encoding="utf-8", newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def workbook_ids(project: Path) -> list[str]:
    book = openpyxl.load_workbook(project / "results/exosynth.xlsx", read_only=True)
    try:
        rows = list(book["Studies"].iter_rows(values_only=True))
    finally:
        book.close()
    assert rows[0][0] == column_dictionary.COLUMNS["studies.csv"]["id"].label
    return [row[0] for row in rows[1:]]


def edit_config(project: Path, change) -> None:
    path = project / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.e2e
def test_bare_snakemake_builds_says_what_it_built_and_drops_stale_tables(
    project: Path, repo_root: Path
) -> None:
    """`snakemake` alone (profiles/default) builds; the last line counts what was built; a
    table whose source leaves the config leaves results/ too."""
    shutil.copytree(repo_root / "profiles", project / "profiles")
    n_files = raw_count(project)
    done = snakemake_bare(project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert last_line(done) == (
        f"exosynth: {n_files} studies (0 added since the review) in 3 tables, "
        "no registry export, 0 rejected, 0 warnings -> results/exosynth.xlsx"
        "; HTML report: snakemake --report results/report.html"
    )

    # A fourth source with one paper that is not in the review: Table 4, counted as added.
    edit_config(project, lambda c: c["sources"].update(placenta=PLACENTA))
    (project / "raw/placenta").mkdir()
    (project / "raw/placenta/alvarez-2021.yaml").write_text(ADDED_PAPER, encoding="utf-8")
    done = snakemake_bare(project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert last_line(done) == (
        f"exosynth: {n_files + 1} studies (1 added since the review) in 4 tables, "
        "no registry export, 0 rejected, 0 warnings -> results/exosynth.xlsx"
        "; HTML report: snakemake --report results/report.html"
    )
    tables = project / "results/tables"
    assert {p.name for p in tables.glob("table4.*")} == {"table4.csv", "table4.md", "table4.html"}
    table4 = openpyxl.load_workbook(project / "results/exosynth.xlsx")["Table 4"]
    assert [c.value for c in table4[3]][-1] == "yes"

    # The source leaves the config (and its records raw/): its table leaves results/.
    edit_config(project, lambda c: c["sources"].pop("placenta"))
    shutil.rmtree(project / "raw/placenta")
    done = snakemake_bare(project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(tables.glob("table4.*")) == []
    assert sorted(p.name for p in tables.glob("table*.csv")) == [f"table{n}.csv" for n in (1, 2, 3)]


@pytest.mark.e2e
def test_a_failed_build_leaves_no_mix_and_exclude_says_what_it_left_out(
    project: Path, run_snakemake, good_record, write_raw
) -> None:
    good = run_snakemake(project)
    assert good.returncode == 0, good.stderr[-3000:]
    results = project / "results"
    assert csv_ids(project) == workbook_ids(project)

    bad = "raw/bone_marrow/typo-2020.yaml"
    write_raw(
        project,
        "bone_marrow",
        "typo-2020",
        good_record(
            "typo-2020",
            ("review_row: 1\n", ""),  # an added paper: no review row, no reference number,
            ("  ref: 23\n", ""),  # so only this file is rejected
            ("condition: Liver disease", "conditon: Liver disease"),
        ),
    )
    failed = run_snakemake(project)
    assert failed.returncode != 0
    n_files = raw_count(project)
    ledger = json.loads((results / "validation.json").read_text(encoding="utf-8"))
    n_problems = len(ledger["problems"])
    assert n_problems >= 1
    assert ledger["rejected_files"] == [bad]
    counted = f"{n_problems} problem{'s' if n_problems > 1 else ''}"
    assert last_line(failed).startswith(
        f"exosynth: build stopped: 1 of {n_files} raw files invalid ({counted}, 0 warnings)"
    )
    assert last_line(failed).endswith("-> results/validation_report.md")
    # Neither the new nor the last good deliverables: no studies.csv beside an old workbook.
    left = sorted(p.relative_to(results).as_posix() for p in results.rglob("*") if p.is_file())
    delivered = [p for p in left if not p.startswith(("interim/", "logs/", "benchmarks/"))]
    # no empty folder of the last good build's tables, statistics or figures either
    assert not any((results / name).exists() for name in ("tables", "stats", "figures"))
    assert delivered == [
        "validation.json",
        "validation_report.html",
        "validation_report.md",
    ]
    report = (results / "validation_report.md").read_text(encoding="utf-8")
    assert bad in report
    assert "The build stopped" in report
    # the HTML report says the same, counted: its heading counts the errors in the one file
    page = (results / "validation_report.html").read_text(encoding="utf-8")
    errors = f"{n_problems} error{'s' if n_problems > 1 else ''}"
    assert f"<h2>Problems ({errors} in 1 file)</h2>" in page
    assert f"<h3><code>{bad}</code></h3>" in page
    assert "rejected: <b>1</b>" in page
    # The rules beside the gate keep it too: a partial target builds nothing of invalid records.
    partial = run_snakemake(project, "results/evidence_map.html")
    assert partial.returncode != 0
    assert "exosynth: not built: 1 raw file is invalid" in partial.stderr
    assert not (results / "evidence_map.html").exists()
    # ... and rule workbook, after the gate (its changes read the published table), by the gate
    partial = run_snakemake(project, "results/exosynth.xlsx")
    assert partial.returncode != 0
    assert f"exosynth: 1 of {n_files} raw files is invalid" in partial.stderr
    assert not (results / "exosynth.xlsx").exists()
    assert "are listed, with the file each came from, in `results/studies.csv`" not in report

    excluded = run_snakemake(project, "--config", "on_invalid=exclude")
    assert excluded.returncode == 0, excluded.stderr[-3000:]
    output = excluded.stdout + excluded.stderr
    assert f"exosynth: on_invalid=exclude: leaving out 1 invalid raw file ({counted}):" in output
    assert any(line.startswith(f"  {bad}") and "[conditon]" in line for line in output.splitlines())
    assert last_line(excluded) == (
        f"exosynth: {n_files - 1} studies (0 added since the review) in 3 tables, "
        "no registry export, 1 invalid file "
        f"left out (on_invalid=exclude: {bad}; see results/validation_report.md), 0 warnings "
        "-> results/exosynth.xlsx; HTML report: snakemake --report results/report.html"
    )
    assert "typo-2020" not in csv_ids(project)
    assert csv_ids(project) == workbook_ids(project)
    summary = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    assert summary["rejected_files"] == [bad]


# -- the gate's list of problems ---------------------------------------------------------
def _ledger(tmp_path: Path, problems: list[Problem]) -> Path:
    path = tmp_path / "validation.json"
    path.write_text(
        json.dumps(
            {
                "files_read": len(problems),
                "included": 0,
                "rejected": len(problems),
                "raw_checksum": "0" * 64,
                "by_folder": {},
                "rejected_files": sorted({p.file for p in problems}),
                "problems": [asdict(p) for p in problems],
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(("count", "limit"), [(7, 50), (60, 50), (3, 2)])
def test_the_gate_prints_the_first_problems_and_says_how_many_more_and_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: int, limit: int
) -> None:
    problems = [
        Problem(f"raw/bone_marrow/p{i:03d}.yaml", None, "condition", "missing", "add it")
        for i in range(count)
    ]
    ledger = _ledger(tmp_path, problems)
    with pytest.raises(adapters.InvalidRecords):
        adapters.publish_studies(
            str(tmp_path / "none.parquet"),
            str(ledger),
            "results/validation_report.md",
            "fail",
            str(tmp_path / "s.csv"),
            str(tmp_path / "s.parquet"),
            limit=limit,
        )
    printed = capsys.readouterr().err.splitlines()
    shown = [line for line in printed if line.startswith("  raw/")]
    assert shown == [f"  {p.render()}" for p in problems[:limit]]
    more = [line for line in printed if "more problem" in line]
    if count > limit:
        rest = count - limit
        assert more == [
            f"  ... and {rest} more problem{'s' if rest > 1 else ''}, not shown here: every "
            "problem is in results/validation_report.md"
        ]
    else:
        assert more == []
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize(
    ("severity", "on_invalid", "stops"),
    [("error", "fail", True), ("error", "exclude", False), ("warning", "fail", False)],
)
def test_rules_beside_the_gate_stop_when_it_stops(tmp_path, capsys, severity, on_invalid, stops):
    problem = Problem("raw/adipose/a-2020.yaml", 3, "in_vitro", "bad", "fix", severity=severity)
    ledger = _ledger(tmp_path, [problem])
    if stops:
        with pytest.raises(adapters.InvalidRecords):
            adapters.after_the_gate(str(ledger), on_invalid, "results/validation_report.md")
        assert "results/validation_report.md" in capsys.readouterr().err
    else:
        adapters.after_the_gate(str(ledger), on_invalid, "results/validation_report.md")
        assert capsys.readouterr().err == ""


def test_the_last_line_counts_the_warnings_found_after_the_gate(tmp_path: Path) -> None:
    """The gate's warnings plus those of this build's PRISMA and meta-analysis problem files
    (errors apart; a file an earlier build left, older than the summary, is not counted)."""
    summary_in = tmp_path / "summary.json"
    summary = {"studies": 3, "added": 1, "tables": 3, "rejected": 0, "on_invalid": "fail"}
    summary_in.write_text(json.dumps({**summary, "warnings": 1}), encoding="utf-8")

    def note(field: str) -> Problem:
        return Problem("raw/a.yaml", None, field, "no spread", "check the SD", severity="warning")

    stale, prisma, synthesis = (tmp_path / f"{n}.problems.json" for n in ("old", "p", "s"))
    adapters.write_problems([note("outcomes[0]")], stale)
    earlier = summary_in.stat().st_mtime - 60
    os.utime(stale, (earlier, earlier))
    adapters.write_problems([note("outcomes[1]"), Problem("raw/inbox/d.yaml", 1, "f", "m")], prisma)
    adapters.write_problems([note("outcomes[2]"), note("outcomes[3]")], synthesis)

    def line(*later: Path) -> str:
        return adapters.finished_line(
            str(summary_in), "results/exosynth.xlsx", "r.md", later_in=[str(p) for p in later]
        )

    # 1 of the gate, 1 of the flow (its error is no warning), 2 of the meta-analyses
    assert ", 4 warnings -> " in line(prisma, synthesis)
    assert ", 1 warning -> " in line(stale)
