"""docs/special-functions.md runs as shown: its doctest examples, and the
negative-binomial regression (fitted with the compiled gradient and
Hessian, its Hessian checked against finite differences inside the
block), which must print exactly the output shown under it."""

import contextlib
import doctest
import io
import os
import re

import numpy as np
import pytest

DOC = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "special-functions.md"
)


def _text():
    if not os.path.exists(DOC):
        pytest.skip("docs/ is not next to the tests (installed package)")
    with open(DOC) as f:
        return f.read()


def test_the_doctest_examples_run():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(_text(), {}, "special-functions.md", DOC, 0)
    assert test.examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0


def test_the_negative_binomial_example_prints_what_it_shows():
    pytest.importorskip("scipy.optimize")
    blocks = re.findall(r"```python\n(.*?)```\n```\n(.*?)```", _text(), re.S)
    assert len(blocks) == 1
    code, shown = blocks[0]
    out, ns = io.StringIO(), {"__name__": "special_doc"}
    with contextlib.redirect_stdout(out):
        exec(code, ns)
    assert out.getvalue().strip() == shown.strip()
    # the likelihood is scipy's negative binomial, at the optimum and off it
    stats = pytest.importorskip("scipy.stats")
    for theta in (ns["fit"].x, ns["fit"].x + 0.1):
        r, mu = np.exp(-theta[3]), np.exp(ns["X"] @ theta[:3])
        want = -stats.nbinom.logpmf(ns["y"], r, r / (r + mu)).sum()
        assert ns["f"](theta) == pytest.approx(want, rel=1e-12)
