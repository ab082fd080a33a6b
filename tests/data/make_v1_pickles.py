"""Make tests/data/v1_pickles.pkl with pyad 0.1 (commit 26c0b03): format
version 1, ops named by their row in the C op table."""

import pickle
import sys

import pyad


def fn(x, y):
    z = pyad.tanh(x) * y + pyad.sigmoid(y) - pyad.log1p(x * x) + pyad.dot([x, y], [y, x], 1.0)
    if x > 0:
        return z * pyad.exp(-y) + pyad.sqrt(x) ** 1.5
    return (
        pyad.where(pyad.lt(y, 1.0), pyad.sum([x, y, 3.0]), pyad.softplus(x) / y)
        - abs(x)
        + pyad.relu(y)
    )


def fn2(x):
    return (pyad.sin(x), pyad.cos(x) - pyad.expm1(x), -x / 2.0)


f = pyad.compile(fn)
f(0.5, 2.0)
f(-0.5, 0.25)
f(-0.5, 2.0)
g = pyad.compile(fn2)
g(0.3)
x, y = pyad.Var(0.7), pyad.Var(-1.2)
F = pyad.Function([x, y], pyad.tanh(x * y) + pyad.gt(x, y) * pyad.log(x))
data = pickle.dumps({"compiled": f, "tuple": g, "function": F}, protocol=4)
open(sys.argv[1], "wb").write(data)
print(len(data), f.traces)
