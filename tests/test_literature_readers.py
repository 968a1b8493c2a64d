"""Reference readers: RIS, PubMed MEDLINE, BibTeX, EndNote XML and tool tables into one row
shape, the format told by content, and a problem (never a traceback) for any bytes."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from literature_shared import SHARED, needs_shared

from exosynth.literature.read import read_bytes, read_path
from exosynth.literature.references import (
    normalize_doi,
    normalize_pmid,
    parse_year,
    surname,
)

# A RIS written by hand the way EndNote and Ovid write theirs: BOM, CRLF, an Ovid number
# line, bare continuation lines, a U+2028 inside the abstract, a DOI as a URL twice.
FIXTURE_RIS = (
    "\ufeff1.\r\n"
    "TY  - JOUR\r\n"
    "AU  - Smith, J. A.\r\n"
    "AU  - Doe, R.\r\n"
    "TI  - Exosomes from bone marrow mesenchymal stem cells\r\n"
    "AB  - First half\u2028second half of the abstract.\r\n"
    "KW  - exosome\r\n"
    "stroke\r\n"
    "Y1  - 2019//\r\n"
    "DO  - http://dx.doi.org/10.1000/ABC.123\r\n"
    "DO  - https://doi.org/10.1000/abc.123\r\n"
    "AN  - 31234567\r\n"
    "DP  - NLM\r\n"
    "ER  - \r\n"
    "Link to the Ovid Full Text or citation: https://example.org\r\n"
    "2.\r\n"
    "TY  - JOUR\r\n"
    "A1  - Liu R.\r\n"
    "T1  - Adipose MSC extracellular vesicles in wound healing\r\n"
    "PY  - 2020\r\n"
    "C5  - 32000001\r\n"
    "ER  -\r\n"
).encode()


def test_ris_fixture_reads_every_quirk() -> None:
    read = read_bytes(FIXTURE_RIS, "fixture.ris")
    assert read.format == "ris"
    assert read.problems == []
    first, second = read.references
    assert first.first_author == "Smith"
    assert first.authors == ("Smith, J. A.", "Doe, R.")
    assert first.year == 2019
    assert first.doi == "10.1000/abc.123"  # URL, case and the repeat folded into one
    assert first.pmid == "31234567"  # AN of an NLM record
    assert first.abstract == "First half second half of the abstract."  # U+2028 not a line end
    assert first.line == 2
    assert (second.first_author, second.year, second.pmid) == ("Liu", 2020, "32000001")


def test_ris_cut_off_inside_a_record_is_a_warning_with_its_line() -> None:
    cut = FIXTURE_RIS[: FIXTURE_RIS.index(b"PY  - 2020")]
    read = read_bytes(cut, "cut.ris")
    assert [p.code for p in read.problems] == ["literature.truncated"]
    assert read.problems[0].line == 17
    assert len(read.references) == 2


def test_ris_tag_after_er_belongs_to_the_record_before() -> None:
    """Ovid writes NL (the journal) after ER; numbering and link lines are not records."""
    text = b"1.\nTY  - JOUR\nT1  - A title here\nER  -\nNL  - Clin Psychol\n\nLink to x\n2.\n"
    read = read_bytes(text + b"TY  - JOUR\nT1  - Another\nER  -\n", "ovid.ris")
    assert [r.journal for r in read.references] == ["Clin Psychol", None]


def test_medline_doi_only_from_values_tagged_doi() -> None:
    text = (
        b"PMID- 123\nTI  - A title\nAID - 10.5555/looks.like.a.doi [pii]\n"
        b"AID - 10.1000/Real [doi]\nSO  - J. 2019;1:1. doi: 10.1000/real.\n"
    )
    (reference,) = read_bytes(text, "x.nbib").references
    assert reference.doi == "10.1000/real"


@pytest.mark.parametrize(
    ("raw", "doi"),
    [
        ("https://doi.org/10.1016/J.KNEE.2006.02.011", "10.1016/j.knee.2006.02.011"),
        ("doi: 10.1002/cpp.2398.", "10.1002/cpp.2398"),
        ("10.4103/abr.abr_99_17 [doi]", "10.4103/abr.abr_99_17"),
        (
            "https://www.scopus.com/x?eid=2&doi=10.3390%2Fani15010003&partnerID=40",
            "10.3390/ani15010003",
        ),
        ("S0140-6736(19)30001-1 [pii]", None),
        ("", None),
    ],
)
def test_doi_normalised(raw: str, doi: str | None) -> None:
    assert normalize_doi(raw) == doi


@pytest.mark.parametrize(
    ("raw", "pmid"),
    [
        ("https://pubmed.ncbi.nlm.nih.gov/16644224", "16644224"),
        ("PMID: 16644224", "16644224"),
        ("rayyan-14431", None),
        ("PMC6123456", None),
        ("0", None),
    ],
)
def test_pmid_normalised(raw: str, pmid: str | None) -> None:
    assert normalize_pmid(raw) == pmid


@pytest.mark.parametrize(
    ("author", "name"),
    [
        ("Shahtalebi, M. A.", "Shahtalebi"),
        ("Shahtalebi MA", "Shahtalebi"),
        ("Liu R.", "Liu"),
        ("L. Akinfiresoye", "Akinfiresoye"),
        ("S, Choudhary", "Choudhary"),
        ("E.A. Lotfi R.A. Abdel-Aziz S.E, El-Khateeb", "Lotfi"),
        ("IADVL Task Force", "IADVL Task Force"),
    ],
)
def test_surname(author: str, name: str) -> None:
    assert surname(author) == name


def test_year_from_database_spellings() -> None:
    assert [parse_year(v) for v in ("2019//", "2018 Mar 27", "19/05/2014", "n.d.")] == [
        2019,
        2018,
        2014,
        None,
    ]


@needs_shared
@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("IEBH+RefLib/blue-light.xml", "endnote_xml", 102),
        ("IEBH+RefLib/blue-light.nbib", "medline", 80),
        ("IEBH+RefLib/blue-light.ris", "ris", 102),
        ("asreview+asreview/embase.ris", "ris", 6),
        ("asreview+asreview/ovid_psycinfo.ris", "ris", 6),
        ("camaradesuk+ASySD/scopus.ris", "ris", 10),
        ("befriendabacterium+rayyanR/tinea_update.ris", "ris", 14),
        ("galenos-project+LSR3_taar1_H/lsr3_references.bib", "bibtex", 163),
        ("galenos-project+LSR3_taar1_H/LSR3_H_2024-01-22.xlsx", "xlsx:arm_sheet", 9),
        ("emma-wilson+syrf_userguide/quantitative_data_example.csv", "csv:syrf_quantitative", 12),
        ("asreview+synergy-dataset/Jeyaraman_2020_ids.csv", "csv:synergy", 1194),
        ("CoLRev-Environment+bib-dedupe/stroke/records_pre_merged.csv", "csv:bib_dedupe", 1292),
        ("3mmaRand+CIDMap/checked_processed_aw_corrections.csv", "csv:cidmap", 84),
    ],
)
def test_every_shared_file_reads_with_its_count(name: str, fmt: str, count: int) -> None:
    read = read_path(SHARED / name, name)
    assert read.format == fmt
    assert len(read.references) == count
    assert not [p for p in read.problems if p.is_error]


@needs_shared
def test_one_library_in_three_formats_gives_the_same_references() -> None:
    folder = SHARED / "IEBH+RefLib"
    by_format = {
        name: {r.pmid: r for r in read_path(folder / name).references}
        for name in ("blue-light.xml", "blue-light.ris", "blue-light.nbib")
    }
    nbib = by_format["blue-light.nbib"]
    assert len(nbib) == 80
    for other in ("blue-light.xml", "blue-light.ris"):
        for pmid, reference in nbib.items():
            twin = by_format[other][pmid]
            assert (twin.doi, twin.year, twin.first_author) == (
                reference.doi,
                reference.year,
                reference.first_author,
            ), (other, pmid)
    xml = by_format["blue-light.xml"]
    assert sum(r.doi is not None for r in xml.values()) == 72
    assert sum(r.abstract is not None for r in xml.values()) == 98


@needs_shared
def test_medline_doi_from_lid_not_pii_and_abstract_across_u2028() -> None:
    references = read_path(SHARED / "IEBH+RefLib/blue-light.nbib").references
    first = references[0]
    assert first.doi == "10.4103/abr.abr_99_17"
    assert first.pmid == "29657938"
    assert first.abstract is not None
    assert first.abstract.endswith("must be performed.")
    assert all(r.doi is None or r.doi.startswith("10.") for r in references)


@needs_shared
def test_endnote_ris_continuation_lines_join_their_tag() -> None:
    """EndNote's bare lines continue AD/SN/KW: no record gains a field from them."""
    references = read_path(SHARED / "IEBH+RefLib/blue-light.ris").references
    assert all(r.title for r in references)
    assert not any((r.title or "").startswith("Department") for r in references)
    assert references[0].identifiers == (("record_number", "895"),)


@needs_shared
def test_ovid_and_embase_quirks() -> None:
    ovid = read_path(SHARED / "asreview+asreview/ovid_psycinfo.ris").references
    assert [r.year for r in ovid] == [2019] * 6
    assert ovid[0].doi == "10.1002/cpp.2398"
    assert ("doi", "10.1002/cpp.2398") not in ovid[0].identifiers  # the repeat is not kept
    embase = read_path(SHARED / "asreview+asreview/embase.ris").references
    assert sum(r.pmid is not None for r in embase) == 3  # C5
    assert ("accession", "L373791783") in embase[0].identifiers


@needs_shared
def test_scopus_pmid_from_c2_and_n1_not_the_abstract() -> None:
    scopus = read_path(SHARED / "camaradesuk+ASySD/scopus.ris").references
    assert sum(r.pmid is not None for r in scopus) == 5
    assert not any((r.abstract or "").startswith("Export Date") for r in scopus)


@needs_shared
def test_rayyan_decisions_per_reviewer_and_the_conflict() -> None:
    references = read_path(SHARED / "befriendabacterium+rayyanR/tinea_update.ris").references
    by_key = {r.key: r for r in references}
    conflict = by_key["rayyan-14431"]
    assert conflict.decision == "conflict"
    assert dict(conflict.reviewers) == {"Zbys": "Excluded", "m.el-gohary": "Included"}
    said = [d for r in references for _, d in r.reviewers]
    assert (said.count("Included"), said.count("Excluded")) == (7, 9)
    assert sum(1 for r in references if r.reviewers) == 12
    excluded = [r for r in references if r.reasons]
    assert ("wrong population" in excluded[0].reasons) or any(
        "wrong population" in r.reasons for r in excluded
    )


@needs_shared
def test_bibtex_duplicate_key_kept_with_a_warning() -> None:
    read = read_path(SHARED / "galenos-project+LSR3_taar1_H/lsr3_references.bib")
    assert [p.code for p in read.problems] == ["literature.duplicate_key"]
    assert read.problems[0].line == 1811
    assert sum(r.key == "elbourne2002" for r in read.references) == 2
    assert sum(r.title is None for r in read.references) == 6
    texts = " ".join(r.title or "" for r in read.references)
    assert "\\textendash" not in texts


@needs_shared
def test_cidmap_cp1252_second_header_and_stated_source() -> None:
    read = read_path(SHARED / "3mmaRand+CIDMap/checked_processed_aw_corrections.csv")
    assert [p.code for p in read.problems] == ["literature.encoding"]
    assert all(r.first_author != "ref_first_author" for r in read.references)
    sources = [r.source for r in read.references]
    assert sources.count("Bone marrow") == 51
    assert any("\u2013" in (r.title or "") or "\u2019" in (r.title or "") for r in read.references)


@needs_shared
def test_synergy_identifier_only_rows() -> None:
    references = read_path(SHARED / "asreview+synergy-dataset/Jeyaraman_2020_ids.csv").references
    assert sum(r.decision == "include" for r in references) == 96
    assert sum(r.doi is None for r in references) == 53
    assert all(r.doi is None or not r.doi.startswith("http") for r in references)


@needs_shared
def test_syrf_quantitative_fills_outcomes() -> None:
    read = read_path(SHARED / "emma-wilson+syrf_userguide/quantitative_data_example.csv")
    first = read.references[0]
    assert first.title is not None
    assert not first.title.startswith('"')
    assert first.first_author == "Akinfiresoye"
    entries = read.outcomes[first.key or ""]
    immobility = entries[0]
    assert immobility["outcome"] == "FST Immobility"
    assert immobility["direction"] == "lower_is_better"
    assert immobility["control"] == {"n": 8, "mean": 22.45, "sd": 1.92}
    assert [t["label"] for t in immobility["treated"]] == ["Ketamine 0.5", "Ketamine 0.25"]
    units = {e.get("unit") for entries in read.outcomes.values() for e in entries}
    assert "Seconds" not in units


@needs_shared
@pytest.mark.parametrize(
    "name",
    [
        "prisma-flowdiagram+PRISMA2020/PRISMA.csv",
        "CoLRev-Environment+bib-dedupe/stroke/merged_record_ids.csv",
    ],
)
def test_files_that_are_not_references_are_refused_by_name(name: str) -> None:
    read = read_path(SHARED / name, name)
    assert read.references == []
    assert [p.code for p in read.problems] == ["literature.unknown_format"]
    assert read.problems[0].file == name


@needs_shared
@pytest.mark.parametrize(
    "name",
    [
        "IEBH+RefLib/blue-light.xml",
        "IEBH+RefLib/blue-light.nbib",
        "galenos-project+LSR3_taar1_H/lsr3_references.bib",
        "galenos-project+LSR3_taar1_H/LSR3_H_2024-01-22.xlsx",
        "3mmaRand+CIDMap/checked_processed_aw_corrections.csv",
    ],
)
def test_truncated_real_files_never_raise(name: str) -> None:
    data = (SHARED / name).read_bytes()
    rng = random.Random(name)
    for cut in sorted(rng.sample(range(1, len(data)), 12)):
        read = read_bytes(data[:cut], name)
        assert read.references or read.problems


def test_empty_and_binary_files_are_refused() -> None:
    assert [p.code for p in read_bytes(b"", "e.ris").problems] == ["literature.unknown_format"]
    assert [p.code for p in read_bytes(b"\x00\x01\x02abc", "b.bin").problems] == [
        "literature.unknown_format"
    ]
    assert read_bytes(b"PK\x03\x04garbage", "x.xlsx").problems[0].code == "literature.unreadable"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.sampled_from(
            [b"TY  - JOUR\n", b"PMID- 1\n", b"@article{", b"<?xml <record>", b"a,b\n"]
        ).flatmap(lambda head: st.binary(max_size=300).map(lambda tail: head + tail)),
    )
)
def test_any_bytes_give_references_or_problems_never_a_traceback(data: bytes) -> None:
    read = read_bytes(data, "random")
    assert all(p.code.startswith("literature.") for p in read.problems)
    assert not any(p.code == "literature.reader_failed" for p in read.problems), read.problems
