"""The outcomes block: schema, checks (codes, lines, fixes, all in one round), the record row,
condition groups and outcome synonyms, and the words people read."""

from __future__ import annotations

import json

import polars as pl
import pytest

from exosynth import settings
from exosynth.analysis_groups import AnalysisGroups, fold_text, with_condition_groups
from exosynth.outputs.ledger import summary_line
from exosynth.outputs.meta_sheets import effects_sheet, meta_analysis_html, meta_analysis_sheet
from exosynth.problems import ERROR, WARNING
from exosynth.studies.records import parse_study, to_row
from exosynth.synthesis.analyses import synthesize

OUTCOMES = """\
outcomes:
- outcome: Serum creatinine
  timepoint: 72 h
  direction: lower_is_better
  sham: {n: 6, mean: 2.6, sd: 0.1}
  control: {n: 10, mean: 2.6, sd: 0.6}
  treated:
  - {label: low, n: 8, mean: 1.9, sd: 0.5, sem: 0.2}
  - {n: 1, mean: 1.4, sd: -0.5}
  - {mean: 1.4, sem: 0.1}
- outcome: BUN
  model: 3
  treated:
  - {n: 8, mean: 70, sd: 11}
- outcome: Infarct size
  direction: higher_is_better
  control: {n: 8, mean: 70, sd: 11}
"""


@pytest.fixture
def parsed(good_record, validator):
    text = good_record("smith-2020") + OUTCOMES
    return text, parse_study("raw/bone_marrow/smith-2020.yaml", text.encode(), validator)


def test_every_outcome_problem_in_one_round_with_code_line_and_fix(parsed) -> None:
    text, result = parsed
    found = {(p.code, p.field): p for p in result.problems if p.code.startswith("outcome.")}
    assert set(found) == {
        ("outcome.sd_and_sem", "outcomes[0].treated[0]"),
        ("outcome.negative_spread", "outcomes[0].treated[1].sd"),
        ("outcome.too_few_animals", "outcomes[0].treated[1].n"),
        ("outcome.missing_number", "outcomes[0].treated[2].n"),
        ("outcome.sham_equals_control", "outcomes[0].sham.mean"),
        ("outcome.no_control", "outcomes[1].control"),
        ("outcome.no_direction", "outcomes[1].direction"),
        ("outcome.model_out_of_range", "outcomes[1].model"),
        ("outcome.no_treated", "outcomes[2].treated"),
    }
    lines = text.splitlines()
    negative = found[("outcome.negative_spread", "outcomes[0].treated[1].sd")]
    assert "sd: -0.5" in lines[negative.line - 1]
    assert (
        found[("outcome.model_out_of_range", "outcomes[1].model")].line
        == lines.index("  model: 3") + 1
    )
    assert found[("outcome.missing_number", "outcomes[0].treated[2].n")].severity == WARNING
    assert found[("outcome.sham_equals_control", "outcomes[0].sham.mean")].severity == WARNING
    assert found[("outcome.no_control", "outcomes[1].control")].severity == ERROR
    assert all(p.hint for p in found.values())
    assert not result.accepted


def test_schema_catches_wrong_types_and_typos(good_record, validator) -> None:
    text = good_record("smith-2020") + (
        "outcomes:\n- outcome: x\n  direction: lower\n  control: {n: 10.5, mean: 1, sdd: 1}\n"
        "  treated:\n  - {n: 8, mean: 1, sd: 1}\n"
    )
    result = parse_study("raw/bone_marrow/smith-2020.yaml", text.encode(), validator)
    fields = {p.field for p in result.problems if p.code.startswith("schema.")}
    assert {"outcomes[0].direction", "outcomes[0].control.n"} <= fields
    assert any("sdd" in p.message or p.field.endswith("sdd") for p in result.problems)


def test_a_valid_outcome_block_travels_as_canonical_json(good_record, validator) -> None:
    block = (
        "outcomes:\n- treated:\n  - {sd: 5.3, n: 8, mean: 22.1}\n  outcome: infarct volume\n"
        "  direction: lower_is_better\n  control: {n: 10, mean: 35.2, sd: 6.1}\n"
    )
    text = good_record("smith-2020") + block
    result = parse_study("raw/bone_marrow/smith-2020.yaml", text.encode(), validator)
    assert result.problems == []
    row = to_row("raw/bone_marrow/smith-2020.yaml", "digest", result.document)
    assert row["outcomes"] == json.dumps(
        result.document["outcomes"], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert row["outcomes"].startswith('[{"control":{"mean":35.2')
    without = to_row("raw/bone_marrow/x.yaml", "d", {"id": "x"})
    assert without["outcomes"] is None


@pytest.fixture(scope="module")
def groups() -> AnalysisGroups:
    raw = settings.load_yaml(settings.Path("config/vocabulary.yaml"))
    return AnalysisGroups.from_mapping(raw)


def test_condition_groups_fold_the_spellings_of_one_condition(groups: AnalysisGroups) -> None:
    for written in (
        "Acute kidney injury (Cisplatin-induced)",
        "Acute kidney injury (I/R-induced)",
        "Ischemia/reperfusion-induced acute kidney injury",
        "AKI",
    ):
        assert groups.condition_group(written) == "Acute kidney injury", written
    assert groups.condition_group("Liver fibrosis (CCl4 model)") == "Liver fibrosis"
    assert groups.condition_group("Liver injury (experimental)") == "Liver injury and failure"
    assert groups.condition_group("Alzheimer\u2019s disease") == "Alzheimer's disease"
    assert groups.condition_group("Graft vs host disease") == "Graft-versus-host disease"
    # whole words only: "mi" is no part of "microglia", "ali" no part of "quality"
    assert groups.condition_group("Microglial activation") is None
    assert groups.condition_label("  Neural   injury ") == "Neural injury"
    assert fold_text("Alzheimer's / Disease") == "alzheimers disease"


def test_longest_term_wins_and_two_claims_are_refused() -> None:
    raw = {
        "conditions": {
            "lung": {"label": "Lung injury", "terms": ["lung"]},
            "fibrosis": {"label": "Pulmonary fibrosis", "terms": ["lung fibrosis"]},
        }
    }
    assert AnalysisGroups.from_mapping(raw).condition_group("Lung fibrosis") == (
        "Pulmonary fibrosis"
    )
    raw["conditions"]["fibrosis"]["terms"].append("lung")
    with pytest.raises(ValueError, match="'lung' is claimed by both"):
        AnalysisGroups.from_mapping(raw)


def test_outcome_synonyms(groups: AnalysisGroups) -> None:
    assert groups.outcome_label("Infarct sizes") == "infarct volume"
    assert groups.outcome_label("SCr") == "serum creatinine"
    assert groups.outcome_label("Grip-Strength") == "grip strength"


def test_last_line_counts_meta_analyses_only_when_there_are_some() -> None:
    summary = {
        "studies": 3,
        "added": 0,
        "tables": 3,
        "rejected": 0,
        "warnings": 0,
        "on_invalid": "fail",
    }
    assert "meta-analys" not in summary_line(summary, "w.xlsx", "r.md")
    assert summary_line(summary, "w.xlsx", "r.md", 1).endswith(
        "0 warnings, 1 meta-analysis -> w.xlsx"
    )
    assert ", 3 meta-analyses -> " in summary_line(summary, "w.xlsx", "r.md", 3)


def _studies() -> pl.DataFrame:
    entry = {
        "outcome": "Infarct size",
        "direction": "lower_is_better",
        "control": {"n": 10, "mean": 30.0, "sd": 5.0},
        "treated": [{"n": 10, "mean": 20.0, "sd": 5.0}],
    }
    return pl.DataFrame(
        {
            "id": ["a-2020", "b-2021"],
            "source": ["bone_marrow", "adipose"],
            "condition": ["Stroke", "Ischaemic stroke (MCAO)"],
            "year": [2020, 2021],
            "raw_file": ["a.yaml", "b.yaml"],
            "outcomes": [json.dumps([entry]), json.dumps([entry, entry])],
        }
    )


def test_sheets_are_in_words_and_say_which_entry_was_used(groups) -> None:
    result = synthesize(with_condition_groups(_studies(), groups), synonyms=groups.outcome_labels)
    labels = {"bone_marrow": "Bone marrow", "adipose": "Adipose tissue"}
    effects, _ = effects_sheet(result.effects, labels)
    assert "Hedges' g" in effects.columns
    assert set(effects["MSC source"]) == {"Bone marrow", "Adipose tissue"}
    assert effects["In the meta-analysis"].to_list() == [
        "yes",
        "no: another timepoint of the study is used",
        "yes",
    ]
    pooled, formats = meta_analysis_sheet(result.pooled, labels)
    assert set(pooled["Method"]) == {"REML random effects", "DerSimonian-Laird random effects"}
    assert "All sources" in set(pooled["MSC source"])
    assert len(formats) == pooled.width
    assert set(result.pooled["condition"]) == {"Ischaemic stroke"}
    page = meta_analysis_html(result.pooled, labels)
    assert "Ischaemic stroke" in page
    assert "smd" not in page
    assert "No outcome data" in meta_analysis_html(result.pooled.clear(), labels)
