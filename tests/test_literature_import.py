"""``exosynth import``: drafts in the inbox, import logs, nothing written twice, never an
existing file overwritten; the source guessed by the source grammar; screening in drafts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from literature_shared import REPO, SHARED, needs_shared

from exosynth.cli import main
from exosynth.corpus import draft_count, scan_raw_files
from exosynth.literature.drafts import guess_source, write_new
from exosynth.literature.importer import IMPORTS, run_import
from exosynth.literature.references import Reference
from exosynth.literature.screening import screen_inbox, what_is_missing
from exosynth.settings import load_yaml
from exosynth.vocabulary import Vocabulary

REASONS = load_yaml(REPO / "config" / "config.yaml")["literature"]["exclusion_reasons"]

RIS = """TY  - JOUR
AU  - Smith, J. A.
TI  - Exosomes derived from bone marrow mesenchymal stem cells protect the kidney
AB  - Bone marrow MSC-derived exosomes reduced injury in rats.
PY  - 2021
DO  - 10.1000/exo.1
ER  -
TY  - JOUR
AU  - Damania, A.
TI  - Mesenchymal stromal cell-derived exosome-rich fractionated secretome and liver
PY  - 2018
ER  -
TY  - JOUR
AU  - Roe, P.
TI  - A review of extracellular vesicles in medicine
AB  - We review vesicles from many cells.
PY  - 2022
DO  - https://doi.org/10.1000/EXO.2
ER  -
TY  - JOUR
AU  - Roe, P.
TI  - A review of extracellular vesicles in medicine
PY  - 2022
DO  - 10.1000/exo.2
ER  -
"""


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.from_mapping(load_yaml(REPO / "config" / "vocabulary.yaml"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "raw" / "bone_marrow", tmp_path / "raw" / "bone_marrow")
    (tmp_path / "search.ris").write_text(RIS, encoding="utf-8")
    return tmp_path


def run(project: Path, vocabulary: Vocabulary, *names: str | Path):
    return run_import(
        [str(project / n) if isinstance(n, str) else str(n) for n in names],
        project / "raw",
        project / "raw" / "inbox",
        vocabulary,
        REASONS,
    )


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_import_writes_drafts_and_a_log(project: Path, vocabulary: Vocabulary) -> None:
    (report,) = run(project, vocabulary, "search.ris")
    assert (report.read, len(report.drafts), len(report.duplicates)) == (4, 3, 1)
    inbox = project / "raw" / "inbox"
    assert sorted(p.name for p in inbox.glob("*.yaml")) == [
        "damania-2018b.yaml",
        "roe-2022.yaml",
        "smith-2021.yaml",
    ]
    log = yaml.safe_load(next((inbox / IMPORTS).glob("search-*.yaml")).read_text())
    assert log["references_read"] == 4
    assert log["drafts"] == ["smith-2021", "damania-2018b", "roe-2022"]
    assert log["duplicates"] == [{"record": 4, "of": "search.ris record 3", "by": "doi"}]


def test_a_reference_already_in_raw_is_not_written(project: Path, vocabulary: Vocabulary) -> None:
    record = project / "raw" / "bone_marrow" / "smith-2021.yaml"
    record.write_text(
        "id: smith-2021\nsource: BM-MSC\ncitation: {first_author: Smith, year: 2021,"
        " doi: 'https://doi.org/10.1000/EXO.1'}\ncondition: Kidney injury\n",
        encoding="utf-8",
    )
    (report,) = run(project, vocabulary, "search.ris")
    smith = [d for d in report.duplicates if d.reference.first_author == "Smith"]
    assert [(d.of, d.by) for d in smith] == [("raw/bone_marrow/smith-2021.yaml", "doi")]
    assert not (project / "raw" / "inbox" / "smith-2021.yaml").exists()
    # Damania 2018 is in raw/ by author and year only: written, with a warning naming the file
    (warning,) = [p for p in report.problems if p.code == "literature.possible_duplicate"]
    assert "damania-2018.yaml" in warning.message
    assert warning.severity == "warning"
    assert (project / "raw" / "inbox" / "damania-2018b.yaml").exists()  # its id is taken


def test_importing_the_same_file_twice_writes_nothing(
    project: Path, vocabulary: Vocabulary
) -> None:
    run(project, vocabulary, "search.ris")
    before = files(project / "raw")
    (again,) = run(project, vocabulary, "search.ris")
    assert again.already is not None
    assert again.drafts == []
    assert files(project / "raw") == before
    # the same references under another file name: all duplicates of the drafts
    (project / "copy.ris").write_text(RIS.replace("PY  - 2021", "PY  - 2021 "), encoding="utf-8")
    (copy,) = run(project, vocabulary, "copy.ris")
    assert copy.drafts == []
    assert len(copy.duplicates) == 4
    assert {d.of for d in copy.duplicates} == {
        "raw/inbox/smith-2021.yaml",
        "raw/inbox/damania-2018b.yaml",
        "raw/inbox/roe-2022.yaml",
    }


def test_an_existing_file_is_never_overwritten(project: Path, vocabulary: Vocabulary) -> None:
    inbox = project / "raw" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "smith-2021.yaml").write_text("mine: true\n", encoding="utf-8")
    (report,) = run(project, vocabulary, "search.ris")
    assert (inbox / "smith-2021.yaml").read_text() == "mine: true\n"
    assert "smith-2021b" in [d.id for d in report.drafts]


def test_write_new_never_replaces_a_file(tmp_path: Path) -> None:
    target = tmp_path / "inbox" / "a.yaml"
    assert write_new(target, "first\n")
    assert not write_new(target, "second\n")
    assert target.read_text() == "first\n"


def test_draft_fields_filled_marked_and_source_guessed(
    project: Path, vocabulary: Vocabulary
) -> None:
    run(project, vocabulary, "search.ris")
    text = (project / "raw" / "inbox" / "smith-2021.yaml").read_text(encoding="utf-8")
    draft = yaml.safe_load(text)
    assert draft["citation"] == {
        "first_author": "Smith",
        "year": 2021,
        "doi": "10.1000/exo.1",
        "pmid": None,
        "title": "Exosomes derived from bone marrow mesenchymal stem cells protect the kidney",
    }
    assert draft["source"] == "Bone marrow"
    assert draft["draft"]["source_guessed"] is True
    assert draft["draft"]["authors"] == ["Smith, J. A."]
    for name in ("condition", "in_vitro", "in_vivo", "clinical", "results"):
        assert name in draft
        assert draft[name] is None
        assert any(line.startswith(f"{name}: null  # TODO") for line in text.split("\n"))
    review = yaml.safe_load((project / "raw" / "inbox" / "roe-2022.yaml").read_text())
    assert review["source"] is None
    assert "source_guessed" not in review["draft"]


def test_same_input_same_bytes(tmp_path: Path, project: Path, vocabulary: Vocabulary) -> None:
    run(project, vocabulary, "search.ris")
    other = tmp_path / "other"
    shutil.copytree(project / "raw" / "bone_marrow", other / "raw" / "bone_marrow")
    shutil.copy(project / "search.ris", other / "search.ris")
    run(other, vocabulary, "search.ris")
    assert files(project / "raw" / "inbox") == files(other / "raw" / "inbox")


def test_screening_states_and_check_messages(project: Path, vocabulary: Vocabulary) -> None:
    run(project, vocabulary, "search.ris")
    inbox = project / "raw" / "inbox"
    roe = inbox / "roe-2022.yaml"
    roe.write_text(
        roe.read_text()
        .replace("decision: null", "decision: exclude")
        .replace("reason: null", "reason: No in vivo or in vitro data"),
        encoding="utf-8",
    )
    smith = inbox / "smith-2021.yaml"
    todo = what_is_missing(yaml.safe_load(smith.read_text()))
    assert "condition: still empty" in todo  # not screened yet: a line of exosynth check
    smith.write_text(
        smith.read_text().replace("decision: null", "decision: include"), encoding="utf-8"
    )
    states, problems = screen_inbox(inbox, REASONS)
    # included, and what it still lacks is a problem of its file (the validation report's)
    assert [(p.file, p.field, p.code, p.severity) for p in problems] == [
        (smith.as_posix(), "condition", "screening.incomplete", "warning")
    ]
    by_id = {s.id: s for s in states}
    assert (by_id["roe-2022"].decision, by_id["roe-2022"].reason) == ("exclude", "no_data")
    assert by_id["smith-2021"].missing == ("condition",)
    todo = what_is_missing(yaml.safe_load(smith.read_text()))
    assert "condition: still empty" not in todo  # said once: by the problem
    assert any("guessed" in line for line in todo)
    roe.write_text(roe.read_text().replace("reason: No in vivo or in vitro data", "reason: boring"))
    _, problems = screen_inbox(inbox, REASONS)
    assert [p.code for p in problems] == ["screening.reason", "screening.incomplete"]


@needs_shared
def test_rayyan_decisions_become_draft_screening(project: Path, vocabulary: Vocabulary) -> None:
    run(project, vocabulary, SHARED / "befriendabacterium+rayyanR" / "tinea_update.ris")
    draft = yaml.safe_load((project / "raw" / "inbox" / "choudhary-2013.yaml").read_text())
    assert draft["screening"]["decision"] is None  # the reviewers disagree
    assert draft["screening"]["reviewers"] == {"Zbys": "Excluded", "m.el-gohary": "Included"}


@needs_shared
def test_syrf_export_fills_outcomes_and_screening_joins_by_study(
    project: Path, vocabulary: Vocabulary
) -> None:
    folder = SHARED / "emma-wilson+syrf_userguide"
    screening = next(folder.glob("Screening_data_*.csv"))
    quantitative, wide = run(
        project, vocabulary, folder / "quantitative_data_example.csv", screening
    )
    assert len(quantitative.drafts) == 12
    assert wide.drafts == []
    assert [p.code for p in wide.problems] == ["literature.unidentified"]
    draft = yaml.safe_load((project / "raw" / "inbox" / "akinfiresoye-2013.yaml").read_text())
    assert draft["outcomes"][0]["control"] == {"n": 8, "mean": 22.45, "sd": 1.92}
    assert draft["outcomes"][0]["treated"][0] == {
        "label": "Ketamine 0.5",
        "n": 8,
        "mean": 16.57,
        "sd": 2.06,
    }


def test_the_build_skips_the_inbox_but_counts_its_drafts(
    project: Path, vocabulary: Vocabulary
) -> None:
    run(project, vocabulary, "search.ris")
    scanned = [path for path, _, _ in scan_raw_files(project / "raw")]
    assert scanned
    assert not any("/inbox/" in path for path in scanned)
    assert draft_count(project / "raw") == 3  # the import log is not a draft


def test_cli_import_then_again_and_a_refused_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for part in ("config", "schemas"):
        shutil.copytree(REPO / part, project / part)
    (project / "flow.csv").write_text("data,node,box,n\nrecords_screened,node9,box4,3\n")
    monkeypatch.chdir(project)
    assert main(["import", "search.ris"]) == 0
    assert "3 drafts written" in capsys.readouterr().out
    assert main(["import", "search.ris", "flow.csv"]) == 1
    out = capsys.readouterr().out
    assert "imported before" in out
    assert "flow.csv: refused: a PRISMA 2020 flow table" in out
    assert main(["check", "raw/inbox/roe-2022.yaml"]) == 0
    assert (
        "raw/inbox/roe-2022.yaml: draft: screening.decision: not screened yet"
        in capsys.readouterr().out
    )


def test_source_guess_needs_exactly_one_tissue(vocabulary: Vocabulary) -> None:
    def guess(title: str, abstract: str | None = None) -> tuple[str | None, list[str]]:
        reference = Reference("f", 1, None, "ris", title=title, abstract=abstract)
        return guess_source(reference, vocabulary)

    assert guess("hUC-MSC-Exos heal wounds") == ("Umbilical cord", ["umbilical_cord"])
    assert guess("ADSC exosomes versus bone marrow MSC exosomes") == (
        None,
        ["adipose", "bone_marrow"],
    )
    assert guess("Blue light for acne", "No stem cells here.") == (None, [])
