"""Condition groups: one column of the study table, made by the normalize stage from the
vocabulary, read by the analyses, and the conditions no group claims listed in the report.

The condition map and the evidence map are in tests/test_figures.py and
tests/test_evidence_map.py, time to translation in tests/test_stats.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from conftest import make_good_record, shipped_condition_groups, write_raw_record

from exosynth.analysis_groups import unclaimed_conditions, with_condition_groups
from exosynth.outputs.ledger import render_html, render_markdown
from exosynth.outputs.tables import table_rows
from exosynth.synthesis.analyses import synthesize

AKI = "Acute kidney injury"
WRITTEN = {  # record id -> condition as written
    "cis-2020": "Acute kidney injury (Cisplatin-induced)",
    "ir-2020": "Acute kidney injury (I/R-induced)",
    "isch-2021": "Ischemia/reperfusion-induced acute kidney injury",
    "liv-2021": "Liver disease",
    "liv-2022": "Liver  disease",  # the same, spaced otherwise
}


def _write(project: Path) -> None:
    for record_id, condition in WRITTEN.items():
        text = make_good_record(
            record_id,
            ("review_row: 1\n", ""),
            ("  ref: 23\n", ""),
            ("condition: Liver disease", f"condition: {condition}"),
            ("year: 2018", f"year: {record_id[-4:]}"),
        )
        write_raw_record(project, "bone_marrow", record_id, text)


def test_a_condition_written_three_ways_is_one_group_and_stays_as_written(
    tmp_path, build_studies, tables
) -> None:
    _write(tmp_path / "p")
    studies, problems = build_studies(tmp_path / "p" / "raw")
    assert [p for p in problems if p.is_error] == []
    rows = dict(studies.select("id", "condition_group").iter_rows())
    assert rows == {
        "cis-2020": AKI,
        "ir-2020": AKI,
        "isch-2021": AKI,
        # no group claims it: its own group, trimmed, so the two spellings are one
        "liv-2021": "Liver disease",
        "liv-2022": "Liver disease",
    }
    # The condition as written is what the table shows.
    written = dict(studies.select("id", "condition").iter_rows())
    assert written == WRITTEN
    [bone_marrow] = [t for t in tables if t.key == "bone_marrow"]
    assert table_rows(studies, bone_marrow)["Condition"].to_list() == [
        WRITTEN[i] for i in studies["id"]
    ]
    # The unclaimed condition is listed once, with its studies.
    listed = unclaimed_conditions(studies, shipped_condition_groups())
    assert listed.rows() == [("Liver disease", 2, 0)]


def test_unclaimed_conditions_count_their_studies_with_outcome_data() -> None:
    frame = pl.DataFrame(
        {
            "condition": ["Neural injury", "Neural injury", "Cancer", "AKI", "Stroke"],
            "outcomes": ["[]", None, None, "[]", None],
        }
    )
    grouped = with_condition_groups(frame, shipped_condition_groups())
    assert grouped["condition_group"].to_list() == [
        "Neural injury",
        "Neural injury",
        "Cancer",
        AKI,
        "Ischaemic stroke",
    ]
    assert unclaimed_conditions(grouped, shipped_condition_groups()).rows() == [
        ("Neural injury", 2, 1),  # most studies first
        ("Cancer", 1, 0),
    ]
    # Without groups every condition is its own; with nothing unclaimed, nothing is listed.
    assert with_condition_groups(frame)["condition_group"].to_list() == frame["condition"].to_list()
    claimed = grouped.filter(pl.col("condition").is_in(["AKI", "Stroke"]))
    assert unclaimed_conditions(claimed, shipped_condition_groups()).is_empty()


def _summary(unclaimed: list[dict]) -> dict:
    return {
        "files_read": 3,
        "included": 3,
        "rejected": 0,
        "raw_checksum": "0" * 64,
        "by_folder": {"bone_marrow": {"read": 3, "included": 3, "rejected": 0}},
        "rejected_files": [],
        "errors": 0,
        "warnings": 0,
        "problems": [],
        "unclaimed_conditions": unclaimed,
    }


def test_the_report_lists_each_unclaimed_condition_with_its_studies_and_the_fix() -> None:
    unclaimed = [
        {"condition": "Neural injury", "n_studies": 2, "n_with_outcomes": 1},
        {"condition": "Cancer | rare", "n_studies": 1, "n_with_outcomes": 0},
    ]
    markdown = render_markdown(_summary(unclaimed))
    note = markdown[markdown.index("## Conditions no group claims (2)") :]
    assert "`conditions:` in `config/vocabulary.yaml`" in note
    assert "| Condition | Studies | With outcome data |" in note
    assert "| Neural injury | 2 | 1 |" in note
    assert "| Cancer \\| rare | 1 | 0 |" in note  # a table cell cannot break the table
    html = render_html(_summary(unclaimed))
    assert "<h2>Conditions no group claims (2)</h2>" in html
    assert "<td>Neural injury</td>" in html
    assert "config/vocabulary.yaml" in html
    # Without outcome data anywhere, no column of zeros; with nothing unclaimed, no note.
    plain = render_markdown(_summary([unclaimed[1] | {"n_with_outcomes": 0}]))
    assert "| Condition | Studies |\n" in plain
    assert "no group claims" not in render_markdown(_summary([]))
    assert "no group claims" not in render_html(_summary([]))


def test_the_analyses_pool_by_the_column() -> None:
    entry = {
        "outcome": "Infarct size",
        "direction": "lower_is_better",
        "control": {"n": 10, "mean": 30.0, "sd": 5.0},
        "treated": [{"n": 10, "mean": 20.0, "sd": 5.0}],
    }
    studies = pl.DataFrame(
        {
            "id": ["a-2020", "b-2021", "c-2022"],
            "source": ["bone_marrow", "adipose", "adipose"],
            "condition": ["Stroke", "Ischaemic stroke (MCAO)", "Cerebral ischemia"],
            "year": [2020, 2021, 2022],
            "raw_file": ["a.yaml", "b.yaml", "c.yaml"],
            "outcomes": [json.dumps([entry])] * 3,
        }
    )
    grouped = with_condition_groups(studies, shipped_condition_groups())
    pooled = synthesize(grouped).pooled.filter(source="all", method="REML", measure="smd")
    assert pooled.select("condition", "k_studies").rows() == [("Ischaemic stroke", 3)]
    # The column is read as it is, not re-derived from the condition as written.
    moved = grouped.with_columns(condition_group=pl.lit("Placed by hand"))
    assert set(synthesize(moved).effects["condition"]) == {"Placed by hand"}
