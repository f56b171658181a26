"""Crafted entries and queries on the search page, in real headless Chromium: nothing runs.

The list below was written by an attacker: markup in titles, authors, venues and headings,
raw and entity-escaped, ``javascript:`` and ``data:`` links, attributes smuggled into a URL.
Every payload would set ``window.__xss`` if it ran. The page must show them as text, link only
http(s) URLs, and its Content-Security-Policy must stop an inline script even when one gets in.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .servers import serve
from .test_page import _settled_results, _status, _wait, browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

HOSTILE = r"""# Backdoor list &lt;img src=x onerror="window.__xss='title'"&gt;

## Backdoor Attacks &lt;script&gt;window.__xss='heading'&lt;/script&gt;

- Evil &lt;img src=x onerror="window.__xss='authors'"&gt; et al. [**"Backdoor attack &lt;img src=x onerror=window.__xss='entity'&gt;"**](javascript:window.__xss='js-link') @ **ICML &lt;svg onload=window.__xss='venue'&gt; 2020**.
- Raw <img src=x onerror="window.__xss='raw-authors'"> et al. [**"Backdoor defense <script>window.__xss='raw-title'</script> <b onmouseover=window.__xss='b'>bold</b>"**](https://example.org/x"onmouseover="window.__xss='attr') @ **S&P 2021**.
- Markdown et al. [**"Backdoor [click](javascript:window.__xss='md') and ![i](x onerror=window.__xss='img')"**](data:text/html,<script>window.__xss='data'</script>) @ **CCS 2022**.
- Plain et al. [**"Backdoor removal in a plain entry"**](https://example.org/ok) @ **NDSS 2023**. ![Diffusion](https://img.shields.io/badge/Diffusion-a99cf4) ![&lt;img src=x onerror=alert('tag')&gt;](https://img.shields.io/badge/x-red)
"""
QUERIES = [
    "backdoor",
    "<script>window.__xss='query'</script> backdoor",
    "\"><img src=x onerror=window.__xss='query-attr'> backdoor",
]


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("hostile")
    listing = folder / "hostile.md"
    listing.write_text(HOSTILE, encoding="utf-8")
    settings = Settings(list_source=str(listing), index_dir=folder / "index")
    library = Library(settings, FakeEmbedder())
    library.index()
    with serve(create_app(library)) as base:
        yield base


def _assert_nothing_ran(driver) -> None:
    from selenium.webdriver.common.by import By

    assert driver.execute_script("return window.__xss === undefined;"), driver.execute_script(
        "return window.__xss;"
    )
    results = driver.find_element(By.ID, "results")
    for tag in ("img", "svg", "script", "iframe", "b", "object", "embed"):
        assert results.find_elements(By.TAG_NAME, tag) == [], tag
    for link in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
        href = link.get_attribute("href")
        assert href.startswith(("http://", "https://")), href
    handlers = driver.execute_script(
        "return Array.from(document.querySelectorAll('*')).flatMap("
        "e => Array.from(e.attributes).map(a => a.name)).filter(n => n.startsWith('on'));"
    )
    assert handlers == []  # no element anywhere carries an event-handler attribute


@pytest.mark.parametrize("query", QUERIES)
def test_crafted_entries_and_queries_render_as_text(browser, hostile_url: str, query: str):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(f"{hostile_url}/?q={quote(query)}")
    titles = _wait(browser, _settled_results, f"no results; status: {_status(browser)!r}")
    _assert_nothing_ran(browser)
    shown = " ".join(titles)
    assert "<img src=x onerror=window.__xss='entity'>" in shown  # the markup, shown as text
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#section option")]
    assert any("<script>" in o for o in options), options
    # only the entries whose links are http(s) get a title link
    linked = [
        a.text
        for a in browser.find_elements(By.CSS_SELECTOR, "#results a.title, #results .title a")
    ]
    assert all("Backdoor attack" not in t and "Markdown" not in t for t in linked), linked
    tags = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#results .tags .tag")]
    assert tags == ["Diffusion", "<img src=x onerror=alert('tag')>"]  # badges, as text


def test_the_policy_stops_an_inline_script_that_gets_in(browser, hostile_url: str):  # noqa: F811
    browser.get(f"{hostile_url}/?q=backdoor")
    _wait(browser, _settled_results, f"no results; status: {_status(browser)!r}")
    browser.execute_script(
        "var s = document.createElement('script');"
        "s.textContent = \"window.__xss = 'inline'\";"
        "document.body.appendChild(s);"
    )
    assert browser.execute_script("return window.__xss === undefined;")


def test_the_hostile_list_is_parsed_as_text(tmp_path: Path) -> None:
    from secml_papers.corpus.parse import parse_list

    parsed = parse_list(HOSTILE)
    titles = [p.title for p in parsed.papers]
    assert "Backdoor attack <img src=x onerror=window.__xss='entity'>" in titles
    assert all(p.url is None or p.url.startswith("https://") for p in parsed.papers)
