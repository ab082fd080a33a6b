/* opdefs_trig.h -- trigonometric and hyperbolic functions.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_TRIG_H
#define PYAD_OPDEFS_TRIG_H
#include <math.h>
#include <stddef.h>

#include "kernels.h"

/* ---- circular ------------------------------------------------------------ */

PYAD_OP_INLINE double pyad_v_sin(double a) { return pyad_k_sin(a); }
#define PYAD_PARTIALS_sin(A, T, X, Y, PUT, n) PUT(0, A(cos, X(0)))
#define PYAD_NOTE_sin "sin(inf) = nan (invalid)"

PYAD_OP_INLINE double pyad_v_cos(double a) { return pyad_k_cos(a); }
#define PYAD_PARTIALS_cos(A, T, X, Y, PUT, n) PUT(0, A(neg, A(sin, X(0))))
#define PYAD_NOTE_cos "cos(inf) = nan (invalid)"

/* tan' = 1 + tan^2, from the value: as accurate as 1/cos^2 and one op
 * less. No double is a pole of tan, so the value is finite for finite x. */
PYAD_OP_INLINE double pyad_v_tan(double a) { return tan(a); }
#define PYAD_PARTIALS_tan(A, T, X, Y, PUT, n) PUT(0, A(add, A(k, 1.0), A(square, Y)))
#define PYAD_NOTE_tan "tan(±inf) = nan (invalid); finite at every finite double; tan' = 1 + tan^2"

/* asin' = -acos' = 1/sqrt((1-x)(1+x)): 1 - x is exact near 1, where
 * 1 - x*x would lose the digits that matter. +inf at x = ±1; nan outside
 * [-1, 1], where the product is negative. */
#define PYAD_ASIN_D_(A, x) \
    A(div, A(k, 1.0), A(sqrt, A(mul, A(sub, A(k, 1.0), x), A(add, A(k, 1.0), x))))
PYAD_OP_INLINE double pyad_v_asin(double a) { return asin(a); }
#define PYAD_PARTIALS_asin(A, T, X, Y, PUT, n) PUT(0, PYAD_ASIN_D_(A, X(0)))
#define PYAD_NOTE_asin "C asin; |x| > 1 gives nan (invalid); asin'(±1) = +inf (one-sided limit)"
PYAD_OP_INLINE double pyad_v_acos(double a) { return acos(a); }
#define PYAD_PARTIALS_acos(A, T, X, Y, PUT, n) PUT(0, A(neg, PYAD_ASIN_D_(A, X(0))))
#define PYAD_NOTE_acos "C acos; |x| > 1 gives nan (invalid); acos'(±1) = -inf (one-sided limit)"

/* atan' = 1/(1+x^2) = (1/hypot(1, x))^2: no x^2 to overflow, so the
 * derivative stays right (tiny, not 0) up to |x| ~ 1e154 and beyond. */
PYAD_OP_INLINE double pyad_v_atan(double a) { return atan(a); }
#define PYAD_PARTIALS_atan(A, T, X, Y, PUT, n) \
    PUT(0, A(square, A(div, A(k, 1.0), A(hypot, A(k, 1.0), X(0)))))
#define PYAD_NOTE_atan "C atan; atan(±inf) = ±pi/2 with derivative 0"

/* atan2(y, x), numpy's arctan2(x1, x2): the angle of the point (x, y).
 * d/dy = x/r^2 and d/dx = -y/r^2 with r = hypot(y, x), computed as (x/r)/r,
 * which neither overflows nor underflows where r^2 would. At the origin
 * both are 0 (a convention: atan2 jumps there; JAX and PyTorch give nan). */
PYAD_OP_INLINE double pyad_v_atan2(double y, double x) { return atan2(y, x); }
#define PYAD_PARTIALS_atan2(A, T, X, Y, PUT, n)                                \
    do {                                                                       \
        T r_ = A(hypot, X(0), X(1));                                           \
        T zero_ = A(mul, r_, A(k, 0.0)); /* 0, or nan for a nan r */           \
        PUT(0, A(where, r_, A(div, A(div, X(1), r_), r_), zero_));             \
        PUT(1, A(where, r_, A(div, A(div, A(neg, X(0)), r_), r_), zero_));     \
    } while (0)
#define PYAD_NOTE_atan2                                                         \
    "atan2(y, x) as C (numpy's arctan2): atan2(±0, +0) = ±0, atan2(±0, -0) = "  \
    "±pi, no flag; partials x/r^2, -y/r^2 (r = hypot), 0 at the origin "       \
    "(a convention; JAX and PyTorch give nan); nan at an infinite operand"

/* hypot(a, b) = sqrt(a^2 + b^2) without overflow or underflow (C hypot;
 * hypot(±inf, nan) = inf). Partials a/h, b/h; at the origin 0 (the
 * minimum-norm subgradient, as abs'(0) = 0). */
PYAD_OP_INLINE double pyad_v_hypot(double a, double b) { return hypot(a, b); }
#define PYAD_PARTIALS_hypot(A, T, X, Y, PUT, n)                                \
    do {                                                                       \
        T zero_ = A(mul, Y, A(k, 0.0)); /* 0, or nan for a nan value */        \
        PUT(0, A(where, Y, A(div, X(0), Y), zero_));                           \
        PUT(1, A(where, Y, A(div, X(1), Y), zero_));                           \
    } while (0)
#define PYAD_NOTE_hypot                                                         \
    "sqrt(a^2 + b^2) without overflow (C hypot; hypot(inf, nan) = inf); "       \
    "partials a/h, b/h, 0 at the origin (as abs'(0) = 0; second partials "     \
    "there are nan); nan at an infinite operand"

/* ---- hyperbolic ----------------------------------------------------------- */

PYAD_OP_INLINE double pyad_v_tanh(double a) { return pyad_k_tanh(a); }
/* tanh' = sech2, an op of its own: 1 - tanh^2 cancels to 0 in the tails,
 * and 1/cosh^2 costs a second exp where sech2 shares tanh's (vmath_hyp.h). */
#define PYAD_PARTIALS_tanh(A, T, X, Y, PUT, n) PUT(0, A(sech2, X(0)))
#define PYAD_NOTE_tanh "tanh' = sech2 = 1/cosh(x)^2, exact in the tails"

/* sech2 = 1/cosh^2: smooth and even; its |x| stays inside the kernel, so
 * every derivative is that of the formula below (tanh's derivatives of any
 * order go through it). */
PYAD_OP_INLINE double pyad_v_sech2(double a) { return pyad_k_sech2(a); }
#define PYAD_PARTIALS_sech2(A, T, X, Y, PUT, n) \
    PUT(0, A(mul, A(mul, A(k, -2.0), Y), A(tanh, X(0))))
#define PYAD_NOTE_sech2 "1/cosh(x)^2 = tanh'(x), a few ulp for every x (no cancellation in the tails); sech2' = -2 sech2 tanh"

PYAD_OP_INLINE double pyad_v_cosh(double a) { return pyad_k_cosh(a); }
#define PYAD_PARTIALS_cosh(A, T, X, Y, PUT, n) PUT(0, A(sinh, X(0)))
#define PYAD_NOTE_cosh "overflows to inf above 710.48"

PYAD_OP_INLINE double pyad_v_sinh(double a) { return pyad_k_sinh(a); }
#define PYAD_PARTIALS_sinh(A, T, X, Y, PUT, n) PUT(0, A(cosh, X(0)))
#define PYAD_NOTE_sinh "overflows to inf above 710.48"

/* asinh' = 1/hypot(1, x): 1/sqrt(1 + x^2) would be 0 once x^2 overflows
 * (|x| > 1.3e154), where the derivative is still ~1/|x|. */
PYAD_OP_INLINE double pyad_v_asinh(double a) { return asinh(a); }
#define PYAD_PARTIALS_asinh(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(hypot, A(k, 1.0), X(0))))
#define PYAD_NOTE_asinh "C asinh (exact near 0, no overflow); asinh' = 1/hypot(1, x)"

/* acosh' = 1/(sqrt(x-1) sqrt(x+1)): x - 1 is exact near 1, and neither
 * factor overflows. +inf at 1; nan below 1 (sqrt of a negative). */
PYAD_OP_INLINE double pyad_v_acosh(double a) { return acosh(a); }
#define PYAD_PARTIALS_acosh(A, T, X, Y, PUT, n)                                \
    PUT(0, A(div, A(k, 1.0), A(mul, A(sqrt, A(sub, X(0), A(k, 1.0))),           \
                                    A(sqrt, A(add, X(0), A(k, 1.0))))))
#define PYAD_NOTE_acosh "C acosh; x < 1 gives nan (invalid); acosh(1) = 0 with acosh'(1) = +inf (one-sided limit)"

/* atanh' = 1/((1-x)(1+x)), exact-ish near ±1 (1 - x is exact there); +inf
 * at ±1, nan outside [-1, 1] (where the product would turn negative). */
PYAD_OP_INLINE double pyad_v_atanh(double a) { return atanh(a); }
#define PYAD_PARTIALS_atanh(A, T, X, Y, PUT, n)                                \
    do {                                                                       \
        T q_ = A(mul, A(sub, A(k, 1.0), X(0)), A(add, A(k, 1.0), X(0)));       \
        PUT(0, A(where, A(ge, q_, A(k, 0.0)), A(div, A(k, 1.0), q_), A(k, NAN))); \
    } while (0)
#define PYAD_NOTE_atanh "C atanh; atanh(±1) = ±inf (divide), |x| > 1 gives nan (invalid); atanh'(±1) = +inf"

#endif
