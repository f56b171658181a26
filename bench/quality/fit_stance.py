"""Fits the categoriser's stance model (index/categorize/stance.py) on the real lists of
../shared/datasets/list-histories and writes index/categorize/stance.json.

Each list's titles as its last commit holds them, labelled by their section's kind: +1 under
a defense (or certified) heading, -1 under an attack heading; lists without such headings
(sections by year, by topic alone) give nothing. It also prints, per list, how well a model
fitted on the *other* lists tells that list's attacks from its defenses (the leave-one-list-out
figure that says whether the words carry over), beside always answering "attack".

Usage: python -m bench.quality.fit_stance [--no-write]   (a minute: clones and parses only)
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.common.paths import ROOT
from secml_papers.corpus.history import Reader, default_paths, list_at
from secml_papers.index.categorize import stance

HISTORIES = ROOT.parent / "shared" / "datasets" / "list-histories"
# The list kept in one file per topic (its topics are the files); see replay_lists.py.
PATHS = {"ThuCCSLab+Awesome-LM-SSP": ["collection/paper/*/*.md"]}


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


def examples_of(repo: Path, paths: Sequence[str]) -> list[tuple[str, float]]:
    """(title, sign of its section) for every entry of the list at its last commit."""
    with Reader(repo) as reader:
        found = list_at(reader, "HEAD", list(paths) or list(default_paths(repo)))
    return [(p.title, stance.sign(p.section)) for p in found.papers if p.section]


def all_examples(repos: dict[str, Path]) -> dict[str, list[tuple[str, float]]]:
    return {name: examples_of(repo, PATHS.get(name, [])) for name, repo in repos.items()}


def without(examples: dict[str, list], name: str) -> stance.Stance | None:
    """The model fitted on every list but ``name`` (None when the rest has no two kinds)."""
    rest = {n: e for n, e in examples.items() if n != name}
    try:
        return stance.fit(rest)
    except ValueError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        examples = all_examples(clone_all(Path(scratch)))
    print(f"{'list':58} {'attack':>6} {'defense':>7} {'held-out acc':>12} {'all attack':>10}")
    for name, pairs in examples.items():
        signs = np.array([s for _, s in pairs if s])
        if not len(signs):
            print(f"{name:58} {0:6} {0:7}  (no attack or defense sections)")
            continue
        model = without(examples, name)
        titles = [t for t, s in pairs if s]
        right = np.mean(np.sign(model.scores(titles)) == signs) if model else float("nan")
        print(
            f"{name:58} {int((signs < 0).sum()):6} {int((signs > 0).sum()):7} "
            f"{right:12.3f} {np.mean(signs < 0):10.3f}"
        )
    model = stance.fit(examples)
    print(f"fitted on {sum(model.trained_on.values())} titles, {len(model.weights)} terms")
    if not args.no_write:
        stance.SHIPPED.write_text(model.to_json() + "\n")
        print(f"wrote {stance.SHIPPED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
