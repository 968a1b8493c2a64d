"""Property tests: records generated from the JSON Schema are accepted, and single mutations of
them are each rejected with a problem naming the file (hypothesis, bounded examples)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import jsonschema_rs
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exosynth.studies.records import read_study

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "schemas" / "study.schema.json").read_text("utf-8")
)
BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# YAML 1.1 reads NEL and the Unicode line and paragraph separators as line breaks, and
# yaml.safe_dump writes them unescaped, so they do not survive a dump and load (found by this
# test): a property of the writer used here, left out of the generated text.
_YAML_BREAKS = "\x85\u2028\u2029"


def _text(max_size: int = 30) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(codec="utf-8", exclude_characters=_YAML_BREAKS), min_size=1, max_size=max_size
    )


def _records() -> st.SearchStrategy[dict]:
    """Records the schema allows, field by field from schemas/study.schema.json.

    Written here because hypothesis-jsonschema 0.23 no longer runs with current hypothesis
    (it calls an internal API hypothesis has removed); the bounds below are the schema's.
    """
    citation = SCHEMA["properties"]["citation"]["properties"]
    # What a secondary source may not say (citation, in_vitro, results) is optional.
    assert set(SCHEMA["required"]) == {"id", "source", "condition"}
    slug = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6}){0,3}", fullmatch=True)
    model = st.fixed_dictionaries(
        {"model": _text(), "species": _text()},
        optional={"model_type": st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True)},
    )
    return st.fixed_dictionaries(
        {
            "id": slug,
            "source": _text(),
            "citation": st.fixed_dictionaries(
                {
                    "first_author": _text(),
                    "year": st.integers(citation["year"]["minimum"], 2024),
                },
                optional={
                    "ref": st.none() | st.integers(1, citation["ref"]["maximum"]),
                    "doi": st.none()
                    | st.from_regex(
                        r"(https://doi\.org/)?10\.[0-9]{4,9}/[!-~]{1,20}", fullmatch=True
                    ),
                    "pmid": st.none()
                    | st.integers(1, citation["pmid"]["maximum"])
                    | st.from_regex(r"[1-9][0-9]{0,8}", fullmatch=True),
                    "title": st.none() | _text(),
                },
            ),
            "condition": _text(),
        },
        optional={
            "in_vitro": st.none() | st.booleans(),
            "results": _text(),
            "review_row": st.integers(1, SCHEMA["properties"]["review_row"]["maximum"]),
            "donor_species": _text(),
            "in_vivo": st.none() | st.lists(model, max_size=3),
            "clinical": st.none() | st.fixed_dictionaries({"patients": st.integers(1, 10**8)}),
        },
    )


def _path(record: dict) -> str:
    return f"raw/bone_marrow/{record['id']}.yaml"


def _yaml(record: dict) -> bytes:
    return yaml.safe_dump(record, allow_unicode=True, sort_keys=False).encode("utf-8")


@BOUNDED
@given(_records())
def test_every_record_the_schema_allows_is_accepted(validator, record):
    found, problems = read_study(_path(record), _yaml(record), validator)
    assert problems == []
    assert found == record


MUTATIONS = {
    "unknown field": lambda r: r.update(conditon="x"),
    "missing required": lambda r: r.pop("condition"),
    "in_vitro not a boolean": lambda r: r.update(in_vitro="maybe"),
    "year before 1950": lambda r: r["citation"].update(year=1949),
    "bad id": lambda r: r.update(id=r["id"] + "_X"),
    "empty condition": lambda r: r.update(condition=""),
    "pmid with a newline": lambda r: r["citation"].update(pmid="123\n"),
    "doi with a trailing space": lambda r: r["citation"].update(doi="10.1000/x "),
}


@BOUNDED
@given(_records(), st.sampled_from(sorted(MUTATIONS)))
def test_each_single_mutation_gives_a_problem(validator, record, mutation):
    path = _path(record)
    MUTATIONS[mutation](record)
    found, problems = read_study(path, _yaml(record), validator)
    assert found is None
    assert problems
    assert all(p.file == path and p.hint for p in problems)


@BOUNDED
@given(
    st.sampled_from(["id", "doi", "pmid", "model_type"]),
    st.text(alphabet=st.characters(max_codepoint=0x3100), max_size=12),
)
def test_both_validators_agree_on_every_pattern(field, value):
    props = {
        **SCHEMA["properties"],
        **SCHEMA["properties"]["citation"]["properties"],
        "model_type": SCHEMA["properties"]["in_vivo"]["items"]["properties"]["model_type"],
    }
    prefix = {"doi": "10.1000/", "pmid": "1", "id": "a", "model_type": "a"}[field]
    single = {"type": "string", "pattern": props[field]["pattern"]}
    for candidate in (value, prefix + value):
        python = jsonschema.Draft202012Validator(single).is_valid(candidate)
        assert python == jsonschema_rs.Draft202012Validator(single).is_valid(candidate), candidate
