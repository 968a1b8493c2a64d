"""A copy of the project to time: the parts a build reads, N synthetic papers, the paper added.

run_benchmark.py, loop_ab.py and outcome_benchmark.py each build in such a copy (of this
checkout, or of another tree for an A/B run) and run Snakemake of this interpreter there.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_corpus  # found next to this script

ROOT = Path(__file__).resolve().parents[1]
# What a Snakemake run of the project reads; results/ and .snakemake/ are left out.
PROJECT_PARTS = ("Snakefile", "config", "schemas", "workflow", "raw")
# The paper the author's loop adds: a valid record of an acute kidney injury study.
LOOP_RECORD = """\
id: {record_id}
source: BM-MSC
citation:
  first_author: {first_author}
  year: 2026
condition: Acute kidney injury
in_vitro: true
in_vivo:
- model: Cisplatin-induced acute kidney injury model
  species: C57BL/6 mice
clinical: null
results: Added by {script} to time the author's loop
"""


def copy_project(destination: Path, tree: Path = ROOT) -> Path:
    """Copy ``tree``'s PROJECT_PARTS (no caches) into ``destination``, made if missing."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = tree / part
        if source.is_dir():
            shutil.copytree(
                source, destination / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(source, destination / part)
    return destination


def prepare(destination: Path, papers: int, *, seed: int = 0, tree: Path = ROOT) -> Path:
    """A copy of ``tree`` with ``papers`` synthetic papers besides its real records."""
    copy_project(destination, tree)
    if papers:
        generate_corpus.generate(destination, papers, seed=seed)
    return destination


def snakemake_env(**extra: str) -> dict[str, str]:
    """The environment, with ``extra`` set and this interpreter's bin/ first on PATH."""
    env = dict(os.environ, **extra)
    # Compiled modules cached as a user's machine caches them: a sandbox or CI that sets
    # PYTHONDONTWRITEBYTECODE makes every job compile the package's sources again (about
    # 0.1 s a job), which no author's loop pays after its first build.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env
