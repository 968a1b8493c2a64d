"""Hostile registry exports: whatever the bytes, a problem naming the file and the row (or
JSON path) and what to do, never a traceback; the good rows of a bad file still go in.

The exports here are written by the tests (small, fictional trials); the real 172-trial
export with its 74,036-character cell is read from ``../shared/trials/`` (skipped, saying
why, where absent).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap

import pytest
from trials_shared import DATA, SHARED, build

from exosynth.trials.decisions import Decision
from exosynth.trials.merge import TrialsResult
from exosynth.trials.readers import read_export

HYPERTENSION = SHARED / "aliza0811+Hypertension-Clinical-Trial-Analysis" / "ctg-studies.csv"

CLASSIC_HEADER = (
    '"Rank","NCT Number","Title","Acronym","Status","Study Results","Conditions",'
    '"Interventions","Outcome Measures","Sponsor/Collaborators","Gender","Age","Phases",'
    '"Enrollment","Funded Bys","Study Type","Study Designs","Other IDs","Start Date",'
    '"Primary Completion Date","Completion Date","First Posted","Results First Posted",'
    '"Last Update Posted","Locations","Study Documents","URL"'
)


def classic_row(number: int, trial_id: str, title: str, **cells: str) -> str:
    """One classic CSV row of 27 cells; ``cells`` by header name overrides the defaults."""
    values = {
        "Rank": str(number), "NCT Number": trial_id, "Title": title, "Acronym": "",
        "Status": "Recruiting", "Study Results": "No Results Available", "Conditions": "Wound",
        "Interventions": "Biological: BM-MSC exosomes", "Outcome Measures": "",
        "Sponsor/Collaborators": "Example Clinic", "Gender": "All", "Age": "18 Years",
        "Phases": "Phase 1", "Enrollment": "20", "Funded Bys": "Other",
        "Study Type": "Interventional", "Study Designs": "", "Other IDs": "",
        "Start Date": "June 17, 2020", "Primary Completion Date": "June 1, 2021",
        "Completion Date": "December 1, 2021", "First Posted": "June 25, 2020",
        "Results First Posted": "", "Last Update Posted": "January 2023", "Locations": "",
        "Study Documents": "", "URL": f"https://ClinicalTrials.gov/show/{trial_id}",
    }  # fmt: skip
    values.update(cells)
    names = [name.strip('"') for name in CLASSIC_HEADER.split(",")]
    return ",".join('"' + values[name].replace('"', '""') + '"' for name in names)


GOOD = [
    classic_row(1, "NCT09990101", "Bone Marrow MSC Exosomes for a Fictional Wound"),
    classic_row(2, "NCT09990102", "Adipose MSC-Exos for a Fictional Burn"),
    classic_row(3, "NCT09990103", "Umbilical Cord MSC Exosomes for Fictional Ulcers"),
]


def classic(*rows: str, header: str = CLASSIC_HEADER, end: str = "\r\n") -> bytes:
    return (end.join([header, *rows]) + end).encode("utf-8")


def ids(result: TrialsResult) -> list[str]:
    return sorted(result.trials["trial_id"])


def assert_ledger_adds_up(result: TrialsResult) -> None:
    for path, counts in result.ledger["by_file"].items():
        assert counts["read"] == counts["included"] + counts["rejected"], path


# -- a cell over Python's csv limit (128 KB) ----------------------------------------------
def test_a_cell_over_128_kb_is_read(trial_terms, vocabulary) -> None:
    locations = "|".join(f"Site {i}, City {i}, Country" for i in range(8_000))  # ~230 KB
    assert len(locations) > 131_072
    data = classic(GOOD[0], classic_row(2, "NCT09990102", "Adipose MSC-Exos", Locations=locations))
    result = build(trial_terms, vocabulary, ("raw/trials/big.csv", data))
    assert result.problems == []
    assert ids(result) == ["NCT09990101", "NCT09990102"]


@pytest.mark.skipif(not HYPERTENSION.is_file(), reason=f"{HYPERTENSION} is not here")
def test_the_real_export_with_a_74_036_character_cell_is_read(trial_terms, vocabulary) -> None:
    result = build(trial_terms, vocabulary, (HYPERTENSION.as_posix(), HYPERTENSION.read_bytes()))
    assert result.problems == []
    assert result.ledger["rows_read"] == 172
    assert result.trials.height == 172


def test_a_10_mb_cell_is_read_within_2_gb_of_memory(tmp_path) -> None:
    """In a process of its own, so its peak resident memory is the reading's."""
    path = tmp_path / "huge.csv"
    path.write_bytes(classic(GOOD[0], classic_row(2, "NCT09990102", "x", Locations="L" * 10**7)))
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from exosynth.trials.readers import read_export
        fmt, records = read_export("huge.csv", Path({str(path)!r}).read_bytes())
        assert [r.trial_id for r in records] == ["NCT09990101", "NCT09990102"], records
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    peak_kib = int(done.stdout.split()[-1])
    assert peak_kib < 2 * 1024 * 1024, f"peak {peak_kib / 1024:.0f} MiB"


# -- an interrupted download -----------------------------------------------------------------
def test_a_file_cut_mid_row_names_the_file_and_row_and_keeps_the_good_rows(
    trial_terms, vocabulary
) -> None:
    whole = classic(*GOOD)
    cut = whole[: whole.index(b"Fictional Ulcers") + len(b"Fictional")]  # inside the title
    result = build(trial_terms, vocabulary, ("raw/trials/cut.csv", cut))
    assert ids(result) == ["NCT09990101", "NCT09990102"]  # the cut trial is not counted
    (problem,) = result.problems
    assert (problem.file, problem.row, problem.line) == ("raw/trials/cut.csv", 3, 4)
    assert problem.is_error
    assert "cut short" in problem.message
    assert "download" in problem.hint
    counts = result.ledger["by_file"]["raw/trials/cut.csv"]
    assert (counts["read"], counts["included"], counts["rejected"]) == (3, 2, 1)


@pytest.mark.parametrize("at", [b'"Recruiting"', b'"Phase 1"', b'"January 2023"'])
def test_a_file_cut_between_cells_is_cut_short_too(trial_terms, vocabulary, at) -> None:
    whole = classic(*GOOD)
    last = whole.rindex(at)
    result = build(trial_terms, vocabulary, ("raw/trials/cut.csv", whole[: last + len(at)]))
    assert ids(result) == ["NCT09990101", "NCT09990102"]
    assert [(p.row, p.record) for p in result.problems] == [(3, "NCT09990103")]


def test_a_last_row_without_a_line_break_is_kept_with_a_warning(trial_terms, vocabulary) -> None:
    """Registry downloads end with a line break: a file without one may have lost the end
    of its last cell, which the row's cell count cannot show."""
    whole = classic(*GOOD)
    result = build(trial_terms, vocabulary, ("raw/trials/end.csv", whole.rstrip(b"\r\n")))
    assert ids(result) == ["NCT09990101", "NCT09990102", "NCT09990103"]
    (problem,) = result.problems
    assert not problem.is_error
    assert (problem.row, problem.record) == (3, "NCT09990103")
    assert "line break" in problem.message


def test_a_row_with_more_cells_than_the_header_is_a_problem(trial_terms, vocabulary) -> None:
    shifted = GOOD[1] + ',"extra"'
    result = build(trial_terms, vocabulary, ("raw/trials/shifted.csv", classic(GOOD[0], shifted)))
    assert ids(result) == ["NCT09990101"]
    (problem,) = result.problems
    assert (problem.row, problem.record, problem.is_error) == (2, "NCT09990102", True)
    assert "28 cells" in problem.message
    assert "27" in problem.message


# -- two columns with one header ------------------------------------------------------------
def test_two_columns_with_one_header_are_a_problem_not_last_wins(trial_terms, vocabulary) -> None:
    header = CLASSIC_HEADER + ',"Title"'
    rows = [
        GOOD[0] + ',"Bone Marrow MSC Exosomes for a Fictional Wound"',  # the same twice: fine
        GOOD[1] + ',"Something Else Entirely"',  # two titles: which one?
    ]
    result = build(trial_terms, vocabulary, ("raw/trials/twice.csv", classic(*rows, header=header)))
    assert ids(result) == ["NCT09990101"]
    header_problem, row_problem = result.problems
    assert (header_problem.file, header_problem.line, header_problem.field) == (
        "raw/trials/twice.csv", 1, "Title",
    )  # fmt: skip
    assert "columns 3 and 28" in header_problem.message
    assert (row_problem.row, row_problem.record, row_problem.field) == (2, "NCT09990102", "Title")
    assert "Something Else Entirely" in row_problem.message


def test_a_repeated_header_of_an_unused_column_is_a_warning(trial_terms, vocabulary) -> None:
    header = CLASSIC_HEADER + ',"Acronym"'
    rows = [row + ',"X"' for row in GOOD]
    result = build(
        trial_terms, vocabulary, ("raw/trials/acronym.csv", classic(*rows, header=header))
    )
    assert len(ids(result)) == 3
    (problem,) = result.problems
    assert (problem.field, problem.is_error) == ("Acronym", False)


# -- deeply nested JSON -----------------------------------------------------------------------
def test_deeply_nested_json_is_a_problem_with_its_json_path(trial_terms, vocabulary) -> None:
    study = json.loads((DATA / "same_trial_api.json").read_text(encoding="utf-8"))[0]
    study["protocolSection"]["descriptionModule"] = {"briefSummary": "DEEP"}
    one = json.dumps(study, separators=(",", ":"))
    deep = "[" * 100_000 + '"bottom"' + "]" * 100_000  # json.dumps itself could not write it
    text = "[" + one.replace('"DEEP"', deep) + "," + one + "]"
    result = build(trial_terms, vocabulary, ("raw/trials/deep.json", text.encode("utf-8")))
    (problem,) = result.problems
    assert problem.file == "raw/trials/deep.json"
    assert problem.field.startswith("[0].protocolSection.descriptionModule.briefSummary[0][0]")
    assert "nested" in problem.message
    assert "export" in problem.hint


def test_a_json_file_cut_short_reads_its_whole_studies_and_names_the_cut(
    trial_terms, vocabulary
) -> None:
    study = json.loads((DATA / "same_trial_api.json").read_text(encoding="utf-8"))[0]
    studies = []
    for number in (1, 2, 3):
        copy = json.loads(json.dumps(study))
        copy["protocolSection"]["identificationModule"]["nctId"] = f"NCT0999020{number}"
        studies.append(copy)
    for text in (json.dumps(studies, indent=1), json.dumps({"studies": studies}, indent=1)):
        cut = text[: text.index("NCT09990203") + 6]
        result = build(trial_terms, vocabulary, ("raw/trials/cut.json", cut.encode("utf-8")))
        assert ids(result) == ["NCT09990201", "NCT09990202"]
        (problem,) = result.problems
        assert problem.is_error
        assert problem.field.endswith("[2]")
        # the line of the cut study's opening brace, the line above its first key
        assert problem.line == cut[: cut.rindex('"protocolSection"')].count("\n")
        assert "cut short in study [2]" in problem.message
        assert "download" in problem.hint


def test_a_json_file_broken_before_its_first_study_is_unreadable(trial_terms, vocabulary) -> None:
    result = build(trial_terms, vocabulary, ("raw/trials/bad.json", b'[{"protocolSection": '))
    (problem,) = result.problems
    assert (problem.code, problem.line) == ("trials.layout", 1)
    assert result.trials.height == 0


# -- dates out of order --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("Completion Date", "January 1, 2020", "completion_date"),
        ("Primary Completion Date", "May 2020", "primary_completion_date"),
    ],
)
def test_a_start_after_the_completion_is_a_problem(trial_terms, vocabulary, column, value, field):
    late = classic_row(2, "NCT09990102", "Adipose MSC-Exos", **{column: value})
    result = build(trial_terms, vocabulary, ("raw/trials/dates.csv", classic(GOOD[0], late)))
    (problem,) = result.problems
    assert (problem.row, problem.record, problem.field) == (2, "NCT09990102", field)
    assert "2020-06-17" in problem.message  # the start date, as read
    assert "registry" in problem.hint
    assert not problem.is_error  # the registry's record, kept as registered
    row = result.trials.filter(result.trials["trial_id"] == "NCT09990102").to_dicts()[0]
    assert row[field] is not None


def test_completion_dates_are_read_from_every_layout(trial_terms, vocabulary) -> None:
    result = build(trial_terms, vocabulary, ("raw/trials/good.csv", classic(*GOOD)))
    row = result.trials.filter(result.trials["trial_id"] == "NCT09990101").to_dicts()[0]
    assert (row["primary_completion_date"], row["completion_date"]) == ("2021-06-01", "2021-12-01")
    study = json.loads((DATA / "same_trial_api.json").read_text(encoding="utf-8"))[0]
    status = study["protocolSection"]["statusModule"]
    status["completionDateStruct"] = {"date": "2019-01"}
    data = json.dumps([study]).encode("utf-8")
    result = build(trial_terms, vocabulary, ("raw/trials/early.json", data))
    assert [(p.row, p.field) for p in result.problems] == [(0, "completion_date")]


# -- a decision about a trial no export holds ---------------------------------------------------
def test_a_decision_about_a_trial_no_export_holds_is_a_warning(trial_terms, vocabulary) -> None:
    decisions = {
        "NCT09990199": Decision("NCT09990199", "cord MSC per the paper", source="umbilical_cord"),
        "NCT09990101": Decision("NCT09990101", "named in the paper", source="bone_marrow"),
    }
    result = build(
        trial_terms, vocabulary, ("raw/trials/good.csv", classic(*GOOD)), decisions=decisions
    )
    (problem,) = result.problems
    assert not problem.is_error
    assert (problem.file, problem.field, problem.record) == (
        "raw/trials/decisions.yaml", "decisions.NCT09990199", "NCT09990199",
    )  # fmt: skip
    assert "no export" in problem.message
    assert result.ledger["decisions_unused"] == ["NCT09990199"]


# -- a tab-separated classic export -----------------------------------------------------------
@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_a_tab_or_semicolon_separated_export_is_read(trial_terms, vocabulary, delimiter) -> None:
    text = classic(*GOOD).decode("utf-8")
    lines = [delimiter.join(cell.strip('"') for cell in line.split('","')) for line in
             text.splitlines()]  # fmt: skip
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    result = build(trial_terms, vocabulary, ("raw/trials/tabs.txt", data))
    assert result.problems == []
    assert ids(result) == ["NCT09990101", "NCT09990102", "NCT09990103"]
    fmt, _ = read_export("tabs.txt", data)
    assert fmt == "classic_csv"


def test_an_unknown_layout_says_what_is_accepted(trial_terms, vocabulary) -> None:
    result = build(trial_terms, vocabulary, ("raw/trials/notes.txt", b"Trial|Name\nA|B\n"))
    (problem,) = result.problems
    assert problem.file == "raw/trials/notes.txt"
    for accepted in ("NCT Number", "comma", "tab", "JSON"):
        assert accepted in problem.message + problem.hint


# -- whatever the bytes -------------------------------------------------------------------------
def _mutants(seed: int) -> list[bytes]:
    """Damaged copies of a good CSV and JSON export: cut, bytes flipped, bytes spliced in."""
    rng = random.Random(seed)
    bases = [classic(*GOOD), (DATA / "same_trial_api.json").read_bytes()]
    nasty = [b"\x00", b'"', b"\n", b"\r", b",", b"\t", b"{", b"[", b"]", b"}", b"\xff", b"\\",
             b"\xef\xbb\xbf", b'"NCT Number"', b"|", b"NCT0", b"9" * 30, b"-/-"]  # fmt: skip
    found = []
    for base in bases:
        for _ in range(40):
            data = bytearray(base)
            for _ in range(rng.randint(1, 6)):
                at = rng.randrange(len(data) + 1)
                choice = rng.random()
                if choice < 0.3:
                    del data[at:]
                elif choice < 0.6:
                    data[at:at] = rng.choice(nasty)
                else:
                    data[at : at + 1] = bytes([rng.randrange(256)])
            found.append(bytes(data))
    found += [b"", b"\n", b"[]", b"{}", b"null", b"[1, 2]", b'{"studies": {}}', b"\xff\xfe",
              b'[{"protocolSection": {"identificationModule": {"nctId": 5}}}]',
              b'[{"protocolSection": {"identificationModule": {"nctId": "NCT09990101"},'
              b' "conditionsModule": {"conditions": "Wound"}, "designModule": {"phases": 3},'
              b' "armsInterventionsModule": {"interventions": "x"}}}]']  # fmt: skip
    return found


@pytest.mark.parametrize("seed", [1, 2])
def test_no_traceback_whatever_the_bytes(trial_terms, vocabulary, seed) -> None:
    exports = [(f"raw/trials/m{i}.csv", data) for i, data in enumerate(_mutants(seed))]
    result = build(trial_terms, vocabulary, *exports)
    assert_ledger_adds_up(result)
    for problem in result.problems:
        assert problem.file.startswith("raw/trials/m"), problem
        assert problem.hint, problem
        assert problem.code != "trials.internal", problem.render()
    # each damaged file alone: its problems name it, its good rows go in
    for path, data in exports[:20]:
        alone = build(trial_terms, vocabulary, (path, data))
        assert {p.file for p in alone.problems} <= {path}
        assert_ledger_adds_up(alone)


# -- end to end: the build with hostile exports ----------------------------------------------
@pytest.mark.e2e
def test_hostile_exports_stop_the_build_and_exclude_builds_their_good_rows(
    project, run_snakemake
) -> None:
    folder = project / "raw" / "trials"
    whole = classic(*GOOD)
    (folder / "cut export.csv").write_bytes(whole[: whole.index(b"Fictional Ulcers")])
    big = "|".join(f"Site {i}, City, Country" for i in range(10_000))
    (folder / "big.csv").write_bytes(
        classic(classic_row(1, "NCT09990111", "Bone marrow MSC-EVs for a wound", Locations=big))
    )
    decisions = folder / "decisions.yaml"
    decisions.write_text(
        decisions.read_text(encoding="utf-8")
        + "  NCT09990199:\n    source: adipose\n    reason: named in a fictional paper\n",
        encoding="utf-8",
    )
    done = run_snakemake(project)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert any(
        "raw/trials/cut export.csv" in line and "row 3" in line and "cut short" in line
        for line in output.splitlines()
    ), output[-3000:]
    assert "Traceback" not in output

    done = run_snakemake(project, "--config", "on_invalid=exclude")
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    # the two unused decisions (the shipped one and NCT09990199) are warnings on the terminal
    assert "decisions.NCT09990199" in output
    last = [line for line in output.splitlines() if line.startswith("exosynth: ")][-1]
    assert "2 warnings" in last, last
    rows = (project / "results" / "trials.csv").read_text(encoding="utf-8").splitlines()
    assert sorted(r.split(",")[0] for r in rows[1:]) == [
        "NCT09990101", "NCT09990102", "NCT09990111",
    ]  # fmt: skip
