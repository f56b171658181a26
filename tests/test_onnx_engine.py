"""Which models ONNX Runtime runs, the export cache, and the engine setting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from secml_papers.corpus.errors import ModelError
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder, resolve_model
from secml_papers.index.embedding.onnx_engine import plain_model
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(resolve_model("all-MiniLM-L6-v2"), target)
    return target


def test_the_default_model_is_run_by_onnx_with_its_sequence_length(model_copy: Path) -> None:
    assert plain_model(model_copy) == 256


def test_other_pooling_or_modules_go_to_pytorch(model_copy: Path) -> None:
    pooling = model_copy / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(
        json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    )
    assert plain_model(model_copy) is None
    pooling.write_text(json.dumps(config))
    modules = json.loads((model_copy / "modules.json").read_text())
    modules.append(
        {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}
    )
    (model_copy / "modules.json").write_text(json.dumps(modules))
    assert plain_model(model_copy) is None
    (model_copy / "modules.json").write_text("not json")
    assert plain_model(model_copy) is None


def test_a_model_onnx_cannot_run_falls_back_to_pytorch(model_copy: Path, tmp_path: Path) -> None:
    (model_copy / "tokenizer.json").unlink()  # no fast tokenizer file: not for ONNX here
    embedder = SentenceTransformerEmbedder(str(model_copy), cache_dir=tmp_path / "cache")
    assert embedder.running == "torch" and embedder.fallback
    assert embedder.embed(["backdoor"]).shape == (1, 384)


def test_an_unknown_engine_is_one_clear_error() -> None:
    with pytest.raises(ModelError, match="unknown engine 'gpu'"):
        SentenceTransformerEmbedder(engine="gpu")
    library = Library(Settings.from_env({"SECML_PAPERS_ENGINE": "gpu"}))
    with pytest.raises(ModelError, match="use one of onnx, onnx-int8, torch"):
        _ = library.embedder


def test_the_graph_is_exported_once_and_then_reused(tmp_path: Path) -> None:
    from secml_papers.index.embedding.onnx_engine import exported

    model = resolve_model("all-MiniLM-L6-v2")
    first = exported(model, tmp_path)
    stamp = first.stat().st_mtime_ns
    again = exported(model, tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temporary left


def test_a_damaged_graph_in_the_cache_is_exported_again(tmp_path: Path) -> None:
    from secml_papers.index.embedding.onnx_engine import exported

    graph = exported(resolve_model("all-MiniLM-L6-v2"), tmp_path)
    graph.write_bytes(graph.read_bytes()[:1000])  # truncated, as by a full disk
    embedder = SentenceTransformerEmbedder(engine="onnx", cache_dir=tmp_path)
    assert embedder.running == "onnx", embedder.fallback
    assert embedder.embed(["backdoor"]).shape == (1, 384)
    assert graph.stat().st_size > 1_000_000


def test_a_graph_without_token_types_is_fed_only_what_it_declares(tmp_path: Path) -> None:
    """MPNet takes no token types, so its exported graph has no ``token_type_ids`` input:
    such a graph runs on ONNX Runtime and embeds as the graph that takes them."""
    import warnings

    import numpy as np
    import torch
    from transformers import AutoModel

    from secml_papers.index.embedding.onnx_engine import OnnxModel, exported

    model_dir = resolve_model("all-MiniLM-L6-v2")
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class TwoInputs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    graph = tmp_path / "two-inputs.onnx"
    example = torch.ones((1, 4), dtype=torch.int64)
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "hidden")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes, as in the engine's own export
        torch.onnx.export(
            TwoInputs(),
            (example, example),
            str(graph),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    texts = ["Backdoor attacks on federated learning", "certified defenses"]
    two = OnnxModel(model_dir, graph, 256, threads=1).embed(texts, threads=1)
    three = OnnxModel(model_dir, exported(model_dir, tmp_path), 256, 1).embed(texts, threads=1)
    assert two.shape == (2, 384)
    assert np.allclose(two, three, atol=1e-5)
