"""A larger list for the pull-request tests: the bundled list with the fixture's entries merged in.

Each fixture entry goes into the section of the same heading path, after the last entry of its
year or a later one, so the bundled list's newest-first order still holds; a section the bundled
list lacks is appended, with its entries, at the end of its parent section.
"""

from __future__ import annotations

from pathlib import Path

from secml_papers.corpus.parse import parse_list

FIXTURE = Path(__file__).parent / "fixtures" / "more-secml-papers.md"


def merge(base: str, extra: str) -> str:
    lines = base.splitlines()
    extra_lines = extra.splitlines()
    new_sections: dict[tuple[str, ...], list[str]] = {}
    known = {s.path for s in parse_list(base).sections}
    for paper in parse_list(extra).papers:
        entry = extra_lines[paper.line - 1]
        if paper.section not in known:
            new_sections.setdefault(paper.section, []).append(entry)
            continue
        current = parse_list("\n".join(lines))
        heading = next(s for s in current.sections if s.path == paper.section)
        here = [p for p in current.papers if p.section == paper.section]
        newer = [p.line for p in here if (p.year or 0) >= (paper.year or 0)]
        if newer:
            lines.insert(max(newer), entry)
        elif here:
            lines.insert(min(p.line for p in here) - 1, entry)
        else:
            lines[heading.line : heading.line] = ["", entry]
    for path, entries in new_sections.items():
        current = parse_list("\n".join(lines))
        parent = next(s for s in current.sections if s.path == path[:-1])
        later = [
            s.line
            for s in current.sections
            if s.line > parent.line and len(s.path) <= len(path) - 1
        ]
        end = min(later) - 1 if later else len(lines)
        heading = "#" * (len(path) + 1) + " " + path[-1]
        lines[end:end] = ["", heading, "", *entries, ""]
    return "\n".join(lines) + "\n"


def larger_list(bundled: str) -> str:
    return merge(bundled, FIXTURE.read_text(encoding="utf-8"))
