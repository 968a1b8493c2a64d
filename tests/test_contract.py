"""The record contract (issue 10): what a source does not say, how a paper is identified,
every check of a record in one pass, codes and severities, the new output columns.

Unit tests run ingest -> validate -> normalize in-process (conftest.build_study_table);
the tests marked e2e run the real Snakemake DAG on a copy of the project.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import polars as pl
import pytest

from exosynth.outputs import tables as review_tables
from exosynth.problems import SEVERITIES
from exosynth.synthesis import gap as gap_stats


def _generator():
    """benchmarks/generate_corpus.py, whose bad records cover every kind of problem."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "generate_corpus.py"
    spec = importlib.util.spec_from_file_location("generate_corpus", path)
    assert spec is not None
    assert spec.loader is not None
    module = sys.modules.get("generate_corpus") or importlib.util.module_from_spec(spec)
    if "generate_corpus" not in sys.modules:
        sys.modules["generate_corpus"] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
    return module


gc = _generator()

PMID_ONLY = """\
id: pmid-29378639
source: BM-MSC
donor_species: pig
citation:
  pmid: 29378639
condition: Influenza lung injury
in_vivo:
- model: Influenza virus-induced acute lung injury
  species: Pigs
"""


def write(project: Path, folder: str, name: str, text: str) -> Path:
    target = project / "raw" / folder / f"{name}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def added(record_id: str, citation: str, *, folder: str = "bone_marrow", extra: str = "") -> str:
    """A paper added after the review: ``citation`` is the indented body of ``citation:``."""
    return (
        f"id: {record_id}\nsource: {folder.replace('_', ' ')}\ncitation:\n{citation}"
        "condition: Liver disease\nin_vitro: true\nin_vivo:\n- model: Liver injury model\n"
        f"  species: Rat\nresults: Improves recovery\n{extra}"
    )


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    return tmp_path / "project" / "raw"


def rows_of(studies: pl.DataFrame, tables: list, key: str = "bone_marrow") -> list[dict]:
    table = next(t for t in tables if t.key == key)
    return review_tables.table_rows(studies, table).to_dicts()


# -- identity and the Ref. cell ---------------------------------------------------------
@pytest.mark.parametrize(
    ("citation", "cell"),
    [
        ("  first_author: Smith\n  year: 2020\n", "Smith et al, 2020"),
        ("  first_author: Smith\n  year: 2020\n  pmid: 123\n", "Smith et al, 2020"),
        ("  pmid: 29378639\n", "PMID 29378639"),
        ("  doi: https://doi.org/10.1000/Abc\n", "doi:10.1000/Abc"),
        ("  year: 2019\n  pmid: 123\n", "PMID 123, 2019"),
        (
            "  first_author: Varkouhi\n  cited_in:\n    doi: 10.1186/s13287-017-0576-4\n"
            "    ref: 19\n",
            "Varkouhi et al, cited in doi:10.1186/s13287-017-0576-4 ref 19",
        ),
        (
            "  cited_in: {url: 'https://pmc.ncbi.nlm.nih.gov/articles/PMC7677103/table/Tab1/',"
            " ref: 20}\n",
            "cited in https://pmc.ncbi.nlm.nih.gov/articles/PMC7677103/table/Tab1/ ref 20",
        ),
    ],
    ids=["author-year", "author-year-pmid", "pmid", "doi", "year-pmid", "cited-doi", "cited-url"],
)
def test_ref_cell_cites_what_identifies_the_paper(build_studies, tables, raw_dir, citation, cell):
    write(raw_dir.parent, "bone_marrow", "paper-1", added("paper-1", citation))
    studies, problems = build_studies(raw_dir)
    assert problems == []
    assert [r["Ref."] for r in rows_of(studies, tables)] == [cell]


@pytest.mark.parametrize(
    "citation",
    ["", "citation:\n  first_author: Smith\n", "citation:\n  year: 2020\n  title: A study\n"],
    ids=["no-citation", "author-only", "year-only"],
)
def test_a_paper_nothing_identifies_is_an_error_naming_the_four_ways(
    build_studies, raw_dir, citation
):
    text = f"id: paper-1\nsource: bone marrow\n{citation}condition: Liver disease\nin_vitro: true\n"
    write(raw_dir.parent, "bone_marrow", "paper-1", text)
    studies, problems = build_studies(raw_dir)
    assert studies.height == 0
    (problem,) = problems
    assert (problem.code, problem.field, problem.severity) == (
        "citation.unidentified",
        "citation",
        "error",
    )
    for way in ("first_author", "year", "doi", "pmid", "cited_in", "ref", "url"):
        assert way in problem.hint, way


def test_cited_in_needs_the_citing_review(build_studies, raw_dir):
    write(raw_dir.parent, "bone_marrow", "paper-1", added("paper-1", "  cited_in: {ref: 19}\n"))
    _, problems = build_studies(raw_dir)
    assert [(p.code, p.field) for p in problems] == [("schema.any_of", "citation.cited_in")]
    assert "url" in problems[0].hint


def test_the_same_reference_of_one_citing_review_twice_is_a_duplicate(build_studies, raw_dir):
    cited = "  cited_in:\n    doi: https://doi.org/10.1186/S13287-017-0576-4\n    ref: 19\n"
    same = "  cited_in:\n    doi: 10.1186/s13287-017-0576-4\n    ref: 19\n"
    other = "  cited_in:\n    doi: 10.1186/s13287-017-0576-4\n    ref: 20\n"
    write(raw_dir.parent, "bone_marrow", "a-1", added("a-1", cited))
    write(raw_dir.parent, "adipose", "b-1", added("b-1", same, folder="adipose"))
    write(raw_dir.parent, "bone_marrow", "c-1", added("c-1", other))
    studies, problems = build_studies(raw_dir)
    assert sorted((p.code, Path(p.file).name) for p in problems) == [
        ("validate.unique_cited_in", "a-1.yaml"),
        ("validate.unique_cited_in", "b-1.yaml"),
    ]
    assert studies["id"].to_list() == ["c-1"]


def test_a_ref_used_twice_in_one_table_is_an_error_but_not_across_tables(build_studies, raw_dir):
    ref = "  first_author: Smith\n  year: 2020\n  ref: 23\n"
    write(raw_dir.parent, "bone_marrow", "a-1", added("a-1", ref))
    write(raw_dir.parent, "bone_marrow", "b-1", added("b-1", ref.replace("Smith", "Jones")))
    write(raw_dir.parent, "adipose", "c-1", added("c-1", ref, folder="adipose"))
    studies, problems = build_studies(raw_dir)
    assert sorted((p.code, Path(p.file).name) for p in problems) == [
        ("normalize.ref_reused", "a-1.yaml"),
        ("normalize.ref_reused", "b-1.yaml"),
    ]
    by_file = {Path(p.file).name: p for p in problems}
    assert "b-1.yaml" in by_file["a-1.yaml"].message  # where the other use is
    assert studies["id"].to_list() == ["c-1"]


# -- not reported ---------------------------------------------------------------------
def test_not_reported_in_vitro_and_results_print_nr_and_count_apart(build_studies, tables, raw_dir):
    write(raw_dir.parent, "bone_marrow", "pmid-29378639", PMID_ONLY)
    write(
        raw_dir.parent,
        "bone_marrow",
        "smith-2020",
        added("smith-2020", "  first_author: Smith\n  year: 2020\n").replace(
            "in_vitro: true", "in_vitro: false"
        ),
    )
    studies, problems = build_studies(raw_dir)
    assert problems == []
    pmid = studies.filter(pl.col("id") == "pmid-29378639").row(0, named=True)
    assert (pmid["in_vitro"], pmid["results"], pmid["source_donor"]) == (None, None, "pig")
    rows = {r["Ref."]: r for r in rows_of(studies, tables)}
    assert (rows["PMID 29378639"]["In vitro study"], rows["PMID 29378639"]["Results"]) == (
        "NR",
        "NR",
    )
    assert rows["Smith et al, 2020"]["In vitro study"] == "-"
    table = next(t for t in tables if t.key == "bone_marrow")
    note = review_tables.footnote(review_tables.table_rows(studies, table), table)
    assert note.endswith(review_tables.NR_FOOTNOTE)
    gap = gap_stats.translation_gap(studies, tables).filter(pl.col("source") == "bone_marrow")
    assert gap.select("n_studies", "n_in_vitro", "n_in_vitro_nr").row(0) == (2, 0, 1)


def test_the_review_tables_explain_no_nr_they_do_not_print(review_studies, tables):
    for table in tables:
        rows = review_tables.table_rows(review_studies, table)
        assert review_tables.footnote(rows, table) == table.footnote_text


# -- one pass, codes, severities -----------------------------------------------------
def three_problem_record(good_record) -> str:
    """A schema problem (in_vitro "+"), a vocabulary one (species) and a cross-record one
    (ref 23 belongs to damania-2018 of the same table)."""
    return good_record(
        "smith-2021",
        ("in_vitro: true", 'in_vitro: "+"'),
        ("species: Rat", "species: Hamsterz"),
        ("review_row: 1\n", ""),
    )


def test_three_kinds_of_problem_of_one_record_in_one_pass(
    build_studies, good_record, repo_root, tmp_path
):
    project = tmp_path / "project"
    raw = project / "raw"
    for path in (repo_root / "raw").rglob("*.yaml"):
        target = raw / path.relative_to(repo_root / "raw")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    write(project, "bone_marrow", "smith-2021", three_problem_record(good_record))
    studies, problems = build_studies(raw)
    mine = [p for p in problems if p.file.endswith("smith-2021.yaml")]
    assert sorted((p.stage, p.code, p.field) for p in mine) == [
        ("ingest", "schema.type", "in_vitro"),
        ("normalize", "normalize.ref_reused", "citation.ref"),
        ("normalize", "vocabulary.species", "in_vivo[0].species"),
    ]
    assert "smith-2021" not in studies["id"].to_list()


def test_every_problem_has_a_stable_code_and_a_severity(tmp_path, build_studies):
    """Every kind of bad record the corpus generator knows, in one corpus."""
    gc.generate_corpus(tmp_path, 20, seed=5, bad=len(gc.BAD_KINDS))
    _, problems = build_studies(tmp_path / "raw")
    assert len({p.file for p in problems}) >= len(gc.BAD_KINDS)
    for problem in problems:
        assert problem.code, problem
        assert problem.code.split(".")[0] in {
            "file", "yaml", "schema", "citation", "validate", "normalize", "vocabulary",
            "model_type",
        }, problem  # fmt: skip
        assert problem.severity in SEVERITIES
        assert problem.hint, problem


def test_a_model_the_vocabulary_cannot_place_is_a_warning_and_the_study_is_included(
    build_studies, raw_dir
):
    text = added("smith-2020", "  first_author: Smith\n  year: 2020\n").replace(
        "model: Liver injury model", "model: Xyzzy procedure"
    )
    write(raw_dir.parent, "bone_marrow", "smith-2020", text)
    studies, problems = build_studies(raw_dir)
    (problem,) = problems
    assert (problem.code, problem.severity, problem.field) == (
        "model_type.unclassified",
        "warning",
        "in_vivo[0].model",
    )
    assert "Xyzzy procedure" in problem.message
    assert "model_type" in problem.hint
    assert "config/vocabulary.yaml" in problem.hint
    assert studies.select("id", "model_type").row(0) == ("smith-2020", "unclassified")


def test_added_papers_print_the_species_label_review_papers_as_written(
    build_studies, tables, raw_dir, good_record
):
    write(
        raw_dir.parent,
        "bone_marrow",
        "smith-2020",
        added("smith-2020", "  first_author: Smith\n  year: 2020\n").replace(
            "species: Rat", "species: rats"
        ),
    )
    write(
        raw_dir.parent,
        "bone_marrow",
        "damania-2018",
        good_record("damania-2018", ("species: Rat", "species: rats")),
    )
    studies, problems = build_studies(raw_dir)
    assert problems == []
    cells = {r["Ref."]: r["In vivo study (animal model / clinical use)"] for r in rows_of(
        studies, tables)}  # fmt: skip
    assert cells["Smith et al, 2020"] == "Liver injury model (Rat)"
    assert cells["Damania et al[23], 2018"] == "Liver injury model (rats)"


@pytest.mark.parametrize(
    ("source", "donor", "expected"),
    [
        ("rat bone marrow", None, "rat"),
        ("BM-MSC", "human", "human"),
        ("bone marrow", None, None),
    ],
)
def test_source_donor_comes_from_the_spelling_or_donor_species(
    build_studies, raw_dir, source, donor, expected
):
    text = added("smith-2020", "  first_author: Smith\n  year: 2020\n").replace(
        "source: bone marrow", f"source: {source}"
    ) + (f"donor_species: {donor}\n" if donor else "")
    write(raw_dir.parent, "bone_marrow", "smith-2020", text)
    studies, problems = build_studies(raw_dir)
    assert problems == []
    assert studies["source_donor"].to_list() == [expected]


def test_a_donor_species_the_source_contradicts_is_an_error(build_studies, raw_dir):
    text = (
        added("smith-2020", "  first_author: Smith\n  year: 2020\n").replace(
            "source: bone marrow", "source: rat bone marrow"
        )
        + "donor_species: human\n"
    )
    write(raw_dir.parent, "bone_marrow", "smith-2020", text)
    _, problems = build_studies(raw_dir)
    assert [(p.code, p.field) for p in problems] == [("normalize.donor_conflict", "donor_species")]


# -- the real DAG ----------------------------------------------------------------------
def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.e2e
def test_a_paper_known_only_by_its_pmid_builds_with_nr(project, run_snakemake):
    write(project, "bone_marrow", "pmid-29378639", PMID_ONLY)
    done = run_snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    results = project / "results"
    (row,) = [
        r for r in read_csv(results / "tables" / "table1.csv") if r["Ref."] == "PMID 29378639"
    ]
    assert row["In vitro study"] == "NR"
    assert row["Results"] == "NR"
    assert row["In vivo study (animal model / clinical use)"].startswith(
        "Influenza virus-induced acute lung injury ("
    )
    markdown = (results / "tables" / "table1.md").read_text(encoding="utf-8")
    assert "| PMID 29378639 |" in markdown
    # the footnote says what NR means (the caption citing the review follows it)
    assert any(line.endswith(review_tables.NR_FOOTNOTE) for line in markdown.splitlines())
    (study,) = [r for r in read_csv(results / "studies.csv") if r["id"] == "pmid-29378639"]
    assert (study["in_vitro"], study["results"], study["pmid"]) == ("", "", "29378639")
    gap = {r["source"]: r for r in read_csv(results / "translation_gap.csv")}
    assert (gap["bone_marrow"]["n_in_vitro_nr"], gap["all"]["n_in_vitro_nr"]) == ("1", "1")
    assert gap["bone_marrow"]["n_studies"] == "11"


@pytest.mark.e2e
def test_a_record_with_three_kinds_of_problem_gets_all_three_in_one_build(
    project, run_snakemake, good_record
):
    write(project, "bone_marrow", "smith-2021", three_problem_record(good_record))
    done = run_snakemake(project)
    assert done.returncode != 0
    lines = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if "raw/bone_marrow/smith-2021.yaml" in line
    ]
    for field in ("[in_vitro]", "[in_vivo[0].species]", "[citation.ref]"):
        assert any(field in line for line in lines), (field, lines)
    ledger = json.loads((project / "results" / "validation.json").read_text(encoding="utf-8"))
    codes = {p["code"] for p in ledger["problems"] if p["file"].endswith("smith-2021.yaml")}
    assert codes == {"schema.type", "vocabulary.species", "normalize.ref_reused"}
    # smith-2021 and damania-2018, whose ref 23 it reused
    assert (ledger["files_read"], ledger["rejected"]) == (27, 2)


@pytest.mark.e2e
def test_an_unclassified_model_warns_and_the_build_goes_on(project, run_snakemake):
    text = added("smith-2020", "  first_author: Smith\n  year: 2020\n").replace(
        "model: Liver injury model", "model: Xyzzy procedure"
    )
    write(project, "bone_marrow", "smith-2020", text)
    done = run_snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [line for line in done.stderr.splitlines() if "Xyzzy procedure" in line]
    assert "raw/bone_marrow/smith-2020.yaml" in line
    assert "warning" in line
    assert "model_type" in line
    report = (project / "results" / "validation_report.md").read_text(encoding="utf-8")
    warnings = report[report.index("## Warnings (1 warning in 1 file)") :]
    assert "raw/bone_marrow/smith-2020.yaml" in warnings
    assert "model_type.unclassified" in warnings
    ledger = json.loads((project / "results" / "validation.json").read_text(encoding="utf-8"))
    assert (ledger["included"], ledger["rejected"], ledger["warnings"]) == (27, 0, 1)
    (study,) = [r for r in read_csv(project / "results" / "studies.csv") if r["id"] == "smith-2020"]
    assert study["model_type"] == "unclassified"


# -- papers from the field (tests/data/field: other reviews' rows, transcribed) ------------
FIELD = Path(__file__).resolve().parent / "data" / "field"
needs_field = pytest.mark.skipif(
    not any(FIELD.glob("*/*.yaml")), reason="tests/data/field holds no records"
)


def add_field_records(project: Path) -> list[str]:
    """Copy the field records into ``project/raw/<source>/``; their raw_file paths."""
    added_files = []
    for path in sorted(FIELD.glob("*/*.yaml")):
        target = write(project, path.parent.name, path.stem, path.read_text(encoding="utf-8"))
        added_files.append(target.relative_to(project).as_posix())
    return added_files


@needs_field
def test_field_records_build_with_the_review_without_a_problem(build_studies, repo_root, tmp_path):
    project = tmp_path / "project"
    for path in (repo_root / "raw").rglob("*.yaml"):
        write(project, path.parent.name, path.stem, path.read_text(encoding="utf-8"))
    field = add_field_records(project)
    studies, problems = build_studies(project / "raw")
    assert problems == []  # not even a warning: no model needs a hand-written model_type
    assert studies.height == 26 + len(field)
    ours = studies.filter(pl.col("raw_file").is_in([(project / f).as_posix() for f in field]))
    assert ours.height == len(field)
    assert "unclassified" not in ";".join(ours["model_type"].drop_nulls().to_list())


@needs_field
@pytest.mark.e2e
def test_field_records_build_with_the_default_settings(project, run_snakemake):
    field = add_field_records(project)
    done = run_snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "warning:" not in done.stderr.lower()  # no problem line of severity warning
    assert ", 0 warnings ->" in done.stderr.strip().splitlines()[-1]
    studies = {r["raw_file"]: r for r in read_csv(project / "results" / "studies.csv")}
    assert set(field) <= set(studies)
    assert all(studies[f]["model_type"] != "unclassified" for f in field)
    cells = [
        r["Ref."]
        for n in (1, 2, 3)
        for r in read_csv(project / "results" / "tables" / f"table{n}.csv")
    ]
    assert len(cells) == len(studies)
    assert all(cells), "every study is cited by something"
