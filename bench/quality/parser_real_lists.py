"""How many entries the parser finds in real public lists, against counts made independently.

Usage: python bench/quality/parser_real_lists.py DIR

DIR holds copies of public lists (never committed: other projects' text) and a
``counts.json`` written by whoever made the copies, one object per list::

    {"file", "repo", "path", "commit", "shape", "entries", "non_paper_resource_items": {...}}

``entries`` counts papers; ``non_paper_resource_items`` counts the items of resource sections
(tools, blogs, talks) per section. The parser takes any linked item as an entry, so it is
compared with papers + resource items, and the resource sections are reported apart.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from secml_papers.corpus.parse import parse_list


def main(folder: Path) -> int:
    lists = json.loads((folder / "counts.json").read_text(encoding="utf-8"))
    header = (
        f"{'list':58} {'found':>5} {'indep.':>6} {'diff':>5} {'warn':>4} "
        f"{'no year':>7} {'no venue':>8} {'no link':>7} {'notes':>5} {'sections':>8}"
    )
    print(header)
    total_found = total_expected = 0
    for item in lists:
        text = (folder / item["file"]).read_text(encoding="utf-8")
        parsed = parse_list(text)
        resources = item.get("non_paper_resource_items") or {}
        expected = item["entries"] + sum(resources.values())
        papers = parsed.papers
        found = len(papers)
        total_found += found
        total_expected += expected
        print(
            f"{item['repo'] + '/' + item['path']:58.58} {found:5d} {expected:6d} "
            f"{found - expected:+5d} {len(parsed.warnings):4d} "
            f"{sum(p.year is None for p in papers):7d} {sum(p.venue is None for p in papers):8d} "
            f"{sum(p.url is None for p in papers):7d} {sum(bool(p.note) for p in papers):5d} "
            f"{len(parsed.sections):8d}"
        )
        by_top = Counter(p.section[0] if p.section else "(no section)" for p in papers)
        resource_found = {name: by_top.get(name, 0) for name in resources}
        if resource_found:
            print(f"{'':4}resource sections found: {resource_found}, counted: {resources}")
    print(f"\nall lists: {total_found} found, {total_expected} counted independently")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
