/* opdefs_arith.h -- arithmetic, powers, remainders and signs.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_ARITH_H
#define PYAD_OPDEFS_ARITH_H
#include <math.h>
#include <stddef.h>

/* ---- arithmetic ---------------------------------------------------------- */

static inline double pyad_v_add(double a, double b) { return a + b; }
#define PYAD_PARTIALS_add(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 1.0)); PUT(1, A(k, 1.0))
#define PYAD_NOTE_add "IEEE addition"

static inline double pyad_v_sub(double a, double b) { return a - b; }
#define PYAD_PARTIALS_sub(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 1.0)); PUT(1, A(k, -1.0))
#define PYAD_NOTE_sub "IEEE subtraction"

static inline double pyad_v_mul(double a, double b) { return a * b; }
#define PYAD_PARTIALS_mul(A, T, X, Y, PUT, n) \
    PUT(0, X(1)); PUT(1, X(0))
#define PYAD_NOTE_mul "IEEE multiplication"

static inline double pyad_v_div(double a, double b) { return a / b; }
/* d/db a/b = -a/b^2, written -(a/b)/b from the value */
#define PYAD_PARTIALS_div(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), X(1))); PUT(1, A(div, A(neg, Y), X(1)))
#define PYAD_NOTE_div "IEEE division: 1/0 = inf, 0/0 = nan"

static inline double pyad_v_pow(double a, double b) { return pow(a, b); }
/* d/da a**k = k a**(k-1), but 0 where k == 0 (not 0 * inf at a == 0);
 * d/dk a**k = a**k log(a): 0 where a == 0, nan where a < 0 (log's nan).
 * where(|c|, f, |c| * 0) is "f, or +0 where c == ±0", and nan for a nan c. */
#define PYAD_PARTIALS_pow(A, T, X, Y, PUT, n)                                 \
    do {                                                                      \
        T ak_ = A(abs, X(1)), aa_ = A(abs, X(0));                             \
        PUT(0, A(where, ak_,                                                  \
                 A(mul, X(1), A(pow, X(0), A(sub, X(1), A(k, 1.0)))),         \
                 A(mul, ak_, A(k, 0.0))));                                    \
        PUT(1, A(where, aa_, A(mul, Y, A(log, X(0))), A(mul, aa_, A(k, 0.0)))); \
    } while (0)
#define PYAD_NOTE_pow \
    "value as C pow; d/dx x**k = 0 when k == 0; d/dk a**k = 0 where a == 0, nan where a < 0"

static inline double pyad_v_neg(double a) { return -a; }
#define PYAD_PARTIALS_neg(A, T, X, Y, PUT, n) PUT(0, A(k, -1.0))
#define PYAD_NOTE_neg "-x"

static inline double pyad_v_pos(double a) { return a; }
#define PYAD_PARTIALS_pos(A, T, X, Y, PUT, n) PUT(0, A(k, 1.0))
#define PYAD_NOTE_pos "the identity, as a new node (used to cut a graph for nested transforms)"

static inline double pyad_v_square(double a) { return a * a; }
#define PYAD_PARTIALS_square(A, T, X, Y, PUT, n) PUT(0, A(mul, A(k, 2.0), X(0)))
#define PYAD_NOTE_square "x * x"

#endif
