"""Memory a long-running server hands back: glibc's malloc arenas, trimmed after a reload.

A reload builds the new list's index and categorizer while the old ones still answer, so for a
moment both are alive; once the old state is dropped, glibc keeps the freed pages in its arenas
(one per thread that allocated, up to eight per core) instead of returning them, and the
server's resident memory climbs with every reload (the soak of bench/performance/soak.py saw
+13% over 20 minutes with no object kept alive). Fewer arenas and a trim after each reload
return that memory.

The same holds between reloads: a ``/check-pr`` of a 10,000-entry list parses both versions
and gathers a categorizer's evidence for every entry, some 250 MB for a few seconds (measured
by bench/performance/soak_memory.py), and glibc keeps what it frees. Two things hand it back:
a fixed mmap threshold, so a large block (the list-sized arrays) is mapped on its own and
unmapped when freed (glibc's threshold otherwise rises, up to 32 MB, after the first large
block is freed, and from then on such arrays are carved out of the heap and stay there), and a
trim after each check (service/api.py). Elsewhere than on glibc all of these are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_ARENA_MAX = -8  # mallopt's parameter numbers in glibc's malloc.h
_M_MMAP_THRESHOLD = -3
ARENAS = 2
# a list-sized array (a 10,000-entry list's vectors: 15 MB) is mapped apart; smaller blocks
# stay in the heap, where reusing them costs no system call (a 128 KB threshold, glibc's
# starting value, mapped every medium array of a categorizer's fit as well)
MMAP_THRESHOLD = 1024 * 1024


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


def fix_mmap_threshold(size: int = MMAP_THRESHOLD) -> bool:
    """Blocks of ``size`` bytes and more mapped apart and returned when freed; setting it also
    stops glibc from raising it (call before the server starts its threads)."""
    return bool(_LIBC is not None and _LIBC.mallopt(_M_MMAP_THRESHOLD, size))


def release() -> bool:
    """Return the free pages of every arena to the system (after a reload dropped the old
    state, after a check-pr); True when glibc gave some back."""
    return bool(_LIBC is not None and _LIBC.malloc_trim(0))
