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
# bench/quality/int8_compare.py measured the least cosine to float32 at 0.984 over 335 titles,
# 0.987 over them with abstracts and 0.984 over 335 queries; these texts give 0.989-0.995, and
# 0.930-0.966 with one scale per tensor instead of per channel
MIN_COSINE = 0.97


@pytest.fixture(scope="session")
def float_embedder() -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder(engine="onnx")
    assert embedder.running == "onnx", embedder.fallback
    return embedder


@pytest.fixture(scope="session")
def int8_cache(float_embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding a copy of the session's float graph and nothing else."""
    cache = tmp_path_factory.mktemp("int8-cache")
    graph = exported(resolve_model("all-MiniLM-L6-v2"), _user_cache())  # float_embedder's
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


def test_int8_vectors_are_close_to_float32_but_not_the_same(float_embedder, int8_embedder) -> None:
    got, expected = int8_embedder.embed(TEXTS), float_embedder.embed(TEXTS)
    assert got.shape == expected.shape == (4, 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() > MIN_COSINE, cosines
    assert np.abs(got - expected).max() > 1e-4  # really another graph, not the float one


def test_a_texts_int8_vector_does_not_depend_on_its_batch(int8_embedder) -> None:
    texts = [f"certified defence number {i} against backdoor attacks" for i in range(8)]
    together = int8_embedder.embed([*texts, "a much longer text that pads the others " * 9])
    alone = np.vstack([int8_embedder.embed([t]) for t in texts])
    assert np.abs(together[:8] - alone).max() < 1e-6  # batched, 0.029 apart (quantized.py)


def test_its_name_says_int8_for_the_index_to_record_and_float32_stays_the_default(
    real_embedder, float_embedder, int8_embedder
) -> None:
    assert Settings().engine == "onnx" and real_embedder.running == "onnx"
    assert float_embedder.name == real_embedder.name == "all-MiniLM-L6-v2"
    assert int8_embedder.name == "all-MiniLM-L6-v2+int8"


def test_an_index_built_in_float32_is_refused_or_rebuilt_in_int8(
    float_embedder, int8_embedder, tmp_path: Path
) -> None:
    Library(Settings(index_dir=tmp_path), float_embedder).index()
    strict = Library(Settings(index_dir=tmp_path, auto_build=False), int8_embedder)
    with pytest.raises(IndexProblem) as err:
        strict.index()
    assert "built with all-MiniLM-L6-v2, not all-MiniLM-L6-v2+int8" in str(err.value)
    said: list[str] = []
    Library(Settings(index_dir=tmp_path), int8_embedder, notify=said.append).index()
    assert IndexStore(tmp_path).load().manifest.model == "all-MiniLM-L6-v2+int8"
    assert any("rebuilding it with all-MiniLM-L6-v2+int8" in s for s in said), said
    Library(Settings(index_dir=tmp_path), float_embedder).index()
    assert IndexStore(tmp_path).load().manifest.model == "all-MiniLM-L6-v2"


def test_a_model_onnx_cannot_run_runs_in_float32_under_its_own_name(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(resolve_model("all-MiniLM-L6-v2"), model)
    (model / "tokenizer.json").unlink()  # not a model ONNX runs here
    embedder = SentenceTransformerEmbedder(str(model), engine="onnx-int8", cache_dir=tmp_path)
    assert embedder.running == "torch" and embedder.fallback
    assert embedder.name == str(model)  # no "+int8": its vectors are float32's


def test_an_int8_graph_that_cannot_be_made_is_one_clear_error(
    float_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(quantized_module, "quantize", fail)
    (tmp_path / "onnx").mkdir()
    graph = exported(resolve_model("all-MiniLM-L6-v2"), _user_cache())  # float_embedder's
    shutil.copy2(graph, tmp_path / "onnx" / graph.name)
    embedder = SentenceTransformerEmbedder(engine="onnx-int8", cache_dir=tmp_path)
    with pytest.raises(ModelError, match="the int8 graph of 'all-MiniLM-L6-v2' could not be made"):
        embedder.embed(["backdoor"])


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EXE), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def test_the_setting_chooses_the_engine_through_the_cli_and_mixing_is_refused(
    int8_cache: Path, tmp_path: Path
) -> None:
    env = {"SECML_PAPERS_CACHE_DIR": str(int8_cache)}
    index = str(tmp_path / "index")
    built = _cli("--index-dir", index, "build", "--json", **env)  # float32: the default
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
    again = _cli("--index-dir", index, "--engine", "onnx", "build", "--json", **env)
    assert json.loads(again.stdout)["embedded"] > 0  # back to float32: no int8 vector reused
