"""The inventory, flows, findings and changes browsers in real headless Chromium, from file://, over an
assessment of the embedded default's estate plus the hostile corpus (`estate_site`) and over the three-bundle
history (`built_site`): what a reader searches for is found, links go from a finding to its asset and back,
no hostile string runs, nothing is requested outside the site folder, and every page fits a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_browser import INJECTED, OVERFLOW, Browser, PageVisit, assert_clean, chromium
from site_fixtures import (
    ARTIFACTS,
    HOSTILE,
    HOSTILE_FILE,
    NAMED_FILE_LINE,
    NAMED_PROCESS,
    NAMED_SNI,
    BuiltSite,
    EstateSite,
)

pytestmark = pytest.mark.slow

BROWSERS = ("inventory", "flows", "findings", "changes")
STATUS = "return document.querySelector('.explorer-status').textContent"
ROWS = "return Array.from(document.querySelectorAll('.explorer tbody > tr:not(.detail)')).map(tr => tr.innerText)"
# what the search box does on Enter, for strings a keyboard cannot type (bidi marks, line separators)
SEARCH_JS = """
var box = document.querySelector('.explorer input[type=search]');
box.value = arguments[0];
box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
"""
OPEN_ALL = """
var toggles = document.querySelectorAll('.explorer .row-toggle[aria-expanded=false]');
for (var i = 0; i < toggles.length; i++) { toggles[i].click(); }
return toggles.length;
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _open(browser: Browser, page: Path) -> PageVisit:
    visit = browser.visit(page)
    browser.driver.implicitly_wait(0)
    assert browser.js("return document.documentElement.getAttribute('data-explorer-ready')"), page
    return visit


def _type(browser: Browser, text: str) -> None:
    """Type into the page's search box as a reader would, then Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = browser.driver.find_element(By.CSS_SELECTOR, ".explorer input[type=search]")
    box.clear()
    box.send_keys(text + Keys.ENTER)


def _matches(browser: Browser) -> int:
    status = browser.js(STATUS)
    found = re.match(r"([\d,]+) (?:of [\d,]+ )?rows", status)
    assert found, status
    return int(found.group(1).replace(",", ""))


def test_the_assessment_page_links_to_each_browser(browser: Browser, estate_site: EstateSite) -> None:
    site = estate_site.out
    visit = browser.visit(site / "assessments" / f"{estate_site.entry.id}.html", wait_for_charts=True)
    assert_clean(visit, site)
    hrefs = browser.js("return Array.from(document.querySelectorAll('nav.browse a')).map(a => a.href)")
    assert [h.rsplit("/", 1)[-1] for h in hrefs] == [f"{estate_site.entry.id}.html",
                                                      *(f"{name}.html" for name in BROWSERS)]
    for href in hrefs:
        assert href.startswith(site.resolve().as_uri() + "/") and Path(href.removeprefix("file://")).is_file()
    # every finding on the overview links to its row on the findings page and to its asset in the inventory
    links = browser.js("return Array.from(document.querySelectorAll('table.findings a'))"
                       ".map(a => a.getAttribute('href'))")
    assert any(re.search(r"/findings\.html#f\d+$", h) for h in links)
    assert any(re.search(r"/inventory\.html#a\d+$", h) for h in links)


@pytest.mark.parametrize("page, text, expected", [
    ("inventory", NAMED_SNI, NAMED_SNI),
    ("inventory", NAMED_PROCESS, NAMED_PROCESS),
    ("inventory", NAMED_FILE_LINE, "MD5"),
    ("inventory", "arn:aws:kms:", "arn:aws:kms:"),
    ("flows", NAMED_PROCESS, NAMED_SNI),
    ("flows", NAMED_SNI, NAMED_PROCESS),
    ("findings", "legacy-hash", "legacy-hash"),
])
def test_a_named_sni_process_and_file_line_are_found_by_the_search(browser: Browser, estate_site: EstateSite,
                                                                   page: str, text: str, expected: str) -> None:
    visit = _open(browser, estate_site.pages / f"{page}.html")
    everything = _matches(browser)
    _type(browser, text)
    found = _matches(browser)
    assert 0 < found < everything, browser.js(STATUS)
    rows = browser.js(ROWS)
    assert rows and all(expected.lower() in row.lower() or page == "inventory" for row in rows)
    if page == "inventory":  # what matched may be deep in an asset's evidence: open it to see it
        browser.js(OPEN_ALL)
        details = browser.js("return Array.from(document.querySelectorAll('tr.detail')).map(tr => tr.innerText)")
        assert any(text in d for d in details) or any(text in r for r in rows), (rows, details)
    assert_clean(browser.since(visit), estate_site.out)


def test_a_finding_links_to_its_asset_and_back_with_its_waiver_and_remediation(
        browser: Browser, estate_site: EstateSite) -> None:
    from selenium.webdriver.common.by import By

    rule, ref = estate_site.waived
    visit = _open(browser, estate_site.pages / "findings.html")
    _type(browser, ref)
    rows = browser.driver.find_elements(By.CSS_SELECTOR, ".explorer tbody > tr")
    row = next(r for r in rows if rule in r.text)
    assert row.get_attribute("class") == "waived" and row.text.rstrip().endswith("waived")
    fix = row.find_element(By.PARTIAL_LINK_TEXT, "how to fix").get_attribute("href")
    anchor = fix.rsplit("#", 1)[1]
    guide = (estate_site.out / "policy-guide.html").read_text()
    assert fix.startswith((estate_site.out / "policy-guide.html").resolve().as_uri() + "#")
    assert f'id="{anchor}"' in guide
    finding_id = row.get_attribute("id")

    row.find_element(By.CSS_SELECTOR, "a[href^='inventory.html#a']").click()
    assert browser.driver.current_url.rsplit("/", 1)[1].startswith("inventory.html#a")
    assert _matches(browser) == 1
    detail = browser.driver.find_element(By.CSS_SELECTOR, "tr.detail")
    assert ref in browser.driver.find_element(By.CSS_SELECTOR, ".explorer tbody > tr").text
    back = detail.find_element(By.CSS_SELECTOR, f"a[href='findings.html#{finding_id}']")
    assert "waived" in back.find_element(By.XPATH, "..").text
    back.click()
    assert browser.driver.current_url.endswith(f"findings.html#{finding_id}")
    assert _matches(browser) == 1 and rule in browser.js(ROWS)[0]
    # every open finding has a remediation link too
    browser.js("window.location.hash = ''")
    browser.driver.get(browser.driver.current_url.split("#")[0])
    texts = browser.js("return Array.from(document.querySelectorAll('.explorer tbody > tr')).map(tr => "
                       "[tr.cells[4].innerText, tr.cells[5].innerText])")
    assert texts and all(fix_text == "how to fix" and state in ("open", "waived") for fix_text, state in texts)
    assert_clean(browser.since(visit), estate_site.out)


def _hostile_everywhere(browser: Browser, site: Path, page: Path, every_string_has_rows: bool = False) -> None:
    """Search every hostile string, open every asset that matches, and look for anything it became."""
    visit = _open(browser, page)
    for text in (*HOSTILE, HOSTILE_FILE, ""):
        browser.js(SEARCH_JS, text[:60])
        if every_string_has_rows and text != HOSTILE_FILE:
            assert _matches(browser) > 0, (page.name, text[:40])
        browser.js(OPEN_ALL)
        assert browser.js(INJECTED) == [], (page.name, text[:40])
        assert browser.js(OVERFLOW) <= 1, f"{page.name}: {text[:40]!r} widened the page"
    visit = browser.since(visit)
    assert_clean(visit, site)
    # everything the page loaded is its own: the page, the site's script and stylesheet, its data files
    loaded = {u.removeprefix(site.resolve().as_uri() + "/") for u in visit.requests}
    rel = page.relative_to(site).as_posix()
    folder = rel.rsplit("/", 1)[0]
    assert loaded <= {rel, "assets/carnot.css", "assets/explore.js",
                      *(f"{folder}/data/{p.name}" for p in (page.parent / "data").glob("*.js"))}, loaded


@pytest.mark.parametrize("name", BROWSERS)
def test_no_hostile_string_runs_and_nothing_leaves_the_site(browser: Browser, estate_site: EstateSite,
                                                            name: str) -> None:
    # every hostile string is an SNI and a process of an observed flow: each is found, shown, and inert
    _hostile_everywhere(browser, estate_site.out, estate_site.pages / f"{name}.html",
                        every_string_has_rows=name in ("inventory", "flows"))


def test_hostile_strings_are_shown_as_text_in_the_browsers(browser: Browser, estate_site: EstateSite) -> None:
    _open(browser, estate_site.pages / "flows.html")
    _type(browser, "svg onload")
    assert any("'><svg onload=pwn(6)>" in row for row in browser.js(ROWS))
    _open(browser, estate_site.pages / "inventory.html")
    _type(browser, "onerror=alert(2)")
    browser.js(OPEN_ALL)
    text = browser.js("return document.querySelector('.explorer').innerText")
    assert HOSTILE_FILE in text and '"><img src=x onerror=alert(2)>' in text
    assert browser.js(INJECTED) == []


def test_the_changes_browser_links_into_this_and_the_earlier_assessment(browser: Browser,
                                                                       built_site: BuiltSite) -> None:
    """built_site's history: the hostile assessment after a plain one, so the changes page has rows."""
    site = built_site.out
    hostile = site / "assessments" / built_site.hostile.id
    visit = _open(browser, hostile / "changes.html")
    assert _matches(browser) > 0
    links: list[Any] = browser.js("return Array.from(document.querySelectorAll('.explorer tbody a'))"
                                  ".map(a => a.href)")
    assert any(f"/{built_site.entries[0].id}/inventory.html#a" in h for h in links)  # a removed asset, in the old
    assert any(f"/{built_site.hostile.id}/inventory.html#a" in h for h in links)  # an added one, here
    for href in links:
        assert Path(href.removeprefix("file://").split("#")[0]).is_file(), href
    assert_clean(browser.since(visit), site)
    _hostile_everywhere(browser, site, hostile / "changes.html")


def test_every_browser_fits_a_phone(browser: Browser, estate_site: EstateSite, built_site: BuiltSite) -> None:
    pages = [estate_site.pages / f"{name}.html" for name in BROWSERS]
    pages += [built_site.out / "assessments" / e.id / f"{name}.html" for e in built_site.entries for name in BROWSERS]
    browser.driver.set_window_size(390, 844)
    try:
        for page in pages:
            _open(browser, page)
            browser.js(OPEN_ALL)
            assert browser.js(OVERFLOW) <= 1, f"{page}: scrolls sideways on a phone"
        _open(browser, estate_site.pages / "inventory.html")
        _type(browser, NAMED_SNI)
        browser.js(OPEN_ALL)
        browser.screenshot(ARTIFACTS / "site-inventory-phone.png", width=390)
    finally:
        browser.driver.set_window_size(1280, 900)
    _open(browser, estate_site.pages / "inventory.html")
    browser.screenshot(ARTIFACTS / "site-inventory.png")
    _open(browser, estate_site.pages / "flows.html")
    browser.screenshot(ARTIFACTS / "site-flows.png")


def test_hostile_tags_arns_and_subjects_stay_text_in_opened_assets(browser: Browser, built_site: BuiltSite) -> None:
    """built_site's hostile assessment: every hostile string is also a cloud key's ARN and Owner tag, a
    certificate's subject and path, and a process."""
    page = built_site.out / "assessments" / built_site.hostile.id / "inventory.html"
    _hostile_everywhere(browser, built_site.out, page, every_string_has_rows=True)
    _open(browser, page)
    _type(browser, "arn:aws:kms:")
    browser.js(OPEN_ALL)
    details = browser.js("return Array.from(document.querySelectorAll('tr.detail')).map(tr => tr.innerText)")
    assert any("tag Owner" in d and "<script>alert(1)</script>" in d for d in details)
    assert any("ARN" in d and '"><img src=x onerror=alert(2)>' in d for d in details)
    assert browser.js(INJECTED) == []
