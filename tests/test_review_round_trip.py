"""The reviewer's round trip end to end: build; a reviewer edits three cells and adds a
comment; `exosynth review-returned` lists exactly those, with file, field and line; --apply
writes them into the records (a record changed in between is refused, with the reason);
the rebuild shows the edits. And a workbook edited in place is kept aside, not overwritten,
and the terminal says so.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from conftest import run_cli
from openpyxl.comments import Comment

pytestmark = pytest.mark.e2e


def cell_of(sheet, study_id: str, heading: str) -> str:
    column = next(c.column_letter for c in sheet[1] if c.value == heading)
    row = next(c.row for c in sheet["A"] if c.value == study_id)
    return f"{column}{row}"


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_round_trip(project: Path, run_snakemake) -> None:
    built = run_snakemake(project)
    assert built.returncode == 0, built.stderr[-3000:]
    returned = project / "returned" / "exosynth-reviewed.xlsx"
    returned.parent.mkdir()
    book = openpyxl.load_workbook(project / "results" / "exosynth.xlsx")
    sheet = book["Studies"]
    results = cell_of(sheet, "damania-2018", "Results")
    year = cell_of(sheet, "rong-2019", "Year")
    condition = cell_of(sheet, "liao-2019", "Condition")
    commented = cell_of(sheet, "xia-2019", "Results")
    sheet[results] = "Improves liver regeneration"
    sheet[year] = 2020
    sheet[condition] = "Disc degeneration"
    sheet[commented].comment = Comment("Which dose? See Fig. 3", "Reviewer 2")
    # The other sheets a reviewer reads: a comment on a table; a Studies row deleted (the
    # last, so no cell above moves) and one added.
    book["Table 1"]["B2"].comment = Comment("Add the dose to this row?", "Reviewer 2")
    deleted = sheet.cell(sheet.max_row, 1).value
    assert deleted not in {"damania-2018", "rong-2019", "liao-2019", "xia-2019"}
    sheet.delete_rows(sheet.max_row)
    sheet.append(["new-2024"])
    added = f"A{sheet.max_row}:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    book.save(returned)

    listed = run_cli(project, "review-returned", str(returned.relative_to(project)))
    assert listed.returncode == 0, listed.stderr
    report = project / "results" / "returned" / "exosynth-reviewed.changes.csv"
    with report.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    raw = project / "raw" / "bone_marrow"
    got = {
        (r["kind"], r["cell"], r["raw_file"], r["field"], r["line"])
        for r in rows
        if r["sheet"] == "Studies" and r["kind"] in {"changed", "comment"}
    }
    assert got == {
        (
            "changed",
            results,
            "raw/bone_marrow/damania-2018.yaml",
            "results",
            str(line_of(raw / "damania-2018.yaml", "results:")),
        ),
        (
            "changed",
            year,
            "raw/bone_marrow/rong-2019.yaml",
            "citation.year",
            str(line_of(raw / "rong-2019.yaml", "year:")),
        ),
        (
            "changed",
            condition,
            "raw/bone_marrow/liao-2019.yaml",
            "condition",
            str(line_of(raw / "liao-2019.yaml", "condition:")),
        ),
        (
            "comment",
            commented,
            "raw/bone_marrow/xia-2019.yaml",
            "results",
            str(line_of(raw / "xia-2019.yaml", "results:")),
        ),
    }
    others = {(r["kind"], r["sheet"], r["cell"], r["study_id"], r["raw_file"], r["comment"])
              for r in rows if r["sheet"] != "Studies" or r["kind"].startswith("row_")}  # fmt: skip
    assert others == {
        ("comment", "Table 1", "B2", "", "", "Add the dose to this row?"),
        (
            "row_deleted",
            "Studies",
            "",
            deleted,
            next(project.glob(f"raw/*/{deleted}.yaml")).relative_to(project).as_posix(),
            "",
        ),
        ("row_added", "Studies", added, "new-2024", "", ""),
    }
    assert (report.with_suffix(".md")).read_text(encoding="utf-8").count("| changed |") == 3
    # Nothing was written to the records without --apply.
    assert "Improves liver regeneration and recovery" in (raw / "damania-2018.yaml").read_text()

    # liao-2019 changes after the workbook was built: its edit is refused, the others land.
    liao = raw / "liao-2019.yaml"
    liao.write_text(liao.read_text(encoding="utf-8") + "# checked again\n", encoding="utf-8")
    applied = run_cli(project, "review-returned", str(returned.relative_to(project)), "--apply")
    assert applied.returncode == 1, applied.stdout + applied.stderr  # something was refused
    assert "raw/bone_marrow/liao-2019.yaml changed since the workbook was built" in applied.stdout
    assert "applied 2 of 3 accepted edits" in applied.stdout
    assert liao.read_text(encoding="utf-8").endswith("# checked again\n")
    assert "Disc degeneration" not in liao.read_text(encoding="utf-8")

    rebuilt = run_snakemake(project)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    studies = pl.read_csv(project / "results" / "studies.csv").filter(
        pl.col("id").is_in(["damania-2018", "rong-2019", "liao-2019"])
    )
    values = {r["id"]: r for r in studies.iter_rows(named=True)}
    assert values["damania-2018"]["results"] == "Improves liver regeneration"
    assert values["rong-2019"]["year"] == 2020
    assert values["liao-2019"]["condition"] == "Intervertebral disc degeneration"
    table = (project / "results" / "tables" / "table1.md").read_text(encoding="utf-8")
    assert "Improves liver regeneration |" in table


def test_a_workbook_edited_in_place_is_kept_aside(project: Path, run_snakemake) -> None:
    assert run_snakemake(project).returncode == 0
    workbook = project / "results" / "exosynth.xlsx"
    book = openpyxl.load_workbook(workbook)
    book["Studies"]["A1"].comment = Comment("edited in place", "Reviewer")
    book.save(workbook)
    edited = workbook.read_bytes()
    kept = project / "results" / f"exosynth.edited-{hashlib.sha256(edited).hexdigest()[:12]}.xlsx"

    record = project / "raw" / "bone_marrow" / "damania-2018.yaml"
    record.write_text(
        record.read_text(encoding="utf-8").replace("Liver disease", "Liver injury"),
        encoding="utf-8",
    )
    rebuilt = run_snakemake(project)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert kept.read_bytes() == edited
    assert workbook.read_bytes() != edited  # the new build's workbook
    assert (
        f"exosynth: results/exosynth.xlsx was edited after it was built: kept as "
        f"results/{kept.name}"
    ) in rebuilt.stderr
    # Said again as the build's very last line, where it cannot scroll away.
    assert f"kept as results/{kept.name}" in rebuilt.stderr.rstrip().splitlines()[-1]
