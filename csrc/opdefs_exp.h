/* opdefs_exp.h -- exponentials, logarithms, roots and the error function.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_EXP_H
#define PYAD_OPDEFS_EXP_H
#include <math.h>
#include <stddef.h>

/* ---- exponentials and logarithms ------------------------------------------- */

static inline double pyad_v_exp(double a) { return exp(a); }
#define PYAD_PARTIALS_exp(A, T, X, Y, PUT, n) PUT(0, Y)
#define PYAD_NOTE_exp "overflows to inf above 709.78"

static inline double pyad_v_expm1(double a) { return expm1(a); }
#define PYAD_PARTIALS_expm1(A, T, X, Y, PUT, n) PUT(0, A(exp, X(0)))
#define PYAD_NOTE_expm1 "exp(x) - 1, exact near 0"

static inline double pyad_v_log(double a) { return log(a); }
/* 1/(x + 0): x + 0 is x, but +0 for -0, so log'(-0) = log'(0) = +inf */
#define PYAD_PARTIALS_log(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(add, X(0), A(k, 0.0))))
#define PYAD_NOTE_log "log(0) = -inf (divide), log(x < 0) = nan (invalid); log'(0) = log'(-0) = +inf"

static inline double pyad_v_log1p(double a) { return log1p(a); }
#define PYAD_PARTIALS_log1p(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(add, A(k, 1.0), X(0))))
#define PYAD_NOTE_log1p "log(1 + x), exact near 0; log1p(-1) = -inf"

static inline double pyad_v_sqrt(double a) { return sqrt(a); }
/* 0.5 / (sqrt(x) + 0): +inf at 0 and at -0 (sqrt(-0) is -0; + 0 makes it +0) */
#define PYAD_PARTIALS_sqrt(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 0.5), A(add, Y, A(k, 0.0))))
#define PYAD_NOTE_sqrt "sqrt(x < 0) = nan (invalid); sqrt'(0) = sqrt'(-0) = +inf"

/* 1/(1+e^-a), in a form where exp never overflows: for a > 40, e^-a <
 * 2^-57 and the value rounds to exactly 1 (returned without computing the
 * exp, whose underflow for a > 708 is not the value's). */
static inline double pyad_v_sigmoid(double a)
{
    if (isgreater(a, 40.0))
        return 1.0;
    if (isgreaterequal(a, 0.0))
        return 1.0 / (1.0 + exp(-a));
    double e = exp(a);          /* a < 0, or nan (propagates) */
    return e / (1.0 + e);
}
/* s(x) s(-x): exact in both tails, unlike y (1 - y) */
#define PYAD_PARTIALS_sigmoid(A, T, X, Y, PUT, n) \
    PUT(0, A(mul, Y, A(sigmoid, A(neg, X(0)))))
#define PYAD_NOTE_sigmoid "1/(1+exp(-x)), never overflows; exact tails"

/* log(1+e^a) = max(a, 0) + log1p(e^-|a|); for a > 40 the log1p term is
 * below half an ulp of a and the value is a itself. */
static inline double pyad_v_softplus(double a)
{
    if (a != a)
        return a;
    if (a > 40.0)
        return a;
    return (a > 0.0 ? a : 0.0) + log1p(exp(-fabs(a)));
}
#define PYAD_PARTIALS_softplus(A, T, X, Y, PUT, n) PUT(0, A(sigmoid, X(0)))
#define PYAD_NOTE_softplus "log(1+exp(x)), never overflows; softplus' = sigmoid"

#endif
