"""Reading the list and the abstracts cache: the only module in ``corpus`` on the disk.

A list given by URL is kept under the user cache (``lists/``) with its ETag and Last-Modified,
revalidated on each run, replaced atomically (``atomic.py``) and used as it is when the network
fails (with a warning) or when offline. The abstracts cache is JSON Lines, appended one record
at a time with flush + fsync: a crash can only tear the last line, which the reader skips and
the next append moves past.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_cache_path

from secml_papers.corpus.atomic import write_atomic
from secml_papers.corpus.errors import ListError
from secml_papers.corpus.remote_list import fetch_list

BUNDLED_LIST = "awesome-secml-papers.md"
MAX_LIST_BYTES = 20_000_000


@dataclass(frozen=True)
class ListSource:
    """Where a list came from, for messages and for naming its index directory.

    ``warnings`` says when the text is an older cached copy because the URL failed.
    """

    text: str
    name: str
    location: str
    warnings: tuple[str, ...] = ()


def is_url(source: str | None) -> bool:
    return bool(source) and str(source).lower().startswith(("http://", "https://"))


def source_key(source: str | None) -> str:
    """A readable, stable name for a list's own files: a slug of its name and a location hash.

    >>> source_key("https://raw.githubusercontent.com/o/awesome-ml-sec/main/README.md")
    'awesome-ml-sec-readme-8a01df15'
    """
    source = source or "bundled"
    if is_url(source):
        parts = urlsplit(source)
        segments = [s for s in parts.path.split("/") if s]
        stem = Path(segments[-1]).stem if segments else "list"
        host = parts.hostname or ""
        if host in ("raw.githubusercontent.com", "github.com", "gitlab.com") and len(segments) > 2:
            prefix = segments[1]  # the repository
        else:
            prefix = host.removeprefix("www.")
        name, located = f"{prefix}-{stem}", source
    elif source == "bundled":
        name, located = source, source
    else:
        name, located = Path(source).stem, str(Path(source).expanduser().resolve())
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-") or "list"
    return f"{slug}-{hashlib.sha1(located.encode()).hexdigest()[:8]}"


def read_list(
    source: str | None,
    *,
    cache_dir: Path | None = None,
    offline: bool = False,
    timeout: float = 30.0,
) -> ListSource:
    """The bundled list when ``source`` is None, else the Markdown file or URL ``source``."""
    if source is None:
        text = (
            resources.files("secml_papers.corpus")
            .joinpath("data", BUNDLED_LIST)
            .read_text(encoding="utf-8")
        )
        return ListSource(text, BUNDLED_LIST, f"bundled:{BUNDLED_LIST}")
    if is_url(source):
        lists = (cache_dir or user_cache_path("secml-papers")) / "lists"
        return _read_url(source, lists, offline, timeout)
    path = Path(source).expanduser()
    if not path.exists():
        raise ListError(f"the list file {source} does not exist")
    if not path.is_file():
        raise ListError(f"the list {source} is not a file")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ListError(f"the list file {source} cannot be read ({err.strerror})") from err
    if len(data) > MAX_LIST_BYTES:
        raise ListError(f"the list file {source} is larger than {MAX_LIST_BYTES // 1_000_000} MB")
    return ListSource(_decode(data, f"the list file {source}"), path.name, str(path.resolve()))


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ListError(f"{what} is not UTF-8 text") from err


def _read_url(url: str, lists: Path, offline: bool, timeout: float) -> ListSource:
    name = Path(urlsplit(url).path).name or url
    body_path = lists / f"{source_key(url)}.md"
    meta_path = body_path.with_suffix(".json")
    cached, meta = _load_cached(body_path, meta_path)
    if offline:
        if cached is None:
            raise ListError(f"offline, and the list {url} was never downloaded; run once online")
        return ListSource(cached, name, url)
    try:
        fetched = fetch_list(
            url,
            etag=meta.get("etag") if cached is not None else None,
            last_modified=meta.get("last_modified") if cached is not None else None,
            timeout=timeout,
            max_bytes=MAX_LIST_BYTES,
        )
        if fetched.body is None:
            if cached is None:
                raise ListError(f"the server of {url} answered 304 to a first download")
            return ListSource(cached, name, url)
        text = _decode(fetched.body, f"the list {url}")
    except ListError as err:
        if cached is None:
            raise
        when = meta.get("fetched", "an earlier run")
        return ListSource(cached, name, url, (f"{err}; using the copy cached on {when}",))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    body_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(body_path, text)
    info = {"url": url, "etag": fetched.etag, "last_modified": fetched.last_modified}
    info |= {"fetched": stamp, "sha1": hashlib.sha1(text.encode()).hexdigest()}
    write_atomic(meta_path, json.dumps(info, indent=1))
    return ListSource(text, name, url)


def _load_cached(body_path: Path, meta_path: Path) -> tuple[str | None, dict]:
    """The cached text and its metadata; validators only when they belong to this text."""
    try:
        text = body_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None, {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return text, {}
    if not isinstance(meta, dict) or meta.get("sha1") != hashlib.sha1(text.encode()).hexdigest():
        return text, {}  # a crash between the two writes: revalidate without validators
    return text, meta


def read_jsonl(path: Path, missing_ok: bool = False) -> tuple[list[dict], list[str]]:
    """Objects of a JSON Lines file, and a message per line skipped (a torn last line too)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as err:
        if missing_ok:
            return [], []
        raise ListError(f"the abstracts file {path} does not exist") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ListError(f"the abstracts file {path} cannot be read ({err})") from err
    records, skipped = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            skipped.append(f"{path.name}:{number}: not valid JSON, skipped")
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            skipped.append(f"{path.name}:{number}: not a JSON object, skipped")
    return records, skipped


def read_abstracts(path: Path, missing_ok: bool = False) -> tuple[list[dict], list[str]]:
    """Records of a JSON Lines abstracts cache, and a message per line that was skipped.

    A torn last line (a crash mid-append) is skipped with a message, never fatal.
    """
    found, skipped = read_jsonl(path, missing_ok)
    records = []
    for record in found:
        if isinstance(record.get("abstract"), str):
            records.append(record)
        else:
            skipped.append(f"{path.name}: a record without an 'abstract' string, skipped")
    return records, skipped


def append_jsonl(path: Path, records: Iterable[dict]) -> None:
    """Append records durably (flush + fsync), first ending a line a crash left torn."""
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell():
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                lines = b"\n" + lines
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


def misses_path(abstracts: Path) -> Path:
    """Beside the cache: the entries no source had, so a rerun does not ask again."""
    return abstracts.with_name(f"{abstracts.stem}.misses.jsonl")


def read_text_file(path: Path, what: str) -> str:
    """A local UTF-8 file for ``enrich --from``, or a ListError saying why not."""
    try:
        data = path.expanduser().read_bytes()
    except FileNotFoundError as err:
        raise ListError(f"{what} {path} does not exist") from err
    except IsADirectoryError as err:
        raise ListError(f"{what} {path} is a directory, not a file") from err
    except OSError as err:
        raise ListError(f"{what} {path} cannot be read ({err.strerror})") from err
    return _decode(data, f"{what} {path}")
