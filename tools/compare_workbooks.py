"""Two workbooks hold the same cells: every sheet, every cell's value and look, compared.

A change to how the workbook is written (shared strings instead of inline ones, rows
written another way) may change the file's bytes; a reader must not see a difference.
This reads both files with openpyxl and compares, sheet by sheet and in order: the sheet
names and whether each is hidden; the column widths, folds and row heights; merged cells,
frozen panes, the autofilter and the print setup; and for every cell its value, its type,
number format, fill, font, borders, alignment (wrap, horizontal, vertical) and protection.

    python tools/compare_workbooks.py before.xlsx after.xlsx   # exit 0: the same cells

Tests import :func:`differences` (tests/test_workbook_cells.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl


def _style(cell: Any) -> tuple:
    """What a reader sees of a cell besides its value."""
    font, fill, alignment, border = cell.font, cell.fill, cell.alignment, cell.border
    return (
        cell.number_format,
        (font.b, font.i, font.u, font.sz, font.name, font.color and font.color.rgb),
        (fill.fill_type, fill.fgColor and fill.fgColor.rgb, fill.bgColor and fill.bgColor.rgb),
        tuple(getattr(border, side).style for side in ("left", "right", "top", "bottom")),
        (alignment.horizontal, alignment.vertical, alignment.wrap_text, alignment.indent),
        (cell.protection.locked, cell.protection.hidden),
    )


def _layout(sheet: Any) -> tuple:
    """The sheet's frame: columns, rows, merges, panes, filter, printing."""
    columns = tuple(
        (key, d.width, d.hidden, d.outlineLevel)
        for key, d in sorted(sheet.column_dimensions.items())
        if d.customWidth or d.hidden or d.outlineLevel
    )
    rows = tuple(
        (key, d.height) for key, d in sorted(sheet.row_dimensions.items()) if d.height is not None
    )
    setup = sheet.page_setup
    return (
        sheet.sheet_state,
        columns,
        rows,
        tuple(sorted(str(r) for r in sheet.merged_cells.ranges)),
        sheet.freeze_panes,
        sheet.auto_filter.ref,
        (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight),
        (sheet.print_title_rows, sheet.oddHeader.left.text, sheet.oddFooter.right.text),
        len(sheet._images),  # openpyxl lists pictures only here
    )


def sheet_cells(path: str | Path) -> dict[str, tuple[tuple, dict[str, tuple]]]:
    """Per sheet (in order): its layout and {coordinate: (value, type, style)} of every cell
    that holds a value or a style of its own."""
    book = openpyxl.load_workbook(path)
    sheets = {}
    for sheet in book.worksheets:
        cells = {
            cell.coordinate: (cell.value, cell.data_type, _style(cell))
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None or cell.has_style
        }
        sheets[sheet.title] = (_layout(sheet), cells)
    return sheets


def differences(before: str | Path, after: str | Path, limit: int = 20) -> Iterator[str]:
    """Each difference a reader would see, in words; none when the two hold the same cells."""
    return compare(sheet_cells(before), sheet_cells(after), limit)


def compare(old: dict, new: dict, limit: int = 20) -> Iterator[str]:
    """:func:`differences` of two :func:`sheet_cells`."""
    if list(old) != list(new):
        yield f"sheets: {list(old)} -> {list(new)}"
    shown = 0
    for name in (n for n in old if n in new):
        (old_layout, old_cells), (new_layout, new_cells) = old[name], new[name]
        if old_layout != new_layout:
            yield f"{name}: layout {old_layout} -> {new_layout}"
        for coordinate in sorted(old_cells.keys() | new_cells.keys()):
            if old_cells.get(coordinate) != new_cells.get(coordinate):
                shown += 1
                if shown > limit:
                    yield "... (more)"
                    return
                yield (
                    f"{name}!{coordinate}: {old_cells.get(coordinate)} -> "
                    f"{new_cells.get(coordinate)}"
                )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-3].strip(), file=sys.stderr)
        return 2
    old, new = sheet_cells(argv[0]), sheet_cells(argv[1])
    found = list(compare(old, new))
    for line in found:
        print(line)
    cells = sum(len(c) for _, c in new.values())
    print("different" if found else f"the same cells: {len(new)} sheets, {cells:,} cells")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
