"""pyad.to_dot: the graph behind a Var as Graphviz DOT text."""

from __future__ import annotations

import os

from ._lib import ffi, lib
from .program import export
from .var import Var


def _label(op: int, value: float, grad: float) -> str:
    name = "leaf" if op < 0 else ffi.string(lib.pyad_op_name(op)).decode()
    return f"{name}\\nval={value:.6g}\\ngrad={grad:.6g}"


def to_dot(y: Var, filename: str | None = None, format: str = "png") -> str:
    """Graphviz DOT text of the graph behind y: one box per node (op,
    value, gradient), an arrow from each operand to its user.

    With filename, also renders it there (filename + "." + format) with the
    `graphviz` Python package and the Graphviz `dot` program, which must be
    installed (ImportError otherwise).

    >>> import pyad
    >>> a = pyad.Var(2.0)
    >>> print(pyad.to_dot(a * a))
    digraph pyad {
      rankdir=LR;
      node [shape=box, fontname="Helvetica"];
      n0 [label="leaf\\nval=2\\ngrad=0"];
      n1 [label="mul\\nval=4\\ngrad=0"];
      n0 -> n1;
      n0 -> n1;
    }
    """
    if not isinstance(y, Var):
        raise TypeError(f"to_dot() expects a Var, not {type(y).__name__}")
    g = export([], [y], with_grads=True)
    lines = ["digraph pyad {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for k, (op, value, grad) in enumerate(zip(g["node_op"], g["node_value"], g["node_grad"])):
        lines.append(f'  n{k} [label="{_label(int(op), float(value), float(grad))}"];')
    for k in range(len(g["node_op"])):
        for a in g["args"][g["arg_start"][k] : g["arg_start"][k + 1]]:
            lines.append(f"  n{int(a)} -> n{k};")
    lines.append("}")
    text = "\n".join(lines)
    if filename is not None:
        import graphviz  # optional dependency

        root, ext = os.path.splitext(filename)
        if ext.lstrip(".") == format:
            filename = root
        graphviz.Source(text).render(filename, format=format, cleanup=True)
    return text
