"""The validation report holds what the stages after the gate find: the drafts' screening
(rule prisma) and what only the meta-analyses' arithmetic finds (rule workbook), by file;
a stopped build writes it from the ledger alone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from exosynth import adapters
from exosynth.outputs.ledger import ledger
from exosynth.problems import ERROR, WARNING, Problem, write_problems
from exosynth.synthesis import meta
from exosynth.synthesis.analyses import synthesize

RECORD = "raw/bone_marrow/a-2020.yaml"


def _entry(n_control: int, treated: list[int], mean: float = 20.0) -> dict:
    return {
        "outcome": "Infarct size",
        "direction": "lower_is_better",
        "control": {"n": n_control, "mean": 30.0, "sd": 5.0},
        "treated": [{"n": n, "mean": mean, "sd": 5.0} for n in treated],
    }


def _studies() -> pl.DataFrame:
    """Three studies of one analysis; c-2022 also has a comparison too small for an effect
    (a control of 2 shared by two groups of 2) and one without its n."""
    small = _entry(2, [2, 2]) | {"outcome": "Neurological score"}
    no_n = _entry(10, [10]) | {"outcome": "Survival"}
    no_n["treated"][0].pop("n")
    return pl.DataFrame(
        {
            "id": ["a-2020", "b-2021", "c-2022"],
            "source": ["bone_marrow", "adipose", "adipose"],
            "condition": ["Stroke"] * 3,
            "condition_group": ["Stroke"] * 3,
            "year": [2020, 2021, 2022],
            "raw_file": [RECORD, "raw/adipose/b-2021.yaml", "raw/adipose/c-2022.yaml"],
            "outcomes": [
                json.dumps([_entry(10, [10], 20.0)]),
                json.dumps([_entry(8, [8], 25.0)]),
                json.dumps([_entry(12, [12], 10.0), small, no_n]),
            ],
        }
    )


def test_synthesis_notes_are_what_only_the_arithmetic_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(meta, "MAX_ITER", 0)  # REML never converges: DL rows, and a note
    notes = synthesize(_studies()).notes
    degenerate = [p for p in notes if p.code == "outcome.degenerate"]
    assert [(p.file, p.field, p.severity) for p in degenerate] == [
        ("raw/adipose/c-2022.yaml", "outcomes[1].treated[0]", WARNING),
        ("raw/adipose/c-2022.yaml", "outcomes[1].treated[1]", WARNING),
    ]
    # the missing n is the record's problem, found when it is parsed: not a note again
    assert "outcome.missing_number" not in {p.code for p in notes}
    reml = [p for p in notes if p.code == "pooling.reml_not_converged"]
    overall = next(p for p in reml if p.field == "Stroke / infarct size / all / smd")
    assert overall.file == "results/synthesis/pooled.csv"
    # the analysis's problem names the records that feed it
    assert overall.message.endswith(
        "(from 3 records: raw/adipose/b-2021.yaml, raw/adipose/c-2022.yaml, "
        "raw/bone_marrow/a-2020.yaml)"
    )


def _ledger(path: Path) -> Path:
    records = pl.DataFrame({"raw_file": [RECORD], "sha256": ["0" * 64]})
    problem = Problem(RECORD, 3, "in_vivo[0].model", "odd model", "name it", severity=WARNING)
    summary = ledger(records, records.select("raw_file"), [problem], "raw")
    path.write_text(json.dumps(summary), encoding="utf-8")
    return path


LATER = {
    "prisma": [
        Problem(
            "raw/inbox/lee-2021.yaml",
            None,
            "condition",
            "included, but condition is still empty",
            "fill it",
            stage="import",
            code="screening.incomplete",
            severity=WARNING,
        ),
        Problem(
            "results/prisma.csv",
            None,
            "screened - excluded - awaiting = sought",
            "the PRISMA counts do not add up",
            "restore the draft",
            stage="import",
            code="prisma.sum",
            severity=ERROR,
        ),
    ],
    "synthesis": [
        Problem(
            "results/synthesis/pooled.csv",
            None,
            "Stroke / infarct size / all / smd",
            "REML did not converge for Stroke / infarct size / all / smd",
            "read the DL rows",
            stage="pooling",
            code="pooling.reml_not_converged",
            severity=WARNING,
        )
    ],
}


def _later(folder: Path) -> list[str]:
    paths = []
    for name, problems in LATER.items():
        write_problems(problems, folder / f"{name}.problems.json")
        paths.append(str(folder / f"{name}.problems.json"))
    return paths


def test_report_lists_the_notes_after_the_gate_by_file(tmp_path: Path) -> None:
    summary = _ledger(tmp_path / "validation.json")
    md, html = tmp_path / "report.md", tmp_path / "report.html"
    adapters.write_validation_report(str(summary), _later(tmp_path), str(md), str(html))
    text = md.read_text(encoding="utf-8")
    warnings, notes = text.split("## Drafts, PRISMA flow and meta-analyses (3 notes in 3 files)")
    assert "odd model" in warnings  # the record's problem, in its place
    assert "odd model" not in notes
    assert "### `raw/inbox/lee-2021.yaml`\n\n- `condition`: included, but condition" in notes
    assert "_(screening.incomplete)_" in notes
    assert "### `results/synthesis/pooled.csv`" in notes
    assert "`Stroke / infarct size / all / smd`: REML did not converge" in notes
    assert "_(prisma.sum)_" in notes
    page = html.read_text(encoding="utf-8")
    assert "Drafts, PRISMA flow and meta-analyses (3 notes in 3 files)" in page
    assert "<code>raw/inbox/lee-2021.yaml</code>" in page
    before = md.read_bytes(), html.read_bytes()
    adapters.write_validation_report(str(summary), _later(tmp_path), str(md), str(html))
    assert (md.read_bytes(), html.read_bytes()) == before  # the same inputs, the same bytes
    # no note: no section
    empty = tmp_path / "empty.json"
    write_problems([], empty)
    adapters.write_validation_report(str(summary), [str(empty)], str(md))
    assert "Drafts, PRISMA flow" not in md.read_text(encoding="utf-8")


def _age(path: Path, seconds: float) -> None:
    past = path.stat().st_mtime - seconds
    os.utime(path, (past, past))


def test_a_stopped_build_writes_the_report_from_its_ledger(tmp_path: Path) -> None:
    record = tmp_path / "a-2020.yaml"
    record.write_text("id: a-2020\n", encoding="utf-8")
    _age(record, 100)
    summary = _ledger(tmp_path / "validation.json")  # this build's ledger
    later = _later(tmp_path)
    _age(Path(later[1]), 200)  # the synthesis notes of an earlier build
    md, html = tmp_path / "report.md", tmp_path / "report.html"
    md.write_text("an earlier build's report", encoding="utf-8")
    deliverable = tmp_path / "studies.csv"
    deliverable.write_text("id\n", encoding="utf-8")
    line = adapters.clean_after_failure(
        [deliverable, *later], [md, summary, html], [record], "fail", later
    )
    assert not deliverable.exists()
    assert not any(Path(p).exists() for p in later)
    text = md.read_text(encoding="utf-8")
    assert "odd model" in text
    assert "screening.incomplete" in text  # written after this ledger: reported
    assert "pooling.reml_not_converged" not in text  # an earlier build's: not
    assert "odd model" in html.read_text(encoding="utf-8")
    assert line.startswith("exosynth: build failed")
    assert "validation report is current" in line
    # a ledger older than the records describes other files: the report goes with it
    record.touch()
    _age(summary, 50)
    adapters.clean_after_failure([], [md, summary, html], [record], "fail")
    assert not any(p.exists() for p in (md, summary, html))
