"""Ingest many files, parsing again only those whose bytes changed (the parse cache)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from exosynth.problems import Problem
from exosynth.studies.loading import read_raw
from exosynth.studies.records import RECORD_SCHEMA, parse_study, to_row
from exosynth.studies.schema_messages import StudyValidator


def _parse_files(
    files: Iterable[tuple[str, bytes]], validator: StudyValidator
) -> Iterator[tuple[dict[str, Any], list[Problem]]]:
    """Each file's row of :data:`RECORD_SCHEMA` and its problems."""
    for path, data in files:
        parsed = parse_study(path, data, validator)
        row = to_row(path, hashlib.sha256(data).hexdigest(), parsed.document, parsed.invalid)
        row["accepted"] = parsed.accepted
        yield row, parsed.problems


def ingest(
    files: Iterable[tuple[str, bytes]], validator: StudyValidator
) -> tuple[pl.DataFrame, list[Problem]]:
    """A row for every file (accepted or not, with every field that parsed) and the problems."""
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for row, found in _parse_files(files, validator):
        rows.append(row)
        problems.extend(found)
    frame = pl.DataFrame(rows, schema=RECORD_SCHEMA)
    return frame.sort("raw_file"), problems


# -- the parse cache -------------------------------------------------------------
# Each file's row and problems as the last build parsed them, with the file's size and time and
# what the parse depended on besides the bytes (the parser key). A file whose size and time are
# unchanged, or whose bytes hash to the same digest, is not parsed again.
CACHE_SCHEMA: dict[str, pl.DataType] = {
    **RECORD_SCHEMA,
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "problems": pl.String(),  # the file's problems as JSON; null when it has none
    "parser": pl.String(),
}


def parser_key(validator: StudyValidator) -> str:
    """A digest of what a file's parse depends on besides its bytes.

    The schema as checked (with this year as the latest year a paper may have), the code
    that parses and checks a record, and the versions of the parsers: a change of any of
    them parses every file again, so a cached row is always the row a clean build gives.
    """
    from importlib.metadata import version  # noqa: PLC0415 (only here)

    from exosynth import corpus, problems, settings  # noqa: PLC0415 (cycle-free, light)
    from exosynth.studies import (  # noqa: PLC0415
        loading,
        outcome_checks,
        records,
        schema_messages,
    )

    digest = hashlib.sha256(json.dumps(validator.schema, sort_keys=True).encode("utf-8"))
    # Every module a file's row and problems come from: a change to any parses all again.
    parsing = (loading, schema_messages, records, outcome_checks, problems, settings, corpus)
    for module in (__file__, *(m.__file__ for m in parsing)):
        digest.update(Path(module).read_bytes())
    for package in ("pyyaml", "jsonschema", "jsonschema-rs", "polars"):
        digest.update(f"{package}={version(package)};".encode())
    return digest.hexdigest()


def empty_cache() -> pl.DataFrame:
    return pl.DataFrame(schema=CACHE_SCHEMA)


def read_cache(*paths: str | Path) -> pl.DataFrame:
    """The cached rows of the files given (missing or unreadable ones count as empty)."""
    frames = []
    for path in paths:
        try:
            frames.append(pl.read_parquet(path).cast(CACHE_SCHEMA))  # type: ignore[arg-type]
        except (OSError, pl.exceptions.PolarsError):  # no cache yet, or a torn one: parse again
            continue
    return pl.concat(frames) if frames else empty_cache()


class Ingested(NamedTuple):
    records: pl.DataFrame
    problems: list[Problem]
    cache: pl.DataFrame
    parsed: int  # files read and parsed; the others came from the cache


def ingest_cached(
    files: Sequence[tuple[str, int, int]],
    validator: StudyValidator,
    cache: pl.DataFrame,
    *,
    keep_cache: bool = True,
) -> Ingested:
    """:func:`ingest` of ``files`` (path, size, mtime_ns), parsing only what the cache lacks.

    Returns the records and problems (the same as :func:`ingest` of the files' bytes) and
    the new cache. A file is taken from the cache when its size and time are those cached,
    or else when its bytes have the cached digest (a touched file); every other file is
    read and parsed. Rows of another parser key are never used. ``keep_cache=False`` (a
    reader that writes no cache) returns an empty one.
    """
    key = parser_key(validator)
    paths, sizes, mtimes = zip(*files, strict=True) if files else ((), (), ())
    listing = pl.DataFrame(
        {"raw_file": paths, "size": sizes, "mtime_ns": mtimes},
        schema={"raw_file": pl.String(), "size": pl.Int64(), "mtime_ns": pl.Int64()},
    )
    cached = cache.filter(pl.col("parser") == key).unique("raw_file", keep="last")
    joined = listing.join(
        cached.select("raw_file", "size", "mtime_ns", "sha256"),
        on="raw_file",
        how="left",
        suffix="_cached",
    )
    same = (pl.col("size") == pl.col("size_cached")) & (
        pl.col("mtime_ns") == pl.col("mtime_ns_cached")
    )
    same = same.fill_null(False)
    unchanged = joined.filter(same)["raw_file"]
    changed = joined.filter(~same)
    digests = dict(zip(changed["raw_file"].to_list(), changed["sha256"].to_list(), strict=True))
    touched: list[str] = []  # same bytes, new time: the cached row, with the new time
    fresh: list[tuple[str, bytes]] = []
    for path, data in read_raw(digests):
        if digests[path] == hashlib.sha256(data).hexdigest():
            touched.append(path)
        else:
            fresh.append((path, data))
    rows, problems, problem_texts = [], [], []
    for row, found in _parse_files(fresh, validator):
        rows.append(row)
        problems.extend(found)
        problem_texts.append(json.dumps([asdict(p) for p in found]) if found else None)
    parsed = pl.DataFrame(rows, schema=RECORD_SCHEMA).with_columns(
        pl.Series("problems", problem_texts, dtype=pl.String())
    )
    kept = pl.concat([unchanged, pl.Series("raw_file", touched, dtype=pl.String())])
    reused = cached.join(kept.to_frame(), on="raw_file", how="semi")
    for text in reused["problems"].drop_nulls().to_list():
        problems.extend(Problem(**p) for p in json.loads(text))
    records = pl.concat(
        [reused.select(list(RECORD_SCHEMA)), parsed.select(list(RECORD_SCHEMA))]
    ).sort("raw_file")
    if not keep_cache:
        return Ingested(records, problems, empty_cache(), len(fresh))
    new_cache = (
        pl.concat(
            [
                reused.select([*RECORD_SCHEMA, "problems"]),
                parsed.select([*RECORD_SCHEMA, "problems"]),
            ]
        )
        .join(listing, on="raw_file", how="left")
        .with_columns(pl.lit(key).alias("parser"))
        .select(list(CACHE_SCHEMA))
        .sort("raw_file")
    )
    return Ingested(records, problems, new_cache, len(fresh))
