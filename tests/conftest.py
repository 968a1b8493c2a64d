"""Shared fixtures: the real schema's validator, the shipped config and vocabulary, the study
table of the 26 real records, valid records to mutate, a project copy to run (Snakemake or the
``exosynth`` command in it), the trial vocabulary, where ../shared is.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from exosynth import settings
from exosynth.analysis_groups import AnalysisGroups
from exosynth.corpus import discover_raw_files
from exosynth.problems import Problem
from exosynth.studies import normalize, validate
from exosynth.studies.loading import read_raw
from exosynth.studies.parse_cache import ingest
from exosynth.studies.schema_messages import StudyValidator, study_validator
from exosynth.trials.classify import TrialVocabulary
from exosynth.vocabulary import Vocabulary

REPO = Path(__file__).resolve().parents[1]
# What a Snakemake run of the project needs; results/ and .snakemake/ are deliberately left out.
PROJECT_PARTS = ("Snakefile", "config", "schemas", "workflow", "raw")
TEMPLATE_RECORD = REPO / "raw" / "bone_marrow" / "damania-2018.yaml"
EXOSYNTH = Path(sys.executable).parent / "exosynth"  # the console script pip installed


def shared_dir() -> Path:
    """../shared beside the checkout, or beside the folder holding it (a git worktree under
    wt/), or where EXOSYNTH_SHARED points (a scratch copy of the repository)."""
    candidates = [os.environ.get("EXOSYNTH_SHARED", ""), REPO.parent / "shared",
                  REPO.parent.parent / "shared"]  # fmt: skip
    return next((Path(c) for c in candidates if c and Path(c).is_dir()), REPO.parent / "shared")


def shipped(name: str) -> dict:
    """``config/<name>.yaml`` checked against ``schemas/<name>.schema.yaml``, defaults filled
    in, as the rules load it."""
    return settings.validate_against(
        settings.load_yaml(REPO / "config" / f"{name}.yaml"),
        REPO / "schemas" / f"{name}.schema.yaml",
        f"config/{name}.yaml",
    )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def validator() -> StudyValidator:
    """The record validator built from the shipped schema, as the ingest rule builds it."""
    return study_validator(REPO / "schemas" / "study.schema.json")


@pytest.fixture(scope="session")
def config() -> dict:
    """config/config.yaml checked against its schema, defaults filled in, as the rules load it.

    Shared by the whole session: a test that changes it works on a ``copy.deepcopy``.
    """
    return shipped("config")


@pytest.fixture(scope="session")
def tables(config: dict) -> list[settings.SourceTable]:
    """The MSC sources of the shipped config, one per review table."""
    return settings.source_tables(config)


@pytest.fixture(scope="session")
def vocabulary() -> Vocabulary:
    """The shipped config/vocabulary.yaml, checked against its schema as the normalize rule does."""
    return Vocabulary.from_mapping(shipped("vocabulary"))


@pytest.fixture(scope="session")
def trial_terms() -> TrialVocabulary:
    """The shipped config/trials.yaml (the trial vocabulary), checked against its schema."""
    return TrialVocabulary.from_mapping(shipped("trials"))


@functools.cache
def shipped_condition_groups() -> AnalysisGroups:
    """The condition groups and outcome synonyms of the shipped config/vocabulary.yaml."""
    return AnalysisGroups.from_mapping(settings.load_yaml(REPO / "config" / "vocabulary.yaml"))


def build_study_table(
    raw_dir: Path,
    validator: StudyValidator,
    vocabulary: Vocabulary,
    tables: list[settings.SourceTable],
) -> tuple[pl.DataFrame, list[Problem]]:
    """ingest -> validate -> normalize on ``raw_dir`` in-process, as the rules chain them
    (with the shipped vocabulary's condition groups).

    Returns the normalized study table and every problem of the three stages, in stage order.
    """
    records, problems = ingest(read_raw(discover_raw_files(raw_dir)), validator)
    records, cross = validate.validate_records(records)
    studies, unknown = normalize.normalize(
        records, vocabulary, tables, Path(raw_dir).as_posix(), shipped_condition_groups()
    )
    return studies, [*problems, *cross, *unknown]


@pytest.fixture(scope="session")
def build_studies(
    validator: StudyValidator, vocabulary: Vocabulary, tables: list[settings.SourceTable]
) -> Callable[..., tuple[pl.DataFrame, list[Problem]]]:
    """``build_studies(raw_dir)`` -> (studies, problems) with the shipped schema, vocabulary and
    tables; ``build_studies(raw_dir, other_tables)`` for a config with other sources.
    """

    def build(
        raw_dir: Path, source_tables: list[settings.SourceTable] | None = None
    ) -> tuple[pl.DataFrame, list[Problem]]:
        return build_study_table(
            raw_dir, validator, vocabulary, tables if source_tables is None else source_tables
        )

    return build


@pytest.fixture(scope="session")
def review_studies(
    validator: StudyValidator, vocabulary: Vocabulary, tables: list[settings.SourceTable]
) -> pl.DataFrame:
    """The normalized study table of the 26 real records in raw/, built without a problem."""
    studies, problems = build_study_table(REPO / "raw", validator, vocabulary, tables)
    assert problems == []
    return studies


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


def snakemake_bare(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Snakemake of this interpreter (the venv, where exosynth is pip-installed) in
    ``project`` with exactly ``args`` (no --cores: a bare `snakemake` reads profiles/default).

    The copy has no ``src/``: the Snakefile and the rule scripts must import the installed
    package, as they do on a fresh clone after ``pip install -e .``.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def run_snakemake_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``project`` on both cores (:func:`snakemake_bare`)."""
    return snakemake_bare(project, "--cores", "2", *args)


@pytest.fixture(scope="session")
def run_snakemake() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_snakemake(project, "--config", "on_invalid=exclude")`` -> the finished process."""
    return run_snakemake_in


def run_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``exosynth`` console script as a user runs it, in ``project``, as a new process."""
    return subprocess.run(
        [str(EXOSYNTH), *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PATH": f"{EXOSYNTH.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )


def office_tool(names: tuple[str, ...], package: str) -> str:
    """The path of LibreOffice or Chromium; fails where CI installed them (.ci/run sets
    EXOSYNTH_REQUIRE_OFFICE=1 where apt-get exists), skips, saying why, only where they
    cannot be had."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("EXOSYNTH_REQUIRE_OFFICE") == "1":
        pytest.fail(f"{names[0]} is required (CI installs {package} with apt-get) but not on PATH")
    if shutil.which("apt-get") is None:
        pytest.skip(f"{names[0]} is not on PATH and this machine has no apt-get to install it")
    pytest.skip(f"{names[0]} is not installed here: `apt-get install {package}` (CI requires it)")
