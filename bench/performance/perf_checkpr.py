"""check-pr on a 500-entry list with a 20-paper pull request, against embedding those 20.

    .venv/bin/python bench/performance/perf_checkpr.py [--quick] [--repeats 3]

The list is built with bench/common/datasets.py's ``markdown_list`` from the data set: its 347
distinct papers, and to reach 500 entries, more entries titled with a paper's one-line
``tldr`` or the first sentence of its abstract (distinct texts in the same section). HEAD adds 20 of the papers to BASE's 480.
Measured in-process with the model loaded, interleaved in every repeat:

* ``check_pr`` with a library serving BASE (its index built, its categorizer fitted, as
  ``serve`` fits it in the background: BASE's vectors and fitted categorizer reused), against
  ``embed`` of the 20 added titles (what check-pr itself must embed); no target is set in
  the issue, the ratio is check-pr's overhead; the fit itself is timed once, apart;
* ``check_pr`` with a library serving another list (the bundled one), which embeds every
  BASE entry again: what ``secml-papers check-pr`` costs without ``--list BASE``;
* the CLI, cold: ``secml-papers --list BASE check-pr BASE HEAD`` in a fresh process;
* the categorizer's hot spot alone: a 385 x 385 matrix inverse (one ridge probe) in fresh
  processes with numpy's default BLAS threads and with one.

Results: ``$SECML_BENCH_OUT/checkpr.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import distinct_papers, markdown_list
from bench.common.measure import hot_spots, median, timed
from bench.common.processes import CLI, cli_env
from bench.common.results import RESULTS, save
from secml_papers.corpus.parse import parse_list
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.service.checkpr import check_pr
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings


def lists(entries: int, added: int) -> tuple[str, str, list[str]]:
    """BASE and HEAD Markdown, and the titles HEAD adds."""
    papers = distinct_papers()
    step = len(papers) // added
    new = [p for i, p in enumerate(papers) if i % step == 0][:added]
    kept = [p for p in papers if p not in new]
    extra = [  # their own URL: an entry's id comes from its link (arXiv id, DOI, URL)
        {**p, "title": text.split(". ")[0].strip(), "pdf_url": f"https://example.org/{key}/{i}"}
        for key in ("tldr", "abstract")
        for i, p in enumerate(kept)
        if (text := str(p.get(key) or "")) and len(text.split(". ")[0].split()) >= 4
    ]
    base = (kept + extra)[: entries - added]
    head = base + new
    keep = {id(p) for p in base}
    base_md = markdown_list(head, 1, keep=lambda p: id(p) in keep)
    return base_md, markdown_list(head, 1), [str(p["title"]) for p in new]


INVERSE = """
import time, numpy as np
x = np.random.default_rng(0).random((500, 385)); a = x.T @ x + np.eye(385)
times = []
for _ in range(15):
    t = time.perf_counter(); np.linalg.inv(a); times.append(time.perf_counter() - t)
print(sorted(times)[7] * 1000)
"""


def inverse_ms(threads: str | None) -> float:
    """Median ms of one probe's inverse in a fresh process (``threads`` None: the default)."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(var, None)
        if threads:
            env[var] = threads
    run = subprocess.run([sys.executable, "-c", INVERSE], env=env, capture_output=True, text=True)
    return float(run.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 45-entry list, 5 added")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    entries, added = (45, 5) if args.quick else (500, 20)
    work = RESULTS / "checkpr"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    base_md, head_md, titles = lists(entries, added)
    (work / "base.md").write_text(base_md)
    (work / "head.md").write_text(head_md)
    counts = [len(parse_list(t).papers) for t in (base_md, head_md)]
    print(f"BASE {counts[0]} entries, HEAD {counts[1]} entries")

    embedder = SentenceTransformerEmbedder()
    folders = {"base": work / "served-base", "bundled": work / "served-bundled"}
    dirs = {"cache_dir": work / "cache", "data_dir": work / "data"}
    served = {
        "base": Settings(list_source=str(work / "base.md"), index_dir=folders["base"], **dirs),
        "bundled": Settings(index_dir=folders["bundled"], **dirs),
    }
    libraries = {k: Library(s, embedder) for k, s in served.items()}
    for library in libraries.values():
        library.index()  # built now, outside the timed part
    fit_s = timed(lambda: libraries["base"].categorizer)  # what serve fits in the background
    print(f"fitting BASE's categorizer: {fit_s:.2f} s")
    env = cli_env(work / "cli", work / "base.md", None)
    subprocess.run([CLI, "build"], env=env, check=True, capture_output=True)
    cli = [CLI, "check-pr", str(work / "base.md"), str(work / "head.md"), "--json"]

    embed20, warm, other, cold = [], [], [], []
    report = None
    for r in range(repeats):
        embed20.append(timed(lambda: embedder.embed(titles)))

        def run() -> None:
            nonlocal report
            report = check_pr(libraries["base"], base_md, head_md)

        warm.append(timed(run))
        other.append(timed(lambda: check_pr(libraries["bundled"], base_md, head_md)))
        cold.append(timed(lambda: subprocess.run(cli, env=env, capture_output=True)))
        print(
            f"repeat {r}: embed {added} titles {embed20[-1]:.3f} s, check-pr {warm[-1]:.3f} s, "
            f"serving another list {other[-1]:.2f} s, cold CLI {cold[-1]:.2f} s",
            flush=True,
        )
    assert report is not None and len(report.added) == added, "HEAD must add the papers"
    spots = hot_spots(lambda: check_pr(libraries["base"], base_md, head_md))
    inverse = {"default": [], "1": []}
    for _ in range(repeats):
        inverse["default"].append(inverse_ms(None))
        inverse["1"].append(inverse_ms("1"))
    results = {
        "base_entries": counts[0],
        "head_entries": counts[1],
        "added": added,
        "repeats": repeats,
        "embed_added_s": median(embed20),
        "fit_base_categorizer_s": fit_s,
        "checkpr_s": median(warm),
        "checkpr_vs_embed": median(warm) / median(embed20),
        "checkpr_other_list_s": median(other),
        "checkpr_other_list_vs_embed": median(other) / median(embed20),
        "checkpr_cold_cli_s": median(cold),
        "hot_spots": spots,
        "inverse_385_ms": {k: median(v) for k, v in inverse.items()},
    }
    print(f"one probe's inverse: {results['inverse_385_ms']} ms by BLAS threads")
    for spot in spots:
        print(f"  {spot['own_share']:6.1%} of check-pr's own time in {spot['function']}")
    print(f"check-pr vs embedding the {added} added titles: {results['checkpr_vs_embed']:.2f}x")
    save("checkpr", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
