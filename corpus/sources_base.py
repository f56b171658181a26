"""What the abstract sources share: the entry asked about, and the answer a source gives."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

import httpx

from secml_papers.corpus.polite import SourceError

_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]{1,300}>")
# Placeholders some publishers deposit instead of an abstract: worse than none for search.
_PLACEHOLDERS = {"no abstract available", "abstract not available", "n a", "na", "abstract"}
MIN_ABSTRACT_CHARS = 40


@dataclass(frozen=True)
class Target:
    """A list entry that lacks an abstract: what the sources are asked with."""

    id: str
    title: str
    arxiv_id: str | None = None
    doi: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A source's answer: the paper it found, its abstract (maybe none) and identifiers."""

    source: str
    title: str
    abstract: str | None
    ids: dict[str, str] = field(default_factory=dict)


def clean_abstract(text: str | None) -> str | None:
    """Whitespace collapsed, entities and tags gone; None when nothing useful is left."""
    if not text:
        return None
    plain = _TAG.sub(" ", html.unescape(text))  # a tag between paragraphs is a space
    plain = _SPACE.sub(" ", html.unescape(plain)).strip()
    folded = re.sub(r"[^a-z]+", " ", plain.lower()).strip()
    if len(plain) < MIN_ABSTRACT_CHARS or folded in _PLACEHOLDERS:
        return None
    return plain


def json_body(response: httpx.Response, source: str) -> object:
    """The response's JSON, or SourceError: a malformed answer is a failure, not a miss."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SourceError(
            f"{source}: malformed JSON in the answer ({err.__class__.__name__})"
        ) from err


def expect_ok(response: httpx.Response, source: str) -> bool:
    """True for 200, False for 404 (not known there); SourceError for anything else."""
    if response.status_code == 200:
        return True
    if response.status_code == 404:
        return False
    raise SourceError(f"{source}: HTTP {response.status_code}")
