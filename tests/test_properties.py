"""Property-based tests: random Markdown never breaks the parser or the diff.

The strategies write lines of the kinds paper lists contain (headings, entries of every
shape, nested details, tables, contents links, code, prose, stray markup) in random orders and
mixtures, plus arbitrary text, so that every branch of the parser meets inputs no fixture has.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from secml_papers.corpus.diff import diff_lists
from secml_papers.corpus.lint import lint_list
from secml_papers.corpus.order import order_problems
from secml_papers.corpus.parse import parse_list

EXAMPLES = 300
_MD = MarkdownIt("commonmark").enable("table")

words = st.text(
    alphabet=st.sampled_from("abcdefghij ABC:-'\"*_[]()<>|`#&.,!?é漢😀\\"), min_size=0, max_size=30
)
plain = st.text(alphabet=st.sampled_from("abcdefgh ABCDE"), min_size=1, max_size=25)
years = st.integers(min_value=1940, max_value=2040).map(str)
urls = st.sampled_from(
    [
        "https://arxiv.org/abs/2201.00763",
        "https://arxiv.org/pdf/2201.00763v2",
        "https://doi.org/10.1145/3589335.3651525",
        "http://www.example.org/p.pdf?",
        "#contents",
        "",
        "javascript:alert(1)",
    ]
)


@st.composite
def entry(draw: st.DrawFn) -> str:
    title, authors, venue = draw(plain), draw(plain), draw(plain)
    year, url = draw(years), draw(urls)
    shape = draw(st.integers(0, 8))
    bullet = draw(st.sampled_from(["-", "*", "1.", "2)", "+"]))
    body = [
        f'{authors} [**"{title}"**]({url}) @ **{venue} {year}**.',
        f"[**{title}**]({url}) ({authors}, {year}) ([code]({url}))",
        f"[{title}]({url}), {authors} et al., {venue} {year}",
        f"**{title}**. {venue} {year}. `{draw(plain)}` [[pdf]({url})] [[code]({url})]",
        f"{title}.\n  [[pdf]]({url})\n  - {authors}. *{venue}*, {year}.",
        f"[{title}]({url}) - {draw(words)}",
        f"**{title}**",
        draw(words),
        f"[{draw(words)}]({url}) {draw(words)} **{draw(words)}** `{draw(words)}`",
    ][shape]
    return f"{bullet} {body}"


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        level = draw(st.integers(1, 6))
        name = draw(st.one_of(plain, years, words, st.sampled_from(["News", "Contents", "2021"])))
        return f"{'#' * level} {name}"
    if kind == 1:
        lines = draw(st.lists(entry(), min_size=1, max_size=4))
        indent = draw(st.sampled_from(["", "  ", "    "]))
        return "\n".join(indent + line if i else line for i, line in enumerate(lines))
    if kind == 2:
        header = draw(st.sampled_from(["| Year | Title | Venue |", "| Tool | Stars |", "| a |"]))
        cells = draw(st.lists(st.tuples(years, plain, words), min_size=0, max_size=3))
        rows = "\n".join(f"| {y} | {t} | {v} |" for y, t, v in cells)
        return f"{header}\n|---|---|---|\n{rows}"
    if kind == 3:
        return f"**{draw(plain)}**"
    if kind == 4:
        return f"```\n{draw(words)}\n```"
    if kind == 5:
        return f"> {draw(entry())}"
    if kind == 6:
        return draw(st.text(max_size=60))
    return draw(words)


documents = st.lists(block(), max_size=14).map("\n\n".join)


def item_lines(text: str) -> set[int]:
    """Lines of every list item and table row, found independently of the parser."""
    return {
        tok.map[0] + 1
        for tok in _MD.parse(text)
        if tok.type in ("list_item_open", "tr_open") and tok.map
    }


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_every_item_is_parsed_skipped_or_warned(text: str) -> None:
    parsed = parse_list(text)
    accounted = (
        {p.line for p in parsed.papers} | {w.line for w in parsed.warnings} | set(parsed.skipped)
    )
    assert item_lines(text) <= accounted
    assert all(p.title.strip() for p in parsed.papers)
    assert len({p.id for p in parsed.papers}) == len(parsed.papers)
    for p in parsed.papers:
        assert p.year is None or 1950 <= p.year <= 2099
        assert all(name.strip() for name in p.section)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    parsed = parse_list(text)
    lint_list(text, parsed, today_year=2026)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, documents)
def test_a_diff_accounts_for_every_entry_of_both_versions(a: str, b: str) -> None:
    base, head = parse_list(a), parse_list(b)
    diff = diff_lists(base, head)
    paired_base = {pair.base.id for pair in diff.pairs}
    paired_head = {pair.head.id for pair in diff.pairs}
    assert {p.id for p in diff.added} | paired_head == {p.id for p in head.papers}
    assert {p.id for p in diff.removed} | paired_base == {p.id for p in base.papers}
    assert not {p.id for p in diff.added} & paired_head
    assert not {p.id for p in diff.removed} & paired_base
    order_problems(base, head, {p.id for p in diff.added})
    lint_list(b, head, base, today_year=2026)


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_a_list_compared_with_itself_has_no_changes(text: str) -> None:
    parsed = parse_list(text)
    diff = diff_lists(parsed, parse_list(text))
    assert (diff.added, diff.removed, diff.moved, diff.edited) == ((), (), (), ())
