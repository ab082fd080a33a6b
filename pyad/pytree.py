"""Pytrees: nested tuples, lists, dicts and None around leaves, as JAX has them.

The transforms (pyad.grad, jacobian, hessian, jvp, vjp, ...) take and give
their arguments as pytrees: a leaf is a number, a Var, or a numpy array of
any shape; tuples (namedtuples too), lists and dicts nest them, and None is
an empty subtree. Dict keys are visited in sorted order, as in JAX.

>>> import numpy as np
>>> from pyad import pytree
>>> leaves, tree = pytree.flatten({"b": (1.0, np.zeros(2)), "a": [3]})
>>> leaves
[3, 1.0, array([0., 0.])]
>>> pytree.unflatten(tree, ["x", "y", "z"])
{'a': ['x'], 'b': ('y', 'z')}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Callable, NamedTuple

__all__ = ["TreeDef", "flatten", "unflatten", "leaves", "tree_map"]


class TreeDef(NamedTuple):
    """The structure of a pytree: its node kind and children; a leaf's
    `kind` is "leaf". Two trees of the same structure compare equal.

    >>> from pyad import pytree
    >>> pytree.flatten((1.0, [2.0]))[1] == pytree.flatten((5, [6]))[1]
    True
    """

    kind: str  # "leaf", "none", "tuple", "list", "dict", "namedtuple"
    meta: Any  # dict: the keys in order; namedtuple: its class; else None
    children: tuple[TreeDef, ...]

    @property
    def num_leaves(self) -> int:
        """How many leaves the structure holds.

        >>> from pyad import pytree
        >>> pytree.flatten({"a": (1, 2), "b": None})[1].num_leaves
        2
        """
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)

    def describe(self) -> str:
        """A short text of the structure, for error messages.

        >>> from pyad import pytree
        >>> pytree.flatten({"a": (1.0, [2.0])})[1].describe()
        "{'a': (*, [*])}"
        """
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = [c.describe() for c in self.children]
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.meta, inner)) + "}"
        if self.kind == "list":
            return "[" + ", ".join(inner) + "]"
        if self.kind == "namedtuple":
            return f"{self.meta.__name__}(" + ", ".join(inner) + ")"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"


_LEAF = TreeDef("leaf", None, ())
_NONE = TreeDef("none", None, ())


def _sorted_keys(d: dict[Any, Any]) -> list[Any]:
    try:
        return sorted(d)
    except TypeError:  # keys that do not order: keep insertion order
        return list(d)


def _flatten(tree: Any, out: list[Any]) -> TreeDef:
    t = type(tree)
    if tree is None:
        return _NONE
    if t is tuple or t is list:
        return TreeDef(t.__name__, None, tuple(_flatten(x, out) for x in tree))
    if isinstance(tree, tuple) and hasattr(t, "_fields"):  # a namedtuple
        return TreeDef("namedtuple", t, tuple(_flatten(x, out) for x in tree))
    if t is dict:
        keys = _sorted_keys(tree)
        return TreeDef("dict", tuple(keys), tuple(_flatten(tree[k], out) for k in keys))
    out.append(tree)
    return _LEAF


def flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """The leaves of a pytree, in order, and its structure.

    >>> from pyad import pytree
    >>> pytree.flatten([1.0, {"w": 2.0, "b": None}])[0]
    [1.0, 2.0]
    """
    out: list[Any] = []
    return out, _flatten(tree, out)


def _build(tree: TreeDef, it: Iterator[Any]) -> Any:
    if tree.kind == "leaf":
        return next(it)
    if tree.kind == "none":
        return None
    children = [_build(c, it) for c in tree.children]
    if tree.kind == "tuple":
        return tuple(children)
    if tree.kind == "list":
        return children
    if tree.kind == "namedtuple":
        return tree.meta(*children)
    return dict(zip(tree.meta, children))


def unflatten(tree: TreeDef, leaves: Sequence[Any]) -> Any:
    """The pytree of structure `tree` holding `leaves`.

    >>> from pyad import pytree
    >>> _, t = pytree.flatten((0.0, {"a": 0.0}))
    >>> pytree.unflatten(t, [1, 2])
    (1, {'a': 2})
    """
    if len(leaves) != tree.num_leaves:
        raise ValueError(f"{tree.describe()} holds {tree.num_leaves} leaves, not {len(leaves)}")
    return _build(tree, iter(leaves))


def leaves(tree: Any) -> list[Any]:
    """The leaves of a pytree, in order.

    >>> from pyad import pytree
    >>> pytree.leaves({"b": 1, "a": (2, None)})
    [2, 1]
    """
    return flatten(tree)[0]


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """A pytree of the same structure with fn applied to each leaf.

    >>> from pyad import pytree
    >>> pytree.tree_map(lambda x: 2 * x, {"a": 1, "b": (2, 3)})
    {'a': 2, 'b': (4, 6)}
    """
    items, structure = flatten(tree)
    return unflatten(structure, [fn(x) for x in items])
