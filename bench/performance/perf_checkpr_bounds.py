"""What one ``POST /check-pr`` costs by the number of entries it adds: the figures behind
the HTTP bound on added entries (service/limits.py, docs/security.md).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/performance/perf_checkpr_bounds.py [--sizes 10,50,200]

BASE is the bundled list, HEAD adds N synthetic entries to one section; the library serves
BASE with the real model, its categorizer fitted (as ``serve`` fits it in the background).
Each size is timed through the app (starlette's test client, the real handler and
serialisation), then the 5,000-entry request that the bound refuses, with the model's
embedding calls counted: the refusal must come before any embedding.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout
from fastapi.testclient import TestClient

from secml_papers.corpus.storage import read_list
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

ANCHOR = "### Membership Inference Attacks\n"
_WORDS = [
    "robust",
    "private",
    "federated",
    "poisoned",
    "certified",
    "adaptive",
    "spectral",
    "latent",
    "sparse",
]


def head_adding(base: str, n: int) -> str:
    """BASE with ``n`` distinct, well-formed entries added under one heading."""
    lines = []
    for i in range(n):
        a, b, c = _WORDS[i % 9], _WORDS[(i // 9) % 9], _WORDS[(i // 81) % 9]
        lines.append(
            f'- Tester et al. [**"A {a} {b} {c} Attack on Model Number {i}"**]'
            f"(https://example.org/paper/{i}) @ **ICML 2024**.\n"
        )
    return base.replace(ANCHOR, f"{ANCHOR}\n{''.join(lines)}", 1)


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner, self.texts = inner, 0
        self.name, self.dim = inner.name, inner.dim

    def embed(self, texts):
        self.texts += len(texts)
        return self.inner.embed(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,200")
    parser.add_argument("--refused", type=int, default=5000)
    args = parser.parse_args()
    base = read_list(None).text
    embedder = Counting(SentenceTransformerEmbedder())
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp), max_added_entries=10**6)
        library = Library(settings, embedder)
        library.index()
        _ = library.categorizer.temperature  # fitted before serving
        client = TestClient(create_app(library))
        client.post("/check-pr", json={"base": base, "head": head_adding(base, 1)})  # warm
        for n in [int(s) for s in args.sizes.split(",")]:
            started = time.perf_counter()
            answer = client.post("/check-pr", json={"base": base, "head": head_adding(base, n)})
            seconds = time.perf_counter() - started
            print(
                f"adds {n:>5}: {answer.status_code} in {seconds:6.2f} s, "
                f"{len(answer.content) / 1e3:8.1f} kB ({len(answer.content) / n / 1e3:.1f} kB "
                "per entry)"
            )
        bounded = Library(Settings(index_dir=Path(tmp)), embedder)
        bounded.index()
        client = TestClient(create_app(bounded))
        before = embedder.texts
        head = head_adding(base, args.refused)
        started = time.perf_counter()
        answer = client.post("/check-pr", json={"base": base, "head": head})
        seconds = time.perf_counter() - started
        print(
            f"adds {args.refused:>5} (default bound): {answer.status_code} in {seconds:.3f} s, "
            f"{embedder.texts - before} texts embedded: {answer.json()['detail']}"
        )


if __name__ == "__main__":
    main()
