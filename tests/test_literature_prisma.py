"""The PRISMA 2020 flow: counts from import logs and drafts, the sums, the PRISMA2020 data
layout (rows matched by ``data``), the flow diagram; and changes since a baseline."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from literature_shared import SHARED, needs_shared

from exosynth.literature.changes import compare, to_csv, to_markdown
from exosynth.literature.flow_diagram import box_texts, flow_figure, render
from exosynth.literature.prisma import (
    Counts,
    check,
    check_values,
    count,
    fill_template,
    prisma_csv,
    read_values,
    template_values,
)
from exosynth.literature.screening import DraftState

LABELS = {
    "review_article": "Review article",
    "no_data": "No in vivo or in vitro data",
    "bone_marrow": "Bone marrow",
}


def state(
    ident: str, decision: str | None, reason: str | None = None, stage: str = "title_abstract"
) -> DraftState:
    return DraftState(ident, f"raw/inbox/{ident}.yaml", decision, reason, stage)


LOGS = [
    {
        "file": "pubmed.nbib",
        "database": "PubMed",
        "references_read": 6,
        "duplicates_removed": 0,
        "not_identified": 0,
        "drafts_written": 6,
        "drafts": ["a", "b", "c", "d", "e", "f"],
    },
    {
        "file": "embase.ris",
        "database": None,
        "references_read": 4,
        "duplicates_removed": 3,
        "not_identified": 0,
        "drafts_written": 1,
        "drafts": ["g"],
    },
]
STATES = [
    state("a", "exclude", "review_article"),
    state("b", "exclude", "review_article"),
    state("c", "exclude", "no_data", "full_text"),
    state("d", "exclude", "no_full_text", "full_text"),
    state("e", None),
    state("g", "include"),
]


def test_counts_follow_the_decisions_and_add_up() -> None:
    counts = count(LOGS, STATES, moved={"f": "bone_marrow"}, previous=26)
    assert counts.identified == [("PubMed", 6), ("embase.ris", 4)]
    assert (counts.duplicates, counts.screened, counts.records_excluded) == (3, 7, 2)
    assert counts.excluded_screening == [("review_article", 2)]
    assert (counts.awaiting, counts.sought, counts.not_retrieved, counts.assessed) == (1, 4, 1, 3)
    assert counts.excluded_full_text == [("no_data", 1)]
    assert counts.included == [("bone_marrow", 1), ("pending", 1)]
    assert check(counts, LOGS) == []


def test_a_deleted_draft_breaks_the_sums_with_a_message() -> None:
    counts = count(LOGS, STATES[1:], moved={"f": "bone_marrow"}, previous=26)
    problems = check(counts, LOGS)
    assert [p.code for p in problems] == ["prisma.sum"]
    assert "drafts written = drafts found" in problems[0].message


def test_prisma_csv_in_the_template_layout() -> None:
    counts = count(LOGS, STATES, moved={"f": "bone_marrow"}, previous=26)
    rows = {r["data"]: r["n"] for r in csv.DictReader(io.StringIO(prisma_csv(counts, LABELS)))}
    assert rows["database_results"] == "10"
    assert rows["database_specific_results"] == "PubMed, 6; embase.ris, 4"
    assert rows["records_screened"] == "7"
    assert rows["dbr_excluded"] == "No in vivo or in vitro data, 1"
    assert (rows["new_studies"], rows["total_studies"]) == ("2", "28")
    values, problems = read_values(prisma_csv(counts, LABELS), "prisma.csv")
    assert problems == []
    # awaiting screening is outside the PRISMA boxes: the template's own sums need it added
    assert [p.field for p in check_values(values, "prisma.csv")] == [
        "records_screened - records_excluded = dbr_sought_reports"
    ]
    assert (
        values["records_screened"] - values["records_excluded"] - values["awaiting_screening"]
        == values["dbr_sought_reports"]
    )  # type: ignore[operator]


@needs_shared
def test_counts_written_into_the_real_template_and_read_back() -> None:
    template = (SHARED / "prisma-flowdiagram+PRISMA2020" / "PRISMA.csv").read_text(encoding="utf-8")
    counts = Counts(
        identified=[("PubMed", 80), ("Embase", 6)],
        duplicates=6,
        screened=80,
        excluded_screening=[("review_article", 70)],
        included=[("bone_marrow", 10)],
        previous=26,
    )
    filled = fill_template(template, template_values(counts, LABELS))
    values, _ = read_values(filled, "filled")
    assert values["database_specific_results"] == [("PubMed", 80), ("Embase", 6)]
    assert (values["records_screened"], values["records_excluded"], values["new_studies"]) == (
        80,
        70,
        10,
    )
    assert check_values(values, "filled") == []
    # rows matched by data: the template's rows keep their order, descriptions and tooltips
    before = list(csv.reader(io.StringIO(template, newline="")))
    after = list(csv.reader(io.StringIO(filled, newline="")))
    assert [r[:7] for r in before] == [r[:7] for r in after]


@needs_shared
def test_the_filled_lsr3_flow_adds_up_and_its_typo_is_reported() -> None:
    text = (SHARED / "galenos-project+LSR3_taar1_H" / "LSR3_H_PRISMA_2024.01.23.csv").read_text()
    values, problems = read_values(text, "lsr3.csv")
    assert [(p.code, p.severity, p.field) for p in problems] == [
        ("prisma.item", "warning", "database_specific_results")
    ]
    assert "'EMBASE. 1332'" in problems[0].message
    assert check_values(values, "lsr3.csv") == []
    values["records_excluded"] = 3796
    assert len(check_values(values, "lsr3.csv")) == 1


def test_flow_diagram_words_and_same_bytes() -> None:
    counts = count(LOGS, STATES, moved={"f": "bone_marrow"}, previous=26)
    texts = box_texts(counts, LABELS)
    assert "Review article (n = 2)" in texts["excluded"]
    assert "Bone marrow (n = 1)" in texts["new"]
    assert texts["total"].endswith("(n = 28)")
    for fmt in ("svg", "png"):
        assert render(flow_figure(counts, LABELS), fmt) == render(flow_figure(counts, LABELS), fmt)
    assert b"Records screened" in render(flow_figure(counts, LABELS), "svg")


def _results(ids: list[str], years: list[str], gap: dict[str, str]) -> dict[str, pl.DataFrame]:
    return {
        "studies.csv": pl.DataFrame(
            {
                "id": ids,
                "source": ["bone_marrow"] * len(ids),
                "year": years,
                "raw_file": [f"raw/{i}.yaml" for i in ids],
            }
        ),
        "translation_gap.csv": pl.DataFrame(
            {
                "source": ["bone_marrow", "all"],
                "n_studies": [gap["n"], gap["n"]],
                "clinical_share": [gap["share"], gap["share"]],
            }
        ),
    }


def test_changes_added_removed_edited_and_headlines() -> None:
    before = _results(["a", "b", "c"], ["2018", "2019", "2020"], {"n": "3", "share": "0.1"})
    after = _results(["a", "c", "d"], ["2018", "2021", "2020"], {"n": "3", "share": "0.2"})
    after["studies.csv"] = after["studies.csv"].with_columns(pl.lit("moved").alias("raw_file"))
    changes, headlines = compare(before, after)
    assert changes.rows() == [
        ("study", "b", "removed", "bone_marrow", ""),
        ("study", "c", "edited", "bone_marrow", "year"),
        ("study", "d", "added", "bone_marrow", ""),
    ]
    assert ("bone_marrow", "clinical_share", "0.1", "0.2", "+0.1") in headlines.rows()
    assert ("all", "n_studies", "3", "3", "+0") in headlines.rows()
    text = to_markdown(changes, headlines, "the review", {"bone_marrow": "Bone marrow"})
    assert "- Studies: 1 added, 1 removed, 1 edited" in text
    assert "| Bone marrow | Clinical share | 0.1 | 0.2 | +0.1 |" in text
    assert to_csv(changes).split("\n")[0] == "kind,id,change,source,fields"


@pytest.mark.parametrize("side", ["baseline", "current"])
def test_changes_with_a_table_missing_on_one_side(side: str) -> None:
    full = _results(["a"], ["2018"], {"n": "1", "share": "0"})
    empty: dict[str, pl.DataFrame] = {}
    changes, _ = compare(full, empty) if side == "current" else compare(empty, full)
    assert changes.rows() == [
        ("study", "a", "removed" if side == "current" else "added", "bone_marrow", "")
    ]


def _pooled(rows: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """pooled.csv rows (outcome, source, method, estimate) of one condition and measure."""
    return pl.DataFrame(
        [("AKI", outcome, source, "smd", method, value) for outcome, source, method, value in rows],
        schema=["condition", "outcome", "source", "measure", "method", "estimate"],
        orient="row",
    )


def test_headlines_show_the_pooled_estimates_that_moved_came_and_went() -> None:
    before = _results(["a"], ["2018"], {"n": "1", "share": "0"})
    after = _results(["a"], ["2018"], {"n": "1", "share": "0"})
    before["synthesis/pooled.csv"] = _pooled(
        [("creatinine", "all", "REML", "1.5"), ("creatinine", "all", "DL", "1.4"),
         ("urea", "all", "REML", "0.5")]
    )  # fmt: skip
    after["synthesis/pooled.csv"] = _pooled(
        [("creatinine", "all", "REML", "2"), ("creatinine", "all", "DL", "1.9"),
         ("creatinine", "adipose", "REML", "2.5")]
    )  # fmt: skip
    _, headlines = compare(before, after)
    pooled = [row for row in headlines.rows() if row[1].startswith("pooled")]
    assert pooled == [  # REML only; an estimate new or gone has an empty side
        ("all", "pooled smd: AKI / creatinine", "1.5", "2", "+0.5"),
        ("adipose", "pooled smd: AKI / creatinine", "", "2.5", ""),
        ("all", "pooled smd: AKI / urea", "0.5", "", ""),
    ]
    # a baseline built before any outcome data (pooled.csv of headers only): every estimate
    # is new
    before["synthesis/pooled.csv"] = before["synthesis/pooled.csv"].clear()
    _, headlines = compare(before, after)
    assert [row[2:] for row in headlines.rows() if row[1].startswith("pooled")] == [
        ("", "2", ""),
        ("", "2.5", ""),
    ]
    # a baseline without pooled.csv (the review's) compares no pooled estimate
    del before["synthesis/pooled.csv"]
    _, headlines = compare(before, after)
    assert not [row for row in headlines.rows() if row[1].startswith("pooled")]
