"""Fixtures shared by the pyad tests.

Every test starts and ends with the default error mode and with the
allocation-failure switch off, so a test that fails half-way cannot poison
the ones after it.
"""

import gc
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # for `import support`

from pyad._lib import lib  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_modes():
    lib.pyad_debug_fail_alloc_after(-1)
    old = lib.pyad_set_errmode(0)
    yield
    lib.pyad_debug_fail_alloc_after(-1)
    lib.pyad_set_errmode(old)


@pytest.fixture(autouse=True, scope="session")
def _freeze_import_time_objects():
    """Move everything alive after collection (modules, pytest's items) to
    gc's permanent generation, so the gc.collect() in support.tape_state()
    only scans what the tests themselves create, and stays cheap."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
