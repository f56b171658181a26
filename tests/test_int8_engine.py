"""The int8 engine: quantized once into the cache, close to float32, chosen by the setting,
and never mixed with float32 vectors in one index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from secml_papers.corpus.errors import IndexProblem, ModelError
from secml_papers.index.embedding import quantized as quantized_module
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder, resolve_model
from secml_papers.index.embedding.onnx_engine import exported
from secml_papers.index.stores.store import IndexStore
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

pytestmark = pytest.mark.real_model
EXE = Path(sys.executable).with_name("secml-papers")
TEXTS = [
    "Membership Inference Attacks From First Principles",
    "certified robustness via randomized smoothing",
    "a",
    "Backdoor attacks on federated learning. " * 80,  # longer than the model reads
]
# bench/quality/int8_compare.py measured the least cosine to float32 at 0.96-0.99 over 700
# titles and abstracts; a broken quantization (per-tensor scales, a wrong graph) falls lower
MIN_COSINE = 0.95


@pytest.fixture(scope="session")
def int8_cache(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding a copy of the session's float graph and nothing else."""
    real_embedder.embed(["warm"])  # the float graph exists in the session's cache now
    cache = tmp_path_factory.mktemp("int8-cache")
    graph = exported(resolve_model("all-MiniLM-L6-v2"), real_embedder.cache_dir or _user_cache())
    (cache / "onnx").mkdir()
    shutil.copy2(graph, cache / "onnx" / graph.name)
    return cache


@pytest.fixture(scope="session")
def int8_embedder(int8_cache: Path) -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder(engine="onnx-int8", cache_dir=int8_cache)
    assert embedder.running == "onnx-int8"
    return embedder


def _user_cache() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("secml-papers")


def test_the_int8_graph_is_made_once_beside_the_float_one_and_reused(
    int8_embedder, int8_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graphs = sorted((p.name for p in (int8_cache / "onnx").iterdir()), key=len)
    assert len(graphs) == 2 and graphs[1] == graphs[0].replace(".onnx", "-int8.onnx")
    int8 = int8_cache / "onnx" / graphs[1]
    float_size = (int8_cache / "onnx" / graphs[0]).stat().st_size
    assert int8.stat().st_size < float_size / 3  # int8 weights: a quarter of the bytes
    stamp = int8.stat().st_mtime_ns

    def refuse(*_args) -> None:
        raise AssertionError("quantized again")

    monkeypatch.setattr(quantized_module, "quantize", refuse)
    again = SentenceTransformerEmbedder(engine="onnx-int8", cache_dir=int8_cache)
    assert again.embed(["backdoor"]).shape == (1, 384)
    assert int8.stat().st_mtime_ns == stamp


def test_int8_vectors_are_close_to_float32_but_not_the_same(real_embedder, int8_embedder) -> None:
    got, expected = int8_embedder.embed(TEXTS), real_embedder.embed(TEXTS)
    assert got.shape == expected.shape == (4, 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() > MIN_COSINE, cosines
    assert np.abs(got - expected).max() > 1e-4  # really another graph, not the float one


def test_its_name_says_int8_so_the_index_records_the_precision(
    real_embedder, int8_embedder
) -> None:
    assert real_embedder.name == "all-MiniLM-L6-v2"
    assert int8_embedder.name == "all-MiniLM-L6-v2+int8"


def test_an_index_built_in_float32_is_refused_or_rebuilt_in_int8(
    real_embedder, int8_embedder, tmp_path: Path
) -> None:
    Library(Settings(index_dir=tmp_path), real_embedder).index()
    strict = Library(Settings(index_dir=tmp_path, auto_build=False), int8_embedder)
    with pytest.raises(IndexProblem) as err:
        strict.index()
    assert "built with all-MiniLM-L6-v2, not all-MiniLM-L6-v2+int8" in str(err.value)
    said: list[str] = []
    Library(Settings(index_dir=tmp_path), int8_embedder, notify=said.append).index()
    assert IndexStore(tmp_path).load().manifest.model == "all-MiniLM-L6-v2+int8"
    assert any("rebuilding it with all-MiniLM-L6-v2+int8" in s for s in said), said
    Library(Settings(index_dir=tmp_path), real_embedder).index()
    assert IndexStore(tmp_path).load().manifest.model == "all-MiniLM-L6-v2"


def test_a_model_int8_cannot_run_is_one_clear_error(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(resolve_model("all-MiniLM-L6-v2"), model)
    (model / "tokenizer.json").unlink()  # not a model ONNX runs here
    embedder = SentenceTransformerEmbedder(str(model), engine="onnx-int8", cache_dir=tmp_path)
    with pytest.raises(ModelError, match="the onnx-int8 engine runs only a plain transformer"):
        embedder.embed(["backdoor"])


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EXE), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def test_the_setting_chooses_int8_through_the_cli_and_mixing_is_refused(
    int8_cache: Path, tmp_path: Path
) -> None:
    env = {"SECML_PAPERS_CACHE_DIR": str(int8_cache)}
    index = str(tmp_path / "index")
    built = _cli("--index-dir", index, "build", "--json", **env)
    assert built.returncode == 0, built.stderr
    refused = _cli(
        "--index-dir", index, "--engine", "onnx-int8", "--no-build", "search", "x", **env
    )
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the index in "), lines
    assert lines[0].endswith(
        "is built with all-MiniLM-L6-v2, not all-MiniLM-L6-v2+int8; run `secml-papers build`"
    )
    query = "certified robustness via randomized smoothing"
    found = _cli(
        "--index-dir", index, "search", query, "--json", SECML_PAPERS_ENGINE="onnx-int8", **env
    )
    assert found.returncode == 0, found.stderr
    assert "rebuilding it with all-MiniLM-L6-v2+int8" in " ".join(found.stderr.split())
    results = json.loads(found.stdout)["results"]
    assert "randomized smoothing" in results[0]["title"].lower()
    manifest = json.loads(_cli("--index-dir", index, "build", "--json", **env).stdout)
    assert manifest["embedded"] > 0  # back to float32: nothing of the int8 index reused
