"""Checksums of every published output for three inputs, to show a change altered no byte.

Builds a copy of the project (``Snakefile``, ``config``, ``schemas``, ``workflow``, ``raw``)
in a temporary folder for each input set, runs Snakemake there, and prints one line per file
under ``results/``: ``<set> <sha256> <path>``. Logs, benchmark timings and the interim
folder (the parse cache holds each file's time) are the build's own business and are left out.

The input sets:
  shipped   the shipped ``raw/``
  field     ``raw/`` plus the field records of ``tests/data/field/``
  trials    ``raw/`` plus the 1,389-trial export of ``../shared/trials/jesnyder+mapClinical/``
  outcomes  ``raw/`` plus the records with outcome data and quality blocks of
            ``tests/data/outcomes/`` and ``tests/data/quality/`` (meta-analyses, their
            figures, risk of bias)

Run it before and after a change and diff the two outputs:

    python tools/output_checksums.py > before.txt   # on the old commit
    python tools/output_checksums.py > after.txt    # on the new one
    diff before.txt after.txt && echo identical
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT_PARTS = ("Snakefile", "config", "schemas", "workflow", "raw")
TRIAL_EXPORT = (
    REPO.parent
    / "shared"
    / "trials"
    / "jesnyder+mapClinical"
    / "mesenchymal stem OR mesenchymal stromal.csv"
)
SKIPPED = ("logs", "benchmarks", "interim")


def make_project(where: Path, input_set: str) -> Path:
    """A copy of the project with the input set's extra raw files."""
    project = where / input_set
    project.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, project / part)
        else:
            shutil.copy2(source, project / part)
    # The record folders each set adds to raw/ (the trial export apart).
    for folder in {"field": ["field"], "outcomes": ["outcomes", "quality"]}.get(input_set, []):
        shutil.copytree(REPO / "tests" / "data" / folder, project / "raw", dirs_exist_ok=True)
    if input_set == "trials":
        if not TRIAL_EXPORT.exists():
            sys.exit(f"output_checksums: {TRIAL_EXPORT} is absent (../shared/ is not beside it)")
        shutil.copy2(TRIAL_EXPORT, project / "raw" / "trials" / TRIAL_EXPORT.name)
    return project


def checksums(project: Path) -> list[tuple[str, str]]:
    """(relative path, sha256) of every published file under results/."""
    results = project / "results"
    return [
        (path.relative_to(results).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(results.rglob("*"))
        if path.is_file() and path.relative_to(results).parts[0] not in SKIPPED
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=["shipped", "field", "trials", "outcomes"])
    parser.add_argument("--cores", default="2")
    args = parser.parse_args()
    snakemake = Path(sys.executable).with_name("snakemake")
    with tempfile.TemporaryDirectory() as tmp:
        for input_set in args.sets:
            project = make_project(Path(tmp), input_set)
            run = subprocess.run(
                [str(snakemake), "--cores", args.cores, "--quiet", "all"],
                cwd=project,
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode != 0:
                print(run.stdout[-3000:], run.stderr[-3000:], file=sys.stderr)
                return run.returncode
            for path, digest in checksums(project):
                print(input_set, digest, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
