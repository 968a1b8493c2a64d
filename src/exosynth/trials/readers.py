"""One reader per registry layout: moved to csv_export.py, split in the next commit."""

from exosynth.trials.csv_export import Export, LayoutError, read_export, read_export_file

__all__ = ["Export", "LayoutError", "read_export", "read_export_file"]
