"""Fresh processes that load the model: the floor of every cold command, timed."""

from __future__ import annotations

import subprocess
import sys

from bench.common.measure import timed
from bench.common.processes import cli_env
from bench.common.results import RESULTS

ENGINE_LOAD = (
    "from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder\n"
    "from secml_papers.service.settings import Settings\n"
    "cache = Settings.from_env().resolved_cache_dir()\n"
    "SentenceTransformerEmbedder(cache_dir=cache).embed(['a query'])\n"
)


def export_engine(env: dict[str, str]) -> None:
    """Export the ONNX graph into ``env``'s cache (once; a served list's later starts find it)."""
    subprocess.run([sys.executable, "-c", ENGINE_LOAD], env=env, check=True)


def engine_load_process(repeats: int) -> list[float]:
    """Wall seconds of fresh processes that load the service's engine (ONNX Runtime, graph
    already exported) and encode one query: the floor for the service's cold commands."""
    env = cli_env(RESULTS / "load", None, None)
    export_engine(env)
    return [
        timed(lambda: subprocess.run([sys.executable, "-c", ENGINE_LOAD], env=env, check=True))
        for _ in range(repeats)
    ]


def model_load_process(repeats: int, encode: bool = False) -> list[float]:
    """Wall seconds of fresh processes that import sentence-transformers and load the model
    from the package (the floor for any cold command), optionally encoding one query."""
    code = (
        "from secml_papers.index.embedding.embedder import resolve_model\n"
        "from sentence_transformers import SentenceTransformer\n"
        "m = SentenceTransformer(str(resolve_model('all-MiniLM-L6-v2')), device='cpu')\n"
        + ("m.encode(['a query'], normalize_embeddings=True)\n" if encode else "")
    )
    env = cli_env(RESULTS / "load", None, None)
    return [
        timed(lambda: subprocess.run([sys.executable, "-c", code], env=env, check=True))
        for _ in range(repeats)
    ]
