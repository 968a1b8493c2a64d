"""Words, not codes, wherever a person reads: every cell of every workbook sheet against the
code lists of the config and vocabularies; and every sheet set up to print."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from exosynth import settings
from exosynth.outputs import words as words_module
from exosynth.outputs.columns import COLUMNS, detail_headings, in_words
from exosynth.outputs.printing import A3, A4, PORTRAIT_WIDTH, PrintPlan, print_setup
from exosynth.outputs.workbook import reviewer_workbook
from exosynth.settings import load_yaml
from exosynth.trials.classify import TrialVocabulary
from exosynth.trials.merge import build_trials
from exosynth.vocabulary import STAGES, Vocabulary

REPO = Path(__file__).resolve().parents[1]
FIELD = REPO / "tests" / "data" / "field"
EXPORT = Path("trials") / "jesnyder+mapClinical" / "mesenchymal stem OR mesenchymal stromal.csv"
# ../shared beside the checkout, or beside the folder of worktrees
SHARED = next(
    (p for p in (REPO.parent / "shared", REPO.parent.parent / "shared") if (p / EXPORT).is_file()),
    None,
)
SMALL_EXPORTS = sorted((REPO / "tests" / "data" / "trials").glob("same_trial_*"))


def code_lists() -> dict[str, set[str]]:
    """Every code a CSV may hold in a coded column, by where the list is kept."""
    vocabulary = load_yaml(REPO / "config" / "vocabulary.yaml")
    trials = load_yaml(REPO / "config" / "trials.yaml")
    return {
        "sources": {*vocabulary["sources"], "unspecified", "all"},
        "species": set(vocabulary["species"]),
        "model types": {m["code"] for m in vocabulary["model_types"]} | {"unclassified"},
        "inductions": {m["code"] for m in vocabulary["inductions"]},
        "stages": set(STAGES),
        "phases": {*trials["phases"], *trials["phase_pairs"]},
        "statuses": set(trials["statuses"]),
        "study types": set(trials["study_types"]),
        "class rules": {r["name"] if isinstance(r, dict) else r for r in trials["ev_rules"]},
        "ev classes": {"msc_ev", "msc_secretome", "other"},
        "source bases": {"registry", "product", "decision"},
    }


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, build_studies: Callable, vocabulary: Vocabulary
) -> tuple[Path, pl.DataFrame]:
    """The workbook of raw/ plus the field records, with the real 1,389-trial export where
    ../shared is here (else the small test exports)."""
    where = tmp_path_factory.mktemp("words")
    raw = where / "raw"
    shutil.copytree(REPO / "raw", raw)
    shutil.copytree(FIELD, raw, dirs_exist_ok=True)
    config = settings.validate_against(
        load_yaml(REPO / "config" / "config.yaml"),
        REPO / "schemas" / "config.schema.yaml",
        "config",
    )
    tables = settings.source_tables(config)
    studies, problems = build_studies(raw, tables)
    assert not [p for p in problems if p.is_error]
    exports = [SHARED / EXPORT] if SHARED else SMALL_EXPORTS
    terms = TrialVocabulary.from_mapping(load_yaml(REPO / "config" / "trials.yaml"))
    trials = build_trials(
        [(p.as_posix(), p.read_bytes()) for p in exports],
        terms,
        vocabulary,
        source_order=[t.key for t in tables],
    ).trials
    path = where / "book.xlsx"
    ledger = {
        "files_read": studies.height,
        "included": studies.height,
        "rejected": 0,
        "raw_checksum": "0" * 64,
        "trials": {"exports": len(exports), "rows_read": trials.height},
    }
    reviewer_workbook(
        path,
        studies,
        ledger,
        config,
        "test",
        trials=trials,
        vocabulary=load_yaml(REPO / "config" / "vocabulary.yaml"),
    )
    return path, trials


def test_no_code_left_in_any_sheet(built: tuple[Path, pl.DataFrame]) -> None:
    """No cell, nor any "; "-joined part of one, is a code of the config or vocabularies."""
    path, trials = built
    codes = code_lists()
    everything = set().union(*codes.values())
    # The About sheet's data dictionary names the CSV columns (in_vitro is one): codes there
    # are its job.
    dictionary = {name for columns in COLUMNS.values() for name in columns}
    book = openpyxl.load_workbook(path, read_only=True)
    found: list[str] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if not isinstance(value, str):
                    continue
                if sheet.title == "About" and value in dictionary:
                    continue
                found += [
                    f"{sheet.title}: {part!r}"
                    for part in re.split(r";\s*", value)
                    if part in everything
                ]
    book.close()
    assert found == []
    # the test sees codes where they are: the trials hold them, the sheets do not
    assert set(trials["status"].drop_nulls()) & codes["statuses"]
    assert set(trials["ev_class"].drop_nulls()) & codes["ev classes"]


def test_the_trial_sheet_in_words(built: tuple[Path, pl.DataFrame]) -> None:
    path, _ = built
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book["Registered trials"].values)
    book.close()
    header = list(rows[0])
    column = {c: header.index(COLUMNS["trials.csv"][c].label) for c in ("ev_class", "phase")}
    shown = {c: {r[i] for r in rows[1:]} for c, i in column.items()}
    assert shown["ev_class"] <= {*words_module.EV_CLASSES.values()}
    assert "MSC-EV" in shown["ev_class"]
    assert shown["phase"] - {None} <= {*words_module.PHASES.values()}


def test_every_sheet_prints_one_page_wide_with_its_header(built: tuple[Path, pl.DataFrame]) -> None:
    book = openpyxl.load_workbook(built[0])
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), sheet.title  # 1: default
        assert int(setup.paperSize) in (A4, A3), sheet.title
        assert setup.orientation in ("landscape", "portrait"), sheet.title
        assert "&A" in (sheet.oddHeader.left.text or ""), sheet.title
    for wide in ("Studies", "Registered trials", "Table 1"):
        assert book[wide].page_setup.orientation == "landscape"
    # the header rows repeat on every printed page
    assert book["Studies"].print_title_rows == "$1:$1"
    assert book["Registered trials"].print_title_rows == "$1:$1"
    assert book["Table 1"].print_title_rows == "$2:$2"


def test_words_of_codes_one_and_several() -> None:
    words = words_module.Words.of(
        {"sources": {"bone_marrow": {"label": "Bone marrow"}}},
        {"species": {"mouse": {"label": "Mouse"}}, "sources": {"wharton_jelly": {"label": "WJ"}}},
    )
    species = pl.Series("species", ["mouse;rat", None, "human"])
    assert words.column(species, "species", several=True).to_list() == [
        "Mouse; Rat",
        None,
        "Human",
    ]
    sources = pl.Series("source", ["bone_marrow", "wharton_jelly", "unspecified", "all", "x_y"])
    assert words.column(sources, "source").to_list() == [
        "Bone marrow",
        "WJ",
        words_module.UNSPECIFIED_WORDS,
        words_module.ALL_SOURCES,
        "X y",
    ]
    assert words_module.plain("active_not_recruiting") == "Active not recruiting"
    assert words_module.plain("msc_cell_therapy") == "MSC cell therapy"
    frame, _ = in_words(
        pl.DataFrame({"status": ["active_not_recruiting"], "phase": ["phase1_2"]}),
        COLUMNS["trials.csv"],
        words,
    )
    assert frame.row(0) == ("Active, not recruiting", "Phase 1/2")


def test_analyst_columns_are_folded_away_and_not_printed(built: tuple[Path, pl.DataFrame]) -> None:
    book = openpyxl.load_workbook(built[0])
    for sheet, csv in (("Registered trials", "trials.csv"), ("Studies", "studies.csv")):
        header = [c.value for c in book[sheet][1]]
        dims = book[sheet].column_dimensions
        for label in detail_headings(COLUMNS[csv]):
            letter = openpyxl.utils.get_column_letter(header.index(label) + 1)
            # openpyxl groups equal neighbours under the first letter of the run
            dim = next(d for d in dims.values() if d.min <= header.index(label) + 1 <= d.max)
            assert dim.hidden, (sheet, label, letter)
            assert dim.outlineLevel == 1, (sheet, label, letter)
        shown = [c for c in COLUMNS[csv].values() if not c.detail and c.label in header]
        assert shown, sheet
        for column in shown:
            index = header.index(column.label) + 1
            dim = next((d for d in dims.values() if d.min <= index <= d.max), None)
            assert dim is None or not dim.hidden, (sheet, column.label)
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True)}
    assert "folded away" in about["Studies"]


def test_a_narrow_sheet_prints_upright() -> None:
    class Sheet:
        name = "narrow"

        def __init__(self) -> None:
            self.calls: dict[str, object] = {}

        def __getattr__(self, method: str):
            return lambda *a, **k: self.calls.setdefault(method, a)

    plan = PrintPlan()
    sheet = Sheet()
    plan.record(sheet, PORTRAIT_WIDTH - 1, 0)  # type: ignore[arg-type]
    print_setup(sheet, plan)  # type: ignore[arg-type]
    assert "set_portrait" in sheet.calls
    assert "set_landscape" not in sheet.calls
    assert sheet.calls["set_paper"] == (A4,)
    assert sheet.calls["repeat_rows"] == (0,)
