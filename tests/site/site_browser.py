"""Headless Debian Chromium driven by selenium, offline: console errors and every network request seen.

chromedriver is given by path, so selenium-manager never downloads anything. Requests come from the
performance log (CDP Network.requestWillBeSent).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-dev-shm-usage", "--allow-file-access-from-files")

# Set before any page script runs: alert/confirm/prompt and a global flag record execution.
HOOK = """
window.__carnot_pwned = [];
['alert', 'confirm', 'prompt'].forEach(function (name) {
  window[name] = function (arg) { window.__carnot_pwned.push(name + ':' + String(arg)); };
});
window.pwn = function (arg) { window.__carnot_pwned.push('pwn:' + String(arg)); };
"""

# Anything a hostile string could have become: an element it created or a URL it made executable.
INJECTED = """
return Array.from(document.querySelectorAll(
  'img[src="x"], svg[onload], [onerror], [onload], iframe, object, embed, ' +
  'a[href^="javascript:" i], [src^="javascript:" i], [xlink\\\\:href^="javascript:" i], ' +
  'script:not([src]):not([type="application/json"])'
)).map(e => e.outerHTML.slice(0, 120));
"""
OVERFLOW = "return document.documentElement.scrollWidth - window.innerWidth;"


@dataclass
class PageVisit:
    url: str
    title: str
    console: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    pwned: list[str] = field(default_factory=list)


class Browser:
    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def visit(self, path: Path, *, wait_for_charts: bool = False) -> PageVisit:
        self.driver.get_log("performance")
        self.driver.get_log("browser")
        self.driver.get(path.resolve().as_uri())
        if wait_for_charts:
            self.wait_for_charts()
        visit = PageVisit(url=self.driver.current_url, title=self.driver.title)
        return self.since(visit)

    def since(self, visit: PageVisit) -> PageVisit:
        """visit with what happened since it was last looked at (after typing, clicking): payloads that ran,
        console messages, requests."""
        visit.pwned = list(self.driver.execute_script("return window.__carnot_pwned || []"))
        visit.console += list(self.driver.get_log("browser"))
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                visit.requests.append(message["params"]["request"]["url"])
        return visit

    def wait_for_charts(self, timeout: float = 20) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout).until(lambda d: d.execute_script(
            "var s = document.querySelectorAll('figure.chart > script.figure').length;"
            "return document.querySelectorAll('figure.chart.interactive .plot .main-svg').length >= s;"))

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def screenshot(self, path: Path, width: int = 1280) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        height = int(self.js("return Math.max(document.body.scrollHeight, 800)"))
        self.driver.set_window_size(width, min(height + 120, 6000))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1280, 900)


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail("Debian chromium and chromium-driver are required (tools/provision.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="carnot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})
        yield Browser(driver)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def assert_clean(visit: PageVisit, site: Path) -> None:
    assert visit.pwned == [], f"{visit.url}: script from data ran: {visit.pwned}"
    errors = [c for c in visit.console if c["level"] in ("SEVERE", "WARNING")]
    assert errors == [], f"{visit.url}: console: {errors}"
    outside = [u for u in visit.requests if not u.startswith(site.resolve().as_uri() + "/")
               and not u.startswith("data:")]
    assert outside == [], f"{visit.url}: requests outside the site: {outside}"
