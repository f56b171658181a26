"""A running server keeps answering during rebuilds and picks up the new index on reload.

Real HTTP against uvicorn on 127.0.0.1, with the fake embedder: what is tested is the swap,
not the model. Background clients hammer search, related and categorize the whole time, and
every one of their answers must be a 200.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secml_papers.index.stores.store import IndexStore
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .servers import serve

TOKEN = "correct horse battery staple"
DIM = 64  # small vectors keep the categorizer's fit (matrix inverses) quick on a busy CPU
NEW_ENTRY = (
    '- Doe et al. [**"Quokka Zebrafish Sentinels for Index Reloads"**]'
    "(https://example.org/quokka) @ **ICML 2024**.\n"
)
OTHER_ENTRY = (
    '- Roe et al. [**"Narwhal Lighthouse Keepers of Stale Indexes"**]'
    "(https://example.org/narwhal) @ **ICML 2024**.\n"
)


def settings_for(tmp_path: Path, token: str | None = TOKEN) -> Settings:
    return Settings(
        list_source=str(tmp_path / "list.md"),
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "data",
        cache_dir=tmp_path / "cache",
        admin_token=token,
    )


@pytest.fixture
def served(tmp_path: Path, bundled_text: str) -> Iterator[tuple[str, Library, Path]]:
    (tmp_path / "list.md").write_text(bundled_text)
    library = Library(settings_for(tmp_path), FakeEmbedder(DIM))
    _ = library.categorizer.temperature  # fitted before serving, as `secml-papers serve` does
    with serve(create_app(library)) as base:
        yield base, library, tmp_path / "list.md"


class Hammer:
    """Clients that keep asking until stopped, counting every status they get."""

    def __init__(self, base: str, paper_id: str, clients: int = 3) -> None:
        self.base, self.paper_id = base, paper_id
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(clients)]

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def done(self) -> int:
        with self._lock:
            return sum(self.statuses.values())

    def wait_for(self, answers: int) -> None:
        """Until the clients have had this many answers in all (no time limit but a generous
        one: the first categorize fits the categorizer)."""
        for _ in range(6000):
            if self.done() >= answers or self.failures:
                return
            self._stop.wait(0.05)
        raise AssertionError(f"only {self.done()} answers in 300 s")

    def _run(self, seed: int) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as http:
            turn = seed
            while not self._stop.is_set():
                turn += 1
                try:
                    if turn % 3 == 0:
                        r = http.get("/search", params={"q": "backdoor defense", "k": 5})
                    elif turn % 3 == 1:
                        r = http.get(f"/papers/{self.paper_id}/related", params={"k": 3})
                    else:
                        r = http.post("/categorize", json={"title": "Poisoning federated models"})
                    status = r.status_code
                    if status != 200:
                        self.failures.append(f"{r.request.url}: {status} {r.text[:200]}")
                except httpx.HTTPError as err:
                    status = -1
                    self.failures.append(repr(err))
                with self._lock:
                    self.statuses[status] += 1


def add_entry(path: Path, entry: str) -> None:
    """Append an entry to the list's last section (the bundled list ends without a newline)."""
    path.write_text(path.read_text().rstrip("\n") + "\n\n" + entry)


def titles(base: str, query: str) -> list[str]:
    body = httpx.get(f"{base}/search", params={"q": query, "k": 3}, timeout=60).json()
    return [hit["title"] for hit in body["results"]]


def reload(base: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(f"{base}/admin/reload", headers=headers, timeout=120)


def test_requests_keep_succeeding_through_rebuilds_and_reloads(served) -> None:
    base, library, list_path = served
    first_id = library.paper_list.papers[0].id
    with Hammer(base, first_id) as hammer:
        # Another process's build (the CLI's `build`) writes a new generation and sweeps the
        # one the server loaded; the server answers from memory, with the old list, meanwhile.
        add_entry(list_path, NEW_ENTRY)
        other = Library(settings_for(list_path.parent), FakeEmbedder(DIM))
        assert other.build().embedded == 1
        assert "Quokka Zebrafish Sentinels for Index Reloads" not in titles(
            base, "quokka zebrafish"
        )
        hammer.wait_for(6)
        before = hammer.done()
        answer = reload(base)
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert (report["added"], report["removed"], report["embedded"]) == (1, 0, 0)
        assert report["papers"] == 28 and report["generation"].startswith("gen-")
        assert titles(base, "quokka zebrafish")[0] == "Quokka Zebrafish Sentinels for Index Reloads"

        # An edit nobody built yet: the reload builds it (one entry embedded) in the server.
        add_entry(list_path, OTHER_ENTRY)
        answer = reload(base)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["added"], answer.json()["embedded"]) == (1, 1)
        assert (
            titles(base, "narwhal lighthouse")[0] == "Narwhal Lighthouse Keepers of Stale Indexes"
        )
        paper = httpx.get(f"{base}/papers", timeout=60).json()["papers"]
        assert len(paper) == 29
        after = hammer.done()
        hammer.wait_for(after + 6)  # a few more answers from the new state
    assert hammer.failures == []
    assert set(hammer.statuses) == {200}
    assert before > 0 and hammer.done() > after


def test_reload_is_off_without_a_token(tmp_path: Path, bundled_text: str) -> None:
    (tmp_path / "list.md").write_text(bundled_text)
    library = Library(settings_for(tmp_path, token=None), FakeEmbedder(DIM))
    with serve(create_app(library)) as base:
        for token in (None, "anything"):
            answer = reload(base, token)
            assert answer.status_code == 404
            assert answer.json() == {"detail": "Not Found"}


def test_reload_needs_the_right_token(served) -> None:
    base, library, list_path = served
    add_entry(list_path, NEW_ENTRY)
    missing = reload(base, None)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = reload(base, TOKEN + "x")
    assert wrong.status_code == 403
    basic = httpx.post(
        f"{base}/admin/reload", headers={"Authorization": f"Basic {TOKEN}"}, timeout=60
    )
    assert basic.status_code == 401
    for answer in (missing, wrong, basic):
        detail = answer.json()["detail"]
        assert detail.endswith(".") and detail.count(". ") == 0 and TOKEN not in detail
    assert len(library.paper_list.papers) == 27  # nothing was reloaded
    assert reload(base).status_code == 200
    assert len(library.paper_list.papers) == 28


def test_a_failed_reload_keeps_serving_the_old_index(served) -> None:
    base, library, list_path = served
    list_path.unlink()
    answer = reload(base)
    assert answer.status_code == 503
    detail = answer.json()["detail"]
    assert detail.startswith("the reload failed, still serving the previous index")
    assert str(list_path.parent) not in detail and "Traceback" not in detail
    assert httpx.get(f"{base}/search", params={"q": "backdoor"}, timeout=60).status_code == 200
    assert len(library.paper_list.papers) == 27


def test_a_reader_follows_current_when_a_build_sweeps_its_generation(
    tmp_path: Path, bundled_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made to happen: between reading CURRENT and reading the generation's files,
    another build switches CURRENT and sweeps that generation."""
    (tmp_path / "list.md").write_text(bundled_text)
    Library(settings_for(tmp_path), FakeEmbedder(DIM)).index()
    store = IndexStore(tmp_path / "index")
    first = store.current_generation()
    real_read = IndexStore._read
    raced: list[str] = []

    def read_after_a_build(self: IndexStore, name: str):
        if not raced:
            raced.append(name)
            add_entry(tmp_path / "list.md", NEW_ENTRY)
            Library(settings_for(tmp_path), FakeEmbedder(DIM)).index()  # switches and sweeps
        return real_read(self, name)

    monkeypatch.setattr(IndexStore, "_read", read_after_a_build)
    loaded = store.load()
    assert raced == [first] and not (tmp_path / "index" / first).exists()
    assert loaded is not None and loaded.generation != first and len(loaded.manifest.ids) == 28


def test_readers_never_fail_while_builds_switch_and_sweep(
    tmp_path: Path, bundled_text: str
) -> None:
    """Unforced: readers load in a loop while another thread builds ten generations."""
    directory = tmp_path / "index"
    (tmp_path / "list.md").write_text(bundled_text)
    Library(settings_for(tmp_path), FakeEmbedder(DIM)).index()
    errors: list[BaseException] = []
    loads = Counter[str]()
    stop = threading.Event()

    def reader() -> None:
        store = IndexStore(directory)
        while not stop.is_set():
            try:
                stored = store.load()
                assert stored is not None and stored.faiss_index.ntotal == len(stored.vectors)
                loads[stored.generation] += 1
            except BaseException as err:  # anything at all is a failure here
                errors.append(err)
                return

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        for round_ in range(10):
            (tmp_path / "list.md").write_text(bundled_text)
            add_entry(tmp_path / "list.md", NEW_ENTRY.replace("Quokka", f"Quokka {round_}"))
            Library(settings_for(tmp_path), FakeEmbedder(DIM)).build()
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
    assert errors == []
    assert sum(loads.values()) > 0
    assert len([p for p in directory.iterdir() if p.name.startswith("gen-")]) == 1
