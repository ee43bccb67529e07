"""The site in real headless Chromium, from file://: no console errors, nothing fetched from outside the
site folder, no hostile string ever executes or breaks the layout; screenshots in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from site_browser import INJECTED, OVERFLOW, Browser, assert_clean, chromium
from site_fixtures import ARTIFACTS, BuiltSite

from assess.viz import visualize

pytestmark = pytest.mark.slow

TITLES = {
    "index.html": "Carnot · post-quantum readiness",
    "latest.html": "Latest assessment · Carnot",
    "history.html": "History · Carnot",
    "downloads.html": "Downloads · Carnot",
    "policy-guide.html": "Policy guide · Carnot",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_every_page_loads_clean_from_file_url(browser: Browser, built_site: BuiltSite) -> None:
    site = built_site.out
    targets = [*TITLES, *(f"assessments/{e.id}.html" for e in built_site.entries)]
    for rel in targets:
        visit = browser.visit(site / rel, wait_for_charts=True)
        assert_clean(visit, site)
        expected = TITLES.get(rel, f"Assessment {rel.removeprefix('assessments/').removesuffix('.html')} · Carnot")
        assert visit.title == expected
        assert browser.js(INJECTED) == [], rel
        drawn = browser.js("return [document.querySelectorAll('figure.chart > script.figure').length,"
                           " document.querySelectorAll('figure.chart.interactive .plot svg').length]")
        assert drawn[0] == 0 or drawn[1] >= drawn[0], f"{rel}: charts not drawn: {drawn}"
        assert browser.js(OVERFLOW) <= 1, f"{rel}: wider than the window"


def test_every_page_fits_a_phone(browser: Browser, built_site: BuiltSite) -> None:
    browser.driver.set_window_size(390, 844)
    try:
        for rel in [*TITLES, *(f"assessments/{e.id}.html" for e in built_site.entries)]:
            browser.visit(built_site.out / rel, wait_for_charts=True)
            assert browser.js(OVERFLOW) <= 1, f"{rel}: scrolls sideways on a phone"
    finally:
        browser.driver.set_window_size(1280, 900)


def test_hostile_assessment_never_executes_or_breaks_the_layout(browser: Browser, built_site: BuiltSite) -> None:
    site = built_site.out
    page = site / "assessments" / f"{built_site.hostile.id}.html"
    visit = browser.visit(page, wait_for_charts=True)
    assert_clean(visit, site)
    assert visit.title == f"Assessment {built_site.hostile.id} · Carnot"
    assert browser.js(INJECTED) == []
    # the hostile strings are on the page as text, in the findings table and in the chart labels
    text = browser.js("return document.body.innerText")
    assert "<script>alert(1)</script>" in text and "[x](javascript:alert(4))" in text
    labels = browser.js("return Array.from(document.querySelectorAll('#chart-hndl_sankey .plot .sankey-node text'))"
                        ".map(t => t.textContent)")
    assert any("</script><script>alert(5)" in label for label in labels)
    assert browser.js(OVERFLOW) <= 1, "a long value widened the page"
    browser.screenshot(ARTIFACTS / "site-assessment-hostile.png")
    browser.driver.set_window_size(390, 844)  # a phone
    try:
        browser.visit(page, wait_for_charts=True)
        assert browser.js(OVERFLOW) <= 1, "the page scrolls sideways on a phone"
        browser.driver.save_screenshot(str(ARTIFACTS / "site-assessment-phone.png"))
    finally:
        browser.driver.set_window_size(1280, 900)


def test_screenshots_of_landing_and_latest_pages(browser: Browser, built_site: BuiltSite) -> None:
    site = built_site.out
    assert_clean(browser.visit(site / "index.html"), site)
    browser.screenshot(ARTIFACTS / "site-landing.png")
    assert_clean(browser.visit(site / "latest.html", wait_for_charts=True), site)
    browser.screenshot(ARTIFACTS / "site-latest.png")
    assert (ARTIFACTS / "site-landing.png").stat().st_size > 10_000
    assert (ARTIFACTS / "site-latest.png").stat().st_size > 10_000


def test_standalone_chart_html_works_offline(browser: Browser, built_site: BuiltSite, tmp_path: Path) -> None:
    """hndl_sankey.html from `carnot viz` carries plotly.js inline: nothing else is fetched."""
    import zipfile

    folder = tmp_path / "a"
    with zipfile.ZipFile(built_site.dist / built_site.hostile.bundle) as zf:
        zf.extractall(folder)
    visualize(folder / "merged.cdx.json", folder, tmp_path / "charts")
    visit = browser.visit(tmp_path / "charts" / "hndl_sankey.html")
    assert_clean(visit, tmp_path / "charts")
    assert visit.requests == [(tmp_path / "charts" / "hndl_sankey.html").resolve().as_uri()]
    # plotly's own page has exactly its three inline scripts (config, plotly.js, the plot): none injected
    inline = browser.js("return Array.from(document.querySelectorAll('script:not([src])')).map(s => s.text)")
    assert len(inline) == 3 and not any(s.strip().startswith("alert") for s in inline)
    assert browser.js(INJECTED.replace("'script:not([src]):not([type=\"application/json\"])'", "'x-none'")) == []
    assert browser.js("return document.querySelectorAll('.sankey .sankey-node').length") > 4
