"""Where the baseline of results/changes.md comes from: cheap to import (the Snakefile uses it
while building the DAG), no polars, no matplotlib.

``review``: the tables shipped in ``config/baseline/review/``; ``folder:<path>``: an earlier
``results/``; ``git:<ref>``: the records of ``raw/`` at that commit, built by this checkout.
"""

from __future__ import annotations

import subprocess

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
