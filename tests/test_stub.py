"""The typed stub pyad/_pyad_cffi.pyi is generated from csrc/pyad.h by
csrc/stubgen.py: the committed file must be what the header gives now, and
it must name exactly what the compiled module exposes."""

import importlib.util
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUBGEN = os.path.join(ROOT, "csrc", "stubgen.py")
STUB = os.path.join(ROOT, "pyad", "_pyad_cffi.pyi")

pytestmark = pytest.mark.skipif(
    not (os.path.exists(STUBGEN) and os.path.exists(STUB)),
    reason="needs a source checkout (csrc/ and pyad/ next to tests/)",
)


def _stubgen():
    pytest.importorskip("pycparser")
    spec = importlib.util.spec_from_file_location("_pyad_stubgen", STUBGEN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stub_is_up_to_date():
    with open(STUB) as f:
        committed = f.read()
    assert _stubgen().generate() == committed, "run `python csrc/stubgen.py`"


def test_committed_ops_stub_is_up_to_date():
    stubgen = _stubgen()
    with open(stubgen.opstub.STUB) as f:
        committed = f.read()
    assert stubgen.opstub.generate() == committed, "run `python csrc/stubgen.py`"


def test_ops_stub_names_every_op_of_the_registry():
    from pyad.optable import OPS

    assert [r[0] for r in _stubgen().opstub.rows()] == [op.name for op in OPS]


def test_stub_names_what_the_compiled_module_exposes():
    from pyad._lib import lib

    with open(STUB) as f:
        text = f.read()
    names = set(re.findall(r"^    (\w+): int$", text, re.M))
    names |= set(re.findall(r"^    def (\w+)\(", text, re.M))
    assert names == {n for n in dir(lib) if not n.startswith("__")}
