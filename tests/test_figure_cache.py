"""The figure cache (exosynth.outputs.figure_cache): a picture is drawn again whenever anything
it is drawn from changed (its numbers, their types, the code), taken from the cache only
otherwise, and a torn or stale file never reaches a build's outputs. End to end, an added
paper's re-run takes the PRISMA diagram from the cache and its outputs equal a clean build's
(tests/test_reproducible.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from matplotlib.figure import Figure

from exosynth.outputs import figure_cache, figures
from exosynth.outputs.figure_cache import FigureCache, canonical, picture_key


class Counted:
    """A drawing function that counts its calls: a bar per row of ``frame``, ``title`` above."""

    def __init__(self) -> None:
        self.calls = 0
        self.__module__ = "tests.test_figure_cache"
        self.__qualname__ = "Counted.bars"

    def __call__(self, frame: pl.DataFrame, title: str) -> Figure:
        self.calls += 1
        fig = figures._new_figure(3.0, 2.0)
        ax = fig.add_subplot()
        ax.bar(frame["name"].to_list(), frame["n"].to_list())
        ax.set_title(title)
        return figures._freeze(fig)


FRAME = pl.DataFrame({"name": ["a", "b"], "n": [3, 5]})


def test_the_same_picture_is_taken_from_the_cache_not_drawn_again(tmp_path: Path) -> None:
    draw = Counted()
    first = FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "T", svg=True)
    assert draw.calls == 1
    again = FigureCache(tmp_path)
    second = again.pictures(figures.render, draw, FRAME, "T", svg=True)
    assert draw.calls == 1  # the next build's cache: nothing drawn
    assert again.drawn == 0
    assert second == first
    # ... and the bytes are those of a picture drawn without a cache
    assert FigureCache(None).pictures(figures.render, draw, FRAME, "T")["png"] == (first["png"])


@pytest.mark.parametrize(
    ("frame", "title"),
    [
        (FRAME.with_columns(pl.Series("n", [3, 6])), "T"),  # a number
        (FRAME.with_columns(pl.col("n").cast(pl.Float64)), "T"),  # the same digits, a float
        (FRAME, "T2"),  # another argument
    ],
)
def test_any_change_of_what_a_picture_is_drawn_from_draws_it_again(
    tmp_path: Path, frame: pl.DataFrame, title: str
) -> None:
    draw = Counted()
    FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "T")
    FigureCache(tmp_path).pictures(figures.render, draw, frame, title)
    assert draw.calls == 2


def test_a_change_of_the_code_draws_every_picture_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draw = Counted()
    FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "T")
    monkeypatch.setattr(figure_cache, "code_digest", lambda: "another version of the code")
    FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "T")
    assert draw.calls == 2


def test_the_code_digest_covers_every_module_of_the_package() -> None:
    assert len(figure_cache.code_digest()) == 64
    package = Path(figure_cache.__file__).resolve().parents[1]
    assert (package / "outputs" / "quality_figures.py").is_file()  # rglob finds the wings


def test_a_torn_file_is_drawn_again_and_written_whole(tmp_path: Path) -> None:
    draw = Counted()
    whole = FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "T")["png"]
    (cached,) = tmp_path.glob("*.png")
    cached.write_bytes(whole[: len(whole) // 2])  # a write cut short
    again = FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "T")["png"]
    assert draw.calls == 2
    assert again == whole
    assert cached.read_bytes() == whole
    assert not list(tmp_path.glob("*.part"))


def test_a_missing_format_draws_the_picture_again(tmp_path: Path) -> None:
    """A cache written without SVG (the default) serves a build that asks for SVG by drawing."""
    draw = Counted()
    FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "T")
    pictures = FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "T", svg=True)
    assert draw.calls == 2
    assert pictures["svg"].endswith(b"</svg>\n")


def test_prune_keeps_only_what_this_build_used(tmp_path: Path) -> None:
    draw = Counted()
    FigureCache(tmp_path).pictures(figures.render, draw, FRAME, "old")
    build = FigureCache(tmp_path)
    build.pictures(figures.render, draw, FRAME, "new")
    build.prune()
    assert [p.name for p in tmp_path.iterdir()] == [f"{picture_key(draw, (FRAME, 'new'))}.png"]


def test_without_a_folder_every_picture_is_drawn_and_nothing_written(tmp_path: Path) -> None:
    draw = Counted()
    cache = FigureCache(None)
    cache.pictures(figures.render, draw, FRAME, "T")
    cache.pictures(figures.render, draw, FRAME, "T")
    cache.prune()
    assert draw.calls == 2


def test_keys_tell_apart_what_prints_alike() -> None:
    assert canonical(1) != canonical(1.0) != canonical("1")
    assert canonical(True) != canonical(1)
    assert canonical([1, 2]) != canonical((1, 2))
    assert canonical({"a": 1}) == canonical({"a": 1})
    with pytest.raises(TypeError, match="cannot be keyed on a object"):
        canonical(object())


def test_save_writes_the_svg_only_where_asked(tmp_path: Path) -> None:
    draw = Counted()
    cache = FigureCache(tmp_path, "kind")
    pictures = cache.pictures(figures.render, draw, FRAME, "T", svg=True)
    png, svg = tmp_path / "f.png", tmp_path / "f.svg"
    cache.save(figures.render, draw, (FRAME, "T"), png, svg)
    assert svg.read_bytes() == pictures["svg"]
    cache.save(figures.render, draw, (FRAME, "T"), png, None)  # figures: {svg: false}
    assert png.read_bytes() == pictures["png"]
    assert not svg.exists()  # an earlier build's SVG is removed
    assert draw.calls == 1  # both saves from the cache in tmp_path/kind
    assert len(list((tmp_path / "kind").glob("*.png"))) == 1
