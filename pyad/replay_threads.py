"""The replay pool's threads: pyad.pool runs the worker participants of a
batch call on them.

Why not concurrent.futures.ThreadPoolExecutor: handing it a task cost the
calling thread ~40 us on a 2-vCPU VM (a Future, a work item, and a
semaphore written in Python), and the task began ~60 us later. Here idle
threads wait on one queue and a task is one put: ~5-10 us for the caller,
and a thread begins it ~15-30 us later (bench/issue12_workers.py).

Ctrl-C may land between any two steps of the caller (a KeyboardInterrupt
after any call returns), so the caller's side has no two-step state to
leave half done: a Task is made and recorded by the caller first, then
handed over by one queue put (a single C call: the task is queued or it
is not). The caller then cancels and waits for every task it recorded:
cancel() withdraws a task no thread has begun, queued or never handed
over, and wait() returns at once for it.

Threads are made on demand while none is free, at most `limit` (the
thread itself counts in, so a start cut short by Ctrl-C leaves no phantom
thread behind). They are named pyad-replay-N, are daemon threads that
never stop while the process runs, and never hold a task past the call
that made it: the caller waits for all of them, so no daemon thread is in
C at exit, and an atexit hook stops and joins them all. A child of fork()
starts with none (forget(), from pyad.forking).
"""

from __future__ import annotations

import atexit
import itertools
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Task", "forget", "submit"]

# Guards the counts below and every task's state (sections of a few
# lines); pyad.forking takes it around fork().
_lock = threading.Lock()
_work: queue.SimpleQueue[Task | None] = queue.SimpleQueue()  # None: stop
_threads: list[threading.Thread] = []  # made by this process
_made = 0  # threads running their loop
_starting = 0  # threads being started
# threads free for a new task: those waiting on _work, less the queued
# tasks no new thread was made for (below 0 while tasks wait for a thread)
_idle = 0
_pid = os.getpid()
_names = itertools.count(1)

_NEW, _RUNNING, _WITHDRAWN = 0, 1, 2


class Task:
    """fn(*args) on a pool thread. wait() returns when it has finished, or
    at once when cancel() withdrew it before a thread began it."""

    __slots__ = ("fn", "args", "error", "finished", "_done", "_state")

    def __init__(self, fn: Callable[..., object], args: tuple[Any, ...] = ()) -> None:
        self.fn, self.args = fn, args
        self.error: BaseException | None = None
        # finished is set before _done is released, once: a Ctrl-C that
        # lands just after wait()'s acquire cannot leave a later wait() blocked
        self.finished = False
        self._done = threading.Lock()
        self._done.acquire()
        self._state = _NEW

    def cancel(self) -> bool:
        """Withdraw the task if no thread has begun it (True: it will not run)."""
        with _lock:
            if self._state != _NEW:
                return self._state == _WITHDRAWN
            # no Python call until the release (a Ctrl-C can land at any
            # call): a withdrawn task is always a finished one
            self._state = _WITHDRAWN
            self.fn = self.args = None  # type: ignore[assignment]
            self.finished = True
            self._done.release()
        return True

    def wait(self) -> None:
        """Until the task has finished or was withdrawn (Ctrl-C can cut
        this short: see pool._await). Only the thread that made it waits."""
        while not self.finished:
            self._done.acquire()

    def result(self) -> None:
        """wait(), then raise what the task raised, if anything."""
        self.wait()
        if self.error is not None:
            raise self.error

    def _finish(self) -> None:
        self.fn = self.args = None  # type: ignore[assignment]  # its job's buffers go now
        self.finished = True
        self._done.release()

    def _run(self) -> None:
        with _lock:
            if self._state != _NEW:  # withdrawn while queued
                return
            self._state = _RUNNING
        try:
            self.fn(*self.args)
        except BaseException as e:  # noqa: BLE001  (given to the caller)
            self.error = e
        self._finish()


def submit(task: Task, *, limit: int) -> None:
    """Queue the task for the pool's threads; a thread is made first when
    none is idle and fewer than `limit` exist."""
    global _idle, _starting
    make = False
    try:
        with _lock:
            if _pid != os.getpid():  # forked without pyad.forking's hooks
                _forget_locked()
            if _idle <= 0 and _made + _starting < limit:
                _starting += 1  # a new thread will take it
                make = True
            else:
                _idle -= 1  # a free thread will, or the next one to be free
        if make:
            name = f"pyad-replay-{next(_names)}"
            thread = threading.Thread(target=_loop, args=(limit,), name=name, daemon=True)
            with _lock:
                _threads.append(thread)
            thread.start()
    finally:
        # in the finally: a Ctrl-C anywhere after the count went up brings
        # it down (a count stuck up would stop the pool making threads)
        if make:
            with _lock:
                _starting -= 1
    _work.put(task)


def _loop(limit: int) -> None:
    """A pool thread: counts itself in (unless `limit` threads already
    run), then runs queued tasks for as long as the process lives. Its
    first task is the one whose submit made it; after each task it is
    free again. (Ctrl-C can cut a submit short between its count and its
    put; that leaves the free count too low, never too high: at worst the
    pool makes its threads, up to the limit, sooner than it had to.)"""
    global _made, _idle
    with _lock:
        if _made >= limit:  # the task queued for it goes to another thread
            _idle -= 1
            return
        _made += 1
        work = _work
    while True:
        task = work.get()
        if task is None:  # _stop_all, at exit
            return
        task._run()
        del task  # the job's buffers, in case it was withdrawn while queued
        with _lock:
            if work is _work:  # not forgotten in a fork's child
                _idle += 1


@atexit.register
def _stop_all() -> None:
    """At exit, before the interpreter tears down: every thread leaves its
    loop and is joined, so none is left for the runtime (or a sanitizer's
    exit-time leak check, which cannot stop daemon threads being torn down)
    to deal with. No task runs then: callers wait for theirs."""
    with _lock:
        threads = [t for t in _threads if t.ident is not None] if _pid == os.getpid() else []
    for _ in threads:
        _work.put(None)
    for thread in threads:
        thread.join(timeout=1.0)


def forget() -> None:
    """In a child after fork(): the parent's threads are not here."""
    _forget_locked()


def _forget_locked() -> None:
    global _work, _threads, _made, _starting, _idle, _pid
    _work = queue.SimpleQueue()
    _threads = []
    _made = _starting = _idle = 0
    _pid = os.getpid()
