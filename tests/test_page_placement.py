"""The page's "Where does my paper go?" and "Browse by section" panels, in headless Chromium.

Against the session's real app and model (the bundled list) and, for crafted titles, a
hostile list served with the fake embedder. Keyboard only where a contributor would be.
"""

from __future__ import annotations

import pytest

from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .servers import serve
from .test_page import _page_errors, _wait, browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

MIA_TITLE = "Membership inference attacks against machine learning models"
MIA_SECTION = "Membership Inference Attacks"

HOSTILE = r"""# Hostile list

## Backdoor Attacks

- Evil et al. [**"Backdoor trigger &lt;img src=x onerror="window.__xss='evidence-img'"&gt; in images"**](https://example.org/a) @ **ICML 2021**.
- Raw et al. [**"Backdoor poisoning &lt;script&gt;window.__xss='evidence-script'&lt;/script&gt; <script>window.__xss='raw'</script> of models"**](javascript:window.__xss='link') @ **CCS 2022**.
- Plain et al. [**"Backdoor removal <img src=x onerror=window.__xss='raw-img'> defense"**](https://example.org/c) @ **NDSS 2023**.

## Privacy &lt;b onmouseover="window.__xss='heading'"&gt;Attacks&lt;/b&gt;

- Anon et al. [**"Membership inference on &lt;svg onload=window.__xss='svg'&gt; models"**](https://example.org/d) @ **S&P 2020**.
- Anon et al. [**"Model inversion attacks"**](https://example.org/e) @ **S&P 2021**.

## Empty Topic
"""


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("hostile-placement")
    listing = folder / "hostile.md"
    listing.write_text(HOSTILE, encoding="utf-8")
    library = Library(
        Settings(list_source=str(listing), index_dir=folder / "index"), FakeEmbedder()
    )
    library.index()
    with serve(create_app(library)) as base:
        yield base


def _by_id(driver, element_id: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def _active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id;")


def _tab_until(driver, wanted, most: int = 80):
    """Press Tab (keyboard only) until ``wanted(active element)`` holds; the element."""
    from selenium.webdriver.common.keys import Keys

    for _ in range(most):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
        if wanted(active):
            return active
    raise AssertionError("Tab never reached the element")


def _placed(driver) -> bool:
    status = _by_id(driver, "placement-status").text
    return (
        bool(status)
        and not status.startswith("Placing")
        and _by_id(driver, "placement-answer").is_displayed()
    )


def _browsed(driver) -> bool:
    status = _by_id(driver, "browse-status").text
    return bool(status) and not status.startswith("Listing")


def _section_paths(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        e.text for e in driver.find_elements(By.CSS_SELECTOR, "#placement-sections .placement-path")
    ]


def _assert_nothing_ran(driver) -> None:
    from selenium.webdriver.common.by import By

    assert driver.execute_script("return window.__xss === undefined;"), driver.execute_script(
        "return window.__xss;"
    )
    for panel in ("placement", "browse"):
        root = _by_id(driver, panel)
        for tag in ("img", "svg", "script", "b", "iframe", "object", "embed"):
            assert root.find_elements(By.TAG_NAME, tag) == [], (panel, tag)
    for link in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
        assert link.get_attribute("href").startswith(("http://", "https://")), link
    handlers = driver.execute_script(
        "return Array.from(document.querySelectorAll('*')).flatMap("
        "e => Array.from(e.attributes).map(a => a.name)).filter(n => n.startsWith('on'));"
    )
    assert handlers == []


def test_a_membership_inference_title_goes_to_its_section(browser, server_url):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(server_url + "/")
    _by_id(browser, "placement-paper").send_keys(MIA_TITLE)
    _by_id(browser, "placement-button").click()
    _wait(browser, _placed, f"no placement; status: {_by_id(browser, 'placement-status').text!r}")

    paths = _section_paths(browser)
    assert MIA_SECTION in paths[0], paths
    assert MIA_SECTION in _by_id(browser, "placement-verdict").text
    # every section a paper may go in is ranked, the ones behind the disclosure too
    sections = browser.execute_script(
        "return document.querySelectorAll('#placement-sections .placement-section').length;"
    )
    answer = browser.execute_script(
        "return fetch('/categorize', {method: 'POST', headers: {'Content-Type': "
        "'application/json'}, body: JSON.stringify({title: arguments[0]})}).then(r => r.json())",
        MIA_TITLE,
    )
    assert sections == len(answer["suggestions"]) > 5
    first = browser.find_element(By.CSS_SELECTOR, "#placement-sections .placement-section")
    assert "% confident" in first.find_element(By.CSS_SELECTOR, ".confidence").text
    # the bundled list has no repository URL: the line is named in words, not linked
    where = _by_id(browser, "placement-where").text
    assert "line " in where and " of the list" in where, where
    assert browser.find_elements(By.CSS_SELECTOR, "#placement-where a") == []
    # another section's evidence names entries of the list by title
    evidence = browser.find_elements(By.CSS_SELECTOR, "#placement-sections .evidence-title")
    assert evidence and all(e.get_attribute("textContent").strip() for e in evidence)
    assert _page_errors(browser) == []


def test_an_off_topic_title_says_it_is_unsure(browser, server_url):  # noqa: F811
    browser.get(server_url + "/")
    _by_id(browser, "placement-paper").send_keys("A recipe for sourdough bread with rye flour")
    _by_id(browser, "placement-button").click()
    _wait(browser, _placed, "no placement")
    verdict = _by_id(browser, "placement-verdict").text
    assert verdict == "Unsure: no section is confident", verdict
    assert "Unsure: no section is confident" in _by_id(browser, "placement-status").text


def test_keyboard_alone_places_a_paper_and_browses_a_section(browser, server_url):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    browser.get(server_url + "/")
    _wait(
        browser,
        lambda d: d.execute_script(
            "return document.querySelectorAll('#section-tree button').length > 0;"
        ),
        "no tree",
    )
    browser.execute_script("document.activeElement && document.activeElement.blur();")

    _tab_until(browser, lambda e: e.get_attribute("id") == "placement-paper")
    browser.switch_to.active_element.send_keys(MIA_TITLE)
    button = _tab_until(browser, lambda e: e.get_attribute("id") == "placement-button")
    button.send_keys(Keys.ENTER)
    _wait(browser, _placed, "Enter on the button placed nothing")
    assert MIA_SECTION in _section_paths(browser)[0]
    assert _active_id(browser) == "placement-verdict"  # focus moved to the answer

    # on, by Tab, to the empty section's button in the tree
    target = _tab_until(
        browser,
        lambda e: "section-button" in (e.get_attribute("class") or "") and MIA_SECTION in e.text,
        most=200,
    )
    assert target.tag_name == "button"
    target.send_keys(Keys.ENTER)
    _wait(browser, _browsed, "Enter on a section listed nothing")
    assert _active_id(browser) == "browse-heading"
    assert "0 entries" in _by_id(browser, "browse-heading").text
    assert target.get_attribute("aria-current") == "true"
    assert _page_errors(browser) == []


def test_browse_lists_a_sections_entries_and_shows_empty_ones(browser, server_url):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(server_url + "/")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#section-tree button"), "no tree")
    sections = browser.execute_script("return fetch('/sections').then(r => r.json())")["sections"]
    buttons = browser.find_elements(By.CSS_SELECTOR, "#section-tree button.section-button")
    assert len(buttons) == len(sections)  # every section, the empty ones too
    counts = {
        b.get_attribute("data-section"): int(
            b.find_element(By.CSS_SELECTOR, ".section-count").get_attribute("data-count")
        )
        for b in buttons
    }
    empty = [" > ".join(s["section"]) for s in sections if s["count"] == 0]
    assert any(MIA_SECTION in e for e in empty)
    assert all(counts[e] == 0 for e in empty if not any(k.startswith(e + " > ") for k in counts))
    mia = next(b for b in buttons if MIA_SECTION in b.text)
    assert mia.find_element(By.CSS_SELECTOR, ".section-count").text == "0"

    leaf = next(s for s in sections if s["count"] > 0)
    name = " > ".join(leaf["section"])
    button = next(b for b in buttons if b.get_attribute("data-section") == name)
    assert counts[name] == leaf["count"]
    button.click()
    _wait(browser, _browsed, "no entries listed")
    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#browse-results .title")]
    expected = browser.execute_script(
        "return fetch('/papers?section=' + encodeURIComponent(arguments[0])).then(r => r.json())",
        name,
    )["papers"]
    assert titles == [p["title"] for p in expected]
    assert len(titles) == leaf["count"]
    assert f"{leaf['count']} entr" in _by_id(browser, "browse-heading").text
    assert _page_errors(browser) == []


def test_crafted_titles_in_the_evidence_and_tree_are_text(browser, hostile_url):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(hostile_url + "/")
    _by_id(browser, "placement-paper").send_keys("Backdoor <img src=x onerror=window.__xss=1>")
    _by_id(browser, "placement-button").click()
    _wait(browser, _placed, f"no placement; status: {_by_id(browser, 'placement-status').text!r}")
    browser.execute_script(
        "document.querySelectorAll('#placement details').forEach(d => d.open = true);"
    )
    evidence = " ".join(
        e.text for e in browser.find_elements(By.CSS_SELECTOR, "#placement .evidence-title")
    )
    assert "<img src=x onerror=\"window.__xss='evidence-img'\">" in evidence, evidence
    assert "<script>window.__xss='evidence-script'</script>" in evidence, evidence
    assert "<img src=x onerror=" in _by_id(browser, "placement-status").text
    _assert_nothing_ran(browser)

    tree = _by_id(browser, "section-tree").text
    assert "<b onmouseover=" in tree, tree
    empty = next(
        b
        for b in browser.find_elements(By.CSS_SELECTOR, "#section-tree button")
        if "Empty Topic" in b.text
    )
    assert empty.find_element(By.CSS_SELECTOR, ".section-count").text == "0"
    backdoor = next(
        b
        for b in browser.find_elements(By.CSS_SELECTOR, "#section-tree button")
        if "Backdoor Attacks" in b.text
    )
    backdoor.click()
    _wait(browser, _browsed, "no entries listed")
    listed = " ".join(
        e.text for e in browser.find_elements(By.CSS_SELECTOR, "#browse-results .title")
    )
    assert "<script>window.__xss='evidence-script'</script>" in listed
    _assert_nothing_ran(browser)
