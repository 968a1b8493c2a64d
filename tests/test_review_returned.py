"""The reviewer's round trip, in-process: a workbook with its Provenance sheet, edited with
openpyxl as a reviewer would; the changes read back, mapped to file, field and line; the
accepted edits applied to copies of the records, keeping their comments; a record changed
in between refused.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from openpyxl.comments import Comment

from exosynth.adapters import keep_edited_workbook
from exosynth.outputs.returned import (
    PROVENANCE_SHEET,
    changes_csv,
    changes_markdown,
    provenance_rows,
    read_returned,
)
from exosynth.outputs.workbook import write_workbook
from exosynth.studies.amend import FieldEdit, apply_edits, field_line, file_digest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def studies(review_studies: pl.DataFrame) -> pl.DataFrame:
    """The 26 real studies, their raw files named as a build in the project names them."""
    return review_studies.with_columns(pl.col("raw_file").str.strip_prefix(f"{REPO.as_posix()}/"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "raw", tmp_path / "raw", ignore=shutil.ignore_patterns("trials"))
    return tmp_path


def build_workbook(path: Path, studies: pl.DataFrame, root: Path) -> Path:
    """The Studies sheet as the build writes it, then the hidden Provenance sheet."""
    write_workbook(path, [], pl.DataFrame({"source": ["all"]}), studies, [])
    digests = {f: file_digest(root / f) for f in studies.get_column("raw_file").to_list()}
    book = openpyxl.load_workbook(path)
    sheet = book.create_sheet(PROVENANCE_SHEET)
    for row in provenance_rows(studies, digests):
        sheet.append(list(row))
    sheet.sheet_state = "hidden"
    book.save(path)
    return path


def heading_column(sheet, heading: str) -> str:
    for cell in sheet[1]:
        if cell.value == heading:
            return cell.column_letter
    raise AssertionError(heading)


def study_row(sheet, study_id: str) -> int:
    for cell in sheet["A"]:
        if cell.value == study_id:
            return cell.row
    raise AssertionError(study_id)


def test_changes_are_listed_with_file_field_and_line(
    project: Path, studies: pl.DataFrame, tmp_path: Path
) -> None:
    workbook = build_workbook(tmp_path / "returned.xlsx", studies, project)
    book = openpyxl.load_workbook(workbook)
    sheet = book["Studies"]
    results = heading_column(sheet, "Results")
    year = heading_column(sheet, "Year")
    species = heading_column(sheet, "Species")
    damania, rong = study_row(sheet, "damania-2018"), study_row(sheet, "rong-2019")
    sheet[f"{results}{damania}"] = "Improves liver regeneration"
    sheet[f"{year}{rong}"] = 2020
    sheet[f"{species}{rong}"] = "mouse"
    sheet[f"{results}{rong}"].comment = Comment("Check the dose in Fig. 2", "Reviewer 2")
    book.save(workbook)

    changes = read_returned(openpyxl.load_workbook(workbook), studies)
    rows = changes.select("kind", "cell", "study_id", "raw_file", "field", "before", "after")
    assert sorted(rows.rows()) == sorted(
        [
            (
                "changed",
                f"{results}{damania}",
                "damania-2018",
                "raw/bone_marrow/damania-2018.yaml",
                "results",
                "Improves liver regeneration and recovery",
                "Improves liver regeneration",
            ),
            (
                "changed",
                f"{year}{rong}",
                "rong-2019",
                "raw/bone_marrow/rong-2019.yaml",
                "citation.year",
                "2019",
                "2020",
            ),
            (
                "changed",
                f"{species}{rong}",
                "rong-2019",
                "raw/bone_marrow/rong-2019.yaml",
                "in_vivo",
                "Rat",  # the old value as the sheet showed it, in words
                "mouse",
            ),
            (
                "comment",
                f"{results}{rong}",
                "rong-2019",
                "raw/bone_marrow/rong-2019.yaml",
                "results",
                None,
                None,
            ),
        ]
    )
    status = dict(zip(changes["cell"], changes["status"], strict=True))
    assert status[f"{year}{rong}"] == "accepted"
    assert status[f"{species}{rong}"].startswith("not applied: computed by the build")
    comment = changes.filter(kind="comment").row(0, named=True)
    assert comment["comment"] == "Check the dose in Fig. 2"
    assert comment["status"] == "by Reviewer 2"
    # The line each field is written on in the record.
    text = (project / "raw/bone_marrow/rong-2019.yaml").read_text(encoding="utf-8")
    year_line = next(i for i, t in enumerate(text.splitlines(), 1) if "year:" in t)
    assert field_line(text, "citation.year") == year_line
    assert "| changed | Studies |" in changes_markdown(changes, "returned.xlsx")
    assert changes_csv(changes).decode().splitlines()[0].startswith("kind,sheet,cell,study_id")


def test_rows_added_and_deleted(project: Path, studies: pl.DataFrame, tmp_path: Path) -> None:
    workbook = build_workbook(tmp_path / "returned.xlsx", studies, project)
    book = openpyxl.load_workbook(workbook)
    sheet = book["Studies"]
    sheet.delete_rows(study_row(sheet, "xia-2019"))
    sheet.append(["smith-2021", "bone_marrow", 1, "Stroke"])
    book.save(workbook)
    changes = read_returned(openpyxl.load_workbook(workbook), studies)
    assert changes.select("kind", "study_id").rows() == [
        ("row_added", "smith-2021"),
        ("row_deleted", "xia-2019"),
    ]


def test_an_unchanged_workbook_has_no_changes(
    project: Path, studies: pl.DataFrame, tmp_path: Path
) -> None:
    workbook = build_workbook(tmp_path / "returned.xlsx", studies, project)
    assert read_returned(openpyxl.load_workbook(workbook), studies).is_empty()


def test_a_workbook_without_provenance_is_refused(studies: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    write_workbook(path, [], pl.DataFrame({"source": ["all"]}), studies, [])
    with pytest.raises(ValueError, match="no 'Provenance' sheet"):
        read_returned(openpyxl.load_workbook(path), studies)


def test_apply_keeps_comments_and_refuses_a_changed_record(project: Path) -> None:
    record = project / "raw/bone_marrow/damania-2018.yaml"
    record.write_text(
        "# transcribed from Table 1\n" + record.read_text(encoding="utf-8"), encoding="utf-8"
    )
    digest = file_digest(record)
    other = project / "raw/bone_marrow/rong-2019.yaml"
    stale = file_digest(other)
    other.write_text(other.read_text(encoding="utf-8") + "# edited since\n", encoding="utf-8")
    outcomes = apply_edits(
        project,
        [
            FieldEdit("raw/bone_marrow/damania-2018.yaml", "citation.year", 2019, digest),
            FieldEdit("raw/bone_marrow/damania-2018.yaml", "clinical.patients", 12, digest),
            FieldEdit("raw/bone_marrow/rong-2019.yaml", "results", "New", stale),
        ],
    )
    assert [o.applied for o in outcomes] == [True, True, False]
    assert "changed since the workbook was built" in outcomes[2].reason
    text = record.read_text(encoding="utf-8")
    assert text.startswith("# transcribed from Table 1\nid: damania-2018\n")
    assert "  year: 2019\n" in text
    assert "clinical:\n  patients: 12\n" in text
    assert "results: Improves liver regeneration and recovery\n" in text
    assert other.read_text(encoding="utf-8").endswith("# edited since\n")
    assert "results: New" not in other.read_text(encoding="utf-8")


def test_a_workbook_edited_in_place_is_copied_aside_once(tmp_path: Path) -> None:
    workbook, digest = tmp_path / "exosynth.xlsx", tmp_path / "exosynth.xlsx.sha256"
    workbook.write_bytes(b"as built")
    assert keep_edited_workbook(str(workbook), str(digest)) is None  # no digest: nothing known
    digest.write_text(hashlib.sha256(b"as built").hexdigest() + "\n", encoding="utf-8")
    assert keep_edited_workbook(str(workbook), str(digest)) is None  # as built
    workbook.write_bytes(b"edited")
    kept = tmp_path / f"exosynth.edited-{hashlib.sha256(b'edited').hexdigest()[:12]}.xlsx"
    said = keep_edited_workbook(str(workbook), str(digest))
    assert said is not None
    assert f"was edited after it was built: kept as {kept.as_posix()}" in said
    assert kept.read_bytes() == b"edited"
    assert workbook.read_bytes() == b"edited"  # a build that does not rebuild it keeps it
    assert keep_edited_workbook(str(workbook), str(digest), only_new=True) is None
    workbook.write_bytes(b"edited again")  # other edits: another copy, the first one stays
    keep_edited_workbook(str(workbook), str(digest))
    assert kept.read_bytes() == b"edited"
    assert len(list(tmp_path.glob("exosynth.edited-*.xlsx"))) == 2
