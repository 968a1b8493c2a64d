"""Report: the ledger's counts by folder and the raw-set checksum, on small frames."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from html.parser import HTMLParser

import polars as pl
import pytest

from exosynth.outputs import ledger as ledger_output
from exosynth.problems import WARNING, Problem


def _records(files: dict[str, bytes]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "raw_file": list(files),
            "sha256": [hashlib.sha256(data).hexdigest() for data in files.values()],
        }
    )


FILES = {
    "raw/bone_marrow/a-2020.yaml": b"a",
    "raw/bone_marrow/b-2020.yaml": b"b",
    "raw/bone_marrow/c-2020.yaml": b"c",
    "raw/adipose/d-2020.yaml": b"d",
    "raw/e-2020.yaml": b"e",
}


def test_ledger_counts_by_folder():
    records = _records(FILES)
    problems = [
        Problem("raw/bone_marrow/b-2020.yaml", 3, "year", "bad", "fix"),
        Problem("raw/bone_marrow/b-2020.yaml", 4, "ref", "bad too", "fix"),  # one file, 2 problems
        Problem("raw/e-2020.yaml", 1, "id", "bad", "fix"),
        Problem("raw/adipose/d-2020.yaml", 1, "species", "odd", "check", severity=WARNING),
    ]
    studies = pl.DataFrame(
        {
            "raw_file": [
                "raw/bone_marrow/a-2020.yaml",
                "raw/bone_marrow/c-2020.yaml",
                "raw/adipose/d-2020.yaml",
            ]
        }
    )
    ledger = ledger_output.ledger(records, studies, problems, "raw/")
    assert ledger["by_folder"] == {
        ".": {"read": 1, "included": 0, "rejected": 1},
        "adipose": {"read": 1, "included": 1, "rejected": 0},  # a warning never rejects
        "bone_marrow": {"read": 3, "included": 2, "rejected": 1},
    }
    assert (ledger["files_read"], ledger["included"], ledger["rejected"]) == (5, 3, 2)
    assert ledger["rejected_files"] == ["raw/bone_marrow/b-2020.yaml", "raw/e-2020.yaml"]
    markdown = ledger_output.render_markdown(ledger)
    assert "| bone_marrow | 3 | 2 | 1 |" in markdown
    assert "| adipose | 1 | 1 | 0 |" in markdown


def test_a_file_neither_included_nor_reported_is_a_bug_not_a_silent_loss():
    studies = pl.DataFrame({"raw_file": list(FILES)[:-1]})
    with pytest.raises(RuntimeError, match=r"raw/e-2020\.yaml"):
        ledger_output.ledger(_records(FILES), studies, [], "raw")


def test_raw_checksum_changes_with_any_file_content_or_name():
    base = ledger_output.raw_checksum(_records(FILES))
    assert base == ledger_output.raw_checksum(_records(dict(reversed(FILES.items()))))  # order-free
    changed = {**FILES, "raw/adipose/d-2020.yaml": b"d2"}
    assert ledger_output.raw_checksum(_records(changed)) != base
    renamed = {k.replace("e-2020", "f-2020"): v for k, v in FILES.items()}
    assert ledger_output.raw_checksum(_records(renamed)) != base
    assert ledger_output.raw_checksum(_records(dict(list(FILES.items())[:-1]))) != base
    # the documented digest: SHA-256 over "path<TAB>sha256<LF>" in path order
    expected = hashlib.sha256(
        "".join(
            f"{path}\t{hashlib.sha256(FILES[path]).hexdigest()}\n" for path in sorted(FILES)
        ).encode()
    ).hexdigest()
    assert base == expected


def test_markdown_escapes_pipes_and_newlines_of_problem_text():
    """A `|` or a line break in a message would end the Markdown table row or list item."""
    problems = [Problem("raw/e-2020.yaml", 2, "title", "a | b\nc", "write x | y")]
    ledger = ledger_output.ledger(
        _records(FILES), pl.DataFrame({"raw_file": list(FILES)[:-1]}), problems, "raw"
    )
    markdown = ledger_output.render_markdown(ledger)
    assert "- line 2, `title`: a \\| b c. **Fix:** write x \\| y _(ingest)_" in markdown
    assert "Files read: **5** · included: **4** · rejected: **1**" in markdown
    assert f"`{ledger_output.raw_checksum(_records(FILES))}`" in markdown


def test_build_summary_counts_per_source_in_table_order_with_added_papers_apart(tables):
    studies = pl.DataFrame(
        {
            "source": ["adipose", "bone_marrow", "bone_marrow", "bone_marrow"],
            "review_row": [1, 1, None, None],
            "in_vitro": [True, None, False, True],
            "in_vivo": [None, "x (Rat)", "y (Mouse)", None],
            "clinical_patients": [None, None, 4, None],
        },
        schema_overrides={"review_row": pl.Int64, "clinical_patients": pl.Int64},
    )
    problems = [
        {"file": "raw/adipose/w-2020.yaml", "severity": WARNING},
        {"file": "raw/adipose/z-2020.yaml", "severity": "error"},
    ]
    ledger = {
        "files_read": 6,
        "rejected": 1,
        "rejected_files": ["raw/adipose/z-2020.yaml"],
        "problems": problems,
        "raw_checksum": "ab" * 32,
    }
    summary = ledger_output.build_summary(studies, ledger, tables, "exclude")
    assert [s["source"] for s in summary["by_source"]] == [t.key for t in tables]
    by_source = {s["source"]: s for s in summary["by_source"]}
    assert by_source["bone_marrow"] == {
        "source": "bone_marrow",
        "label": "Bone marrow",
        "table": 1,
        "studies": 3,
        "added": 2,
        "in_vitro": 1,
        "animal": 2,
        "clinical": 1,
    }
    assert by_source["adipose"] | {"label": None} == {
        "source": "adipose",
        "label": None,
        "table": 2,
        "studies": 1,
        "added": 0,
        "in_vitro": 1,
        "animal": 0,
        "clinical": 0,
    }
    # a configured source without studies is there, with zeros
    cord = {k: v for k, v in by_source["umbilical_cord"].items() if k not in ("label", "table")}
    assert cord == {
        "source": "umbilical_cord",
        "studies": 0,
        "added": 0,
        "in_vitro": 0,
        "animal": 0,
        "clinical": 0,
    }
    assert {k: summary[k] for k in ("studies", "added", "tables", "files_read", "rejected")} == {
        "studies": 4,
        "added": 2,
        "tables": 3,
        "files_read": 6,
        "rejected": 1,
    }
    assert summary["warnings"] == 1
    assert summary["rejected_files"] == ["raw/adipose/z-2020.yaml"]
    assert (summary["on_invalid"], summary["raw_checksum"]) == ("exclude", "ab" * 32)


def test_the_summary_counts_the_registered_trials_on_the_last_line_and_front_page(tables):
    studies = pl.DataFrame(
        {
            "source": ["bone_marrow"],
            "review_row": [1],
            "in_vitro": [True],
            "in_vivo": ["x (Rat)"],
            "clinical_patients": [None],
        },
        schema_overrides={"review_row": pl.Int64, "clinical_patients": pl.Int64},
    )
    ledger = {
        "files_read": 1,
        "rejected": 0,
        "rejected_files": [],
        "problems": [],
        "raw_checksum": "ab" * 32,
        "trials": {"exports": 1},
    }
    trials = pl.DataFrame(
        {
            "ev_class": ["msc_ev", "msc_ev", "other", "msc_ev"],
            "source": ["bone_marrow", "unspecified", "bone_marrow", "placenta"],
        }
    )
    summary = ledger_output.build_summary(studies, ledger, tables, "fail", trials)
    assert summary["registered_trials"]["trials"] == 4
    assert summary["registered_trials"]["msc_ev"] == 3
    assert summary["registered_trials"]["msc_ev_by_source"]["unspecified"] == 1
    line = ledger_output.summary_line(summary, "results/exosynth.xlsx", "r.md")
    assert ", 4 registered trials (3 MSC-EV), 0 rejected" in line
    page = ledger_output.summary_rst(summary)
    assert "**Registered trials:** 4 trials from 1 registry export" in page
    assert "MSC-EV trials" in page  # a column per source, and the source not named
    assert "Source not named" in page
    # no export: said so, and no column of zeros
    none = ledger_output.build_summary(studies, {**ledger, "trials": {"exports": 0}}, tables,
                                       "fail", trials.clear())  # fmt: skip
    assert ", no registry export, " in ledger_output.summary_line(none, "x.xlsx", "r.md")
    assert "MSC-EV trials" not in ledger_output.summary_rst(none)
    assert "no registry export" in ledger_output.summary_rst(none)


# -- what the reports say, read back as a reader reads them ----------------------------------
class _Text(HTMLParser):
    """The text of an HTML page by element: headings, paragraphs, table rows, list items."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("h1", "h2", "h3", "p", "tr", "li"):
            self._open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            name, parts = self._open.pop()
            self.found.append((name, " ".join("".join(parts).split())))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)


def _read_html(page: str) -> dict[str, list[str]]:
    reader = _Text()
    for tag in ("td", "th"):
        page = page.replace(f"</{tag}>", f" </{tag}>")
    reader.feed(page)
    by_tag: dict[str, list[str]] = defaultdict(list)
    for tag, text in reader.found:
        by_tag[tag].append(text)
    return by_tag


def _mixed_ledger() -> dict:
    """Two rejected files (three errors), one included file with a warning."""
    problems = [
        Problem("raw/bone_marrow/b-2020.yaml", 3, "year", "bad year", "write a year"),
        Problem("raw/bone_marrow/b-2020.yaml", 4, "ref", "bad ref", "a number"),
        Problem("raw/e-2020.yaml", 1, "id", "bad id", "a slug"),
        Problem("raw/adipose/d-2020.yaml", 1, "species", "odd", "check", severity=WARNING),
    ]
    studies = pl.DataFrame(
        {"raw_file": ["raw/bone_marrow/a-2020.yaml", "raw/bone_marrow/c-2020.yaml",
                      "raw/adipose/d-2020.yaml"]}
    )  # fmt: skip
    return ledger_output.ledger(_records(FILES), studies, problems, "raw/")


def test_html_report_counts_what_it_lists():
    """The HTML validation report's numbers, read back: the ledger, the folder table, and
    headings that count the errors and the files they name, warnings apart."""
    markdown = ledger_output.render_markdown(_mixed_ledger(), "exclude")
    assert "## Problems (3 errors in 2 files)" in markdown
    assert "## Warnings (1 warning in 1 file)" in markdown
    text = _read_html(ledger_output.render_html(_mixed_ledger(), "exclude"))
    ledger_line = next(p for p in text["p"] if p.startswith("Files read"))
    assert ledger_line.startswith("Files read: 5 · included: 3 · rejected: 2.")
    assert "The 2 rejected files are left out of every output" in ledger_line
    assert text["tr"] == ["folder read included rejected", ". 1 0 1", "adipose 1 1 0",
                          "bone_marrow 3 2 1"]  # fmt: skip
    assert text["h2"] == ["Problems (3 errors in 2 files)", "Warnings (1 warning in 1 file)"]
    # each heading names exactly the files of its section
    assert text["h3"] == [
        "raw/bone_marrow/b-2020.yaml", "raw/e-2020.yaml", "raw/adipose/d-2020.yaml",
    ]  # fmt: skip
    assert text["li"][:3] == [
        "line 3, year: bad year. Fix: write a year",
        "line 4, ref: bad ref. Fix: a number",
        "line 1, id: bad id. Fix: a slug",
    ]
    assert text["li"][3] == "line 1, species: odd. Fix: check"


def test_html_report_heading_with_only_warnings_names_no_problem_files():
    """A warning is not a rejected file: "Problems (1 in 0 files)" was the bug."""
    problems = [Problem("raw/adipose/d-2020.yaml", 1, "species", "odd", "check", severity=WARNING)]
    studies = pl.DataFrame({"raw_file": list(FILES)})
    ledger = ledger_output.ledger(_records(FILES), studies, problems, "raw")
    text = _read_html(ledger_output.render_html(ledger))
    assert text["h2"] == ["Problems", "Warnings (1 warning in 1 file)"]
    assert any(p.startswith("None: every record passed") for p in text["p"])
    assert text["h3"] == ["raw/adipose/d-2020.yaml"]


def test_trial_row_errors_are_counted_in_the_files_they_are_in():
    """An error in a registry export's row is an error in that export, though no study file
    is rejected: the heading counts it with its file."""
    studies = pl.DataFrame({"raw_file": list(FILES)})
    ledger = ledger_output.ledger(_records(FILES), studies, [], "raw")
    trial_problem = Problem(
        "raw/trials/x.csv", 4, "enrollment", "not a number", "fix", stage="trials", row=2
    )
    summary = ledger_output.add_trials(
        ledger,
        {"exports": 1, "rows_read": 3, "included": 2, "rejected": 1, "trials": 2,
         "by_file": {"raw/trials/x.csv": {"format": "ctg_csv", "read": 3, "included": 2,
                                          "rejected": 1, "left_out": 0}}},
        [trial_problem],
    )  # fmt: skip
    text = _read_html(ledger_output.render_html(summary, "exclude"))
    assert text["h2"] == ["Problems (1 error in 1 file)"]
    assert text["h3"] == ["raw/trials/x.csv"]


@pytest.mark.parametrize(
    ("rejected", "on_invalid", "sentence"),
    [
        (1, "exclude", "The 1 rejected file is left out of every output"),
        (2, "exclude", "The 2 rejected files are left out of every output"),
        (1, "fail", "because of the 1 rejected file:"),
        (0, "exclude", "Every raw file was included."),
    ],
)
def test_the_outcome_sentence_agrees_with_its_count(rejected, on_invalid, sentence):
    files = dict(list(FILES.items())[: 5 - rejected])
    problems = [Problem(path, 1, "id", "bad", "fix") for path in list(FILES)[5 - rejected :]]
    studies = pl.DataFrame({"raw_file": list(files)})
    ledger = ledger_output.ledger(_records(FILES), studies, problems, "r")
    assert sentence in ledger_output.render_markdown(ledger, on_invalid)
    html_text = " ".join(_read_html(ledger_output.render_html(ledger, on_invalid))["p"])
    assert sentence.replace("`", "") in html_text


# -- what the planted-bug audit asked for (tools/planted_bugs) ------------------------------
def test_trial_problems_join_the_counts_of_errors_and_warnings():
    """A warning about a registry export (a decision no export holds) is counted like any
    other: in the ledger, and so on the terminal's last line."""
    problems = [Problem("raw/e-2020.yaml", 1, "id", "bad", "fix")]
    studies = pl.DataFrame({"raw_file": list(FILES)[:-1]})
    ledger = ledger_output.ledger(_records(FILES), studies, problems, "raw")
    assert (ledger["errors"], ledger["warnings"]) == (1, 0)
    trial_problems = [
        Problem("raw/trials/x.csv", 3, "phase", "odd", "fix", stage="trials", row=2),
        Problem("raw/trials/decisions.yaml", None, "decisions.NCT09990199", "unused", "check",
                stage="trials", severity=WARNING),
        Problem("raw/trials/x.csv", 5, "completion_date", "late", "check", stage="trials",
                severity=WARNING, row=4),
    ]  # fmt: skip
    trial_ledger = {"exports": 1, "rows_read": 4, "included": 3, "rejected": 1, "trials": 3,
                    "by_file": {"raw/trials/x.csv": {"format": "ctg_csv", "read": 4,
                                                     "included": 3, "rejected": 1,
                                                     "left_out": 0}}}  # fmt: skip
    summary = ledger_output.add_trials(ledger, trial_ledger, trial_problems)
    assert (summary["errors"], summary["warnings"]) == (2, 2)
    assert len(summary["problems"]) == 4
    assert summary["rejected"] == 1  # study files only: an export is not a rejected study file
    study_rows = pl.DataFrame(
        {"source": ["bone_marrow"], "review_row": [None], "in_vitro": [True],
         "in_vivo": [None], "clinical_patients": [None]},
        schema_overrides={"review_row": pl.Int64, "clinical_patients": pl.Int64},
    )  # fmt: skip
    built = ledger_output.build_summary(study_rows, summary, [], "exclude")
    assert built["warnings"] == 2
    line = ledger_output.summary_line(built, "results/exosynth.xlsx", "results/report.md")
    assert ", 2 warnings -> results/exosynth.xlsx" in line


@pytest.mark.parametrize(
    ("rejected", "named"),
    [
        (1, "(on_invalid=exclude: raw/f0.yaml; see r.md)"),
        (3, "(on_invalid=exclude: raw/f0.yaml, raw/f1.yaml, raw/f2.yaml; see r.md)"),
        (5, "(on_invalid=exclude: raw/f0.yaml, raw/f1.yaml, raw/f2.yaml and 2 more; see r.md)"),
    ],
)
def test_the_last_line_names_three_left_out_files_and_counts_the_rest(rejected, named):
    summary = {
        "studies": 2, "added": 0, "tables": 3, "warnings": 0, "on_invalid": "exclude",
        "rejected": rejected, "rejected_files": [f"raw/f{i}.yaml" for i in range(rejected)],
    }  # fmt: skip
    line = ledger_output.summary_line(summary, "book.xlsx", "r.md")
    noun = "invalid file" if rejected == 1 else "invalid files"
    assert f", {rejected} {noun} left out {named}, 0 warnings -> book.xlsx" in line
    assert "and 0 more" not in line


@pytest.mark.parametrize(
    ("problem", "shown"),
    [
        (Problem("raw/x.yaml", 3, "year", "bad", "fix"), "raw/x.yaml:3 [year]: bad -> fix"),
        (Problem("raw/x.yaml", None, "", "empty", "fill"), "raw/x.yaml: empty -> fill"),
        (Problem("raw/trials/t.csv", None, "phase", "odd", "", stage="trials", row=2,
                 record="NCT09990001", severity=WARNING),
         "raw/trials/t.csv row 2 (NCT09990001) [phase]: warning: odd"),
    ],
)  # fmt: skip
def test_a_problem_reads_file_line_row_and_record_only_where_known(problem, shown):
    assert problem.render() == shown
    assert "None" not in problem.where
