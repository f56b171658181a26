"""The sentence-transformers model run by ONNX Runtime: the same vectors, one query in a third
of the time.

A one-query encode took 4-6 ms here against 13-17 ms through PyTorch (batches of abstracts:
about the same, 5% slower), and the vectors differ by about 2e-7: an index built either way
answers the same. The ONNX graph is exported once from the installed model (about a second,
with torch) into the cache directory and reused; afterwards neither torch nor transformers is
imported, which also makes a cold ``search`` faster. Only models that are a plain transformer
with mean pooling (and optional normalisation) are run this way; others, or any failure to
export or load, fall back to PyTorch (``SECML_PAPERS_ENGINE=torch`` asks for it).
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from pathlib import Path

import numpy as np

from secml_papers.corpus.atomic import atomic_path

OPSET = 17
# texts per run: fewer than PyTorch's 16, as ONNX Runtime gains little from bigger batches and
# every text of one is padded to the longest (115 abstracts: batch 4 took 4.29 s, 8 4.42 s,
# 16 4.68 s, 32 4.90 s; raw PyTorch at its best batch 4.25 s)
BATCH_SIZE = 4
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_TRANSFORMER = ("Transformer",)
_POOLING = ("Pooling",)
_NORMALIZE = ("Normalize",)


def plain_model(model_dir: Path) -> int | None:
    """The model's max sequence length when it is Transformer -> mean Pooling [-> Normalize]
    with a fast tokenizer file; None for anything else (run it with PyTorch)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in ([*_TRANSFORMER, *_POOLING], [*_TRANSFORMER, *_POOLING, *_NORMALIZE]):
            return None
        pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text())
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True}
        if modes != {"pooling_mode_mean_tokens"} or not (model_dir / "tokenizer.json").is_file():
            return None
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        return int(config.get("max_seq_length") or 512)
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def exported(model_dir: Path, cache_dir: Path) -> Path:
    """The model's ONNX graph in ``cache_dir``, exported first when missing."""
    weights = sorted(p for p in model_dir.glob("*") if p.is_file())
    key = hashlib.sha256()
    for p in weights:
        key.update(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}".encode())
    key.update(f"opset{OPSET}".encode())
    target = cache_dir / "onnx" / f"{model_dir.name}-{key.hexdigest()[:16]}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as staged:
        _export(model_dir, staged)
    return target


def _export(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    example = torch.ones((1, 4), dtype=torch.int64)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "hidden")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes: the axes are dynamic
        torch.onnx.export(
            Hidden(),
            (example, example, torch.zeros_like(example)),
            str(out),
            input_names=list(INPUTS),
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


class OnnxModel:
    """Tokenizer (``tokenizers``) + ONNX session + mean pooling + normalisation."""

    def __init__(
        self,
        model_dir: Path,
        graph: Path,
        max_length: int,
        threads: int,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        from tokenizers import Tokenizer

        self.graph = graph
        self.batch_size = batch_size
        self.threads = max(1, threads)  # a lone call's; concurrent calls take one each
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.enable_padding()
        config = json.loads((model_dir / "config.json").read_text())
        self.dim = int(config["hidden_size"])
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()
        self.session(self.threads)  # load now: a broken graph fails here, not on a query

    def session(self, threads: int):
        """One session per thread count, made (and run once) on first use; idle threads
        sleep rather than spin, so another process's work does not stall them."""
        with self._lock:
            if threads not in self._sessions:
                self._sessions[threads] = self._new_session(threads)
            return self._sessions[threads]

    def _new_session(self, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        session = ort.InferenceSession(str(self.graph), options, providers=["CPUExecutionProvider"])
        one = np.ones((1, 4), dtype=np.int64)
        session.run(None, _declared(session, {"input_ids": one, "attention_mask": one}, one * 0))
        return session  # run once: the first run allocates, and is not a query's to pay

    def embed(self, texts: list[str], threads: int) -> np.ndarray:
        """Unit vectors, longest texts batched together (as sentence-transformers does)."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        session = self.session(threads)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            }
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            hidden = session.run(None, _declared(session, feed, types))[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[rows] = pooled / norms
        return out


def _declared(session, feed: dict[str, np.ndarray], types: np.ndarray) -> dict[str, np.ndarray]:
    """The inputs the graph takes: a model that has no token types (MPNet) is exported without
    ``token_type_ids``, and ONNX Runtime refuses an input its graph does not declare."""
    if any(i.name == "token_type_ids" for i in session.get_inputs()):
        return {**feed, "token_type_ids": types}
    return feed
