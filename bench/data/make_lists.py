"""Build realistic benchmark lists from ../shared/datasets/owasp-ml-papers (never committed).

    .venv/bin/python bench/data/make_lists.py [--out /tmp/secml-bench] [--year 2023]

Writes, into ``--out`` (a scratch folder, never the repository):

* ``owasp-full.md``: every paper of the data set, one ``## Category`` per OWASP category and
  one ``### Attack Papers`` / ``### Defense Papers`` / ... per paper type (types with fewer
  than three papers in a category are left out, as a maintainer would not open a section for
  them), newest first inside a section;
* ``owasp-asof-YEAR.md``: the same headings, but only the papers of YEAR and before: the list
  as it stood then. The later papers are the *new submissions* of the temporal split; some of
  their sections are still empty in that list, as happens when a list grows;
* ``owasp-abstracts.jsonl``: the abstracts in the cache format of DESIGN.md
  (``{"title", "abstract", "source", "doi", "url", ...}``), for ``--abstracts``; it also carries
  the data set's one-line ``tldr`` (used by the benchmark as a reader's query) and the labels.

The data set's category labels were assigned automatically and a few abstracts do not belong
to their titles: figures measured on these lists are realistic, not a gold standard.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.lists import DEFAULT_OUT, DEFAULT_YEAR, make_lists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--year", type=int, default=DEFAULT_YEAR)
    args = parser.parse_args()
    make_lists(args.out, args.year)


if __name__ == "__main__":
    main()
