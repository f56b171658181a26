"""The search page, driven in real headless Chromium against the real app and model.

Needs /usr/bin/chromium and /usr/bin/chromedriver; skipped without them, unless
SECML_REQUIRE_BROWSER=1 (set in CI), where their absence fails the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 20
QUERY = "certified robustness via randomized smoothing"

pytestmark = pytest.mark.browser


def _required() -> bool:
    return os.environ.get("SECML_REQUIRE_BROWSER") == "1"


def _missing() -> str | None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    return f"headless browser tests need {' and '.join(missing)}" if missing else None


def _missing_browser(reason: str):
    if _required():
        pytest.fail(f"{reason} (SECML_REQUIRE_BROWSER=1 requires the browser tests to run)")
    pytest.skip(reason)


# Skip before the session's server (and its model) is started for nothing.
if _missing() and not _required():
    pytest.skip(_missing(), allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        _missing_browser(reason)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - selenium is a test dependency
        _missing_browser("selenium is not installed: pip install -e '.[test]'")

    profile = tempfile.mkdtemp(prefix="secml-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager (which downloads) is never consulted.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, condition, message: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS).until(condition, message)


def _settled_results(driver) -> list[str] | bool:
    """Result titles once the page is done loading and shows results, else False."""
    from selenium.webdriver.common.by import By

    status = driver.find_element(By.ID, "status").text
    if not status or status.startswith("Searching"):
        return False
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#results .result .title")]
    return titles or False


def _status(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "status").text


def _page_errors(driver) -> list[str]:
    """Script errors and CSP violations in the console; failed requests (4xx) are not counted."""
    try:
        entries = driver.get_log("browser")
    except Exception:  # the log endpoint is optional in WebDriver
        return []
    return [
        e["message"] for e in entries if e.get("level") == "SEVERE" and e.get("source") != "network"
    ]


def test_search_runs_in_place_and_fills_the_section_filter(browser, server_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server_url + "/")
    browser.execute_script("window.__secmlNoReload = true;")

    section = Select(browser.find_element(By.ID, "section"))
    _wait(browser, lambda d: len(section.options) > 5, "the section filter was never filled")
    labels = [o.text for o in section.options]
    assert labels[0] == "All sections"
    assert section.options[0].get_attribute("value") == ""
    assert any("Membership Inference Attacks" in label for label in labels), labels

    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys(QUERY)
    browser.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()

    titles = _wait(browser, _settled_results, f"no results; status: {_status(browser)!r}")
    assert any("randomized smoothing" in t.casefold() for t in titles[:2]), titles
    assert QUERY in _status(browser)

    # Ran with fetch, without reloading the page, and made the search linkable.
    assert browser.execute_script("return window.__secmlNoReload === true;")
    assert parse_qs(urlsplit(browser.current_url).query).get("q") == [QUERY]

    # Every result carries its score and a link to its related papers.
    first = browser.find_element(By.CSS_SELECTOR, "#results .result")
    assert first.find_element(By.CSS_SELECTOR, ".score").text.startswith("score ")
    href = first.find_element(By.CSS_SELECTOR, "a.related").get_attribute("href")
    assert "/?related=" in href
    assert _page_errors(browser) == []


def test_linked_search_then_related_papers(browser, server_url):
    from selenium.webdriver.common.by import By

    # A linked search runs on load, with the form filled from the URL.
    browser.get(f"{server_url}/?q={quote(QUERY)}")
    titles = _wait(browser, _settled_results, f"no results; status: {_status(browser)!r}")
    assert browser.find_element(By.ID, "q").get_attribute("value") == QUERY

    clicked = titles[0]
    first = browser.find_element(By.CSS_SELECTOR, "#results .result")
    first.find_element(By.CSS_SELECTOR, "a.related").click()

    heading = browser.find_element(By.ID, "results-heading")
    _wait(
        browser,
        lambda d: heading.is_displayed() and "related" in heading.text.casefold(),
        f"the related papers never showed; status: {_status(browser)!r}",
    )
    related = _wait(browser, _settled_results, f"no related papers; status: {_status(browser)!r}")
    assert clicked.casefold() in heading.text.casefold()
    assert "related" in _status(browser).casefold()
    assert any(t != clicked for t in related), related
    assert "related" in parse_qs(urlsplit(browser.current_url).query)
    assert _page_errors(browser) == []
