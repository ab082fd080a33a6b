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

static inline double pyad_v_abs(double a) { return fabs(a); }
#define PYAD_PARTIALS_abs(A, T, X, Y, PUT, n) PUT(0, A(sign, X(0)))
#define PYAD_NOTE_abs "abs'(0) = 0 (sign(x))"

/* numpy's sign: sign(-0.0) is 0.0, sign(nan) is nan. Quiet comparisons:
 * a nan operand raises no invalid flag. */
static inline double pyad_v_sign(double a)
{
    return isgreater(a, 0.0) ? 1.0 : isless(a, 0.0) ? -1.0 : a == a ? 0.0 : a;
}
#define PYAD_PARTIALS_sign(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0))
#define PYAD_NOTE_sign "values as numpy (sign(-0.0) = 0.0, sign(nan) = nan); gradient 0"

static inline double pyad_v_relu(double a)
{
    return isgreater(a, 0.0) ? a : islessequal(a, 0.0) ? 0.0 : a;
}
/* sign(relu(x)): 1 for x > 0, 0 for x <= 0, nan for nan */
#define PYAD_PARTIALS_relu(A, T, X, Y, PUT, n) PUT(0, A(sign, Y))
#define PYAD_NOTE_relu "relu(-0.0) = 0.0; relu'(0) = 0; relu(nan) = nan"

/* ---- comparisons and select (branch-free code: pyad.where) -----------------
 * A comparison gives 1.0 or 0.0 (0.0 when either operand is nan), with
 * quiet comparisons (a nan raises no invalid flag), and has zero partials:
 * it is piecewise constant. where(c, a, b) is a where c > 0 else b (so a nan
 * condition selects b); the gradient goes to the selected operand. */
static inline double pyad_v_lt(double a, double b) { return isless(a, b) ? 1.0 : 0.0; }
static inline double pyad_v_le(double a, double b) { return islessequal(a, b) ? 1.0 : 0.0; }
static inline double pyad_v_gt(double a, double b) { return isgreater(a, b) ? 1.0 : 0.0; }
static inline double pyad_v_ge(double a, double b) { return isgreaterequal(a, b) ? 1.0 : 0.0; }
#define PYAD_PARTIALS_CMP_(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0)); PUT(1, A(k, 0.0))
#define PYAD_PARTIALS_lt PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_le PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_gt PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_ge PYAD_PARTIALS_CMP_
#define PYAD_NOTE_lt "1.0 if a < b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_le "1.0 if a <= b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_gt "1.0 if a > b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_ge "1.0 if a >= b else 0.0 (0.0 with a nan); gradient 0"

static inline double pyad_v_where(double c, double a, double b)
{
    return isgreater(c, 0.0) ? a : b;
}
#define PYAD_PARTIALS_where(A, T, X, Y, PUT, n)      \
    PUT(0, A(k, 0.0));                               \
    PUT(1, A(where, X(0), A(k, 1.0), A(k, 0.0)));    \
    PUT(2, A(where, X(0), A(k, 0.0), A(k, 1.0)))
#define PYAD_NOTE_where "a where cond > 0 else b (a nan cond selects b); gradient to the selected operand"

#endif
