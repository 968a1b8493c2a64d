"""Time the workbook job alone, from a project already built, as rule workbook runs it.

Reads the built project's study table, ledger, trials, changes and PRISMA counts and calls
``exosynth.adapters.write_workbook_file`` (the rule's one adapter call) in this process,
then prints CPU and wall seconds, the peak RSS, the load average and the file's size and
SHA-256. With ``--copies K`` the study table and the changes are first repeated K times
with new ids (10,026 studies become 100,260), so the workbook of a large corpus can be
timed without building one. Run the old and the new source in turns (PYTHONPATH) and
compare the files with tools/compare_workbooks.py:

    PYTHONPATH=src .venv/bin/python benchmarks/workbook_job.py /dev/shm/p10k /tmp/new.xlsx
    PYTHONPATH=/tmp/old/src .venv/bin/python benchmarks/workbook_job.py /dev/shm/p10k /tmp/old.xlsx
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from exosynth import adapters
from exosynth.settings import load_yaml

# What rule workbook reads (STUDY_TABLE: the interim study table, with the quality blocks).
STUDIES = "results/interim/studies.parquet"
INPUTS = ("validation.json", "trials.parquet", "changes.csv", "prisma.csv")


def repeated(project: Path, copies: int, into: Path) -> Path:
    """A copy of the project's inputs with the studies and changes ``copies`` times over."""
    shutil.copytree(project / "config", into / "config")
    (into / "raw").symlink_to((project / "raw").resolve())
    results = into / "results"
    results.mkdir()
    for name in INPUTS:
        shutil.copy(project / "results" / name, results / name)
    studies = pl.read_parquet(project / STUDIES)
    changes = pl.read_csv(results / "changes.csv", infer_schema=False)

    def many(frame: pl.DataFrame) -> pl.DataFrame:
        return pl.concat(
            [frame, *(frame.with_columns(pl.col("id") + f"-r{i}") for i in range(1, copies))]
        )

    (into / STUDIES).parent.mkdir(parents=True)
    many(studies).write_parquet(into / STUDIES)
    many(changes).write_csv(results / "changes.csv")
    return into


def run(project: Path, out: Path) -> str:
    os.chdir(project)
    loaded = load_yaml("config/config.yaml")
    config = {key: loaded.get(key) for key in ("sources", "review", "synthesis")}
    wall, cpu = time.perf_counter(), time.process_time()
    adapters.write_workbook_file(
        STUDIES,
        "results/validation.json",
        config,
        str(out),
        trials_in="results/trials.parquet",
        vocabulary_in="config/vocabulary.yaml",
        changes_in="results/changes.csv",
        prisma_in="results/prisma.csv",
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    data = out.read_bytes()
    return (
        f"cpu {cpu:.2f} s, wall {wall:.2f} s, peak RSS {peak:.0f} MB, "
        f"load {os.getloadavg()[0]:.2f}, {len(data):,} bytes, "
        f"sha256 {hashlib.sha256(data).hexdigest()[:12]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a project built by snakemake")
    parser.add_argument("out", type=Path, help="the workbook to write")
    parser.add_argument("--copies", type=int, default=1, help="studies and changes K times")
    args = parser.parse_args()
    out = args.out.resolve()
    if args.copies > 1:
        with tempfile.TemporaryDirectory() as scratch:
            print(run(repeated(args.project.resolve(), args.copies, Path(scratch)), out))
    else:
        print(run(args.project.resolve(), out))


if __name__ == "__main__":
    main()
