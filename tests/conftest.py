"""Shared fixtures: the real schema's validator, valid records to mutate, a project copy to run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from exosynth.ingest import StudyValidator, study_validator

REPO = Path(__file__).resolve().parents[1]
# What a Snakemake run of the project needs; results/ and .snakemake/ are deliberately left out.
PROJECT_PARTS = ("Snakefile", "config", "schemas", "workflow", "raw")
TEMPLATE_RECORD = REPO / "raw" / "bone_marrow" / "damania-2018.yaml"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def validator() -> StudyValidator:
    """The record validator built from the shipped schema, as the ingest rule builds it."""
    return study_validator(REPO / "schemas" / "study.schema.json")


def make_good_record(record_id: str = "smith-2020", *edits: tuple[str, str]) -> str:
    """A valid record: damania-2018 with a new id, then ``(old, new)`` text edits applied.

    Each ``old`` must occur exactly once, so a test never silently edits nothing.
    """
    text = TEMPLATE_RECORD.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^id: .*$", f"id: {record_id}", text)
    assert count == 1, "the template record lost its id line"
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the template"
        text = text.replace(old, new)
    return text


@pytest.fixture
def good_record() -> Callable[..., str]:
    """``good_record("smith-2020", ("in_vitro: true", "in_vitro: false"))`` -> record text."""
    return make_good_record


def write_raw_record(project: Path, folder: str, name: str, text: str | bytes) -> Path:
    """Write a record into ``project/raw/<folder>/<name>.yaml`` (``name`` may carry its suffix)."""
    filename = name if name.endswith((".yaml", ".yml")) else f"{name}.yaml"
    target = project / "raw" / folder / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def write_raw() -> Callable[[Path, str, str, str | bytes], Path]:
    return write_raw_record


def copy_project(dest: Path) -> Path:
    """Copy the parts of the project a Snakemake run reads into the new folder ``dest``."""
    dest.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(
                source, dest / part, ignore=shutil.ignore_patterns("__pycache__", ".snakemake")
            )
        else:
            shutil.copy2(source, dest / part)
    return dest


@pytest.fixture(scope="session")
def project_factory() -> Callable[[Path], Path]:
    """For fixtures of a wider scope than ``project``: ``project_factory(folder)`` -> the copy."""
    return copy_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the parts of the project a Snakemake run reads."""
    return copy_project(tmp_path / "project")


def run_snakemake_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Snakemake of this interpreter (the venv, where exosynth is pip-installed) in ``project``.

    The copy has no ``src/``: the Snakefile and the rule scripts must import the installed
    package, as they do on a fresh clone after ``pip install -e .``.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


@pytest.fixture(scope="session")
def run_snakemake() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_snakemake(project, "--config", "on_invalid=exclude")`` -> the finished process."""
    return run_snakemake_in
