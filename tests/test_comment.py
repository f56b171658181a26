"""The check-pr comment's escaping, judged by a CommonMark renderer (GitHub's dialect is a superset)."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from secml_papers.service.comment import escape

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[**click**](javascript:alert(1))",
    "'quoted' \"twice\" & done",
    "a | b | c",
    "# not a heading",
    "> not a quote",
    "1. not a list",
    "- not a list",
    "`code` *em* _em_ ~~strike~~",
    "&lt;already escaped&gt; &#x27; &amp;",
    "line\nbreak\n\n<b>bold</b>",
    "back\\slash\\",
    "Security of ML Models > Backdoor Attacks",
    "![image](https://x/y.png)",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_itself_and_nothing_else(text: str) -> None:
    rendered = MarkdownIt("commonmark").enable("table").render(escape(text)).strip()
    assert rendered.startswith("<p>") and rendered.endswith("</p>")
    inner = rendered[3:-4]
    assert not re.search(r"<[a-z/!]", inner), inner  # no tag of any kind
    assert html.unescape(inner) == " ".join(text.split())


def test_an_escaped_pipe_stays_inside_its_table_cell() -> None:
    table = f"| a | b |\n|---|---|\n| {escape('x | y')} | z |\n"
    rendered = MarkdownIt("commonmark").enable("table").render(table)
    assert rendered.count("<td>") == 2 and "x | y" in rendered
