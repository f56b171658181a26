"""``POST /admin/reload``: serve an edited list or a rebuilt index without a restart.

The endpoint is off unless ``SECML_PAPERS_ADMIN_TOKEN`` is set: without a token it answers 404
like any unknown path, so a public server offers nothing to guess at. The token is compared
in constant time (on SHA-256 digests, so not even its length leaks). A reload re-reads the
list and the abstracts, builds what changed under the index lock, and swaps the served state
in one step; requests keep being answered from the old state until then, and a reload that
fails leaves the old state in service.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException
from pydantic import BaseModel

from secml_papers.corpus.errors import SecmlError
from secml_papers.service.errors_http import errors
from secml_papers.service.library import Library


class ReloadFailed(SecmlError):
    """The new list or index could not be served; the previous one still is."""

    status = 503


class ReloadPublic(BaseModel):
    papers: int
    added: int
    removed: int
    embedded: int
    reused: int
    seconds: float
    generation: str


def check_token(expected: str | None, authorization: str | None) -> None:
    """Raise the HTTP error for a missing or wrong bearer token; 404 when reload is off."""
    if not expected:
        raise HTTPException(status_code=404, detail="Not Found")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise HTTPException(
            status_code=401,
            detail="Send the admin token as an 'Authorization: Bearer <token>' header.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(_digest(given.strip()), _digest(expected)):
        raise HTTPException(status_code=403, detail="The admin token is not the right one.")


# The one error model ({"detail": sentence}), with what each status means here.
_RELOAD_ERRORS = {
    status: {"model": entry["model"], "description": text}
    for (status, entry), text in zip(
        errors(401, 403, 404, 503).items(),
        (
            "no bearer token",
            "a wrong token",
            "reload is off: SECML_PAPERS_ADMIN_TOKEN is not set",
            "an error; the detail says which",
            "the reload failed; the previous index is still served",
        ),
        strict=True,
    )
}


def admin_router(library: Library) -> APIRouter:
    """The admin endpoints over ``library``; include it in the app."""
    router = APIRouter(tags=["admin"])

    @router.post(
        "/admin/reload",
        response_model=ReloadPublic,
        responses=_RELOAD_ERRORS,
    )
    def reload(authorization: Annotated[str | None, Header()] = None) -> dict:
        """Re-read the list and abstracts, build what changed, and serve the result."""
        check_token(library.settings.admin_token, authorization)
        try:
            return library.reload().to_dict()
        except SecmlError as err:
            raise ReloadFailed(
                f"the reload failed, still serving the previous index: {err}"
            ) from err

    return router


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()
