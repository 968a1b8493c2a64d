"""End to end on a real SLURM: profiles/slurm against a single-node SLURM on this machine.

benchmarks/slurm_local.sh starts munged, slurmctld and slurmd from Debian's packages under a
temporary folder; the builds go through `snakemake --profile profiles/slurm`, the profile as
shipped, and are compared byte for byte with a local `--cores 2` build of the same project.
Skipped, with the reason, where SLURM cannot be started here (not root, packages or the
executor plugin missing); with EXOSYNTH_REQUIRE_SLURM=1 (set by .ci/run after it installed the
packages) that is a failure instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exosynth.corpus import PARSE_CACHE

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "slurm_local.sh"
PROFILE = REPO / "profiles" / "slurm"
GENERATOR = REPO / "benchmarks" / "generate_corpus.py"
SHARDS = 4  # more ingest jobs than the node has CPUs
SYNTHETIC_PAPERS = 200
# Build bookkeeping, not outputs: they hold times, host names and job ids.
NOT_COMPARED = {"logs", "benchmarks", ".snakemake"}
# On a busy 2-core machine one SLURM job takes 10-30 s and a status check comes every 10-60 s.
BUILD_TIMEOUT = 1500


def unavailable(reason: str) -> None:
    """Skip, or fail where the caller said SLURM must be there (EXOSYNTH_REQUIRE_SLURM=1)."""
    if os.environ.get("EXOSYNTH_REQUIRE_SLURM") == "1":
        pytest.fail(f"EXOSYNTH_REQUIRE_SLURM=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running single-node SLURM for this module; the environment that points at it."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        unavailable(
            "snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]' brings it)"
        )
    if shutil.which("bash") is None:
        unavailable("bash is not installed")
    folder = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(
        ["bash", str(SCRIPT), "up", str(folder)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if started.returncode != 0:
        unavailable(f"benchmarks/slurm_local.sh could not start SLURM: {started.stderr.strip()}")
    env = dict(os.environ)
    env["SLURM_CONF"] = str(folder / "etc" / "slurm.conf")
    # A job submitted without --output writes slurm-<id>.out into the submitting folder (one
    # was once left at the repository's root): send any such log into this test's own folder.
    env["SBATCH_OUTPUT"] = str(folder / "log" / "slurm-%j.out")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    try:
        yield env
    finally:
        subprocess.run(["bash", str(SCRIPT), "down", str(folder)], timeout=180, check=True)


def snakemake(
    project: Path, args: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run Snakemake of this interpreter in ``project``; the process and its wall seconds."""
    if env is None:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        env=env,
        check=False,
    )
    return done, time.perf_counter() - start


def on_slurm(project: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    return snakemake(project, ["--profile", str(PROFILE), "--config", f"shards={SHARDS}"], env)


def locally(project: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    return snakemake(project, ["--cores", "2", "--config", f"shards={SHARDS}"])


def outputs(project: Path) -> dict[str, bytes]:
    """Every file under results/ but the build's logs and benchmarks and the parse cache (it
    holds each raw file's time, which differs between the two copies), by its path there."""
    results = project / "results"
    return {
        path.relative_to(results).as_posix(): path.read_bytes()
        for path in sorted(results.rglob("*"))
        if path.is_file()
        and path.relative_to(results).parts[0] not in NOT_COMPARED
        and not path.is_relative_to(project / PARSE_CACHE)
    }


def submitted(output: str) -> int:
    """Jobs the SLURM executor handed to sbatch."""
    return len(re.findall(r"has been submitted with SLURM jobid \d+", output))


def job_headers(output: str) -> list[str]:
    """The rules of the jobs Snakemake started, from its 'rule X:' / 'localrule X:' headers."""
    return re.findall(r"^\s*(?:local)?rule (\w+):", output, re.M)


def gate_message(output: str) -> list[str]:
    """The publish gate's message: its first line, one line per problem, where to look."""
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if re.match(r"exosynth: \d+ of \d+", line))
    last = next(i for i in range(first, len(lines)) if lines[i].startswith("Every problem"))
    return lines[first : last + 1]


@pytest.fixture
def two_projects(tmp_path: Path, project_factory: Callable[[Path], Path]) -> tuple[Path, Path]:
    """Two copies of the project, each with the shipped raw/ and the same synthetic papers."""
    copies = []
    for name in ("slurm", "local"):
        project = project_factory(tmp_path / name / "project")
        subprocess.run(
            [sys.executable, str(GENERATOR), "--out", str(project),
             "--n", str(SYNTHETIC_PAPERS), "--seed", "14"],
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        copies.append(project)
    return copies[0], copies[1]


def test_slurm_build_equals_local_build(
    slurm_env: dict[str, str], two_projects: tuple[Path, Path], record_property
) -> None:
    cluster, local = two_projects
    assert sorted((cluster / "raw").rglob("*.yaml")) != []
    on_cluster, cluster_seconds = on_slurm(cluster, slurm_env)
    cluster_log = on_cluster.stdout + on_cluster.stderr
    assert on_cluster.returncode == 0, cluster_log[-5000:]
    here, local_seconds = locally(local)
    assert here.returncode == 0, here.stderr[-3000:]

    # Every job ran on SLURM, but those the Snakefile keeps local; as many jobs as locally.
    jobs = submitted(cluster_log)
    local_rules_on_cluster = re.findall(r"^\s*localrule (\w+):", cluster_log, re.M)
    assert jobs >= SHARDS + 1, cluster_log[-5000:]
    assert jobs + len(local_rules_on_cluster) == len(job_headers(here.stdout + here.stderr))
    assert len(list((cluster / "results/interim/ingest").glob("shard-*.parquet"))) == SHARDS
    record_property("slurm_jobs_submitted", jobs)
    record_property("slurm_build_seconds", round(cluster_seconds, 1))
    record_property("local_build_seconds", round(local_seconds, 1))
    print(
        f"\nSLURM build {cluster_seconds:.1f} s ({jobs} jobs submitted), "
        f"local --cores 2 build {local_seconds:.1f} s, "
        f"{SYNTHETIC_PAPERS} synthetic papers + shipped raw/, {SHARDS} shards"
    )

    built_there, built_here = outputs(cluster), outputs(local)
    assert {"validation_report.md", "studies.csv", "exosynth.xlsx"} <= set(built_here)
    assert sorted(built_there) == sorted(built_here)
    assert [name for name in built_here if built_there[name] != built_here[name]] == []


def test_invalid_record_stops_the_slurm_run_as_it_stops_a_local_one(
    slurm_env: dict[str, str], two_projects: tuple[Path, Path], good_record, write_raw
) -> None:
    cluster, local = two_projects
    for project in (cluster, local):
        write_raw(
            project,
            "bone_marrow",
            "typo-2021",
            good_record("typo-2021", ("condition: Liver disease", "conditon: Liver disease")),
        )
    on_cluster, _ = on_slurm(cluster, slurm_env)
    here, _ = locally(local)
    assert here.returncode != 0
    assert on_cluster.returncode != 0

    # Locally the gate prints its message; on SLURM the job's log is printed (show-failed-logs).
    message = gate_message(here.stdout + here.stderr)
    assert any("raw/bone_marrow/typo-2021.yaml" in line and "conditon" in line for line in message)
    cluster_lines = (on_cluster.stdout + on_cluster.stderr).splitlines()
    missing = [line for line in message if not any(line in seen for seen in cluster_lines)]
    assert missing == [], (on_cluster.stdout + on_cluster.stderr)[-5000:]

    # The report is written on the cluster too, and is what the local build wrote.
    assert (cluster / "results" / "validation_report.md").is_file()
    assert not (cluster / "results" / "studies.csv").exists()
    built_there, built_here = outputs(cluster), outputs(local)
    assert "validation_report.md" in built_here
    assert sorted(built_there) == sorted(built_here)
    assert [name for name in built_here if built_there[name] != built_here[name]] == []
