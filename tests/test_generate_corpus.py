"""The synthetic corpus generator of benchmarks/: valid, varied, repeatable; bad records caught."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from exosynth.problems import Problem
from exosynth.studies import records as records_stage
from exosynth.vocabulary import SourceMatch, SpeciesMatch, Vocabulary

ROOT = Path(__file__).resolve().parents[1]
N = 200


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_corpus", ROOT / "benchmarks" / "generate_corpus.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gc = _load_generator()


# The validator, the shipped vocabulary and build_studies come from tests/conftest.py.


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("corpus")
    return root, gc.generate(root, N, seed=0)


@pytest.fixture(scope="module")
def records(corpus: tuple[Path, list[Path]], validator) -> dict[Path, dict]:
    found = {}
    for path in corpus[1]:
        record, problems = records_stage.read_study(path.as_posix(), path.read_bytes(), validator)
        assert problems == [], problems
        found[path] = record
    return found


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    gc.generate(tmp_path / "a", N, seed=7, bad=3)
    gc.generate(tmp_path / "b", N, seed=7, bad=3)
    gc.generate(tmp_path / "c", N, seed=8, bad=3)
    first = _snapshot(tmp_path / "a")
    assert len(first) == N + 3
    assert first == _snapshot(tmp_path / "b")
    assert first != _snapshot(tmp_path / "c")


def test_every_record_passes_the_schema(
    corpus: tuple[Path, list[Path]], records: dict[Path, dict]
) -> None:
    root, paths = corpus
    assert len(paths) == N
    assert len(records) == N
    assert sorted(paths) == sorted((root / "raw").rglob("*.yaml"))


def test_ids_are_unique_and_equal_the_file_names(records: dict[Path, dict]) -> None:
    ids = [record["id"] for record in records.values()]
    assert len(set(ids)) == N
    assert all(record["id"] == path.stem for path, record in records.items())


def test_sources_are_written_variously_and_filed_under_their_code(
    records: dict[Path, dict], vocabulary: Vocabulary
) -> None:
    folders = Counter()
    for path, record in records.items():
        match = vocabulary.match_source(record["source"])
        assert isinstance(match, SourceMatch), record["source"]
        assert match.source == path.parent.name
        folders[path.parent.name] += 1
    assert set(folders) == {"bone_marrow", "adipose", "umbilical_cord"}
    assert len({record["source"] for record in records.values()}) > 15


@pytest.mark.parametrize("key", list(gc.SOURCE_SPELLINGS))
def test_every_source_spelling_is_known(key: str, vocabulary: Vocabulary) -> None:
    for spelling in gc.SOURCE_SPELLINGS[key]:
        match = vocabulary.match_source(spelling)
        assert isinstance(match, SourceMatch), spelling
        assert match.source == key, spelling


def test_every_species_and_model_text_is_known(vocabulary: Vocabulary) -> None:
    for pool in gc.SPECIES_POOLS.values():
        for species in pool:
            assert isinstance(vocabulary.match_species(species), SpeciesMatch), species
    for _, models, pool, _ in gc.CONDITIONS:
        assert pool in gc.SPECIES_POOLS
        for model in models:
            model_type = vocabulary.classify_model(model).model_type
            assert model_type not in ("unclassified", "clinical"), model
    assert len(gc.CONDITIONS) >= 55
    assert set(gc.CLINICAL_CONDITIONS) <= {c[0] for c in gc.CONDITIONS}


def test_records_have_evidence_and_a_realistic_mix(records: dict[Path, dict]) -> None:
    clinical = [r for r in records.values() if r.get("clinical")]
    animal = [r for r in records.values() if r.get("in_vivo")]
    assert all(r["in_vitro"] or r.get("in_vivo") or r.get("clinical") for r in records.values())
    assert 0 < len(clinical) < N * 0.1
    assert all(1 <= r["clinical"]["patients"] <= 200 for r in clinical)
    assert len(animal) > N / 2
    assert {len(r.get("in_vivo") or []) for r in records.values()} == {0, 1, 2}
    assert all(2005 <= r["citation"]["year"] <= 2025 for r in records.values())
    assert len({r["condition"] for r in records.values()}) > 40


def test_dois_and_pmids_are_unique(records: dict[Path, dict]) -> None:
    dois = [
        r["citation"]["doi"].removeprefix("https://doi.org/")
        for r in records.values()
        if r["citation"].get("doi")
    ]
    pmids = [str(r["citation"]["pmid"]) for r in records.values() if r["citation"].get("pmid")]
    assert 0.6 * N < len(dois) < 0.8 * N
    assert 0.4 * N < len(pmids) < 0.6 * N
    assert len(set(dois)) == len(dois)
    assert len(set(pmids)) == len(pmids)


def test_the_pipeline_stages_accept_the_whole_corpus(
    corpus: tuple[Path, list[Path]], build_studies: Callable
) -> None:
    studies, problems = build_studies(corpus[0] / "raw")
    included = studies.height
    assert problems == []
    assert included == N


@pytest.mark.parametrize("bad", [5, len(gc.BAD_KINDS)])
def test_bad_records_are_each_reported_with_their_field(
    tmp_path: Path, bad: int, build_studies: Callable
) -> None:
    good, wrong = gc.generate_corpus(tmp_path, N, seed=3, bad=bad)
    assert len(wrong) == bad
    assert len({w.kind for w in wrong}) == bad
    assert len({w.path for w in wrong}) == bad
    assert gc.generate(tmp_path, N, seed=3, bad=bad) == good + [w.path for w in wrong]
    if bad == 5:
        assert [w.kind for w in wrong] == [
            "unknown field",
            "wrong type",
            "unknown species",
            "duplicate DOI",
            "malformed YAML",
        ]

    studies, problems = build_studies(tmp_path / "raw")
    included = studies.height
    by_file: dict[str, list[Problem]] = {}
    for problem in problems:
        by_file.setdefault(problem.file, []).append(problem)
    for record in wrong:
        found = by_file.get(record.path.as_posix(), [])
        assert found, f"{record.kind}: {record.path} not reported"
        assert record.field in {p.field for p in found}, (record.kind, found)
        assert record.stage in {p.stage for p in found}, (record.kind, found)
    # The paper a duplicate DOI or PMID repeats is reported too; nothing else is.
    partner = {p.as_posix() for p in good if p.stem.startswith("syn000000-")}
    assert set(by_file) == {w.path.as_posix() for w in wrong} | partner
    assert included == N - 1


def test_bad_records_need_a_corpus(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        gc.generate(tmp_path, 0, bad=1)
    assert gc.generate(tmp_path, 0) == []


@pytest.mark.e2e
def test_every_bad_record_of_a_large_corpus_is_in_the_report(project: Path, run_snakemake) -> None:
    """5,000 synthetic papers plus every kind of bad record, through the real DAG."""
    good, wrong = gc.generate_corpus(project, 5000, seed=11, bad=len(gc.BAD_KINDS))
    lenient = run_snakemake(project, "--config", "on_invalid=exclude", "shards=3")
    assert lenient.returncode == 0, lenient.stderr[-3000:]
    report = (project / "results/validation_report.md").read_text(encoding="utf-8")
    for record in wrong:
        path = record.path.relative_to(project).as_posix()
        assert f"### `{path}`" in report, f"{record.kind}: {path} missing from the report"
        section = report.split(f"### `{path}`", 1)[1].split("###", 1)[0]
        if record.field:
            assert f"`{record.field}`" in section, (record.kind, section)
    ledger = json.loads((project / "results/validation.json").read_text(encoding="utf-8"))
    assert ledger["files_read"] == len(good) + len(wrong) + 26
    assert ledger["files_read"] == ledger["included"] + ledger["rejected"]
    studies = (project / "results/studies.csv").read_text(encoding="utf-8").count("\n") - 1
    assert studies == ledger["included"]

    strict = run_snakemake(project)  # the default, on_invalid: fail
    assert strict.returncode != 0
    for record in wrong:
        assert record.path.relative_to(project).as_posix() in strict.stderr
