/* oplist.h -- the op registry: every op pyad knows, one row each.
 *
 *   X(name, code, arity, hess, ufunc)
 *
 * name   the op's name: its Python function and method name, and the stem
 *        of its definitions in opdefs.h (pyad_v_<name>, PYAD_PARTIALS_<name>).
 * code   its stable number, PYAD_OP_<name>. A new op takes the next number;
 *        codes are never reused or reordered, and they are dense from 0 so
 *        the table is indexed by code (both checked at compile time in
 *        ops.c). Nothing persisted stores a code: pickles store names.
 * arity  1, 2, 3, or N for n-ary (any positive number of operands).
 * hess   which second partials may be non-zero (Hessian sparsity):
 *          NONE   none: linear, or piecewise constant derivative;
 *          FULL   any pair of operands (a unary op: its own square);
 *          CROSS  only between different operands (mul);
 *          DOT    only between w_i and x_i (dot).
 * ufunc  numpy's ufunc of the same meaning, "" when there is none (numpy
 *        object arrays of Vars call the method of that name).
 *
 * Adding an op: one row here, its definitions in opdefs.h (value and
 * partials, plus the kink and domain notes), and at most one line in
 * pyad/ops.py (only for an operator such as `%`). See docs/architecture.md.
 */
#ifndef PYAD_OPLIST_H
#define PYAD_OPLIST_H

#define PYAD_OP_LIST(X)                                   \
    X(add,      0,  2, NONE,  "add")                      \
    X(sub,      1,  2, NONE,  "subtract")                 \
    X(mul,      2,  2, CROSS, "multiply")                 \
    X(div,      3,  2, FULL,  "true_divide")              \
    X(pow,      4,  2, FULL,  "power")                    \
    X(neg,      5,  1, NONE,  "negative")                 \
    X(abs,      6,  1, NONE,  "absolute")                 \
    X(exp,      7,  1, FULL,  "exp")                      \
    X(log,      8,  1, FULL,  "log")                      \
    X(sin,      9,  1, FULL,  "sin")                      \
    X(cos,      10, 1, FULL,  "cos")                      \
    X(tanh,     11, 1, FULL,  "tanh")                     \
    X(sigmoid,  12, 1, FULL,  "")                         \
    X(relu,     13, 1, NONE,  "")                         \
    X(sqrt,     14, 1, FULL,  "sqrt")                     \
    X(log1p,    15, 1, FULL,  "log1p")                    \
    X(expm1,    16, 1, FULL,  "expm1")                    \
    X(softplus, 17, 1, FULL,  "")                         \
    X(sum,      18, N, NONE,  "")                         \
    X(lt,       19, 2, NONE,  "")                         \
    X(le,       20, 2, NONE,  "")                         \
    X(gt,       21, 2, NONE,  "")                         \
    X(ge,       22, 2, NONE,  "")                         \
    X(where,    23, 3, NONE,  "")                         \
    X(dot,      24, N, DOT,   "")                         \
    X(pos,      25, 1, NONE,  "positive")                 \
    X(sign,     26, 1, NONE,  "sign")                     \
    X(cosh,     27, 1, FULL,  "cosh")                     \
    X(sinh,     28, 1, FULL,  "sinh")                     \
    X(square,   29, 1, FULL,  "square")                   \
    X(tan,      30, 1, FULL,  "tan")                      \
    X(asin,     31, 1, FULL,  "arcsin")                   \
    X(acos,     32, 1, FULL,  "arccos")                   \
    X(atan,     33, 1, FULL,  "arctan")                   \
    X(asinh,    34, 1, FULL,  "arcsinh")                  \
    X(acosh,    35, 1, FULL,  "arccosh")                  \
    X(atanh,    36, 1, FULL,  "arctanh")                  \
    X(log2,     37, 1, FULL,  "log2")                     \
    X(log10,    38, 1, FULL,  "log10")                    \
    X(exp2,     39, 1, FULL,  "exp2")                     \
    X(cbrt,     40, 1, FULL,  "cbrt")                     \
    X(erf,      41, 1, FULL,  "")                         \
    X(erfc,     42, 1, FULL,  "")                         \
    X(floor,    43, 1, NONE,  "floor")                    \
    X(ceil,     44, 1, NONE,  "ceil")                     \
    X(trunc,    45, 1, NONE,  "trunc")                    \
    X(atan2,    46, 2, FULL,  "arctan2")                  \
    X(hypot,    47, 2, FULL,  "hypot")                    \
    X(maximum,  48, 2, NONE,  "maximum")                  \
    X(minimum,  49, 2, NONE,  "minimum")                  \
    X(copysign, 50, 2, NONE,  "copysign")                 \
    X(fmod,     51, 2, NONE,  "fmod")                     \
    X(mod,      52, 2, NONE,  "remainder")                \
    X(floordiv, 53, 2, NONE,  "floor_divide")             \
    X(clip,     54, 3, NONE,  "clip")                     \
    X(fma,      55, 3, CROSS, "")                         \
    X(lgamma,   56, 1, FULL,  "")                         \
    X(digamma,  57, 1, FULL,  "")                         \
    X(polygamma, 58, 2, FULL, "")                         \
    X(logsumexp, 59, N, FULL, "")                         \
    X(logaddexp, 60, 2, FULL, "logaddexp")                \
    X(xlogy,    61, 2, FULL,  "")                         \
    X(xlog1py,  62, 2, FULL,  "")                         \
    X(ndtr,     63, 1, FULL,  "")                         \
    X(log_ndtr, 64, 1, FULL,  "")                         \
    X(dlog_ndtr, 65, 1, FULL, "")                         \
    X(ndtri,    66, 1, FULL,  "")                         \
    X(erfinv,   67, 1, FULL,  "")                         \
    X(sech2,    68, 1, FULL,  "")

#endif
