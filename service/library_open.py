"""From the settings to what a ``Library`` serves: the list with its abstracts, the model and
the vector store. Each is opened here and nowhere else, so the CLI, the API and the tests agree
on where the list, the cache files and the vectors come from."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from secml_papers import corpus
from secml_papers.corpus.abstracts import list_with_abstracts
from secml_papers.corpus.parse import parse_list
from secml_papers.corpus.records import PaperList
from secml_papers.corpus.storage import ListSource, read_abstracts, read_list, source_key
from secml_papers.index.embedding.batching import BatchingEmbedder
from secml_papers.index.embedding.embedder import Embedder, SentenceTransformerEmbedder
from secml_papers.index.stores.store import IndexStore
from secml_papers.index.stores.vectorstore import FaissStore, VectorStore, check_store
from secml_papers.service.settings import Settings
from secml_papers.service.start_cache import StartCache, code_fingerprint, key_of

Notify = Callable[[str], None]


@dataclass(frozen=True)
class Listed:
    """The list as read from its source, with its abstracts attached.

    ``key`` names what it was parsed from (``listed_key``: the list's text, the abstracts
    file, the parser's code); ``skipped`` are the abstracts file's warnings, kept with the
    parse so a start that reads it from the cache says them too."""

    source: ListSource
    paper_list: PaperList
    key: str = ""
    skipped: tuple[str, ...] = ()
    cached: bool = False  # read from the start cache, not parsed


PARSED = "parsed"  # the start cache's kind for the parsed list


def read_listed(settings: Settings, notify: Notify, cache: StartCache | None = None) -> Listed:
    """Read and parse the list, then attach the abstracts of ``--abstracts`` or the list's own
    cache file (a missing cache is fine unless it was named); warnings go to ``notify``.

    When ``cache`` holds the parse of this very text and abstracts file (by their hashes), it
    is used instead of parsing again (``start_cache.py``; 25 s at 100,000 entries)."""
    s = settings
    source = read_list(
        s.list_source,
        cache_dir=s.resolved_cache_dir(),
        offline=s.offline,
        timeout=s.http_timeout,
    )
    for message in source.warnings:
        notify(f"warning: {message}")
    explicit = s.abstracts is not None
    path = s.abstracts_path()
    key = listed_key(source.text, path, explicit)
    found = cache.load(PARSED, key) if cache is not None and key else None
    if isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], PaperList):
        parsed, skipped = found
        cached = True
    else:
        cached = False
        parsed = parse_list(source.text)
        records, skipped = read_abstracts(path, missing_ok=not explicit)
        parsed = list_with_abstracts(parsed, records)
    for message in skipped:
        notify(f"warning: {message}")
    return Listed(source, parsed, key, tuple(skipped), cached)


def listed_key(text: str, abstracts: Path, explicit: bool) -> str:
    """The parse's cache key: the list's text, the abstracts file's bytes and the code of
    ``corpus`` (parser, records, abstracts matching); "" (no caching) when the file named by
    ``--abstracts`` cannot be read, so its error is raised as before."""
    try:
        data = abstracts.read_bytes()
    except FileNotFoundError:
        if explicit:
            return ""
        data = None
    except OSError:
        return ""
    fingerprint = code_fingerprint(corpus)
    return key_of(
        PARSED,
        fingerprint,
        key_of(text),
        "no abstracts" if data is None else hashlib.sha256(data).hexdigest(),
    )


def open_embedder(settings: Settings) -> Embedder:
    """The model; concurrent single queries share one model call (embedding/batching.py)."""
    model = SentenceTransformerEmbedder(
        settings.model, engine=settings.engine, cache_dir=settings.resolved_cache_dir()
    )
    return BatchingEmbedder(model)


def open_store(settings: Settings) -> VectorStore:
    """The store the settings name; Milvus's defaults: a Lite file in the index directory and
    one collection per list, named from the list's key (docs/deploy.md)."""
    directory = settings.resolved_index_dir()
    if check_store(settings.store) == "faiss":
        return FaissStore(IndexStore(directory))
    from secml_papers.index.stores.milvus_store import MilvusStore, collection_name

    uri = settings.milvus_uri or str(directory / "milvus.db")
    name = collection_name(source_key(settings.list_source))
    return MilvusStore(uri, directory, name, token=settings.milvus_token)
