"""Risk of bias, EV characterisation, dose and route (issue 22): the record blocks, their
spellings, the per-source summaries, EV-TRACK completeness, the low-risk sensitivity
analysis and the robvis-style figures."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from exosynth import settings
from exosynth.outputs.columns import TABLE_COLUMNS
from exosynth.outputs.figures import render
from exosynth.outputs.quality_figures import summary_bar_figure, traffic_light_figure
from exosynth.quality_terms import ITEM_CODES, ITEM_LABELS, DoseUnit, QualityTerms, fold_term
from exosynth.studies.quality_blocks import located, quality_blocks
from exosynth.studies.records import parse_study
from exosynth.synthesis import quality, vesicles
from exosynth.vocabulary import UnknownTerm

REPO = Path(__file__).resolve().parents[1]
FULL_RECORD = """\
id: smith-2020
source: bone marrow
citation: {first_author: Smith, year: 2020}
condition: Stroke
in_vivo:
- model: MCAO
  species: Rat
risk_of_bias:
  sequence_generation: low
  baseline_characteristics: {judgement: low, support: "similar weights"}
  allocation_concealment: unclear
  random_housing: unclear
  blinding_caregivers: unclear
  random_outcome_assessment: unclear
  blinding_assessors: {judgement: low, support: "assessors blinded"}
  incomplete_outcome_data: low
  selective_reporting: unclear
  other_bias: high
ev:
  isolation: ultracentrifugation
  centrifugation: 100,000 g, 70 min
  particles: NTA
  size: NTA
  markers_positive: [CD63, CD81, TSG101]
  markers_negative: [calnexin]
  imaging: TEM
dose: {value: 100, unit: ug protein}
route: intravenous
"""


@pytest.fixture(scope="module")
def terms() -> QualityTerms:
    raw = settings.validate_against(
        settings.load_yaml(REPO / "config" / "vocabulary.yaml"),
        REPO / "schemas" / "vocabulary.schema.yaml",
        "config/vocabulary.yaml",
    )
    return QualityTerms.from_vocabulary(raw)


def _record(**changes: object) -> bytes:
    document = yaml.safe_load(FULL_RECORD)
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return yaml.safe_dump(document, sort_keys=False).encode("utf-8")


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value)


def _records(**blocks: list) -> pl.DataFrame:
    """A record frame as ingest hands it on: raw_file and the blocks as JSON text."""
    n = len(next(iter(blocks.values())))
    return pl.DataFrame(
        {
            "raw_file": [f"raw/bone_marrow/s{i}.yaml" for i in range(n)],
            **{
                name: pl.Series([_json(v) for v in blocks.get(name, [None] * n)], dtype=pl.String)
                for name in ("risk_of_bias", "ev", "dose", "route")
            },
        }
    )


def _rob(**judgements: str) -> dict:
    """A canonical risk_of_bias block: every item unclear but those given."""
    return {
        item: {"judgement": judgements.get(item, "unclear"), "support": None} for item in ITEM_CODES
    }


def _studies(rows: list[dict]) -> pl.DataFrame:
    """A normalized study table with the columns the quality functions read."""
    columns = ("risk_of_bias", "ev", "dose", "route")
    return pl.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "source": [r["source"] for r in rows],
            "in_vitro": [r.get("in_vitro", True) for r in rows],
            "in_vivo": [r.get("in_vivo", "Model (Rat)") for r in rows],
            "clinical_patients": pl.Series([r.get("clinical") for r in rows], dtype=pl.Int64),
            **{c: pl.Series([_json(r.get(c)) for r in rows], dtype=pl.String) for c in columns},
        }
    )


# -- the record contract ---------------------------------------------------------------
def test_a_record_with_every_block_filled_is_accepted(validator):
    parsed = parse_study("raw/bone_marrow/smith-2020.yaml", FULL_RECORD.encode(), validator)
    assert parsed.problems == []
    assert parsed.accepted


def test_the_schema_names_syrcles_ten_items_in_the_tools_order(repo_root):
    schema = json.loads((repo_root / "schemas" / "study.schema.json").read_text("utf-8"))
    assert tuple(schema["properties"]["risk_of_bias"]["properties"]) == ITEM_CODES
    config_schema = yaml.safe_load((repo_root / "schemas" / "config.schema.yaml").read_text())
    low_risk = config_schema["properties"]["quality"]["properties"]["low_risk_items"]
    assert tuple(low_risk["items"]["enum"]) == ITEM_CODES
    assert low_risk["default"] == ["sequence_generation", "blinding_assessors"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (
            {"risk_of_bias": {"sequence_generation": "maybe"}},
            "risk_of_bias.sequence_generation",
            "risk_of_bias.judgement",
        ),
        (
            {"risk_of_bias": {"sequence_generation": True}},  # YAML's reading of "yes"
            "risk_of_bias.sequence_generation",
            "risk_of_bias.judgement",
        ),
        (
            {"risk_of_bias": {"sequence_generation": {"judgement": "lo"}}},
            "risk_of_bias.sequence_generation.judgement",
            "risk_of_bias.judgement",
        ),
        ({"risk_of_bias": {"rob_score": 7}}, "risk_of_bias.rob_score", "risk_of_bias.summed_score"),
        ({"syrcle_score": 7}, "syrcle_score", "risk_of_bias.summed_score"),
        ({"total": 5}, "total", "risk_of_bias.summed_score"),
        ({"dose": {"value": 100}}, "dose.unit", "schema.required"),
        ({"dose": {"value": 0, "unit": "ug"}}, "dose.value", "schema.range"),
        ({"dose": {"value": "1e10", "unit": "particles"}}, "dose.value", "schema.type"),
    ],
)
def test_each_bad_block_value_is_one_problem_with_its_code_line_and_fix(
    validator, change, field, code
):
    parsed = parse_study("raw/bone_marrow/smith-2020.yaml", _record(**change), validator)
    assert not parsed.accepted
    assert [(p.field, p.code) for p in parsed.problems] == [(field, code)]
    (problem,) = parsed.problems
    assert problem.line
    assert problem.hint


def test_a_summed_score_is_refused_saying_why(validator):
    text = _record(rob_total=12)
    parsed = parse_study("raw/bone_marrow/smith-2020.yaml", text, validator)
    (problem,) = parsed.problems
    assert "SYRCLE's authors advise against" in problem.message
    assert problem.line == text.decode().splitlines().index("rob_total: 12") + 1


def test_a_summed_score_beside_an_unknown_item_is_one_problem_each(validator):
    change = {"risk_of_bias": {"blinding": "low", "total": 3}}
    parsed = parse_study("raw/bone_marrow/smith-2020.yaml", _record(**change), validator)
    assert sorted((p.field, p.code) for p in parsed.problems) == [
        ("risk_of_bias.blinding", "schema.unknown_field"),
        ("risk_of_bias.total", "risk_of_bias.summed_score"),
    ]


def test_bad_values_of_every_block_come_out_in_one_round(validator):
    change = {
        "risk_of_bias": {"sequence_generation": "yes please", "total": 3},
        "dose": {"value": 5},
        "route": 7,
    }
    parsed = parse_study("raw/bone_marrow/smith-2020.yaml", _record(**change), validator)
    assert sorted(p.code for p in parsed.problems) == [
        "risk_of_bias.judgement",
        "risk_of_bias.summed_score",
        "schema.required",
        "schema.type",
    ]
    hint = next(p.hint for p in parsed.problems if p.code == "schema.required")
    assert "ug protein, particles, cell equivalents or ml conditioned medium" in hint


# -- spellings -------------------------------------------------------------------------
def test_spellings_fold_to_codes(terms):
    assert fold_term("I.V.") == "iv"
    assert terms.routes.match("i.v.") == "intravenous"
    assert terms.routes.match("Tail vein injection") == "intravenous"
    assert terms.routes.match("intra-articular") == "local"
    assert terms.isolation.match("Size-exclusion chromatography") == "size_exclusion_chromatography"
    assert terms.isolation.match("ExoQuick") == "precipitation"
    assert terms.isolation.match("TFF") == "ultrafiltration"
    assert terms.match_dose_unit("µg/kg") == DoseUnit("ug_protein", per_kg=True)
    assert terms.match_dose_unit("μg protein per kg body weight") == DoseUnit("ug_protein", True)
    assert terms.match_dose_unit("particles") == DoseUnit("particles", per_kg=False)
    assert terms.match_dose_unit("mL CM") == DoseUnit("ml_conditioned_medium", per_kg=False)


def test_an_unknown_spelling_gets_the_closest_labels(terms):
    found = terms.routes.match("intravenos")
    assert isinstance(found, UnknownTerm)
    assert found.suggestions[0] == "Intravenous"
    nothing = terms.routes.match("zzz")
    assert isinstance(nothing, UnknownTerm)
    assert "Intraperitoneal" in nothing.hint


def test_blocks_become_codes_and_bad_spellings_are_problems_in_one_round(terms):
    records = _records(
        risk_of_bias=[{"sequence_generation": "low", "other_bias": {"judgement": "high"}}, None],
        ev=[{"isolation": ["UC", "SEC"], "markers_negative": []}, {"isolation": "magnets"}],
        dose=[{"value": 5, "unit": "ug/kg"}, {"value": 5, "unit": "spoons"}],
        route=["i.p.", ["IV", "intravenus"]],
    )
    found, problems = quality_blocks(records, terms)
    by_code = {(p.code, p.file, p.field) for p in problems}
    assert by_code == {
        ("vocabulary.isolation", "raw/bone_marrow/s1.yaml", "ev.isolation"),
        ("vocabulary.dose_unit", "raw/bone_marrow/s1.yaml", "dose.unit"),
        ("vocabulary.route", "raw/bone_marrow/s1.yaml", "route[1]"),
    }
    route = next(p for p in problems if p.code == "vocabulary.route")
    assert '"Intravenous"' in route.hint
    first = found.row(0, named=True)
    rob = json.loads(first["risk_of_bias"])
    assert list(rob) == sorted(ITEM_CODES)  # canonical: every item, keys sorted
    assert rob["sequence_generation"]["judgement"] == "low"
    assert rob["other_bias"]["judgement"] == "high"
    assert rob["random_housing"] == {"judgement": "unclear", "support": None}  # not judged
    ev = json.loads(first["ev"])
    assert ev["isolation"] == ["ultracentrifugation", "size_exclusion_chromatography"]
    assert ev["markers_negative"] is None
    assert ev["particles"] is None
    assert json.loads(first["dose"]) == {"value": 5, "unit": "ug_protein", "per_kg": True}
    assert json.loads(first["route"]) == ["intraperitoneal"]
    assert found["risk_of_bias"][1] is None  # not assessed stays null


def test_spelling_problems_get_the_line_of_their_field(terms):
    text = "id: s0\nroute:\n- IV\n- intravenus\nev: {isolation: magnets}\n"
    records = _records(ev=[{"isolation": "magnets"}], route=[["IV", "intravenus"]])
    _, problems = quality_blocks(records, terms)
    lines = {p.field: p.line for p in located(problems, {"raw/bone_marrow/s0.yaml": text}.get)}
    assert lines == {"route[1]": 4, "ev.isolation": 5}


# -- risk of bias ----------------------------------------------------------------------
SOURCES_ROWS = [
    {"id": "bm-1", "source": "bone_marrow", "risk_of_bias": _rob(sequence_generation="low",
     blinding_assessors="low"), "clinical": 10},
    {"id": "bm-2", "source": "bone_marrow", "risk_of_bias": _rob(sequence_generation="high",
     blinding_assessors="low")},
    {"id": "bm-3", "source": "bone_marrow"},  # not assessed
    {"id": "ad-1", "source": "adipose", "risk_of_bias": _rob(sequence_generation="low",
     blinding_assessors="low")},
    {"id": "ad-2", "source": "adipose", "risk_of_bias": _rob(sequence_generation="low",
     blinding_assessors="unclear"), "clinical": 3},
    {"id": "uc-1", "source": "umbilical_cord", "risk_of_bias": _rob(sequence_generation="unclear",
     other_bias="high")},
]  # fmt: skip


def test_the_long_frame_has_ten_rows_per_assessed_study_and_none_for_the_others():
    studies = _studies(SOURCES_ROWS)
    rob = quality.risk_of_bias(studies)
    assert rob.columns[:4] == list(quality.ROB_COLUMNS)
    assert rob.height == 50
    assert "bm-3" not in rob["study_id"].to_list()
    assert rob.filter(pl.col("study_id") == "bm-1")["item"].to_list() == list(ITEM_CODES)
    row = rob.filter((pl.col("study_id") == "bm-2") & (pl.col("item") == "sequence_generation"))
    assert row["judgement"].to_list() == ["high"]


def test_the_summary_gives_each_sources_shares_per_item(tables):
    studies = _studies(SOURCES_ROWS)
    summary = quality.risk_of_bias_summary(studies, quality.risk_of_bias(studies), tables)
    assert summary["source"].unique(maintain_order=True).to_list() == [
        "bone_marrow", "adipose", "umbilical_cord", "all",
    ]  # fmt: skip
    assert summary.height == 4 * 10

    def cell(source: str, item: str) -> dict:
        return summary.filter((pl.col("source") == source) & (pl.col("item") == item)).row(
            0, named=True
        )

    bm = cell("bone_marrow", "sequence_generation")
    assert (bm["n_studies"], bm["n_assessed"], bm["n_not_assessed"]) == (3, 2, 1)
    assert (bm["n_low"], bm["n_unclear"], bm["n_high"]) == (1, 0, 1)
    assert (bm["share_low"], bm["share_high"]) == (0.5, 0.5)
    ad = cell("adipose", "blinding_assessors")
    assert (ad["share_low"], ad["share_unclear"], ad["share_high"]) == (0.5, 0.5, 0.0)
    everything = cell("all", "other_bias")
    assert (everything["n_assessed"], everything["n_high"]) == (5, 1)
    assert everything["share_high"] == 0.2


def test_low_risk_means_low_on_every_configured_item():
    rob = quality.risk_of_bias(_studies(SOURCES_ROWS))
    assert quality.low_risk_ids(rob, ["sequence_generation", "blinding_assessors"]) == [
        "bm-1",
        "ad-1",
    ]
    assert quality.low_risk_ids(rob, ["blinding_assessors"]) == ["bm-1", "bm-2", "ad-1"]
    with pytest.raises(ValueError, match="not SYRCLE items: blinding"):
        quality.low_risk_ids(rob, ["blinding"])


def test_the_sensitivity_analysis_recomputes_the_gap_over_low_risk_studies(tables):
    studies = _studies(SOURCES_ROWS)
    found = quality.sensitivity(studies, quality.risk_of_bias(studies), tables)
    rows = {r["source"]: r for r in found.iter_rows(named=True)}
    # bone marrow: 1 of 3 studies clinical; low risk: bm-1 alone, clinical.
    assert rows["bone_marrow"]["clinical_share"] == round(1 / 3, 4)
    assert (rows["bone_marrow"]["n_low_risk"], rows["bone_marrow"]["n_low_risk_clinical"]) == (1, 1)
    assert rows["bone_marrow"]["low_risk_clinical_share"] == 1.0
    assert rows["bone_marrow"]["summary"] == (
        "clinical share 33% overall, 100% among low-risk studies, n = 1"
    )
    # adipose: 1 of 2 clinical (ad-2, not low risk: blinding unclear); low risk: ad-1 only.
    assert rows["adipose"]["low_risk_clinical_share"] == 0.0
    assert rows["umbilical_cord"]["n_low_risk"] == 0
    assert "no study at low risk of bias" in rows["umbilical_cord"]["summary"]
    assert rows["all"]["n_not_assessed"] == 1
    assert (rows["all"]["n_low_risk"], rows["all"]["low_risk_clinical_share"]) == (2, 0.5)


def test_pooled_effects_are_pooled_again_over_the_low_risk_studies_only():
    """The pooling function is the build's; here a stand-in that pools by counting, so the
    test sees which studies each half was given."""
    from exosynth.synthesis.pooling import POOLED_SCHEMA  # noqa: PLC0415

    def pool(studies: pl.DataFrame) -> pl.DataFrame:
        by_source = studies.group_by("source").agg(k=pl.len(), ids=pl.col("id").sort())
        return pl.DataFrame(
            [
                {
                    **dict.fromkeys(POOLED_SCHEMA),
                    "condition": "Stroke",
                    "outcome": "infarct volume",
                    "source": row["source"],
                    "measure": "smd",
                    "method": "REML",
                    "k_studies": row["k"],
                    "k_comparisons": row["k"],
                    "estimate": float(len(",".join(row["ids"]))),
                }
                for row in by_source.sort("source").iter_rows(named=True)
            ],
            schema=POOLED_SCHEMA,
        )

    studies = _studies(SOURCES_ROWS)
    found = quality.pooled_sensitivity(studies, quality.risk_of_bias(studies), pool)
    rows = {r["source"]: r for r in found.iter_rows(named=True)}
    # low risk on the default items: bm-1 and ad-1 (test_low_risk_means_low_on_...)
    assert (rows["bone_marrow"]["k_studies"], rows["bone_marrow"]["low_risk_k_studies"]) == (3, 1)
    assert rows["bone_marrow"]["low_risk_estimate"] == float(len("bm-1"))
    assert rows["adipose"]["low_risk_k_studies"] == 1
    # umbilical cord: no study at low risk; its row stays, nothing pooled, never a guess
    assert rows["umbilical_cord"]["low_risk_k_studies"] == 0
    assert rows["umbilical_cord"]["low_risk_estimate"] is None
    assert found["low_risk_items"].unique().to_list() == ["sequence_generation;blinding_assessors"]


# -- EV characterisation, dose and route -----------------------------------------------
def test_completeness_never_divides_by_an_item_that_does_not_apply(tables):
    full = {
        "particles": "NTA", "size": "NTA", "markers_positive": ["CD63"],
        "markers_negative": ["calnexin"], "imaging": "TEM", "centrifugation": None,
    }  # fmt: skip
    studies = _studies(
        [
            {"id": "kit", "source": "adipose", "ev": {**full, "isolation": ["precipitation"]}},
            {"id": "uc", "source": "adipose", "ev": {**full, "isolation": ["ultracentrifugation"]}},
            {"id": "none", "source": "adipose", "ev": {"isolation": None}},
            {"id": "absent", "source": "adipose"},
        ]
    )
    ev = vesicles.ev_characterisation(studies)
    got = {r["study_id"]: r for r in ev.iter_rows(named=True)}
    assert (got["kit"]["n_items_reported"], got["kit"]["n_items_applicable"]) == (6, 6)
    assert got["kit"]["completeness"] == 1.0  # centrifugation does not apply to a kit
    assert (got["uc"]["n_items_reported"], got["uc"]["n_items_applicable"]) == (6, 7)
    assert got["none"]["completeness"] == 0.0
    assert "absent" not in got  # not characterised: no row, not a zero
    summary = (
        vesicles.ev_summary(studies, tables)
        .filter(pl.col("source") == "adipose")
        .row(0, named=True)
    )
    assert (summary["n_characterised"], summary["n_not_characterised"]) == (3, 1)
    assert (summary["centrifugation_reported"], summary["centrifugation_applicable"]) == (0, 1)
    assert (summary["imaging_reported"], summary["imaging_applicable"]) == (2, 3)


def test_ev_terms_count_methods_and_markers_per_source(tables):
    studies = _studies(
        [
            {"id": "a", "source": "bone_marrow", "ev": {"isolation": ["ultracentrifugation"],
             "markers_positive": ["CD63", "CD81"]}},
            {"id": "b", "source": "bone_marrow", "ev": {"isolation": ["ultracentrifugation",
             "density_gradient"], "markers_positive": ["cd63"]}},
        ]
    )  # fmt: skip
    terms = vesicles.ev_terms(vesicles.ev_characterisation(studies), tables)
    bm = terms.filter(pl.col("source") == "bone_marrow")
    assert bm.rows() == [
        ("bone_marrow", "isolation", "ultracentrifugation", 2),
        ("bone_marrow", "isolation", "density_gradient", 1),
        ("bone_marrow", "marker_positive", "CD63", 2),
        ("bone_marrow", "marker_positive", "CD81", 1),
    ]


def test_doses_are_summarised_per_unit_never_across_units(tables):
    studies = _studies(
        [
            {"id": "a", "source": "bone_marrow", "dose": {"value": 100, "unit": "ug_protein"}},
            {"id": "b", "source": "bone_marrow", "dose": {"value": 50, "unit": "ug_protein"}},
            {"id": "c", "source": "bone_marrow", "dose": {"value": 1e10, "unit": "particles"}},
            {"id": "d", "source": "bone_marrow", "dose": {"value": 5, "unit": "ug_protein",
             "per_kg": True}},
            {"id": "e", "source": "bone_marrow"},
        ]
    )  # fmt: skip
    doses = vesicles.doses(studies, tables).filter(pl.col("source") == "bone_marrow")
    assert doses.select("unit", "per_kg", "n_studies", "dose_min", "dose_max").rows() == [
        ("particles", False, 1, 1e10, 1e10),
        ("ug_protein", False, 2, 50.0, 100.0),
        ("ug_protein", True, 1, 5.0, 5.0),
        ("not_reported", None, 1, None, None),
    ]


def test_routes_count_each_study_once_per_route_and_say_not_reported(tables):
    studies = _studies(
        [
            {"id": "a", "source": "adipose", "route": ["intravenous", "intraperitoneal"]},
            {"id": "b", "source": "adipose", "route": ["intravenous"]},
            {"id": "c", "source": "adipose"},
        ]
    )
    routes = vesicles.routes(studies, tables).filter(pl.col("source") == "adipose")
    assert routes.select("route", "n_studies").rows() == [
        ("intravenous", 2),
        ("intraperitoneal", 1),
        ("not_reported", 1),
    ]


def test_assessment_counts_say_how_many_were_not_assessed(tables):
    counts = quality.assessment_counts(_studies(SOURCES_ROWS), tables)
    everything = counts.filter(pl.col("source") == "all").row(0, named=True)
    assert (everything["n_assessed"], everything["n_not_assessed"]) == (5, 1)


# -- figures ---------------------------------------------------------------------------
def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_the_traffic_light_plot_shows_each_judgement_by_colour_and_symbol(tables):
    studies = _studies(SOURCES_ROWS)
    rob = quality.risk_of_bias(studies)
    fig = traffic_light_figure(rob, tables, n_not_assessed=1)
    texts = _texts(fig)
    counts = rob.group_by("judgement").len()
    expected = dict(counts.iter_rows())
    assert texts.count("+") == expected["low"]
    assert texts.count("\u2212") == expected["high"]
    assert texts.count("?") == expected["unclear"]
    circles = list(fig.axes[0].patches)
    greens = [
        c
        for c in circles
        if c.get_facecolor()[:3] == pytest.approx((0.0, 0.6196, 0.4510), abs=1e-3)
    ]
    assert len(greens) == expected["low"]
    assert render(fig, "png") == render(traffic_light_figure(rob, tables, 1), "png")
    assert render(fig, "svg") == render(traffic_light_figure(rob, tables, 1), "svg")


def test_figures_without_any_assessment_say_so(tables):
    studies = _studies([{"id": "x", "source": "adipose"}])
    rob = quality.risk_of_bias(studies)
    fig = traffic_light_figure(rob, tables, n_not_assessed=1)
    assert any("not assessed: 1" in t for t in _texts(fig))
    summary = quality.risk_of_bias_summary(studies, rob, tables)
    assert any("not assessed: 1" in t for t in _texts(summary_bar_figure(summary, tables)))


def test_the_summary_bars_are_the_shares_of_the_summary(tables):
    studies = _studies(SOURCES_ROWS)
    summary = quality.risk_of_bias_summary(studies, quality.risk_of_bias(studies), tables)
    fig = summary_bar_figure(summary, tables)
    bone_marrow = fig.axes[0]
    widths = sorted(round(p.get_width(), 4) for p in bone_marrow.patches)
    expected = sorted(
        v
        for j in ("low", "unclear", "high")
        for v in summary.filter(pl.col("source") == "bone_marrow")[f"share_{j}"].to_list()
        if v
    )
    assert widths == expected


# -- end to end: records in three sources with mixed judgements ------------------------
FIXTURES = REPO / "tests" / "data" / "quality"
# The fixture records' judgements on the default low-risk items, and their use in people.
LOW_RISK = {"qa-2019": "bone_marrow", "qc-2021": "adipose", "qf-2022": "umbilical_cord"}
CLINICAL_FIXTURES = {"qa-2019", "qd-2021", "qe-2022"}


@pytest.fixture(scope="module")
def quality_build(tmp_path_factory, project_factory, run_snakemake) -> Path:
    """The shipped 26 papers and the six fixture records (two per source), built once."""
    project = project_factory(tmp_path_factory.mktemp("quality") / "project")
    for record in sorted(FIXTURES.rglob("*.yaml")):
        target = project / "raw" / record.parent.name / record.name
        target.write_bytes(record.read_bytes())
    done = run_snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    return project / "results"


@pytest.mark.e2e
def test_the_build_gives_each_sources_shares_and_not_assessed(quality_build):
    summary = pl.read_csv(quality_build / "quality" / "risk_of_bias_summary.csv")
    bone_marrow = summary.filter(
        (pl.col("source") == "bone_marrow") & (pl.col("item") == "sequence_generation")
    ).row(0, named=True)
    # qa-2019 low, qb-2020 high; the review's 10 bone marrow papers not assessed
    assert (bone_marrow["n_assessed"], bone_marrow["n_not_assessed"]) == (2, 10)
    assert (bone_marrow["share_low"], bone_marrow["share_high"]) == (0.5, 0.5)
    adipose = summary.filter(
        (pl.col("source") == "adipose") & (pl.col("item") == "baseline_characteristics")
    ).row(0, named=True)
    assert (adipose["n_assessed"], adipose["n_high"], adipose["share_high"]) == (1, 1, 1.0)
    cord = summary.filter(
        (pl.col("source") == "umbilical_cord") & (pl.col("item") == "blinding_assessors")
    ).row(0, named=True)
    assert (cord["n_assessed"], cord["share_low"]) == (2, 1.0)
    rob = pl.read_csv(quality_build / "quality" / "risk_of_bias.csv")
    assert rob.columns == ["study_id", "source", "item", "judgement"]
    assert rob["study_id"].n_unique() == 5
    assert rob.height == 50
    assert "not assessed: 27" in (quality_build / "quality" / "summary.md").read_text()


@pytest.mark.e2e
def test_the_low_risk_translation_gap_is_the_one_computed_by_hand(quality_build):
    studies = pl.read_csv(quality_build / "studies.csv")
    found = {
        r["source"]: r
        for r in pl.read_csv(quality_build / "quality" / "sensitivity.csv").iter_rows(named=True)
    }
    gap = {
        r["source"]: r
        for r in pl.read_csv(quality_build / "translation_gap.csv").iter_rows(named=True)
    }
    for source in ("bone_marrow", "adipose", "umbilical_cord"):
        low = [s for s, where in LOW_RISK.items() if where == source]
        clinical = [s for s in low if s in CLINICAL_FIXTURES]
        assert found[source]["n_low_risk"] == len(low)
        assert found[source]["low_risk_clinical_share"] == len(clinical) / len(low)
        assert found[source]["low_risk_translation_gap"] == 1 - len(clinical) / len(low)
        # the unrestricted half is the build's translation gap
        assert found[source]["clinical_share"] == gap[source]["clinical_share"]
        assert found[source]["n_studies"] == studies.filter(pl.col("source") == source).height
    assert found["all"]["low_risk_clinical_share"] == round(1 / 3, 4)
    assert found["all"]["summary"].endswith("33% among low-risk studies, n = 3")


@pytest.mark.e2e
def test_the_build_draws_the_figures_and_writes_the_workbook_sheets(quality_build):
    import openpyxl  # noqa: PLC0415

    for name in ("risk_of_bias_traffic_light", "risk_of_bias_summary"):
        for ext in ("png", "csv"):
            assert (quality_build / "figures" / f"{name}.{ext}").stat().st_size > 0
        # SVG only where the config asks for it (figures: {svg: true}), as every figure
        assert not (quality_build / "figures" / f"{name}.svg").exists()
    assert (quality_build / "figures" / "risk_of_bias_traffic_light.png").read_bytes()[:4] == (
        b"\x89PNG"
    )
    book = openpyxl.load_workbook(quality_build / "exosynth.xlsx")
    assert book.sheetnames.index("Risk of bias") == book.sheetnames.index("Studies") + 1
    assert book.sheetnames.index("Vesicles and dosing") == book.sheetnames.index("Studies") + 2
    sheet = book["Risk of bias"]
    header = [c.value for c in sheet[1]]
    assert header[3:] == [ITEM_LABELS[i] for i in ITEM_CODES]  # in words
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2) if r[0].value}
    qb = rows["qb-2020"]
    assert qb[3].value == "High"
    assert qb[3].fill.fgColor.rgb.endswith("F4B6A6")
    assert qb[9].value == "Low"
    assert qb[9].fill.fgColor.rgb.endswith("B7E1CD")
    assert rows["damania-2018"][2].value == "not assessed"
    # the Studies sheet keeps studies.csv's columns: no block JSON
    studies_header = [c.value for c in book["Studies"][1]]
    assert len(studies_header) == len(pl.read_csv(quality_build / "studies.csv").columns)
    assert "Legend" in rows
    vesicles_sheet = {
        r[0].value: [c.value for c in r]
        for r in book["Vesicles and dosing"].iter_rows(min_row=2)
        if r[0].value
    }
    assert vesicles_sheet["qa-2019"][-3:] == ["7 of 7 (100%)", "100 µg protein", "Intravenous"]
    assert vesicles_sheet["qb-2020"][3] == "does not apply"
    # Tables 1-3 keep their five columns (and the added-paper column)
    assert [c.value for c in book["Table 1"][2]][:5] == list(TABLE_COLUMNS)
