"""The evidence map in headless Chromium: it opens with the network cut, draws the cells of
synthesis, a click on a bubble lists its studies and trials, and a filter changes the map.

Drives Debian's Chromium (``apt-get install chromium``; never ``playwright install``) with
the ``playwright`` package. Chromium is found as the other browser tests find it
(``conftest.office_tool``: CI, which installs it, fails rather than skips without it).
Screenshots are saved in the test's temporary folder (``--basetemp`` to keep them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import office_tool
from test_evidence_map import STUDIES, TABLES, TRIALS

from exosynth.outputs.evidence_map import evidence_map_page
from exosynth.synthesis.evidence_map import evidence_cells, filter_studies, with_risk_status

playwright = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package (test extra) is not installed"
)

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ORDER = [t.key for t in TABLES]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=office_tool(("chromium",), "chromium"), args=ARGS
        )
        yield chromium
        chromium.close()


STUDIES_WITH_IDS = STUDIES.with_columns(
    doi=pl.when(pl.col("id") == "b-2").then(pl.lit("10.1000/bm.2")),
    pmid=pl.when(pl.col("id") == "b-3").then(pl.lit("30000003")),
)
RATED = with_risk_status(STUDIES_WITH_IDS)


class OpenedMap:
    """A page of the map opened with every request but the file itself aborted."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("**/*", self._route)
        self.url = path.as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=30_000)

    def _route(self, route: Any) -> None:
        self.requests.append(route.request.url)
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def cells(self) -> list[dict]:
        return self.page.evaluate("window.evidenceMap.cells")

    def where(self, source: str, group: str) -> tuple[str, int]:
        """The trace (its uid: a stage or risk class) and point a cell is drawn as, in
        whichever colour mode is chosen."""
        uid, nth = self.page.evaluate(
            """([source, group]) => {
              for (const trace of document.getElementById("evidence-map").data) {
                const p = trace.customdata.findIndex((c) => c[0] === source && c[1] === group);
                if (p >= 0) return [trace.uid, p];
              }
              return null;
            }""",
            [source, group],
        )
        return uid, nth

    def marker(self, source: str, group: str) -> Any:
        uid, nth = self.where(source, group)
        return self.page.locator(f".scatterlayer .trace.trace{uid} .points path").nth(nth)

    def click_cell(self, source: str, group: str) -> None:
        """Click the bubble of one cell, as a reader does (a mouse click on its marker)."""
        self.marker(source, group).click(force=True)
        self.page.wait_for_selector("#study-list")


@pytest.fixture
def opened(browser: Any, tmp_path: Path) -> Iterator[OpenedMap]:
    path = tmp_path / "evidence_map.html"
    path.write_text(evidence_map_page(STUDIES_WITH_IDS, TRIALS, TABLES), encoding="utf-8")
    opened = OpenedMap(browser, path)
    yield opened
    opened.page.close()


def _without_order(cells: list[dict]) -> list[tuple]:
    return sorted((tuple(sorted(c.items())) for c in cells), key=repr)


def test_opens_offline_and_draws_the_cells_of_synthesis(opened: OpenedMap, tmp_path: Path) -> None:
    opened.page.screenshot(path=tmp_path / "map.png", full_page=True)
    assert opened.requests == [opened.url]  # nothing but the page itself was asked for
    assert opened.errors == []
    expected = evidence_cells(RATED, ORDER).to_dicts()
    assert opened.cells() == expected
    # The browser's rule, run on all studies, gives the same cells in the same order.
    assert opened.page.evaluate("window.evidenceMap.recompute()") == expected
    assert opened.page.locator(".scatterlayer .points path").count() == len(expected)
    assert opened.page.locator("#shown").text_content() == "Showing 8 of 8 studies in 5 cells."


def test_a_click_on_a_cell_lists_its_studies_and_trials(opened: OpenedMap, tmp_path: Path) -> None:
    opened.click_cell("bone_marrow", "Wound healing")
    opened.page.screenshot(path=tmp_path / "clicked.png", full_page=True)
    rows = opened.page.locator("#study-list tbody tr")
    assert [rows.nth(i).get_attribute("data-study") for i in range(rows.count())] == [
        "b-1",
        "b-2",
        "b-3",
    ]
    assert opened.page.locator("#details h2").text_content() == (
        "Bone marrow · Wound healing: 3 studies"
    )
    links = opened.page.locator("#study-list a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "https://doi.org/10.1000/bm.2",
        "https://pubmed.ncbi.nlm.nih.gov/30000003/",
    ]
    # The MSC-EV trial of that source naming the condition; not the secretome one.
    assert opened.page.locator("#trials-source li").all_text_contents() == [
        "NCT01: EVs for wounds (Phase 1/2, recruiting)"
    ]
    assert opened.page.locator("#trials-unspecified").text_content() == (
        "None in the registry exports read."
    )
    opened.click_cell("umbilical_cord", "Stroke")
    assert opened.page.locator("#study-list tbody tr").count() == 2
    assert opened.page.locator("#trials-unspecified li").all_text_contents() == [
        "NCT03: EVs, no tissue (Phase not given, unknown status)"
    ]
    assert opened.requests == [opened.url]  # listing opened no link


@pytest.mark.parametrize(
    ("box", "filters"),
    [
        (("species", "mouse"), {"species": ["human", "rat", ""]}),
        (("stage", "clinical"), {"stages": ["in_vitro", "animal"]}),
        (("source", "bone_marrow"), {"sources": ["adipose", "umbilical_cord", "dental_pulp"]}),
    ],
)
def test_a_filter_changes_what_is_shown(
    opened: OpenedMap, tmp_path: Path, box: tuple[str, str], filters: dict
) -> None:
    opened.click_cell("bone_marrow", "Wound healing")
    name, value = box
    opened.page.uncheck(f'input[name="{name}"][value="{value}"]')
    opened.page.wait_for_function("document.querySelector('#shown').textContent.length > 0")
    opened.page.screenshot(path=tmp_path / f"filtered-{name}.png", full_page=True)
    kept = filter_studies(RATED, **filters)
    expected = evidence_cells(kept, ORDER).to_dicts()
    assert _without_order(opened.cells()) == _without_order(expected)
    assert opened.page.locator(".scatterlayer .points path").count() == len(expected)
    assert (
        opened.page.locator("#shown")
        .text_content()
        .startswith(f"Showing {kept.height} of 8 studies")
    )
    # The open list follows the filter.
    listed = opened.page.locator("#study-list tbody tr")
    in_cell = kept.filter(source="bone_marrow", condition="Wound healing").get_column("id")
    if in_cell.len():
        assert listed.count() == in_cell.len()
    else:
        assert listed.count() == 0


def test_colour_by_risk_of_bias(opened: OpenedMap, tmp_path: Path) -> None:
    """Switch the colour mode: the legend says what the colours mean and which items define
    low risk, bubbles take their class's colour (not assessed: white), the list says each
    study's risk of bias, and a filter still recomputes the cells."""
    legend = opened.page.locator('#colour-legend [data-mode="risk"]')
    assert not legend.is_visible()
    opened.page.check('input[name="colour"][value="risk"]')
    opened.page.evaluate("window.evidenceMap.ready")  # the redrawing done
    assert legend.is_visible()
    assert not opened.page.locator('#colour-legend [data-mode="stage"]').is_visible()
    assert "judged low on every one of: Sequence generation; Blinding of outcome assessors" in (
        legend.text_content()
    )
    assert opened.cells() == evidence_cells(RATED, ORDER).to_dicts()  # recomputed, same
    fills = {
        cell: opened.marker(*cell).evaluate("node => getComputedStyle(node).fill")
        for cell in [("bone_marrow", "Wound healing"), ("adipose", "Wound healing")]
    }
    assert fills == {
        ("bone_marrow", "Wound healing"): "rgb(240, 228, 66)",  # some low: yellow
        ("adipose", "Wound healing"): "rgb(255, 255, 255)",  # none assessed: white
    }
    opened.click_cell("bone_marrow", "Wound healing")
    opened.page.screenshot(path=tmp_path / "risk.png", full_page=True)
    risk = opened.page.locator("#study-list td.risk")
    assert [risk.nth(i).get_attribute("data-risk") for i in range(3)] == [
        "low_risk",
        "not_low_risk",
        "not_assessed",
    ]
    assert risk.nth(1).text_content().startswith("Not at low risk of bias")
    assert risk.nth(1).locator(".note").text_content() == (
        "Sequence generation: low; Blinding of outcome assessors: high"
    )
    assert risk.nth(2).text_content() == "Not assessed"
    # Filters keep working in this mode: without in-vitro work, b-1 (at low risk) goes, and
    # bone marrow's wound-healing cell has no study at low risk left.
    opened.page.uncheck('input[name="stage"][value="in_vitro"]')
    opened.page.evaluate("window.evidenceMap.ready")
    kept = filter_studies(RATED, stages=["animal", "clinical"])
    assert opened.cells() == evidence_cells(kept, ORDER).to_dicts()
    fill = opened.marker("bone_marrow", "Wound healing").evaluate(
        "node => getComputedStyle(node).fill"
    )
    assert fill == "rgb(213, 94, 0)"  # none of the assessed at low risk: vermilion
    assert opened.errors == []
    assert opened.requests == [opened.url]
