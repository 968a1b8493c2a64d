"""Pictures an earlier build drew, taken again where their numbers and the code are the same.

An added paper changes the numbers of the evidence figures, but seldom those of the PRISMA
flow, of the risk-of-bias figures or of the meta-analyses it is not part of: their pictures
are taken from the last build instead of drawn again (each costs 0.1-0.3 s; a review with
outcome data has a forest and a cumulative plot per analysis). A picture is keyed by the
SHA-256 of everything it is drawn from: the drawing function's name, its arguments (a frame
by its schema and CSV), the source of every module of the package, and matplotlib's version.
So a picture is only ever reused for the same inputs to the same code, and the result is the
bytes a clean build draws (tests/test_figure_cache.py, and tests/test_reproducible.py against
a clean build).

The cache is a folder per kind of picture (``<folder>/<kind>/``; the workflow names
``results/interim/cache/figures``), like the parse cache: not an output (Snakemake removes a
job's outputs before it runs), pruned to what the last build used, and removing it only costs
time. A file that is not a whole picture (a torn write) is drawn again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import polars as pl
from matplotlib.figure import Figure

# The last bytes of a whole picture, by format (a torn write lacks them).
_ENDINGS = {"png": b"IEND\xaeB`\x82", "svg": b"</svg>\n"}


@functools.cache
def code_digest() -> str:
    """SHA-256 of every module of the package and of matplotlib's version: a change of the
    code that draws (or of anything it calls) draws every picture again."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"matplotlib={mpl.__version__}\n".encode())
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode() + b"\0")
        digest.update(module.read_bytes())
    return digest.hexdigest()


def canonical(value: Any) -> Any:
    """``value`` as JSON-ready data that differs wherever the value does (the types too)."""
    if isinstance(value, pl.DataFrame):
        schema = [[name, str(dtype)] for name, dtype in value.schema.items()]
        return {"frame": value.write_csv(), "schema": schema}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"dataclass": type(value).__qualname__, "fields": fields}
    if isinstance(value, Mapping):
        items = sorted(((canonical(k), canonical(v)) for k, v in value.items()), key=repr)
        return {"mapping": [list(item) for item in items]}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [canonical(v) for v in value]}
    if value is None or isinstance(value, (str, bool, int, float)):
        return {type(value).__name__: value}
    raise TypeError(f"a picture cannot be keyed on a {type(value).__name__}")


def picture_key(draw: Callable[..., Figure], args: Sequence[Any]) -> str:
    """The key of the picture ``draw(*args)``: its code, its function and its arguments."""
    named = f"{draw.__module__}.{draw.__qualname__}"
    text = json.dumps([code_digest(), named, canonical(list(args))], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FigureCache:
    """The pictures of one ``kind`` in ``folder``/``kind``, or none (``folder`` None: every
    picture drawn, nothing kept)."""

    def __init__(self, folder: str | Path | None, kind: str = "") -> None:
        self.folder = Path(folder, kind) if folder else None
        self.used: set[str] = set()
        self.drawn = 0

    def pictures(
        self,
        render: Callable[[Figure, str], bytes],
        draw: Callable[..., Figure],
        *args: Any,
        svg: bool = False,
    ) -> dict[str, bytes]:
        """``draw(*args)`` rendered as PNG, and as SVG with ``svg`` (``render(figure,
        "png")``), taken from the cache where an earlier build drew the same picture with the
        same code."""
        formats = ["png", "svg"] if svg else ["png"]
        files = {}
        if self.folder is not None:
            key = picture_key(draw, args)
            files = {fmt: self.folder / f"{key}.{fmt}" for fmt in formats}
            kept = {fmt: path.read_bytes() for fmt, path in files.items() if path.is_file()}
            if len(kept) == len(formats) and all(
                data.endswith(_ENDINGS[fmt]) for fmt, data in kept.items()
            ):
                self.used.update(path.name for path in files.values())
                return kept
        figure = draw(*args)
        self.drawn += 1
        drawn = {fmt: render(figure, fmt) for fmt in formats}
        for fmt, path in files.items():
            _write_whole(path, drawn[fmt])
            self.used.add(path.name)
        return drawn

    def save(
        self,
        render: Callable[[Figure, str], bytes],
        draw: Callable[..., Figure],
        args: Sequence[Any],
        png: str | Path,
        svg: str | Path | None,
    ) -> None:
        """:meth:`pictures` of ``draw(*args)`` into ``png``, and ``svg`` where it names a
        file (else an SVG an earlier build left beside the PNG is removed)."""
        pictures = self.pictures(render, draw, *args, svg=svg is not None)
        Path(png).write_bytes(pictures["png"])
        if svg is not None:
            Path(svg).write_bytes(pictures["svg"])
        else:
            Path(png).with_suffix(".svg").unlink(missing_ok=True)

    def prune(self) -> None:
        """Remove the pictures this build did not use (the folder keeps the last build's)."""
        if self.folder is None or not self.folder.is_dir():
            return
        for stale in self.folder.iterdir():
            if stale.name not in self.used:
                stale.unlink(missing_ok=True)


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is never seen half written (a rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_bytes(data)
    part.replace(path)
