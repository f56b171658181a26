"""check-pr on a list whose entries have abstracts (``enrich``): BASE is read with them, as the
served index is, so a pull request is placed on the evidence ``/categorize`` uses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from secml_papers.service.checkpr import check_pr
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder

ATTACKS = [
    ("Stealing Models by Querying Their Outputs", "extraction of weights from prediction apis"),
    ("Copycat Networks from Label Answers", "extraction of a classifier from label queries"),
    ("Knockoff Nets: Stealing Functionality", "extraction of functionality with random queries"),
    ("Thieves on Sesame Street", "extraction of language models through api queries"),
    ("High Accuracy and High Fidelity Copies", "extraction of neural networks cryptanalytically"),
]
DEFENSES = [
    ("PRADA: Protecting Against Stealing", "watermark and detect query distributions"),
    ("Entangled Watermarks as a Defense", "watermark the model so copies carry it"),
    ("Prediction Poisoning Against Thieves", "perturb outputs and watermark answers"),
    ("Dataset Inference for Ownership", "verify ownership with a watermark of private data"),
    ("Adaptive Misinformation Against Copies", "detect out of distribution queries, watermark"),
]
NEW = "Fingerprinting Deep Neural Networks Globally"


class Recording(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts)


def entry(title: str, n: int) -> str:
    return f"- [{title}](https://arxiv.org/abs/2101.{n:05d}) 2021"


def write_list(path: Path, extra: str = "") -> str:
    lines = ["# Model Stealing", "", "## Attacks", ""]
    lines += [entry(t, i) for i, (t, _) in enumerate(ATTACKS)]
    lines += ["", "## Defenses", ""]
    lines += [entry(t, 100 + i) for i, (t, _) in enumerate(DEFENSES)]
    text = "\n".join(lines) + "\n" + extra
    path.write_text(text)
    return text


def test_base_is_read_with_the_served_abstracts(tmp_path: Path) -> None:
    base = write_list(tmp_path / "list.md")
    records = [{"title": t, "abstract": a} for t, a in ATTACKS + DEFENSES]
    abstracts = tmp_path / "abstracts.jsonl"
    abstracts.write_text("".join(json.dumps(r) + "\n" for r in records))
    embedder = Recording()
    settings = Settings(
        list_source=str(tmp_path / "list.md"), abstracts=abstracts, index_dir=tmp_path / "idx"
    )
    library = Library(settings, embedder)
    library.index()
    served = library.categorizer.categorize(NEW).to_dict()
    embedder.texts.clear()

    head = base.replace(
        entry(DEFENSES[-1][0], 104), entry(DEFENSES[-1][0], 104) + "\n" + entry(NEW, 200)
    )
    report = check_pr(library, base, head)

    # BASE's vectors are the index's: nothing but the added paper is embedded again
    assert len(embedder.texts) == 1
    (added,) = report.added
    assert added.placement.paper.title == NEW
    # a paper new to the list has no abstract yet: it is read by its title, as /categorize is
    assert embedder.texts == [NEW]
    suggestions = [s.to_dict() for s in added.placement.suggestions]
    assert suggestions == served["suggestions"][: len(suggestions)]
    assert report.diff.edited == ()  # an abstract is no edit


def test_a_list_without_abstracts_is_read_as_written(tmp_path: Path) -> None:
    base = write_list(tmp_path / "list.md")
    embedder = Recording()
    library = Library(
        Settings(list_source=str(tmp_path / "list.md"), index_dir=tmp_path / "idx"), embedder
    )
    library.index()
    embedder.texts.clear()
    head = base + entry(NEW, 200) + "\n"
    report = check_pr(library, base, head)
    assert NEW in embedder.texts
    assert not {t for t, _ in ATTACKS + DEFENSES} & set(embedder.texts)  # the index's vectors
    assert [a.placement.paper.abstract for a in report.added] == [None]
