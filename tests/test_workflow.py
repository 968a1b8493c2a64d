"""End to end: the real Snakemake DAG on a private copy of the project."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# The output contract of results/studies.csv (DESIGN.md, "Outputs").
STUDIES_HEADER = [
    "id", "source", "table", "condition", "in_vitro", "in_vivo", "species", "strain",
    "model_type", "stage", "clinical_patients", "results", "first_author", "year", "ref",
    "doi", "pmid", "raw_file",
    # added by issue 10, after the contract's columns
    "source_donor", "model_induction", "cited_in", "cited_in_ref",
    "review_row",
    # added by issue 21: the condition's group, which the analyses, maps and figures count by
    "condition_group",
]  # fmt: skip
# The finding of `snakemake --lint` the project has decided to accept (README).
KNOWN_LINTS = ("Specify a conda environment or container for each rule.",)


def ledger_of(report: str) -> tuple[int, int, int]:
    """Files read, included and rejected, as the validation report states them."""
    found = re.search(
        r"files read\W+(\d+)\W+included\W+(\d+)\W+rejected\W+(\d+)", report, re.IGNORECASE
    )
    assert found, report[:500]
    read, included, rejected = map(int, found.groups())
    return read, included, rejected


def raw_files(project: Path) -> list[str]:
    """The study records: raw/trials/ holds registry exports and decisions.yaml instead."""
    return sorted(
        p.relative_to(project).as_posix()
        for p in (project / "raw").rglob("*.yaml")
        if p.relative_to(project / "raw").parts[0] != "trials"
    )


def read_studies(project: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (project / "results" / "studies.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def report_section(report: str, path: str) -> str:
    """The part of the report about one file: from its name to the next heading."""
    assert path in report, f"{path} is not in the validation report"
    section = report[report.index(path) :]
    end = section.find("\n#", 1)
    return section if end < 0 else section[:end]


def drop_bad_files(project: Path, good_record, write_raw) -> dict[str, dict[str, tuple]]:
    """Several different bad files at once; for each, what the build output and the report
    must name about it (its field, or its line where the YAML itself is broken)."""

    def added(record_id: str, *edits: tuple[str, str]) -> str:
        # Papers added after the review have neither a row nor a reference number of it:
        # copying damania-2018's would also be a problem of damania-2018 (normalize checks
        # every record against the others, a rejected one too).
        return good_record(record_id, ("review_row: 1\n", ""), ("  ref: 23\n", ""), *edits)

    broken = added("broken-2020", ("  year: 2018", "   year: 2018"))
    line = broken.splitlines().index("   year: 2018") + 1
    write_raw(project, "bone_marrow", "broken-2020", broken)
    write_raw(
        project,
        "bone_marrow",
        "typo-2020",
        added("typo-2020", ("condition: Liver disease", "conditon: Liver disease")),
    )
    write_raw(
        project,
        "adipose",
        "wrongtype-2020",
        added(
            "wrongtype-2020",
            ("source: bone marrow", "source: adipose tissue"),
            ("in_vitro: true", 'in_vitro: "+"'),
        ),
    )
    write_raw(
        project,
        "umbilical_cord",
        "species-2020",
        added(
            "species-2020",
            ("source: bone marrow", "source: umbilical cord"),
            ("species: Rat", "species: Hamsterz"),
        ),
    )
    write_raw(project, "bone_marrow", "twin-2020", added("twin-2020"))
    write_raw(
        project,
        "adipose",
        "twin-2020",
        added("twin-2020", ("source: bone marrow", "source: adipose tissue")),
    )
    return {
        "raw/bone_marrow/broken-2020.yaml": {
            "output": (f"broken-2020.yaml:{line}",),
            "report": (f"line {line}",),
        },
        "raw/bone_marrow/typo-2020.yaml": {"output": ("conditon",), "report": ("conditon",)},
        "raw/adipose/wrongtype-2020.yaml": {"output": ("in_vitro",), "report": ("in_vitro",)},
        "raw/umbilical_cord/species-2020.yaml": {
            "output": ("species", "Hamsterz"),
            "report": ("species", "Hamsterz"),
        },
        "raw/bone_marrow/twin-2020.yaml": {"output": ("id", "twin-2020"), "report": ("id",)},
        "raw/adipose/twin-2020.yaml": {"output": ("id", "twin-2020"), "report": ("id",)},
    }


@pytest.fixture(scope="module")
def built_project(project_factory, run_snakemake, tmp_path_factory):
    """One clean build of the shipped records, shared by the tests that only read or re-run it."""
    project = project_factory(tmp_path_factory.mktemp("built") / "project")
    files = raw_files(project)
    return project, files, run_snakemake(project)


def test_clean_build(built_project):
    project, files, done = built_project
    assert len(files) == 26
    assert done.returncode == 0, done.stderr[-3000:]
    report = (project / "results" / "validation_report.md").read_text(encoding="utf-8")
    assert ledger_of(report) == (len(files), len(files), 0)
    header, rows = read_studies(project)
    assert header == STUDIES_HEADER
    assert len(rows) == len(files)
    assert sorted(row["raw_file"] for row in rows) == files
    # The condition as written stays; its group is a column of its own, and the conditions
    # no group claims are listed in the report, each with its studies and the fix.
    groups = {row["condition"]: row["condition_group"] for row in rows}
    assert groups["Graft vs host disease"] == "Graft-versus-host disease"
    assert groups["Liver disease"] == "Liver disease"
    note = report[report.index("## Conditions no group claims (9)") :]
    assert "config/vocabulary.yaml" in note.split("\n\n")[1]
    assert "| Liver disease | 2 |" in note
    assert "Graft" not in note.split("\n## ")[0]
    html = (project / "results" / "validation_report.html").read_text(encoding="utf-8")
    assert "<h2>Conditions no group claims (9)</h2>" in html
    stats = project / "results" / "stats" / "time_to_translation.csv"
    assert stats.read_text(encoding="utf-8").startswith("condition_group,n_conditions,n_studies,")


def test_bad_files_fail_the_build_and_are_all_reported(
    project, run_snakemake, good_record, write_raw
):
    good = raw_files(project)
    bad = drop_bad_files(project, good_record, write_raw)
    done = run_snakemake(project)
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).splitlines()
    for path, names in bad.items():
        assert any(path in line and all(n in line for n in names["output"]) for line in lines), (
            f"no message names {path} and {names['output']}"
        )

    report = (project / "results" / "validation_report.md").read_text(encoding="utf-8")
    read, included, rejected = ledger_of(report)
    assert (read, included, rejected) == (len(good) + len(bad), len(good), len(bad))
    assert read == included + rejected
    for path, names in bad.items():
        section = report_section(report, path)
        assert all(n in section for n in names["report"]), section
    assert not (project / "results" / "studies.csv").exists()


def test_exclude_builds_without_the_bad_files(project, run_snakemake, good_record, write_raw):
    good = raw_files(project)
    bad = drop_bad_files(project, good_record, write_raw)
    done = run_snakemake(project, "--config", "on_invalid=exclude")
    assert done.returncode == 0, done.stderr[-3000:]
    header, rows = read_studies(project)
    assert header == STUDIES_HEADER
    assert sorted(row["raw_file"] for row in rows) == good
    report = (project / "results" / "validation_report.md").read_text(encoding="utf-8")
    assert ledger_of(report) == (len(good) + len(bad), len(good), len(bad))
    for path in bad:
        assert path in report


def test_rerun_after_a_build_does_nothing(built_project, run_snakemake):
    project, _, first = built_project
    assert first.returncode == 0, first.stderr[-3000:]
    studies = project / "results" / "studies.csv"
    built = studies.stat().st_mtime_ns
    again = run_snakemake(project)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Nothing to be done" in again.stdout + again.stderr
    assert studies.stat().st_mtime_ns == built


def test_lint(project, run_snakemake, record_property):
    """The lint finds nothing but what the README says was decided against (KNOWN_LINTS)."""
    done = run_snakemake(project, "--lint")
    output = done.stdout + done.stderr
    findings = sorted(
        {
            line.strip()[2:].rstrip(":")
            for line in output.splitlines()
            if line.strip().startswith("* ")
        }
    )
    record_property("lint_findings", findings)
    assert [f for f in findings if f not in KNOWN_LINTS] == [], output
    assert done.returncode in {0, 1}, output
    assert "Error" not in output
    assert "Traceback" not in output
    # a non-zero exit is for findings only, never for a Snakefile that does not load
    assert done.returncode == 0 or findings, output


def test_bad_config_or_vocabulary_stops_before_any_rule_runs(project, run_snakemake):
    vocabulary = project / "config" / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    # "adsc" already means adipose: listing it under bone marrow too is ambiguous
    vocabulary.write_text(text.replace("abbreviations: [bm]", "abbreviations: [adsc, bm]"))
    clash = run_snakemake(project, "--dry-run")
    assert clash.returncode != 0
    assert "'adsc' is listed for both" in clash.stdout + clash.stderr
    assert not (project / "results").exists()

    vocabulary.write_text(text, encoding="utf-8")
    config = project / "config" / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("shards: 2", "shards: 0"), encoding="utf-8"
    )
    bad = run_snakemake(project, "--dry-run")
    assert bad.returncode != 0
    assert "shards" in bad.stdout + bad.stderr


@pytest.mark.parametrize(
    ("name", "old", "new", "key"),
    [
        (
            "vocabulary.yaml",
            "  rat:\n    terms: [rat, rats]\n",
            "  rat:\n    terms: [rat, rats]\n  rat:\n    terms: [rattus]\n",
            "rat",
        ),
        ("config.yaml", "shards: 2\n", "shards: 2\nshards: 1\n", "shards"),
    ],
    ids=["vocabulary", "config"],
)
def test_duplicate_key_in_config_or_vocabulary_stops_before_any_rule_runs(  # noqa: PLR0917
    project, run_snakemake, name, old, new, key
):
    path = project / "config" / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    done = run_snakemake(project)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"config/{name}:" in output
    assert f"'{key}' is given twice" in output
    assert not (project / "results").exists()
