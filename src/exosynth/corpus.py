"""The raw corpus on disk: which files there are and which shard each belongs to.

Kept free of heavy imports: the Snakefile uses it while building the DAG, and a
no-op run should cost little more than Snakemake's own start-up.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

RAW_SUFFIXES = (".yaml", ".yml")


def discover_raw_files(raw_dir: str | Path) -> list[str]:
    """Every ``*.yaml``/``*.yml`` below ``raw_dir``, as sorted POSIX paths; hidden files skipped."""
    found: list[str] = []
    for folder, dirs, files in os.walk(raw_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(
            Path(folder, name).as_posix()
            for name in files
            if name.endswith(RAW_SUFFIXES) and not name.startswith(".")
        )
    return sorted(found)


def shard_of(path: str, shards: int) -> int:
    """A stable shard for a file: the same path always lands in the same shard."""
    return zlib.crc32(path.encode("utf-8")) % shards
