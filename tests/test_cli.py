"""The ``exosynth`` command: ``check`` runs a build's checks on named files, ``new`` scaffolds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import run_cli

from exosynth import cli

# One record with a problem of each kind: the schema (in_vitro "+"), the vocabulary (an
# unknown species) and the other records (ref 23 is damania-2018's, copied along).
THREE_PROBLEMS = (
    ("in_vitro: true", 'in_vitro: "+"'),
    ("species: Rat", "species: Hamsterz"),
    ("review_row: 1\n", ""),
)
THREE_CODES = {"schema.type", "vocabulary.species", "normalize.ref_reused"}


@pytest.fixture
def in_project(project, monkeypatch):
    """A project copy as the working folder (the command reads config/ and raw/ from there)."""
    monkeypatch.chdir(project)
    return project


# -- check ---------------------------------------------------------------------------
def test_check_finds_three_kinds_of_problem_of_one_record_at_once(
    in_project, good_record, write_raw
):
    write_raw(in_project, "bone_marrow", "smith-2021", good_record("smith-2021", *THREE_PROBLEMS))
    problems, elsewhere = cli.check(["raw/bone_marrow/smith-2021.yaml"])
    assert {p.code for p in problems} == THREE_CODES
    assert {p.file for p in problems} == {"raw/bone_marrow/smith-2021.yaml"}
    # the other side of the reused ref is damania-2018's own problem, not printed here
    assert elsewhere == 1
    reused = next(p for p in problems if p.code == "normalize.ref_reused")
    assert "raw/bone_marrow/damania-2018.yaml" in reused.message


def test_check_command_prints_every_problem_and_fails(project, good_record, write_raw):
    write_raw(project, "bone_marrow", "smith-2021", good_record("smith-2021", *THREE_PROBLEMS))
    done = run_cli(project, "check", "raw/bone_marrow/smith-2021.yaml")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout
    for field, words in (
        ("[in_vitro]", "true for +"),
        ("[in_vivo[0].species]", "Hamsterz"),
        ("[citation.ref]", "damania-2018"),
    ):
        assert any(
            line.startswith("raw/bone_marrow/smith-2021.yaml") and field in line and words in line
            for line in lines
        ), (field, done.stdout)
    assert "3 problems (3 errors) in 1 file" in done.stderr


def test_check_of_a_good_record_passes(project, good_record, write_raw):
    text = good_record("smith-2021", ("review_row: 1\n", ""), ("  ref: 23\n", ""))
    write_raw(project, "bone_marrow", "smith-2021", text)
    done = run_cli(project, "check", "raw/bone_marrow/smith-2021.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    assert "no problems in 1 file" in done.stderr


def test_check_with_warnings_only_succeeds_and_says_so(project, good_record, write_raw):
    text = good_record(
        "smith-2021",
        ("review_row: 1\n", ""),
        ("  ref: 23\n", ""),
        ("model: Liver injury model", "model: Xyzzy procedure"),
    )
    write_raw(project, "bone_marrow", "smith-2021", text)
    done = run_cli(project, "check", "raw/bone_marrow/smith-2021.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning:" in done.stdout
    assert "Xyzzy procedure" in done.stdout
    assert "model_type" in done.stdout  # the fix: add model_type, or a vocabulary keyword
    assert "config/vocabulary.yaml" in done.stdout
    assert "1 problem (1 warning) in 1 file" in done.stderr


def test_check_names_a_duplicate_against_the_rest_of_raw(in_project, good_record, write_raw):
    """A second file of the same paper (same DOI) is caught when only the new one is named."""
    doi = ("  ref: 23", "  ref: 23\n  doi: 10.1000/xyz")
    added = (("review_row: 1\n", ""), ("source: bone marrow", "source: ADSC"))
    write_raw(in_project, "adipose", "old-2019", good_record("old-2019", doi, *added))
    write_raw(
        in_project, "adipose", "new-2021", good_record("new-2021", doi, *added, ("  ref: 23\n", ""))
    )
    problems, _ = cli.check(["raw/adipose/new-2021.yaml"])
    assert [(p.code, p.file) for p in problems] == [
        ("validate.unique_doi", "raw/adipose/new-2021.yaml")
    ]
    assert "raw/adipose/old-2019.yaml" in problems[0].message


def _warm_parse_cache(project: Path) -> None:
    """The parse cache as a build leaves it (rule ingest's function, both shards)."""
    from exosynth.adapters import ingest_shard  # noqa: PLC0415
    from exosynth.corpus import PARSE_CACHE  # noqa: PLC0415

    for shard in (0, 1):
        ingest_shard(
            "raw",
            shard,
            2,
            "schemas/study.schema.json",
            str(project / f"shard-{shard}.parquet"),
            str(project / f"shard-{shard}.json"),
            cache_file=f"{PARSE_CACHE}/shard-{shard}.parquet",
        )


def test_check_parses_only_the_named_file_when_the_build_cached_the_rest(
    in_project, good_record, write_raw, monkeypatch
):
    from exosynth.studies import parse_cache  # noqa: PLC0415

    write_raw(in_project, "adipose", "new-2021", good_record("new-2021", ("review_row: 1\n", "")))
    _warm_parse_cache(in_project)
    parsed: list[str] = []
    real = parse_cache.parse_study
    monkeypatch.setattr(
        parse_cache, "parse_study", lambda path, *a: parsed.append(path) or real(path, *a)
    )
    cold, _ = cli.check(["raw/adipose/new-2021.yaml"])
    assert parsed == ["raw/adipose/new-2021.yaml"]
    # A file edited after the build is parsed again, not taken from the stale cache: its new
    # DOI is the named file's, which check must now see.
    write_raw(
        in_project,
        "adipose",
        "old-2019",
        good_record("old-2019", ("review_row: 1\n", ""), ("  ref: 23", "  doi: 10.1000/xyz")),
    )
    named = in_project / "raw/adipose/new-2021.yaml"
    named.write_text(
        named.read_text(encoding="utf-8").replace("  ref: 23", "  doi: 10.1000/xyz"),
        encoding="utf-8",
    )
    parsed.clear()
    problems, _ = cli.check(["raw/adipose/new-2021.yaml"])
    assert sorted(parsed) == ["raw/adipose/new-2021.yaml", "raw/adipose/old-2019.yaml"]
    assert "validate.unique_doi" in {p.code for p in problems}
    assert "validate.unique_doi" not in {p.code for p in cold}


def test_check_of_a_missing_file_is_a_usage_error(project):
    done = run_cli(project, "check", "raw/bone_marrow/nobody-2020.yaml")
    assert done.returncode == 2
    assert "no such file" in done.stderr


# -- new -----------------------------------------------------------------------------
def schema_fields(schema: dict) -> set[str]:
    """Every field name of the record schema, nested ones too (citation.cited_in's included)."""
    names: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        for name, sub in node.get("properties", {}).items():
            names.add(name)
            pending.append(sub)
            if "items" in sub:
                pending.append(sub["items"])
    return names


def test_new_writes_every_field_commented_and_nothing_else(project, repo_root):
    done = run_cli(project, "new", "umbilical_cord", "smith-2021")
    assert done.returncode == 0, done.stderr
    target = project / "raw" / "umbilical_cord" / "smith-2021.yaml"
    text = target.read_text(encoding="utf-8")
    schema = json.loads((repo_root / "schemas" / "study.schema.json").read_text(encoding="utf-8"))
    written = {
        found.group(1)
        for line in text.splitlines()
        if (found := re.match(r"^[#\s-]*([a-z_]+):", line))
    }
    assert schema_fields(schema) - written == set()
    # each field line explains itself
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            assert "#" in line, line
    document = yaml.safe_load(text)
    assert document["id"] == "smith-2021"
    # no value carried from another paper: only the id is filled in
    filled = {k for k, v in document.items() if v not in (None, [], {})}
    assert filled <= {"id", "citation", "in_vivo"}
    assert all(v is None for v in document["citation"].values())
    assert all(v is None for entry in document["in_vivo"] for v in entry.values())


def test_new_refuses_to_overwrite_and_unknown_sources(project):
    assert run_cli(project, "new", "bone_marrow", "smith-2021").returncode == 0
    target = project / "raw" / "bone_marrow" / "smith-2021.yaml"
    target.write_text(target.read_text(encoding="utf-8") + "# my notes\n", encoding="utf-8")
    again = run_cli(project, "new", "bone_marrow", "smith-2021")
    assert again.returncode == 2
    assert "not overwritten" in again.stderr
    assert target.read_text(encoding="utf-8").endswith("# my notes\n")
    unknown = run_cli(project, "new", "marrow", "jones-2021")
    assert unknown.returncode == 2
    assert "bone_marrow" in unknown.stderr  # the sources it could be
    bad_id = run_cli(project, "new", "bone_marrow", "Jones 2021")
    assert bad_id.returncode == 2
    assert not (project / "raw" / "marrow").exists()


def test_a_new_record_filled_in_passes_check(in_project):
    target = cli.new_record("adipose", "lee-2021")
    empty, _ = cli.check([target.as_posix()])
    assert {p.field for p in empty} >= {"source", "condition", "citation"}
    assert all(p.is_error for p in empty)
    text = target.read_text(encoding="utf-8")
    for old, new in (
        ("source:  ", "source: ADSC"),
        ("  pmid:  ", "  pmid: 31234567"),
        ("condition:  ", "condition: Skin wound"),
        ("- model:  ", "- model: Full-thickness wound model"),
        ("  species:  ", "  species: Mice"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new + " ", 1)
    target.write_text(text, encoding="utf-8")
    problems, _ = cli.check([target.as_posix()])
    assert problems == []


def test_new_for_a_source_the_vocabulary_knows_writes_its_config_entry(project):
    """No hand-editing: the config gains the source's entry, its table next in line."""
    config_file = project / "config" / "config.yaml"
    before = config_file.read_text(encoding="utf-8")
    done = run_cli(project, "new", "placenta", "smith-2021")
    assert done.returncode == 0, done.stderr
    assert "Table 4" in done.stderr
    again = run_cli(project, "new", "wharton_jelly", "lee-2020")
    assert again.returncode == 0, again.stderr
    after = config_file.read_text(encoding="utf-8")
    # every line and comment kept, in order; the entries added at the end of `sources:`
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert [line for line in after.splitlines() if line not in added] == before.splitlines()
    assert added[0].startswith("  placenta:  # added by `exosynth new`")
    config = yaml.safe_load(after)
    assert config["sources"]["placenta"]["table"] == 4
    assert config["sources"]["wharton_jelly"]["table"] == 5
    assert config["sources"]["wharton_jelly"]["label"] == "Wharton's jelly"
    assert 4 not in config["review"]["tables"]  # a table added to the review's, not its own
    text = (project / "raw" / "placenta" / "smith-2021.yaml").read_text(encoding="utf-8")
    assert "(Placenta: e.g. Placenta)" not in text
    assert "(Placenta: e.g. placenta, placental" in text
    # a second record of the source adds nothing more
    assert run_cli(project, "new", "placenta", "berg-2022").returncode == 0
    assert config_file.read_text(encoding="utf-8") == after


# -- what the planted-bug audit asked for (tools/planted_bugs) ------------------------------
def test_check_names_the_file_given_not_one_of_the_same_name_elsewhere(
    in_project, good_record, write_raw
):
    """Two folders hold an x-2021.yaml (a copy-paste slip): checking the second reports the
    second, its own problems first among them, not those of the first."""
    added = (("review_row: 1\n", ""), ("  ref: 23\n", ""))
    write_raw(in_project, "adipose", "x-2021", good_record("x-2021", *added,
              ("source: bone marrow", "source: ADSC")))  # fmt: skip
    write_raw(in_project, "bone_marrow", "x-2021", good_record("x-2021", *added,
              ("in_vitro: true", "in_vitro: maybe")))  # fmt: skip
    problems, _ = cli.check(["./raw/bone_marrow/x-2021.yaml"])
    assert {p.file for p in problems} == {"raw/bone_marrow/x-2021.yaml"}
    assert {p.code for p in problems} >= {"schema.type", "validate.unique_id"}
