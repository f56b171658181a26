"""Downloading a list given by URL: conditional, streamed, capped.

The caller (``storage.read_list``) keeps the copy on disk with its ``ETag`` and
``Last-Modified``; here they become ``If-None-Match`` / ``If-Modified-Since``, so an unchanged
list costs a 304 and no body. The body is read in chunks and abandoned past ``max_bytes``, so a
wrong URL pointing at something huge cannot fill the memory. Every failure is a ``ListError``
with one sentence saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from secml_papers.corpus.errors import ListError
from secml_papers.corpus.polite import USER_AGENT


@dataclass(frozen=True)
class Fetched:
    """A fresh body with its validators, or ``body`` None for "304: your copy is current"."""

    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None


def fetch_list(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 30.0,
    max_bytes: int = 20_000_000,
    transport: httpx.BaseTransport | None = None,
) -> Fetched:
    """GET ``url``, conditionally when validators are given."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/markdown, text/plain;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    what = f"the list {url}"
    try:
        with (
            httpx.Client(
                timeout=timeout, follow_redirects=True, max_redirects=5, transport=transport
            ) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return Fetched(None, etag, last_modified)
            if response.status_code >= 400:
                phrase = response.reason_phrase or "error"
                raise ListError(f"cannot fetch {what}: HTTP {response.status_code} {phrase}")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise ListError(f"{what} is larger than {max_bytes // 1_000_000} MB")
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind == "text/html":
                raise ListError(
                    f"{what} is an HTML page, not a Markdown file; give the raw file's URL "
                    "(on GitHub: the Raw button, raw.githubusercontent.com/...)"
                )
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ListError(f"{what} is larger than {max_bytes // 1_000_000} MB")
                chunks.append(chunk)
            return Fetched(
                b"".join(chunks),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            )
    except httpx.TimeoutException as err:
        raise ListError(f"cannot fetch {what}: no answer within {timeout:g} s") from err
    except httpx.TooManyRedirects as err:
        raise ListError(f"cannot fetch {what}: too many redirects") from err
    except httpx.InvalidURL as err:
        raise ListError(f"{what} is not a valid URL ({err})") from err
    except httpx.TransportError as err:
        raise ListError(f"cannot fetch {what}: cannot connect ({_reason(err)})") from err
    except httpx.RequestError as err:
        raise ListError(f"cannot fetch {what} ({_reason(err)})") from err


def _reason(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text.splitlines()[0][:200]
