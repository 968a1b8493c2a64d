"""Validate: checks across records (unique id, DOI and PMID; evidence present)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from exosynth.corpus import discover_raw_files
from exosynth.studies.loading import read_raw
from exosynth.studies.parse_cache import ingest
from exosynth.studies.validate import RULES, sharing_a_key, validate_records


def add_citation(key: str, value: str) -> tuple[str, str]:
    """An edit for ``good_record`` that adds ``citation.<key>``."""
    return ("  ref: 23", f"  ref: 23\n  {key}: {value}")


@pytest.fixture
def records_of(validator):
    """``records_of({path: text})`` -> the ingested records; unless told, ingest accepts all."""

    def build(files: dict[str, str | bytes], *, clean: bool = True) -> pl.DataFrame:
        pairs = [(p, t.encode("utf-8") if isinstance(t, str) else t) for p, t in files.items()]
        records, problems = ingest(pairs, validator)
        if clean:
            assert problems == []
        return records

    return build


def accepted(records: pl.DataFrame) -> dict[str, bool]:
    return dict(zip(records["raw_file"], records["accepted"], strict=True))


def test_valid_records_pass_untouched(records_of, good_record):
    records = records_of(
        {
            "raw/bone_marrow/smith-2020.yaml": good_record(
                "smith-2020", add_citation("doi", "10.1000/a")
            ),
            "raw/adipose/jones-2021.yaml": good_record(
                "jones-2021", add_citation("doi", "10.1000/b")
            ),
            "raw/bone_marrow/lee-2019.yaml": good_record("lee-2019", add_citation("pmid", "123")),
            "raw/bone_marrow/kim-2019.yaml": good_record("kim-2019", add_citation("pmid", "1234")),
        }
    )
    checked, problems = validate_records(records)
    assert problems == []
    assert_frame_equal(checked, records.sort("raw_file"))


def test_real_records_pass(repo_root, validator):
    records, _ = ingest(read_raw(discover_raw_files(repo_root / "raw")), validator)
    checked, problems = validate_records(records)
    assert problems == []
    assert checked["accepted"].all()


def test_duplicate_id_rejects_both_files(records_of, good_record):
    first, second = "raw/bone_marrow/smith-2020.yaml", "raw/adipose/smith-2020.yaml"
    other = "raw/bone_marrow/jones-2021.yaml"
    records = records_of(
        {
            first: good_record("smith-2020"),
            second: good_record("smith-2020", ("source: bone marrow", "source: adipose tissue")),
            other: good_record("jones-2021"),
        }
    )
    checked, problems = validate_records(records)
    assert accepted(checked) == {first: False, second: False, other: True}
    assert sorted(p.file for p in problems) == sorted([first, second])
    for problem in problems:
        assert problem.field == "id"
        assert "smith-2020" in problem.message
        assert problem.hint
        assert problem.stage == "validate"


@pytest.mark.parametrize(
    ("doi_a", "doi_b"),
    [
        ("10.1000/ABC", "https://doi.org/10.1000/abc"),
        ("10.1000/abc", "http://dx.doi.org/10.1000/Abc"),
        ("10.1000/abc", '"doi: 10.1000/ABC"'),
    ],
)
def test_duplicate_doi_written_differently(records_of, good_record, doi_a, doi_b):
    a, b, c = (f"raw/bone_marrow/{n}.yaml" for n in ("smith-2020", "jones-2021", "lee-2019"))
    records = records_of(
        {
            a: good_record("smith-2020", add_citation("doi", doi_a)),
            b: good_record("jones-2021", add_citation("doi", doi_b)),
            c: good_record("lee-2019", add_citation("doi", "10.1000/abcd")),
        }
    )
    checked, problems = validate_records(records)
    assert accepted(checked) == {a: False, b: False, c: True}
    assert sorted(p.file for p in problems) == sorted([a, b])
    assert {p.field for p in problems} == {"citation.doi"}
    assert all(p.hint for p in problems)


def test_duplicate_pmid_as_text_and_number(records_of, good_record):
    a, b, c = (f"raw/umbilical_cord/{n}.yaml" for n in ("smith-2020", "jones-2021", "lee-2019"))
    records = records_of(
        {
            a: good_record("smith-2020", add_citation("pmid", '"123"')),
            b: good_record("jones-2021", add_citation("pmid", "123")),
            c: good_record("lee-2019", add_citation("pmid", "1234")),
        }
    )
    checked, problems = validate_records(records)
    assert accepted(checked) == {a: False, b: False, c: True}
    assert sorted(p.file for p in problems) == sorted([a, b])
    assert {p.field for p in problems} == {"citation.pmid"}
    assert all("123" in p.message for p in problems)


NO_ANIMALS = ("in_vivo:\n- model: Liver injury model\n  species: Rat\n", "")


@pytest.mark.parametrize(
    "in_vivo", ["", "in_vivo: []\n", "in_vivo: null\n"], ids=["absent", "empty", "null"]
)
def test_record_without_evidence_is_rejected(records_of, good_record, in_vivo):
    path, other = "raw/bone_marrow/smith-2020.yaml", "raw/bone_marrow/jones-2021.yaml"
    text = good_record(
        "smith-2020", ("in_vitro: true", "in_vitro: false"), (NO_ANIMALS[0], in_vivo)
    )
    records = records_of({path: text, other: good_record("jones-2021")})
    checked, problems = validate_records(records)
    assert accepted(checked) == {path: False, other: True}
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == path
    assert problem.field == "in_vitro"
    assert "evidence" in problem.message
    assert "clinical" in problem.hint


@pytest.mark.parametrize(
    "edits",
    [
        (("in_vitro: true", "in_vitro: false"), ("clinical: null", "clinical:\n  patients: 2")),
        (("in_vitro: true", "in_vitro: false"),),
        (NO_ANIMALS,),
    ],
    ids=["clinical-only", "animal-only", "in-vitro-only"],
)
def test_one_kind_of_evidence_is_enough(records_of, good_record, edits):
    path = "raw/bone_marrow/smith-2020.yaml"
    checked, problems = validate_records(records_of({path: good_record("smith-2020", *edits)}))
    assert problems == []
    assert accepted(checked) == {path: True}


def test_files_rejected_by_ingest_pass_through_unjudged(records_of, good_record):
    """Two broken files have no id: they are not duplicates of each other, and stay rejected."""
    good = "raw/bone_marrow/smith-2020.yaml"
    records = records_of(
        {
            "raw/bone_marrow/empty-2020.yaml": b"",
            "raw/bone_marrow/broken-2020.yaml": b"id: [\n",
            good: good_record("smith-2020"),
        },
        clean=False,
    )
    checked, problems = validate_records(records)
    assert problems == []
    assert accepted(checked) == {
        "raw/bone_marrow/broken-2020.yaml": False,
        "raw/bone_marrow/empty-2020.yaml": False,
        good: True,
    }


# -- issue 10: every record is checked, the codes, the other file named -------------------
def test_a_record_the_schema_rejected_is_still_checked_against_the_others(records_of, good_record):
    doi = add_citation("doi", "10.1000/abc")
    broken = "raw/bone_marrow/smith-2020.yaml"
    other = "raw/bone_marrow/jones-2021.yaml"
    records = records_of(
        {
            broken: good_record("smith-2020", doi, ("in_vitro: true", 'in_vitro: "+"')),
            other: good_record("jones-2021", doi),
        },
        clean=False,
    )
    checked, problems = validate_records(records)
    assert sorted((p.file, p.code) for p in problems) == [
        (other, "validate.unique_doi"),
        (broken, "validate.unique_doi"),
    ]
    by_file = {p.file: p for p in problems}
    assert broken in by_file[other].message
    assert other in by_file[broken].message
    assert accepted(checked) == {broken: False, other: False}


def test_evidence_is_not_judged_on_a_value_the_schema_rejected(records_of, good_record):
    """in_vitro "+" is a schema problem; 'no evidence' on top of it would be a guess."""
    path = "raw/bone_marrow/smith-2020.yaml"
    text = good_record("smith-2020", ("in_vitro: true", 'in_vitro: "+"'), NO_ANIMALS)
    _, problems = validate_records(records_of({path: text}, clean=False))
    assert problems == []


def test_not_reported_in_vitro_alone_is_no_evidence(records_of, good_record):
    path = "raw/bone_marrow/smith-2020.yaml"
    text = good_record("smith-2020", ("in_vitro: true", "in_vitro: null"), NO_ANIMALS)
    _, problems = validate_records(records_of({path: text}))
    assert [(p.code, p.field) for p in problems] == [("validate.has_evidence", "in_vitro")]
    assert "not reported" in problems[0].message


def test_every_rule_has_a_code_of_the_validate_stage():
    codes = [rule.code for rule in RULES]
    assert len(set(codes)) == len(codes)
    assert all(code.startswith("validate.") for code in codes)


def cited_in(where: str, ref: int) -> tuple[str, str]:
    """An edit for ``good_record``: known only from another review's table, ``where``, ref N."""
    return ("  ref: 23", f"  cited_in:\n    {where}\n    ref: {ref}")


@pytest.mark.parametrize(
    ("first", "second", "shown"),
    [
        # A DOI however it is written (case, resolver, "doi:" prefix) is one review ...
        (
            "doi: https://doi.org/10.1186/S13287-017-0576-4",
            "doi: 'doi: 10.1186/s13287-017-0576-4'",
            {"doi:10.1186/S13287-017-0576-4", "doi:10.1186/s13287-017-0576-4"},
        ),
        # ... and a review known only by its URL is that URL.
        (
            "url: https://example.org/review/table1",
            "url: https://example.org/review/table1",
            {"https://example.org/review/table1"},
        ),
    ],
    ids=["doi", "url"],
)
def test_one_reference_of_a_citing_review_in_two_files(
    records_of, good_record, first, second, shown
):
    a, b, c = (f"raw/bone_marrow/{n}.yaml" for n in ("smith-2020", "jones-2021", "lee-2019"))
    records = records_of(
        {
            a: good_record("smith-2020", cited_in(first, 19)),
            b: good_record("jones-2021", cited_in(second, 19)),
            c: good_record("lee-2019", cited_in(second, 20)),  # another ref of that review
        }
    )
    checked, problems = validate_records(records)
    assert accepted(checked) == {a: False, b: False, c: True}
    assert sorted(p.file for p in problems) == sorted([a, b])
    assert {p.code for p in problems} == {"validate.unique_cited_in"}
    assert {p.field for p in problems} == {"citation.cited_in"}
    # The message names the reference and the review as cited (the bare DOI, case kept).
    documents = {p.message.split(" of ", 1)[1].split(" is entered")[0] for p in problems}
    assert documents == shown
    assert all(p.message.startswith("ref 19 of ") for p in problems)
    assert all(("also " + (b if p.file == a else a)) in p.message for p in problems)


def test_the_same_ref_of_two_citing_reviews_is_two_papers(records_of, good_record):
    records = records_of(
        {
            "raw/bone_marrow/smith-2020.yaml": good_record(
                "smith-2020", cited_in("doi: 10.1186/s13287-017-0576-4", 19)
            ),
            "raw/bone_marrow/jones-2021.yaml": good_record(
                # ref 9 of ...-41: the key must not run review and ref together ("...-419")
                "jones-2021",
                cited_in("doi: 10.1186/s13287-017-0576-41", 9),
            ),
            "raw/bone_marrow/lee-2019.yaml": good_record(
                "lee-2019", cited_in("url: https://example.org/review", 19)
            ),
        }
    )
    assert validate_records(records)[1] == []


def test_sharing_a_key_keeps_what_can_share_a_problem_with_the_named_files(records_of, good_record):
    named = "raw/bone_marrow/new-2021.yaml"
    files = {
        named: good_record("new-2021", add_citation("doi", "10.1000/Abc")),
        # the same DOI written another way, and the named file's review row and ref
        "raw/adipose/doi-2019.yaml": good_record(
            "doi-2019", ("review_row: 1\n", ""), ("  ref: 23", "  doi: https://doi.org/10.1000/abc")
        ),
        "raw/umbilical_cord/row-2019.yaml": good_record("row-2019", ("  ref: 23", "  ref: 7")),
        "raw/adipose/ref-2019.yaml": good_record(
            "ref-2019", ("review_row: 1\n", "review_row: 9\n")
        ),
        # nothing in common with it
        "raw/adipose/other-2019.yaml": good_record(
            "other-2019", ("review_row: 1\n", "review_row: 2\n"), ("  ref: 23", "  ref: 8")
        ),
    }
    kept = sharing_a_key(records_of(files), [named])
    assert sorted(kept["raw_file"]) == sorted(set(files) - {"raw/adipose/other-2019.yaml"})
    # and the named file's problems are the same as against every record
    _, against_all = validate_records(records_of(files))
    _, against_kept = validate_records(kept)
    mine = [p for p in against_all if p.file == named]
    assert [p.code for p in mine] == ["validate.unique_doi"]
    assert [p for p in against_kept if p.file == named] == mine
