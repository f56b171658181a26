"""The parts of a served list a start takes from the cache (``start_cache.py``) rather than
computing them again: the BM25 tables of search and the fitted categorizer; the parse is
``library_open.read_listed``'s. Where they are kept: the folder of the index generation
they were computed on (FAISS stores; other stores keep none).

Keys (any difference means another file, never a stale one):

* BM25 tables: the texts they index, in order, and the code of ``index/lexical.py`` with
  the bm25s and PyStemmer versions;
* the categorizer: the parse's key (the list's text, abstracts and parser code, so the
  papers and sections), the generation (its name and manifest), the model's name, and the
  code of ``index/categorize/`` and ``index/lexical.py`` with the NumPy and bm25s versions, so
  a change to the categorizer's scoring is never answered by an old fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from secml_papers.corpus.errors import IndexProblem
from secml_papers.index import categorize, lexical
from secml_papers.index.categorize.categorizer import Categorizer
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.lexical import LexicalIndex
from secml_papers.index.search.paper_index import PaperIndex, search_text
from secml_papers.index.stores.vectorstore import FaissStore, Snapshot, VectorStore
from secml_papers.service.start_cache import StartCache, code_fingerprint, key_of, texts_key

BM25 = "bm25"
CATEGORIZER = "categorizer"
# recomputed on demand if ever read again; not worth their room in the file (and in memory)
_NOT_KEPT = ("_training", "derived")
_PACKAGES = ("numpy", "scipy", "scikit-learn", "bm25s", "PyStemmer")


def current_folder(store: VectorStore) -> Path | None:
    """The folder of the generation in use, before the index is loaded (None: none yet)."""
    if not isinstance(store, FaissStore):
        return None
    try:
        name = store.store.current_generation()
    except IndexProblem:
        return None
    return generation_folder(store, name)


def generation_folder(store: VectorStore, generation: str | None) -> Path | None:
    if not isinstance(store, FaissStore) or not generation:
        return None
    folder = store.directory / generation
    return folder if folder.is_dir() else None


def lexical_index(cache: StartCache, texts: Sequence[str]) -> LexicalIndex:
    """BM25 over ``texts``: from the cache when it was built on the very same texts."""
    key = key_of(BM25, _lexical_code(), texts_key(texts), len(texts))
    found = cache.load(BM25, key)
    if isinstance(found, LexicalIndex) and found.size == len(texts):
        return found
    built = LexicalIndex(texts)
    cache.save(BM25, key, built)
    return built


def warm_search(index: PaperIndex, cache: StartCache) -> None:
    """Give ``index`` its BM25 tables now (a cached_property, filled in): from the cache in
    well under a second, else built and kept for the next start."""
    if "lexical" not in index.__dict__:
        index.__dict__["lexical"] = lexical_index(cache, [search_text(p) for p in index.papers])


def categorizer_key(
    listed_key: str, stored: Snapshot, embedder: Embedder, papers: int, sections: Sequence
) -> str:
    """ "" (no caching) when the list's parse has no key."""
    if not listed_key:
        return ""
    m = stored.manifest
    code = code_fingerprint(categorize, lexical, packages=_PACKAGES)
    # a generation's files are written once (and checked against their checksums on load):
    # its name and manifest name its vectors
    generation = (stored.generation, m.model, m.dim, m.list_hash, m.built_at, m.ids[:1])
    return key_of(CATEGORIZER, code, listed_key, generation, embedder.name, papers, len(sections))


def restore_categorizer(
    cache: StartCache, key: str, index: PaperIndex, embedder: Embedder
) -> Categorizer | None:
    """The categorizer fitted on this list and index at an earlier start, or None."""
    if not key:
        return None
    found = cache.load(CATEGORIZER, key, _shared(index, embedder))
    if not isinstance(found, Categorizer):
        return None
    if found.papers is not index.papers or found.vectors is not index.vectors:
        return None  # not what this index serves (cannot happen with a matching key)
    return found


def keep_categorizer(
    cache: StartCache, key: str, categorizer: Categorizer, index: PaperIndex, embedder: Embedder
) -> None:
    """Write the fitted ``categorizer`` without the arrays it shares with ``index``."""
    if not key or cache.folder is None:
        return
    state = {k: v for k, v in categorizer.__dict__.items() if k not in _NOT_KEPT}
    copy = Categorizer.__new__(Categorizer)
    copy.__dict__.update(state, derived={})
    cache.save(CATEGORIZER, key, copy, _shared(index, embedder))


def drop_fit_leftovers(categorizer: Categorizer) -> None:
    """Forget what only the fit read (the training rows' features: tens of MB on a long
    list); a cached_property, computed again if anything ever asks."""
    categorizer.__dict__.pop("_training", None)


def _shared(index: PaperIndex, embedder: Embedder) -> dict[str, object]:
    return {"vectors": index.vectors, "papers": index.papers, "embedder": embedder}


def _lexical_code() -> str:
    return code_fingerprint(lexical, packages=("bm25s", "PyStemmer"))


__all__ = [
    "current_folder",
    "generation_folder",
    "keep_categorizer",
    "lexical_index",
    "restore_categorizer",
    "warm_search",
]
