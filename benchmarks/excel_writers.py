"""Side by side: xlsxwriter (the workbook's writer) against other maintained .xlsx writers.

Writes the shape of the workbook's largest sheet, Studies (N rows of 18 short text cells, a
header row), with each writer that is installed, twice into separate files, and prints the
seconds, cells per second, the file size and whether the two files are byte-identical (a
deliverable must be: same inputs, same bytes). Writers that are not installed are skipped
with a line that says so; nothing here is a dependency of exosynth.

    .venv/bin/python benchmarks/excel_writers.py --rows 100000
    pip install --target /tmp/xw pyexcelerate rustpy-xlsxwriter
    PYTHONPATH=/tmp/xw .venv/bin/python benchmarks/excel_writers.py --rows 100000
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

COLUMNS = 18
Rows = list[list[str]]


def sample_rows(n: int) -> tuple[list[str], Rows]:
    header = [f"column_{c}" for c in range(COLUMNS)]
    rows = [[f"value {r % 997} of {c}" for c in range(COLUMNS)] for r in range(n)]
    return header, rows


def with_xlsxwriter(path: Path, header: list[str], rows: Rows) -> None:
    import xlsxwriter  # noqa: PLC0415

    from exosynth.outputs.workbook import WORKBOOK_CREATED, WORKBOOK_OPTIONS  # noqa: PLC0415

    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)  # as exosynth writes the workbook
    book.set_properties({"created": WORKBOOK_CREATED})  # a fixed date: no clock in the file
    sheet = book.add_worksheet("Studies")
    sheet.write_row(0, 0, header)
    for index, row in enumerate(rows, 1):
        sheet.write_row(index, 0, row)
    book.close()


def with_pyexcelerate(path: Path, header: list[str], rows: Rows) -> None:
    from pyexcelerate import Workbook  # noqa: PLC0415

    book = Workbook()  # its API sets no document date: the file carries the clock
    book.new_sheet("Studies", data=[header, *rows])
    book.save(str(path))


def with_rustpy_xlsxwriter(path: Path, header: list[str], rows: Rows) -> None:
    from rustpy_xlsxwriter import FastExcel  # noqa: PLC0415

    # Its API takes records and sets no document date: the file carries the clock.
    records = [dict(zip(header, row, strict=True)) for row in rows]
    FastExcel(str(path)).sheet("Studies", records).save()


WRITERS: dict[str, tuple[str, Callable[[Path, list[str], Rows], None]]] = {
    "xlsxwriter": ("xlsxwriter", with_xlsxwriter),
    "pyexcelerate": ("pyexcelerate", with_pyexcelerate),
    "rustpy-xlsxwriter": ("rustpy_xlsxwriter", with_rustpy_xlsxwriter),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    header, rows = sample_rows(args.rows)
    cells = (args.rows + 1) * COLUMNS
    print(f"{args.rows:,} rows x {COLUMNS} text cells ({cells:,} cells), each writer twice")
    with tempfile.TemporaryDirectory() as folder:
        for name, (module, write) in WRITERS.items():
            if importlib.util.find_spec(module) is None:
                print(f"  {name:<18} not installed (pip install {name})")
                continue
            seconds, digests, size = [], [], 0
            for attempt in (1, 2):
                path = Path(folder) / f"{name}-{attempt}.xlsx"
                start = time.perf_counter()
                write(path, header, rows)
                seconds.append(time.perf_counter() - start)
                digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
                size = path.stat().st_size
            best = min(seconds)
            same = "byte-identical" if digests[0] == digests[1] else "DIFFERENT bytes"
            print(
                f"  {name:<18} {best:6.2f} s  {cells / best:>10,.0f} cells/s  "
                f"{size / 1e6:5.1f} MB  two runs: {same}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
