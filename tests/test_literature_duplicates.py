"""Duplicate references: keys, groups, what is already in raw/, and the stroke benchmark."""

from __future__ import annotations

from literature_shared import SHARED, needs_shared

from exosynth.literature.duplicates import (
    Known,
    deduplicate,
    group_references,
    score_pairs,
)
from exosynth.literature.read import read_path
from exosynth.literature.references import Reference

STROKE = SHARED / "CoLRev-Environment+bib-dedupe" / "stroke"


def ref(record: int, **fields: object) -> Reference:
    return Reference(file="f.ris", record=record, line=None, format="ris", **fields)  # type: ignore[arg-type]


def test_doi_pmid_and_title_join_transitively() -> None:
    a = ref(1, doi="10.1/x", title="Alpha beta gamma delta", year=2019, first_author="Smith")
    b = ref(2, doi="10.1/x", pmid="123")
    c = ref(3, pmid="123", title="Other")
    d = ref(4, title="Alpha beta gamma delta. [Chinese]", year=2019, first_author="Smith J")
    e = ref(5, title="Alpha beta gamma delta", year=2020, first_author="Smith")
    groups = group_references([a, b, c, d, e])
    assert sorted(map(sorted, groups)) == [[0, 1, 2, 3], [4]]


def test_same_title_year_author_in_two_unrelated_journals_is_not_merged() -> None:
    a = ref(
        1,
        title="Aphasia rehabilitation: state of the evidence",
        year=2010,
        first_author="Graham",
        journal="Stroke",
    )
    b = ref(
        2,
        title="Aphasia rehabilitation: state of the evidence",
        year=2010,
        first_author="Graham",
        journal="Canadian Journal of Neurological Sciences",
    )
    c = ref(
        3,
        title="Aphasia rehabilitation: state of the evidence",
        year=2010,
        first_author="Graham",
        journal="STROKE",
    )
    assert sorted(map(sorted, group_references([a, b, c]))) == [[0, 2], [1]]


def test_a_dropped_subtitle_matches_but_two_subtitles_do_not() -> None:
    main = "Prospective memory intervention for adolescents with brain injury"
    a = ref(1, title=f"{main}: a preliminary study", year=2012, first_author="Rous")
    b = ref(2, title=f"{main}: developmental factors", year=2012, first_author="Rous")
    c = ref(3, title=main, year=2012, first_author="Rous")
    assert len(group_references([a, b])) == 2
    assert len(group_references([a, c])) == 1


def test_known_works_are_not_written_and_say_which_file() -> None:
    known = [Known(file="raw/bone_marrow/smith-2019.yaml", pmid="123")]
    kept, duplicates = deduplicate(
        [ref(1, pmid="123", title="t"), ref(2, doi="10.1/y"), ref(3, doi="10.1/Y")], known
    )
    assert [r.record for r in kept] == [2]
    assert [(d.reference.record, d.of, d.by) for d in duplicates] == [
        (1, "raw/bone_marrow/smith-2019.yaml", "pmid"),
        (3, "f.ris record 2", "doi"),
    ]


def test_kept_reference_takes_empty_fields_and_flags_conflicting_decisions() -> None:
    kept, _ = deduplicate(
        [
            ref(1, doi="10.1/x", decision="include"),
            ref(2, doi="10.1/x", pmid="9", decision="exclude"),
        ],
        [],
    )
    assert kept[0].pmid == "9"
    assert kept[0].decision == "conflict"


def test_score_pairs() -> None:
    assert score_pairs([["a", "b", "c"]], [["a", "b"], ["c", "d"]]) == {
        "true_pairs": 2,
        "found": 1,
        "missed": 1,
        "false": 2,
    }


@needs_shared
def test_stroke_benchmark_no_false_merges() -> None:
    """Rathbone et al.'s stroke set as bib-dedupe prepared it: 479 true pairs in 196 groups.
    Exact keys find 462 and merge no two different works (bib-dedupe 0.11: 477, 0)."""
    references = read_path(STROKE / "records_pre_merged.csv").references
    groups = [
        [references[i].key or "" for i in g] for g in group_references(references) if len(g) > 1
    ]
    lines = (STROKE / "merged_record_ids.csv").read_text(encoding="utf-8").split("\n")[1:]
    truth = [line.strip().strip('"').split(";") for line in lines if line.strip()]
    score = score_pairs(groups, truth)
    assert score["true_pairs"] == 479
    assert score["false"] == 0
    assert score["found"] >= 462
