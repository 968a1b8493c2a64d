"""The raw corpus on disk: which files there are and which shard each belongs to.

Kept free of heavy imports: the Snakefile uses it while building the DAG, and a
no-op run should cost little more than Snakemake's own start-up.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Iterable
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


def shard_files(paths: Iterable[str], shard: int, shards: int) -> list[str]:
    """The files of one shard, in path order."""
    return [p for p in paths if shard_of(p, shards) == shard]


def fingerprint(paths: Iterable[str]) -> str:
    """A digest of the files' paths, sizes and modification times.

    Snakemake sees a shard's raw files through this one value (a rule parameter)
    rather than as one input each: with 100,000 inputs its DAG and metadata work
    alone took longer than parsing them. Adding, removing, editing or touching a
    file changes the digest, so exactly that shard is parsed again.
    """
    digest = hashlib.sha256()
    for path in paths:
        stat = Path(path).stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
