"""Export: Tables 1-3 cell for cell against an independent transcription of the review,
a workbook that is safe to hand out and byte-identical across builds, and Table 4
from configuration alone.

The studies are built in-process (ingest, validate, normalize as functions) from the
repository's raw/ and config; no Snakemake run here, so the file stays fast.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter
import xlsxwriter.core
from conftest import office_tool
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from exosynth import adapters, settings
from exosynth.outputs import columns as column_dictionary
from exosynth.outputs import sheet_layout
from exosynth.outputs import tables as review_tables
from exosynth.outputs import workbook as workbook_output
from exosynth.studies import normalize
from exosynth.studies.normalize import BLOCK_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
REVIEW_TABLES = (1, 2, 3)
TITLES: dict[str, str] = json.loads((DATA / "review_titles.json").read_text(encoding="utf-8"))
FOOTNOTES: dict[str, str] = json.loads((DATA / "review_footnotes.json").read_text(encoding="utf-8"))
GAP_COLUMNS = (
    "source,n_studies,n_in_vitro,n_animal,n_clinical,clinical_share,clinical_share_ci_low,"
    "clinical_share_ci_high,translation_gap"
)
# A hand-made translation gap with the contract's columns; wetlands has no studies, so
# its shares are empty and must stay empty cells, not zeros or text.
GAP_CSV = (
    GAP_COLUMNS + "\n"
    "bone_marrow,10,8,9,1,0.1,0.0179,0.4042,0.9\n"
    "adipose,7,5,3,0,0.0,0.0,0.3543,1.0\n"
    "umbilical_cord,9,7,8,1,0.1111,0.0199,0.435,0.8889\n"
    "wetlands,0,0,0,0,,,,\n"
    "all,26,20,20,2,0.0769,0.0214,0.2414,0.9231\n"
)
LEDGER = {"files_read": 27, "included": 26, "rejected": 1, "raw_checksum": "ab" * 32}


# -- building the studies in-process (config and build_studies: tests/conftest.py) ------
def copy_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    return raw


def add_record(raw: Path, folder: str, record_id: str, body: str) -> None:
    """A record file ``raw/<folder>/<record_id>.yaml``; ``body`` is YAML after the id line."""
    target = raw / folder / f"{record_id}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"id: {record_id}\n{body}", encoding="utf-8")


@pytest.fixture(scope="module")
def studies(review_studies: pl.DataFrame) -> pl.DataFrame:
    """The published study table: the interim one without the record blocks (as rule publish
    writes it, adapters.publish_studies)."""
    return review_studies.drop(BLOCK_COLUMNS)


@pytest.fixture(scope="module")
def gap() -> pl.DataFrame:
    return pl.read_csv(io.StringIO(GAP_CSV))


def all_tables(
    studies: pl.DataFrame, config: dict
) -> list[tuple[settings.SourceTable, pl.DataFrame]]:
    return [
        (t, workbook_output.table_sheet_rows(studies, t)) for t in settings.source_tables(config)
    ]


def build_workbook(path: Path, studies: pl.DataFrame, config: dict, gap: pl.DataFrame) -> Path:
    tables = settings.source_tables(config)
    workbook_output.write_workbook(
        path,
        all_tables(studies, config),
        gap,
        studies,
        workbook_output.about_rows(
            config, LEDGER, "9.9.9-test", added=workbook_output.added_by_table(studies, tables)
        ),
    )
    return path


@pytest.fixture(scope="module")
def workbook_path(
    tmp_path_factory: pytest.TempPathFactory,
    studies: pl.DataFrame,
    config: dict,
    gap: pl.DataFrame,
) -> Path:
    return build_workbook(tmp_path_factory.mktemp("book") / "exosynth.xlsx", studies, config, gap)


@pytest.fixture(scope="module")
def workbook(workbook_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(workbook_path)


# -- reading the outputs back ---------------------------------------------------------------
def transcription(number: int) -> list[list[str]]:
    """The independent transcription: header row, then one row per study."""
    with (DATA / f"review_table{number}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def markdown_cells(line: str) -> list[str]:
    r"""The cells of one pipe-table line; "\x" stands for x (the exporter escapes \ and |)."""
    cells: list[str] = []
    current: list[str] = []
    chars = iter(line.strip())
    for char in chars:
        if char == "\\":
            current.append(next(chars))
        elif char == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    assert cells[0] == "", f"not a pipe-table row: {line!r}"
    assert "".join(current) == "", f"not a pipe-table row: {line!r}"
    return cells[1:]


def parse_markdown(text: str) -> tuple[str, list[list[str]], list[str]]:
    """Heading (bold markers removed), the table's rows with its header, the other lines."""
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    assert "\r" not in text
    lines = text.removesuffix("\n").split("\n")
    table = [line for line in lines if line.startswith("|")]
    header, rule, *body = table
    assert set(markdown_cells(rule)) <= {"---", ":---:", "---:"}
    others = [line for line in lines[1:] if line and not line.startswith("|")]
    return lines[0].replace("**", ""), [markdown_cells(r) for r in [header, *body]], others


def csv_rows(data: bytes) -> list[list[str]]:
    assert b"\r" not in data
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def sheet_values(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# -- (a) Tables 1-3 as CSV and Markdown --------------------------------------------------------
@pytest.mark.parametrize("number", REVIEW_TABLES)
def test_markdown_matches_the_review_cell_for_cell(
    number: int, studies: pl.DataFrame, config: dict
) -> None:
    table = settings.source_tables(config)[number - 1]
    assert table.table == number
    title, rows, others = parse_markdown(
        review_tables.table_markdown(review_tables.table_rows(studies, table), table)
    )
    assert title == TITLES[str(number)]
    assert rows == transcription(number)
    assert others == [FOOTNOTES[str(number)]]


@pytest.mark.parametrize("number", REVIEW_TABLES)
def test_csv_matches_the_review_cell_for_cell(
    number: int, studies: pl.DataFrame, config: dict
) -> None:
    table = settings.source_tables(config)[number - 1]
    assert csv_rows(
        review_tables.table_csv(review_tables.table_rows(studies, table))
    ) == transcription(number)


def test_table_rows_has_exactly_the_review_columns(studies: pl.DataFrame, config: dict) -> None:
    rows = review_tables.table_rows(studies, settings.source_tables(config)[0])
    assert rows.columns == list(column_dictionary.TABLE_COLUMNS)
    assert rows.schema == dict.fromkeys(column_dictionary.TABLE_COLUMNS, pl.String)


def _study(**values: object) -> dict:
    base = dict.fromkeys(normalize.STUDY_COLUMNS)
    base.update(
        id="x-2020",
        source="bone_marrow",
        table=1,
        condition="Sepsis",
        in_vitro=False,
        results="Works",
        first_author="Xu",
        year=2020,
        ref=7,
        raw_file="raw/x.yaml",
    )
    base.update(values)
    return base


def test_in_vivo_cell_joins_animal_and_clinical_use(studies: pl.DataFrame, config: dict) -> None:
    frame = pl.DataFrame(
        [
            _study(id="a", in_vivo="Sepsis model (Mouse)", clinical_patients=3),
            _study(id="b", in_vivo="Sepsis model (Mouse); Lung injury model (Rat)"),
            _study(id="c", clinical_patients=1, in_vitro=True),
            _study(id="d", in_vitro=True, ref=None),
        ],
        schema=studies.schema,
    )
    rows = review_tables.table_rows(frame, settings.source_tables(config)[0])
    assert rows.rows() == [
        (
            "Sepsis",
            "-",
            "Sepsis model (Mouse); Clinical patients (3)",
            "Works",
            "Xu et al[7], 2020",
        ),
        (
            "Sepsis",
            "-",
            "Sepsis model (Mouse); Lung injury model (Rat)",
            "Works",
            "Xu et al[7], 2020",
        ),
        ("Sepsis", "+", "Clinical patient", "Works", "Xu et al[7], 2020"),
        ("Sepsis", "+", "-", "Works", "Xu et al, 2020"),
    ]


def test_markdown_escapes_what_would_break_the_table(studies: pl.DataFrame, config: dict) -> None:
    text = "a | b \\ c\nd"
    frame = pl.DataFrame([_study(results=text)], schema=studies.schema)
    table = settings.source_tables(config)[0]
    markdown = review_tables.table_markdown(review_tables.table_rows(frame, table), table)
    assert "a \\| b \\\\ c d" in markdown
    assert parse_markdown(markdown)[1][1][3] == "a | b \\ c d"
    assert csv_rows(review_tables.table_csv(review_tables.table_rows(frame, table)))[1][3] == text


@pytest.mark.parametrize(("in_vitro", "cell"), [(True, "+"), (False, "-"), (None, "NR")])
def test_in_vitro_cell_and_the_nr_footnote(studies, config, in_vitro, cell) -> None:
    frame = pl.DataFrame([_study(in_vitro=in_vitro)], schema=studies.schema)
    table = settings.source_tables(config)[0]
    rows = review_tables.table_rows(frame, table)
    assert rows[column_dictionary.TABLE_COLUMNS[1]].to_list() == [cell]
    markdown = review_tables.table_markdown(rows, table)
    assert (review_tables.NR_FOOTNOTE in markdown) == (in_vitro is None)


def test_results_not_reported_alone_get_the_nr_footnote(studies, config) -> None:
    """NR in the Results column needs the footnote as much as NR in the In vitro column."""
    frame = pl.DataFrame([_study(in_vitro=True, results=None)], schema=studies.schema)
    table = settings.source_tables(config)[0]
    rows = review_tables.table_rows(frame, table)
    assert rows[column_dictionary.TABLE_COLUMNS[3]].to_list() == ["NR"]
    assert review_tables.footnote(rows, table).endswith(review_tables.NR_FOOTNOTE)
    assert review_tables.NR_FOOTNOTE in review_tables.table_markdown(rows, table)


def test_markdown_caption_is_escaped_italics(studies, config) -> None:
    table = settings.source_tables(config)[0]
    rows = review_tables.table_rows(studies, table)
    caption = r"From *Stem Cells* 2020_12, see a\b"
    markdown = review_tables.table_markdown(rows, table, caption)
    assert markdown.endswith("\n\n*From \\*Stem Cells\\* 2020\\_12, see a\\\\b*\n")


def test_a_source_without_studies_gives_a_header_only_table(
    studies: pl.DataFrame, config: dict
) -> None:
    table = settings.SourceTable("placenta", 4, "Placenta", "Placental MSC", ())
    rows = review_tables.table_rows(studies, table)
    assert rows.height == 0
    assert csv_rows(review_tables.table_csv(rows)) == [list(column_dictionary.TABLE_COLUMNS)]
    title, cells, others = parse_markdown(review_tables.table_markdown(rows, table))
    assert (title, cells, others) == (
        "Table 4 Placental MSC",
        [list(column_dictionary.TABLE_COLUMNS)],
        [],
    )


# -- (b) the workbook ----------------------------------------------------------------------
def test_workbook_sheets_in_order(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == [
        "Table 1",
        "Table 2",
        "Table 3",
        "Translation gap",
        "Studies",
        "About",
    ]


@pytest.mark.parametrize("number", REVIEW_TABLES)
def test_table_sheet_matches_the_review(number: int, workbook: openpyxl.Workbook) -> None:
    sheet = workbook[f"Table {number}"]
    header, *expected = transcription(number)
    values = sheet_values(sheet)
    width = len(header) + 1  # the review's columns and "Added since the review"
    assert values[0] == [TITLES[str(number)], *[None] * (width - 1)]
    assert values[1] == [*header, column_dictionary.ADDED_COLUMN]
    # every shipped paper is the review's own: marked "no", its cells as the review prints them
    assert values[2 : 2 + len(expected)] == [[*row, "no"] for row in expected]
    end = 2 + len(expected)
    assert values[end] == [None] * width
    assert values[end + 1] == [FOOTNOTES[str(number)], *[None] * (width - 1)]
    note = values[end + 2][0]
    assert note.startswith(
        f"{column_dictionary.ADDED_COLUMN}: yes for a paper that is not in Table {number}"
    )
    assert f"0 of {len(expected)} rows" in note
    assert len(values) == end + 3
    # title and notes span the table instead of running on into empty cells
    merged = {str(r) for r in sheet.merged_cells.ranges}
    last = openpyxl.utils.get_column_letter(width)
    assert {f"A1:{last}1", f"A{end + 2}:{last}{end + 2}", f"A{end + 3}:{last}{end + 3}"} <= merged
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == f"A2:{last}{1 + len(expected) + 1}"
    header_cell = sheet["A2"]
    assert header_cell.font.b
    assert header_cell.fill.fgColor.rgb.upper().endswith("DCE6F1")
    assert sheet["D3"].alignment.wrap_text
    assert sheet[f"{last}3"].alignment.horizontal == "center"


def test_data_sheets_hold_the_frames_as_typed_values(
    workbook: openpyxl.Workbook, studies: pl.DataFrame, gap: pl.DataFrame, config: dict
) -> None:
    labels = {t.key: t.label for t in settings.source_tables(config)}
    for name, frame, doc in (
        ("Translation gap", gap, column_dictionary.COLUMNS["translation_gap.csv"]),
        ("Studies", studies, column_dictionary.COLUMNS["studies.csv"]),
    ):
        sheet = workbook[name]
        values = sheet_values(sheet)
        assert values[0] == [doc[c].label for c in frame.columns]
        assert len(values) == frame.height + 1
        assert sheet.freeze_panes == "A2"
        last = openpyxl.utils.get_column_letter(frame.width)
        assert sheet.auto_filter.ref == f"A1:{last}{frame.height + 1}"
    gap_rows = sheet_values(workbook["Translation gap"])[1:]
    # sources by their labels; the numbers as numbers, the shares unrounded
    sources = ["bone_marrow", "adipose", "umbilical_cord"]
    assert [r[0] for r in gap_rows] == [*(labels[s] for s in sources), "Wetlands", "All sources"]
    assert [r[1:] for r in gap_rows] == [list(r[1:]) for r in gap.rows()]
    wetlands = workbook["Translation gap"]["F5"]
    assert (wetlands.value, workbook["Translation gap"]["B5"].value) == (None, 0)
    listed = sheet_values(workbook["Studies"])[1:]
    in_vitro = studies.columns.index("in_vitro")
    # one representation of true/false/not reported, as text
    shown = {True: "yes", False: "no", None: "NR"}
    assert [r[in_vitro] for r in listed] == [shown[v] for v in studies["in_vitro"]]
    doc = column_dictionary.COLUMNS["studies.csv"]
    coded = [c for c in studies.columns if c in doc and doc[c].values]
    others = [c for c in studies.columns if c != "in_vitro" and c not in coded]
    assert [[r[studies.columns.index(c)] for c in others] for r in listed] == [
        list(r) for r in studies.select(others).rows()
    ]
    # codes in words: sources by their labels, stages and model types in words
    source = [r[studies.columns.index("source")] for r in listed]
    assert source == [labels.get(s, s.capitalize()) for s in studies["source"]]
    stage = {r[studies.columns.index("stage")] for r in listed}
    assert stage <= {"In vitro", "Animal", "Clinical (people)"}
    assert workbook["Studies"]["N2"].data_type == "n"  # year: a number, not text


def test_studies_sheet_shows_not_reported_as_nr_never_as_no(
    tmp_path: Path, studies: pl.DataFrame, config: dict, gap: pl.DataFrame
) -> None:
    """In vitro work a paper does not report is "NR" in the Studies sheet, apart from "no"
    (the review's 26 records all report it, so the shared workbook cannot show this)."""
    first, second = studies["id"][0], studies["id"][1]
    edited = studies.with_columns(
        in_vitro=pl.when(pl.col("id") == first)
        .then(None)
        .when(pl.col("id") == second)
        .then(False)
        .otherwise(pl.col("in_vitro"))
    )
    book = openpyxl.load_workbook(build_workbook(tmp_path / "nr.xlsx", edited, config, gap))
    rows = sheet_values(book["Studies"])
    column = rows[0].index(column_dictionary.COLUMNS["studies.csv"]["in_vitro"].label)
    by_id = {r[edited.columns.index("id")]: r[column] for r in rows[1:]}
    assert (by_id[first], by_id[second]) == ("NR", "no")
    assert set(by_id.values()) <= {"yes", "no", "NR"}


def test_translation_gap_sheet_headers_in_words_and_shares_as_percent(
    workbook: openpyxl.Workbook, gap: pl.DataFrame
) -> None:
    sheet = workbook["Translation gap"]
    assert sheet_values(sheet)[0] == [
        "MSC source", "Studies", "In vitro", "Animal", "Clinical", "Clinical share",
        "95% CI low", "95% CI high", "Translation gap",
    ]  # fmt: skip
    shares = ("clinical_share", "clinical_share_ci_low", "clinical_share_ci_high",
              "translation_gap")  # fmt: skip
    for row in range(2, gap.height + 2):
        for column, name in enumerate(gap.columns, start=1):
            cell = sheet.cell(row=row, column=column)
            if name in shares and cell.value is not None:  # no studies: an empty cell
                assert cell.number_format == "0.0%", (name, row)
                assert cell.data_type == "n"
            else:
                assert "%" not in cell.number_format, (name, row)
    assert sheet["F2"].value == 0.1  # a number (10.0% on screen), not the text "10.0%"


def test_about_rows_carry_no_timestamp(config: dict) -> None:
    rows = workbook_output.about_rows(config, LEDGER, "1")
    year = str(dt.datetime.now(tz=dt.UTC).year)
    assert not any(re.search(r"\d{2}:\d{2}", v) or year in v for _, v in rows)


def test_workbook_stores_nan_as_empty_and_refuses_text_excel_would_cut(tmp_path: Path) -> None:
    numbers = pl.DataFrame({"x": [1.5, float("nan"), float("inf"), None]})
    workbook_output.write_workbook(
        tmp_path / "nan.xlsx", [], numbers, pl.DataFrame({"y": ["ok"]}), []
    )
    sheet = openpyxl.load_workbook(tmp_path / "nan.xlsx")["Translation gap"]
    assert [c.value for c in sheet["A"]] == ["x", 1.5]
    too_long = pl.DataFrame({"results": ["x" * (sheet_layout.EXCEL_MAX_STRING + 1)]})
    with pytest.raises(ValueError, match=r"(?i)results: a value of 32,768 characters"):
        workbook_output.write_workbook(tmp_path / "long.xlsx", [], numbers, too_long, [])


def test_workbook_refuses_a_sheet_longer_than_excel_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: dict, studies: pl.DataFrame
) -> None:
    """xlsxwriter drops rows past the limit silently; the workbook must stop and say so."""
    tables = [(t, review_tables.table_rows(studies, t)) for t in settings.source_tables(config)]
    gap = pl.DataFrame({"source": ["all"]})
    needed = 1 + studies.height  # the Studies sheet: header and one row per study
    path = tmp_path / "long.xlsx"
    monkeypatch.setattr(sheet_layout, "EXCEL_MAX_ROWS", needed - 1)
    with pytest.raises(ValueError, match=rf"sheet 'Studies' needs {needed} rows") as err:
        workbook_output.write_workbook(path, tables, gap, studies, [])
    assert f"at most {needed - 1:,}" in str(err.value)
    assert "Table" not in str(err.value).split(":")[0]  # the tables fit and are not named
    assert not path.exists()
    monkeypatch.setattr(sheet_layout, "EXCEL_MAX_ROWS", needed)  # exactly full is fine
    workbook_output.write_workbook(path, tables, gap, studies, [])
    assert openpyxl.load_workbook(path)["Studies"].max_row == needed


# -- (c) nothing in the data becomes a formula ------------------------------------------------
PAYLOADS = {
    "results": '=HYPERLINK("http://example.invalid","x")',
    "conditions": ("+1 cells", "-", "@SUM(A1)"),
}


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory, config: dict, build_studies: Callable
) -> tuple[pl.DataFrame, Path]:
    """The real records plus three whose text looks like spreadsheet formulas."""
    tmp = tmp_path_factory.mktemp("hostile")
    raw = copy_raw(tmp)
    common = "citation:\n  first_author: Evil\n  year: 2020\nin_vitro: true\n"
    add_record(
        raw,
        "bone_marrow",
        "evil-2020a",
        (
            "source: bone marrow\n"
            + common
            + f"condition: '+1 cells'\nresults: '{PAYLOADS['results']}'\n"
        ),
    )
    add_record(
        raw,
        "bone_marrow",
        "evil-2020b",
        (
            "source: bone marrow\n"
            + common
            + "condition: '-'\nin_vivo:\n- model: '-1 model'\n  species: Mouse\n"
            "results: \"+cmd|' /C calc'!A0\"\n"
        ),
    )
    add_record(
        raw,
        "bone_marrow",
        "evil-2020c",
        (
            "source: bone marrow\n"
            + common
            + "condition: '@SUM(A1)'\nclinical:\n  patients: 3\nresults: '-2+3'\n"
        ),
    )
    studies, problems = build_studies(raw)
    assert problems == []
    gap = pl.read_csv(io.StringIO(GAP_CSV))
    return studies, build_workbook(tmp / "hostile.xlsx", studies, config, gap)


def test_formula_like_text_is_stored_as_text(hostile: tuple[pl.DataFrame, Path]) -> None:
    _, path = hostile
    book = openpyxl.load_workbook(path)
    wanted = {
        PAYLOADS["results"],
        *PAYLOADS["conditions"],
        "+cmd|' /C calc'!A0",
        "-2+3",
        "-1 model (Mouse)",
    }
    for name in ("Table 1", "Studies"):
        found = {
            cell.value: cell.data_type
            for row in book[name].iter_rows()
            for cell in row
            if cell.value in wanted
        }
        assert set(found) == wanted
        assert set(found.values()) == {"s"}
    table1 = sheet_values(book["Table 1"])
    # papers added since the review: marked "yes" in the last column
    assert ["+1 cells", "+", "-", PAYLOADS["results"], "Evil et al, 2020", "yes"] in table1
    assert ["@SUM(A1)", "+", "Clinical patients (3)", "-2+3", "Evil et al, 2020", "yes"] in table1


def test_no_formula_element_in_any_sheet(hostile: tuple[pl.DataFrame, Path]) -> None:
    _, path = hostile
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 6
        for name in sheets:
            xml = archive.read(name)
            assert not re.search(rb"<f[\s>/]", xml), name
        # the payload is there as text (the shared-string table holds the sheets' texts)
        assert b"HYPERLINK" in archive.read("xl/sharedStrings.xml")
        assert "xl/vbaProject.bin" not in archive.namelist()


def test_formula_like_text_survives_csv_and_markdown(
    hostile: tuple[pl.DataFrame, Path], config: dict
) -> None:
    studies, _ = hostile
    table = settings.source_tables(config)[0]
    rows = review_tables.table_rows(studies, table)
    expected = [list(column_dictionary.TABLE_COLUMNS), *[list(r) for r in rows.rows()]]
    assert csv_rows(review_tables.table_csv(rows)) == expected
    assert parse_markdown(review_tables.table_markdown(rows, table))[1] == expected
    assert ["-", "+", "-1 model (Mouse)", "+cmd|' /C calc'!A0", "Evil et al, 2020"] in expected


# -- (d) byte-identical builds ------------------------------------------------------------------
class _LaterClockMeta(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, dt.datetime)


class _LaterClock(metaclass=_LaterClockMeta):
    """Stands in for ``datetime`` inside xlsxwriter: the clock reads 2031."""

    @staticmethod
    def now(tz: dt.tzinfo | None = None) -> dt.datetime:
        return dt.datetime(2031, 7, 8, 9, 10, 11, tzinfo=tz)


@contextmanager
def another_time_and_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A later clock for xlsxwriter and another local time zone, undone afterwards."""
    with monkeypatch.context() as patch:
        patch.setattr(xlsxwriter.core, "datetime", _LaterClock)
        patch.setenv("TZ", "EXO-14")
        time.tzset()
        try:
            yield
        finally:
            patch.undo()
    time.tzset()


def write_inputs(folder: Path, studies: pl.DataFrame) -> tuple[str, str, str]:
    folder.mkdir(parents=True)
    paths = (folder / "studies.parquet", folder / "gap.csv", folder / "validation.json")
    studies.write_parquet(paths[0])
    paths[1].write_text(GAP_CSV, encoding="utf-8")
    paths[2].write_text(json.dumps(LEDGER), encoding="utf-8")
    return str(paths[0]), str(paths[1]), str(paths[2])


def build_all(folder: Path, studies: pl.DataFrame, config: dict) -> dict[str, bytes]:
    """Every export of the rule wrappers, built in ``folder``; file name -> bytes."""
    studies_in, _, ledger_in = write_inputs(folder / "in", studies)
    out = folder / "out"
    out.mkdir()
    numbers = [t.table for t in settings.source_tables(config)]
    csv_out = [str(out / f"table{n}.csv") for n in numbers]
    md_out = [str(out / f"table{n}.md") for n in numbers]
    html_out = [str(out / f"table{n}.html") for n in numbers]
    adapters.write_tables(studies_in, config, csv_out, md_out, html_out)
    adapters.write_workbook_file(studies_in, ledger_in, config, str(out / "book.xlsx"))
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is Unix-only")
def test_builds_are_byte_identical_across_times_and_folders(
    tmp_path: Path, studies: pl.DataFrame, config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_all(tmp_path / "a", studies, config)
    with another_time_and_zone(monkeypatch):
        # The fake clock must reach xlsxwriter, or this test proves nothing.
        probe = tmp_path / "probe.xlsx"
        with xlsxwriter.Workbook(str(probe)) as book:
            book.add_worksheet()
        with zipfile.ZipFile(probe) as archive:
            assert b"2031-07-08" in archive.read("docProps/core.xml")
        second = build_all(tmp_path / "elsewhere" / "deeper", studies, config)
    assert sorted(first) == [
        "book.xlsx",
        *[f"table{n}.{e}" for n in (1, 2, 3) for e in ("csv", "html", "md")],
    ]
    for name, data in first.items():
        assert data == second[name], f"{name} differs between builds"
    with zipfile.ZipFile(io.BytesIO(first["book.xlsx"])) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 31, 0, 0, 0)}
        core = archive.read("docProps/core.xml")
        assert b"2000-01-01T00:00:00Z" in core
        assert os.environ.get("USER", "\0").encode() not in core


def test_outputs_are_matched_to_tables_by_number(
    tmp_path: Path, studies: pl.DataFrame, config: dict
) -> None:
    studies_in, _, _ = write_inputs(tmp_path / "in", studies)
    with pytest.raises(ValueError, match=r"tables \[1, 2\], the config has tables \[1, 2, 3\]"):
        adapters.write_tables(
            studies_in,
            config,
            [str(tmp_path / f"table{n}.csv") for n in (1, 2)],
            [str(tmp_path / f"table{n}.md") for n in (1, 2, 3)],
        )


def test_translation_gap_columns_keep_their_types_when_empty(
    tmp_path: Path, studies: pl.DataFrame, config: dict
) -> None:
    """A source with no studies has empty shares: they stay empty cells, the counts numbers."""
    studies_in, _, ledger_in = write_inputs(tmp_path / "in", studies)
    config = copy.deepcopy(config)
    config["sources"]["wetlands"] = {"table": 9, "title": "Exosomes from wetland MSC"}
    out = tmp_path / "book.xlsx"
    adapters.write_workbook_file(studies_in, ledger_in, config, str(out))
    sheet = openpyxl.load_workbook(out)["Translation gap"]
    rows = {row[0]: row for row in sheet_values(sheet)[1:]}
    assert rows["Wetlands"] == ["Wetlands", 0, 0, 0, 0, None, None, None, None, 0]
    assert sheet.cell(row=list(rows).index("Wetlands") + 2, column=2).data_type == "n"


# -- (e) a fourth source is Table 4 without code changes ---------------------------------------
def test_fourth_source_becomes_table_4(
    tmp_path: Path, config: dict, build_studies: Callable
) -> None:
    config4 = copy.deepcopy(config)
    config4["sources"]["placenta"] = {
        "table": 4,
        "label": "Placenta",
        "title": "Exosomes derived from placental mesenchymal stem cells",
        "footnote": [["PMSC-Ex", "Exosomes derived from placental mesenchymal stem cells"]],
    }
    settings.validate_against(config4, ROOT / "schemas" / "config.schema.yaml", "config")
    raw = copy_raw(tmp_path)
    add_record(
        raw,
        "placenta",
        "alvarez-2021",
        (
            "source: placenta\ncitation:\n  first_author: Alvarez\n  year: 2021\n  ref: 61\n"
            "condition: Preeclampsia\nin_vitro: true\nin_vivo:\n- model: Preeclampsia model\n"
            "  species: Rat\nresults: Lowers blood pressure\n"
        ),
    )
    add_record(
        raw,
        "placenta",
        "berg-2022",
        (
            "source: placental MSC\ncitation:\n  first_author: Berg\n  year: 2022\n"
            "condition: Premature ovarian failure\nin_vitro: false\nclinical:\n  patients: 2\n"
            "results: Restores ovarian function\n"
        ),
    )
    studies, problems = build_studies(raw, settings.source_tables(config4))
    assert problems == []
    built = tmp_path / "built"
    files = build_all(built, studies, config4)
    expected = [
        list(column_dictionary.TABLE_COLUMNS),
        [
            "Preeclampsia",
            "+",
            "Preeclampsia model (Rat)",
            "Lowers blood pressure",
            "Alvarez et al[61], 2021",
        ],
        [
            "Premature ovarian failure",
            "-",
            "Clinical patients (2)",
            "Restores ovarian function",
            "Berg et al, 2022",
        ],
    ]
    assert csv_rows(files["table4.csv"]) == expected
    title, cells, others = parse_markdown(files["table4.md"].decode("utf-8"))
    assert title == "Table 4 Exosomes derived from placental mesenchymal stem cells"
    assert cells == expected
    assert others[0] == "PMSC-Ex: Exosomes derived from placental mesenchymal stem cells."
    # Table 4 is not the review's: its caption says both rows were added since the review,
    # and that the table is one added to the review's three (review.tables)
    assert others[1:] == [
        f"*All rows are 2 papers added since the review "
        f"({review_tables.review_reference(config4['review'])}); the review has no Table 4: "
        "a table added to the review's three.*".replace("_", "\\_")
    ]
    assert csv_rows(files["table3.csv"]) == transcription(3)
    book = openpyxl.load_workbook(built / "out" / "book.xlsx")
    assert book.sheetnames == [
        "Table 1",
        "Table 2",
        "Table 3",
        "Table 4",
        "Translation gap",
        "Studies",
        "Risk of bias",
        "Vesicles and dosing",
        "About",
        "Provenance",  # hidden: where each cell came from (exosynth.outputs.returned)
    ]
    assert book["Provenance"].sheet_state == "hidden"
    assert [row[:5] for row in sheet_values(book["Table 4"])[1:4]] == expected
    assert [row[5] for row in sheet_values(book["Table 4"])[2:4]] == ["yes", "yes"]
    about = dict(sheet_values(book["About"]))
    assert about["Studies added since the review"] == "2 (Table 4: 2)"
    # what is true of a table the review does not have, in the footnote and on About
    note = sheet_values(book["Table 4"])[-1][0]
    assert "not in Table 4 of the review" not in note
    assert "the review has no Table 4: a table added to the review's three" in note
    assert "a table added to the review's three" in about["Table 4"]
    assert "not in the review's Table 4" not in about["Table 4"]
    assert "not in Table 1 of the review" in about["Table 1"]
    assert "Table 4, Translation gap" in dict(sheet_values(book["About"]))["Sheets"]


# -- (f) LibreOffice opens the workbook --------------------------------------------------------
def test_libreoffice_converts_the_workbook(workbook_path: Path, tmp_path: Path) -> None:
    office = office_tool(("soffice", "libreoffice"), "libreoffice-calc-nogui")
    profile = (tmp_path / "profile").as_uri()
    done = subprocess.run(
        [
            office,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "csv",
            "--outdir",
            str(tmp_path),
            str(workbook_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    converted = tmp_path / "exosynth.csv"
    assert done.returncode == 0, done.stdout + done.stderr
    assert converted.exists(), done.stdout + done.stderr
    first_sheet = converted.read_text(encoding="utf-8", errors="replace")
    assert "Damania et al[23], 2018" in first_sheet


def test_translation_gap_sheet_shows_the_evidence_gap_map(
    tmp_path: Path, studies: pl.DataFrame, config: dict
) -> None:
    built = build_all(tmp_path, studies, config)
    with zipfile.ZipFile(io.BytesIO(built["book.xlsx"])) as archive:
        names = archive.namelist()
        media = [n for n in names if n.startswith("xl/media/")]
        assert len(media) == 1
        assert archive.read(media[0]).startswith(b"\x89PNG")
        book = openpyxl.load_workbook(io.BytesIO(built["book.xlsx"]))
        sheet_number = book.sheetnames.index("Translation gap") + 1
        rels = archive.read(f"xl/worksheets/_rels/sheet{sheet_number}.xml.rels").decode()
        assert "drawing" in rels
        png = archive.read(media[0])
    # a real picture of some size (PNG header: width and height, big-endian, at bytes 16-24)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 300
    assert height > 200


# -- widths and heights: the computation, pinned to exact numbers -----------------------
def test_column_widths_are_the_widest_value_plus_two_within_6_and_50() -> None:
    cells = pl.DataFrame(
        {
            "a": ["x", "xy"],  # short: the minimum, 6
            "b": ["x" * 10, None],  # ten narrow letters measure 9 digits: 9 + 2
            "c": ["x" * 70, "y"],  # capped at 50
            "a long header with words": [1, 2],  # bold header: ceil(1.1 * 18) + 2
            "Supercalifragilisticexpialidocious": [None, None],  # ceil(1.1 * 34) + 2
        }
    )
    assert sheet_layout.column_widths(cells) == [6, 11, 50, 22, 40]
    assert sheet_layout.column_widths(pl.DataFrame()) == []


def test_row_heights_count_wrapped_lines_of_capped_text() -> None:
    cells = pl.DataFrame({"short": ["x", "x", "two\nlines"], "long": ["y" * 48, "y" * 96, "y"]})
    widths = sheet_layout.column_widths(cells)
    assert widths == [10, 50]
    # 48 letters fit the capped column on one line, 96 take two, a newline adds one
    assert sheet_layout.row_lines(cells, widths) == [1, 2, 2]
    assert sheet_layout.row_lines(pl.DataFrame({"n": [1, 2]}), [6]) == [1, 1]
    # a web address after words starts a line of its own: "cited in https://..." takes three
    cited = "cited in https://pmc.ncbi.nlm.nih.gov/articles/PMC9021384/table/T4 ref 170, 2017"
    assert sheet_layout.row_lines(pl.DataFrame({"ref": [cited]}), [50]) == [3]


def test_row_height_is_15_points_a_line_capped_at_40_lines() -> None:
    class Sheet:
        def __init__(self) -> None:
            self.rows: dict[int, float] = {}

        def set_row(self, row: int, height: float) -> None:
            self.rows[row] = height

    sheet = Sheet()
    for row, lines in enumerate([1, 2, 3, 41]):
        sheet_layout.set_height(sheet, row, lines)  # type: ignore[arg-type]
    assert sheet.rows == {1: 30, 2: 45, 3: 600}


# -- formula protection of every cell config text reaches -------------------------------
def test_config_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    table = settings.SourceTable("bone_marrow", 1, "=1+1", "=1+1", (("=2+2", "@SUM(A1)"),))
    rows = pl.DataFrame({"Study": ['=HYPERLINK("http://x")']})
    about = [("Review", "=1+1"), ("How to cite", "+1-2"), ("Data cut-off", "-3")]
    path = tmp_path / "book.xlsx"
    workbook_output.write_workbook(path, [(table, rows)], pl.DataFrame({"x": [1]}), rows, about)
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert "<f>" not in archive.read(name).decode()  # no formula anywhere
    book = openpyxl.load_workbook(path)
    title = book["Table 1"]["A1"]
    assert (title.value, title.data_type) == ("Table 1 =1+1", "s")
    footnote = [
        c for row in book["Table 1"].iter_rows() for c in row if c.value and "=2+2" in c.value
    ]
    assert [(c.value, c.data_type) for c in footnote] == [("=2+2: @SUM(A1).", "s")]
    values = {r[0].value: r[1] for r in book["About"].iter_rows()}
    assert {k: (c.value, c.data_type) for k, c in values.items()} == {
        "Review": ("=1+1", "s"),
        "How to cite": ("+1-2", "s"),
        "Data cut-off": ("-3", "s"),
    }


def test_office_tests_fail_rather_than_skip_where_ci_requires_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("EXOSYNTH_REQUIRE_OFFICE", "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        office_tool(("soffice",), "libreoffice-calc-nogui")
    monkeypatch.delenv("EXOSYNTH_REQUIRE_OFFICE")
    with pytest.raises(pytest.skip.Exception, match="no apt-get"):
        office_tool(("soffice",), "libreoffice-calc-nogui")


# -- (g) what a reviewer meets: rows one line high where they fit, the review cited ---------
def _dejavu_width() -> Callable[[str], float]:
    """Text width in digit widths by DejaVu Sans's own metrics (LibreOffice's stand-in font
    here), independent of the exporter's estimate."""
    font = FT2Font(font_manager.findfont("DejaVu Sans"))
    zero = font.load_char(ord("0")).horiAdvance
    return lambda text: sum(font.load_char(ord(c)).horiAdvance for c in text) / zero


@pytest.mark.parametrize("number", REVIEW_TABLES)
def test_rows_that_fit_on_one_line_are_one_line_high(
    number: int, workbook: openpyxl.Workbook
) -> None:
    width_of = _dejavu_width()
    sheet = workbook[f"Table {number}"]
    columns = "ABCDEF"
    widths = [sheet.column_dimensions[c].width for c in columns]
    one_line = several = 0
    for row in range(3, 3 + len(transcription(number)) - 1):
        texts = [sheet[f"{c}{row}"].value or "" for c in columns]
        fits = all(width_of(t) <= w - 1 for t, w in zip(texts, widths, strict=True))
        height = sheet.row_dimensions[row].height
        if fits:
            one_line += 1
            assert height is None, (row, texts)  # the default: one line
        else:
            several += 1
            assert height is not None, (row, texts)
            assert height >= 2 * sheet_layout.LINE_HEIGHT, (row, texts)
    assert one_line, "no row of one line: the test pins nothing"
    if number == 1:
        assert several, "Table 1 has results longer than their column"


def test_tables_cite_the_review_and_say_which_rows_were_added(
    tmp_path: Path, config: dict, build_studies: Callable
) -> None:
    assert config["review"]["doi"] == "10.4252/wjsc.v12.i2.100"
    raw = copy_raw(tmp_path)
    add_record(
        raw,
        "bone_marrow",
        "nguyen-2021",
        (
            "source: bone marrow\ncitation:\n  first_author: Nguyen\n  year: 2021\n"
            "condition: Sepsis\nin_vitro: false\nin_vivo:\n- model: Sepsis model\n"
            "  species: Mouse\nresults: Improves survival\n"
        ),
    )
    studies, problems = build_studies(raw)
    assert problems == []
    files = build_all(tmp_path / "built", studies, config)
    reference = review_tables.review_reference(config["review"]).rstrip(".")
    header, *review_rows = transcription(1)
    _, cells, others = parse_markdown(files["table1.md"].decode("utf-8"))
    # the review's cells unchanged, the added paper after them
    assert cells[: 1 + len(review_rows)] == [header, *review_rows]
    assert cells[-1][-1] == "Nguyen et al, 2021"
    assert others[-1] == (
        f"*Rows 1-{len(review_rows)}: Table 1 of {reference}. Row {len(review_rows) + 1}: "
        "1 paper added since the review.*"
    )
    _, _, others2 = parse_markdown(files["table2.md"].decode("utf-8"))
    assert others2[-1] == f"*Source: Table 2 of {reference}.*"
    assert "doi:10.4252/wjsc.v12.i2.100" in files["table1.html"].decode("utf-8")
    book = openpyxl.load_workbook(tmp_path / "built" / "out" / "book.xlsx")
    marks = [row[-1] for row in sheet_values(book["Table 1"])[2 : 3 + len(review_rows)]]
    assert marks == ["no"] * len(review_rows) + ["yes"]
    about = dict(sheet_values(book["About"]))
    assert about["Studies added since the review"] == "1 (Table 1: 1)"
    assert "doi:10.4252/wjsc.v12.i2.100" in about["Review"]


def test_about_sheet_has_a_data_dictionary_of_every_csv_column(
    workbook: openpyxl.Workbook, studies: pl.DataFrame
) -> None:
    """Every column of studies.csv and translation_gap.csv, with the heading the sheets use."""
    rows = sheet_values(workbook["About"])
    keys = [r[0] for r in rows]
    for name, frame_columns in (
        ("studies.csv", studies.columns),
        ("translation_gap.csv", GAP_COLUMNS.split(",")),
    ):
        start = keys.index(f"Columns of results/{name}")
        block = rows[start + 1 : start + 1 + len(frame_columns)]
        assert [r[0] for r in block] == list(frame_columns)
        for column, text in block:
            assert text.startswith(column_dictionary.COLUMNS[name][column].label + " \u2014 ")
