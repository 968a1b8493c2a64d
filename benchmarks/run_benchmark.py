"""Benchmark the full exosynth build on synthetic corpora of N papers.

For each N: copy the project (Snakefile, config, schemas, workflow, raw with the
26 real records) to a temporary folder, add N synthetic papers
(benchmarks/generate_corpus.py), then measure

- the floor: reading and parsing every raw file with LibYAML (``yaml.CSafeLoader``) in
  one fresh process;
- the full ``snakemake --cores C``: wall seconds, peak memory, records per second;
- per rule: the ``benchmark:`` files of Snakemake (results/benchmarks/*.tsv) where the
  Snakefile has them, and each job's wall time as Snakemake's own output shows it, for the
  full build and for the add-one re-run;
- a no-op re-run; a re-run after touching one raw file (new mtime, same content: the
  shard's digest of paths, sizes and times changes, so that shard is parsed again); a
  re-run after editing that file (a comment appended); a re-run after adding one new
  paper (the review author's loop), with the jobs each re-run ran and the ratio of the
  add-one re-run to the no-op;
- ``exosynth check FILE`` on the added paper, started as a new process (the author's
  fast check before a build), where the installed package has that command.

Peak memory is reported twice: the largest single process (``/usr/bin/time -v``, or
``getrusage(RUSAGE_CHILDREN)`` where it is missing) and the sum over the whole process
tree, sampled every 50 ms (jobs run side by side with --cores 2).

Slowness never fails the run: the exit status is 0 unless a build fails (1) or
--check-report misses a bad record in the validation report (2).

    .venv/bin/python benchmarks/run_benchmark.py --sizes 0 1000 10000 100000 --cores 2
    .venv/bin/python benchmarks/run_benchmark.py --sizes 10000 --check-report --keep

N = 0 is the 26 real records alone.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil  # a dependency of Snakemake

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_corpus  # found next to this script
from project_copy import LOOP_RECORD, copy_project, snakemake_env

TIME = Path("/usr/bin/time")
TOUCHED = "raw/bone_marrow/damania-2018.yaml"  # a real record: present at every N
ADDED = "raw/bone_marrow/benchmark-2026.yaml"  # the paper the author's loop adds
ADDED_RECORD = LOOP_RECORD.format(
    record_id="benchmark-2026", first_author="Benchmark", script="benchmarks/run_benchmark.py"
)
REPORT = "results/validation_report.md"
MB = 1024 * 1024

# Targets of the issue, checked on the largest N (and on N = 0 for the small build).
TARGET_RATIO = 2.0
TARGET_RSS_MB = 1536
TARGET_NOOP_S = 3.0
TARGET_SMALL_BUILD_S = 10.0
# The author's loop (add one paper, re-run): ratio to a no-op at N = 0 and 10,000, and to
# the parse floor at 100,000; `exosynth check FILE` wall seconds at N = 0 and 100,000.
TARGET_ADD_TO_NOOP = {0: 3.0, 10_000: 4.0}
TARGET_ADD_TO_FLOOR = 1.5
TARGET_CHECK_S = {0: 1.0, 100_000: 2.0}

_JOB_START = re.compile(r"^(?:local)?rule (\w+):\s*$")
_JOBID = re.compile(r"^\s+jobid: (\d+)\s*$")
_WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")
_FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)")
_FINISHED_OLD = re.compile(r"^Finished job (\d+)\.")
_LOG_DONE = re.compile(r"rule (\w+) done in ([0-9.]+) s")
_MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


# -- running snakemake -----------------------------------------------------------
@dataclass
class Job:
    rule: str
    jobid: str = ""
    wildcards: str = ""
    start: float = 0.0
    end: float | None = None

    @property
    def name(self) -> str:
        return f"{self.rule}[{self.wildcards}]" if self.wildcards else self.rule

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else self.end - self.start


@dataclass
class Run:
    """One ``snakemake`` invocation, timed and watched."""

    returncode: int
    wall_s: float
    max_rss_mb: float | None  # the largest single process
    max_rss_how: str
    tree_rss_mb: float  # the whole process tree, sampled
    first_job_s: float | None  # start-up and DAG before the first job began
    jobs: list[Job]
    log: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def ran(self) -> list[str]:
        return [job.name for job in self.jobs if job.rule != "all"]


class _TreeSampler(threading.Thread):
    """The largest summed RSS of a process and its descendants, polled until stopped."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop_event.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop_event.wait(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def run_snakemake(workdir: Path, cores: int, name: str, extra: Sequence[str] = ()) -> Run:
    """Run the build in ``workdir``; the output goes to ``benchmark-logs/<name>.log``."""
    logs = workdir / "benchmark-logs"
    logs.mkdir(exist_ok=True)
    log_path, time_path = logs / f"{name}.log", logs / f"{name}.time"
    # Snakemake's own log on the terminal (terminal=full): the job headers and "Finished
    # jobid" lines the per-job seconds are read from, which the default terminal leaves out.
    # Not a param of any rule, so it re-runs nothing.
    command = [
        sys.executable, "-m", "snakemake", "--cores", str(cores), "--config", "terminal=full",
        *extra,
    ]  # fmt: skip
    use_time = TIME.exists()
    if use_time:
        command = [str(TIME), "-v", "-o", str(time_path), *command]
    env = snakemake_env(PYTHONUNBUFFERED="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

    jobs: dict[str, Job] = {}
    order: list[Job] = []
    current: Job | None = None
    first_job: float | None = None
    start = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        assert process.stdout is not None
        for line in process.stdout:
            now = time.perf_counter() - start
            log.write(f"[{now:9.3f}] {line}")
            if match := _JOB_START.match(line):
                current = Job(match[1], start=now)
                order.append(current)
                first_job = now if first_job is None else first_job
            elif current and (match := _JOBID.match(line)):
                current.jobid = match[1]
                jobs[match[1]] = current
            elif current and (match := _WILDCARDS.match(line)):
                current.wildcards = match[1].strip()
            elif (match := _FINISHED.match(line) or _FINISHED_OLD.match(line)) and (
                match[1] in jobs
            ):
                jobs[match[1]].end = now
        returncode = process.wait()
        wall = time.perf_counter() - start
        tree_peak = sampler.stop()

    max_rss, how = None, ""
    if use_time and time_path.exists() and (found := _MAX_RSS.search(time_path.read_text())):
        max_rss, how = int(found[1]) / 1024, "/usr/bin/time -v"
    else:
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        max_rss = after / 1024
        how = "getrusage(RUSAGE_CHILDREN)" + ("" if after > before else ", max over earlier runs")
    return Run(returncode, wall, max_rss, how, tree_peak / MB, first_job, order, log_path)


# -- the measurements ------------------------------------------------------------
def raw_files(workdir: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(workdir / "raw"):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(
            Path(folder, name)
            for name in files
            if name.endswith((".yaml", ".yml")) and not name.startswith(".")
        )
    return sorted(found)


# The floor runs in a fresh interpreter, as every job of the build does. In this process,
# right after generating 100,000 files, the same loop once took 27.7 s against 19.4 s in a
# fresh one: a slower floor flatters the build/floor ratio.
_FLOOR = """
import sys, time, yaml
paths = sys.stdin.read().splitlines()
start = time.perf_counter()
for path in paths:
    with open(path, "rb", buffering=0) as handle:
        try:
            yaml.load(handle.read(), Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            pass
print(time.perf_counter() - start)
"""


def parse_floor(paths: Sequence[Path]) -> float:
    """Seconds to read and parse every file with LibYAML in one fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _FLOOR],
        input="\n".join(str(p) for p in paths),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def benchmark_files(workdir: Path) -> list[dict[str, str]]:
    """Rows of Snakemake's ``benchmark:`` files, named by their path under results/benchmarks."""
    folder = workdir / "results" / "benchmarks"
    rows = []
    for path in sorted(folder.rglob("*.tsv")) if folder.is_dir() else []:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                rows.append({"rule": path.relative_to(folder).with_suffix("").as_posix(), **row})
    return rows


def rule_log_seconds(workdir: Path) -> dict[str, float]:
    """In-script seconds from the rules' own logs ("rule X done in Y s")."""
    found = {}
    folder = workdir / "results" / "logs"
    for path in sorted(folder.rglob("*.log")) if folder.is_dir() else []:
        for match in _LOG_DONE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            found[path.relative_to(folder).with_suffix("").as_posix()] = float(match[2])
    return found


@dataclass
class Result:
    n: int
    files: int = 0
    generate_s: float = 0.0
    floor_s: float = 0.0
    build: Run | None = None
    noop: Run | None = None
    touch: Run | None = None
    edit: Run | None = None
    add: Run | None = None
    check_one_s: float | None = None
    check: Run | None = None
    check_missing: list[str] = field(default_factory=list)
    benchmarks: list[dict[str, str]] = field(default_factory=list)
    rule_logs: dict[str, float] = field(default_factory=dict)
    workdir: str = ""

    @property
    def ratio(self) -> float | None:
        return self.build.wall_s / self.floor_s if self.build and self.floor_s else None

    @property
    def add_to_noop(self) -> float | None:
        return self.add.wall_s / self.noop.wall_s if self.add and self.noop else None

    @property
    def add_to_floor(self) -> float | None:
        return self.add.wall_s / self.floor_s if self.add and self.floor_s else None

    @property
    def records_per_s(self) -> float | None:
        return self.files / self.build.wall_s if self.build and self.build.ok else None


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def measure(n: int, args: argparse.Namespace, check_report: bool) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"exosynth-bench-{n}-", dir=args.workdir))
    result = Result(n, workdir=str(workdir))
    print(f"\n=== N = {n:,} synthetic papers (+ the real records) in {workdir}", flush=True)
    copy_project(workdir)
    start = time.perf_counter()
    generate_corpus.generate(workdir, n, seed=args.seed)
    result.generate_s = time.perf_counter() - start
    paths = raw_files(workdir)
    result.files = len(paths)
    print(
        f"generated {n:,} papers in {result.generate_s:.1f} s; {result.files:,} raw files",
        flush=True,
    )
    result.floor_s = parse_floor(paths)
    print(f"floor (LibYAML parse of every file, one process): {result.floor_s:.2f} s", flush=True)

    result.build = run_snakemake(workdir, args.cores, "build")
    print(f"full build: {result.build.wall_s:.1f} s, exit {result.build.returncode}", flush=True)
    if not result.build.ok:
        print(f"BUILD FAILED; last lines of {result.build.log}:\n{_tail(result.build.log)}")
        return result
    result.benchmarks = benchmark_files(workdir)
    result.rule_logs = rule_log_seconds(workdir)

    result.noop = run_snakemake(workdir, args.cores, "noop")
    print(
        f"no-op re-run: {result.noop.wall_s:.1f} s, jobs run: "
        f"{', '.join(result.noop.ran) or 'none'}",
        flush=True,
    )

    # Snakemake 9 keeps input checksums: a new mtime on unchanged content reruns nothing.
    os.utime(workdir / TOUCHED)
    result.touch = run_snakemake(workdir, args.cores, "touch")
    print(
        f"touch {TOUCHED} (mtime only): {result.touch.wall_s:.1f} s, jobs run: "
        f"{', '.join(result.touch.ran) or 'none'}",
        flush=True,
    )
    with (workdir / TOUCHED).open("a", encoding="utf-8") as handle:
        handle.write("# edited by benchmarks/run_benchmark.py\n")
    result.edit = run_snakemake(workdir, args.cores, "edit")
    print(
        f"edit {TOUCHED} (a comment added): {result.edit.wall_s:.1f} s, jobs run: "
        f"{', '.join(result.edit.ran) or 'none'}",
        flush=True,
    )

    (workdir / ADDED).write_text(ADDED_RECORD, encoding="utf-8")
    result.add = run_snakemake(workdir, args.cores, "add")
    print(
        f"add one paper ({ADDED}): {result.add.wall_s:.1f} s, jobs run: "
        f"{', '.join(result.add.ran) or 'none'}",
        flush=True,
    )
    result.check_one_s = time_check(workdir, ADDED)
    if result.check_one_s is not None:
        print(f"exosynth check {ADDED}: {result.check_one_s:.2f} s", flush=True)

    if check_report:
        run_check(workdir, args, result)
    return result


def time_check(workdir: Path, record: str) -> float | None:
    """Wall seconds of ``exosynth check FILE`` as a new process; None where it is missing."""
    command = Path(sys.executable).parent / "exosynth"
    if not command.exists():
        print("exosynth check: no `exosynth` command in this environment; not timed")
        return None
    start = time.perf_counter()
    done = subprocess.run(
        [str(command), "check", record], cwd=workdir, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        print(f"exosynth check exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return wall


def run_check(workdir: Path, args: argparse.Namespace, result: Result) -> None:
    """Inject bad records and check that the report names every one, with its field."""
    if result.n < 1:
        print("--check-report needs a synthetic corpus (N >= 1); skipped")
        return
    bad = generate_corpus.inject_bad(workdir, args.bad, seed=args.seed)
    result.check = run_snakemake(
        workdir, args.cores, "check", ["--config", "on_invalid=exclude", "terminal=full"]
    )
    print(
        f"\n--check-report: {len(bad)} bad records added to {result.files:,} files; build with "
        f"on_invalid=exclude: {result.check.wall_s:.1f} s, exit {result.check.returncode}"
    )
    report = workdir / REPORT
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    sections = _report_sections(text)
    for record in bad:
        relative = record.path.relative_to(workdir).as_posix()
        section = sections.get(relative)
        if section is None:
            result.check_missing.append(relative)
            verdict = "MISSING from the report"
        elif record.field and f"`{record.field}`" not in section:
            result.check_missing.append(relative)
            verdict = f"reported, but not with field {record.field}"
        else:
            verdict = "reported"
        print(f"  {verdict:<28} {relative}  ({record.kind}; field {record.field or '(file)'})")
    outcome = "FAIL" if result.check_missing or not result.check.ok else "PASS"
    print(
        f"check-report: {outcome}: {len(bad) - len(result.check_missing)} of {len(bad)} bad "
        f"records in {REPORT}"
    )


def _report_sections(text: str) -> dict[str, str]:
    """The report's problems, by file: the text under each ``### `path` `` heading."""
    sections: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("### `") and line.rstrip().endswith("`"):
            current = line.strip()[5:-1]
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


# -- printing --------------------------------------------------------------------
def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_details(result: Result) -> None:
    build = result.build
    print(f"\n--- N = {result.n:,}: {result.files:,} files")
    if build is None:
        return
    print(f"  {'floor s':<34}{_f(result.floor_s, 2)}")
    print(f"  {'build s':<34}{_f(build.wall_s)}  (exit {build.returncode})")
    print(f"  {'ratio build/floor':<34}{_f(result.ratio, 2)}")
    print(f"  {'records/s':<34}{_f(result.records_per_s, 0)}")
    print(f"  {'peak RSS MB, largest process':<34}{_f(build.max_rss_mb, 0)}  ({build.max_rss_how})")
    print(f"  {'peak RSS MB, all processes':<34}{_f(build.tree_rss_mb, 0)}  (sampled every 50 ms)")
    print(f"  {'start-up + DAG s (1st job)':<34}{_f(build.first_job_s, 2)}")
    print(f"  {'no-op s':<34}{_f(result.noop.wall_s if result.noop else None)}")
    for label, run in (
        ("touch-one s (mtime only)", result.touch),
        ("edit-one s (comment added)", result.edit),
        ("add-one s (a new paper)", result.add),
    ):
        print(
            f"  {label:<34}{_f(run.wall_s if run else None)}"
            f"  ran: {(', '.join(run.ran) or 'nothing') if run else '-'}"
        )
    print(f"  {'add-one / no-op':<34}{_f(result.add_to_noop, 2)}")
    print(f"  {'add-one / floor':<34}{_f(result.add_to_floor, 2)}")
    print(f"  {'exosynth check FILE s':<34}{_f(result.check_one_s, 2)}")
    if result.benchmarks:
        print("  per rule, Snakemake benchmark: files (s, max_rss MB):")
        for row in result.benchmarks:
            print(f"    {row['rule']:<30}{_f(float(row['s']), 2):>9}  {row.get('max_rss', '-'):>9}")
    else:
        print("  per rule: no benchmark files (results/benchmarks/*.tsv)")
    print("  per job, wall s from Snakemake's output (start to 'Finished'; includes start-up):")
    for job in build.jobs:
        print(f"    {job.name:<30}{_f(job.seconds, 2):>9}")
    if result.rule_logs:
        print('  per rule, in-script s from results/logs ("rule X done in Y s"):')
        for rule, seconds in result.rule_logs.items():
            print(f"    {rule:<30}{_f(seconds, 2):>9}")
    if result.add and result.add.jobs:  # where the author's loop spends its time
        print("  add-one re-run, per job, wall s from Snakemake's output (includes start-up):")
        for job in result.add.jobs:
            print(f"    {job.name:<30}{_f(job.seconds, 2):>9}")
        print(f"    {'first job started at':<30}{_f(result.add.first_job_s, 2):>9}")


COLUMNS = (
    "papers",
    "files",
    "floor s",
    "build s",
    "build/floor",
    "records/s",
    "peak RSS MB (largest process)",
    "peak RSS MB (all processes)",
    "no-op s",
    "touch-one s",
    "edit-one s",
    "add-one s",
    "add-one/no-op",
    "check-one s",
)


def _row(result: Result) -> list[str]:
    build = result.build
    return [
        f"{result.n:,}",
        f"{result.files:,}",
        _f(result.floor_s, 2),
        _f(build.wall_s) + ("" if build is None or build.ok else " (failed)") if build else "-",
        _f(result.ratio, 2),
        _f(result.records_per_s, 0),
        _f(build.max_rss_mb, 0) if build else "-",
        _f(build.tree_rss_mb, 0) if build else "-",
        _f(result.noop.wall_s) if result.noop else "-",
        _f(result.touch.wall_s) if result.touch else "-",
        _f(result.edit.wall_s) if result.edit else "-",
        _f(result.add.wall_s) if result.add else "-",
        _f(result.add_to_noop, 2),
        _f(result.check_one_s, 2),
    ]


def print_tables(results: list[Result], cores: int) -> None:
    rows = [_row(r) for r in results]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    print("\n=== summary")
    print("  ".join(c.rjust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
    print(f"\nMarkdown (snakemake --cores {cores}; {os.cpu_count()} CPUs on this machine):\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---:" for _ in COLUMNS) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def print_targets(results: list[Result]) -> None:
    """Targets of the issue, as PASS/MISS lines; never an error."""
    done = [r for r in results if r.build and r.build.ok]
    if not done:
        return
    print("\n=== targets")
    small = next((r for r in done if r.n == 0), None)
    if small:
        _target(
            f"{small.files}-paper build <= {TARGET_SMALL_BUILD_S:g} s",
            small.build.wall_s,
            TARGET_SMALL_BUILD_S,
        )
    large = max(done, key=lambda r: r.n)
    if large.n:
        note = "" if large.n >= 100_000 else f" (measured at N = {large.n:,}; target is 100,000)"
        _target(f"build/floor <= {TARGET_RATIO:g}{note}", large.ratio, TARGET_RATIO)
        _target(
            f"peak RSS (all processes) <= {TARGET_RSS_MB} MB{note}",
            large.build.tree_rss_mb,
            TARGET_RSS_MB,
        )
        if large.noop:
            _target(f"no-op re-run <= {TARGET_NOOP_S:g} s{note}", large.noop.wall_s, TARGET_NOOP_S)
        if large.n >= 100_000:
            _target(
                f"add one paper / floor <= {TARGET_ADD_TO_FLOOR:g}",
                large.add_to_floor,
                TARGET_ADD_TO_FLOOR,
            )
    for result in done:
        if result.n in TARGET_ADD_TO_NOOP:
            limit = TARGET_ADD_TO_NOOP[result.n]
            _target(
                f"add one paper / no-op <= {limit:g} at N = {result.n:,}", result.add_to_noop, limit
            )
        if result.n in TARGET_CHECK_S:
            limit = TARGET_CHECK_S[result.n]
            _target(
                f"exosynth check FILE <= {limit:g} s at N = {result.n:,}", result.check_one_s, limit
            )


def _target(what: str, value: float | None, limit: float) -> None:
    verdict = "-" if value is None else ("PASS" if value <= limit else "MISS")
    print(f"  {verdict:<5}{what}: {_f(value, 2)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[0, 1_000, 10_000, 100_000],
        help="numbers of synthetic papers (0: the real records alone)",
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the temporary projects go (default: the system temp dir)",
    )
    parser.add_argument(
        "--check-report",
        action="store_true",
        help="add --bad invalid records to the largest corpus, build with "
        "on_invalid=exclude and check the report names each one",
    )
    parser.add_argument("--bad", type=int, default=5, help="invalid records for --check-report")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    sizes = sorted(set(args.sizes))
    results: list[Result] = []
    for n in sizes:
        result = measure(n, args, check_report=args.check_report and n == sizes[-1])
        results.append(result)
        print_details(result)
        if args.keep:
            print(f"kept: {result.workdir}")
        else:
            shutil.rmtree(result.workdir, ignore_errors=True)
        if not (result.build and result.build.ok):
            break  # larger corpora would fail the same way
    print_tables(results, args.cores)
    print_targets(results)
    if args.json:
        args.json.write_text(
            json.dumps([asdict(r) for r in results], indent=1, default=str) + "\n", encoding="utf-8"
        )

    runs = [
        run for r in results for run in (r.build, r.noop, r.touch, r.edit, r.add, r.check) if run
    ]
    if any(not run.ok for run in runs):
        return 1
    if any(r.check_missing for r in results):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
