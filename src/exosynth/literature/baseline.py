"""Where the baseline of results/changes.md comes from, and its tables made ready for rule
changes. Cheap to import (the Snakefile uses it while building the DAG): standard library only.

``review``: the tables shipped in ``config/baseline/review/``; ``folder:<path>``: an earlier
``results/``; ``git:<ref>``: the records of ``raw/`` at that commit, built by this checkout.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

BASELINE_TABLES = ("studies.csv", "trials.csv", "translation_gap.csv", "synthesis/pooled.csv")
REVIEW_BASELINE = "config/baseline/review"


def baseline_commit(baseline: str) -> str:
    """The commit a ``git:<ref>`` baseline names (a rule parameter: a moved tag rebuilds the
    baseline), or ``""`` for the other kinds and outside a git checkout."""
    kind, _, ref = baseline.partition(":")
    if kind != "git":
        return ""
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip()


def baseline_source(baseline: str) -> str:
    """The folder a ``review`` or ``folder:<path>`` baseline reads its tables from."""
    kind, _, value = baseline.partition(":")
    return REVIEW_BASELINE if kind == "review" else value


def _build_at_commit(commit: str, ref: str, folder: Path) -> Path:
    """The results of the records of ``raw/`` at ``commit``, built by this checkout's code and
    config in ``folder``; returns its results folder."""
    if not commit:
        raise ValueError(
            f"baseline git:{ref}: no such commit, tag or branch in this repository "
            "(config/config.yaml literature.baseline)"
        )
    skip = {"raw", "results", ".git", ".snakemake", ".venv", ".pytest_cache", ".ruff_cache"}
    for item in sorted(Path.cwd().iterdir()):
        if item.name in skip:
            continue
        target = folder / item.name
        if item.is_dir():
            shutil.copytree(item, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, target)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "raw"], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    targets = [f"results/{name}" for name in BASELINE_TABLES]
    # The translation gap comes from rule workbook, whose changes compare with a baseline: the
    # review's there (that build's changes are not read), not this one again, to no end.
    review = ["--config", "literature={baseline: review}"]
    built = subprocess.run(
        [sys.executable, "-m", "snakemake", *targets, "--cores", "1", "--quiet", "all", *review],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise RuntimeError(
            f"baseline git:{ref}: the records of {commit[:12]} do not build:\n"
            f"{built.stderr[-3000:]}"
        )
    return folder / "results"


def materialize(baseline: str, commit: str, out: Path) -> list[str]:
    """The baseline's results tables copied into ``out`` (the review's, a folder's, or those of
    ``raw/`` at a git commit built now); returns the tables copied."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="exosynth-baseline-") as tmp:
        kind, _, ref = baseline.partition(":")
        source = (
            _build_at_commit(commit, ref, Path(tmp))
            if kind == "git"
            else Path(baseline_source(baseline))
        )
        if (source / "results").is_dir():
            source = source / "results"
        if not source.is_dir():
            raise ValueError(f"baseline {baseline}: {source} is not a folder")
        for name in BASELINE_TABLES:
            if (source / name).is_file():
                (out / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / name, out / name)
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv"))
