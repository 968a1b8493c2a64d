"""End to end: outputs do not depend on sharding, folder or time; re-runs do only what changed."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# Every file a user receives; interim files, logs and benchmarks are the build's own business.
PUBLISHED = (
    *("*.csv", "*.parquet", "*.md", "*.json", "*.xlsx", "evidence_map.html"),
    *("tables/*", "stats/*", "figures/*", "synthesis/*", "figures/meta_analysis/*"),
)


def published(project: Path) -> dict[str, bytes]:
    results = project / "results"
    return {
        p.relative_to(results).as_posix(): p.read_bytes()
        for pattern in PUBLISHED
        for p in sorted(results.glob(pattern))
        if p.is_file() and not p.name.startswith(".")  # (Snakemake's stamp in a folder output)
    }


def test_outputs_are_byte_identical_across_shards_and_folders(
    tmp_path: Path, project_factory: Callable[[Path], Path], run_snakemake
) -> None:
    one = project_factory(tmp_path / "one")
    three = project_factory(tmp_path / "elsewhere" / "three")
    assert run_snakemake(one, "--config", "shards=1").returncode == 0
    os.environ["TZ"] = "Pacific/Auckland"  # another clock for the second build's subprocess
    try:
        assert run_snakemake(three, "--config", "shards=3").returncode == 0
    finally:
        del os.environ["TZ"]
    first, second = published(one), published(three)
    assert len(list((three / "results/interim/ingest").glob("shard-*.parquet"))) == 3
    assert "exosynth.xlsx" in first
    assert "evidence_map.html" in first
    assert {
        "tables/table1.md",
        "figures/evidence_gap_map.png",
        "stats/evidence_gap_map.csv",
    } <= set(first)
    assert sorted(first) == sorted(second)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def jobs_run(output: str) -> set[str]:
    """The rules Snakemake ran, from its 'localrule X:' / 'rule X:' job headers."""
    return set(re.findall(r"^\s*(?:local)?rule (\w+):", output, re.M))


def test_adding_a_paper_reruns_one_shard_and_what_depends_on_the_studies(
    project: Path, run_snakemake, good_record, write_raw
) -> None:
    assert run_snakemake(project).returncode == 0
    paper = good_record(
        "smith-2020",
        ("source: bone marrow", "source: umbilical cord"),
        ("first_author: Damania", "first_author: Smith"),
        ("review_row: 1\n", ""),
    )
    write_raw(project, "umbilical_cord", "smith-2020", paper)
    rerun = run_snakemake(project)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    ran = jobs_run(rerun.stdout + rerun.stderr)
    # What depends on the new paper, and nothing else: the registry exports did not change.
    # Rule workbook writes the statistics, tables, PRISMA flow (a draft moved in counts as
    # included), meta-analyses and changes since the baseline too, and last the validation
    # report (the PRISMA and meta-analysis problems); rule figures the quality of the studies
    # and the evidence map.
    # The baseline itself does not change.
    assert ran == {
        "ingest", "validate", "publish", "workbook", "figures", "all",
    }  # fmt: skip
    shards = re.findall(r"shard=(\d+)", rerun.stdout + rerun.stderr)
    assert len(set(shards)) == 1, "only the new paper's shard runs"
    shard_log = (project / f"results/logs/ingest/shard-{shards[0]}.log").read_text(encoding="utf-8")
    # ... and of its files only the new one is parsed; the others come from the parse cache
    assert re.search(r"ingested \d+ files \(1 parsed, \d+ from the parse cache\)", shard_log)
    # ... and the PRISMA diagram, whose counts the paper does not change, is not drawn again
    workbook_log = (project / "results/logs/workbook.log").read_text(encoding="utf-8")
    assert "the diagram from the figure cache" in workbook_log
    table3 = (project / "results/tables/table3.csv").read_text(encoding="utf-8")
    # an added paper follows the review's rows
    assert table3.rstrip().endswith('"Smith et al[23], 2018"')
    # The re-run's outputs are those of a clean build of the same raw files, byte for byte.
    rerun_outputs = published(project)
    shutil.rmtree(project / "results")
    assert run_snakemake(project).returncode == 0
    clean = published(project)
    assert sorted(clean) == sorted(rerun_outputs)
    assert [name for name in clean if clean[name] != rerun_outputs[name]] == []


def test_config_change_of_a_title_rebuilds_tables_not_ingest(project: Path, run_snakemake) -> None:
    assert run_snakemake(project).returncode == 0
    config = project / "config/config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "title: Exosomes derived from adipose mesenchymal stem cells",
            "title: Exosomes from adipose tissue MSC",
        ),
        encoding="utf-8",
    )
    rerun = run_snakemake(project)
    assert rerun.returncode == 0
    ran = jobs_run(rerun.stdout + rerun.stderr)
    assert "workbook" in ran  # the job that writes the tables
    assert "ingest" not in ran
    assert "Table 2** Exosomes from adipose tissue MSC" in (
        project / "results/tables/table2.md"
    ).read_text(encoding="utf-8")


def test_removing_results_folder_is_all_it_takes_to_rebuild(project: Path, run_snakemake) -> None:
    assert run_snakemake(project).returncode == 0
    before = published(project)
    shutil.rmtree(project / "results")
    assert run_snakemake(project).returncode == 0
    assert published(project) == before
