"""Domain errors, raised in the library and translated once at each edge.

Each carries one sentence meant for the user, and the kind of mistake it is, so the HTTP
edge can pick a status code and the CLI an exit code without knowing every subclass.
"""


class SecmlError(Exception):
    """Base of every error a user can cause; ``str(err)`` is the one sentence to show."""

    status = 400


class InputError(SecmlError):
    """A bad query, filter, k, or request body."""


class NotFound(SecmlError):
    """An unknown paper or section."""

    status = 404


class ListError(SecmlError):
    """The list cannot be read (missing, unreadable, not text)."""


class IndexProblem(SecmlError):
    """The index is missing, stale, corrupt or from another model, and may not be rebuilt."""

    status = 503


class ModelError(SecmlError):
    """The embedding model is unknown or cannot be loaded."""

    status = 500
