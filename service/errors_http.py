"""The one error model of the HTTP API, and the ``responses=`` that document it on each route.

Every 4xx and 5xx the server answers is ``{"detail": "one sentence"}``: the domain errors
(api.py's one handler), request validation (turned into one sentence, not FastAPI's list of
errors), ``HTTPException`` from dependencies (service/limits.py, service/admin.py) and the body
cap (service/security.py). Clients are generated from the OpenAPI document, so each route
declares the statuses it can answer with this model, and FastAPI's own 422 schema, which the
server never sends, is replaced::

    @app.get("/papers/{paper_id}", responses=errors(404, 422))

500 (an unexpected error) is always included. A new limit adds its status to the route's call,
or to one of the groups below, and gets the model and a description from ``DESCRIPTIONS``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorPublic(BaseModel):
    """What every error answer holds: one sentence for a person, never a list."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "no paper has the id 'x'"}]}
    )

    detail: str = Field(..., description="one sentence saying what went wrong")


DESCRIPTIONS: dict[int, str] = {
    400: "the request cannot be answered as given (an empty query, a malformed list, ...)",
    401: "an API key is required: the operator set SECML_PAPERS_API_KEY",
    403: "not allowed on this server (link checks it has not turned on, a wrong key)",
    404: "no such paper or section",
    413: "the request is over a size or cost limit of this server",
    422: "the request does not match the documented schema (one sentence says where)",
    429: "too many expensive requests: from this client, or in flight; see Retry-After",
    500: "an unexpected error; the server's log has the details",
    503: "not available now: the index cannot be served, or the request ran out of time",
}
RETRY_AFTER: dict[str, Any] = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "string"},
    }
}
# What the guarded endpoints may also answer (service/limits.py): the API key, cost bounds, the
# number of expensive requests in flight and their time budget.
EXPENSIVE = (401, 413, 429, 503)
# A paper or a section looked up by what the client gave; the served index may be unavailable.
LOOKUP = (404, 422, 503)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer ``statuses`` (and 500), all as
    :class:`ErrorPublic`.

    >>> sorted(errors(404, 422))
    [404, 422, 500]
    >>> errors(404)[404]["description"]
    'no such paper or section'
    """
    documented: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 500}):
        entry: dict[str, Any] = {
            "model": ErrorPublic,
            "description": DESCRIPTIONS.get(status, "an error; the detail says which"),
        }
        if status in (429, 503):
            entry["headers"] = RETRY_AFTER
        documented[status] = entry
    return documented
