"""Alternating A/B runs of the author's loop (a no-op, then one paper added) on a busy machine.

Each tree (``label=PATH``: a checkout of exosynth, e.g. ``git archive house | tar -x -C
/tmp/house``) gets its own copy of the project with N synthetic papers
(benchmarks/generate_corpus.py) and one full build; then, round by round, with the trees'
order swapped each round, a no-op re-run and a re-run after adding a new paper. Each run
records its wall seconds, the CPU seconds of the whole process tree (``/usr/bin/time``:
user + system of Snakemake and every job it waited for), the load average before and after,
and the CPU seconds of each rule that ran (its ``benchmark:`` file). Jobs import the
package of their tree (PYTHONPATH=<tree>/src).

On a shared machine the wall seconds follow the load; the CPU seconds much less so: compare
medians of both, with the load beside them.

    python benchmarks/loop_ab.py --papers 0 --rounds 3 house=/tmp/house after=.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from project_copy import LOOP_RECORD, prepare, snakemake_env  # found next to this script

SCRIPT = "benchmarks/loop_ab.py"


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def run(project: Path, tree: Path, what: str, cores: int) -> dict:
    """One ``snakemake --cores N`` in ``project`` with ``tree``'s package, measured."""
    env = snakemake_env(PYTHONPATH=str(tree / "src"))
    times = project / "time.txt"
    load, start = load_average(), time.perf_counter()
    done = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%U %S",
            "-o",
            str(times),
            sys.executable,
            "-m",
            "snakemake",
            "--cores",
            str(cores),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    user, system = map(float, times.read_text().split()[-2:])
    rules = {}
    folder = project / "results" / "benchmarks"
    for path in folder.rglob("*.tsv"):
        if path.stat().st_mtime >= time.time() - wall - 1:  # written by this run
            with path.open(encoding="utf-8", newline="") as handle:
                row = next(csv.DictReader(handle, delimiter="\t"))
            rules[path.relative_to(folder).with_suffix("").as_posix()] = float(row["cpu_time"])
    return {
        "what": what,
        "ok": done.returncode == 0,
        "wall_s": round(wall, 2),
        "cpu_s": round(user + system, 2),
        "load_before": load,
        "load_after": load_average(),
        "rules_cpu_s": rules,
        "stderr": done.stderr[-2000:] if done.returncode else "",
    }


def summary(rows: list[dict]) -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["papers"], row["label"], row["what"])].append(row)
    for (papers, label, what), runs in sorted(groups.items()):

        def median(key: str, runs: list[dict] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        print(
            f"{papers:>7,} {label:>10} {what:>6}  runs {len(runs)}  wall {median('wall_s'):6.1f} s"
            f"  cpu {median('cpu_s'):6.1f} s  load {median('load_before'):5.1f}"
            f"  failed {sum(not r['ok'] for r in runs)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", help="label=PATH of an exosynth checkout")
    parser.add_argument("--papers", type=int, default=0, help="synthetic papers besides the 26")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="append the runs here")
    args = parser.parse_args()
    trees = [(label, Path(path).resolve()) for label, path in (t.split("=", 1) for t in args.trees)]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        projects = {}
        for label, tree in trees:
            projects[label] = prepare(Path(tmp) / label, args.papers, tree=tree)
        order = list(trees)
        for label, tree in order:
            rows.append(
                {
                    "papers": args.papers,
                    "label": label,
                    "round": -1,
                    **run(projects[label], tree, "build", args.cores),
                }
            )
        for i in range(args.rounds):
            for label, tree in order if i % 2 == 0 else order[::-1]:
                project = projects[label]
                rows.append(
                    {
                        "papers": args.papers,
                        "label": label,
                        "round": i,
                        **run(project, tree, "noop", args.cores),
                    }
                )
                added = project / "raw" / "bone_marrow" / f"loop-benchmark-{i}.yaml"
                record = LOOP_RECORD.format(
                    record_id=f"loop-benchmark-{i}", first_author=f"Loop{i}", script=SCRIPT
                )
                added.write_text(record, encoding="utf-8")
                rows.append(
                    {
                        "papers": args.papers,
                        "label": label,
                        "round": i,
                        **run(project, tree, "add", args.cores),
                    }
                )
    if args.json:
        with args.json.open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    summary(rows)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
