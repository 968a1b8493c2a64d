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
# raw/trials/ holds registry exports and decisions.yaml (exosynth.trials), not study records.
TRIALS_FOLDER = "trials"
# raw/inbox/ holds the drafts `exosynth import` writes (exosynth.literature): counted by the
# ledger and the PRISMA flow, never tabulated, so never scanned as study records.
INBOX_FOLDER = "inbox"
TRIAL_DECISIONS = "decisions.yaml"
# Each raw file's row as the last build parsed it (exosynth.ingest.ingest_cached), one file per
# shard: rule ingest keeps it, ``exosynth check`` reads it. Not a deliverable; removing it only
# costs the time of a full parse.
PARSE_CACHE = "results/interim/cache/ingest"


def scan_raw_files(raw_dir: str | Path) -> list[tuple[str, int, int]]:
    """Every ``*.yaml``/``*.yml`` below ``raw_dir`` with its size and modification time (ns).

    Sorted POSIX paths; hidden files and folders are skipped, and so are ``raw_dir/trials/``
    (registry exports and the decisions about them, read by rule trials) and ``raw_dir/inbox/``
    (draft records, read by rule workbook for the PRISMA flow). One ``os.scandir`` pass:
    at 100,000 files, pathlib objects per file cost more than the listing itself.
    """
    found: list[tuple[str, int, int]] = []
    root = Path(raw_dir).as_posix()
    pending = [root]
    skipped = {f"{root}/{TRIALS_FOLDER}", f"{root}/{INBOX_FOLDER}"}
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    if entry.path not in skipped:
                        pending.append(entry.path)
                elif entry.name.endswith(RAW_SUFFIXES) and entry.is_file():
                    stat = entry.stat()
                    found.append((entry.path, stat.st_size, stat.st_mtime_ns))
    return sorted(found)


def discover_raw_files(raw_dir: str | Path) -> list[str]:
    """Every ``*.yaml``/``*.yml`` below ``raw_dir``, as sorted POSIX paths; hidden files skipped."""
    return [path for path, _, _ in scan_raw_files(raw_dir)]


def shard_of(path: str, shards: int) -> int:
    """A stable shard for a file: the same path always lands in the same shard."""
    return zlib.crc32(path.encode("utf-8")) % shards


def fingerprint(files: Iterable[tuple[str, int, int]]) -> str:
    """A digest of the files' paths, sizes and modification times (from :func:`scan_raw_files`).

    Snakemake sees a shard's raw files through this one value (a rule parameter)
    rather than as one input each: with 100,000 inputs its DAG and metadata work
    alone took longer than parsing them. Adding, removing, editing or touching a
    file changes the digest, so exactly that shard is parsed again.
    """
    digest = hashlib.sha256()
    for path, size, mtime_ns in files:
        digest.update(f"{path}\0{size}\0{mtime_ns}\n".encode())
    return digest.hexdigest()


def trial_export_files(raw_dir: str | Path) -> list[str]:
    """The registry exports in ``raw_dir/trials/``: every file but decisions.yaml and READMEs.

    Not picked by suffix: an export's format is told by its content (exosynth.trials), and a
    file that is none of the known layouts becomes a problem naming it, not a file skipped.
    """
    root = Path(raw_dir) / TRIALS_FOLDER
    if not root.is_dir():
        return []
    return sorted(
        p.as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.name != TRIAL_DECISIONS
        and not p.name.casefold().startswith("readme")
    )


def inbox_files(raw_dir: str | Path) -> list[tuple[str, int, int]]:
    """The drafts and import logs below ``raw_dir/inbox/`` with size and modification time, for
    :func:`fingerprint` (rule workbook sees the inbox through that one value)."""
    root = Path(raw_dir) / INBOX_FOLDER
    if not root.is_dir():
        return []
    return sorted(
        (p.as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def draft_count(raw_dir: str | Path) -> int:
    """The draft records of ``raw_dir/inbox/`` (its YAML files but the import logs)."""
    return sum(
        1
        for path, _, _ in inbox_files(raw_dir)
        if path.endswith(RAW_SUFFIXES) and "/imports/" not in path
    )
