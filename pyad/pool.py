"""The replay pool: how a batch job's points are run, on the calling thread
or shared with worker threads (workers=k).

A job (batchjob.BatchJob, lanes.LaneJob) runs points [lo, hi) in C with
the GIL released. Two rules make it safe to interrupt (Ctrl-C) or fail at
any moment:

* The calling thread only ever makes short C calls (about _CHUNK_SECONDS
  each, see chunks()), so that Python's signal handlers, run between two,
  see Ctrl-C quickly; a pool task runs a chunk (at most
  _OPS_PER_CHUNK_MAX op evaluations) as it likes.
* When anything is raised while workers run (KeyboardInterrupt, an error
  in a worker, a failed submit), every participant is cancelled (C polls
  the flag between blocks of points) and the caller waits for all of them
  before the exception leaves: no C call outlives its job's buffers.

With k workers the calling thread takes part, and k - 1 pool tasks join it.
The points are handed out in chunks, largest first (guided scheduling: a
chunk is the points left over 2k, within bounds): whoever is free takes
the next one. So a thread that starts late (an idle vCPU woken up, another
process's time slice) takes fewer points, and nobody waits for a slow
thread's fixed share; a task that starts after the last chunk was taken
finds nothing and ends.

Errors: the lowest failing point wins. A chunk that fails stops the
hand-out (every chunk not yet taken lies after it) and cancels the
participants busy with a chunk after it; those before it run to the end,
as they may hold a lower failing point.

The pool's threads (pyad.replay_threads) are made on first use, at most
MAX_WORKERS of them, and never stopped while the process runs; a child
after fork() makes its own (the parent's threads do not exist there).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from . import replay_threads
from ._lib import lib

if TYPE_CHECKING:
    from .program import Info

__all__ = [
    "MAX_WORKERS",
    "check_workers",
    "chunks",
    "forget_pool",
    "participants",
    "run_job",
    "slices",
]

# More participants than this share the pool's threads; results are the same.
MAX_WORKERS = 4 * (os.cpu_count() or 1)
_CHUNK_SECONDS = 0.02  # aim of one C call on the calling thread
_BLOCK_MAX = 256  # csrc/program.c BLOCK_MAX: the most points C runs op by op
_OPS_PER_FIRST_CHUNK = 1 << 16  # first chunk: this many op evaluations (< ~10 ms)
_OPS_PER_CHUNK_MAX = 1 << 22  # a shared chunk: at most this many (~5-20 ms)

_NO_FAILURE: Info = (-1, -1, -1)


def check_workers(workers: object) -> int:
    if workers is None:
        return 1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, not {workers!r}")
    return workers


def slices(N: int, workers: int | None) -> int:
    """How many threads a batch of N points runs on with `workers`."""
    k = min(check_workers(workers), MAX_WORKERS)
    return 1 if N < 2 * k else k


def forget_pool() -> None:
    """In a child after fork(): drop the parent's threads (they are not
    here); the next batch with workers makes new ones."""
    replay_threads.forget()


class Job(Protocol):
    """A batch call as run_job runs it (batchjob.BatchJob, lanes.LaneJob).
    Participant s (0 = the calling thread) polls its own cancel flag."""

    N: int
    cost: int  # op evaluations per point: sizes the chunks

    def run(self, lo: int, hi: int, mode: int, s: int = 0) -> tuple[int, Info]: ...
    def run_slice(self, lo: int, hi: int, mode: int, s: int) -> tuple[int, Info]: ...
    def cancel(self, s: int) -> None: ...


def run_job(job: Job, k: int) -> tuple[int, Info]:
    """All of job's points, on this thread (k == 1) or shared by this
    thread and k - 1 pool tasks, under the calling thread's error mode:
    (status, info) of the lowest failing point, or (0, (-1, -1, -1))."""
    mode = lib.pyad_get_errmode()
    return chunks(job, 0, job.N, mode) if k == 1 else _run_shared(job, k, mode)


def chunks(
    job: Job, lo: int, hi: int, mode: int, s: int = 0, stop: Callable[[], bool] | None = None
) -> tuple[int, Info]:
    """Points [lo, hi) in C calls of about _CHUNK_SECONDS each: between two
    calls Python's signal handlers run (Ctrl-C), and stop() is asked
    whether to give up (then the status is PYAD_ERR_CANCELLED)."""
    step = max(1, _OPS_PER_FIRST_CHUNK // max(job.cost, 1))
    st, info = 0, _NO_FAILURE
    while lo < hi:
        if stop is not None and stop():
            return lib.PYAD_ERR_CANCELLED, info
        end = min(hi, lo + step)
        t0 = time.perf_counter()
        st, info = job.run(lo, end, mode, s)
        if st != 0:
            break
        took = time.perf_counter() - t0
        # the next chunk: about _CHUNK_SECONDS at the rate just seen, grown
        # at most 8-fold at a time (timers are coarse, rates noisy)
        want = int((end - lo) * _CHUNK_SECONDS / max(took, 1e-6))
        step = max(1, min(want, 8 * step))
        step = _whole_blocks(step)
        lo = end
    return st, info


def _whole_blocks(points: int) -> int:
    """Whole blocks of points, when more than one: no partial block per C call."""
    return points - points % _BLOCK_MAX if points > _BLOCK_MAX else points


def _bounds(N: int, k: int, cost: int) -> tuple[int, int]:
    """The least and most points of a shared chunk (see _Share.take)."""
    cost = max(cost, 1)
    least = _whole_blocks(max(1, _OPS_PER_FIRST_CHUNK // cost, N // (8 * k)))
    return least, max(least, _whole_blocks(max(1, _OPS_PER_CHUNK_MAX // cost)))


def _chunk_end(N: int, k: int, least: int, most: int, lo: int) -> int:
    """The end of the shared chunk that starts at lo (guided: see the top)."""
    size = min(max((N - lo) // (2 * k), least), most)
    return min(N, lo + _whole_blocks(size))


def participants(N: int, k: int, cost: int) -> int:
    """k, or 1 when a job shared by k would be a single chunk, all N points:
    whoever took it would run them all while the others found nothing
    left, so k == 1 (the calling thread, under the same error mode) gives
    the same results without waking the pool (used by pyad.fastbatch)."""
    if k > 1 and _chunk_end(N, k, *_bounds(N, k, cost), 0) >= N:
        return 1
    return k


class _Share:
    """The points of one shared job, handed out in chunks (see the top)."""

    def __init__(self, job: Job, k: int) -> None:
        self.job = job
        self.N = job.N
        self.k = k
        self.least, self.most = _bounds(self.N, k, job.cost)
        self.next = 0  # the first point not handed out
        self.busy = [-1] * k  # per participant: the first point of its chunk, or -1
        self.failures: list[tuple[int, int, Info]] = []  # (chunk start, status, info)
        self.lock = threading.Lock()

    def take(self, s: int) -> tuple[int, int] | None:
        with self.lock:
            self.busy[s] = -1
            lo = self.next
            if lo >= self.N:
                return None
            hi = _chunk_end(self.N, self.k, self.least, self.most, lo)
            self.next = hi
            self.busy[s] = lo
            return lo, hi

    def failed(self, s: int, lo: int, st: int, info: Info) -> None:
        with self.lock:
            self.failures.append((lo, st, info))
            if st == lib.PYAD_ERR_CANCELLED:
                return
            self.next = self.N  # what is left lies after this chunk
            for t, start in enumerate(self.busy):
                if start > lo:
                    self.job.cancel(t)

    def abort(self) -> None:
        """Something was raised: hand out nothing more, and stop everyone."""
        with self.lock:
            self.next = self.N
        for t in range(self.k):
            self.job.cancel(t)

    def work(self, mode: int, s: int) -> None:
        """Participant s: chunks until none is left (or it is cancelled)."""
        try:
            while (chunk := self.take(s)) is not None:
                lo, hi = chunk
                if s == 0:  # the calling thread: short C calls (Ctrl-C)
                    st, info = chunks(self.job, lo, hi, mode, 0)
                else:
                    st, info = self.job.run_slice(lo, hi, mode, s)
                if st != 0:
                    self.failed(s, lo, st, info)
                    if st == lib.PYAD_ERR_CANCELLED:
                        return
        except BaseException:
            self.abort()
            raise

    def result(self) -> tuple[int, Info]:
        """The lowest failing chunk's status (cancelled ones came after it)."""
        real = [f for f in self.failures if f[1] != lib.PYAD_ERR_CANCELLED]
        if not real:
            return 0, _NO_FAILURE
        _, st, info = min(real, key=lambda f: f[0])
        return st, info


def _run_shared(job: Job, k: int, mode: int) -> tuple[int, Info]:
    """This thread and k - 1 pool tasks share the points. Whatever is
    raised meanwhile, every participant is cancelled and awaited first."""
    share = _Share(job, k)
    tasks: list[replay_threads.Task] = []
    try:
        for s in range(1, k):
            # recorded before it is handed over: whatever Ctrl-C cuts short,
            # the except below withdraws or awaits every task it may run
            tasks.append(replay_threads.Task(share.work, (mode, s)))
            replay_threads.submit(tasks[-1], limit=MAX_WORKERS)
        share.work(mode, 0)
        for task in tasks:
            task.cancel()  # not begun yet: nothing is left for it
        for task in tasks:
            task.result()
    except BaseException:
        try:
            share.abort()
            for task in tasks:
                task.cancel()
        finally:
            _await(tasks)
        raise
    return share.result()


def _await(tasks: Sequence[replay_threads.Task]) -> None:
    """Wait until no task is running. A second Ctrl-C does not cut the
    wait short: the tasks stop at their next block of points, and the
    exception being raised is the first one."""
    for task in tasks:
        while True:
            try:
                task.wait()
                break
            except BaseException:  # noqa: S112  (keep waiting; see above)
                continue
