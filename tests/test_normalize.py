"""Normalize: words of the records to codes, through the shipped config/vocabulary.yaml."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import make_good_record, write_raw_record

from exosynth.studies.normalize import MODEL_RULES, RECORD_RULES, normalize
from exosynth.studies.parse_cache import ingest
from exosynth.vocabulary import SourceMatch, SpeciesMatch, UnknownTerm

# The validator, the shipped vocabulary and tables, and the review's studies: tests/conftest.py.


def record_text(
    record_id: str,
    *,
    source: str = "bone marrow",
    in_vitro: bool = True,
    in_vivo: tuple[tuple[str, str], ...] = (),
    clinical: int | None = None,
) -> str:
    document = {
        "id": record_id,
        "source": source,
        "citation": {"first_author": "Smith", "year": 2020},
        "condition": "Liver disease",
        "in_vitro": in_vitro,
        "in_vivo": [{"model": model, "species": species} for model, species in in_vivo],
        "clinical": None if clinical is None else {"patients": clinical},
        "results": "Improves recovery",
    }
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture
def normalized(validator, vocabulary, tables):
    """``normalized({"bone_marrow/smith-2020": text})`` -> (studies, problems), raw_dir "raw"."""

    def run(files: dict[str, str]) -> tuple[pl.DataFrame, list]:
        pairs = [(f"raw/{name}.yaml", text.encode("utf-8")) for name, text in files.items()]
        records, problems = ingest(pairs, validator)
        assert problems == []
        return normalize(records, vocabulary, tables, "raw")

    return run


def study(studies: pl.DataFrame, record_id: str) -> dict:
    rows = studies.filter(pl.col("id") == record_id).to_dicts()
    assert len(rows) == 1, f"{record_id} is not in the study table once"
    return rows[0]


# -- the vocabulary --------------------------------------------------------------
@pytest.mark.parametrize(
    ("term", "source", "donor"),
    [
        ("Human umbilical cord", "umbilical_cord", "human"),
        ("hUC-MSC", "umbilical_cord", "human"),
        ("BMSC", "bone_marrow", None),
        ("BM-MSC", "bone_marrow", None),
        ("ADSC", "adipose", None),
        ("AMSC", "adipose", None),
        ("UC-MSC", "umbilical_cord", None),
        ("bone marrow", "bone_marrow", None),
        ("adipose tissue", "adipose", None),
        ("umbilical cord", "umbilical_cord", None),
        ("human bone marrow mesenchymal stem cells", "bone_marrow", "human"),
        ("Rat bone  marrow", "bone_marrow", "rat"),
    ],
)
def test_source_terms(vocabulary, term, source, donor):
    assert vocabulary.match_source(term) == SourceMatch(source, donor)


@pytest.mark.parametrize(
    ("term", "species", "strain"),
    [
        ("SD rats", "rat", "Sprague-Dawley"),
        ("Sprague-Dawley rats", "rat", "Sprague-Dawley"),
        ("Wistar rats", "rat", "Wistar"),
        ("C57BL/6 mice", "mouse", "C57BL/6"),
        ("Nude mice", "mouse", "nude"),
        ("Rat", "rat", None),
        ("mice", "mouse", None),
        ("Rabbit", "rabbit", None),
    ],
)
def test_species_terms(vocabulary, term, species, strain):
    assert vocabulary.match_species(term) == SpeciesMatch(species, strain)


@pytest.mark.parametrize(("term", "closest"), [("Rta", "rat"), ("Hamsterz", "hamster")])
def test_unknown_species_term_suggests_the_closest(vocabulary, term, closest):
    match = vocabulary.match_species(term)
    assert isinstance(match, UnknownTerm)
    assert closest in match.suggestions


# -- problems of normalization -----------------------------------------------------
@pytest.mark.parametrize(("term", "closest"), [("Rta", "rat"), ("Hamsterz", "hamster")])
def test_unknown_species_is_a_problem_naming_file_and_suggestions(normalized, term, closest):
    studies, problems = normalized(
        {
            "bone_marrow/smith-2020": record_text("smith-2020", in_vivo=(("Wound model", term),)),
            "bone_marrow/jones-2021": record_text("jones-2021", in_vivo=(("Wound model", "Rat"),)),
        }
    )
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == "raw/bone_marrow/smith-2020.yaml"
    assert "species" in problem.field
    assert term in problem.message
    assert f'"{closest}"' in problem.hint
    assert studies["id"].to_list() == ["jones-2021"]


def test_unknown_source_is_a_problem_naming_file_and_suggestions(normalized):
    studies, problems = normalized(
        {
            "bone_marrow/smith-2020": record_text("smith-2020", source="bone marow"),
            "bone_marrow/jones-2021": record_text("jones-2021"),
        }
    )
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == "raw/bone_marrow/smith-2020.yaml"
    assert problem.field == "source"
    assert "bone marow" in problem.message
    assert '"bone marrow"' in problem.hint
    assert studies["id"].to_list() == ["jones-2021"]


def test_folder_must_agree_with_source(normalized):
    studies, problems = normalized(
        {
            "adipose/smith-2020": record_text("smith-2020", source="BM-MSC"),
            "adipose/jones-2021": record_text("jones-2021", source="ADSC"),
        }
    )
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == "raw/adipose/smith-2020.yaml"
    assert problem.field == "source"
    assert "adipose" in problem.message
    assert "bone_marrow" in problem.message
    assert "raw/bone_marrow/" in problem.hint
    assert studies["id"].to_list() == ["jones-2021"]


def test_source_without_a_table_is_a_problem(normalized, tables):
    assert "placenta" not in {t.key for t in tables}
    studies, problems = normalized(
        {"placenta/smith-2020": record_text("smith-2020", source="placenta")}
    )
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == "raw/placenta/smith-2020.yaml"
    assert problem.field == "source"
    assert "placenta" in problem.message
    assert "config/config.yaml" in problem.hint
    assert studies.height == 0


# -- the study table -------------------------------------------------------------
def test_stage_is_the_highest_reached(normalized):
    rat = (("Liver injury model", "Rat"),)
    studies, problems = normalized(
        {
            "bone_marrow/all-2020": record_text("all-2020", in_vivo=rat, clinical=4),
            "bone_marrow/people-2020": record_text("people-2020", in_vitro=False, clinical=1),
            "bone_marrow/animal-2020": record_text("animal-2020", in_vivo=rat),
            "bone_marrow/animalonly-2020": record_text(
                "animalonly-2020", in_vitro=False, in_vivo=rat
            ),
            "bone_marrow/dish-2020": record_text("dish-2020"),
        }
    )
    assert problems == []
    stages = dict(zip(studies["id"], studies["stage"], strict=True))
    assert stages == {
        "all-2020": "clinical",
        "people-2020": "clinical",
        "animal-2020": "animal",
        "animalonly-2020": "animal",
        "dish-2020": "in_vitro",
    }


def test_species_are_codes_sorted_and_joined_with_human_for_clinical_use(normalized):
    models = (
        ("Wound model", "Wistar rats"),
        ("Tumour xenograft", "Nude mice"),
        ("Ear wound model", "New Zealand white rabbits"),
        ("Skin wound model", "SD rats"),
    )
    studies, problems = normalized(
        {
            "bone_marrow/many-2020": record_text("many-2020", in_vivo=models),
            "bone_marrow/treated-2020": record_text("treated-2020", in_vivo=models, clinical=3),
            "bone_marrow/people-2020": record_text("people-2020", in_vitro=False, clinical=3),
            "bone_marrow/dish-2020": record_text("dish-2020"),
        }
    )
    assert problems == []
    assert study(studies, "many-2020")["species"] == "mouse;rabbit;rat"
    assert study(studies, "treated-2020")["species"] == "human;mouse;rabbit;rat"
    assert study(studies, "people-2020")["species"] == "human"
    assert study(studies, "dish-2020")["species"] is None
    strains = study(studies, "many-2020")["strain"].split(";")
    assert sorted(strains) == sorted(["Wistar", "nude", "New Zealand white", "Sprague-Dawley"])


@pytest.mark.parametrize(
    ("model", "species", "shown"),
    [
        (
            "Mouse full-thickness incision wound model",
            "Mouse",
            "Mouse full-thickness incision wound model",
        ),
        ("Wound model", "Rat", "Wound model (Rat)"),
        ("Rat tail model", "Rat", "Rat tail model"),
        # "rat" inside "degeneration" is not the species named in the text
        (
            "Intervertebral disc degeneration model",
            "Rat",
            "Intervertebral disc degeneration model (Rat)",
        ),
    ],
    ids=["names-species", "appended", "names-species-rat", "species-inside-a-word"],
)
def test_model_text_gets_the_species_unless_it_names_it(normalized, model, species, shown):
    studies, problems = normalized(
        {"bone_marrow/smith-2020": record_text("smith-2020", in_vivo=((model, species),))}
    )
    assert problems == []
    assert study(studies, "smith-2020")["in_vivo"] == shown


def test_several_models_are_joined_in_record_order(normalized):
    models = (("Wound model", "Rat"), ("Burn model", "Mouse"))
    studies, _ = normalized({"bone_marrow/smith-2020": record_text("smith-2020", in_vivo=models)})
    assert study(studies, "smith-2020")["in_vivo"] == "Wound model (Rat); Burn model (Mouse)"


# -- the 26 records of the review --------------------------------------------------
REVIEW_SPECIES = {"rat": "rat", "rabbit": "rabbit", "mouse": "mouse", "nude mice": "mouse"}


def review_rows(data_dir: Path) -> list[dict]:
    """The rows of the review's Tables 1-3 with their table number, ref and species code."""
    rows = []
    for table in (1, 2, 3):
        with (data_dir / f"review_table{table}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                ref = re.fullmatch(r"(\w+) et al\[(\d+)\], (\d{4})", row["Ref."])
                assert ref, row["Ref."]
                in_vivo = row["In vivo study (animal model / clinical use)"]
                if in_vivo == "-":
                    species = None
                elif in_vivo.lower().startswith("clinical patient"):
                    species = "human"
                else:
                    named = re.search(r"\(([^)]+)\)$", in_vivo)
                    species = REVIEW_SPECIES[(named[1] if named else in_vivo.split()[0]).lower()]
                rows.append(
                    {
                        "table": table,
                        "ref": int(ref[2]),
                        "first_author": ref[1],
                        "year": int(ref[3]),
                        "in_vitro": row["In vitro study"] == "+",
                        "in_vivo": in_vivo,
                        "species": species,
                    }
                )
    return rows


@pytest.fixture(scope="module")
def review_studies(repo_root, review_studies):
    """conftest's study table of the real records, with the review's rows to compare it to."""
    return review_studies, review_rows(repo_root / "tests" / "data")


def test_review_studies_per_source(review_studies, tables):
    studies, review = review_studies
    per_table = {t.table: t.key for t in tables}
    expected = {per_table[n]: sum(r["table"] == n for r in review) for n in per_table}
    assert expected == {"bone_marrow": 10, "adipose": 7, "umbilical_cord": 9}
    counts = dict(studies.group_by("source").len().iter_rows())
    assert counts == expected


def test_review_studies_as_the_tables_print_them(review_studies):
    studies, review = review_studies
    by_ref = {row["ref"]: row for row in studies.to_dicts()}
    assert sorted(by_ref) == sorted(r["ref"] for r in review)
    for expected in review:
        got = by_ref[expected["ref"]]
        assert got["table"] == expected["table"], expected["ref"]
        assert got["first_author"] == expected["first_author"], expected["ref"]
        assert got["year"] == expected["year"], expected["ref"]
        assert got["in_vitro"] == expected["in_vitro"], expected["ref"]
        assert got["species"] == expected["species"], expected["ref"]
        stage = (
            "clinical"
            if expected["species"] == "human"
            else ("animal" if expected["species"] else "in_vitro")
        )
        assert got["stage"] == stage, expected["ref"]
        if stage == "animal":
            assert got["in_vivo"] == expected["in_vivo"], expected["ref"]
        else:
            assert got["in_vivo"] is None, expected["ref"]


def test_review_studies_in_the_review_order(review_studies):
    studies, review = review_studies
    assert studies["ref"].to_list() == [r["ref"] for r in review]
    assert studies["raw_file"].is_unique().all()
    assert studies["id"].is_unique().all()


def test_two_studies_on_one_review_row_are_a_problem(normalized, good_record):
    first = good_record("smith-2020", ("source: bone marrow", "source: umbilical cord"))
    second = good_record("jones-2020", ("source: bone marrow", "source: umbilical cord"))
    other_table = good_record("lee-2020")  # review_row 1 too, but of Table 1
    studies, problems = normalized(
        {
            "umbilical_cord/smith-2020": first,
            "umbilical_cord/jones-2020": second,
            "bone_marrow/lee-2020": other_table,
        }
    )
    flagged = {p.file for p in problems if p.field == "review_row"}
    assert flagged == {"raw/umbilical_cord/smith-2020.yaml", "raw/umbilical_cord/jones-2020.yaml"}
    assert studies["id"].to_list() == ["lee-2020"]


def test_normalize_declares_its_checks_as_rules_with_stable_codes():
    codes = [rule.code for rule in (*RECORD_RULES, *MODEL_RULES)]
    assert len(set(codes)) == len(codes)
    assert {code.split(".")[0] for code in codes} == {"vocabulary", "normalize", "model_type"}
    assert [r.severity for r in MODEL_RULES if r.code == "model_type.unclassified"] == ["warning"]


def test_vocabulary_problems_of_a_record_the_schema_rejected(validator, vocabulary, tables):
    """One pass: the unknown species is reported although in_vitro is already wrong."""
    text = record_text("smith-2020", in_vivo=(("Wound model", "Hamsterz"),)).replace(
        "in_vitro: true", 'in_vitro: "+"'
    )
    records, problems = ingest([("raw/bone_marrow/smith-2020.yaml", text.encode())], validator)
    assert [p.code for p in problems] == ["schema.type"]
    studies, found = normalize(records, vocabulary, tables, "raw")
    assert [(p.code, p.field) for p in found] == [("vocabulary.species", "in_vivo[0].species")]
    assert studies.height == 0


# -- pinned orders (through the functions, on small inputs) ------------------------------
def test_added_papers_follow_year_then_first_author_then_id(tmp_path, build_studies):
    project = tmp_path / "p"
    added = [  # (id, first author, year), written in an order that is none of the sort keys
        ("zed-2019b", "Zed", 2019),
        ("abe-2019", "Abe", 2019),
        ("zed-2019a", "Zed", 2019),
        ("young-2018", "Young", 2018),
    ]
    for record_id, author, year in added:
        text = make_good_record(
            record_id,
            ("review_row: 1\n", ""),
            ("  ref: 23\n", ""),  # one ref number per study of a table
            ("first_author: Damania", f"first_author: {author}"),
            ("year: 2018", f"year: {year}"),
        )
        write_raw_record(project, "bone_marrow", record_id, text)
    studies, problems = build_studies(project / "raw")
    assert [p for p in problems if p.is_error] == []
    assert studies["id"].to_list() == ["young-2018", "abe-2019", "zed-2019a", "zed-2019b"]


def test_shipped_model_types_prefer_the_specific_over_disease_model(vocabulary):
    models = ["Tumor model", "Burn injury model", "Liver injury model"]
    assert [vocabulary.classify_model(m).model_type for m in models] == [
        "xenograft",
        "wound",
        "disease_model",
    ]


def test_model_type_induction_and_strain_columns_of_the_study_table(normalized, good_record):
    """The model columns, as the README's study table describes them: codes sorted and joined
    by ";", "clinical" added for use in people, and null (never "") where there is none."""
    studies, problems = normalized(
        {
            "bone_marrow/smith-2020": record_text(
                "smith-2020",
                in_vivo=(("LPS-induced acute lung injury", "SD rats"), ("Skin wound", "Rat")),
            ),
            "bone_marrow/jones-2020": record_text("jones-2020"),
            "bone_marrow/lee-2020": record_text(
                "lee-2020", in_vivo=(("Transient MCAO", "Mouse"),), clinical=10
            ),
            # a review paper (review row 1): its row comes before every added paper's
            "bone_marrow/damania-2018": good_record("damania-2018"),
        }
    )
    assert problems == []
    columns = ("model_type", "model_induction", "strain", "species", "stage")
    added = {row["id"]: tuple(row[c] for c in columns) for row in studies.to_dicts()}
    del added["damania-2018"]
    assert added == {
        "smith-2020": ("disease_model;wound", "chemical", "Sprague-Dawley", "rat", "animal"),
        "jones-2020": (None, None, None, None, "in_vitro"),
        "lee-2020": ("clinical;disease_model", "surgical", None, "human;mouse", "clinical"),
    }
    # the review's row first, then the added papers (no review row) by year, author, id
    assert studies["id"].to_list() == ["damania-2018", "jones-2020", "lee-2020", "smith-2020"]


# -- what the planted-bug audit asked for (tools/planted_bugs) ------------------------------
def test_the_authors_own_model_type_wins_over_the_classifier(normalized):
    """The unclassified warning tells the author to write in_vivo[].model_type: once written,
    it is the study's model type, from the raw file to the table, and no warning is left."""
    text = record_text("smith-2020", in_vivo=(("Fictional hexagon model", "Rat"),)).replace(
        "species: Rat", "species: Rat\n  model_type: wound"
    )
    assert "model_type: wound" in text
    guessed = record_text("jones-2021", in_vivo=(("Transient MCAO", "Rat"),)).replace(
        "species: Rat", "species: Rat\n  model_type: bone_defect"
    )
    studies, problems = normalized(
        {"bone_marrow/smith-2020": text, "bone_marrow/jones-2021": guessed}
    )
    assert problems == []
    assert study(studies, "smith-2020")["model_type"] == "wound"
    # the classifier would say disease_model; the author's word is kept
    assert study(studies, "jones-2021")["model_type"] == "bone_defect"


def test_an_added_paper_prints_the_vocabulary_label_a_review_row_prints_as_written(normalized):
    """The review's own rows keep the review's spelling ("Wistar rats" as the table printed
    it); a paper added since prints the label ("Wistar rats" for "male Wistar rats/male",
    "Rat" for "rats")."""
    added = record_text("smith-2020", in_vivo=(("Wound model", "rats"), ("Burn model",
                        "Wistar rats/male")))  # fmt: skip
    review = record_text("jones-2021", in_vivo=(("Wound model", "rats"),)).replace(
        "id: jones-2021", "id: jones-2021\nreview_row: 7"
    )
    studies, problems = normalized(
        {"bone_marrow/smith-2020": added, "bone_marrow/jones-2021": review}
    )
    assert problems == []
    assert study(studies, "smith-2020")["in_vivo"] == "Wound model (Rat); Burn model (Wistar rats)"
    assert study(studies, "jones-2021")["in_vivo"] == "Wound model (rats)"
    # the review's rows first, in its order; papers added since after them
    assert studies["id"].to_list() == ["jones-2021", "smith-2020"]
