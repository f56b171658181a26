"""One settings object: CLI flags and environment variables agree on it."""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from platformdirs import user_cache_path, user_data_path

from secml_papers.corpus.errors import InputError
from secml_papers.corpus.storage import source_key
from secml_papers.index.embedding.embedder import DEFAULT_ENGINE, DEFAULT_MODEL

# Options that are also CLI flags (typer reads these variables itself).
ENV = {
    "list_source": "SECML_PAPERS_LIST",
    "abstracts": "SECML_PAPERS_ABSTRACTS",
    "index_dir": "SECML_PAPERS_INDEX_DIR",
    "model": "SECML_PAPERS_MODEL",
    "offline": "SECML_PAPERS_OFFLINE",
    "store": "SECML_PAPERS_STORE",
    "engine": "SECML_PAPERS_ENGINE",
    "allow_private_links": "SECML_PAPERS_ALLOW_PRIVATE_LINKS",  # check-pr's flag
}
# Options read from the environment only: where copies live, and how to reach the APIs.
ENV_ONLY = {
    "cache_dir": "SECML_PAPERS_CACHE_DIR",
    "data_dir": "SECML_PAPERS_DATA_DIR",
    "contact": "SECML_PAPERS_CONTACT",
    "s2_api_key": "SECML_PAPERS_S2_API_KEY",
    "arxiv_url": "SECML_PAPERS_ARXIV_URL",
    "s2_url": "SECML_PAPERS_S2_URL",
    "openalex_url": "SECML_PAPERS_OPENALEX_URL",
    "crossref_url": "SECML_PAPERS_CROSSREF_URL",
    "arxiv_interval": "SECML_PAPERS_ARXIV_INTERVAL",
    "s2_interval": "SECML_PAPERS_S2_INTERVAL",
    "openalex_interval": "SECML_PAPERS_OPENALEX_INTERVAL",
    "crossref_interval": "SECML_PAPERS_CROSSREF_INTERVAL",
    "http_timeout": "SECML_PAPERS_TIMEOUT",
    "retries": "SECML_PAPERS_RETRIES",
    "cors_origins": "SECML_PAPERS_CORS_ORIGINS",
    "admin_token": "SECML_PAPERS_ADMIN_TOKEN",
    "lock_timeout": "SECML_PAPERS_LOCK_TIMEOUT",
    "milvus_uri": "SECML_PAPERS_MILVUS_URI",
    "milvus_token": "SECML_PAPERS_MILVUS_TOKEN",
    "http_link_checks": "SECML_PAPERS_HTTP_LINK_CHECKS",
    "max_added_entries": "SECML_PAPERS_MAX_ADDED",
    "max_changed_entries": "SECML_PAPERS_MAX_CHANGED",
    "max_in_flight": "SECML_PAPERS_MAX_IN_FLIGHT",
    "queue_wait": "SECML_PAPERS_QUEUE_WAIT",
    "time_budget": "SECML_PAPERS_TIME_BUDGET",
    "rate_per_minute": "SECML_PAPERS_RATE_PER_MINUTE",
    "rate_burst": "SECML_PAPERS_RATE_BURST",
    "api_key": "SECML_PAPERS_API_KEY",
}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class Settings:
    """``list_source`` None means the bundled list; ``index_dir`` None means a per-list cache.

    ``abstracts`` None means the per-list file under the user data directory, used when it
    exists (``enrich`` creates it). Intervals are the least seconds between two requests to
    one API: arXiv asks for 3 s, Semantic Scholar allows about one request per second.
    """

    list_source: str | None = None
    abstracts: Path | None = None
    index_dir: Path | None = None
    model: str = DEFAULT_MODEL
    auto_build: bool = True
    offline: bool = False
    cache_dir: Path | None = None
    data_dir: Path | None = None
    contact: str | None = None
    s2_api_key: str | None = field(default=None, repr=False)
    arxiv_url: str = "https://export.arxiv.org"
    s2_url: str = "https://api.semanticscholar.org"
    openalex_url: str = "https://api.openalex.org"
    crossref_url: str = "https://api.crossref.org"
    arxiv_interval: float = 3.0
    s2_interval: float = 1.0
    openalex_interval: float = 0.1
    crossref_interval: float = 0.1
    http_timeout: float = 20.0
    retries: int = 3
    cors_origins: str | None = None  # comma-separated origins; CORS is off without them
    admin_token: str | None = field(default=None, repr=False)  # POST /admin/reload
    lock_timeout: float = 600.0  # seconds a build waits for another process's build
    store: str = "faiss"  # or "milvus": index/stores/vectorstore.py, docs/deploy.md
    milvus_uri: str | None = None  # a Lite file (*.db) or http://host:19530; None: a Lite file
    milvus_token: str | None = field(default=None, repr=False)
    # how the model runs: "onnx" (float32, index/embedding/onnx_engine.py), "onnx-int8" (its
    # int8 quantization, index/embedding/quantized.py) or "torch"
    engine: str = DEFAULT_ENGINE
    # POST /check-pr's "check_links": off unless the operator turns it on; even then only
    # public addresses are reached (docs/security.md)
    http_link_checks: bool = False
    allow_private_links: bool = False  # check-pr --check-links on the CLI only, never HTTP
    # The expensive endpoints (POST /check-pr, /categorize, /related with free text):
    # service/limits.py, docs/security.md
    max_added_entries: int = 100  # per POST /check-pr (0.4 s, 210 kB: docs/security.md)
    max_changed_entries: int = 1_000  # removed, moved and edited entries per POST /check-pr
    # expensive requests running at once in this process: all cores but one, so /search keeps
    # one (on 2 cores, 2 in flight put /search p95 at 2.07x its quiet value, 1 at 1.93x:
    # bench/performance/perf_fair.py)
    max_in_flight: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) - 1))
    queue_wait: float = 5.0  # seconds one waits for a free slot before its 429
    time_budget: float = 30.0  # seconds before an expensive request answers 503 (0: none)
    rate_per_minute: float = 0.0  # per client address; 0: no rate limit
    rate_burst: int = 5  # requests a client may make at once before its rate applies
    api_key: str | None = field(default=None, repr=False)  # for the expensive endpoints only

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Environment first, then explicit overrides (the CLI's flags), None meaning unset."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for name, var in {**ENV, **ENV_ONLY}.items():
            if env.get(var):
                values[name] = env[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        types = {f.name: f.type for f in fields(cls)}
        for name, value in list(values.items()):
            values[name] = _convert(name, value, types[name])
        return replace(cls(), **values)

    def resolved_index_dir(self) -> Path:
        """The index directory; by default one per list under the user's cache directory."""
        if self.index_dir is not None:
            path = self.index_dir.resolve()
        else:
            path = self.resolved_cache_dir() / "indexes" / source_key(self.list_source)
        for site in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
            if path.is_relative_to(Path(site).resolve()):
                raise InputError(
                    f"the index directory {path} is inside site-packages; pick another"
                )
        return path

    def resolved_cache_dir(self) -> Path:
        """Indexes and downloaded lists: everything here can be made again."""
        return self.cache_dir or user_cache_path("secml-papers")

    def abstracts_path(self) -> Path:
        """The abstracts cache: ``--abstracts``, else one file per list in the user data dir.

        Data, not cache: abstracts took many polite requests to gather.
        """
        if self.abstracts is not None:
            return self.abstracts
        base = self.data_dir or user_data_path("secml-papers")
        return base / "abstracts" / f"{source_key(self.list_source)}.jsonl"


def env_only(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without the variables the CLI reads through its own flags."""
    env = os.environ if env is None else env
    return {k: v for k, v in env.items() if k not in ENV.values()}


def _convert(name: str, value: object, kind: object) -> object:
    kind = str(kind)
    if not isinstance(value, str):
        return value
    var = {**ENV, **ENV_ONLY}.get(name, name)
    if "Path" in kind:
        return Path(value).expanduser()
    if kind == "bool":
        if value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise InputError(f"{var} must be true or false, not {value!r}")
    if kind in ("float", "int"):
        try:
            number = float(value) if kind == "float" else int(value)
        except ValueError:
            raise InputError(f"{var} must be a number, not {value!r}") from None
        if number < 0:
            raise InputError(f"{var} must not be negative, not {value!r}")
        return number
    return value
