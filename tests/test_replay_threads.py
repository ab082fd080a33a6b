"""pyad.replay_threads: the pool threads that batch calls with workers run
on. A task is handed over by one queue put; what it raises reaches the
caller; cancel() withdraws a task exactly when no thread has begun it
(queued, or never handed over); no more threads than the limit; Ctrl-C
at any moment neither leaves a task running nor a wait blocked nor the
pool short of threads; a child of fork() makes threads of its own."""

import threading
import time

import numpy as np
import pytest
from hostile import run_interrupted, run_script

import pyad
from pyad import replay_threads


def submit(fn, *args, limit=64):
    task = replay_threads.Task(fn, args)
    replay_threads.submit(task, limit=limit)
    return task


def test_a_task_runs_on_a_named_pool_thread_and_idle_threads_are_reused():
    names = []
    submit(int).result()
    made = replay_threads._made
    for _ in range(20):
        task = submit(lambda: names.append(threading.current_thread().name))
        task.result()
        assert task.finished
    assert all(n.startswith("pyad-replay-") for n in names)
    assert replay_threads._made == made  # one task at a time: an idle thread takes each


def test_what_a_task_raises_reaches_the_caller():
    def boom(x):
        raise ZeroDivisionError(f"task {x}")

    task = submit(boom, 7)
    with pytest.raises(ZeroDivisionError, match="task 7"):
        task.result()
    submit(int).result()  # the thread that raised still works


def test_cancel_withdraws_exactly_the_tasks_that_had_not_begun():
    ran = []
    withdrawn = 0
    for i in range(300):
        task = submit(ran.append, i)
        if task.cancel():
            withdrawn += 1
            task.wait()  # returns at once
        else:
            task.result()
    # every task the threads had begun ran, once; no withdrawn task ran
    # (a withdrawn task's thread goes back to idle without running it)
    for _ in range(20):
        submit(int).result()
    assert len(ran) == 300 - withdrawn
    assert len(set(ran)) == len(ran)


def wait_quiet():
    """Until every pool thread is back on the queue (each counts itself
    free right after its task); then free == made when the counts are right."""
    for _ in range(500):
        if replay_threads._idle == replay_threads._made:
            return True
        time.sleep(0.002)
    return False


def test_with_every_thread_busy_a_task_waits_queued_and_can_be_withdrawn():
    limit = max(replay_threads._made, 1)
    release = threading.Event()
    busy = [submit(release.wait, limit=limit) for _ in range(limit)]
    try:
        late = [submit(int, limit=limit) for _ in range(3)]
        assert replay_threads._made <= limit
        assert all(task.cancel() for task in late)  # queued behind the busy ones
        for task in late:
            task.wait()
    finally:
        release.set()
        for task in busy:
            task.result()
    submit(int, limit=limit).result()  # the withdrawn ones left nothing behind
    assert wait_quiet(), (replay_threads._idle, replay_threads._made)


def test_the_free_count_stays_right_past_the_limit():
    """More tasks than threads, from several callers: afterwards every
    thread counts as free, no more and no fewer (a count too high would
    stop the pool from making the threads a later batch needs)."""
    limit = replay_threads._made + 2
    release = threading.Event()
    tasks = []

    def caller():
        for _ in range(3 * limit):
            tasks.append(submit(release.wait, 0.001, limit=limit))

    callers = [threading.Thread(target=caller) for _ in range(3)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    release.set()
    for task in tasks:
        task.result()
    assert replay_threads._made <= limit
    assert wait_quiet(), (replay_threads._idle, replay_threads._made)


def test_batches_from_several_threads_share_the_pool():
    f = pyad.compile(lambda x, y: pyad.sin(x * y) + pyad.exp(-y) * x)
    f(1.0, 2.0)
    xs = np.linspace(-2.0, 2.0, 30_000)
    want = f.value_and_grad(xs, 0.5)
    errors = []

    def caller():
        try:
            for _ in range(5):
                v, g = f.value_and_grad(xs, 0.5, workers=3)
                assert v.tobytes() == want[0].tobytes() and g.tobytes() == want[1].tobytes()
        except BaseException as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_ctrl_c_at_any_moment_of_a_shared_batch(tmp_path):
    """SIGALRM every ~50 us raises KeyboardInterrupt anywhere in a small
    batch shared with a pool thread, the hand-over and the waits included:
    no hang (a wait left blocked), nothing left running, exact results
    afterwards, every node freed."""
    run_interrupted(
        tmp_path,
        """
        import numpy as np
        import pyad
        f = pyad.compile(lambda x, y: pyad.tanh(x * y) + pyad.log(x * x + 1.0))
        f(1.0, 2.0)
        xs = np.linspace(-1.0, 1.0, 40_000)
        want = f.value_and_grad(xs, 0.5)

        def rep():
            f.value_and_grad(xs, 0.5, workers=2)
        """,
        "rep",
        after="""
        import threading
        for _ in range(3):
            v, g = f.value_and_grad(xs, 0.5, workers=2)
            assert v.tobytes() == want[0].tobytes() and g.tobytes() == want[1].tobytes()
        from pyad import replay_threads
        # a start that Ctrl-C cut short left no phantom thread: the pool
        # still runs two tasks side by side
        import time
        assert 1 <= replay_threads._made <= pyad.pool.MAX_WORKERS, replay_threads._made
        pair = [replay_threads.Task(time.sleep, (0.2,)) for _ in range(2)]
        for task in pair:
            replay_threads.submit(task, limit=pyad.pool.MAX_WORKERS)
        t0 = time.perf_counter()
        for task in pair:
            task.result()
        assert time.perf_counter() - t0 < 0.35, time.perf_counter() - t0
        """,
        reps=400,
    )


def test_a_child_of_fork_makes_its_own_threads(tmp_path):
    out = run_script(
        tmp_path,
        """
import os, sys
import numpy as np
import pyad
from pyad import replay_threads
f = pyad.compile(lambda x: pyad.sin(x) * x)
f(1.0)
xs = np.linspace(0.0, 1.0, 40_000)
want = f(xs)
assert (f(xs, workers=2) == want).all() and replay_threads._made >= 1
pid = os.fork()
if pid == 0:
    ok = (f(xs, workers=2) == want).all() and replay_threads._made == 1
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
print("ok")
""",
    )
    assert out.strip() == "ok"
