"""The project's form checks inside the README's test command: snakefmt, ruff, import-linter.

CI runs the same three after pytest; here they fail the test run itself, so a merge that leaves
the Snakefile unformatted or an arrow pointing up is caught by whoever runs the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The tool installed beside this Python (the test extra installs all three)."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' installs it")
    return found


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env=env, check=False)


def test_snakefile_and_rule_files_are_as_snakefmt_writes_them() -> None:
    done = run(tool("snakefmt"), "--check", "Snakefile", "workflow/rules/")
    assert done.returncode == 0, f"run `snakefmt Snakefile workflow/rules/`:\n{done.stderr}"


def test_ruff_finds_nothing() -> None:
    done = run(tool("ruff"), "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_arrows_only_point_down() -> None:
    done = run(tool("lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
