"""The list, its index and the model, wired together once for the CLI and the API alike.

Everything heavy is lazy: parsing happens on first use, the model loads on first embed, and
the index is loaded (or built when missing or stale) on first search.

What a request reads (the papers, the index, the categorizer) lives in one ``Served`` object,
and a reload replaces that object in a single assignment: a request that started on the old
one finishes on it, the next one sees the new one, and none sees half of each.

Opening the list, the model and the store from the settings is in ``library_open``; loading
the stored index, or building it under the store's lock, is in ``library_build``.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property

from secml_papers.corpus.records import PaperList
from secml_papers.corpus.storage import ListSource
from secml_papers.index.build import BuildReport, Progress
from secml_papers.index.categorize.categorizer import Categorizer
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.search.paper_index import PaperIndex
from secml_papers.index.stores.vectorstore import VectorStore
from secml_papers.service import memory
from secml_papers.service.library_build import IndexLoader
from secml_papers.service.library_cache import (
    categorizer_key,
    current_folder,
    drop_fit_leftovers,
    generation_folder,
    keep_categorizer,
    restore_categorizer,
    warm_search,
)
from secml_papers.service.library_open import (
    PARSED,
    Listed,
    Notify,
    open_embedder,
    open_store,
    read_listed,
)
from secml_papers.service.settings import Settings
from secml_papers.service.start_cache import StartCache


def _quiet(_: str) -> None:
    return None


@dataclass
class Served:
    """One consistent state to answer from; the categorizer is derived from this index only."""

    listed: Listed
    index: PaperIndex
    generation: str
    categorizer: Categorizer | None = field(default=None)
    cache: StartCache = field(default_factory=lambda: StartCache(None, _quiet))
    categorizer_key: str = ""  # where the fitted categorizer is kept (library_cache.py)


@dataclass(frozen=True)
class ReloadReport:
    papers: int
    added: int
    removed: int
    embedded: int
    reused: int
    seconds: float
    generation: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


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
        self._lock = threading.RLock()  # one load, build or reload at a time in this process
        self._derive = threading.Lock()  # apart, so a reload never holds up a categorize
        self._listed: Listed | None = None
        self._served: Served | None = None
        self.last_build: BuildReport | None = None

    @property
    def source(self) -> ListSource:
        return self._listing().source

    @property
    def paper_list(self) -> PaperList:
        """The parsed list, with abstracts from ``--abstracts`` or the list's own cache file."""
        return self._listing().paper_list

    @cached_property
    def embedder(self) -> Embedder:
        """The model; concurrent single queries share one model call (embedding/batching.py)."""
        if self._embedder is not None:
            return self._embedder
        return open_embedder(self.settings)

    @cached_property
    def store(self) -> VectorStore:
        """FAISS files in the index directory (the default), or a Milvus collection."""
        return open_store(self.settings)

    def index(self, progress: Progress | None = None) -> PaperIndex:
        """The loaded index, built first when it is missing or stale (unless forbidden)."""
        return self._current(progress).index

    @property
    def loaded_index(self) -> PaperIndex | None:
        """The index being served, or None before the first load (which may build)."""
        served = self._served
        return served.index if served is not None else None

    @property
    def categorizer(self) -> Categorizer:
        """The served list's categorizer, fitted: the first caller fits it (or waits for the
        fit ``fit_in_background`` started), later ones get it at once."""
        served = self._current()
        if served.categorizer is None:
            with self._derive:
                if served.categorizer is None:
                    served.categorizer = _categorizer(served, self.embedder)
        return served.categorizer

    def fit_in_background(self) -> threading.Thread:
        """Fit the categorizer on a daemon thread, so a server answers /search meanwhile;
        /categorize and /check-pr wait for it (``categorizer``). A failure is reported, and
        the next request that needs the categorizer tries again."""

        def fit() -> None:
            try:
                _ = self.categorizer
            except Exception as err:  # reported; the next request retries
                self.notify(f"warning: fitting the categorizer failed: {err}")

        thread = threading.Thread(target=fit, name="fit-categorizer", daemon=True)
        thread.start()
        return thread

    def build(self, progress: Progress | None = None) -> BuildReport:
        """Build now (embedding only what changed) and serve the result."""
        with self._lock:
            self._served = self._serve(self._listing(), progress, force=True)
            assert self.last_build is not None
            return self.last_build

    def reload(self, progress: Progress | None = None) -> ReloadReport:
        """Read the list and abstracts again, build what changed, and swap in the result.

        Everything the next request needs is prepared before the swap (the categorizer and
        the search tables too), so requests meanwhile keep their speed and the old answers.
        """
        started = time.perf_counter()
        with self._lock:
            old = self._served
            self.last_build = None
            listed = self._read()
            served = self._serve(listed, progress)
            if old is not None and _same(old, served):
                served = old  # nothing changed: keep what is fitted and warm
            else:
                served.categorizer = _categorizer(served, self.embedder)
                _warm(served)
            self._listed, self._served = listed, served  # each a single reference swap
            built = self.last_build
        before = {p.id for p in old.listed.paper_list.papers} if old else set()
        after = {p.id for p in listed.paper_list.papers}
        if old is not served:
            del old  # the last reference this method holds: then hand the pages back
            gc.collect()
            memory.release()
        return ReloadReport(
            papers=len(after),
            added=len(after - before),
            removed=len(before - after),
            embedded=built.embedded if built else 0,
            reused=built.reused if built else len(after),
            seconds=round(time.perf_counter() - started, 3),
            generation=served.generation,
        )

    def _listing(self) -> Listed:
        served, listed = self._served, self._listed
        if served is not None:
            return served.listed
        if listed is None:
            with self._lock:
                if self._listed is None:
                    self._listed = self._read()
                listed = self._listed
        return listed

    def _current(self, progress: Progress | None = None) -> Served:
        served = self._served
        if served is None:
            with self._lock:
                if self._served is None:
                    self._served = self._serve(self._listing(), progress)
                served = self._served
        return served

    def _read(self) -> Listed:
        """The list, its parse from the current generation's cache when it is there."""
        return read_listed(self.settings, self.notify, StartCache(self._folder(), self.notify))

    def _folder(self):
        try:
            return current_folder(self.store)
        except Exception:  # an unreadable index is reported by the load that follows
            return None

    def _serve(self, listed: Listed, progress: Progress | None, force: bool = False) -> Served:
        """Load the stored index for this list, or build it (only what changed) under the lock."""
        papers = listed.paper_list.papers
        loader = IndexLoader(self.settings, self.embedder, self.store, self.notify)
        stored, built = loader.load_or_build(papers, progress, force)
        if built is not None:
            self.last_build = built
        sections = listed.paper_list.sections
        index = PaperIndex(papers, sections, stored, self.embedder)
        cache = StartCache(generation_folder(self.store, stored.generation), self.notify)
        if listed.key and not (listed.cached and cache.has(PARSED, listed.key)):
            cache.save(PARSED, listed.key, (listed.paper_list, listed.skipped))
        warm_search(index, cache)
        key = categorizer_key(listed.key, stored, self.embedder, len(papers), sections)
        return Served(listed, index, stored.generation, cache=cache, categorizer_key=key)


def _categorizer(served: Served, embedder: Embedder) -> Categorizer:
    """Fitted before it is returned (and so before anyone can see it): its calibration is
    bounded on a long list (index/categorize/training.py). A fit an earlier start kept for
    this very list, index and code is taken from the cache instead (library_cache.py)."""
    index, key = served.index, served.categorizer_key
    found = restore_categorizer(served.cache, key, index, embedder)
    if found is not None:
        return found
    sections = served.listed.paper_list.sections
    categorizer = Categorizer(index.papers, index.vectors, sections, embedder)
    _ = categorizer.temperature, categorizer.off_topic_below
    drop_fit_leftovers(categorizer)
    keep_categorizer(served.cache, key, categorizer, index, embedder)
    return categorizer


def _same(old: Served, new: Served) -> bool:
    return old.generation == new.generation and old.listed.paper_list == new.listed.paper_list


def _warm(served: Served) -> None:
    """Prepare what the first request would otherwise pay for (the search tables are given
    by ``_serve`` already; the categorizer is fitted by ``_categorizer``)."""
    assert served.categorizer is not None
    if served.index.papers:
        served.index.search(served.index.papers[0].title, k=1)
