"""Loading the stored index for a list, or building it (only what changed) when it is missing
or stale: under the store's lock, so two processes never build the same index at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from secml_papers.corpus.errors import IndexProblem
from secml_papers.corpus.records import Paper
from secml_papers.index.build import BuildReport, Progress, build_index, is_fresh
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.stores.store import Timeout
from secml_papers.index.stores.vectorstore import Snapshot, StoreUnreachable, VectorStore
from secml_papers.service.library_open import Notify
from secml_papers.service.settings import Settings


@dataclass(frozen=True)
class IndexLoader:
    """One list's store and model, with the settings that say whether a stale index may be
    rebuilt (``auto_build``) and how long to wait for another process's build."""

    settings: Settings
    embedder: Embedder
    store: VectorStore
    notify: Notify

    def load_or_build(
        self, papers: Sequence[Paper], progress: Progress | None, force: bool = False
    ) -> tuple[Snapshot, BuildReport | None]:
        """The stored index for ``papers``, and the build's report when one ran (always when
        ``force``)."""
        model = self.embedder.name
        built = None
        stored = self._load_quietly(force)
        if stored is None or not is_fresh(stored, papers, model) or force:
            if not self.settings.auto_build and not force:
                raise self._not_fresh(stored, model)
            with self._build_lock():
                stored = self._load_quietly(force)  # another process may have built meanwhile
                if stored is None or not is_fresh(stored, papers, model) or force:
                    if stored is None:
                        self.notify(f"building the index in {self.store.location}")
                    elif stored.manifest.model != model:
                        self.notify(
                            f"the index was built with {stored.manifest.model}; "
                            f"rebuilding it with {model}"
                        )
                    stored, built = build_index(papers, self.embedder, self.store, stored, progress)
        return stored, built

    def _build_lock(self):
        """The store's lock; says so once when another process's build makes it wait."""
        try:
            return self.store.lock(timeout=0)
        except Timeout:
            self.notify(f"waiting for another build of {self.store.directory} to finish")
        wait = self.settings.lock_timeout
        try:
            return self.store.lock(timeout=wait)
        except Timeout as err:
            raise IndexProblem(
                f"another build has held the lock on {self.store.directory} for {wait:g} s "
                "(SECML_PAPERS_LOCK_TIMEOUT); try again later"
            ) from err

    def _not_fresh(self, stored: Snapshot | None, model: str) -> IndexProblem:
        if stored is None:
            why = "missing"
        elif stored.manifest.model != model:
            why = f"built with {stored.manifest.model}, not {model}"
        else:
            why = "out of date with the list"
        return IndexProblem(
            f"the index in {self.store.location} is {why}; run `secml-papers build`"
        )

    def _load_quietly(self, force: bool) -> Snapshot | None:
        try:
            return self.store.load()
        except IndexProblem as err:
            if not (self.settings.auto_build or force) or isinstance(err, StoreUnreachable):
                raise
            self.notify(f"warning: {err}; rebuilding")
            return None
