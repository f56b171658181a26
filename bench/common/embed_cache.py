"""Embeddings cached on disk: the quality benchmarks embed the same texts again and again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def embed_cached(embedder, texts: list[str], cache: Path) -> np.ndarray:
    """Embeddings, cached on disk by model and texts (the benchmark embeds the same texts often)."""
    key = hashlib.sha1("\n\0".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    path = cache / f"emb-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = embedder.embed(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
