"""The evidence map: its cells (synthesis), the filters' rule, trials by condition group, and
the page's bytes (self-contained, deterministic, escaped). The browser test is
tests/test_evidence_map_browser.py.
"""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from exosynth.analysis_groups import AnalysisGroups, with_condition_groups
from exosynth.outputs.evidence_map import (
    doi_link,
    evidence_map_page,
    map_payload,
    pubmed_link,
    trial_link,
)
from exosynth.quality_terms import ITEM_CODES
from exosynth.settings import SourceTable
from exosynth.synthesis.evidence_map import (
    NO_SPECIES,
    evidence_cells,
    filter_studies,
    trial_groups,
    with_risk_status,
)

TABLES = [
    SourceTable("bone_marrow", 1, "Bone marrow", "BM", ()),
    SourceTable("adipose", 2, "Adipose tissue", "AD", ()),
    SourceTable("umbilical_cord", 3, "Umbilical cord", "UC", ()),
]
STUDY_COLUMNS = ("id", "source", "condition", "stage", "species", "first_author", "year")


# Acute kidney injury, written three ways (the new-user trial), and a trial's "AKI".
AKI_GROUPS = AnalysisGroups.from_mapping(
    {"conditions": {"aki": {"label": "Acute kidney injury", "terms": ["aki"]}}}
)


def studies_frame(*rows: tuple, groups: AnalysisGroups | None = None) -> pl.DataFrame:
    """Studies from (id, source, condition, stage, species) tuples, with DOI/PMID/raw_file and
    the condition group the normalize stage gives them (``groups``; none: as written)."""
    frame = pl.DataFrame(
        [(*row, row[0].split("-")[0].capitalize(), 2019) for row in rows],
        schema=list(STUDY_COLUMNS),
        orient="row",
    )
    return with_condition_groups(frame, groups).with_columns(
        doi=pl.lit(None, pl.String),
        pmid=pl.lit(None, pl.String),
        raw_file=pl.format("raw/{}/{}.yaml", "source", "id"),
        risk_of_bias=pl.lit(None, pl.String),
    )


def rob_block(**judgements: str) -> str:
    """A risk_of_bias block as the study table holds it (canonical JSON text): every SYRCLE
    item unclear but those given."""
    block = {
        item: {"judgement": judgements.get(item, "unclear"), "support": None} for item in ITEM_CODES
    }
    return json.dumps(block, sort_keys=True, separators=(",", ":"))


def with_rob(studies: pl.DataFrame, blocks: dict[str, str]) -> pl.DataFrame:
    """``studies`` with the risk_of_bias blocks of ``blocks`` (study id -> JSON text)."""
    return studies.with_columns(
        risk_of_bias=pl.col("id").replace_strict(blocks, default=None, return_dtype=pl.String)
    )


LOW_ON_BOTH = rob_block(sequence_generation="low", blinding_assessors="low")
# Risk of bias (default items: sequence generation and blinding of outcome assessors): in
# bone marrow x wound healing one study at low risk, one not (high on blinding), one not
# assessed; both stroke studies at low risk; u-3 assessed, all unclear; a-1, x-1 not assessed.
ROB = {
    "b-1": LOW_ON_BOTH,
    "b-2": rob_block(sequence_generation="low", blinding_assessors="high"),
    "u-1": LOW_ON_BOTH,
    "u-2": LOW_ON_BOTH,
    "u-3": rob_block(),
}
STUDIES = with_rob(
    studies_frame(
        ("a-1", "adipose", "Wound healing", "animal", "mouse"),
        ("b-1", "bone_marrow", "Wound healing", "in_vitro", None),
        ("b-2", "bone_marrow", "Wound healing", "clinical", "human"),
        ("b-3", "bone_marrow", "Wound healing", "animal", "mouse;rat"),
        ("u-1", "umbilical_cord", "Stroke", "animal", "rat"),
        ("u-2", "umbilical_cord", "Stroke", "animal", "rat"),
        ("u-3", "umbilical_cord", "Colitis", "clinical", "human"),
        ("x-1", "dental_pulp", "Colitis", "in_vitro", None),
    ),
    ROB,
)
RATED = with_risk_status(STUDIES)


def test_cells_count_each_stage_and_take_the_highest() -> None:
    cells = evidence_cells(RATED, [t.key for t in TABLES])
    wound_bm = cells.filter(source="bone_marrow", condition_group="Wound healing").row(
        0, named=True
    )
    assert wound_bm == {
        "source": "bone_marrow",
        "condition_group": "Wound healing",
        "n_studies": 3,
        "n_in_vitro": 1,
        "n_animal": 1,
        "n_clinical": 1,
        "highest_stage": "clinical",
        # 1 at low risk, 1 not, 1 not assessed: the share is of the 2 assessed.
        "n_assessed": 2,
        "n_low_risk": 1,
        "low_risk_share": 0.5,
        "risk_class": "some_low",
    }
    assert cells.filter(source="umbilical_cord", condition_group="Stroke").row(0)[2:] == (
        2,
        0,
        2,
        0,
        "animal",
        2,
        2,
        1.0,
        "all_low",
    )
    # Every study is counted once.
    assert cells.get_column("n_studies").sum() == STUDIES.height


def test_cells_order_groups_by_studies_then_stage_then_name_and_sources_by_table() -> None:
    cells = evidence_cells(STUDIES, [t.key for t in TABLES])
    assert cells.select("condition_group", "source").rows() == [
        ("Wound healing", "bone_marrow"),  # 4 studies
        ("Wound healing", "adipose"),
        ("Colitis", "umbilical_cord"),  # 2 studies, clinical: before Stroke (2, animal)
        ("Colitis", "dental_pulp"),  # a source of no table comes after the configured ones
        ("Stroke", "umbilical_cord"),
    ]


def test_cells_are_the_condition_group_column_of_the_study_table() -> None:
    rows = (
        ("k-1", "adipose", "Acute kidney injury (Cisplatin-induced)", "animal", "rat"),
        ("k-2", "adipose", "Acute kidney injury (I/R-induced)", "animal", "rat"),
        ("k-3", "adipose", "Ischemia/reperfusion-induced acute kidney injury", "animal", "mouse"),
    )
    # As written, three groups; the vocabulary's groups fold them into one cell.
    assert evidence_cells(studies_frame(*rows)).height == 3
    assert evidence_cells(studies_frame(*rows, groups=AKI_GROUPS)).rows() == [
        ("adipose", "Acute kidney injury", 3, 0, 3, 0, "animal", 0, 0, None, "none_assessed")
    ]
    # The cells count by the column as it is: nothing re-derives the group.
    given = studies_frame(*rows).with_columns(condition_group=pl.lit("AKI"))
    assert evidence_cells(given).get_column("condition_group").to_list() == ["AKI"]
    # White space inside a condition as written does not split a group.
    spaced = studies_frame(
        ("s-1", "adipose", "Wound  healing ", "animal", "rat"),
        ("s-2", "adipose", "Wound healing", "animal", "rat"),
    )
    assert evidence_cells(spaced).get_column("n_studies").to_list() == [2]


def test_a_trial_joins_the_group_its_condition_shares_with_the_studies() -> None:
    studies = studies_frame(
        ("k-1", "adipose", "Acute kidney injury (Cisplatin-induced)", "animal", "rat"),
        groups=AKI_GROUPS,
    )
    trials = TRIALS.clear().vstack(
        pl.DataFrame(
            [("NCT09", "EVs in AKI", "msc_ev", "adipose", "AKI", "phase1", "recruiting")],
            schema=TRIALS.schema,
            orient="row",
        )
    )
    keys = map_payload(studies, trials, TABLES, AKI_GROUPS)
    assert keys["group_keys"] == {"Acute kidney injury": "acute kidney injury"}
    assert [t["groups"] for t in keys["trials"]] == [["acute kidney injury"]]
    # Without the vocabulary the trial's "AKI" is a group of its own, which no cell holds.
    assert [t["groups"] for t in map_payload(studies, trials, TABLES)["trials"]] == [["aki"]]


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        ({"species": ["rat"]}, ["b-3", "u-1", "u-2"]),  # one of several species is enough
        ({"species": [NO_SPECIES]}, ["b-1", "x-1"]),  # no species: in vitro only
        ({"species": ["mouse", NO_SPECIES]}, ["a-1", "b-1", "b-3", "x-1"]),
        ({"stages": ["clinical"]}, ["b-2", "u-3"]),
        ({"sources": ["umbilical_cord"], "stages": ["animal"]}, ["u-1", "u-2"]),
        ({"sources": []}, []),
        ({}, ["a-1", "b-1", "b-2", "b-3", "u-1", "u-2", "u-3", "x-1"]),
    ],
)
def test_filter_studies(filters: dict, kept: list[str]) -> None:
    assert sorted(filter_studies(STUDIES, **filters).get_column("id").to_list()) == kept


TRIALS = pl.DataFrame(
    {
        "trial_id": ["NCT01", "NCT02", "NCT03", "ChiCTR04"],
        "title": ["EVs for wounds", "Secretome", "EVs, no tissue", "Cord EVs"],
        "ev_class": ["msc_ev", "msc_secretome", "msc_ev", "msc_ev"],
        "source": ["bone_marrow", "bone_marrow", "unspecified", "umbilical_cord"],
        "conditions": [
            "Wound Healing|Burns|wound healing.",
            "Wound healing",
            "Stroke",
            "Colitis, Ulcerative",
        ],
        "phase": ["phase1_2", "phase2", None, "early_phase1"],
        "status": ["recruiting", "completed", "unknown_status", "not_yet_recruiting"],
    }
)


def test_trial_groups_are_msc_ev_trials_by_folded_condition_group() -> None:
    groups = trial_groups(TRIALS)
    assert groups.rows() == [
        ("NCT01", "bone_marrow", "Burns", "burns"),
        ("ChiCTR04", "umbilical_cord", "Colitis, Ulcerative", "colitis, ulcerative"),
        ("NCT03", "unspecified", "Stroke", "stroke"),
        # "Wound Healing" and "wound healing." fold alike: the trial is listed once.
        ("NCT01", "bone_marrow", "Wound Healing", "wound healing"),
    ]
    colitis = trial_groups(
        TRIALS,
        AnalysisGroups.from_mapping({"conditions": {"c": {"label": "Colitis", "terms": []}}}),
    )
    assert ("ChiCTR04", "umbilical_cord", "Colitis", "colitis") in colitis.rows()
    assert trial_groups(TRIALS.clear()).height == 0


def test_links() -> None:
    assert doi_link("10.1016/S0140-6736(20)30183-5") == (
        "https://doi.org/10.1016/S0140-6736%2820%2930183-5"
    )
    for written in ("https://doi.org/10.1/x", "http://dx.doi.org/10.1/x", "doi:10.1/x"):
        assert doi_link(written) == "https://doi.org/10.1/x"
    assert doi_link(" ") is None
    assert doi_link(None) is None
    assert pubmed_link("31234567") == "https://pubmed.ncbi.nlm.nih.gov/31234567/"
    assert trial_link("NCT04173650") == "https://clinicaltrials.gov/study/NCT04173650"
    assert trial_link("ChiCTR2000034346") is None


def test_payload_holds_the_cells_of_synthesis_and_each_study_once() -> None:
    studies = STUDIES.with_columns(
        doi=pl.when(pl.col("id") == "b-2").then(pl.lit("10.1/x")),
        pmid=pl.when(pl.col("id") == "u-1").then(pl.lit("123")),
    )
    payload = map_payload(studies, TRIALS, TABLES)
    cells = evidence_cells(with_risk_status(studies), [t.key for t in TABLES])
    assert payload["cells"] == cells.to_dicts()
    assert payload["groups"] == ["Wound healing", "Colitis", "Stroke"]
    assert [s["code"] for s in payload["sources"]] == [
        "bone_marrow",
        "adipose",
        "umbilical_cord",
        "dental_pulp",
    ]
    assert [s["code"] for s in payload["species"]] == ["human", "mouse", "rat", NO_SPECIES]
    by_id = {s["id"]: s for s in payload["studies"]}
    assert sorted(by_id) == sorted(studies.get_column("id").to_list())
    assert by_id["b-2"]["link"] == "https://doi.org/10.1/x"
    assert by_id["u-1"]["link"] == "https://pubmed.ncbi.nlm.nih.gov/123/"
    assert by_id["b-1"]["link"] is None
    assert by_id["b-3"]["species"] == ["mouse", "rat"]
    trials = {t["id"]: t for t in payload["trials"]}
    assert sorted(trials) == ["ChiCTR04", "NCT01", "NCT03"]  # MSC-EV trials only
    assert trials["NCT01"]["groups"] == ["burns", "wound healing"]
    assert trials["NCT01"]["phase"] == "Phase 1/2"
    assert trials["ChiCTR04"]["phase"] == "Early phase 1"
    assert trials["NCT03"]["phase"] == "Phase not given"
    assert trials["ChiCTR04"]["status"] == "not yet recruiting"
    assert payload["group_keys"]["Wound healing"] == "wound healing"


def _data(page: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="evidence-data">(.*?)</script>', page, re.S
    )
    assert found
    return json.loads(found.group(1))


def test_page_is_self_contained_deterministic_and_escaped() -> None:
    hostile = with_condition_groups(
        STUDIES.with_columns(
            condition=pl.when(pl.col("id") == "u-3")
            .then(pl.lit("</script><script>alert(1)</script> & co"))
            .otherwise("condition")
        )
    )
    page = evidence_map_page(hostile, TRIALS, TABLES, review="A review <2020>")
    assert page == evidence_map_page(hostile, TRIALS, TABLES, review="A review <2020>")
    # Nothing is loaded from elsewhere: no external script, style sheet, image or frame.
    assert not re.search(r"<(script|img|iframe|link)[^>]*\b(src|href)=", page, re.I)
    assert len(page) > 1_000_000  # the plotly.js bundle is inline
    # Study text cannot close the data element, and it survives the round trip.
    assert "</script><script>alert" not in page
    assert "A review &lt;2020&gt;" in page
    data = _data(page)
    assert "</script><script>alert(1)</script> & co" in data["groups"]
    assert page.count('type="checkbox"') == len(data["sources"]) + len(data["species"]) + 3


def test_page_of_no_studies_and_no_trials() -> None:
    page = evidence_map_page(STUDIES.clear(), TRIALS.clear(), TABLES)
    data = _data(page)
    assert data["cells"] == []
    assert data["studies"] == []
    assert data["trials"] == []
    assert "0 studies in 0 condition groups" in page


# -- risk of bias ----------------------------------------------------------------------------
def test_risk_status_is_low_on_every_item_assessed_or_not_assessed() -> None:
    status = dict(RATED.select("id", "risk_status").iter_rows())
    assert status == {
        "a-1": "not_assessed",
        "b-1": "low_risk",
        "b-2": "not_low_risk",  # high on blinding of outcome assessors
        "b-3": "not_assessed",
        "u-1": "low_risk",
        "u-2": "low_risk",
        "u-3": "not_low_risk",  # every item unclear: assessed, not at low risk
        "x-1": "not_assessed",
    }
    # The configured items decide: on sequence generation alone b-2 is at low risk.
    alone = with_risk_status(STUDIES, ["sequence_generation"])
    assert alone.filter(id="b-2").get_column("risk_status").item() == "low_risk"
    with pytest.raises(ValueError, match="not SYRCLE items: blinding"):
        with_risk_status(STUDIES, ["blinding"])


def test_cell_share_is_of_the_assessed_and_not_assessed_is_its_own_class() -> None:
    cells = evidence_cells(RATED, [t.key for t in TABLES])
    risk = {
        (c["source"], c["condition_group"]): (
            c["n_studies"],
            c["n_assessed"],
            c["n_low_risk"],
            c["low_risk_share"],
            c["risk_class"],
        )
        for c in cells.to_dicts()
    }
    assert risk == {
        ("bone_marrow", "Wound healing"): (3, 2, 1, 0.5, "some_low"),
        ("adipose", "Wound healing"): (1, 0, 0, None, "none_assessed"),
        ("umbilical_cord", "Colitis"): (1, 1, 0, 0.0, "none_low"),
        ("dental_pulp", "Colitis"): (1, 0, 0, None, "none_assessed"),
        ("umbilical_cord", "Stroke"): (2, 2, 2, 1.0, "all_low"),
    }
    # Without risk_status every study is not assessed, never at low risk.
    bare = evidence_cells(STUDIES, [t.key for t in TABLES])
    assert set(bare.get_column("risk_class")) == {"none_assessed"}
    assert bare.get_column("n_low_risk").sum() == 0


def test_payload_and_page_carry_the_risk_of_bias_in_words() -> None:
    payload = map_payload(STUDIES, TRIALS, TABLES)
    by_id = {s["id"]: s for s in payload["studies"]}
    assert [by_id[i]["risk"] for i in ("b-1", "b-2", "b-3")] == [
        "low_risk",
        "not_low_risk",
        "not_assessed",
    ]
    assert by_id["b-2"]["risk_items"] == (
        "Sequence generation: low; Blinding of outcome assessors: high"
    )
    assert by_id["b-3"]["risk_items"] == ""
    assert payload["risk_words"]["not_assessed"] == "Not assessed"
    assert payload["low_risk_items"] == ["Sequence generation", "Blinding of outcome assessors"]
    assert [c["code"] for c in payload["risk_classes"]] == [
        "all_low",
        "some_low",
        "none_low",
        "none_assessed",
    ]
    # Okabe-Ito as the robvis figures; not assessed is white, not the high-risk vermilion.
    colours = {c["code"]: c["colour"] for c in payload["risk_classes"]}
    assert colours == {
        "all_low": "#009E73",
        "some_low": "#F0E442",
        "none_low": "#D55E00",
        "none_assessed": "#FFFFFF",
    }
    page = evidence_map_page(STUDIES, TRIALS, TABLES, low_risk_items=["random_housing"])
    data = _data(page)
    assert data["low_risk_items"] == ["Random housing"]
    # Judged on random housing alone (unclear everywhere), no study is at low risk.
    assert {c["risk_class"] for c in data["cells"]} == {"none_low", "none_assessed"}
    assert 'name="colour" value="stage" checked' in page
    assert 'name="colour" value="risk">' in page
    assert "judged low on every one of: Random housing." in page
    assert "none of the cell&#x27;s studies was assessed; not assessed is not high risk" in page
