"""Report: the ledger's counts by folder and the raw-set checksum, on small frames."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from exosynth.outputs import ledger as ledger_output
from exosynth.problems import WARNING, Problem


def _records(files: dict[str, bytes]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "raw_file": list(files),
            "sha256": [hashlib.sha256(data).hexdigest() for data in files.values()],
        }
    )


FILES = {
    "raw/bone_marrow/a-2020.yaml": b"a",
    "raw/bone_marrow/b-2020.yaml": b"b",
    "raw/bone_marrow/c-2020.yaml": b"c",
    "raw/adipose/d-2020.yaml": b"d",
    "raw/e-2020.yaml": b"e",
}


def test_ledger_counts_by_folder():
    records = _records(FILES)
    problems = [
        Problem("raw/bone_marrow/b-2020.yaml", 3, "year", "bad", "fix"),
        Problem("raw/bone_marrow/b-2020.yaml", 4, "ref", "bad too", "fix"),  # one file, 2 problems
        Problem("raw/e-2020.yaml", 1, "id", "bad", "fix"),
        Problem("raw/adipose/d-2020.yaml", 1, "species", "odd", "check", severity=WARNING),
    ]
    studies = pl.DataFrame(
        {
            "raw_file": [
                "raw/bone_marrow/a-2020.yaml",
                "raw/bone_marrow/c-2020.yaml",
                "raw/adipose/d-2020.yaml",
            ]
        }
    )
    ledger = ledger_output.ledger(records, studies, problems, "raw/")
    assert ledger["by_folder"] == {
        ".": {"read": 1, "included": 0, "rejected": 1},
        "adipose": {"read": 1, "included": 1, "rejected": 0},  # a warning never rejects
        "bone_marrow": {"read": 3, "included": 2, "rejected": 1},
    }
    assert (ledger["files_read"], ledger["included"], ledger["rejected"]) == (5, 3, 2)
    assert ledger["rejected_files"] == ["raw/bone_marrow/b-2020.yaml", "raw/e-2020.yaml"]
    markdown = ledger_output.render_markdown(ledger)
    assert "| bone_marrow | 3 | 2 | 1 |" in markdown
    assert "| adipose | 1 | 1 | 0 |" in markdown


def test_a_file_neither_included_nor_reported_is_a_bug_not_a_silent_loss():
    studies = pl.DataFrame({"raw_file": list(FILES)[:-1]})
    with pytest.raises(RuntimeError, match=r"raw/e-2020\.yaml"):
        ledger_output.ledger(_records(FILES), studies, [], "raw")


def test_raw_checksum_changes_with_any_file_content_or_name():
    base = ledger_output.raw_checksum(_records(FILES))
    assert base == ledger_output.raw_checksum(_records(dict(reversed(FILES.items()))))  # order-free
    changed = {**FILES, "raw/adipose/d-2020.yaml": b"d2"}
    assert ledger_output.raw_checksum(_records(changed)) != base
    renamed = {k.replace("e-2020", "f-2020"): v for k, v in FILES.items()}
    assert ledger_output.raw_checksum(_records(renamed)) != base
    assert ledger_output.raw_checksum(_records(dict(list(FILES.items())[:-1]))) != base
    # the documented digest: SHA-256 over "path<TAB>sha256<LF>" in path order
    expected = hashlib.sha256(
        "".join(
            f"{path}\t{hashlib.sha256(FILES[path]).hexdigest()}\n" for path in sorted(FILES)
        ).encode()
    ).hexdigest()
    assert base == expected


def test_markdown_escapes_pipes_and_newlines_of_problem_text():
    """A `|` or a line break in a message would end the Markdown table row or list item."""
    problems = [Problem("raw/e-2020.yaml", 2, "title", "a | b\nc", "write x | y")]
    ledger = ledger_output.ledger(
        _records(FILES), pl.DataFrame({"raw_file": list(FILES)[:-1]}), problems, "raw"
    )
    markdown = ledger_output.render_markdown(ledger)
    assert "- line 2, `title`: a \\| b c. **Fix:** write x \\| y _(ingest)_" in markdown
    assert "Files read: **5** · included: **4** · rejected: **1**" in markdown
    assert f"`{ledger_output.raw_checksum(_records(FILES))}`" in markdown


def test_build_summary_counts_per_source_in_table_order_with_added_papers_apart(tables):
    studies = pl.DataFrame(
        {
            "source": ["adipose", "bone_marrow", "bone_marrow", "bone_marrow"],
            "review_row": [1, 1, None, None],
            "in_vitro": [True, None, False, True],
            "in_vivo": [None, "x (Rat)", "y (Mouse)", None],
            "clinical_patients": [None, None, 4, None],
        },
        schema_overrides={"review_row": pl.Int64, "clinical_patients": pl.Int64},
    )
    problems = [
        {"file": "raw/adipose/w-2020.yaml", "severity": WARNING},
        {"file": "raw/adipose/z-2020.yaml", "severity": "error"},
    ]
    ledger = {
        "files_read": 6,
        "rejected": 1,
        "rejected_files": ["raw/adipose/z-2020.yaml"],
        "problems": problems,
        "raw_checksum": "ab" * 32,
    }
    summary = ledger_output.build_summary(studies, ledger, tables, "exclude")
    assert [s["source"] for s in summary["by_source"]] == [t.key for t in tables]
    by_source = {s["source"]: s for s in summary["by_source"]}
    assert by_source["bone_marrow"] == {
        "source": "bone_marrow",
        "label": "Bone marrow",
        "table": 1,
        "studies": 3,
        "added": 2,
        "in_vitro": 1,
        "animal": 2,
        "clinical": 1,
    }
    assert by_source["adipose"] | {"label": None} == {
        "source": "adipose",
        "label": None,
        "table": 2,
        "studies": 1,
        "added": 0,
        "in_vitro": 1,
        "animal": 0,
        "clinical": 0,
    }
    # a configured source without studies is there, with zeros
    cord = {k: v for k, v in by_source["umbilical_cord"].items() if k not in ("label", "table")}
    assert cord == {
        "source": "umbilical_cord",
        "studies": 0,
        "added": 0,
        "in_vitro": 0,
        "animal": 0,
        "clinical": 0,
    }
    assert {k: summary[k] for k in ("studies", "added", "tables", "files_read", "rejected")} == {
        "studies": 4,
        "added": 2,
        "tables": 3,
        "files_read": 6,
        "rejected": 1,
    }
    assert summary["warnings"] == 1
    assert summary["rejected_files"] == ["raw/adipose/z-2020.yaml"]
    assert (summary["on_invalid"], summary["raw_checksum"]) == ("exclude", "ab" * 32)
