"""fork() at any moment (issue 9, items 3 and 4): while another thread is
inside a pyad C call holding the tape's lock (a long backward), while
other threads replay batches on the worker pool, and after the parent
used workers=; with os.fork and multiprocessing's fork and spawn
contexts. Each runs in a subprocess with a timeout (hostile.run_script),
and every child is waited for with a deadline: a child that hangs fails
the test.

PYAD_STRESS=1 forks more often."""

from hostile import STRESS, run_script


def test_fork_while_other_threads_are_inside_pyad(tmp_path):
    """Before: a child forked while another thread held the tape's lock
    hung on its first pyad call; a child of a parent that had used
    workers= hung on its first batch with workers (an executor without
    threads). Now the fork hooks take every pyad lock before fork() and
    release it on both sides, and the child makes its own pool. Each
    child checks that its tape is consistent and usable."""
    forks = 60 if STRESS else 12
    out = run_script(
        tmp_path,
        f"""
import os, signal, sys, threading, time
import numpy as np
import pyad

x = pyad.Var(1.0000001)
y = x
for _ in range(300_000):  # a backward over 300k nodes holds the lock for ms
    y = y * x
f = pyad.compile(lambda a, b: pyad.tanh(a * b) + pyad.sum([a, b, 1.0]))
xs = np.linspace(-1.0, 1.0, 20_000)
want = f(xs, 0.5)
stop = threading.Event()

def sweeper():
    while not stop.is_set():
        y.backward()

def replayer():
    while not stop.is_set():
        assert (f(xs, 0.5, workers=2) == want).all()

def tracer():
    while not stop.is_set():
        g = pyad.compile(lambda a: a * a if a > 0 else -a)
        g(1.0), g(-1.0)

def recorder():  # eager ops: the record buffer is handed to C every ~1000 ops
    while not stop.is_set():
        z = pyad.Var(0.5)
        for _ in range(3000):
            z = z * 1.0000001 + 1e-9
        assert 0.5 < z.val < 0.6

def child():
    a = pyad.Var(3.0)
    b = a * a + 1.0
    b.backward()
    ok = a.grad == 6.0 and b.val == 10.0
    x.grad = 0.0
    (x * 2.0).backward()  # the parent's nodes are there and consistent
    ok = ok and x.grad == 2.0 and y.val == y.val
    ok = ok and (f(xs, 0.5, workers=2) == want).all()  # a pool of its own
    g = pyad.compile(lambda a: a * a if a > 0 else -a)
    ok = ok and g(2.0) == 4.0 and g(-2.0) == 2.0
    z = pyad.Var(1.0)
    for _ in range(5000):  # several syncs of the record buffer
        z = z + 1.0
    ok = ok and z.val == 5001.0 and pyad.live_nodes() > 0
    os._exit(0 if ok else 3)

threads = [threading.Thread(target=t) for t in (sweeper, replayer, tracer, recorder)]
for t in threads:
    t.start()
for i in range({forks}):
    time.sleep(0.01)
    pid = os.fork()
    if pid == 0:
        child()
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            stop.set()
            sys.exit(f"fork {{i}}: the child hung")
        time.sleep(0.005)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        stop.set()
        sys.exit(f"fork {{i}}: the child failed with {{code}}")
stop.set()
for t in threads:
    t.join()
print("ok")
""",
        timeout=120,
    )
    assert out.strip() == "ok"


def test_multiprocessing_fork_and_spawn_after_workers(tmp_path):
    """multiprocessing children (fork, forkserver and spawn contexts; a
    Process and a Pool) replay with workers= after the parent did, while a
    parent thread sweeps backward, and get the parent's results bit for
    bit; a compiled function passes to spawned children by pickle."""
    out = run_script(
        tmp_path,
        """
import multiprocessing as mp
import threading
import time
import numpy as np
import pyad

xs = np.linspace(-2.0, 2.0, 5000)

def fn(a, b):
    return pyad.sin(a) * b if a > 0 else pyad.exp(a) - b

def in_child(f, q):
    q.put(f(xs, 0.5, workers=2).tobytes())

def task(i):
    f = pyad.compile(fn)
    return f(xs + i, 0.5, workers=2).tobytes()

def check_child(ctx, f, want):
    q = ctx.Queue()
    p = ctx.Process(target=in_child, args=(f, q))
    p.start()
    got = q.get(timeout=30)
    p.join(30)
    assert p.exitcode == 0 and got == want, (ctx, p.exitcode)

if __name__ == "__main__":
    f = pyad.compile(fn)
    want = f(xs, 0.5, workers=2).tobytes()
    time.sleep(0.2)  # the pool's threads are idle now (before: the child
    check_child(mp.get_context("fork"), f, want)  # believed them its own)
    stop = threading.Event()
    big = pyad.Var(1.0)
    for _ in range(200_000):
        big = big * 1.0
    def sweeper():  # inside a C call at most times
        while not stop.is_set():
            big.backward()
    t = threading.Thread(target=sweeper)
    t.start()
    try:
        for method in ("fork", "spawn"):
            ctx = mp.get_context(method)
            check_child(ctx, f, want)
            with ctx.Pool(2) as pool:
                res = pool.map_async(task, range(4)).get(timeout=60)
            g = pyad.compile(fn)
            assert res == [g(xs + i, 0.5).tobytes() for i in range(4)], method
    finally:
        stop.set()
        t.join()
    print("ok")
""",
        timeout=150,
    )
    assert out.strip() == "ok"
