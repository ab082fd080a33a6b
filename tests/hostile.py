"""Helpers of the hostile-user tests: threads released at once, scripts
run in a subprocess with a timeout (a crash or a hang fails the test, not
the run), and Ctrl-C at any moment of a loop."""

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest


def run_threads(targets, timeout=300):
    """Run each callable in its own thread, all released at once by a
    barrier; fail on any error raised in a thread, or a hung thread."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(fn):
        def run():
            try:
                barrier.wait()
                fn()
            except BaseException as e:  # reported by the main thread
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors


# Longer variants of the hostile-user tests (tests/test_reliability_*.py).
STRESS = bool(os.environ.get("PYAD_STRESS"))


def run_script(tmp_path, source, timeout=60):
    """Run `source` as a script in a fresh interpreter and return its
    stdout. A crash (a signal, a sanitizer report's exit status) or a hang
    fails the test, not the test run: after `timeout` seconds the script's
    whole process group (it runs in its own session, with any children it
    forked) is killed. The environment is passed through, so under
    .ci/sanitize the child runs with the sanitizers preloaded too."""
    path = tmp_path / "hostile.py"
    path.write_text(textwrap.dedent(source))
    p = subprocess.Popen(
        [sys.executable, str(path)],
        cwd=os.path.dirname(os.path.abspath(__file__)),  # no pyad/ source here
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        pytest.fail(f"hung: killed after {timeout} s\n--- stdout\n{out}\n--- stderr\n{err}")
    if p.returncode < 0:
        name = signal.Signals(-p.returncode).name
        pytest.fail(f"crashed: {name}\n--- stdout\n{out}\n--- stderr\n{err}")
    assert p.returncode == 0, f"exit status {p.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"
    return out


def run_interrupted(tmp_path, setup, rep, after="", reps=1500, timeout=120):
    """Ctrl-C at any moment: run the script `setup`, then call `rep()` (a
    function setup defines) `reps` times while SIGALRM every ~50 us raises
    KeyboardInterrupt, at most once per rep (so never in the harness's own
    except) and anywhere inside pyad. Then, with the timer off, run
    `after` (checks of the state and of exact results); at the end every
    node must be freed and the timer must have hit. Fails the test as
    run_script does. `rep` is the name of the function, called so that
    its Vars die with its frame, interrupted or not."""
    head = textwrap.dedent(setup)
    tail = textwrap.dedent(after)
    harness = f"""
import gc as _gc, signal as _signal
import pyad as _pyad

_base = _pyad.live_nodes()
_armed = False

def _interrupt(*args):
    global _armed
    if _armed:
        _armed = False
        raise KeyboardInterrupt

{head}

_signal.signal(_signal.SIGALRM, _interrupt)
_signal.setitimer(_signal.ITIMER_REAL, 0.00005, 0.00005)
_hits = 0
for _ in range({reps}):
    try:
        _armed = True
        {rep}()
        # a rep the timer missed disarms here, so that the next tick cannot
        # land outside the try, at the loop's jump back
        _armed = False
    except KeyboardInterrupt:
        _hits += 1
_armed = False
_signal.setitimer(_signal.ITIMER_REAL, 0, 0)

{tail}

_gc.collect()
_pyad.var.release_dead()
assert _pyad.live_nodes() == _base, (_pyad.live_nodes(), _base)
print("ok", _hits > 0)
"""
    out = run_script(tmp_path, harness, timeout=timeout)
    assert out.split() == ["ok", "True"], out
