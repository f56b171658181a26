"""The list, its index and the model, wired together once for the CLI and the API alike.

Everything heavy is lazy: parsing happens on first use, the model loads on first embed, and
the index is loaded (or built when missing or stale) on first search.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property

from secml_papers.corpus.abstracts import attach_abstracts
from secml_papers.corpus.errors import IndexProblem
from secml_papers.corpus.parse import parse_list
from secml_papers.corpus.records import PaperList
from secml_papers.corpus.storage import ListSource, read_abstracts, read_list
from secml_papers.index.build import BuildReport, Progress, build_index, is_fresh, paper_text
from secml_papers.index.categorize import Categorizer
from secml_papers.index.embedder import Embedder, SentenceTransformerEmbedder
from secml_papers.index.search import PaperIndex
from secml_papers.index.store import IndexStore, Timeout
from secml_papers.service.settings import Settings

Notify = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


class Library:
    """One list served with one model; safe to share between threads."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        notify: Notify = _quiet,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self.notify = notify
        self._lock = threading.RLock()
        self._index: PaperIndex | None = None
        self.last_build: BuildReport | None = None

    @cached_property
    def source(self) -> ListSource:
        s = self.settings
        source = read_list(
            s.list_source,
            cache_dir=s.resolved_cache_dir(),
            offline=s.offline,
            timeout=s.http_timeout,
        )
        for message in source.warnings:
            self.notify(f"warning: {message}")
        return source

    @cached_property
    def paper_list(self) -> PaperList:
        """The parsed list, with abstracts from ``--abstracts`` or the list's own cache file."""
        parsed = parse_list(self.source.text)
        explicit = self.settings.abstracts is not None
        records, skipped = read_abstracts(self.settings.abstracts_path(), missing_ok=not explicit)
        for message in skipped:
            self.notify(f"warning: {message}")
        if not records:
            return parsed
        return parsed.with_papers(attach_abstracts(parsed.papers, records))

    @cached_property
    def embedder(self) -> Embedder:
        return self._embedder or SentenceTransformerEmbedder(self.settings.model)

    @cached_property
    def store(self) -> IndexStore:
        return IndexStore(self.settings.resolved_index_dir())

    def index(self, progress: Progress | None = None) -> PaperIndex:
        """The loaded index, built first when it is missing or stale (unless forbidden)."""
        with self._lock:
            if self._index is None:
                self._index = self._load_or_build(progress)
            return self._index

    def build(self, progress: Progress | None = None) -> BuildReport:
        """Build now (embedding only what changed) and serve the result."""
        with self._lock:
            self._index = self._load_or_build(progress, force=True)
            assert self.last_build is not None
            return self.last_build

    @cached_property
    def categorizer(self) -> Categorizer:
        index = self.index()
        texts = [paper_text(p) for p in index.papers]
        return Categorizer(
            index.papers, index.vectors, self.paper_list.sections, self.embedder, texts=texts
        )

    def _load_or_build(self, progress: Progress | None, force: bool = False) -> PaperIndex:
        papers = self.paper_list.papers
        model = self.embedder.name
        stored = self._load_quietly(force)
        if stored is not None and is_fresh(stored, papers, model) and not force:
            return PaperIndex(papers, self.paper_list.sections, stored, self.embedder)
        if not self.settings.auto_build and not force:
            why = "missing" if stored is None else "out of date with the list or model"
            raise IndexProblem(
                f"the index in {self.store.directory} is {why}; run `secml-papers build`"
            )
        try:
            with self.store.lock(timeout=600):
                stored = self._load_quietly(force)  # another process may have built meanwhile
                if stored is None or not is_fresh(stored, papers, model) or force:
                    if stored is None:
                        self.notify(f"building the index in {self.store.directory}")
                    elif stored.manifest.model != model:
                        self.notify(
                            f"the index was built with {stored.manifest.model}; "
                            f"rebuilding it with {model}"
                        )
                    stored, self.last_build = build_index(
                        papers, self.embedder, self.store, stored, progress
                    )
        except Timeout as err:
            raise IndexProblem(
                f"another build holds the lock on {self.store.directory}; try again later"
            ) from err
        return PaperIndex(papers, self.paper_list.sections, stored, self.embedder)

    def _load_quietly(self, force: bool):
        try:
            return self.store.load()
        except IndexProblem as err:
            if not (self.settings.auto_build or force):
                raise
            self.notify(f"warning: {err}; rebuilding")
            return None
