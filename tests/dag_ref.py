"""The reference engine of the property-based tests (test_properties.py):
a program (a list of nodes, each over earlier nodes) evaluated and
differentiated by a plain reverse sweep in topological order, with a
backend for floats + math and one for mpmath at 50 digits."""

import math

import mpmath


class FloatBackend:
    """Values and local partials in IEEE doubles, with the standard
    numerically careful formulas."""

    num = staticmethod(float)

    @staticmethod
    def unary(name, x):
        if name == "neg":
            return -x, -1.0
        if name == "abs":
            return abs(x), (1.0 if x > 0 else -1.0 if x < 0 else 0.0)
        if name == "exp":
            y = math.exp(x)
            return y, y
        if name == "log":
            return math.log(x), 1.0 / x
        if name == "sin":
            return math.sin(x), math.cos(x)
        if name == "cos":
            return math.cos(x), -math.sin(x)
        if name == "tanh":
            t = math.exp(-2.0 * abs(x))
            return math.tanh(x), 4.0 * t / (1.0 + t) ** 2
        if name == "sigmoid":
            e = math.exp(-abs(x))
            s = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
            return s, e / (1.0 + e) ** 2
        if name == "relu":
            return (x, 1.0) if x > 0 else (0.0, 0.0)
        if name == "sqrt":
            r = math.sqrt(x)
            return r, 0.5 / r
        if name == "log1p":
            return math.log1p(x), 1.0 / (1.0 + x)
        if name == "expm1":
            return math.expm1(x), math.exp(x)
        if name == "softplus":
            e = math.exp(-abs(x))
            s = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
            return max(x, 0.0) + math.log1p(e), s
        raise ValueError(name)

    @staticmethod
    def binary(name, a, b):
        if name == "add":
            return a + b, 1.0, 1.0
        if name == "sub":
            return a - b, 1.0, -1.0
        if name == "mul":
            return a * b, b, a
        if name == "div":
            return a / b, 1.0 / b, -a / (b * b)
        if name == "pow":
            y = math.pow(a, b)
            da = 0.0 if b == 0 else b * math.pow(a, b - 1.0)
            db = 0.0 if a == 0 else y * math.log(a) if a > 0 else math.nan
            return y, da, db
        raise ValueError(name)


class MpBackend:
    """The same, exactly (50 digits) with mpmath."""

    num = staticmethod(mpmath.mpf)

    @staticmethod
    def unary(name, x):
        mp = mpmath
        if name == "neg":
            return -x, mp.mpf(-1)
        if name == "abs":
            return abs(x), mp.mpf(mp.sign(x))
        if name == "exp":
            return mp.exp(x), mp.exp(x)
        if name == "log":
            return mp.log(x), 1 / x
        if name == "sin":
            return mp.sin(x), mp.cos(x)
        if name == "cos":
            return mp.cos(x), -mp.sin(x)
        if name == "tanh":
            return mp.tanh(x), mp.sech(x) ** 2
        if name == "sigmoid":
            s = 1 / (1 + mp.exp(-x))
            return s, mp.exp(-x) / (1 + mp.exp(-x)) ** 2
        if name == "relu":
            return (x, mp.mpf(1)) if x > 0 else (mp.mpf(0), mp.mpf(0))
        if name == "sqrt":
            return mp.sqrt(x), 1 / (2 * mp.sqrt(x))
        if name == "log1p":
            return mp.log1p(x), 1 / (1 + x)
        if name == "expm1":
            return mp.expm1(x), mp.exp(x)
        if name == "softplus":
            return mp.log(1 + mp.exp(x)), 1 / (1 + mp.exp(-x))
        raise ValueError(name)

    @staticmethod
    def binary(name, a, b):
        mp = mpmath
        if name == "add":
            return a + b, mp.mpf(1), mp.mpf(1)
        if name == "sub":
            return a - b, mp.mpf(1), mp.mpf(-1)
        if name == "mul":
            return a * b, b, a
        if name == "div":
            return a / b, 1 / b, -a / b**2
        if name == "pow":
            y = mp.power(a, b)
            da = mp.mpf(0) if b == 0 else b * mp.power(a, b - 1)
            db = mp.mpf(0) if a == 0 else y * mp.log(a)
            return y, da, db
        raise ValueError(name)


def reference(prog, seed, B):
    """Values and gradients (d out / d node, out = the last node, times
    seed) of every node. An alias node (unary +) resolves to its operand."""
    n = len(prog)
    target = list(range(n))
    vals, edges = [None] * n, [[] for _ in range(n)]
    for k, node in enumerate(prog):
        kind = node[0]
        if kind == "leaf":
            vals[k] = B.num(node[1])
        elif kind == "unary":
            i = target[node[2]]
            if node[1] == "pos":
                target[k] = i
                vals[k] = vals[i]
                continue
            vals[k], d = B.unary(node[1], vals[i])
            edges[k] = [(i, d)]
        elif kind == "binary":
            i, j = target[node[2]], target[node[3]]
            vals[k], da, db = B.binary(node[1], vals[i], vals[j])
            edges[k] = [(i, da), (j, db)]
        elif kind == "binary_vc":
            i = target[node[2]]
            vals[k], da, _ = B.binary(node[1], vals[i], B.num(float(node[3])))
            edges[k] = [(i, da)]
        elif kind == "binary_cv":
            i = target[node[3]]
            vals[k], _, db = B.binary(node[1], B.num(float(node[2])), vals[i])
            edges[k] = [(i, db)]
        elif kind in ("sum", "builtin_sum"):
            terms = [vals[target[x]] if is_node else B.num(float(x)) for is_node, x in node[1]]
            if kind == "sum":
                acc = terms[0]
                for t in terms[1:]:
                    acc = acc + t
            else:
                acc = B.num(0.0)
                for t in terms:
                    acc = acc + t
            vals[k] = acc
            edges[k] = [(target[x], B.num(1.0)) for is_node, x in node[1] if is_node]
        else:
            raise ValueError(kind)
    adj = [B.num(0.0)] * n
    out = target[n - 1]
    adj[out] = B.num(seed)
    for k in range(n - 1, -1, -1):
        for i, d in edges[k]:
            adj[i] = adj[i] + adj[k] * d
    return ([vals[target[k]] for k in range(n)], [adj[target[k]] for k in range(n)])
