"""What adding a paper WITH outcome data costs, against adding one without (issue 21).

For each corpus size N (the 26 real records plus N synthetic papers of
benchmarks/generate_corpus.py, none with outcome data): copy the project to a temporary
folder, build it, then in turns add one paper without an ``outcomes:`` block and, in another
copy of the same built state, one with it (two outcome entries, a shared control), and time
the re-run (``snakemake --cores C``, wall seconds). Each measurement starts from a project
where the previous added paper was removed and the build re-run, so every add-one re-run
starts from the same state. Prints one line per size: the medians and their ratio.

    .venv/bin/python benchmarks/outcome_benchmark.py --sizes 0 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from project_copy import prepare, snakemake_env  # found next to this script

ADDED = "raw/bone_marrow/benchmark-{k}-2026.yaml"
RECORD = """\
id: benchmark-{k}-2026
source: bone marrow
citation:
  first_author: Benchmark
  year: 2026
condition: Acute kidney injury (Cisplatin-induced)
in_vitro: true
in_vivo:
- model: Cisplatin-induced acute kidney injury
  species: Rat
results: Lower serum creatinine
"""
OUTCOMES = """\
outcomes:
- outcome: Serum creatinine
  timepoint: 72 h
  direction: lower_is_better
  sham: {n: 6, mean: 0.4, sd: 0.1}
  control: {n: 10, mean: 2.6, sd: 0.6}
  treated:
  - {label: 50 ug EV, n: 8, mean: 1.9, sd: 0.5}
  - {label: 100 ug EV, n: 8, mean: 1.4, sem: 0.15}
- outcome: BUN
  timepoint: 72 h
  direction: lower_is_better
  control: {n: 10, mean: 120, sd: 20}
  treated:
  - {n: 8, mean: 85, sd: 18}
"""


def snakemake(project: Path, cores: int) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of Snakemake and every job it ran: CPU
    seconds vary far less than wall seconds on a shared machine)."""
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores)],
        cwd=project,
        env=snakemake_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return time.perf_counter() - start, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def add_one(project: Path, k: int, *, outcomes: bool, cores: int) -> tuple[float, float]:
    """Add paper k, time the re-run, remove it again and re-run (not timed)."""
    path = project / ADDED.format(k=k)
    path.write_text(RECORD.format(k=k) + (OUTCOMES if outcomes else ""), encoding="utf-8")
    seconds = snakemake(project, cores)
    path.unlink()
    snakemake(project, cores)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 1_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"exosynth-outcomes-{n}-") as folder:
            project = prepare(Path(folder) / "project", n)
            full, _ = snakemake(project, args.cores)
            without, with_outcomes = [], []
            for k in range(args.repeats):
                without.append(add_one(project, 2 * k, outcomes=False, cores=args.cores))
                with_outcomes.append(add_one(project, 2 * k + 1, outcomes=True, cores=args.cores))
            load = os.getloadavg()[0]
            for unit, i in (("wall", 0), ("CPU", 1)):
                a = statistics.median(x[i] for x in without)
                b = statistics.median(x[i] for x in with_outcomes)
                print(
                    f"N={n:,} (+26 real), {unit} s: full build {full:.1f} s wall; add one paper "
                    f"without outcomes {a:.2f}, with outcomes {b:.2f} (median of "
                    f"{args.repeats}): {100 * (b / a - 1):+.1f}%  "
                    f"[{', '.join(f'{x[i]:.2f}' for x in without)} | "
                    f"{', '.join(f'{x[i]:.2f}' for x in with_outcomes)}]  load {load:.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
