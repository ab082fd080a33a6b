"""JAX-style gradients (grad, value_and_grad), gradcheck and zero_grad.

Arguments and results are pytrees (pyad.pytree): numbers, numpy arrays of
any shape, and tuples/lists/dicts nesting them. The function receives Vars
for numbers and object arrays of Vars for arrays, so ordinary numpy code
works; gradients come back in the arguments' structure, as floats and
float arrays. Called inside another transform (or on Vars), they return
Vars instead, so transforms compose to any order: grad(grad(f)).
The other transforms (jacobian, hessian, hvp, jvp, vjp) are in
pyad.transforms.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable

from . import var as _var
from ._lib import ffi, lib
from ._transform import argnums_tuple, grad_graph, gradient, scalar_output, trace
from .errors import GradcheckError, check
from .reals import as_float
from .var import Var

# A function pyad can differentiate: Vars in, a Var or a real number out.
Differentiable = Callable[..., Any]


def zero_grad(*vars: Var) -> None:
    """Set .grad = 0 on each given Var and on every node it depends on
    (dropping gradients that backward(create_graph=True) left as Vars).

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
        if _var.graph_grads:
            from ._graphgrad import forget_below

            for v in vars:
                forget_below(v)


def _value_and_grad(
    f: Differentiable, argnums: Any, has_aux: bool, args: tuple[Any, ...]
) -> tuple[Any, Any, Any]:
    """(value, gradient in the structure argnums asks for, aux)."""
    single, nums = argnums_tuple(argnums, len(args))
    t = trace(f, args, nums, has_aux)
    out = scalar_output(t.out, "grad")
    wrt = t.inputs.vars
    if t.nested:
        flat = grad_graph(out, wrt)
        value: Any = out
    elif isinstance(out, Var):
        flat = gradient([out], None, wrt)
        value = lib.pyad_value(out._h)
    else:
        flat, value = [0.0] * len(wrt), out
    grads = [t.inputs.structure(flat, num) for num in nums]
    return value, grads[0] if single else tuple(grads), t.aux


def value_and_grad(
    f: Differentiable, argnums: int | Iterable[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """Like jax.value_and_grad: g(*args) -> (f(*args), df/dargs).

    f must return a scalar (a Var or a number). The gradient has the
    structure of the argument (a tuple of them for a tuple of argnums).
    With has_aux=True, f returns (value, aux) and g gives ((value, aux),
    gradient).

    >>> import numpy as np, pyad
    >>> pyad.value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    >>> v, g = pyad.value_and_grad(lambda p: (p["w"] ** 2).sum() + p["b"])(
    ...     {"w": np.array([1.0, 2.0]), "b": 0.5})
    >>> v, g["w"].tolist(), g["b"]
    (5.5, [2.0, 4.0], 1.0)
    """

    def wrapped(*args: Any) -> Any:
        value, grads, aux = _value_and_grad(f, argnums, has_aux, args)
        return ((value, aux), grads) if has_aux else (value, grads)

    wrapped.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return wrapped


def grad(
    f: Differentiable, argnums: int | Iterable[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """Like jax.grad: g(*args) -> df/dargs, in the arguments' structure.

    Numbers give floats, arrays float arrays (f sees object arrays of
    Vars). With has_aux=True, f returns (value, aux) and g gives
    (gradient, aux). grad(grad(f)) and other compositions work to any
    order: inside a transform the result is made of Vars.

    >>> import numpy as np, pyad
    >>> pyad.grad(lambda x: x ** 3)(2.0)
    12.0
    >>> pyad.grad(pyad.grad(lambda x: x ** 3))(2.0)
    12.0
    >>> rosen = lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    >>> pyad.grad(rosen)(np.array([1.0, 1.0, 1.0])).tolist()
    [0.0, 0.0, 0.0]
    """

    def wrapped(*args: Any) -> Any:
        _, grads, aux = _value_and_grad(f, argnums, has_aux, args)
        return (grads, aux) if has_aux else grads

    wrapped.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return wrapped


def _value_at(f: Differentiable, args: list[float]) -> float:
    out = f(*[Var(x) for x in args])
    return float(out.val if isinstance(out, Var) else out)


def gradcheck(
    f: Differentiable, *args: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """Compare pyad's gradient of f at args (numbers) with central finite
    differences.

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
    analytic: tuple[float, ...] = ()
    if xs:
        analytic = _value_and_grad(f, tuple(range(len(xs))), False, tuple(xs))[1]
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
