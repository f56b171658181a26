"""Behaviour with the real all-MiniLM-L6-v2 model (loaded once per session)."""

from __future__ import annotations

import numpy as np
import pytest

from secml_papers.service.library import Library

pytestmark = pytest.mark.real_model


def test_randomized_smoothing_ranks_first(real_library: Library) -> None:
    hits = real_library.index().search("certified robustness via randomized smoothing", k=5)
    assert "randomized smoothing" in hits[0].paper.title.lower()


def test_federated_backdoors_in_top_3(real_library: Library) -> None:
    hits = real_library.index().search("backdoor attacks on federated learning", k=3)
    titles = " | ".join(h.paper.title for h in hits)
    assert any(name in titles for name in ("FLAME", "DeepSight", "Attack of the Tails")), titles


def test_membership_inference_lands_in_its_empty_section(real_library: Library) -> None:
    result = real_library.categorizer.categorize(
        "Membership Inference Attacks against Machine Learning Models"
    )
    assert result.suggestions[0].section == (
        "Security of ML Models",
        "Membership Inference Attacks",
    )
    assert not result.abstain


def test_off_topic_title_abstains(real_library: Library) -> None:
    result = real_library.categorizer.categorize("A recipe for sourdough bread")
    assert result.abstain


def test_related_to_neural_cleanse_is_backdoor_work(real_library: Library) -> None:
    paper, hits = real_library.index().related("Neural Cleanse", k=5)
    assert paper.title.startswith("Neural Cleanse")
    assert sum("backdoor" in " ".join(h.paper.section).lower() for h in hits) >= 4


def test_onnx_and_pytorch_give_the_same_vectors(real_embedder) -> None:
    from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder

    texts = [
        "Membership Inference Attacks From First Principles",
        "a",
        "Backdoor attacks on federated learning. " * 80,  # longer than the model reads
    ]
    assert real_embedder.running == "onnx", real_embedder.fallback
    torch_model = SentenceTransformerEmbedder(engine="torch")
    assert torch_model.running == "torch"
    got, expected = real_embedder.embed(texts), torch_model.embed(texts)
    assert got.shape == expected.shape == (3, 384)
    assert np.abs(got - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_concurrent_onnx_calls_give_each_caller_its_own_vector(real_embedder) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"certified defence number {i} against backdoor attacks" for i in range(16)]
    expected = real_embedder.embed(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda t: real_embedder.embed([t])[0], texts))
    assert real_embedder.parallel_calls >= 1
    assert np.abs(np.array(got) - expected).max() < 1e-5
