"""glibc malloc tuning for the server process: fewer arenas, so memory freed by one request thread is
reused by the next instead of staying mapped in a per-thread arena (see BENCHMARKS.md, soak)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("facekyc.api")
M_ARENA_MAX = -8  # from glibc's malloc.h


def limit_malloc_arenas(count: int) -> bool:
    """Cap glibc's malloc arenas for threads that allocate from now on; False where libc is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = bool(mallopt(M_ARENA_MAX, count))
    if not ok:
        log.warning("could not cap malloc arenas", extra={"arenas": count})
    return ok
