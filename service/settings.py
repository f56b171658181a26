"""One settings object: CLI flags and environment variables agree on it."""

from __future__ import annotations

import hashlib
import os
import re
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from platformdirs import user_cache_path

from secml_papers.corpus.errors import InputError
from secml_papers.index.embedder import DEFAULT_MODEL

ENV = {
    "list_source": "SECML_PAPERS_LIST",
    "abstracts": "SECML_PAPERS_ABSTRACTS",
    "index_dir": "SECML_PAPERS_INDEX_DIR",
    "model": "SECML_PAPERS_MODEL",
}


@dataclass(frozen=True)
class Settings:
    """``list_source`` None means the bundled list; ``index_dir`` None means a per-list cache."""

    list_source: str | None = None
    abstracts: Path | None = None
    index_dir: Path | None = None
    model: str = DEFAULT_MODEL
    auto_build: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Environment first, then explicit overrides (the CLI's flags), None meaning unset."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field, var in ENV.items():
            if env.get(var):
                values[field] = env[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        for field in ("abstracts", "index_dir"):
            if values.get(field) is not None:
                values[field] = Path(str(values[field])).expanduser()
        return replace(cls(), **values)

    def resolved_index_dir(self) -> Path:
        """The index directory; by default one per list under the user's cache directory."""
        if self.index_dir is not None:
            path = self.index_dir.resolve()
        else:
            source = self.list_source or "bundled"
            stem = re.sub(r"[^a-z0-9]+", "-", Path(source).stem.lower()).strip("-") or "list"
            key = hashlib.sha1(_absolute(source).encode()).hexdigest()[:8]
            path = user_cache_path("secml-papers") / "indexes" / f"{stem}-{key}"
        for site in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
            if path.is_relative_to(Path(site).resolve()):
                raise InputError(
                    f"the index directory {path} is inside site-packages; pick another"
                )
        return path


def _absolute(source: str) -> str:
    if source == "bundled" or "://" in source:
        return source
    return str(Path(source).expanduser().resolve())
