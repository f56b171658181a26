"""How close must a returned title be to count as the entry's own paper?

Run from the repository: ``.venv/bin/python bench/quality/enrich_title_match.py``. Reads the titles of
../shared/datasets/owasp-ml-papers/*.json (never copied into the repository) and compares,
with the production scorer ``corpus.titles.title_similarity``:

- positives: each title against realistic variants of itself, the ways the same paper's title
  differs between a list and an API (case, punctuation, a dropped subtitle, one typo, a "v2"
  suffix, HTML entities, JATS/HTML markup, several at once);
- negatives: each title against every other paper's title, and the short form (subtitle
  dropped) of each title against every other title, since a list may carry the short form.

It prints both distributions and, per threshold, the false-accept rate (another paper taken
for this one: its abstract would be stored) and the false-reject rate (the right paper turned
away: the abstract is looked for elsewhere). A false accept costs far more than a false reject.
"""

from __future__ import annotations

import html
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import load_papers
from secml_papers.corpus.ids import normalise_title
from secml_papers.corpus.titles import TITLE_THRESHOLD, title_similarity

THRESHOLDS = (70, 75, 80, 85, 88, 90, 92, 94, 96, 98)


def _typo(title: str, rng: random.Random) -> str:
    """One edit (delete, substitute, transpose or insert) inside a word of four letters or more."""
    words = title.split()
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return title
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    kind = rng.choice(("delete", "substitute", "transpose", "insert"))
    if kind == "delete":
        w = w[:j] + w[j + 1 :]
    elif kind == "substitute":
        w = w[:j] + rng.choice("aeiourstnl") + w[j + 1 :]
    elif kind == "transpose":
        w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
    else:
        w = w[:j] + rng.choice("aeiourstnl") + w[j:]
    words[i] = w
    return " ".join(words)


def _main_title(title: str) -> str | None:
    for sep in (": ", " - ", " — "):
        if sep in title:
            return title.split(sep, 1)[0]
    return None


def variants(title: str, rng: random.Random) -> dict[str, str]:
    out = {
        "lower case": title.lower(),
        "upper case": title.upper(),
        "punctuation": title.replace(": ", " - ").replace(",", "").replace("-", " ") + ".",
        "typo": _typo(title, rng),
        "v2 suffix": f"{title} v2",
        "html entities": html.escape(title, quote=True).replace(" ", "&nbsp;", 1),
        "markup": title.replace(title.split()[0], f"<i>{title.split()[0]}</i>", 1),
        "quoted": f'"{title}"',
        "lower+typo+period": _typo(title.lower(), rng) + ".",
    }
    main = _main_title(title)
    if main and len(main.split()) >= 2:
        out["subtitle dropped"] = main
        out["subtitle dropped+typo"] = _typo(main, rng)
    elif main:
        out["name only (rejected)"] = main  # "CADE" for "CADE: Detecting ...": refused by design
    return out


def percentiles(values: list[float]) -> str:
    arr = np.asarray(values)
    qs = [0, 1, 5, 25, 50, 75, 95, 99, 100]
    return "  ".join(f"p{q}={np.percentile(arr, q):.1f}" for q in qs)


def main() -> None:
    rng = random.Random(20240604)
    seen: dict[str, str] = {}
    for paper in load_papers():
        title = " ".join(str(paper["title"]).split())
        seen.setdefault(normalise_title(title), title)
    titles = list(seen.values())
    print(f"{len(titles)} distinct titles ({sum(':' in t for t in titles)} with a subtitle)")

    positives: dict[str, list[float]] = {}
    for title in titles:
        for kind, variant in variants(title, rng).items():
            positives.setdefault(kind, []).append(title_similarity(title, variant))
    all_pos = [s for k, v in positives.items() if "rejected" not in k for s in v]

    negatives: list[float] = []
    hardest: list[tuple[float, str, str]] = []
    for i, a in enumerate(titles):
        short = _main_title(a)
        for j, b in enumerate(titles):
            if i == j:
                continue
            if i < j:
                score = title_similarity(a, b)
                negatives.append(score)
                hardest.append((score, a, b))
            if short:
                score = title_similarity(short, b)
                negatives.append(score)
                hardest.append((score, short, b))

    print(f"\npositives: {len(all_pos)} (title vs a variant of itself)")
    print(f"  all          {percentiles(all_pos)}")
    for kind, scores in positives.items():
        print(f"  {kind:<22} n={len(scores):<4} min={min(scores):5.1f} mean={np.mean(scores):5.1f}")
    print(f"negatives: {len(negatives)} (title vs another paper's title, or its short form)")
    print(f"  all          {percentiles(negatives)}")
    print("  hardest negatives:")
    for score, a, b in sorted(hardest, reverse=True)[:8]:
        print(f"    {score:5.1f}  {a[:60]!r}  vs  {b[:60]!r}")

    worst_neg, worst_pos = max(negatives), min(all_pos)
    print(
        f"\nhardest negative {worst_neg:.1f}, weakest positive {worst_pos:.1f}: "
        + (
            f"any threshold in ({worst_neg:.1f}, {worst_pos:.1f}] separates them; "
            f"midpoint {(worst_neg + worst_pos) / 2:.1f}"
            if worst_neg < worst_pos
            else "they overlap"
        )
    )
    print("\nthreshold  false accepts (of negatives)   false rejects (of positives)")
    for t in sorted({*THRESHOLDS, TITLE_THRESHOLD}):
        fa = sum(s >= t for s in negatives)
        fr = sum(s < t for s in all_pos)
        mark = "  <- TITLE_THRESHOLD" if t == TITLE_THRESHOLD else ""
        print(
            f"  {t:5.1f}    {fa:6d} ({fa / len(negatives):.4%})"
            f"            {fr:5d} ({fr / len(all_pos):.2%}){mark}"
        )
    print("\nfalse rejects at the threshold, by variant:")
    for kind, scores in positives.items():
        fr = sum(s < TITLE_THRESHOLD for s in scores)
        print(f"  {kind:<22} {fr:4d} of {len(scores)} ({fr / len(scores):.1%})")


if __name__ == "__main__":
    main()
