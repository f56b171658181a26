"""Memory a long-running server hands back: glibc's malloc arenas, trimmed after a reload.

A reload builds the new list's index and categorizer while the old ones still answer, so for a
moment both are alive; once the old state is dropped, glibc keeps the freed pages in its arenas
(one per thread that allocated, up to eight per core) instead of returning them, and the
server's resident memory climbs with every reload (the soak of bench/performance/soak.py saw
+13% over 20 minutes with no object kept alive). Fewer arenas and a trim after each reload
return that memory. Elsewhere than on glibc both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h
ARENAS = 2
log = logging.getLogger("secml_papers.memory")


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


_LIBC = _libc()


def limit_arenas(arenas: int = ARENAS) -> bool:
    """At most ``arenas`` malloc arenas (call before the server starts its threads)."""
    return bool(_LIBC is not None and _LIBC.mallopt(_M_ARENA_MAX, arenas))


def release() -> bool:
    """Return the free pages of every arena to the system (after a reload dropped the old
    state); True when glibc gave some back."""
    return bool(_LIBC is not None and _LIBC.malloc_trim(0))
