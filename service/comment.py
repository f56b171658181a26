"""The check-pr report as a Markdown comment, ready to post on the pull request.

Everything that comes from the pull request is escaped, so a crafted title can break
neither the comment's Markdown (tables, links, emphasis) nor its HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from secml_papers.service.checkpr import CheckReport

MARKER = "<!-- secml-papers:check-pr -->"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape(text: object) -> str:
    """Plain text for a Markdown table cell or line: no markup, no HTML, no line breaks.

    >>> escape('<script>x</script> [**a**](javascript:1) | b')
    '&lt;script&gt;x&lt;/script&gt; \\\\[\\\\*\\\\*a\\\\*\\\\*\\\\]\\\\(javascript:1\\\\) \\\\| b'
    """
    flat = " ".join(str(text).split())
    # Markdown first, then HTML: the entities HTML escaping writes (&lt; &#x27;) must stay intact,
    # and `<`, `>`, `&` and quotes are left to it.
    return html.escape(_MD_SPECIAL.sub(r"\\\1", flat), quote=True)


def _section(path: Sequence[str]) -> str:
    return escape(" › ".join(path)) if path else "(no section)"


def render(report: CheckReport) -> str:
    counts = report.findings()
    data = report.to_dict()
    added = data["added"]
    flagged = {k: v for k, v in counts.items() if v}
    summary = ", ".join(f"{v} {k}" for k, v in flagged.items()) or "nothing to flag"
    lines = [
        MARKER,
        "### secml-papers check",
        "",
        f"**{len(added)} added**, {len(data['removed'])} removed, {len(data['moved'])} moved, "
        f"{len(data['edited'])} edited: {summary}.",
        "",
    ]
    if added:
        lines += ["| line | paper | placement | duplicates |", "|---:|---|---|---|"]
        for a in added:
            lines.append(
                f"| {a['line']} | {escape(a['title'])} | {_verdict(a)} | "
                f"{escape(', '.join(d['reason'] for d in a['duplicates'])) or '–'} |"
            )
        lines.append("")
    dupes = [(a, d) for a in added for d in a["duplicates"]]
    if dupes:
        lines += _details(
            f"Duplicates ({len(dupes)})",
            [
                f"- line {a['line']}: {escape(a['title'])} — {escape(d['reason'])} of "
                f"“{escape(d['title'])}” (`{escape(d['id'])}`)"
                for a, d in dupes
            ],
        )
    if data["problems"]:
        lines += _details(
            f"Problems ({len(data['problems'])})",
            [
                f"- line {p['line']} ({escape(p['kind'])}): {escape(p['message'])}"
                for p in data["problems"]
            ],
        )
    if data["links"]:
        lines += _details(
            f"Links ({sum(bool(x['problem']) for x in data['links'])} of "
            f"{len(data['links'])} need attention)",
            [
                f"- line {x['line']}: {escape(x['url'])} — {escape(x['kind'])}: "
                f"{escape(x['detail'])}"
                for x in data["links"]
            ],
        )
    suggestions = [a for a in added if a["suggestions"]]
    if suggestions:
        rows = []
        for a in suggestions:
            ranked = "; ".join(
                f"{_section(s['section'])} ({s['confidence']:.2f})" for s in a["suggestions"]
            )
            read = " (placed with its abstract)" if a.get("with_abstract") else ""
            rows.append(f"- {escape(a['title'])}{read}: {ranked}")
        lines += _details("Section suggestions", rows)
    changes = (
        [f"- removed: {escape(p['title'])} (line {p['line']} of the base)" for p in data["removed"]]
        + [
            f"- moved: {escape(m['head']['title'])} → {_section(m['head']['section'])}"
            for m in data["moved"]
        ]
        + [
            f"- edited: {escape(e['head']['title'])} ({escape(', '.join(e['fields']))})"
            for e in data["edited"]
        ]
    )
    if changes:
        lines += _details("Other changes", changes)
    lines.append(
        "<sub>Confidences come from the list's own entries, with the section the contributor "
        "chose as a prior; below 0.70 for another section the check says unsure rather than "
        "ask for a move.</sub>"
    )
    return "\n".join(lines) + "\n"


def _verdict(added: dict) -> str:
    """What the check says of one placement: agreement is said as such, doubt only when no
    section is confident, a move only past the measured threshold (index/categorize/verdict.py)."""
    if not added["suggestions"]:
        return "no sections to compare"
    word = added.get("verdict")
    target = added.get("verdict_section") or added["suggestions"][0]["section"]
    confidence = added.get("verdict_confidence", added["suggestions"][0]["confidence"])
    if word == "ok":
        return f"placement ok ({confidence:.2f})"
    if word == "move":
        return f"suggest moving to **{_section(target)}** ({confidence:.2f})"
    return f"unsure (best: {_section(target)}, {confidence:.2f})"


def _details(summary: str, rows: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *rows, "", "</details>", ""]
