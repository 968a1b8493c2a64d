"""Ingest: every bad input gives a Problem that names the file, the field or line, and a fix."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest
import yaml

from exosynth.corpus import discover_raw_files, fingerprint, scan_raw_files, shard_of
from exosynth.problems import Problem, sorted_problems
from exosynth.studies.loading import MAX_NESTING, MAX_RECORD_BYTES, _structure_problem, read_raw
from exosynth.studies.parse_cache import empty_cache, ingest, ingest_cached, parser_key, read_cache
from exosynth.studies.records import read_study
from exosynth.studies.schema_messages import StudyValidator, schema_problems, study_validator

PATH = "raw/bone_marrow/smith-2020.yaml"


def line_of(text: str, fragment: str) -> int:
    """1-based number of the only line of ``text`` that contains ``fragment``."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, f"{fragment!r} is on lines {found}"
    return found[0]


def only_problem(data: str | bytes, validator, path: str = PATH) -> Problem:
    """The single problem of a rejected file; the file must be rejected."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    record, problems = read_study(path, raw, validator)
    assert record is None
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == path
    assert problem.hint, "every problem says how to fix it"
    return problem


def field_problem(text: str, validator, field: str, path: str = PATH) -> Problem:
    """The problem about ``field`` of a rejected record, at the line where the field is."""
    record, problems = read_study(path, text.encode("utf-8"), validator)
    assert record is None
    matching = [p for p in problems if p.field == field]
    assert len(matching) == 1, problems
    problem = matching[0]
    assert problem.file == path
    assert problem.hint
    return problem


# -- the good path ---------------------------------------------------------------
def test_valid_record_is_returned_as_parsed(good_record, validator):
    text = good_record("smith-2020")
    record, problems = read_study(PATH, text.encode("utf-8"), validator)
    assert problems == []
    assert record == yaml.safe_load(text)


def test_real_records_all_pass(repo_root, validator):
    paths = discover_raw_files(repo_root / "raw")
    assert len(paths) == 26
    records, problems = ingest(read_raw(paths), validator)
    assert problems == []
    assert records.height == 26
    assert records["accepted"].all()
    assert records["id"].to_list() == [Path(p).stem for p in sorted(paths)]


# -- bytes and YAML syntax -------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "bad_line"),
    [
        ("  year: 2018", "   year: 2018", "   year: 2018"),  # over-indented
        ("condition: Liver disease", "condition: Liver: disease", "condition: Liver: disease"),
        ("  year: 2018", "\tyear: 2018", "\tyear: 2018"),  # a tab
        # an unclosed quote: the line where the quoted text starts, not past the end of the file
        ("condition: Liver disease", 'condition: "Liver disease', 'condition: "Liver disease'),
    ],
    ids=["indentation", "colon-in-value", "tab", "unclosed-quote"],
)
def test_malformed_yaml_names_the_line(good_record, validator, old, new, bad_line):
    text = good_record("smith-2020", (old, new))
    problem = only_problem(text, validator)
    assert "yaml" in problem.message.lower()
    assert problem.line == line_of(text, bad_line)


def test_non_utf8_bytes_name_the_line(good_record, validator):
    text = good_record("smith-2020")
    data = text.encode("utf-8").replace(b"Liver disease", b"Liver \xe9 disease")  # Latin-1 e-acute
    problem = only_problem(data, validator)
    assert "UTF-8" in problem.message
    assert "UTF-8" in problem.hint
    assert problem.line == line_of(text, "condition:")


def test_utf8_byte_order_mark_is_accepted(good_record, validator):
    data = "\ufeff".encode() + good_record("smith-2020").encode("utf-8")
    record, problems = read_study(PATH, data, validator)
    assert problems == []
    assert record["id"] == "smith-2020"


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n\n", b"# a comment\n\n   # another comment\n", "\ufeff\n".encode()],
    ids=["empty", "blank-lines", "comments-only", "bom-only"],
)
def test_empty_file(validator, data):
    problem = only_problem(data, validator)
    assert "empty" in problem.message


def test_several_documents(good_record, validator):
    text = good_record("smith-2020") + "---\n" + good_record("jones-2021")
    problem = only_problem(text, validator)
    assert "several" in problem.message
    assert "document" in problem.message
    assert "---" in problem.hint
    assert problem.line == line_of(text, "---")


@pytest.mark.parametrize(
    "where",
    ["document", "field"],
)
def test_python_object_tag_is_refused_and_never_run(
    good_record, validator, tmp_path, monkeypatch, where
):
    monkeypatch.chdir(tmp_path)
    payload = '!!python/object/apply:os.system ["echo pwned > marker"]'
    text = (
        f"{payload}\n"
        if where == "document"
        else good_record("smith-2020", ("condition: Liver disease", f"condition: {payload}"))
    )
    problem = only_problem(text, validator)
    assert "tag" in problem.message.lower()
    assert "tag" in problem.hint
    assert problem.line == line_of(text, "!!python")
    assert not (tmp_path / "marker").exists()


def test_custom_tag_is_refused(good_record, validator):
    text = good_record("smith-2020", ("condition: Liver disease", "condition: !disease Liver"))
    problem = only_problem(text, validator)
    assert "!disease" in problem.message
    assert problem.line == line_of(text, "!disease")


BILLION_LAUGHS = (
    "\n".join(
        [
            'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
            *(
                f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
                for a, b in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "id: *i",
        ]
    )
    + "\n"
)


def test_alias_bomb_is_refused_quickly(validator):
    start = time.perf_counter()
    problem = only_problem(BILLION_LAUGHS, validator)
    assert time.perf_counter() - start < 5
    assert "anchor" in problem.message
    assert "alias" in problem.message
    assert problem.line == 1


def test_a_single_anchor_is_refused(good_record, validator):
    text = good_record(
        "smith-2020",
        ("condition: Liver disease", "condition: &c Liver disease"),
        ("results: Improves liver regeneration and recovery", "results: *c"),
    )
    problem = only_problem(text, validator)
    assert "anchor" in problem.message
    assert problem.line == line_of(text, "&c")


def test_ampersand_and_asterisk_in_text_are_fine(good_record, validator):
    text = good_record("smith-2020", ("condition: Liver disease", "condition: Liver & bile * x"))
    record, problems = read_study(PATH, text.encode("utf-8"), validator)
    assert problems == []
    assert record["condition"] == "Liver & bile * x"


@pytest.mark.parametrize(
    "text",
    ["[" * 10000, "a: " + "[" * 10000 + "]" * 10000, "# R&D\n" + "[" * 10000],
    ids=["open", "closed", "scanned"],
)
def test_deep_nesting_is_refused(validator, text):
    start = time.perf_counter()
    problem = only_problem(text, validator)
    assert time.perf_counter() - start < 5
    assert "nest" in problem.message.lower()


def test_oversized_file_is_refused_unparsed(good_record, validator):
    text = good_record("smith-2020")
    padding = "#" * (MAX_RECORD_BYTES - len(text.encode("utf-8")))
    at_limit = (text + padding).encode("utf-8")
    assert len(at_limit) == MAX_RECORD_BYTES
    record, problems = read_study(PATH, at_limit, validator)
    assert problems == []
    assert record is not None

    problem = only_problem(at_limit + b"#", validator)
    assert f"{MAX_RECORD_BYTES:,}" in problem.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- id: a\n- id: b\n", "list"), ("just some words\n", "str"), ("2018\n", "int")],
)
def test_top_level_must_be_a_mapping(validator, text, kind):
    problem = only_problem(text, validator)
    assert "mapping" in problem.message
    assert kind in problem.message
    assert problem.line == 1


# -- the schema, field by field ----------------------------------------------------
def test_unknown_field_suggests_the_known_one(good_record, validator):
    text = good_record("smith-2020", ("condition: Liver disease", "conditon: Liver disease"))
    problem = field_problem(text, validator, "conditon")
    assert "unknown" in problem.message
    assert '"condition"' in problem.hint
    assert problem.line == line_of(text, "conditon:")


@pytest.mark.parametrize(
    ("edit", "field", "suggestion"),
    [
        (("  year: 2018", "  yaer: 2018"), "citation.yaer", "year"),
        (("  species: Rat", "  specis: Rat"), "in_vivo[0].specis", "species"),
    ],
)
def test_unknown_nested_field_suggests_the_known_one(
    good_record, validator, edit, field, suggestion
):
    new = edit[1]
    text = good_record("smith-2020", edit)
    problem = field_problem(text, validator, field)
    assert f'"{suggestion}"' in problem.hint
    assert problem.line == line_of(text, new.strip())


def test_unknown_field_without_a_close_match_lists_the_known_ones(good_record, validator):
    text = good_record("smith-2020", ("  ref: 23", "  ref: 23\n  journal: Hepatology"))
    problem = field_problem(text, validator, "citation.journal")
    assert "first_author" in problem.hint
    assert "doi" in problem.hint


@pytest.mark.parametrize(
    ("old", "field", "line_fragment"),
    [
        ("condition: Liver disease\n", "condition", None),
        ("source: bone marrow\n", "source", None),
        ("  species: Rat\n", "in_vivo[0].species", "- model:"),
    ],
)
def test_missing_required_field(good_record, validator, old, field, line_fragment):
    text = good_record("smith-2020", (old, ""))
    problem = field_problem(text, validator, field)
    assert "missing" in problem.message
    assert field.rsplit(".", 1)[-1] in problem.hint
    if line_fragment:
        assert problem.line == line_of(text, line_fragment)


def test_year_in_quotes_hint_writes_it_without(good_record, validator):
    text = good_record("smith-2020", ("year: 2018", 'year: "2018"'))
    problem = field_problem(text, validator, "citation.year")
    assert "quotes" in problem.hint
    assert "2018" in problem.hint
    assert problem.line == line_of(text, "year:")


@pytest.mark.parametrize(("sign", "word"), [("+", "true"), ("-", "false")])
def test_plus_minus_for_in_vitro_hints_true_false(good_record, validator, sign, word):
    text = good_record("smith-2020", ("in_vitro: true", f'in_vitro: "{sign}"'))
    problem = field_problem(text, validator, "in_vitro")
    assert f"{word} for {sign}" in problem.hint
    assert problem.line == line_of(text, "in_vitro:")


def test_date_for_year_hints_the_year_only(good_record, validator):
    text = good_record("smith-2020", ("year: 2018", "year: 2018-05-01"))
    problem = field_problem(text, validator, "citation.year")
    assert "year" in problem.hint
    assert "2018-05-01" not in problem.hint


def test_year_before_1950_is_out_of_range(good_record, validator):
    text = good_record("smith-2020", ("year: 2018", "year: 1900"))
    problem = field_problem(text, validator, "citation.year")
    assert "1900" in problem.message
    assert "1950" in problem.hint


def test_year_after_this_year_is_out_of_range(good_record, validator):
    this_year = dt.date.today().year
    accepted = good_record("smith-2020", ("year: 2018", f"year: {this_year}"))
    assert read_study(PATH, accepted.encode("utf-8"), validator)[1] == []
    text = good_record("smith-2020", ("year: 2018", f"year: {this_year + 1}"))
    problem = field_problem(text, validator, "citation.year")
    assert str(this_year) in problem.hint


def test_year_limit_follows_the_calendar(good_record, repo_root):
    later = study_validator(repo_root / "schemas" / "study.schema.json", today=dt.date(2031, 6, 1))
    accepted = good_record("smith-2020", ("year: 2018", "year: 2031"))
    assert read_study(PATH, accepted.encode("utf-8"), later)[1] == []
    text = good_record("smith-2020", ("year: 2018", "year: 2032"))
    problem = field_problem(text, later, "citation.year")
    assert "2031" in problem.hint


@pytest.mark.parametrize("bad_id", ["Smith-2020", "smith_2020", "2020-smith", "smith--2020"])
def test_bad_id_pattern(good_record, validator, bad_id):
    text = good_record(bad_id)
    problem = field_problem(text, validator, "id", path=f"raw/bone_marrow/{bad_id}.yaml")
    assert "lower-case" in problem.hint
    assert problem.line == line_of(text, "id:")


@pytest.mark.parametrize(
    "doi",
    [
        "10.1016/j.stem.2018.01.001",
        "https://doi.org/10.1000/xyz",
        "http://dx.doi.org/10.1000/xyz",
        '"doi: 10.1000/xyz"',
    ],
)
def test_doi_forms_accepted(good_record, validator, doi):
    text = good_record("smith-2020", ("  ref: 23", f"  ref: 23\n  doi: {doi}"))
    assert read_study(PATH, text.encode("utf-8"), validator)[1] == []


@pytest.mark.parametrize("doi", ["not-a-doi", "10.12/abc", "doi.org/abc", "10.1000/with space"])
def test_bad_doi(good_record, validator, doi):
    text = good_record("smith-2020", ("  ref: 23", f"  ref: 23\n  doi: {doi}"))
    problem = field_problem(text, validator, "citation.doi")
    assert "10." in problem.hint
    assert problem.line == line_of(text, "doi:")


@pytest.mark.parametrize("pmid", ["29625071", '"29625071"'])
def test_pmid_forms_accepted(good_record, validator, pmid):
    text = good_record("smith-2020", ("  ref: 23", f"  ref: 23\n  pmid: {pmid}"))
    assert read_study(PATH, text.encode("utf-8"), validator)[1] == []


@pytest.mark.parametrize("pmid", ['"12ab"', '"0123"', "0", "-5", "12.5", "1234567890"])
def test_bad_pmid(good_record, validator, pmid):
    text = good_record("smith-2020", ("  ref: 23", f"  ref: 23\n  pmid: {pmid}"))
    problem = field_problem(text, validator, "citation.pmid")
    assert problem.line == line_of(text, "pmid:")


def test_id_must_match_the_file_name(good_record, validator):
    text = good_record("smith-2020")
    problem = field_problem(text, validator, "id", path="raw/bone_marrow/smith-2021.yaml")
    for name in ("smith-2020", "smith-2021"):
        assert name in problem.message
        assert name in problem.hint
    assert problem.line == line_of(text, "id:")
    assert problem.code == "file.id_mismatch"


def test_duplicate_key_is_a_problem_not_a_silent_overwrite(good_record, validator):
    """YAML keys are unique; PyYAML would silently keep the last of two `condition:` lines."""
    text = good_record(
        "smith-2020",
        ("condition: Liver disease", "condition: Liver disease\ncondition: Liver fibrosis"),
    )
    problem = field_problem(text, validator, "condition")
    assert problem.line in {line_of(text, "Liver disease"), line_of(text, "Liver fibrosis")}


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("  ref: 23", "  ref: 99999999999999999999"), "citation.ref"),
        (("clinical: null", "clinical:\n  patients: 99999999999999999999"), "clinical.patients"),
        (("review_row: 1", "review_row: 9223372036854775808"), "review_row"),
    ],
    ids=["ref", "patients", "review_row"],
)
def test_number_too_large_for_the_study_table_is_a_problem_not_a_crash(
    good_record, validator, edit, field
):
    """One file must never stop the ingest of the others with a traceback."""
    path = "raw/bone_marrow/smith-2020.yaml"
    files = [
        (path, good_record("smith-2020", edit).encode("utf-8")),
        ("raw/bone_marrow/jones-2021.yaml", good_record("jones-2021").encode("utf-8")),
    ]
    records, problems = ingest(files, validator)
    assert dict(zip(records["raw_file"], records["accepted"], strict=True)) == {
        path: False,
        "raw/bone_marrow/jones-2021.yaml": True,
    }
    assert [(p.file, p.field) for p in problems] == [(path, field)]


def test_all_problems_of_a_file_at_once(good_record, validator):
    text = good_record(
        "smith-2020",
        ("year: 2018", 'year: "2018"'),
        ("in_vitro: true", 'in_vitro: "+"'),
        ("  ref: 23", "  ref: 23\n  doi: not-a-doi"),
    )
    problems = read_study(PATH, text.encode("utf-8"), validator)[1]
    assert sorted(p.field for p in problems) == ["citation.doi", "citation.year", "in_vitro"]
    assert all(p.file == PATH and p.hint and p.line for p in problems)
    assert schema_problems(PATH, text, yaml.safe_load(text), validator) == problems


def test_schema_problems_of_a_valid_record_are_none(good_record, validator):
    text = good_record("smith-2020")
    assert schema_problems(PATH, text, yaml.safe_load(text), validator) == []


# -- many files ------------------------------------------------------------------
def test_ingest_keeps_every_file_and_reports_the_rejected(good_record, validator):
    files = [
        ("raw/bone_marrow/zeta-2020.yaml", good_record("zeta-2020").encode("utf-8")),
        ("raw/bone_marrow/empty-2020.yaml", b""),
        (
            "raw/adipose/alpha-2020.yaml",
            good_record("alpha-2020", ("in_vitro: true", "in_vitro: maybe")).encode(),
        ),
        ("raw/adipose/beta-2020.yaml", good_record("beta-2020").encode("utf-8")),
    ]
    records, problems = ingest(files, validator)
    assert records["raw_file"].to_list() == sorted(path for path, _ in files)
    accepted = dict(zip(records["raw_file"], records["accepted"], strict=True))
    assert accepted == {
        "raw/adipose/alpha-2020.yaml": False,
        "raw/adipose/beta-2020.yaml": True,
        "raw/bone_marrow/empty-2020.yaml": False,
        "raw/bone_marrow/zeta-2020.yaml": True,
    }
    assert {p.file for p in problems} == {
        "raw/adipose/alpha-2020.yaml",
        "raw/bone_marrow/empty-2020.yaml",
    }
    digests = dict(zip(records["raw_file"], records["sha256"], strict=True))
    assert all(digests[path] == hashlib.sha256(data).hexdigest() for path, data in files)
    beta = records.filter(records["raw_file"] == "raw/adipose/beta-2020.yaml").row(0, named=True)
    assert beta["id"] == "beta-2020"
    assert beta["year"] == 2018
    assert beta["in_vivo"] == [
        {"model": "Liver injury model", "species": "Rat", "model_type": None}
    ]


def test_discover_raw_files(tmp_path):
    raw = tmp_path / "raw"
    wanted = [raw / "adipose" / "b.yaml", raw / "bone_marrow" / "a.yml", raw / "top.yaml"]
    unwanted = [
        raw / "adipose" / ".hidden.yaml",
        raw / ".git" / "c.yaml",
        raw / "notes.txt",
        raw / "adipose" / "d.yaml.bak",
    ]
    for path in wanted + unwanted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("id: x\n", encoding="utf-8")
    found = discover_raw_files(raw)
    assert found == sorted(p.as_posix() for p in wanted)


def test_discover_raw_files_of_an_empty_folder(tmp_path):
    assert discover_raw_files(tmp_path) == []


def test_shard_of_is_in_range_and_spreads():
    paths = [f"raw/bone_marrow/paper-{n}.yaml" for n in range(200)]
    for shards in (1, 2, 3, 8):
        assigned = [shard_of(p, shards) for p in paths]
        assert set(assigned) == set(range(shards))
        # spreads: no shard holds more than twice its fair share
        assert max(assigned.count(s) for s in range(shards)) <= 2 * len(paths) / shards
    # the shard is the path's CRC-32 (what the Snakefile plans with), not a per-process hash
    assert [shard_of(p, 7) for p in paths[:3]] == [zlib.crc32(p.encode()) % 7 for p in paths[:3]]


def test_shard_of_is_stable_across_processes():
    """The DAG is planned in one process and run in others: hash seeds must not matter.

    The Snakefile shards with exosynth.corpus (a light import); it must agree with ingest's.
    """
    paths = [f"raw/adipose/paper-{n}.yaml" for n in range(20)]
    here = [shard_of(p, 7) for p in paths]
    code = (
        "import sys; from exosynth.corpus import shard_of; "
        "print([shard_of(p, 7) for p in sys.argv[1:]])"
    )
    for seed in ("1", "12345"):
        out = subprocess.run(
            [sys.executable, "-c", code, *paths],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=60,
        )
        assert out.stdout.strip() == str(here)


# -- issue 10: codes, and a rejected record keeps what parsed ------------------------------
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "file.empty"),
        (b"- a\n- b\n", "file.not_mapping"),
        (b"id: caf\xe9\n", "file.encoding"),
        (b"#" * (MAX_RECORD_BYTES + 1), "file.too_large"),
        (b"id: a\nid: b\n", "yaml.duplicate_key"),
        (b"id: !!python/object:os.system a\n", "yaml.tag"),
        (b"a: &x 1\nb: *x\n", "yaml.alias"),
        (b"id: a\n---\nid: b\n", "yaml.documents"),
        (b"id: [\n", "yaml.syntax"),
        (b"? [a, b]\n: c\n", "yaml.key"),
        (b"a: " + b"[" * 30 + b"]" * 30 + b"\n", "yaml.nesting"),
    ],
)
def test_every_file_and_yaml_problem_has_its_code(validator, data, code):
    (problem,) = read_study(PATH, data, validator)[1]
    assert (problem.code, problem.severity) == (code, "error")


def test_schema_problems_have_their_codes(good_record, validator):
    text = good_record(
        "smith-2020",
        ("condition: Liver disease", "conditon: Liver disease"),  # unknown field, and required
        ("in_vitro: true", 'in_vitro: "+"'),
        ("  ref: 23", "  ref: 0\n  doi: not-a-doi"),
    )
    problems = read_study(PATH, text.encode("utf-8"), validator)[1]
    assert sorted((p.field, p.code) for p in problems) == [
        ("citation.doi", "schema.pattern"),
        ("citation.ref", "schema.range"),
        ("condition", "schema.required"),
        ("conditon", "schema.unknown_field"),
        ("in_vitro", "schema.type"),
    ]


def test_a_rejected_record_keeps_every_field_that_parsed(good_record, validator):
    text = good_record(
        "smith-2020",
        ("in_vitro: true", 'in_vitro: "+"'),
        ("  ref: 23", "  ref: 23\n  doi: not-a-doi\n  pmid: 29378639"),
        ("- model: Liver injury model\n  species: Rat\n",
         "- Liver injury model\n- model: Tail model\n  species: [Rat]\n"),
    )  # fmt: skip
    records, problems = ingest([(PATH, text.encode("utf-8"))], validator)
    assert {p.field for p in problems} == {"in_vitro", "citation.doi", "in_vivo[0]",
                                           "in_vivo[1].species"}  # fmt: skip
    row = records.row(0, named=True)
    assert (row["accepted"], row["parsed"]) == (False, True)
    # what parsed is kept for the later checks; what the schema rejected is left empty
    assert (row["id"], row["source"], row["condition"], row["pmid"], row["ref"]) == (
        "smith-2020", "bone marrow", "Liver disease", "29378639", 23,
    )  # fmt: skip
    assert (row["in_vitro"], row["doi"]) == (None, None)
    # a rejected entry stays in place, so in_vivo[1] is still the second entry
    assert row["in_vivo"] == [
        {"model": None, "species": None, "model_type": None},
        {"model": "Tail model", "species": None, "model_type": None},
    ]
    assert row["invalid_fields"] == ["citation", "citation.doi", "in_vitro", "in_vivo"]


def test_a_file_that_did_not_parse_has_a_row_with_nothing_in_it(validator):
    records, _ = ingest([(PATH, b"id: [\n")], validator)
    row = records.row(0, named=True)
    assert (row["accepted"], row["parsed"], row["id"]) == (False, False, None)


@pytest.mark.parametrize(
    "citation",
    [
        "  first_author: Smith\n  year: 2020\n",
        "  pmid: 29378639\n",
        "  doi: 10.1000/xyz\n",
        "  cited_in: {doi: 10.1186/s13287-017-0576-4, ref: 19}\n",
        "  cited_in: {url: 'https://example.org/table1', ref: 3}\n",
    ],
    ids=["author-year", "pmid", "doi", "cited-doi", "cited-url"],
)
def test_each_of_the_four_ways_identifies_a_paper(validator, citation):
    text = (
        f"id: smith-2020\nsource: bone marrow\ncitation:\n{citation}"
        "condition: Liver disease\nin_vitro: true\n"
    )
    record, problems = read_study(PATH, text.encode("utf-8"), validator)
    assert problems == []
    assert record is not None


@pytest.mark.parametrize(
    ("citation", "what"),
    [
        ("citation:\n  title: A paper\n", "nothing identifies the paper"),
        ("citation:\n  first_author: Smith\n", "only citation.first_author is given"),
        ("citation:\n  year: 2020\n", "only citation.year is given"),
        ("", "nothing identifies the paper"),
    ],
    ids=["title-only", "author-only", "year-only", "no-citation"],
)
def test_a_record_that_does_not_say_which_paper_it_is(validator, citation, what):
    text = (
        f"id: smith-2020\nsource: bone marrow\n{citation}condition: Liver disease\nin_vitro: true\n"
    )
    record, problems = read_study(PATH, text.encode("utf-8"), validator)
    assert record is None
    unidentified = [p for p in problems if p.code == "citation.unidentified"]
    assert len(unidentified) == 1, problems
    problem = unidentified[0]
    assert (problem.file, problem.field) == (PATH, "citation")
    assert what in problem.message
    # the line of citation: where there is one, and the four ways in the fix
    assert problem.line == (line_of(text, "citation:") if citation else None)
    for way in ("first_author", "citation.doi", "citation.pmid", "cited_in"):
        assert way in problem.hint


# -- the two schema validators agree ---------------------------------------------------
@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("  ref: 23", '  ref: 23\n  pmid: "29625071\\n"'), "citation.pmid"),
        (("  ref: 23", '  ref: 23\n  doi: "10.1000/xyz\\n"'), "citation.doi"),
        (("id: smith-2020", 'id: "smith-2020\\n"'), "id"),
        (
            ("model: Liver injury model", 'model: Liver injury model\n  model_type: "liver\\n"'),
            "in_vivo[0].model_type",
        ),
    ],
    ids=["pmid", "doi", "id", "model_type"],
)
def test_trailing_newline_is_not_accepted(good_record, validator, edit, field):
    """python-jsonschema's `$` (re.search) matches before a final newline, jsonschema-rs's does
    not: the schema's patterns must mean the same in both, and the newline is never stored."""
    text = good_record("smith-2020", edit)
    problem = field_problem(text, validator, field)
    assert "\\n" in problem.message, problem.message  # names the value with its newline


@pytest.mark.parametrize(
    ("pattern_of", "value"),
    [
        ("doi", "10.1000/x\x1cy"),  # a separator Python counts as whitespace, ECMA does not
        ("doi", "10.1000/x\ufeffy"),  # ECMA counts the byte order mark as whitespace
        ("doi", "10.1000/x\x85y"),
        ("doi", "10.\u0661\u0662\u0663\u0664/x"),  # Arabic-Indic digits: \d differs
        ("pmid", "\u0661\u0662"),
        ("pmid", "12\n"),
        ("id", "a-b\n"),
    ],
)
def test_every_pattern_means_the_same_in_both_validators(repo_root, pattern_of, value):
    schema = json.loads((repo_root / "schemas" / "study.schema.json").read_text("utf-8"))
    props = {**schema["properties"], **schema["properties"]["citation"]["properties"]}
    single = {"type": "string", "pattern": props[pattern_of]["pattern"]}
    python = jsonschema.Draft202012Validator(single).is_valid(value)
    rust = jsonschema_rs.Draft202012Validator(single).is_valid(value)
    assert python == rust == False  # noqa: E712 (both, and both say no)


def test_fast_reject_with_no_explanation_is_a_problem_not_an_acceptance():
    """Were a pattern to mean different things again, the record is still rejected."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"pmid": {"type": "string", "pattern": "^[0-9]+$"}},  # Python: `$` leeway
    }
    validator = StudyValidator(schema)
    errors = list(validator.iter_errors({"pmid": "123\n"}))
    assert [e.validator for e in errors] == ["disagreement"]
    assert list(errors[0].absolute_path) == ["pmid"]
    assert "disagree" in errors[0].message
    assert list(validator.iter_errors({"pmid": "123"})) == []
    text = 'pmid: "123\\n"\n'
    problems = schema_problems(PATH, text, yaml.safe_load(text), validator)
    assert [(p.field, p.line) for p in problems] == [("pmid", 1)]
    assert "disagree" in problems[0].message
    assert problems[0].hint


# -- YAML 1.1 numbers ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "field", "plain"),
    [
        ("  ref: 23", "  ref: 023", "citation.ref", "`ref: 23`"),
        ("  year: 2018", "  year: 0x7E2", "citation.year", "`year: 2018`"),
        ("  year: 2018", "  year: 0o3742", "citation.year", "`year: 2018`"),
        ("  ref: 23", "  ref: 1:30", "citation.ref", "`ref: 90`"),
        ("  ref: 23", "  ref: 0b10111", "citation.ref", "`ref: 23`"),
        ("  ref: 23", "  ref: 2_3", "citation.ref", "`ref: 23`"),
        ("  ref: 23", "  ref: 09", "citation.ref", "`ref: 9`"),
        ("review_row: 1", "review_row: 01", "review_row", "`review_row: 1`"),
        ("clinical: null", "clinical:\n  patients: 012", "clinical.patients", "`patients: 12`"),
    ],
    ids=[
        "octal",
        "hex",
        "0o",
        "sexagesimal",
        "binary",
        "separator",
        "leading-zero-9",
        "row",
        "patients",
    ],
)
def test_number_not_written_plainly_is_an_error_never_another_number(  # noqa: PLR0917
    good_record, validator, old, new, field, plain
):
    text = good_record("smith-2020", (old, new))
    problem = only_problem(text, validator)
    assert problem.field == field
    assert problem.line == line_of(text, new.strip().splitlines()[-1])
    assert plain in problem.hint
    assert new.split(": ")[-1] in problem.message
    assert problem.code == "yaml.number_form"


@pytest.mark.parametrize("text", ['"023"', "'0x7E2'"])
def test_quoted_number_forms_stay_text(good_record, validator, text):
    """Quoted, they are text: the schema then says ref wants a whole number."""
    record = good_record("smith-2020", ("  ref: 23", f"  ref: {text}"))
    problem = field_problem(record, validator, "citation.ref")
    assert "whole number" in problem.message


def test_plain_numbers_are_read_as_written(good_record, validator):
    text = good_record("smith-2020", ("  ref: 23", "  ref: 230"))
    record, problems = read_study(PATH, text.encode("utf-8"), validator)
    assert problems == []
    assert record["citation"]["ref"] == 230


# -- nesting, checked by our own event scan --------------------------------------------
@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 500])
def test_event_scan_refuses_nesting_past_the_limit(depth):
    """Called directly, so it does not depend on whether this PyYAML's LibYAML has a limit."""
    problem = _structure_problem(PATH, "a: " + "[" * depth + "]" * depth + "\n")
    assert problem is not None
    assert problem.file == PATH
    assert f"more than {MAX_NESTING} levels" in problem.message


def test_event_scan_allows_nesting_up_to_the_limit():
    depth = MAX_NESTING - 1  # plus the top-level mapping
    assert _structure_problem(PATH, "a: " + "[" * depth + "]" * depth + "\n") is None


# -- the parse cache ---------------------------------------------------------------
def _write_corpus(root: Path, good_record) -> dict[str, bytes]:
    """A small raw/ with a good record, a rejected one, an empty file and a YAML error."""
    corpus = {
        "raw/bone_marrow/zeta-2020.yaml": good_record("zeta-2020").encode(),
        "raw/adipose/alpha-2020.yaml": good_record(
            "alpha-2020", ("in_vitro: true", "in_vitro: maybe")
        ).encode(),
        "raw/adipose/beta-2020.yaml": good_record("beta-2020").encode(),
        "raw/bone_marrow/empty-2020.yaml": b"",
        "raw/bone_marrow/broken-2020.yaml": b"id: broken-2020\nsource: [unclosed\n",
    }
    for name, data in corpus.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return corpus


def _listing(root: Path) -> list[tuple[str, int, int]]:
    """(path relative to root, size, mtime_ns) as the build's scan gives them."""
    return [
        (Path(path).relative_to(root).as_posix(), size, mtime)
        for path, size, mtime in scan_raw_files(root / "raw")
    ]


def _plain(root: Path, validator) -> tuple:
    listing = _listing(root)
    files = [(path, (root / path).read_bytes()) for path, _, _ in listing]
    return ingest(files, validator)


def test_cached_ingest_gives_what_a_clean_parse_gives(
    tmp_path, good_record, validator, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    _write_corpus(tmp_path, good_record)
    first = ingest_cached(_listing(tmp_path), validator, empty_cache())
    records, problems = _plain(tmp_path, validator)
    assert first.parsed == 5
    assert first.records.equals(records)
    assert sorted_problems(first.problems) == sorted_problems(problems)

    again = ingest_cached(_listing(tmp_path), validator, first.cache)
    assert again.parsed == 0, "nothing changed: nothing is parsed"
    assert again.records.equals(records)
    assert sorted_problems(again.problems) == sorted_problems(problems)
    assert {p.file for p in again.problems} == {
        "raw/adipose/alpha-2020.yaml",
        "raw/bone_marrow/empty-2020.yaml",
        "raw/bone_marrow/broken-2020.yaml",
    }
    assert again.cache.equals(first.cache)


def test_cache_reparses_only_files_whose_bytes_changed(
    tmp_path, good_record, validator, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    _write_corpus(tmp_path, good_record)
    cache = ingest_cached(_listing(tmp_path), validator, empty_cache()).cache
    touched = tmp_path / "raw/adipose/beta-2020.yaml"
    os.utime(touched, ns=(time.time_ns(), time.time_ns() + 10**9))
    after_touch = ingest_cached(_listing(tmp_path), validator, cache)
    assert after_touch.parsed == 0, "a new time with the same bytes is the cached row"
    edited = tmp_path / "raw/adipose/alpha-2020.yaml"
    edited.write_bytes(good_record("alpha-2020").encode())  # the error fixed
    (tmp_path / "raw/adipose/new-2021.yaml").write_bytes(good_record("new-2021").encode())
    (tmp_path / "raw/bone_marrow/zeta-2020.yaml").unlink()
    after_edit = ingest_cached(_listing(tmp_path), validator, after_touch.cache)
    assert after_edit.parsed == 2, "the edited file and the new one"
    records, problems = _plain(tmp_path, validator)
    assert after_edit.records.equals(records)
    assert sorted_problems(after_edit.problems) == sorted_problems(problems)
    assert "raw/adipose/alpha-2020.yaml" not in {p.file for p in after_edit.problems}
    assert "raw/bone_marrow/zeta-2020.yaml" not in after_edit.cache["raw_file"].to_list()


def test_cache_of_another_parser_is_not_used(tmp_path, good_record, repo_root, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_corpus(tmp_path, good_record)
    schema = repo_root / "schemas" / "study.schema.json"
    last_year = study_validator(schema, today=dt.date(2025, 6, 1))
    this_year = study_validator(schema, today=dt.date(2026, 6, 1))
    assert parser_key(last_year) != parser_key(this_year)
    cache = ingest_cached(_listing(tmp_path), last_year, empty_cache()).cache
    assert ingest_cached(_listing(tmp_path), this_year, cache).parsed == 5


def test_an_edit_that_keeps_the_size_is_parsed_again(tmp_path, good_record, validator, monkeypatch):
    """Size and time both decide: an edit of the same length (a year corrected) has a new
    time, so the cache's old values never survive it."""
    monkeypatch.chdir(tmp_path)
    _write_corpus(tmp_path, good_record)
    cache = ingest_cached(_listing(tmp_path), validator, empty_cache()).cache
    path = tmp_path / "raw/adipose/beta-2020.yaml"
    before = path.read_bytes()
    edited = before.replace(b"year: 2018", b"year: 2019")
    assert len(edited) == len(before)
    assert edited != before
    stat = path.stat()
    path.write_bytes(edited)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = ingest_cached(_listing(tmp_path), validator, cache)
    assert again.parsed == 1
    year = again.records.filter(again.records["raw_file"] == "raw/adipose/beta-2020.yaml")["year"]
    assert year.to_list() == [2019]


@pytest.mark.parametrize(
    "module",
    [
        "exosynth.studies.loading", "exosynth.studies.schema_messages",
        "exosynth.studies.records", "exosynth.studies.parse_cache", "exosynth.problems",
        "exosynth.settings", "exosynth.corpus",
    ],
)  # fmt: skip
def test_the_parser_key_changes_with_every_module_a_row_comes_from(
    module, tmp_path, validator, monkeypatch
):
    """A cached row is the row a clean build gives: changing the code of any module that
    reads, checks or shapes a record must change the key, so every file is parsed again."""
    import importlib  # noqa: PLC0415

    target = importlib.import_module(module)
    before = parser_key(validator)
    changed = tmp_path / f"{module}.py"  # a copy of the module, one line longer
    changed.write_bytes(Path(target.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(target, "__file__", str(changed))
    assert parser_key(validator) != before


def test_a_torn_cache_file_means_parsing_again(tmp_path):
    torn = tmp_path / "shard-0.parquet"
    torn.write_bytes(b"PAR1 not really")
    assert read_cache(torn, tmp_path / "missing.parquet").height == 0


def test_a_shard_fingerprint_changes_with_any_path_size_or_time():
    """Snakemake sees a shard's files through this one digest: an edit that keeps the size
    (a year corrected) has a new time, and must rebuild the shard."""
    files = [("raw/a/x.yaml", 120, 1_000), ("raw/b/y.yaml", 80, 2_000)]
    base = fingerprint(files)
    assert fingerprint(list(files)) == base
    for changed in (
        [("raw/a/x.yaml", 120, 1_001), files[1]],  # touched or edited, same size
        [("raw/a/x.yaml", 121, 1_000), files[1]],  # another size
        [("raw/a/z.yaml", 120, 1_000), files[1]],  # renamed
        files[:1],  # removed
    ):
        assert fingerprint(changed) != base, changed
