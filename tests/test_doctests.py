"""Run the examples in pyad's docstrings, and require one on every public
object: everything in pyad.__all__ and the public methods of Var,
Compiled, Function and errstate.

The modules are the ones `import pyad` finds (the installed package under
plain `pytest`), not the source tree."""

import doctest
import importlib
import inspect

import pytest

import pyad

MODULES = [
    "pyad",
    "pyad._lib",
    "pyad.var",
    "pyad.ops",
    "pyad.functional",
    "pyad.transforms",
    "pyad.pytree",
    "pyad.frozen",
    "pyad.sparsity",
    "pyad.lanes",
    "pyad._arrays",
    "pyad.errstate",
    "pyad.errors",
    "pyad.compiled",
    "pyad.compiled_higher",
    "pyad.calls",
    "pyad.retracing",
    "pyad.signature",
    "pyad.columns",
    "pyad.tracing",
    "pyad.program",
    "pyad.replay",
    "pyad.pickling",
    "pyad.forking",
    "pyad.dot",
    "pyad.special",
    "pyad.dropped",
    "pyad.__main__",
]
CLASSES = ["Var", "Compiled", "Function", "errstate"]


def _public_objects():
    for name in pyad.__all__:
        obj = getattr(pyad, name)
        if callable(obj):  # not __version__
            yield name, obj
    for cls_name in CLASSES:
        cls = getattr(pyad, cls_name)
        for name, member in vars(cls).items():
            if not name.startswith("_"):
                yield f"{cls_name}.{name}", member


def _docstring(obj):
    if isinstance(obj, property):
        obj = obj.fget
    return inspect.getdoc(obj) or ""


@pytest.mark.parametrize("module_name", MODULES)
def test_module_doctests_pass(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} doctest failure(s) in {module_name}"


def test_every_public_object_has_an_example_that_is_run():
    finder = doctest.DocTestFinder()
    run = set()
    for module_name in MODULES:
        for test in finder.find(importlib.import_module(module_name)):
            if test.examples:
                run.add(inspect.cleandoc(test.docstring or ""))
    missing = [name for name, obj in _public_objects() if ">>>" not in _docstring(obj)]
    assert not missing, f"no example in the docstring of: {missing}"
    not_run = [name for name, obj in _public_objects() if _docstring(obj) not in run]
    assert not not_run, f"examples not found by doctest.testmod: {not_run}"
