"""How every case is measured, and where failures go.

measure() runs a case once under a time limit. If the engine fails
(RecursionError, MemoryError, over the limit) the failure is recorded and the
test xfails with the reason; otherwise the case is benchmarked, with the
number of rounds fitted to its cost so the suite stays within ~10 minutes.

RECORDS collects what is not a pytest-benchmark row (failures, engines that
lack an op, one-shot timings such as JAX compile times); conftest.py saves it
into the run's JSON under "pyad_bench", where report.py reads it.
"""
import gc
import itertools
import signal
import time
from contextlib import contextmanager

import numpy as np
import pytest

RECORDS = []
NODES = {}              # workload -> nodes on pyad's tape, printed at the end
LIMIT = 60.0            # seconds: slower than this counts as failed
ROUND_BUDGET = 3.0      # seconds of measured rounds per slow case
FAST = 0.02             # below this, let pytest-benchmark calibrate
CALLS_PER_ROUND = 2000  # calls per round of a measure(call_args=...) case
CALL_ROUNDS = 100       # its rounds (~0.1 s for a 500 ns call)
_failed_at = {}         # (series, engine) -> the reason, for growing workloads


class TooSlow(Exception):
    pass


@contextmanager
def time_limit(seconds):
    """Raise TooSlow in the main thread after `seconds` (pure-Python work;
    a long call into C is interrupted only when it returns)."""
    def alarm(signum, frame):
        raise TooSlow(f"over {seconds:g} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def attempt(fn, limit=LIMIT):
    """(result, seconds, failure reason or None) of one call of fn."""
    t0 = time.perf_counter()
    try:
        with time_limit(limit):
            result = fn()
    except RecursionError:
        reason = "RecursionError"
    except MemoryError:
        reason = "MemoryError"
    except TooSlow as e:
        reason = str(e)
    else:
        return result, time.perf_counter() - t0, None
    return None, time.perf_counter() - t0, reason


def call_loop(n_args, calls=CALLS_PER_ROUND):
    """loop(fn, a0, ..., a<n_args-1>): `calls` calls fn(a0, ...), written as
    timeit writes its loop (the names are locals, itertools.repeat counts)."""
    names = ", ".join(f"a{i}" for i in range(n_args))
    src = (f"def loop(fn, {names}):\n"
           f"    for _ in _repeat(None, {calls}):\n"
           f"        fn({names})\n")
    scope = {"_repeat": itertools.repeat}
    exec(src, scope)
    return scope["loop"]


def record(kind, group, engine, **fields):
    RECORDS.append(dict(kind=kind, group=group, engine=engine, **fields))


def fail(group, engine, reason, seconds=None, series=None):
    """Record a failure and end the test as xfailed with the reason."""
    record("failed", group, engine, reason=reason, seconds=seconds)
    if series is not None:
        _failed_at[series, engine] = f"{reason} at {group}"
    pytest.xfail(f"{engine} on {group}: failed: {reason}")


def not_applicable(group, engine, reason):
    record("n/a", group, engine, reason=reason)
    pytest.skip(f"{engine} on {group}: {reason}")


def skip_if_failed_before(group, engine, series):
    """For a series of growing sizes: once an engine failed, the bigger
    sizes are recorded as failed too, without running."""
    earlier = _failed_at.get((series, engine))
    if earlier:
        record("failed", group, engine, reason=f"not run ({earlier})")
        pytest.xfail(f"{engine} on {group}: not run, {earlier}")


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [f for item in x for f in _flat(item)]
    return [float(x)]


def close(a, b, rtol=1e-6):
    """Same numbers (a value, or (value, [grads])) within rtol."""
    a, b = _flat(a), _flat(b)
    return len(a) == len(b) and np.allclose(a, b, rtol=rtol, atol=1e-9)


def measure(benchmark, fn, group, engine, *, limit=LIMIT, expect=None,
            series=None, gc_off=False, single=False, call_args=None, **info):
    """Benchmark fn() as `engine` in `group`, or record why it failed.

    expect: a reference result the first call must match (value and grads).
    single: one measured call only (cases known to take many seconds).
    call_args: time the call fn(*call_args) itself, for calls of well
        under a microsecond, as timeit's statement `fn(a0, a1, ...)` would:
        a loop (call_loop) makes CALLS_PER_ROUND calls with fn and the
        arguments in local variables, and the row is per call (ops=, per=
        "call"). No lambda frame, no timer and no `*args, **kwargs` call of
        pytest-benchmark's own loop is in the figure, and every engine gets
        the same loop. (Left to itself, pytest-benchmark calibrates each
        engine's calls per round apart, and may time one engine 1 call per
        round, with the timer's ~100 ns in its figure, and another 20.)
    """
    gc.collect()        # no garbage left over from the previous case
    benchmark.group = group
    benchmark.extra_info.update(engine=engine, gc="off" if gc_off else "on",
                                gc_tracked_objects=len(gc.get_objects()), **info)
    if gc_off:
        gc.disable()
    try:
        if single:
            out = {}

            def once():
                out["result"], out["seconds"], out["reason"] = attempt(fn, limit)
            benchmark.pedantic(once, rounds=1, iterations=1)
            result, seconds, reason = out["result"], out["seconds"], out["reason"]
            benchmark.extra_info["rounds_note"] = "single run"
        elif call_args is not None:
            result, seconds, reason = attempt(lambda: fn(*call_args), limit)
            benchmark.extra_info.update(ops=CALLS_PER_ROUND, per="call")
        else:
            result, seconds, reason = attempt(fn, limit)
        if reason:
            benchmark.extra_info["failed"] = reason
            fail(group, engine, reason, seconds, series)
        if expect is not None:
            assert close(result, expect), f"{engine} disagrees with pyad on {group}"
        if single:
            return
        if call_args is not None:
            benchmark.pedantic(call_loop(len(call_args)), args=(fn, *call_args),
                               rounds=CALL_ROUNDS, iterations=1, warmup_rounds=3)
            return
        if seconds >= FAST:     # the first call may include one-time work
            seconds = min(seconds, attempt(fn)[1])
        if seconds < FAST:
            benchmark(fn)
        else:
            rounds = max(1, min(30, round(ROUND_BUDGET / seconds)))
            benchmark.pedantic(fn, rounds=rounds, iterations=1)
    finally:
        if gc_off:
            gc.enable()
            gc.collect()
