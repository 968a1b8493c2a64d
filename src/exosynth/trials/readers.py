"""A registry export's layout told by its content, and the export handed to its reader.

The classic and the modern CSV are read by csv_export.py, the JSON download and an API page
by json_export.py; what they share (:class:`Export`, :class:`LayoutError`) is layouts.py's.
"""

from __future__ import annotations

from exosynth.trials.csv_export import read_csv
from exosynth.trials.json_export import read_json
from exosynth.trials.layouts import Export, LayoutError
from exosynth.trials.shape import RegistryRecord

__all__ = ["Export", "LayoutError", "read_export", "read_export_file"]


def read_export_file(path: str, data: bytes) -> Export:
    """One export as read (:class:`Export`); :class:`LayoutError` when it cannot be read.

    The format is told by content: JSON starts with ``[`` or ``{``; a CSV by its header, its
    delimiter a comma, tab or semicolon. A UTF-8 BOM, CRLF line ends, newlines inside quoted
    cells and cells of any length are handled; a row cut short, with shifted cells or with a
    column twice with two values carries its defects.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LayoutError(
            f"not UTF-8 text (byte {error.start}, line {line}): export it again as UTF-8",
            line=line,
        ) from None
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        return read_json(path, text)
    return read_csv(path, text)


def read_export(path: str, data: bytes) -> tuple[str, list[RegistryRecord]]:
    """The format of one export and its records; :class:`LayoutError` when it is unreadable
    (:func:`read_export_file` also gives the problems of the file as a whole)."""
    export = read_export_file(path, data)
    return export.fmt, export.records
