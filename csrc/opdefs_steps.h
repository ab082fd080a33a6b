/* opdefs_steps.h -- kinks, steps, comparisons and selection.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_STEPS_H
#define PYAD_OPDEFS_STEPS_H
#include <math.h>
#include <stddef.h>

/* ---- kinks and steps ------------------------------------------------------ */

PYAD_OP_INLINE double pyad_v_abs(double a) { return fabs(a); }
#define PYAD_PARTIALS_abs(A, T, X, Y, PUT, n) PUT(0, A(sign, X(0)))
#define PYAD_NOTE_abs "abs'(0) = 0 (sign(x))"

/* numpy's sign: sign(-0.0) is 0.0, sign(nan) is nan. Quiet comparisons:
 * a nan operand raises no invalid flag. */
PYAD_OP_INLINE double pyad_v_sign(double a)
{
    return isgreater(a, 0.0) ? 1.0 : isless(a, 0.0) ? -1.0 : a == a ? 0.0 : a;
}
#define PYAD_PARTIALS_sign(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0))
#define PYAD_NOTE_sign "values as numpy (sign(-0.0) = 0.0, sign(nan) = nan); gradient 0"

PYAD_OP_INLINE double pyad_v_relu(double a)
{
    return isgreater(a, 0.0) ? a : islessequal(a, 0.0) ? 0.0 : a;
}
/* sign(relu(x)): 1 for x > 0, 0 for x <= 0, nan for nan */
#define PYAD_PARTIALS_relu(A, T, X, Y, PUT, n) PUT(0, A(sign, Y))
#define PYAD_NOTE_relu "relu(-0.0) = 0.0; relu'(0) = 0; relu(nan) = nan"

/* floor, ceil, trunc: C's (numpy's) values, -0.0 kept (floor(-0.5) is
 * -1.0, ceil(-0.5) is -0.0); gradient 0 everywhere, at the jumps too. */
PYAD_OP_INLINE double pyad_v_floor(double a) { return floor(a); }
PYAD_OP_INLINE double pyad_v_ceil(double a) { return ceil(a); }
PYAD_OP_INLINE double pyad_v_trunc(double a) { return trunc(a); }
#define PYAD_PARTIALS_floor(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0))
#define PYAD_PARTIALS_ceil(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0))
#define PYAD_PARTIALS_trunc(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0))
#define PYAD_NOTE_floor "values as numpy (C floor; -0.0 kept, nan and inf unchanged); gradient 0, also at the jumps"
#define PYAD_NOTE_ceil "values as numpy (C ceil; ceil(-0.5) = -0.0); gradient 0, also at the jumps"
#define PYAD_NOTE_trunc "values as numpy (C trunc; toward zero); gradient 0, also at the jumps"

/* ---- maximum, minimum, clip ----------------------------------------------
 * numpy's values: a nan operand gives nan, and on a tie the second operand
 * is returned (maximum(0.0, -0.0) is -0.0, as numpy's). The gradient goes
 * to the larger (smaller) operand; on a tie it is split 0.5 / 0.5, as JAX
 * and PyTorch do, so the two still add up to the derivative of the value
 * along a = b. A nan value gives nan partials (the 0 * sign(y) term, which
 * is 0 for every other value, infinities included). */
PYAD_OP_INLINE double pyad_v_maximum(double a, double b)
{
    return (isgreater(a, b) || a != a) ? a : b;
}
PYAD_OP_INLINE double pyad_v_minimum(double a, double b)
{
    return (isless(a, b) || a != a) ? a : b;
}
/* 0.5 (strictly + or-equal): 1 when strictly, 0.5 on a tie, else 0 */
#define PYAD_PICK_(A, strictly, or_equal, Y)                            \
    A(add, A(mul, A(k, 0.5), A(add, strictly, or_equal)),               \
      A(mul, A(k, 0.0), A(sign, Y)))
#define PYAD_PARTIALS_maximum(A, T, X, Y, PUT, n)                      \
    PUT(0, PYAD_PICK_(A, A(gt, X(0), X(1)), A(ge, X(0), X(1)), Y));    \
    PUT(1, PYAD_PICK_(A, A(lt, X(0), X(1)), A(le, X(0), X(1)), Y))
#define PYAD_PARTIALS_minimum(A, T, X, Y, PUT, n)                      \
    PUT(0, PYAD_PICK_(A, A(lt, X(0), X(1)), A(le, X(0), X(1)), Y));    \
    PUT(1, PYAD_PICK_(A, A(gt, X(0), X(1)), A(ge, X(0), X(1)), Y))
#define PYAD_NOTE_maximum                                                     \
    "numpy's values (nan if either is nan; a tie returns b); gradient to the " \
    "larger operand, split 0.5/0.5 on a tie (JAX, PyTorch); nan for a nan value"
#define PYAD_NOTE_minimum                                                     \
    "numpy's values (nan if either is nan; a tie returns b); gradient to the " \
    "smaller operand, split 0.5/0.5 on a tie (JAX, PyTorch); nan for a nan value"

/* clip(x, lo, hi): numpy's np.clip, min(max(x, lo), hi) with a nan in
 * any operand giving nan and lo > hi giving hi; on a tie it keeps x (so
 * clip(0.0, -0.0, 1.0) is 0.0, as numpy's, unlike maximum's tie). One
 * node, with PyTorch's clamp gradient: to x on the closed interval
 * lo <= x <= hi (so clip(x, 0, 1) at x = 1 passes the gradient), to lo
 * below it, to hi above it. */
PYAD_OP_INLINE double pyad_v_clip(double x, double lo, double hi)
{
    double m = (isgreaterequal(x, lo) || x != x) ? x : lo;
    return (islessequal(m, hi) || m != m) ? m : hi;
}
#define PYAD_PARTIALS_clip(A, T, X, Y, PUT, n)                                 \
    do {                                                                       \
        T in_ = A(le, A(maximum, X(0), X(1)), X(2)); /* not above hi */        \
        T nan_ = A(mul, A(k, 0.0), A(sign, Y));                                \
        PUT(0, A(add, A(mul, A(ge, X(0), X(1)), in_), nan_));                  \
        PUT(1, A(add, A(mul, A(lt, X(0), X(1)), in_), nan_));                  \
        PUT(2, A(add, A(sub, A(k, 1.0), in_), nan_));                          \
    } while (0)
#define PYAD_NOTE_clip                                                         \
    "min(max(x, lo), hi), numpy's np.clip (nan propagates; lo > hi gives hi; " \
    "a tie keeps x); gradient as PyTorch's clamp: to x for lo <= x <= hi "     \
    "(both ends included), to lo below, to hi above; nan for a nan value"

/* ---- comparisons and select (branch-free code: pyad.where) -----------------
 * A comparison gives 1.0 or 0.0 (0.0 when either operand is nan), with
 * quiet comparisons (a nan raises no invalid flag), and has zero partials:
 * it is piecewise constant. where(c, a, b) is a where c > 0 else b (so a nan
 * condition selects b); the gradient goes to the selected operand. */
PYAD_OP_INLINE double pyad_v_lt(double a, double b) { return isless(a, b) ? 1.0 : 0.0; }
PYAD_OP_INLINE double pyad_v_le(double a, double b) { return islessequal(a, b) ? 1.0 : 0.0; }
PYAD_OP_INLINE double pyad_v_gt(double a, double b) { return isgreater(a, b) ? 1.0 : 0.0; }
PYAD_OP_INLINE double pyad_v_ge(double a, double b) { return isgreaterequal(a, b) ? 1.0 : 0.0; }
#define PYAD_PARTIALS_CMP_(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0)); PUT(1, A(k, 0.0))
#define PYAD_PARTIALS_lt PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_le PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_gt PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_ge PYAD_PARTIALS_CMP_
#define PYAD_NOTE_lt "1.0 if a < b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_le "1.0 if a <= b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_gt "1.0 if a > b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_ge "1.0 if a >= b else 0.0 (0.0 with a nan); gradient 0"

PYAD_OP_INLINE double pyad_v_where(double c, double a, double b)
{
    return isgreater(c, 0.0) ? a : b;
}
#define PYAD_PARTIALS_where(A, T, X, Y, PUT, n)      \
    PUT(0, A(k, 0.0));                               \
    PUT(1, A(where, X(0), A(k, 1.0), A(k, 0.0)));    \
    PUT(2, A(where, X(0), A(k, 0.0), A(k, 1.0)))
#define PYAD_NOTE_where "a where cond > 0 else b (a nan cond selects b); gradient to the selected operand"

#endif
