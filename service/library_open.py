"""From the settings to what a ``Library`` serves: the list with its abstracts, the model and
the vector store. Each is opened here and nowhere else, so the CLI, the API and the tests agree
on where the list, the cache files and the vectors come from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from secml_papers.corpus.abstracts import attach_abstracts
from secml_papers.corpus.parse import parse_list
from secml_papers.corpus.records import PaperList
from secml_papers.corpus.storage import ListSource, read_abstracts, read_list, source_key
from secml_papers.index.embedding.batching import BatchingEmbedder
from secml_papers.index.embedding.embedder import Embedder, SentenceTransformerEmbedder
from secml_papers.index.stores.store import IndexStore
from secml_papers.index.stores.vectorstore import FaissStore, VectorStore, check_store
from secml_papers.service.settings import Settings

Notify = Callable[[str], None]


@dataclass(frozen=True)
class Listed:
    """The list as read from its source, with its abstracts attached."""

    source: ListSource
    paper_list: PaperList


def read_listed(settings: Settings, notify: Notify) -> Listed:
    """Read and parse the list, then attach the abstracts of ``--abstracts`` or the list's own
    cache file (a missing cache is fine unless it was named); warnings go to ``notify``."""
    s = settings
    source = read_list(
        s.list_source,
        cache_dir=s.resolved_cache_dir(),
        offline=s.offline,
        timeout=s.http_timeout,
    )
    for message in source.warnings:
        notify(f"warning: {message}")
    parsed = parse_list(source.text)
    explicit = s.abstracts is not None
    records, skipped = read_abstracts(s.abstracts_path(), missing_ok=not explicit)
    for message in skipped:
        notify(f"warning: {message}")
    if records:
        parsed = parsed.with_papers(attach_abstracts(parsed.papers, records))
    return Listed(source, parsed)


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
