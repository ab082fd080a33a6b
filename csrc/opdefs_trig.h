/* opdefs_trig.h -- trigonometric and hyperbolic functions.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_TRIG_H
#define PYAD_OPDEFS_TRIG_H
#include <math.h>
#include <stddef.h>

/* ---- trigonometric and hyperbolic ------------------------------------------ */

static inline double pyad_v_sin(double a) { return sin(a); }
#define PYAD_PARTIALS_sin(A, T, X, Y, PUT, n) PUT(0, A(cos, X(0)))
#define PYAD_NOTE_sin "sin(inf) = nan (invalid)"

static inline double pyad_v_cos(double a) { return cos(a); }
#define PYAD_PARTIALS_cos(A, T, X, Y, PUT, n) PUT(0, A(neg, A(sin, X(0))))
#define PYAD_NOTE_cos "cos(inf) = nan (invalid)"

static inline double pyad_v_tanh(double a) { return tanh(a); }
/* 1/cosh^2 rather than 1 - tanh^2, which cancels to 0 in the tails */
#define PYAD_PARTIALS_tanh(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(square, A(cosh, X(0)))))
#define PYAD_NOTE_tanh "tanh' = 1/cosh(x)^2, exact in the tails"

static inline double pyad_v_cosh(double a) { return cosh(a); }
#define PYAD_PARTIALS_cosh(A, T, X, Y, PUT, n) PUT(0, A(sinh, X(0)))
#define PYAD_NOTE_cosh "overflows to inf above 710.48"

static inline double pyad_v_sinh(double a) { return sinh(a); }
#define PYAD_PARTIALS_sinh(A, T, X, Y, PUT, n) PUT(0, A(cosh, X(0)))
#define PYAD_NOTE_sinh "overflows to inf above 710.48"

#endif
