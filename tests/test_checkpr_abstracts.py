"""check-pr on a list whose entries have abstracts (``enrich``): BASE is read with them, as the
served index is, so a pull request is placed on the evidence ``/categorize`` uses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from secml_papers.service.checkpr import check_pr
from secml_papers.service.cli import app
from secml_papers.service.comment import render
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings
from tests import enrich_stubs
from tests.enrich_stubs import FakeApis

from .conftest import FakeEmbedder

stub_server, stub = enrich_stubs.stub_server, enrich_stubs.stub  # the stub's fixtures
EXE = Path(sys.executable).with_name("secml-papers")

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


def served_without_abstracts(tmp_path: Path) -> tuple[str, Recording, Library]:
    base = write_list(tmp_path / "list.md")
    embedder = Recording()
    library = Library(
        Settings(list_source=str(tmp_path / "list.md"), index_dir=tmp_path / "idx"), embedder
    )
    library.index()
    return base, embedder, library


def test_a_list_without_abstracts_is_read_as_written(tmp_path: Path) -> None:
    base, embedder, library = served_without_abstracts(tmp_path)
    embedder.texts.clear()
    head = base + entry(NEW, 200) + "\n"
    report = check_pr(library, base, head)
    assert NEW in embedder.texts
    assert not {t for t, _ in ATTACKS + DEFENSES} & set(embedder.texts)  # the index's vectors
    assert [a.placement.paper.abstract for a in report.added] == [None]


# --- check-pr --fetch-abstracts ----------------------------------------------------------

NEW_ID = "2102.00001"
NEW_ABSTRACT = "We watermark the model and detect copies of it by their outputs on triggers."


def test_added_papers_are_placed_with_the_abstracts_found(tmp_path: Path) -> None:
    base, embedder, library = served_without_abstracts(tmp_path)
    asked: list[list[str]] = []

    def fetch(papers):
        asked.append([p.title for p in papers])
        return {p.id: NEW_ABSTRACT for p in papers if p.title == NEW}

    head = base + entry(NEW, 200) + "\n" + entry("A Paper No Index Knows", 201) + "\n"
    embedder.texts.clear()
    report = check_pr(library, base, head, fetch_abstracts=fetch)
    assert asked == [[NEW, "A Paper No Index Knows"]]  # one call, for the added papers only
    assert f"{NEW}. {NEW_ABSTRACT}" in embedder.texts
    assert "A Paper No Index Knows" in embedder.texts
    found = {a["title"]: a["with_abstract"] for a in report.to_dict()["added"]}
    assert found == {NEW: True, "A Paper No Index Knows": False}
    (placed,) = [a for a in report.added if a.placement.paper.title == NEW]
    assert placed.placement.paper.abstract == NEW_ABSTRACT
    comment = render(report)  # it says which papers were placed with an abstract
    assert f"{NEW} (placed with its abstract):" in comment
    assert comment.count("(placed with its abstract)") == 1


def test_cli_fetches_from_the_apis_over_http(stub, tmp_path: Path, fake_embedder) -> None:
    apis = FakeApis()
    apis.arxiv[NEW_ID] = (NEW, NEW_ABSTRACT)
    base = write_list(tmp_path / "base.md")
    head = tmp_path / "head.md"
    head.write_text(base + f"- [{NEW}](https://arxiv.org/abs/{NEW_ID}) 2021\n")
    env = apis.env(stub) | {
        "SECML_PAPERS_LIST": str(tmp_path / "base.md"),
        "SECML_PAPERS_INDEX_DIR": str(tmp_path / "idx"),
        "SECML_PAPERS_CACHE_DIR": str(tmp_path / "cache"),
    }
    runner = CliRunner(env=env)
    args = ["check-pr", str(tmp_path / "base.md"), str(head), "--json", "--fail-on", "none"]
    plain = runner.invoke(app, args, obj={"embedder": fake_embedder})
    assert plain.exit_code == 0, plain.output
    assert stub.log == []  # without the flag, nothing is asked
    fetched = runner.invoke(app, [*args, "--fetch-abstracts"], obj={"embedder": fake_embedder})
    assert fetched.exit_code == 0, fetched.output
    (added,) = json.loads(fetched.stdout)["added"]
    assert added["title"] == NEW and added["with_abstract"] is True
    assert any(NEW_ID in request.query_string.decode() for request, _ in stub.log)
    assert "fetching the abstracts of 1 added paper (arxiv" in fetched.stderr
    assert "found 1 of 1" in fetched.stderr
    assert json.loads(plain.stdout)["added"][0]["with_abstract"] is False


def test_offline_fetching_is_one_clear_error(stub, tmp_path: Path) -> None:
    listed = tmp_path / "base.md"
    write_list(listed)
    env = FakeApis().env(stub) | {"SECML_PAPERS_INDEX_DIR": str(tmp_path / "idx")}
    command = [str(EXE), "--offline", "--list", str(listed), "check-pr", str(listed)]
    result = subprocess.run(
        [*command, str(listed), "--fetch-abstracts"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: offline: check-pr cannot fetch abstracts; drop --fetch-abstracts"
    )
    assert stub.log == []
