"""Registered trials: every export layout read into one row shape, normalized, classified.

The real exports are read from ``../shared/trials/`` next to the checkout (tests skip with a
reason when it is absent); the project's own small fixtures are in tests/data/trials/.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from trials_shared import DATA, SHARED, SOURCES, exports_of, needs_shared
from trials_shared import build as build_exports

from exosynth import adapters
from exosynth.corpus import discover_raw_files, trial_export_files
from exosynth.outputs import columns as column_dictionary
from exosynth.outputs import workbook as workbook_output
from exosynth.settings import load_yaml, validate_against
from exosynth.synthesis import gap as gap_stats
from exosynth.trials import classify as trial_classify
from exosynth.trials import decisions as trial_decisions
from exosynth.trials import merge as trial_merge
from exosynth.trials import normalize as trial_normalize
from exosynth.trials import shape as trial_shape
from exosynth.trials.normalize import parse_date
from exosynth.trials.readers import read_export

REPO = Path(__file__).resolve().parents[1]
MSC_EXPORT = SHARED / "jesnyder+mapClinical" / "mesenchymal stem OR mesenchymal stromal.csv"


def build(paths, trial_terms, vocabulary, decisions=None) -> trial_merge.TrialsResult:
    return build_exports(trial_terms, vocabulary, *exports_of(*paths), decisions=decisions)


@pytest.fixture(scope="module")
def msc_export(trial_terms, vocabulary) -> pl.DataFrame:
    if not MSC_EXPORT.is_file():
        pytest.skip("../shared/trials/ (the real registry exports) is not here")
    result = build([MSC_EXPORT], trial_terms, vocabulary)
    assert result.problems == []
    return result.trials


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# -- the four layouts, read from the real files ----------------------------------------------
@needs_shared
def test_classic_csv_all_rows_with_their_spellings(msc_export: pl.DataFrame) -> None:
    rows = csv_rows(MSC_EXPORT)
    assert read_export("x", MSC_EXPORT.read_bytes())[0] == "classic_csv"
    assert msc_export.height == len({r["NCT Number"] for r in rows})
    by_id = {r["trial_id"]: r for r in msc_export.iter_rows(named=True)}
    for raw in rows:
        row = by_id[raw["NCT Number"]]
        assert row["phase_registry"] == (raw["Phases"] or None)  # the original string kept
        assert row["title"] == raw["Title"]
        assert row["enrollment"] == (int(raw["Enrollment"]) if raw["Enrollment"] else None)
        # Title Case statuses become lower snake case; "Unknown status" is unknown, not empty
        expected = raw["Status"].lower().replace(",", "").replace(" ", "_")
        assert row["status"] == ("unknown" if expected == "unknown_status" else expected)
        # "June 17, 2020" is a day, "January 2023" stays a month
        assert len(row["start_date"] or "") == {0: 0, 2: 7, 3: 10}[len(raw["Start Date"].split())]
    assert {"phase1_2", "early_phase1", "not_applicable", "phase2_3"} <= set(msc_export["phase"])
    assert msc_export["phase"].null_count() == sum(1 for r in rows if not r["Phases"])


@needs_shared
@pytest.mark.parametrize(
    "folder",
    ["aliza0811+Hypertension-Clinical-Trial-Analysis", "johnNoxas+mrd-article-search"],
)
def test_modern_csv_any_subset_of_columns(folder: str, trial_terms, vocabulary) -> None:
    path = SHARED / folder / "ctg-studies.csv"
    rows = csv_rows(path)
    result = build([path], trial_terms, vocabulary)
    assert read_export("x", path.read_bytes())[0] == "ctg_csv"
    assert result.problems == []
    assert result.trials.height == len({r["NCT Number"] for r in rows})
    by_id = {r["trial_id"]: r for r in result.trials.iter_rows(named=True)}
    for raw in rows:
        row = by_id[raw["NCT Number"]]
        assert row["status"] == raw["Study Status"].lower()  # UPPER_SNAKE -> lower snake
        assert row["title"] == raw["Study Title"]
        assert row["start_date"] == (raw["Start Date"] or None)  # ISO, precision kept
        if "Enrollment" not in raw:  # a column the user did not tick is empty, not an error
            assert row["enrollment"] is None
        parts = raw["Phases"].split("|") if raw["Phases"] else []
        if parts == ["PHASE1", "PHASE2"]:
            assert row["phase"] == "phase1_2"
        elif parts == ["NA"]:
            assert row["phase"] == "not_applicable"


@needs_shared
@pytest.mark.parametrize(
    ("relative", "layout"),
    [
        ("koy570+herniated_disc/ctg-studies.json", "api_array"),
        ("RuhRuh66+step25_clinical_trials/studies.json", "api_page"),
        ("bharatraja+ClinicalTrialsGPTDemoCode/studies.json", "api_page"),
    ],
)
def test_api_v2_json_array_and_page(relative: str, layout: str, trial_terms, vocabulary) -> None:
    path = SHARED / relative
    data = json.loads(path.read_text(encoding="utf-8"))
    studies = data if isinstance(data, list) else data["studies"]
    assert read_export("x", path.read_bytes())[0] == layout
    result = build([path], trial_terms, vocabulary)
    assert result.problems == []
    by_id = {r["trial_id"]: r for r in result.trials.iter_rows(named=True)}
    assert len(by_id) == len(studies)
    for study in studies:
        protocol = study["protocolSection"]
        row = by_id[protocol["identificationModule"]["nctId"]]
        design = protocol.get("designModule", {})
        assert row["enrollment"] == design.get("enrollmentInfo", {}).get("count")
        status = protocol.get("statusModule", {})
        assert row["status"] == (status["overallStatus"].lower() if status else None)
        assert row["start_date"] == status.get("startDateStruct", {}).get("date")
        if "phases" not in design:  # observational studies have none: empty, not a guess
            assert row["phase"] is None


@needs_shared
def test_an_unreadable_layout_names_the_file_and_the_missing_columns(
    trial_terms, vocabulary
) -> None:
    path = SHARED / "jvfe+pytrials" / "fields.csv"  # a CSV, but no registry export
    result = build([path], trial_terms, vocabulary)
    assert result.trials.height == 0
    (problem,) = result.problems
    assert problem.code == "trials.layout"
    assert problem.is_error
    assert problem.file == path.as_posix()
    assert "NCT Number" in problem.message


# -- one row shape: the same trial in three formats --------------------------------------------
def test_the_same_trial_in_three_formats_is_the_same_row(trial_terms, vocabulary) -> None:
    rows = []
    for name in ("same_trial_classic.csv", "same_trial_modern.csv", "same_trial_api.json"):
        result = build([DATA / name], trial_terms, vocabulary)
        assert result.problems == []
        (row,) = result.trials.drop("raw_files", "phase_registry").to_dicts()
        rows.append(row)
    assert rows[0] == rows[1] == rows[2]
    assert rows[0]["ev_class"] == "msc_ev"
    assert rows[0]["source"] == "adipose"
    assert rows[0]["phase"] == "phase1_2"
    assert rows[0]["status"] == "active_not_recruiting"
    assert (rows[0]["start_date"], rows[0]["last_update"]) == ("2020-06-17", "2023-01")


def test_duplicates_are_one_row_the_latest_update_wins(trial_terms, vocabulary, tmp_path) -> None:
    older = tmp_path / "older.csv"
    text = (DATA / "same_trial_classic.csv").read_text(encoding="utf-8")
    older.write_text(
        text.replace("January 2023", "March 2, 2021").replace(
            "Active, not recruiting", "Recruiting"
        ),
        encoding="utf-8",
    )
    newer = DATA / "same_trial_api.json"
    result = build([newer, older], trial_terms, vocabulary)
    (row,) = result.trials.to_dicts()
    assert row["status"] == "active_not_recruiting"  # from the export updated in 2023
    assert row["raw_files"].split("|") == sorted([newer.as_posix(), older.as_posix()])
    assert result.ledger["rows_read"] == 2
    assert result.ledger["trials"] == 1


# -- bad rows -----------------------------------------------------------------------------------
def test_a_bad_row_is_a_problem_naming_file_and_row_and_the_others_go_in(
    trial_terms, vocabulary
) -> None:
    path = DATA / "broken_classic.csv"
    result = build([path], trial_terms, vocabulary)
    (problem,) = result.problems
    assert (problem.file, problem.row, problem.record) == (path.as_posix(), 2, "NCT09990012")
    assert (problem.field, problem.code) == ("enrollment", "trials.enrollment")
    assert "about twenty" in problem.message
    assert f"{path.as_posix()}:3 row 2 (NCT09990012) [enrollment]" in problem.render()
    assert sorted(result.trials["trial_id"]) == ["NCT09990011", "NCT09990013"]
    # a newline inside a quoted cell stays in the title and does not shift the rows
    assert (
        "for a\nFictional Burn"
        in result.trials.filter(pl.col("trial_id") == "NCT09990013")["title"].item()
    )
    counts = result.ledger["by_file"][path.as_posix()]
    assert (counts["read"], counts["included"], counts["rejected"]) == (3, 2, 1)


@pytest.mark.parametrize(
    "case",
    [
        ("trial_id", '"NCT09990011"', '"NCT0999001"'),
        ("start_date", '"March 2021"', '"Smarch 2021"'),
        ("first_posted", '"March 3, 2021"', '"February 30, 2021"'),
        ("phase", '"Phase 1"', '"Phase 7"'),
        ("status", '"Recruiting"', '"Sleeping"'),
    ],
)
def test_each_kind_of_bad_row(case, trial_terms, vocabulary, tmp_path) -> None:
    field, old, new = case
    text = (DATA / "broken_classic.csv").read_text(encoding="utf-8-sig")
    assert text.count(old) == 1
    path = tmp_path / "export.csv"
    path.write_text(text.replace(old, new), encoding="utf-8")
    result = build([path], trial_terms, vocabulary)
    codes = sorted((p.row, p.code) for p in result.problems)
    assert codes == [(1, f"trials.{field}"), (2, "trials.enrollment")]
    assert result.trials["trial_id"].to_list() == ["NCT09990013"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("June 17, 2020", "2020-06-17"),
        ("January 2023", "2023-01"),
        ("2020-01-20", "2020-01-20"),
        ("2011-08", "2011-08"),
        ("2011", "2011"),
        ("February 29, 2021", None),
        ("2020-13", None),
        ("soon", None),
    ],
)
def test_dates_keep_their_precision(text: str, expected: str | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("written", "code"),
    [
        (["Phase 1", "Phase 2"], "phase1_2"),
        (["PHASE1", "PHASE2"], "phase1_2"),
        (["PHASE2", "PHASE3"], "phase2_3"),
        (["Early Phase 1"], "early_phase1"),
        (["EARLY_PHASE1"], "early_phase1"),
        (["NA"], "not_applicable"),
        (["Not Applicable"], "not_applicable"),
        (["Phase 4"], "phase4"),
        ([], ""),
        (["Phase 1", "Phase 3"], None),
    ],
)
def test_every_phase_spelling_maps(written, code, trial_terms) -> None:
    record = trial_shape.RegistryRecord(file="f", row=1, line=2, fmt="x", phases=written)
    assert trial_normalize._phase(record, trial_terms) == code


# -- classification, checked by hand on the 1,389 real MSC trials -----------------------------
# Each read in the export's title and interventions (reason in the comment).
HAND_CHECKED = {
    # MSC-derived EVs/exosomes given to people
    "NCT05127122": ("msc_ev", "bone_marrow"),  # "Bone Marrow MSC Derived Extracellular Vesicles"
    "NCT04388982": ("msc_ev", "adipose"),  # "Allogenic Adipose MSC-Exos" (an abbreviation)
    "NCT04213248": ("msc_ev", "umbilical_cord"),  # "UMSCs Derived Exosomes"
    "NCT05402748": ("msc_ev", "placenta"),  # "Human Placenta MSCs Derived Exosomes"
    "NCT03437759": ("msc_ev", "unspecified"),  # "MSC-Exos Promote Healing of MHs": no tissue
    "NCT04602104": ("msc_ev", "unspecified"),  # "hMSC-Exos" nebulizer: no tissue
    "NCT04493242": ("msc_ev", "bone_marrow"),  # "DB-001": ExoFlo's code, the product list
    "NCT05176366": ("msc_ev", "bone_marrow"),  # "Drug: ExoFlo", no tissue in the text
    "NCT05413148": ("msc_ev", "wharton_jelly"),  # the exosome arm is Wharton jelly MSC
    # secretome, conditioned medium, cells enriched by EVs: counted apart, never EV trials
    "NCT05122234": ("msc_secretome", "unspecified"),  # "MSC Secretome In Severe COVID-19"
    "NCT05008588": ("msc_secretome", "unspecified"),  # conditioned medium + UC-MSC
    "NCT04235296": ("msc_secretome", "unspecified"),  # "Conditioned Medium-derived Pleiotropic"
    "NCT05520125": ("msc_secretome", "unspecified"),  # "MSC Enriched by Extracellular Vesicles"
    "NCT02192736": ("msc_secretome", "umbilical_cord"),  # "Trophic factors from UC MSC"
    # MSC cell therapy (cells, not their products)
    "NCT03765957": ("other", "umbilical_cord"),  # "Human Umbilical Cord-derived MSC" psoriasis
    "NCT01051882": ("other", None),  # MSC "Secreting Neurotrophic Factors": cells (NurOwn)
    "NCT02448849": ("other", None),  # BM-MSC with platelet lysate: the lysate is a supplement
    # observational: nothing given to people
    "NCT05191381": ("other", None),  # "Immune Modulation by Exosomes", whole-blood assay
    "NCT04850469": ("other", None),  # "Study of MSC-Exo ..." registered as observational
    # not an MSC product
    "NCT02854579": ("other", None),  # neural progenitor cells and their paracrine factors
}


@needs_shared
def test_hand_checked_classifications(msc_export: pl.DataFrame) -> None:
    found = {
        r["trial_id"]: r
        for r in msc_export.filter(pl.col("trial_id").is_in(list(HAND_CHECKED))).to_dicts()
    }
    assert sorted(found) == sorted(HAND_CHECKED)
    for trial_id, (ev_class, source) in HAND_CHECKED.items():
        row = found[trial_id]
        assert row["ev_class"] == ev_class, (trial_id, row["ev_rule"], row["title"])
        if source is not None:
            assert row["source"] == source, (trial_id, row["source_term"])
    assert found["NCT05191381"]["ev_rule"] == "observational"
    assert found["NCT04493242"]["source_basis"] == "product"
    assert found["NCT05127122"]["source_basis"] == "registry"
    assert found["NCT03765957"]["ev_rule"] == "msc_cell_therapy"


@needs_shared
def test_naive_keywords_would_count_secretome_trials_as_ev(msc_export: pl.DataFrame) -> None:
    """Every trial a naive keyword search calls an EV trial is msc_ev, msc_secretome or
    observational here, and the secretome ones are a class of their own."""
    naive = msc_export.filter(
        pl.col("title").str.contains("(?i)exosom|vesicle|secretome|conditioned medium")
    )
    # "other" only where the rules say why: observational studies, a product of no MSC
    others = naive.filter(pl.col("ev_class") == "other")
    assert dict(others.select("trial_id", "ev_rule").iter_rows()) == {
        "NCT04223622": "observational",  # ASC secretome on explants: no one is treated
        "NCT05191381": "observational",  # immune modulation by exosomes in COVID-19
        "NCT04980261": "no_msc_product",  # bovine hydroxyapatite/secretome composite
    }
    assert naive.group_by("ev_class").len().sort("ev_class").rows() == [
        ("msc_ev", 25), ("msc_secretome", 11), ("other", 3),
    ]  # fmt: skip
    secretome = msc_export.filter(pl.col("ev_class") == "msc_secretome")
    assert secretome.height >= 15
    ev = msc_export.filter(pl.col("ev_class") == "msc_ev")
    # about half of the real MSC-EV records name no tissue: unspecified, never guessed
    assert 0.25 < (ev["source"] == "unspecified").mean() < 0.75
    assert (
        ev.filter(pl.col("source") == "unspecified")["source_term"].null_count()
        == (ev["source"] == "unspecified").sum()
    )


# -- decisions ------------------------------------------------------------------------------------
def test_decisions_show_in_the_outputs_with_their_reason(trial_terms, vocabulary) -> None:
    decided = {
        "NCT09990011": trial_decisions.Decision(
            "NCT09990011", "left out: a duplicate registration"
        ),
        "NCT09990013": trial_decisions.Decision(
            "NCT09990013", "Published table 2 names umbilical cord", source="umbilical_cord"
        ),
    }
    decided["NCT09990011"] = trial_decisions.Decision(
        "NCT09990011", "left out: a duplicate registration", include=False
    )
    result = build([DATA / "broken_classic.csv"], trial_terms, vocabulary, decisions=decided)
    (row,) = result.trials.to_dicts()
    assert row["trial_id"] == "NCT09990013"
    assert (row["source"], row["source_basis"]) == ("umbilical_cord", "decision")
    assert row["decision_reason"] == "Published table 2 names umbilical cord"
    assert result.ledger["left_out_by_decision"] == [
        {"trial_id": "NCT09990011", "reason": "left out: a duplicate registration"}
    ]
    counts = result.ledger["by_file"][(DATA / "broken_classic.csv").as_posix()]
    assert counts["read"] == counts["included"] + counts["rejected"] == 3
    # the bad row (NCT09990012) is rejected, not left out by decision; a decision that left a
    # trial out was applied, so it is no unused decision
    assert (counts["rejected"], counts["left_out"]) == (2, 1)
    assert result.ledger["decisions_unused"] == []
    assert [p.code for p in result.problems] == ["trials.enrollment"]


def test_shipped_decisions_pass_their_schema(vocabulary) -> None:
    path = REPO / "raw" / "trials" / "decisions.yaml"
    raw = validate_against(
        load_yaml(path), REPO / "schemas" / "trial_decisions.schema.yaml", "decisions"
    )
    decided, problems = trial_decisions.read_decisions(
        raw, str(path), set(vocabulary.source_terms.values())
    )
    assert problems == []
    assert decided["NCT04276987"].source == "adipose"
    assert "published table" in decided["NCT04276987"].reason.casefold()


def test_a_decision_for_an_unknown_source_is_a_problem(vocabulary) -> None:
    raw = {"decisions": {"NCT09990001": {"source": "kidney", "reason": "a typo in the code"}}}
    decided, problems = trial_decisions.read_decisions(
        raw, "d.yaml", set(vocabulary.source_terms.values())
    )
    assert decided == {}
    assert [(p.code, p.record) for p in problems] == [("trials.decision", "NCT09990001")]


# -- beside the studies --------------------------------------------------------------------------
def test_raw_trials_is_not_a_study_folder(tmp_path: Path) -> None:
    shutil.copytree(REPO / "raw", tmp_path / "raw")
    (tmp_path / "raw" / "trials" / "export.csv").write_bytes(
        (DATA / "broken_classic.csv").read_bytes()
    )
    studies = discover_raw_files(tmp_path / "raw")
    assert studies
    assert not any("/trials/" in p for p in studies)
    assert trial_export_files(tmp_path / "raw") == [(tmp_path / "raw/trials/export.csv").as_posix()]


def test_translation_gap_gains_trial_columns_and_keeps_its_own(
    review_studies, tables, trial_terms, vocabulary
) -> None:
    result = build(
        [DATA / "broken_classic.csv", DATA / "same_trial_api.json"], trial_terms, vocabulary
    )
    before = gap_stats.translation_gap(review_studies, tables)
    after = gap_stats.translation_gap_with_trials(review_studies, tables, result.trials)
    assert after["source"].to_list() == [*(t.key for t in tables), "unspecified", "all"]
    kept = after.filter(pl.col("source") != "unspecified").select(before.columns)
    assert kept.equals(before)
    counts = dict(zip(after["source"], after["n_trials"], strict=True))
    ev = result.trials.filter(pl.col("ev_class") == "msc_ev")
    assert counts["all"] == ev.height == 2
    assert counts["bone_marrow"] == (ev["source"] == "bone_marrow").sum() == 1
    assert counts["adipose"] == 1
    secretome = dict(zip(after["source"], after["n_secretome_trials"], strict=True))
    assert secretome["all"] == 1  # the conditioned medium trial, counted apart


def test_time_to_trial_is_censored_without_a_trial(review_studies, tables) -> None:
    empty = trial_shape.trial_schema().to_frame()
    frame = gap_stats.time_to_trial(review_studies, empty, tables, "2019")
    assert frame["censored"].all()
    assert (frame["followed_to_year"] == 2019).all()
    first_animal = frame.filter(pl.col("source") == "all")["first_animal_year"].item()
    assert frame.filter(pl.col("source") == "all")["years_animal_to_trial"].item() == (
        2019 - first_animal
    )


def test_registered_trials_sheet_is_text_and_has_human_headers(
    tmp_path, review_studies, tables, trial_terms, vocabulary
) -> None:
    result = build([DATA / "broken_classic.csv"], trial_terms, vocabulary)
    frame = result.trials.with_columns(
        title=pl.when(pl.col("trial_id") == "NCT09990011")
        .then(pl.lit('=HYPERLINK("http://x")'))
        .otherwise(pl.col("title"))
    )
    path = tmp_path / "book.xlsx"
    gap = gap_stats.translation_gap_with_trials(review_studies, tables, frame)
    workbook_output.write_workbook(path, [], gap, review_studies, [], trials=frame)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-2:] == [column_dictionary.TRIALS_SHEET, column_dictionary.ABOUT_SHEET]
    sheet = book[column_dictionary.TRIALS_SHEET]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Trial", "Title", "Product class", "MSC source"]
    cell = sheet.cell(row=2, column=2)
    assert cell.value == '=HYPERLINK("http://x")'
    assert cell.data_type == "s"
    headings = [c.value for c in book["Translation gap"][1]]
    assert column_dictionary.COLUMNS["translation_gap.csv"]["n_trials"].label in headings
    again = tmp_path / "again.xlsx"
    workbook_output.write_workbook(again, [], gap, review_studies, [], trials=frame)
    assert again.read_bytes() == path.read_bytes()


# -- end to end: the real DAG ----------------------------------------------------------------
@pytest.mark.e2e
def test_build_without_exports_has_empty_trial_outputs(project, run_snakemake) -> None:
    done = run_snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    results = project / "results"
    header = (results / "trials.csv").read_text(encoding="utf-8").splitlines()
    assert header == [",".join(trial_shape.TRIAL_COLUMNS)]
    gap = csv_rows(results / "translation_gap.csv")
    assert [r["source"] for r in gap][-2:] == ["unspecified", "all"]
    assert {r["n_trials"] for r in gap} == {"0"}
    ledger = json.loads((results / "validation.json").read_text(encoding="utf-8"))
    assert ledger["trials"]["rows_read"] == 0
    assert ledger["trials"]["by_file"] == {}
    assert ledger["problems"] == []


@pytest.mark.e2e
def test_a_broken_export_fails_the_build_and_exclude_builds_the_good_rows(
    project, run_snakemake
) -> None:
    target = project / "raw" / "trials" / "broken export.csv"
    target.write_bytes((DATA / "broken_classic.csv").read_bytes())
    (project / "raw" / "trials" / "same.json").write_bytes(
        (DATA / "same_trial_api.json").read_bytes()
    )
    done = run_snakemake(project)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert any(
        "raw/trials/broken export.csv" in line and "row 2" in line and "enrollment" in line
        for line in output.splitlines()
    ), output[-3000:]
    report = (project / "results" / "validation_report.md").read_text(encoding="utf-8")
    assert "raw/trials/broken export.csv" in report
    assert "row 2 (NCT09990012)" in report
    assert not (project / "results" / "translation_gap.csv").exists()  # the gate held

    done = run_snakemake(project, "--config", "on_invalid=exclude")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = csv_rows(project / "results" / "trials.csv")
    assert sorted(r["trial_id"] for r in rows) == ["NCT09990001", "NCT09990011", "NCT09990013"]
    gap = {r["source"]: r for r in csv_rows(project / "results" / "translation_gap.csv")}
    assert (gap["all"]["n_trials"], gap["bone_marrow"]["n_trials"], gap["adipose"]["n_trials"]) == (
        "2",
        "1",
        "1",
    )
    ledger = json.loads((project / "results" / "validation.json").read_text(encoding="utf-8"))
    for counts in ledger["trials"]["by_file"].values():
        assert counts["read"] == counts["included"] + counts["rejected"]
    assert ledger["trials"]["by_file"]["raw/trials/broken export.csv"]["rejected"] == 1
    assert ledger["files_read"] == 26  # the exports and decisions are not study files
    book = openpyxl.load_workbook(project / "results" / "exosynth.xlsx")
    assert book[column_dictionary.TRIALS_SHEET].max_row == 1 + len(rows)
    drawn = csv_rows(project / "results" / "figures" / "trial_timeline.csv")
    assert sum(int(r["n_trials"]) for r in drawn if r["source"] == "all") == 2


def test_a_decision_file_the_schema_rejects_is_a_problem_not_a_crash(tmp_path) -> None:
    bad = tmp_path / "decisions.yaml"
    bad.write_text("decisions:\n  NCT04276987:\n    source: adipose\n", encoding="utf-8")
    out = {name: str(tmp_path / name) for name in ("t.csv", "t.parquet", "p.json", "l.json")}
    adapters.build_registered_trials(
        exports=[str(DATA / "same_trial_api.json")],
        decisions=[str(bad)],
        decisions_schema=str(REPO / "schemas" / "trial_decisions.schema.yaml"),
        trial_vocabulary=str(REPO / "config" / "trials.yaml"),
        trial_vocabulary_schema=str(REPO / "schemas" / "trials.schema.yaml"),
        vocabulary=str(REPO / "config" / "vocabulary.yaml"),
        vocabulary_schema=str(REPO / "schemas" / "vocabulary.schema.yaml"),
        config={"sources": {s: {"table": i + 1, "title": s} for i, s in enumerate(SOURCES)}},
        csv_out=out["t.csv"],
        parquet_out=out["t.parquet"],
        problems_out=out["p.json"],
        ledger_out=out["l.json"],
    )
    (problem,) = json.loads(Path(out["p.json"]).read_text(encoding="utf-8"))
    assert (problem["file"], problem["code"]) == (str(bad), "trials.decisions")
    assert "reason" in problem["message"]
    assert pl.read_parquet(out["t.parquet"])["trial_id"].to_list() == ["NCT09990001"]


# -- what the planted-bug audit asked for (tools/planted_bugs) ------------------------------
def test_a_decision_without_include_keeps_its_trial(trial_terms, vocabulary) -> None:
    """``include`` defaults to true: a decision that only names a source keeps the trial."""
    raw = {"decisions": {"NCT09990013": {"source": "adipose", "reason": "a paper says so"}}}
    decided, problems = trial_decisions.read_decisions(raw, "d.yaml", SOURCES)
    assert problems == []
    assert decided["NCT09990013"].include is True
    result = build([DATA / "broken_classic.csv"], trial_terms, vocabulary, decisions=decided)
    row = result.trials.filter(pl.col("trial_id") == "NCT09990013").to_dicts()[0]
    assert (row["source"], row["source_basis"]) == ("adipose", "decision")


@pytest.mark.parametrize("enrollment", ["12.5", "1e3", "-4", "12 (estimated)"])
def test_an_enrollment_that_is_no_whole_number_is_a_problem(
    enrollment, trial_terms, vocabulary, tmp_path
) -> None:
    text = (DATA / "broken_classic.csv").read_text(encoding="utf-8-sig")
    path = tmp_path / "export.csv"
    path.write_text(text.replace('"about twenty"', f'"{enrollment}"'), encoding="utf-8")
    result = build([path], trial_terms, vocabulary)
    assert [(p.row, p.field) for p in result.problems] == [(2, "enrollment")]
    assert enrollment in result.problems[0].message


def test_whole_numbers_in_any_registry_spelling_are_read(trial_terms, vocabulary, tmp_path) -> None:
    text = (DATA / "broken_classic.csv").read_text(encoding="utf-8-sig")
    path = tmp_path / "export.csv"
    path.write_text(text.replace('"about twenty"', '"1,200.0"'), encoding="utf-8")
    result = build([path], trial_terms, vocabulary)
    assert result.problems == []
    row = result.trials.filter(pl.col("trial_id") == "NCT09990012").to_dicts()[0]
    assert row["enrollment"] == 1200


def test_a_named_ev_product_gives_its_tissue_only_to_an_ev_trial(trial_terms, vocabulary) -> None:
    """ExoFlo is a bone-marrow EV product: a trial the author classes as secretome that
    names it gets no tissue from it (its own text names none)."""
    record = trial_shape.RegistryRecord(
        file="x.csv", row=1, line=2, fmt="classic_csv", trial_id="NCT09990001",
        title="Conditioned medium versus ExoFlo for a fictional ARDS",
        interventions=["Biological: ExoFlo", "Biological: conditioned medium"],
    )  # fmt: skip
    finder = trial_classify.source_finder(vocabulary)
    as_ev = trial_classify.classify(record, "interventional", trial_terms, finder, "msc_ev")
    assert (as_ev.source, as_ev.source_basis) == ("bone_marrow", "product")
    as_secretome = trial_classify.classify(
        record, "interventional", trial_terms, finder, "msc_secretome"
    )
    assert (as_secretome.source, as_secretome.source_basis) == ("unspecified", "")
