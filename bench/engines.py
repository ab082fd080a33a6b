"""One small adapter per engine, so each workload is written once.

An adapter gives the engine's own functions (no wrapping in the hot path)
under common names. Two styles:

  tape        make leaves, compute, backward(), read .grad (pyad, the seed
              algorithm, micrograd, PyTorch); parameters are leaves that
              sgd() updates in place.
  functional  value_and_grad(f)(list of floats) (pyad compiled, JAX, HIPS
              autograd).

Optional engines are imported by load(), which skips the test with the
reason when the package is missing.
"""
import functools
import importlib.metadata
import operator
import os

import pytest

UNARY = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "relu")


def _chain_sum(items):
    return functools.reduce(operator.add, items)


def dist_version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class Engine:
    style = "tape"
    slow = False                # seconds per call on the big workloads
    sum = staticmethod(_chain_sum)

    def missing(self, names):
        """Ops of `names` the engine lacks, e.g. ['sin', 'log']."""
        return [n for n in names if getattr(self, n, None) is None]

    def dot(self, ws, xs, b):
        """b + sum(w * x), as micrograd's Neuron writes it."""
        s = b
        for w, x in zip(ws, xs):
            s = s + w * x
        return s


# ---- tape engines ---------------------------------------------------------

class Pyad(Engine):
    name = "pyad"

    def __init__(self):
        import pyad
        self.pyad = pyad
        for n in UNARY:
            setattr(self, n, getattr(pyad, n))
        self.leaf = pyad.Var
        self.sum = pyad.sum           # one n-ary node

    def dot(self, ws, xs, b):
        return self.pyad.dot(ws, xs, b)     # one node per neuron

    @staticmethod
    def backward(y):
        y.backward()

    @staticmethod
    def value(v):
        return v.val

    @staticmethod
    def grad(v):
        return v.grad

    def zero_grad(self, params):
        self.pyad.zero_grad(*params)

    @staticmethod
    def sgd(params, lr):
        for p in params:
            p.val -= lr * p.grad


class PurePython(Engine):
    """A tape engine whose scalars have .grad, .backward() and a value
    attribute named VALUE (the seed algorithm, micrograd)."""
    VALUE = "val"

    @staticmethod
    def backward(y):
        y.backward()

    def value(self, v):
        return getattr(v, self.VALUE)

    @staticmethod
    def grad(v):
        return v.grad

    @staticmethod
    def zero_grad(params):
        for p in params:
            p.grad = 0.0

    def sgd(self, params, lr):
        for p in params:
            setattr(p, self.VALUE, getattr(p, self.VALUE) - lr * p.grad)


class Seed(PurePython):
    name = "seed algorithm (pure Python)"

    def __init__(self):
        import seed_engine
        for n in UNARY:
            setattr(self, n, getattr(seed_engine, n))
        self.leaf = seed_engine.Node


class Micrograd(PurePython):
    name = "micrograd"
    VALUE = "data"

    def __init__(self):
        from micrograd.engine import Value
        self.leaf = Value
        self.relu = Value.relu       # its only nonlinearity


class Torch(Engine):
    name = "torch (0-d float64)"

    def __init__(self):
        torch = pytest.importorskip("torch", reason="PyTorch not installed")
        self.torch = torch
        self.exp, self.log, self.sin, self.cos = torch.exp, torch.log, torch.sin, torch.cos
        self.tanh, self.sigmoid, self.relu = torch.tanh, torch.sigmoid, torch.relu

    def leaf(self, x):
        return self.torch.tensor(x, dtype=self.torch.float64, requires_grad=True)

    @staticmethod
    def backward(y):
        y.backward()

    @staticmethod
    def value(v):
        return v.item()

    @staticmethod
    def grad(v):
        return v.grad.item()

    @staticmethod
    def zero_grad(params):
        for p in params:
            p.grad = None

    def sgd(self, params, lr):
        with self.torch.no_grad():
            for p in params:
                p -= lr * p.grad


# ---- functional engines -----------------------------------------------------

class Jax(Engine):
    style = "functional"
    name = "jax eager"
    jit = False
    slow = True

    def __init__(self):
        jax = pytest.importorskip("jax", reason="JAX not installed")
        jax.config.update("jax_enable_x64", True)      # float64, like the others
        jax.config.update("jax_platforms", "cpu")
        cache = os.environ.get("PYAD_BENCH_JAX_CACHE")
        if cache:       # set by conftest.py; shared with jax_compile_probe.py
            jax.config.update("jax_compilation_cache_dir", cache)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
        self.jax, jnp = jax, jax.numpy
        self.exp, self.log, self.sin, self.cos, self.tanh = (
            jnp.exp, jnp.log, jnp.sin, jnp.cos, jnp.tanh)
        self.sigmoid, self.relu = jax.nn.sigmoid, jax.nn.relu

    def value_and_grad(self, f):
        """f(list of scalars) -> scalar  to  g(list of floats) -> (value, grads)."""
        vg = self.jax.value_and_grad(f)
        return self.jax.jit(vg) if self.jit else vg


class JaxJit(Jax):
    name = "jax.jit (steady state)"
    jit = True
    slow = False


class Autograd(Engine):
    style = "functional"
    name = "autograd (HIPS)"
    slow = True

    def __init__(self):
        ag = pytest.importorskip("autograd", reason="HIPS autograd not installed")
        import autograd.numpy as anp
        self.ag = ag
        self.exp, self.log, self.sin, self.cos, self.tanh = (
            anp.exp, anp.log, anp.sin, anp.cos, anp.tanh)
        self.sigmoid = lambda x: 0.5 * (anp.tanh(0.5 * x) + 1.0)
        self.relu = lambda x: anp.maximum(x, 0.0)

    def value_and_grad(self, f):
        # Inputs go in as one array, not a list: autograd's list boxes make
        # indexing O(n) in the backward pass with Python loops.
        import numpy as np
        vg = self.ag.value_and_grad(lambda a: f([a[i] for i in range(len(a))]))
        return lambda xs: vg(np.asarray(xs, dtype=float))


# ---- pyad compiled replay ------------------------------------------------------

class PyadCompiled(Pyad):
    """pyad.compile: the first call traces f into a program that C replays."""
    style = "functional"
    name = "pyad compiled"

    def __init__(self):
        super().__init__()
        if not hasattr(self.pyad, "compile"):
            pytest.skip("pyad.compile does not exist in this pyad")

    def value_and_grad(self, f):
        compiled = self.pyad.compile(lambda *xs: f(list(xs)))
        return lambda xs: compiled.value_and_grad(*xs)


class PyadScalar(Pyad):
    """pyad running micrograd's code unchanged: one op per w * x and +."""
    name = "pyad, scalar ops"
    dot = Engine.dot
    sum = staticmethod(_chain_sum)


ALL = {"pyad": Pyad, "pyad-scalar": PyadScalar, "pyad-compiled": PyadCompiled, "seed": Seed, "micrograd": Micrograd, "torch": Torch,
       "jax": Jax, "jax-jit": JaxJit, "autograd": Autograd}


@functools.lru_cache(maxsize=None)
def _make(key):
    return ALL[key]()


def load(key):
    """The engine's adapter (cached); pytest.skip()s when not installed."""
    return _make(key)
