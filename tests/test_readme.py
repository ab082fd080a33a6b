"""The README's first example prints exactly the numbers it shows, and the
same numbers as `python -m pyad`."""

import contextlib
import io
import os
import re

import pytest

import pyad.__main__

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def _first_example():
    if not os.path.exists(README):
        pytest.skip("README.md is not next to the tests (installed package)")
    with open(README) as f:
        text = f.read()
    code = re.search(r"```python\n(.*?)```", text, re.S)[1]
    shown = re.findall(r"^# (.*)$", code, re.M)[-1]
    return code, shown


def test_readme_example_prints_what_it_shows():
    code, shown = _first_example()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    assert out.getvalue().strip() == shown


def test_readme_example_matches_python_m_pyad():
    _, shown = _first_example()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert pyad.__main__.main(["--repeat", "1"]) == 0
    printed = re.findall(r"= (\S+)\s+gist", out.getvalue())
    assert printed == shown.split()


def test_every_readme_python_block_runs():
    """The README's Python blocks run as shown, in order, in one namespace
    (a later block may use names an earlier one made)."""
    if not os.path.exists(README):
        pytest.skip("README.md is not next to the tests (installed package)")
    with open(README) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for code in blocks:
            exec(code, namespace)
    assert "f" in namespace and namespace["f"].hessian_sparsity().n_colors >= 1
