"""The workloads, each written once against an engine adapter E (engines.py).

A workload function takes (E, xs), a list of the engine's scalars, and
returns one scalar; value_and_grad() turns it into floats in, floats out for
either engine style. The training step keeps its parameters between calls.
"""
import math

import numpy as np

# ---- 1. the seed gist's example -------------------------------------------

GIST_INPUTS = [2.0, 5.0, -3.0]


def gist(E, xs):
    a, b, c = xs
    return E.relu(E.log(E.sin(a * b) - E.exp(c) + 5.0) ** a / b * E.cos(c)
                  + E.sigmoid(a))


# ---- 3. a wide graph and a deep chain --------------------------------------

WIDE_N = 25_000          # 25k leaves + 50k ops + 25k - 1 adds = 99,999 nodes
CHAIN_DEPTH = 100_000    # ops in one chain (plus the leaf)


def wide_inputs(n=WIDE_N):
    return np.random.default_rng(1).uniform(-1.0, 1.0, n).tolist()


def tree_sum(terms):
    """Pairwise sum with binary adds: depth log2(n), so no engine recurses deep."""
    while len(terms) > 1:
        pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            pairs.append(terms[-1])
        terms = pairs
    return terms[0]


def wide(E, xs):
    n = len(xs)
    return tree_sum([xs[i] * xs[i + 1 - n] + xs[i] for i in range(n)])


def chain(E, xs, depth=CHAIN_DEPTH):
    y = xs[0]
    for _ in range(depth // 2):
        y = y * 0.99999
        y = y + 1e-5
    return y


# ---- 4. a DAG with heavy sharing: y = y*y + y, k times ---------------------
# 2k + 1 nodes, but 3**k paths from the output to the leaf.

SHARING_X0 = -0.3        # stays in (-1, 0), gradient nonzero: no overflow at any k


def sharing(k):
    def f(E, xs):
        y = xs[0]
        for _ in range(k):
            y = y * y + y
        return y
    f.__name__ = f"sharing_{k}"
    return f


# ---- turning a workload into value + gradient --------------------------------

def value_and_grad(E, f):
    """g(list of floats) -> (value, [gradient]) for either engine style."""
    if E.style == "functional":
        vg = E.value_and_grad(lambda xs: f(E, xs))
        get = E.jax.device_get if hasattr(E, "jax") else (lambda x: x)

        def g(xs):
            v, grads = get(vg(xs))
            return float(v), [float(d) for d in grads]
        return g

    leaf, value, grad, backward = E.leaf, E.value, E.grad, E.backward

    def g(xs):
        leaves = [leaf(x) for x in xs]
        y = f(E, leaves)
        backward(y)
        return value(y), [grad(v) for v in leaves]
    return g


# ---- 2. micrograd's demo: MLP 2-16-16-1, hinge loss + L2, one SGD step ----------

LAYERS = (2, 16, 16, 1)
N_POINTS = 100
ALPHA = 1e-4
LR = 0.1


def moons(n=N_POINTS, noise=0.1, seed=0):
    """Two interleaving half circles, labels -1/+1 (like sklearn's make_moons)."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, math.pi, n_out)
    t_in = np.linspace(0.0, math.pi, n_in)
    x = np.concatenate([np.cos(t_out), 1.0 - np.cos(t_in)])
    y = np.concatenate([np.sin(t_out), 0.5 - np.sin(t_in)])
    X = np.stack([x, y], axis=1) + rng.normal(0.0, noise, (n, 2))
    labels = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    return X.tolist(), labels.tolist()


def mlp_init(seed=0):
    """Parameters as floats, neuron by neuron: weights uniform(-1, 1), bias 0."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(LAYERS, LAYERS[1:]):
        for _ in range(fan_out):
            params += rng.uniform(-1.0, 1.0, fan_in).tolist() + [0.0]
    return params


def mlp(E, params, x):
    """Score of one point; relu on the hidden layers, linear output."""
    k = 0
    for layer, (fan_in, fan_out) in enumerate(zip(LAYERS, LAYERS[1:])):
        out = []
        for _ in range(fan_out):
            s = E.dot(params[k:k + fan_in], x, params[k + fan_in])
            k += fan_in + 1
            out.append(E.relu(s) if layer < len(LAYERS) - 2 else s)
        x = out
    return x[0]


def demo_loss(E, params, X, Y):
    """micrograd's demo loss: mean max-margin (SVM hinge) + ALPHA * L2."""
    losses = [E.relu(1.0 + -y * mlp(E, params, x)) for x, y in zip(X, Y)]
    data_loss = E.sum(losses) * (1.0 / len(losses))
    return data_loss + ALPHA * E.sum([p * p for p in params])


class TrainStep:
    """One training step of the demo per call: forward, backward, update."""

    def __init__(self, E):
        self.E = E
        self.X, self.Y = moons()
        start = mlp_init()
        if E.style == "tape":
            self.params = [E.leaf(p) for p in start]
        else:
            self.params = start
            vg = E.value_and_grad(lambda ps: demo_loss(E, ps, self.X, self.Y))
            if getattr(E, "jit", False):
                jax = E.jax

                @jax.jit
                def step(ps):
                    loss, grads = vg(ps)
                    return loss, [p - LR * d for p, d in zip(ps, grads)]
                self._step = step
            else:
                def step(ps):
                    loss, grads = vg(ps)
                    return loss, [p - LR * d for p, d in zip(ps, grads)]
                self._step = step

    def __call__(self):
        E, ps = self.E, self.params
        if E.style == "tape":
            E.zero_grad(ps)
            loss = demo_loss(E, ps, self.X, self.Y)
            E.backward(loss)
            E.sgd(ps, LR)
            return E.value(loss)
        loss, self.params = self._step(ps)
        return float(loss)


# ---- the registry: workload name -> one unit of work -------------------------

def function(name):
    """(f, inputs) of a value-and-gradient workload."""
    if name == "gist":
        return gist, GIST_INPUTS
    if name == "wide":
        return wide, wide_inputs()
    if name == "chain":
        return chain, [0.5]
    if name.startswith("sharing-"):
        return sharing(int(name.split("-")[1])), [SHARING_X0]
    raise KeyError(name)


def case(name, E):
    """A zero-argument callable: one call = one unit of workload `name` on E
    (value + gradient, or one training step for "demo")."""
    if name == "demo":
        return TrainStep(E)
    f, xs = function(name)
    g = value_and_grad(E, f)
    return lambda: g(xs)


def pyad_nodes(name):
    """Nodes one unit of the workload puts on pyad's tape, leaves included."""
    import pyad
    from engines import load
    E = load("pyad")
    before = pyad.live_nodes()
    if name == "demo":
        step = TrainStep(E)
        keep = demo_loss(E, step.params, step.X, step.Y)
    else:
        f, xs = function(name)
        keep = f(E, [pyad.Var(x) for x in xs])
    n = pyad.live_nodes() - before
    del keep
    return n
