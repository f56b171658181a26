"""Build speed: `build` against raw encode, a one-entry edit against a full build, serve start.

    .venv/bin/python bench/performance/perf_build.py [--quick] [--repeats 5] [--entries 120]

What is measured (ratios of medians). First a scan: raw ``SentenceTransformer.encode`` of
the build's texts (``paper_text`` of each entry) once at each batch size, with one thread
and with torch's default number, to pick the best. Then, alternated in every repeat:

* embedding throughput of a full build (``Library.build()``: read and parse the list,
  attach abstracts, embed every entry, write the index; model already loaded) against that
  best raw encode of the same texts (target >= 0.9x); also the build's own embedding step
  alone (``embed_in_chunks``: calls of 64 texts, longest first, at the embedder's batch size,
  default threads), to show what the chunking itself costs;
* a rebuild after one entry's title was edited (embeds one entry, rewrites the index)
  against the full build (target <= 0.05x);
* the first start of ``secml-papers serve`` on a built index, until /health answers and
  until the first /search answers, against a fresh process that only loads the model; and,
  in-process, the index load (before ``serve`` answers) and the categorizer's fit (which
  ``serve`` runs in the background).

The list is the data set's first ``--entries`` papers (../shared/datasets/owasp-ml-papers)
with their abstracts, so the texts have realistic lengths. Results: ``$SECML_BENCH_OUT/build.json``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import dataset_list
from bench.common.measure import median, timed, verdict
from bench.common.models import model_load_process
from bench.common.processes import CLI, Server, cli_env
from bench.common.results import RESULTS, save
from secml_papers.index.build import BATCH, embed_in_chunks, paper_text
from secml_papers.index.embedding.embedder import BATCH_SIZE, SentenceTransformerEmbedder
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

BATCH_SIZES = (4, 8, 16, 32, 64, 128)
DEFAULT_THREADS = torch.get_num_threads()


def settings(list_path: Path, abstracts: Path, folder: Path) -> Settings:
    return Settings(
        list_source=str(list_path),
        abstracts=abstracts,
        index_dir=folder / "index",
        cache_dir=folder / "cache",
        data_dir=folder / "data",
    )


def edited(list_path: Path) -> Path:
    """The same list with the first entry's title changed."""
    out = list_path.with_name("list-edited.md")
    out.write_text(list_path.read_text().replace('[**"', '[**"Revisited: ', 1))
    return out


def encode_with(model, texts: list[str], batch: int, threads: int) -> float:
    """Seconds of one raw encode with ``threads`` torch threads (restored after)."""
    torch.set_num_threads(threads)
    try:
        return timed(lambda: model.encode(texts, batch_size=batch, normalize_embeddings=True))
    finally:
        torch.set_num_threads(DEFAULT_THREADS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 entries, one repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--entries", type=int, default=120, help="entries of the list")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    work = RESULTS / "build"
    shutil.rmtree(work, ignore_errors=True)
    list_path, abstracts, _ = dataset_list(work, 10**9, 12 if args.quick else args.entries)
    sizes = (16, 64) if args.quick else BATCH_SIZES
    configs = [(b, t) for b in sizes for t in sorted({1, DEFAULT_THREADS})]
    list2 = edited(list_path)

    embedder = SentenceTransformerEmbedder()
    papers = Library(settings(list_path, abstracts, work / "probe"), embedder).paper_list.papers
    texts = [paper_text(p) for p in papers]
    # raw sentence-transformers (PyTorch), the baseline, beside the service's engine
    model = SentenceTransformerEmbedder(engine="torch").sentence_transformer()
    embedder.embed(texts[:8])
    model.encode(texts[:8])  # warm both
    print(f"{len(texts)} entries, mean {sum(map(len, texts)) / len(texts):.0f} characters")

    # 1. the scan: every batch size and thread count once, to pick the best raw encode
    raw_med = {c: encode_with(model, texts, *c) for c in configs}
    best = min(raw_med, key=raw_med.__getitem__)
    print(f"best raw encode: batch {best[0]}, {best[1]} thread(s)", flush=True)
    # 2. the comparison: the best raw encode and the builds, alternated in every repeat
    raw_best, chunked, full, edit = [], [], [], []
    for r in range(repeats):
        raw_best.append(encode_with(model, texts, *best))
        folder = work / f"r{r}"
        full.append(timed(Library(settings(list_path, abstracts, folder), embedder).build))
        lib2 = Library(settings(list2, abstracts, folder), embedder)
        edit.append(timed(lib2.build))
        assert lib2.last_build is not None and lib2.last_build.embedded == 1, lib2.last_build
        chunked.append(timed(lambda: embed_in_chunks(embedder, texts, None)))
        print(
            f"repeat {r}: raw {raw_best[-1]:.2f} s, full {full[-1]:.2f} s, edit {edit[-1]:.3f} s",
            flush=True,
        )

    n = len(texts)

    # serve: first start on a built index, against a fresh process that only loads the model
    serve_dir = work / "serve"
    env = cli_env(serve_dir, list_path, abstracts)
    subprocess.run([CLI, "build"], env=env, check=True, capture_output=True)
    health, first, load = [], [], []
    for r in range(repeats):
        server = Server(env, serve_dir / f"serve-{r}.log")
        health.append(server.health_s)
        first.append(server.first_search_s)
        server.stop()
        load.extend(model_load_process(1))
    # what serve does besides loading the model, in this process (model already loaded)
    warm = Library(replace(settings(list_path, abstracts, serve_dir), auto_build=False), embedder)
    index_load = timed(warm.index)
    calibration = timed(lambda: warm.categorizer.temperature)
    results = {
        "entries": n,
        "repeats": repeats,
        "default_threads": DEFAULT_THREADS,
        "raw_encode_s": {f"batch {b}, {t} thread(s)": v for (b, t), v in raw_med.items()},
        "best_raw": f"batch {best[0]}, {best[1]} thread(s)",
        "raw_best_s": median(raw_best),
        "raw_best_per_s": n / median(raw_best),
        "encode_in_chunks_s": median(chunked),
        "build_batch_size": embedder._onnx.batch_size if embedder._onnx else BATCH_SIZE,
        "engine": embedder.running,
        "build_sorts": True,
        "build_full_s": median(full),
        "build_per_s": n / median(full),
        "build_vs_raw": median(raw_best) / median(full),
        "edit_rebuild_s": median(edit),
        "edit_vs_full": median(edit) / median(full),
        "serve_health_s": median(health),
        "serve_first_search_s": median(first),
        "model_load_process_s": median(load),
        "serve_index_load_s": index_load,
        "serve_calibration_s": calibration,
        "serve_health_vs_load": median(health) / median(load),
        "serve_first_search_vs_load": median(first) / median(load),
    }
    for (b, t), v in raw_med.items():
        print(f"raw encode, batch {b:3d}, {t} thread(s): {v:.2f} s ({n / v:.0f} texts/s)")
    print(f"embed_in_chunks ({BATCH} texts a call): {median(chunked):.2f} s")
    print(f"full build: {median(full):.2f} s ({n / median(full):.0f} texts/s)")
    print(verdict("build throughput vs raw best", results["build_vs_raw"], ">= 0.9"))
    print(verdict("edit rebuild vs full build", results["edit_vs_full"], "<= 0.05"))
    print(f"serve: /health {median(health):.2f} s, first /search {median(first):.2f} s")
    print(f"model load alone (fresh process): {median(load):.2f} s")
    print(f"in-process: index load {index_load:.2f} s, categorizer calibration {calibration:.2f} s")
    save("build", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
