"""How every sheet of the workbook prints: paper, orientation, fitted to the page width, the
header row repeated on every page, the sheet's name and page numbers in the margins.

The workbook calls :func:`print_setup` once per sheet after writing them all, so a sheet
added to the workbook prints the same way without a line of its own; what it knows of a
sheet (its width, its header row) is what :class:`PrintPlan` recorded while the sheet's
table was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xlsxwriter.worksheet import Worksheet

A4, A3 = 9, 8  # xlsxwriter's paper codes
# Column widths (in digits of the default font) that fit an A4 page upright at 100% within
# the margins below; a wider sheet prints across the page (landscape), and any sheet is
# scaled down to the page width rather than cut into pages side by side.
PORTRAIT_WIDTH = 95
# Wider than this (in digits), a sheet fitted to an A4 page across would print below about
# two thirds of its size: it prints on A3 across, at about the size A4 gives the narrower.
A3_WIDTH = 240
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}  # inches
HEADER = '&L&"-,Bold"&A'  # the sheet's name, top left
FOOTER = "&LBuilt by exosynth&RPage &P of &N"


@dataclass
class PrintPlan:
    """Per sheet: its width in digits and the row of its table header (repeated on every
    printed page), recorded by the first table written on the sheet."""

    widths: dict[str, float] = field(default_factory=dict)
    header_rows: dict[str, int] = field(default_factory=dict)
    # Sheets with a picture: printed gridlines would run through it.
    pictures: set[str] = field(default_factory=set)

    def record(self, sheet: Worksheet, width: float, header_row: int | None) -> None:
        self.widths[sheet.name] = max(width, self.widths.get(sheet.name, 0.0))
        if header_row is not None:
            self.header_rows.setdefault(sheet.name, header_row)


def print_setup(sheet: Worksheet, plan: PrintPlan) -> None:
    """The sheet as a reviewer prints it: A4 (A3 for the widest), upright or across as its
    width needs, one page wide (as many long as it takes), the header row on every page,
    gridlines printed (not through a picture)."""
    width = plan.widths.get(sheet.name)
    sheet.set_paper(A3 if width is not None and width > A3_WIDTH else A4)
    if width is None or width > PORTRAIT_WIDTH:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(**MARGINS)
    sheet.set_header(HEADER)
    sheet.set_footer(FOOTER)
    if sheet.name not in plan.pictures:
        sheet.hide_gridlines(0)  # 0: printed as on screen, so a long row can be followed
    row = plan.header_rows.get(sheet.name)
    if row is not None:
        sheet.repeat_rows(row)
