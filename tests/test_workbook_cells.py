"""The workbook's cells as a reader sees them: every value and look of the Studies sheet as the
study table says, every sheet there, shared strings holding what inline strings held, and
the same bytes from the same inputs.

The workbook keeps its text in the shared-string table (``WORKBOOK_OPTIONS``), which is
faster at scale than constant-memory inline strings; tools/compare_workbooks.py is the check
that a reader sees no difference, and these tests hold it and the writer to that.
"""

from __future__ import annotations

import importlib.util
import math
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from exosynth import settings
from exosynth.outputs import workbook as workbook_output
from exosynth.outputs.columns import COLUMNS, NOT_REPORTED, STUDIES_SHEET, in_words
from exosynth.outputs.returned import PROVENANCE_SHEET, provenance_rows
from exosynth.outputs.sheet_layout import sheet_cells
from exosynth.outputs.words import Words
from exosynth.studies.normalize import BLOCK_COLUMNS
from exosynth.synthesis.gap import translation_gap

REPO = Path(__file__).resolve().parents[1]
LEDGER = {"files_read": 27, "included": 26, "rejected": 1, "raw_checksum": "ab" * 32}
EXTRA = "Extra sheet"  # a sheet of the extra_sheets kind (Changes, PRISMA flow, quality)


def _compare_tool():
    spec = importlib.util.spec_from_file_location(
        "compare_workbooks", REPO / "tools" / "compare_workbooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare_workbooks = _compare_tool()


@pytest.fixture(scope="module")
def studies(review_studies: pl.DataFrame) -> pl.DataFrame:
    """The 26 real studies, with the cells a writer could lose: a not-reported flag (NR), an
    empty text (an empty cell of its own, not a blank), a text that looks like a formula,
    and a missing number."""
    frame = review_studies.drop(BLOCK_COLUMNS).with_row_index("n")
    return frame.with_columns(
        pl.when(pl.col("n") == 1).then(None).otherwise(pl.col("in_vitro")).alias("in_vitro"),
        pl.when(pl.col("n") == 2).then(pl.lit("")).otherwise(pl.col("strain")).alias("strain"),
        pl.when(pl.col("n") == 3)
        .then(pl.lit("=SUM(A1:A2)"))
        .otherwise(pl.col("results"))
        .alias("results"),
        pl.when(pl.col("n") == 4).then(None).otherwise(pl.col("year")).alias("year"),
    ).drop("n")


def write(path: Path, studies: pl.DataFrame, config: dict) -> Path:
    """Every kind of sheet: tables (title, notes), the gap, Studies, an extra sheet, About and
    the hidden Provenance sheet."""
    tables = settings.source_tables(config)
    extra = pl.DataFrame({"Kind": ["study", "trial", ""], "Count": [3, None, 0]})
    workbook_output.write_workbook(
        path,
        [(t, workbook_output.table_sheet_rows(studies, t)) for t in tables],
        translation_gap(studies, tables),
        studies,
        workbook_output.about_rows(
            config, LEDGER, "9.9.9-test", added=workbook_output.added_by_table(studies, tables)
        ),
        extra_sheets=[(EXTRA, extra)],
        provenance=provenance_rows(studies, {}),
    )
    return path


@pytest.fixture(scope="module")
def book_path(tmp_path_factory: pytest.TempPathFactory, studies, config) -> Path:
    return write(tmp_path_factory.mktemp("cells") / "exosynth.xlsx", studies, config)


def _same(shown: object, expected: object) -> bool:
    if isinstance(expected, float):
        return isinstance(shown, int | float) and math.isclose(shown, expected)
    return shown == expected and type(shown) is type(expected)


def test_every_studies_cell_holds_its_value_and_look(book_path: Path, studies, config) -> None:
    """Value, type, number format, wrap, alignment and font of each cell, from the study
    table: text wraps at the top, whole numbers are centred, nulls are empty cells, NR
    and an empty text are written, nothing becomes a formula."""
    words = Words.of(
        {"sources": {t.key: {"label": t.label} for t in settings.source_tables(config)}}
    )
    listed, formats = in_words(studies, COLUMNS["studies.csv"], words)
    cells = sheet_cells(listed)
    sheet = openpyxl.load_workbook(book_path)[STUDIES_SHEET]
    header = next(sheet.iter_rows(min_row=1, max_row=1))
    assert [c.value for c in header] == cells.columns
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("DCE6F1") for c in header)
    assert (sheet.max_row, sheet.max_column) == (1 + cells.height, cells.width)
    looks = {}
    for row, values in enumerate(cells.iter_rows(), start=2):
        for col, (value, (name, dtype), number_format) in enumerate(
            zip(values, cells.schema.items(), formats, strict=True), start=1
        ):
            cell = sheet.cell(row, col)
            where = f"{name} of row {row}"
            if value is None:
                assert (cell.value, cell.has_style) == (None, False), where
                continue
            assert _same(cell.value, value), f"{where}: {cell.value!r}, not {value!r}"
            assert cell.data_type == ("s" if dtype == pl.String else "n"), where
            looks[name] = (
                cell.number_format,
                cell.alignment.wrap_text,
                cell.alignment.horizontal,
                cell.alignment.vertical,
                cell.font.b,
            )
            text = dtype == pl.String
            assert looks[name] == (
                number_format or "General",
                True if text else None,
                "center" if dtype.is_integer() and not number_format else None,
                "top",
                False,
            ), where
    shown = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    assert shown.count(NOT_REPORTED) == sum(
        cells[c].eq(NOT_REPORTED).sum() for c, d in cells.schema.items() if d == pl.String
    )
    assert {NOT_REPORTED, "", "=SUM(A1:A2)"} <= set(shown)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_every_sheet_is_written(book_path: Path, config) -> None:
    book = openpyxl.load_workbook(book_path)
    tables = settings.source_tables(config)
    expected = workbook_output.sheet_names(tables)
    assert book.sheetnames == [*expected[:-1], EXTRA, expected[-1], PROVENANCE_SHEET]
    assert book[PROVENANCE_SHEET].sheet_state == "hidden"
    extra = [[c.value for c in row] for row in book[EXTRA].iter_rows()]
    assert extra == [["Kind", "Count"], ["study", 3], ["trial", None], ["", 0]]


def test_shared_strings_hold_the_cells_inline_strings_held(
    book_path: Path, studies, config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workbook as a large one is written (constant memory, inline strings, as every
    workbook was before) and as a small one is: the same sheets, values and looks in every
    cell; the small one keeps its text in the shared-string table."""
    with zipfile.ZipFile(book_path) as book:
        assert "xl/sharedStrings.xml" in book.namelist()
        assert b"inlineStr" not in book.read("xl/worksheets/sheet1.xml")
    monkeypatch.setattr(workbook_output, "SHARED_STRINGS_MAX_CELLS", 26 * 23)  # fewer cells
    large = write(tmp_path / "inline.xlsx", studies, config)
    with zipfile.ZipFile(large) as book:
        assert "xl/sharedStrings.xml" not in book.namelist()
    assert list(compare_workbooks.differences(large, book_path)) == []


def test_the_same_inputs_give_the_same_bytes(book_path: Path, studies, config, tmp_path) -> None:
    assert write(tmp_path / "again.xlsx", studies, config).read_bytes() == book_path.read_bytes()


def test_the_comparison_sees_a_changed_cell_a_lost_look_and_a_lost_sheet(
    book_path: Path, tmp_path: Path
) -> None:
    """tools/compare_workbooks.py is what says two workbooks hold the same cells: it must see
    one value changed, one cell's format lost and a sheet missing."""
    book = openpyxl.load_workbook(book_path)
    book[STUDIES_SHEET]["D3"].value = "changed"
    book[STUDIES_SHEET]["B4"].alignment = openpyxl.styles.Alignment(vertical="top")
    del book[EXTRA]
    book.save(tmp_path / "edited.xlsx")
    found = list(compare_workbooks.differences(book_path, tmp_path / "edited.xlsx"))
    assert any(line.startswith("sheets:") and EXTRA in line for line in found)
    assert any(line.startswith(f"{STUDIES_SHEET}!D3:") and "changed" in line for line in found)
    assert any(line.startswith(f"{STUDIES_SHEET}!B4:") for line in found)
    assert list(compare_workbooks.differences(book_path, book_path)) == []
