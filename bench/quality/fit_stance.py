"""Fits the categoriser's stance model (index/categorize/stance.py) on the real lists of
../shared/datasets/list-histories and the OWASP data set, and writes
index/categorize/stance.json.

Each list's titles as its last commit holds them, labelled by their section's kind
(``stance.kind``: attack, defense, certified, survey, benchmark); lists without such headings
(sections by year, by topic alone) give nothing. The OWASP papers (../shared/datasets/
owasp-ml-papers) add their titles labelled by their paper type (attack, defense, survey;
benchmark, tool and empirical study as "benchmark"): automatic labels, but with them a model
fitted without a list named that list's attacks and defenses right more often on every list
that splits the two but one (docs/quality.md). It also prints, per list, how often a model fitted on the *other*
sources names that list's kind of each title (the leave-one-list-out figure that says whether
the words carry over), beside always answering the list's commonest kind.

Usage: python -m bench.quality.fit_stance [--no-write]   (a minute: clones and parses only)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.common.paths import DATASET, ROOT
from secml_papers.corpus.history import Reader, default_paths, list_at
from secml_papers.index.categorize import stance
from secml_papers.index.categorize.categorizer import entry_text

HISTORIES = ROOT.parent / "shared" / "datasets" / "list-histories"
# The list kept in one file per topic (its topics are the files); see replay_lists.py.
PATHS = {"ThuCCSLab+Awesome-LM-SSP": ["collection/paper/*/*.md"]}
OWASP = "owasp-ml-papers"  # not a list: its titles train every model, none is judged on it
_PAPER_TYPES = {
    "attack": "attack",
    "defense": "defense",
    "survey": "survey",
    "benchmark": "benchmark",
    "tool": "benchmark",
    "empirical": "benchmark",
}


def clone_all(scratch: Path, only: Sequence[str] | None = None) -> dict[str, Path]:
    """Every history's bundle cloned under ``scratch``, by name."""
    if not HISTORIES.is_dir():
        raise SystemExit(f"{HISTORIES} is missing: this needs ../shared/datasets")
    repos = {}
    for bundle in sorted(HISTORIES.glob("*.bundle")):
        if only and bundle.stem not in only:
            continue
        repo = scratch / bundle.stem
        subprocess.run(
            ["git", "-c", "advice.detachedHead=false", "clone", "-q", str(bundle), str(repo)],
            check=True,
        )
        repos[bundle.stem] = repo
    return repos


def examples_of(repo: Path, paths: Sequence[str]) -> list[tuple[str, str]]:
    """(text, kind of its section) for every entry of the list at its last commit: the text
    the categoriser's stance reads of an entry (``entry_text``: the title, then its tags)."""
    with Reader(repo) as reader:
        found = list_at(reader, "HEAD", list(paths) or list(default_paths(repo)))
    return [(entry_text(p), stance.kind(p.section)) for p in found.papers if p.section]


def owasp_examples(folder: Path = DATASET) -> list[tuple[str, str]]:
    """(title, kind of its paper type) for the OWASP papers, each title once."""
    if not folder.is_dir():
        raise SystemExit(f"{folder} is missing: this needs ../shared/datasets")
    kinds: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        for paper in json.loads(path.read_text())["papers"]:
            found = _PAPER_TYPES.get(paper.get("paper_type", ""))
            if found and paper.get("title"):
                kinds.setdefault(paper["title"], found)
    return list(kinds.items())


def all_examples(repos: dict[str, Path]) -> dict[str, list[tuple[str, str]]]:
    """Every list's examples by name, and the OWASP papers' (``OWASP``)."""
    examples = {name: examples_of(repo, PATHS.get(name, [])) for name, repo in repos.items()}
    return {**examples, OWASP: owasp_examples()}


def without(examples: dict[str, list], name: str) -> stance.Stance | None:
    """The model fitted on every source but ``name`` (None when the rest has no two kinds)."""
    rest = {n: e for n, e in examples.items() if n != name}
    try:
        return stance.fit(rest)
    except ValueError:
        return None


def lists_only() -> stance.Stance | None:
    """The model fitted on the real lists alone, for benchmarks built from the OWASP data set:
    the shipped one has also learnt from the OWASP titles' paper types, their labels."""
    with tempfile.TemporaryDirectory() as scratch:
        examples = all_examples(clone_all(Path(scratch)))
    return without(examples, OWASP)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        examples = all_examples(clone_all(Path(scratch)))
    print(f"{'source':60} {'titles by kind':46} {'held-out acc':>12} {'commonest':>9}")
    for name, pairs in examples.items():
        known = [(t, k) for t, k in pairs if k in stance.KINDS]
        counts = Counter(k for _, k in known)
        said = " ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        if len(counts) < 2 or name == OWASP:
            print(f"{name:60} {said or '(no sections of two kinds)':46}")
            continue
        model = without(examples, name)
        titles, truth = [t for t, _ in known], [k for _, k in known]
        right = float("nan")
        if model:  # the kinds this list has, as the categoriser compares them
            present = [model.kinds.index(k) for k in sorted(counts) if k in model.kinds]
            named = np.array(model.kinds)[present][
                model.log_probabilities(titles)[:, present].argmax(axis=1)
            ]
            right = float(np.mean(named == np.array(truth)))
        commonest = counts.most_common(1)[0][1] / len(known)
        print(f"{name:60} {said:46} {right:12.3f} {commonest:9.3f}")
    model = stance.fit(examples)
    terms = len(model.words.vocabulary), len(model.chars.vocabulary)
    print(
        f"fitted on {sum(model.trained_on.values())} titles: {terms[0]} words, {terms[1]} n-grams"
    )
    if not args.no_write:
        stance.SHIPPED.write_text(model.to_json() + "\n")
        print(f"wrote {stance.SHIPPED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
