"""fork() safety: os.register_at_fork hooks for every lock pyad holds.

A lock held by another thread when a process forks stays held forever in
the child, where that thread does not exist: the child's first call that
needs it hangs. So just before fork() the forking thread takes every pyad
lock itself, in one fixed order (the Python locks first, then the C
tape's, which any Python-lock holder may be waiting for), waiting for the
threads that hold them to finish their short sections; after fork() each
side releases them. The child also gets a fresh replay pool (the parent's
threads are not in it) and forgets the traces of the other threads.

Forks made by os.fork() and multiprocessing run these hooks; a
subprocess's fork+exec does not need them.
"""

from __future__ import annotations

import os
import threading

from . import _lib, compiled, dropped, pool, replay_threads, tracing
from ._lib import lib

__all__: list[str] = []


def _locks() -> list[threading.Lock | threading.RLock]:
    # The order of acquisition; see the top.
    return [
        compiled._state_lock,
        tracing._tracers_lock,
        replay_threads._lock,
        dropped._lock,
        _lib._refill_lock,
    ]


def _before() -> None:
    for lock in _locks():
        lock.acquire()
    lib.pyad_fork_prepare()  # the tape's lock; waits with the GIL released


def _after_in_parent() -> None:
    lib.pyad_fork_parent()
    for lock in reversed(_locks()):
        lock.release()


def _after_in_child() -> None:
    lib.pyad_fork_child()
    pool.forget_pool()
    tracing.after_fork_child()
    for lock in reversed(_locks()):
        lock.release()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(
        before=_before, after_in_parent=_after_in_parent, after_in_child=_after_in_child
    )
