#!/usr/bin/env python3
"""Planted-bug audit: does the fast test suite catch the one-line bugs people really make?

Each bug of ``tools/planted_bugs/bugs.yaml`` is one line of ``src/`` as it is now and the
line a tired developer might write instead (a wrong comparison, a wrong field, an off-by-one,
swapped arguments, a default that hides a missing value, a cache key that ignores an input),
with what a user would see. A bug names its line by text, not by file: the runner finds the
one file under ``src/`` holding it, so the list survives modules being moved or split.

For each bug the runner plants it in a scratch copy of the repository (never the working
tree), runs the unit tests without the end-to-end ones (``-m "not e2e and not cluster" -x``,
with a timeout), and records the first test that failed, or that the bug survived. The test
files whose names share a word with the bug's module run first, so a caught bug costs
seconds; a survivor runs the whole fast suite.

    PYTHON=/work/venv/bin/python tools/planted_bugs.py                 # every bug
    tools/planted_bugs.py --only trials-merge-oldest stats-gap-zero    # some of them
    tools/planted_bugs.py --check                                      # only find each line
    tools/planted_bugs.py --out audit.md                               # the table, also to a file

Exit status: 0 when at least ``--target`` (default 90) percent of the bugs are caught and
every bug's line was found once; 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BUGS = REPO / "tools" / "planted_bugs" / "bugs.yaml"
FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)


@dataclass
class Bug:
    id: str
    kind: str
    original: str
    replacement: str
    user_sees: str
    after: str = ""  # a line before the original, where the original's text is not unique

    @classmethod
    def from_mapping(cls, entry: dict) -> Bug:
        return cls(
            id=entry["id"],
            kind=entry["kind"],
            original=entry["original"],
            replacement=entry["replacement"],
            user_sees=" ".join(entry["user_sees"].split()),
            after=entry.get("after", ""),
        )


@dataclass
class Outcome:
    bug: Bug
    file: str
    verdict: str  # caught, survived, not found, ambiguous, broken, timeout, error
    test: str = ""
    seconds: float = 0.0


def load_bugs(path: Path) -> list[Bug]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    bugs = [Bug.from_mapping(e) for e in entries]
    ids = [b.id for b in bugs]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise SystemExit(f"{path}: ids used twice: {', '.join(duplicated)}")
    for bug in bugs:
        if bug.original.strip() == bug.replacement.strip():
            raise SystemExit(f"{path}: bug {bug.id} replaces its line by the same line")
    return bugs


def locate(root: Path, bug: Bug) -> tuple[list[tuple[Path, int]], str]:
    """Every (file, line index) under ``root/src`` holding the bug's line (or the first after
    the line holding ``after``, in each file that has it)."""
    wanted = bug.original.strip()
    found: list[tuple[Path, int]] = []
    for path in sorted((root / "src").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        start = 0
        if bug.after:
            start = next((i for i, line in enumerate(lines) if bug.after in line), len(lines))
        matches = [(path, i) for i in range(start, len(lines)) if lines[i].strip() == wanted]
        found += matches[:1] if bug.after else matches  # the first one after `after`
    if not found:
        return [], "not found"
    return found, "" if len(found) == 1 else "ambiguous"


def plant(path: Path, index: int, bug: Bug) -> str:
    """Write the bug into the file; returns the file's text before, to restore it."""
    before = path.read_text(encoding="utf-8")
    lines = before.splitlines(keepends=True)
    line = lines[index]
    indent = line[: len(line) - len(line.lstrip())]
    ending = "\n" if line.endswith("\n") else ""
    lines[index] = indent + bug.replacement.strip() + ending
    path.write_text("".join(lines), encoding="utf-8")
    return before


# Test files that test a wing's modules under other names (a speed-up only: every other test
# file runs after them when they all pass).
NEAR_TESTS = {
    "studies": ("test_ingest", "test_normalize", "test_validate", "test_properties"),
    "synthesis": ("test_stats", "test_figures"),
    "outputs": ("test_export", "test_report", "test_figures"),
    "vocabulary": ("test_vocabulary", "test_normalize"),
    "corpus": ("test_ingest", "test_cli"),
    "adapters": ("test_build_end",),
    "problems": ("test_ingest", "test_report"),
    "checks": ("test_validate", "test_normalize"),
}


def test_groups(root: Path, module: Path) -> list[list[str]]:
    """The test files in two runs: those sharing a word with the module's path (or listed in
    :data:`NEAR_TESTS`) first, then all the others, so a caught bug costs one short run."""
    words = {p.removesuffix(".py") for p in module.relative_to(root / "src").parts} - {"exosynth"}
    names = {n for w in words for n in NEAR_TESTS.get(w, ())}
    tests = sorted(p.relative_to(root).as_posix() for p in (root / "tests").glob("test_*.py"))
    near = [t for t in tests if any(w in t for w in words) or Path(t).stem in names]
    return [group for group in (near, [t for t in tests if t not in near]) if group]


def shared_dir() -> str:
    """The reference material (../shared) of the checkout, passed on so no test skips."""
    for candidate in (os.environ.get("EXOSYNTH_SHARED", ""), REPO.parent / "shared",
                      REPO.parent.parent / "shared"):  # fmt: skip
        if candidate and Path(candidate).is_dir():
            return str(Path(candidate).resolve())
    return ""


def run_tests(root: Path, tests: list[str], timeout: int) -> tuple[str, str, float]:
    """(verdict, first failing test, seconds) of the fast suite in the copy."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root / "src")
    env["EXOSYNTH_SHARED"] = shared_dir()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [
        sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
        "-m", "not e2e and not cluster", "-o", "addopts=--strict-markers", "--tb=no", "-rfE",
        *tests,
    ]  # fmt: skip
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "timeout", "", time.monotonic() - started
    seconds = time.monotonic() - started
    failed = FAILED.findall(done.stdout)
    if done.returncode == 0:
        return "survived", "", seconds
    if done.returncode == 1 and failed and "::" in failed[0]:
        return "caught", failed[0], seconds
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
    return "error", f"pytest exit {done.returncode}: {tail[0][:120]}", seconds


def copy_repository(dest: Path) -> Path:
    """The working tree's files that git tracks or would track (its uncommitted edits too),
    without results/, caches or virtual environments."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode("utf-8")  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def audit(bugs: list[Bug], root: Path, *, check_only: bool, timeout: int) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for number, bug in enumerate(bugs, start=1):
        found, trouble = locate(root, bug)
        if trouble:
            where = ", ".join(f"{p.relative_to(root)}:{i + 1}" for p, i in found)
            outcomes.append(Outcome(bug, where, trouble))
            print(f"[{number}/{len(bugs)}] {bug.id}: {trouble} {where}", file=sys.stderr)
            continue
        path, index = found[0]
        module = path.relative_to(root).as_posix()
        if check_only:
            outcomes.append(Outcome(bug, f"{module}:{index + 1}", "found"))
            continue
        before = plant(path, index, bug)
        try:
            try:
                compile(path.read_text(encoding="utf-8"), str(path), "exec")
            except SyntaxError as error:
                outcomes.append(Outcome(bug, module, "broken", str(error)))
                continue
            verdict, test, seconds = "survived", "", 0.0
            for group in test_groups(root, path):
                verdict, test, spent = run_tests(root, group, timeout)
                seconds += spent
                if verdict != "survived":
                    break
            outcomes.append(Outcome(bug, f"{module}:{index + 1}", verdict, test, seconds))
            print(
                f"[{number}/{len(bugs)}] {bug.id}: {verdict} {test} ({seconds:.0f} s)",
                file=sys.stderr,
            )
        finally:
            path.write_text(before, encoding="utf-8")
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| bug | where | kind | what a user would see | verdict | first failing test | s |",
        "|---|---|---|---|---|---|---:|",
    ]
    for o in outcomes:
        cells = [o.bug.id, f"`{o.file}`", o.bug.kind, o.bug.user_sees, o.verdict,
                 f"`{o.test}`" if o.test else "", f"{o.seconds:.0f}"]  # fmt: skip
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    caught = sum(o.verdict == "caught" for o in outcomes)
    planted = sum(o.verdict in ("caught", "survived", "timeout") for o in outcomes)
    share = 100 * caught / planted if planted else 0.0
    lines += ["", f"Caught {caught} of {planted} planted bugs ({share:.0f}%); "
              f"{sum(o.verdict == 'survived' for o in outcomes)} survived; "
              f"{sum(o.seconds for o in outcomes):.0f} s of tests."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bugs", type=Path, default=BUGS, help="the list (YAML)")
    parser.add_argument("--only", nargs="*", default=[], help="ids of the bugs to plant")
    parser.add_argument("--check", action="store_true", help="only find each bug's line")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per bug")
    parser.add_argument("--target", type=float, default=90.0, help="percent to catch")
    parser.add_argument("--out", type=Path, help="also write the table here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the run of the unchanged copy"
    )
    args = parser.parse_args(argv)
    bugs = load_bugs(args.bugs)
    if args.only:
        unknown = sorted(set(args.only) - {b.id for b in bugs})
        if unknown:
            parser.error(f"no such bug: {', '.join(unknown)}")
        bugs = [b for b in bugs if b.id in args.only]
    scratch = Path(tempfile.mkdtemp(prefix="exosynth-planted-"))
    # Stopped with kill (SIGTERM): unwind, so the scratch copy is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        root = copy_repository(scratch / "repo")
        if not (args.check or args.no_baseline):
            # Without a green baseline every bug would look caught.
            every = [t for group in test_groups(root, root / "src") for t in group]
            verdict, test, seconds = run_tests(root, every, args.timeout)
            print(f"baseline: {verdict} {test} ({seconds:.0f} s)", file=sys.stderr)
            if verdict != "survived":
                print(f"the unchanged copy does not pass: {test}", file=sys.stderr)
                return 1
        outcomes = audit(bugs, root, check_only=args.check, timeout=args.timeout)
    finally:
        if args.keep:
            print(f"scratch copy kept: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    text = table(outcomes)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if any(o.verdict in ("not found", "ambiguous", "broken", "error") for o in outcomes):
        return 1
    if args.check:
        return 0
    caught = sum(o.verdict == "caught" for o in outcomes)
    return 0 if outcomes and 100 * caught / len(outcomes) >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
