"""pyad.pool: a batch's points shared by the calling thread and the pool's
tasks in chunks. Every point is run exactly once, whoever starts late;
the lowest failing point wins; the results are the same bits as on one
thread."""

import random
import threading
import time

import numpy as np
import pytest

import pyad
from pyad import pool
from pyad._lib import lib


class FakeJob:
    """A job whose points are checked off in Python: it records who ran
    which chunk, fails at the given points (the lowest in a chunk), and
    honours cancel() between points, as C does between blocks."""

    def __init__(self, N, fail_at=(), late=(), per_point=0.0, delay=0.05):
        self.N = N
        self.cost = 40
        self.fail_at = set(fail_at)
        self.late = set(late)  # participants that sleep before their first chunk
        self.per_point = per_point
        self.delay = delay
        self.ran = np.zeros(N, dtype=np.int64)
        self.chunks = []
        self.cancelled = set()
        self.lock = threading.Lock()

    def run(self, lo, hi, mode, s=0):
        return self.run_slice(lo, hi, mode, s)

    def run_slice(self, lo, hi, mode, s):
        if s in self.late:
            self.late.discard(s)
            time.sleep(self.delay)
        with self.lock:
            self.chunks.append((lo, hi, s))
        for p in range(lo, hi):
            if s in self.cancelled:
                return lib.PYAD_ERR_CANCELLED, (-1, -1, -1)
            if p in self.fail_at:
                return lib.PYAD_ERR_DIVIDE, (p, 3, -1)
            self.ran[p] += 1
            if self.per_point:
                time.sleep(self.per_point)
        return 0, (-1, -1, -1)

    def cancel(self, s):
        self.cancelled.add(s)


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("late", [(), (0,), (1,)])
def test_every_point_runs_once_whoever_starts_late(k, late):
    job = FakeJob(40_000, late=late)
    assert pool.run_job(job, k) == (0, (-1, -1, -1))
    assert (job.ran == 1).all()
    spans = sorted((lo, hi) for lo, hi, _ in job.chunks)
    assert spans[0][0] == 0 and spans[-1][1] == job.N
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # disjoint, no gap
    assert len(spans) > k  # shared in chunks, not k fixed slices
    sizes = [hi - lo for lo, hi in spans]
    assert sizes[0] >= sizes[-1]  # largest first


def test_a_stalled_task_keeps_only_the_chunk_it_has():
    job = FakeJob(20_000, late=(1,), delay=1.0)  # stalls inside its first chunk
    assert pool.run_job(job, 2)[0] == 0
    theirs = [hi - lo for lo, hi, s in job.chunks if s == 1]
    assert len(theirs) <= 1 and sum(theirs) <= job.N // 4  # (none if it woke too late)
    assert (job.ran == 1).all()


@pytest.mark.parametrize("k", [2, 4])
def test_the_lowest_failing_point_wins(k):
    rng = random.Random(k)
    for _ in range(20):
        N = 30_000
        fail_at = rng.sample(range(N), rng.randint(1, 4))
        job = FakeJob(N, fail_at=fail_at)
        st, info = pool.run_job(job, k)
        assert st == lib.PYAD_ERR_DIVIDE
        assert info[0] == min(fail_at)
        assert (job.ran[: min(fail_at)] == 1).all()  # every point before it ran


def test_an_error_in_a_task_cancels_and_awaits_the_others():
    class Broken(FakeJob):
        def run_slice(self, lo, hi, mode, s):
            if s == 1:
                raise MemoryError("task")
            return super().run_slice(lo, hi, mode, s)

    job = Broken(50_000, per_point=1e-6)
    with pytest.raises(MemoryError, match="task"):
        pool.run_job(job, 2)
    n_chunks = len(job.chunks)
    time.sleep(0.05)
    assert len(job.chunks) == n_chunks  # nothing still running after the raise


def test_shared_batches_give_one_threads_bits_and_the_first_failing_point():
    f = pyad.compile(lambda x, y: pyad.sin(x * y) * pyad.exp(-y) + pyad.log(x))
    f(1.0, 2.0)
    rng = np.random.default_rng(5)
    x = rng.uniform(0.1, 3.0, 150_000)
    v1, g1 = f.value_and_grad(x, 0.5)
    for w in (2, 3, 8):
        vw, gw = f.value_and_grad(x, 0.5, workers=w)
        assert vw.tobytes() == v1.tobytes() and gw.tobytes() == g1.tobytes()
    for bad in ([140_000], [149_999], [3, 120_000], [70_001, 90_000, 100_500]):
        xb = x.copy()
        xb[bad] = 0.0
        for w in (2, 4):
            with pyad.errstate(divide="raise"):
                with pytest.raises(FloatingPointError, match=f"batch point {min(bad)}\\b"):
                    f.value_and_grad(xb, 0.5, workers=w)
