"""JAX-style function transforms and checks built on Var."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Callable, overload

from ._lib import ffi, lib
from .dropped import watching
from .errors import GradcheckError, check
from .var import Real, Var, as_float

# A function pyad can differentiate: Vars in, a Var or a real number out.
Differentiable = Callable[..., "Var | Real"]


def zero_grad(*vars: Var) -> None:
    """Set .grad = 0 on each given Var and on every node it depends on.

    >>> import pyad
    >>> a = pyad.Var(3.0); y = a * a; y.backward()
    >>> pyad.zero_grad(y); a.grad
    0.0
    """
    for v in vars:
        if not isinstance(v, Var):
            raise TypeError(f"zero_grad() expects Vars, not {type(v).__name__}")
    if vars:
        handles = ffi.new("int64_t[]", [v._h for v in vars])
        check(lib.pyad_zero_grad(handles, len(vars)))


# argnums: an int or an iterable of ints, checked here
def _argnums_tuple(argnums: Any, nargs: int) -> tuple[bool, list[int]]:
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    out = []
    for i in nums:
        if not isinstance(i, int):
            raise TypeError(f"argnums must be ints, not {type(i).__name__}")
        if not -nargs <= i < nargs:
            raise ValueError(f"argnums {i} out of range for {nargs} arguments")
        out.append(i % nargs)
    return single, out


def _call_on_leaves(
    f: Differentiable, args: Sequence[object], nums: Sequence[int]
) -> tuple[float, list[float]]:
    """f(*args) with args[i] made a leaf Var for each i in nums; returns the
    value and the gradient for each entry of nums (repeats allowed)."""
    args = list(args)
    leaf: dict[int, Var] = {}
    for i in nums:
        if i in leaf:
            continue
        x = as_float(args[i])
        if x is None:
            raise TypeError(f"argument {i} must be a real number, not {type(args[i]).__name__}")
        leaf[i] = args[i] = Var(x)
    with watching(list(leaf.values()), "grad"):  # float(v) of a leaf's descendant warns
        out = f(*args)
    if isinstance(out, Var):
        out.backward()
        return out.val, [leaf[i].grad for i in nums]
    value = as_float(out)
    if value is None:
        raise TypeError(
            f"the function must return a Var or a real number, not {type(out).__name__}"
        )
    return value, [0.0 for _ in nums]  # output does not depend on them


@overload
def value_and_grad(f: Differentiable, argnums: int = 0) -> Callable[..., tuple[float, float]]: ...
@overload
def value_and_grad(
    f: Differentiable, argnums: Iterable[int]
) -> Callable[..., tuple[float, tuple[float, ...]]]: ...
def value_and_grad(
    f: Differentiable, argnums: int | Iterable[int] = 0
) -> Callable[..., tuple[float, float | tuple[float, ...]]]:
    """Like jax.value_and_grad: g(*args) -> (f(*args), df/dargs).

    Arguments and results are floats; with a tuple of argnums the gradient
    is a tuple.

    >>> import pyad
    >>> pyad.value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """

    def wrapped(*args: Real) -> tuple[float, float | tuple[float, ...]]:
        single, nums = _argnums_tuple(argnums, len(args))
        value, grads = _call_on_leaves(f, args, nums)
        return value, (grads[0] if single else tuple(grads))

    wrapped.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return wrapped


@overload
def grad(f: Differentiable, argnums: int = 0) -> Callable[..., float]: ...
@overload
def grad(f: Differentiable, argnums: Iterable[int]) -> Callable[..., tuple[float, ...]]: ...
def grad(
    f: Differentiable, argnums: int | Iterable[int] = 0
) -> Callable[..., float | tuple[float, ...]]:
    """Like jax.grad: g(*args) -> df/dargs, floats in and out.

    >>> import pyad
    >>> pyad.grad(lambda x: x ** 3)(2.0)
    12.0
    """
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Real) -> float | tuple[float, ...]:
        return vg(*args)[1]

    wrapped.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return wrapped


def _value_at(f: Differentiable, args: Sequence[float]) -> float:
    out = f(*[Var(x) for x in args])
    return float(out.val if isinstance(out, Var) else out)


def gradcheck(
    f: Differentiable, *args: Real, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """Compare pyad's gradient of f at args with central finite differences.

    Returns True, or raises GradcheckError naming the worst mismatch. The
    tolerances are torch.autograd.gradcheck's: |analytic - numeric| <=
    atol + rtol * |numeric| for every argument.

    >>> import pyad
    >>> pyad.gradcheck(lambda x, y: pyad.sin(x) * y, 0.3, 2.0)
    True
    """
    xs: list[float] = []
    for i, x in enumerate(args):
        v = as_float(x)
        if v is None:
            raise TypeError(f"argument {i} must be a real number, not {type(x).__name__}")
        xs.append(v)
    _, analytic = _call_on_leaves(f, xs, range(len(xs)))
    worst: tuple[float, int, float, float] | None = None
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        numeric = (_value_at(f, up) - _value_at(f, down)) / (2 * eps)
        err = abs(analytic[i] - numeric)
        ok = err <= atol + rtol * abs(numeric)
        if not ok and (worst is None or not err <= worst[0]):
            worst = (err, i, analytic[i], numeric)
    if worst is not None:
        err, i, a, n = worst
        raise GradcheckError(
            f"gradient of argument {i} at {xs}: analytic {a!r}, numeric {n!r} "
            f"(|difference| {err!r} > atol {atol} + rtol {rtol} * |numeric|)"
        )
    return True
