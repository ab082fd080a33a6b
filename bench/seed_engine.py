"""The seed gist's algorithm, written afresh as the pure-Python baseline.

Every node is one Python object: its value, its gradient, and a tuple of
(parent, local derivative) pairs fixed when the node is made. backward()
enumerates every path from the output down to the leaves, recursively,
adding each path's product of local derivatives to the .grad of each node it
passes. That is short and correct, but its cost is the number of paths
(exponential on a DAG that reuses values) and its recursion is as deep as
the graph (RecursionError past ~1000 levels).

Numbers mixed into an op become leaf nodes, as in the gist's Var(5).
"""
import math


class Node:
    __slots__ = ("val", "grad", "parents")

    def __init__(self, val, parents=()):
        self.val = val
        self.grad = 0.0
        self.parents = parents

    def backward(self):
        self.grad += 1.0
        self._push(1.0)

    def _push(self, path):
        for parent, local in self.parents:
            d = path * local
            parent.grad += d
            parent._push(d)

    def __repr__(self):
        return f"Node(val={self.val!r}, grad={self.grad!r})"

    def __add__(self, other):
        o = lift(other)
        return Node(self.val + o.val, ((self, 1.0), (o, 1.0)))

    def __sub__(self, other):
        o = lift(other)
        return Node(self.val - o.val, ((self, 1.0), (o, -1.0)))

    def __mul__(self, other):
        o = lift(other)
        return Node(self.val * o.val, ((self, o.val), (o, self.val)))

    def __truediv__(self, other):
        o = lift(other)
        q = self.val / o.val
        return Node(q, ((self, 1.0 / o.val), (o, -q / o.val)))

    def __pow__(self, other):
        if isinstance(other, Node):      # variable exponent: d/dk a**k = a**k log a
            p = self.val ** other.val
            return Node(p, ((self, other.val * self.val ** (other.val - 1.0)),
                            (other, p * math.log(self.val))))
        k = float(other)
        return Node(self.val ** k, ((self, k * self.val ** (k - 1.0)),))

    def __neg__(self):
        return Node(-self.val, ((self, -1.0),))

    def __radd__(self, other):
        return lift(other) + self

    def __rsub__(self, other):
        return lift(other) - self

    def __rmul__(self, other):
        return lift(other) * self

    def __rtruediv__(self, other):
        return lift(other) / self


def lift(x):
    return x if isinstance(x, Node) else Node(float(x))


def exp(a):
    e = math.exp(a.val)
    return Node(e, ((a, e),))


def log(a):
    return Node(math.log(a.val), ((a, 1.0 / a.val),))


def sin(a):
    return Node(math.sin(a.val), ((a, math.cos(a.val)),))


def cos(a):
    return Node(math.cos(a.val), ((a, -math.sin(a.val)),))


def tanh(a):
    t = math.tanh(a.val)
    return Node(t, ((a, 1.0 - t * t),))


def sigmoid(a):
    s = 1.0 / (1.0 + math.exp(-a.val))
    return Node(s, ((a, s * (1.0 - s)),))


def relu(a):
    return Node(a.val if a.val > 0.0 else 0.0, ((a, 1.0 if a.val > 0.0 else 0.0),))
