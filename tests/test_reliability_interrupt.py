"""Hostile but legitimate use of batch replay (issue 9, items 1 and 7 and
the Ctrl-C latency of single-threaded batches): Ctrl-C in the middle of a
batch, with and without workers; worker pools of different sizes from
several threads; absurd worker counts. Each runs in a subprocess with a
timeout (hostile.run_script): a crash or a hang fails the test. Under
.ci/sanitize any touch of freed memory is a report.

PYAD_STRESS=1 repeats the interrupts more often."""

from hostile import STRESS, run_interrupted, run_script

# A function with ~300 ops of libm calls: value and gradient cost several
# microseconds per point, so a batch of a million points takes seconds.
HEAVY = """
import os, signal, sys, threading, time
import numpy as np
import pyad

def heavy(x, y):
    z = x
    for i in range(60):
        z = pyad.sin(z * y + 0.1 * i) + pyad.tanh(z)
    return z

f = pyad.compile(heavy)
f(0.5, 0.25)

def interrupt_after(seconds):
    # SIGINT to this process, as Ctrl-C sends it; Python raises
    # KeyboardInterrupt in the main thread
    t = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    t.start()
    return t

def check_still_right(f, workers):
    xs = np.linspace(0.05, 1.0, 999)
    v, g = f.value_and_grad(xs, 0.25, workers=workers)
    for k in (0, 500, 998):
        vk, gk = f.value_and_grad(float(xs[k]), 0.25)
        assert v[k] == vk and (g[k] == gk).all(), k
"""


def test_ctrl_c_during_a_batch_with_workers(tmp_path):
    """KeyboardInterrupt arrives while the main thread waits for workers.
    Before the fix the main thread freed the inputs (the contiguous copy
    of a strided array, a broadcast scalar's cell) and the outputs while
    the workers still replayed: use-after-free, then a segfault or
    writes into memory the program had reused. Now the workers are
    cancelled and awaited first; the compiled function stays usable."""
    trials = 6 if STRESS else 2
    out = run_script(
        tmp_path,
        HEAVY
        + f"""
N = 2_000_000
xs = np.linspace(-1.0, 1.0, N)
for trial in range({trials}):
    timer = interrupt_after(0.3)
    t0 = time.perf_counter()
    try:
        f.value_and_grad(xs[::2], 0.25, workers=2)  # strided: a copy is made
    except KeyboardInterrupt:
        latency = time.perf_counter() - t0 - 0.3
    else:
        sys.exit("the batch ended before the interrupt: make it longer")
    timer.join()
    # Reuse the memory the batch used (same sizes as its outputs), then
    # give a runaway worker time to write into it.
    junk = [np.full(N // 2, 7.0), np.full(N, 7.0), np.full(N // 2, 7.0)]
    time.sleep(0.3)
    assert all((j == 7.0).all() for j in junk), "freed memory was written after the call"
    assert latency < 1.0, latency
    del junk
check_still_right(f, 2)
print("ok")
""",
    )
    assert out.strip() == "ok"


def test_ctrl_c_ends_a_single_threaded_batch_quickly(tmp_path):
    """A long batch on the calling thread runs in short C calls, so Ctrl-C
    is noticed within about a chunk (~0.02 s), not when the batch ends
    (before: at the end, seconds later)."""
    out = run_script(
        tmp_path,
        HEAVY
        + """
xs = np.linspace(-1.0, 1.0, 1_000_000)
timer = interrupt_after(0.3)
t0 = time.perf_counter()
try:
    f.value_and_grad(xs, 0.25)
except KeyboardInterrupt:
    latency = time.perf_counter() - t0 - 0.3
else:
    sys.exit("the batch ended before the interrupt: make it longer")
timer.join()
print(f"latency {latency:.3f}")
assert latency < 0.25, latency  # the issue asks ~0.1 s; slack for a loaded machine
check_still_right(f, None)
print("ok")
""",
    )
    assert out.strip().endswith("ok"), out


def test_an_error_in_one_worker_cancels_the_others(tmp_path):
    """A failing slice (here the first, under errstate) stops the slices
    after it, and the exception leaves only after every worker has
    stopped; results afterwards are right."""
    out = run_script(
        tmp_path,
        HEAVY
        + """
g = pyad.compile(lambda x, y: pyad.log(x) + heavy(x, y))
g(1.0, 0.25)
xs = np.linspace(0.0, 1.0, 200_000)  # log(0) at point 0
t0 = time.perf_counter()
g(xs[1:], 0.25, workers=4)
full = time.perf_counter() - t0
with pyad.errstate(divide="raise"):
    t0 = time.perf_counter()
    try:
        g(xs, 0.25, workers=4)
    except FloatingPointError as e:
        assert "at batch point 0" in str(e), e
    else:
        sys.exit("no FloatingPointError")
    failed = time.perf_counter() - t0
assert failed < 0.5 * full, (failed, full)  # the other slices stopped early
junk = np.full(200_000, 7.0)
time.sleep(0.3)
assert (junk == 7.0).all()
check_still_right(g, 4)
print("ok")
""",
    )
    assert out.strip() == "ok"


def test_pools_of_different_sizes_from_several_threads(tmp_path):
    """Before: a call with more workers than the pool had shut the pool
    down under another thread's running call ("cannot schedule new
    futures after shutdown", then crash 1), and workers=5000 left 5000
    threads alive. Now there is one capped pool per process, never shut
    down while it runs."""
    iters = 200 if STRESS else 40
    out = run_script(
        tmp_path,
        f"""
import os, threading
import numpy as np
import pyad

MAX_WORKERS = 4 * (os.cpu_count() or 1)  # pyad.replay.MAX_WORKERS
f = pyad.compile(lambda x: pyad.sin(x) * x + pyad.exp(-x * x))
xs = np.linspace(-2.0, 2.0, 4096)
want = f(xs)
errors = []

def caller(t):
    try:
        for i in range({iters}):
            k = 2 + 3 * i + t  # growing: each call may want a bigger pool
            assert (f(xs, workers=k) == want).all()
    except BaseException as e:
        errors.append(repr(e))

threads = [threading.Thread(target=caller, args=(t,)) for t in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors
big = np.linspace(0.0, 1.0, 20_000)
assert (f(big, workers=5000) == f(big)).all()
replay_threads = [t for t in threading.enumerate() if t.name.startswith("pyad-replay")]
assert len(replay_threads) <= MAX_WORKERS, len(replay_threads)
print("ok")
""",
    )
    assert out.strip() == "ok"


def test_ctrl_c_at_any_moment_of_compile_tracing(tmp_path):
    """SIGALRM every ~50 us raises KeyboardInterrupt anywhere while pyad.compile
    traces new functions (first calls, with guards). A trace left registered
    would make every later comparison a guard of it and every later
    transform on the thread nest (returning Vars): afterwards none is, a
    top-level grad returns a float, compiled functions give exact results
    and every node is freed."""
    run_interrupted(
        tmp_path,
        """
        import math
        import pyad
        from pyad import dropped, tracing

        def g(x, y):
            z = pyad.sin(x) * y
            return z if x > 0.25 else z * z

        def rep():
            f = pyad.compile(g)  # new each time: every call traces
            f(0.5, 2.0), f.grad(0.1, 2.0)
        """,
        "rep",
        """
        assert not tracing._tracers and not tracing._active, (tracing._tracers, tracing._active)
        assert not dropped.watch_stack()
        assert type(pyad.grad(lambda t: t * t)(0.5)) is float
        f = pyad.compile(g)
        assert f(0.5, 2.0) == math.sin(0.5) * 2.0
        assert f(0.1, 2.0) == (math.sin(0.1) * 2.0) ** 2
        del f
        """,
    )


def test_ctrl_c_at_any_moment_of_errstate(tmp_path):
    """Nested errstates entered and left while Ctrl-C lands anywhere: after
    every rep, interrupted or not, the thread is back in its default mode
    (an op outside the with that divides by zero must not raise), the
    errstate objects hold no saved mode, and buffered recording resumes.
    With a Python __exit__ an interrupt at its first line left the thread
    raising (csrc/pyerrmode.c)."""
    run_interrupted(
        tmp_path,
        """
        import math
        import pyad
        from pyad._lib import free, sync

        outer = pyad.errstate(divide="raise")
        inner = pyad.errstate(divide="ignore", invalid="raise")

        def rep():
            x = pyad.Var(0.5)
            for _ in range(10):
                with outer:
                    y = pyad.log(x) * 2.0
                    with inner:
                        y = y + pyad.log(x * 0.0)  # divide ignored here
                    y = pyad.exp(y)
            # outside every with: IEEE results, nothing raised
            z = pyad.log(x * 0.0)
            assert z.val == -math.inf
        """,
        "rep",
        """
        assert pyad.geterr() == dict.fromkeys(("divide", "over", "invalid", "under"), "ignore")
        assert outer._saved == {} and inner._saved == {}, (outer._saved, inner._saved)
        x = pyad.Var(2.0)
        y = x * x
        sync()
        assert len(free) > 0  # reserved handles again: buffered recording resumed
        with outer:
            assert len(free) == 0
            try:
                pyad.log(x * 0.0)
            except FloatingPointError:
                pass
            else:
                raise AssertionError("divide did not raise inside the errstate")
        assert y.val == 4.0
        del x, y
        """,
        reps=3000,
    )
