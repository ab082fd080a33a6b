"""pyad's own elementary kernels (csrc/vmath*.h), one value at a time,
for the bit-exact references of the tests: pyad computes exp, expm1, log,
log1p, sin, cos, tanh, cosh and sinh with them (csrc/kernels.h), not with
the C library. Their accuracy against mpmath is tested in test_vmath.py."""

from pyad._lib import ffi, lib

_x = ffi.new("double[1]")
_y = ffi.new("double[1]")


def _kernel(code):
    def f(x):
        _x[0] = x
        st = lib.pyad_vmath(code, lib.PYAD_VMATH_POINT, _x, _y, 1)
        assert st >= 0, st
        return _y[0]

    return f


exp = _kernel(lib.PYAD_VMATH_EXP)
expm1 = _kernel(lib.PYAD_VMATH_EXPM1)
log = _kernel(lib.PYAD_VMATH_LOG)
log1p = _kernel(lib.PYAD_VMATH_LOG1P)
sin = _kernel(lib.PYAD_VMATH_SIN)
cos = _kernel(lib.PYAD_VMATH_COS)
tanh = _kernel(lib.PYAD_VMATH_TANH)
cosh = _kernel(lib.PYAD_VMATH_COSH)
sinh = _kernel(lib.PYAD_VMATH_SINH)
