/* opdefs_arith.h -- arithmetic, powers, remainders and signs.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_ARITH_H
#define PYAD_OPDEFS_ARITH_H
#include <float.h>
#include <math.h>
#include <stddef.h>

/* ---- arithmetic ---------------------------------------------------------- */

PYAD_OP_INLINE double pyad_v_add(double a, double b) { return a + b; }
#define PYAD_PARTIALS_add(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 1.0)); PUT(1, A(k, 1.0))
#define PYAD_NOTE_add "IEEE addition"

PYAD_OP_INLINE double pyad_v_sub(double a, double b) { return a - b; }
#define PYAD_PARTIALS_sub(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 1.0)); PUT(1, A(k, -1.0))
#define PYAD_NOTE_sub "IEEE subtraction"

PYAD_OP_INLINE double pyad_v_mul(double a, double b) { return a * b; }
#define PYAD_PARTIALS_mul(A, T, X, Y, PUT, n) \
    PUT(0, X(1)); PUT(1, X(0))
#define PYAD_NOTE_mul "IEEE multiplication"

PYAD_OP_INLINE double pyad_v_div(double a, double b) { return a / b; }
/* d/db a/b = -a/b^2, written -(a/b)/b from the value */
#define PYAD_PARTIALS_div(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), X(1))); PUT(1, A(div, A(neg, Y), X(1)))
#define PYAD_NOTE_div "IEEE division: 1/0 = inf, 0/0 = nan"

PYAD_OP_INLINE double pyad_v_pow(double a, double b) { return pow(a, b); }
/* d/da a**k = k a**(k-1), but 0 where k == 0 (not 0 * inf at a == 0);
 * d/dk a**k = a**k log(a): 0 where a == 0, nan where a < 0 (log's nan).
 * where(|c|, f, |c| * 0) is "f, or +0 where c == ±0", and nan for a nan c.
 * a**(k-1) is y / a wherever y is a normal number: k - 1 is rounded (k =
 * -31.9 loses a bit), and pow(a, k - 1) turns that into an error of
 * log(a) ulp(k), 1e-14 and worse for large k. Elsewhere (y zero, tiny or
 * infinite: a**(k-1) may not be) it is pow(a, k - 1). The division is by
 * a, or 1 at a == 0, so that the branch not taken stays finite and its
 * tangent (second order) does not turn into nan. */
#define PYAD_PARTIALS_pow(A, T, X, Y, PUT, n)                                 \
    do {                                                                      \
        T ak_ = A(abs, X(1)), aa_ = A(abs, X(0)), ay_ = A(abs, Y);            \
        T normal_ = A(mul, A(ge, ay_, A(k, DBL_MIN)), A(lt, ay_, A(k, INFINITY))); \
        T pk1_ = A(where, normal_, A(div, Y, A(where, aa_, X(0), A(k, 1.0))), \
                   A(pow, X(0), A(sub, X(1), A(k, 1.0))));                    \
        PUT(0, A(where, ak_, A(mul, X(1), pk1_), A(mul, ak_, A(k, 0.0))));    \
        PUT(1, A(where, aa_, A(mul, Y, A(log, X(0))), A(mul, aa_, A(k, 0.0)))); \
    } while (0)
#define PYAD_NOTE_pow \
    "value as C pow; d/dx x**k = k x**k / x (k x**(k-1) where x**k is 0, tiny or inf), " \
    "0 when k == 0; d/dk a**k = 0 where a == 0, nan where a < 0"

PYAD_OP_INLINE double pyad_v_neg(double a) { return -a; }
#define PYAD_PARTIALS_neg(A, T, X, Y, PUT, n) PUT(0, A(k, -1.0))
#define PYAD_NOTE_neg "-x (flips the sign bit: -(0.0) = -0.0); gradient -1"

PYAD_OP_INLINE double pyad_v_pos(double a) { return a; }
#define PYAD_PARTIALS_pos(A, T, X, Y, PUT, n) PUT(0, A(k, 1.0))
#define PYAD_NOTE_pos "the identity, as a new node (used to cut a graph for nested transforms)"

PYAD_OP_INLINE double pyad_v_square(double a) { return a * a; }
#define PYAD_PARTIALS_square(A, T, X, Y, PUT, n) PUT(0, A(mul, A(k, 2.0), X(0)))
#define PYAD_NOTE_square "x * x"

/* fma(a, b, c) = a * b + c with one rounding (C99 fma). Used by erf's
 * partials to split x*x exactly. */
PYAD_OP_INLINE double pyad_v_fma(double a, double b, double c) { return fma(a, b, c); }
#define PYAD_PARTIALS_fma(A, T, X, Y, PUT, n) \
    PUT(0, X(1)); PUT(1, X(0)); PUT(2, A(k, 1.0))
#define PYAD_NOTE_fma "a * b + c rounded once (C fma); flags of the exact result only"

/* ---- remainders and signs -------------------------------------------------- */

/* The quotient n of a remainder r = a - n b (fmod: n = trunc(a/b); mod:
 * n = floor(a/b)), from the value: (a - r) / b is n up to rounding (and
 * exactly n whenever n b is a double), and n is an integer, so the nearest
 * integer to it is n. Its partials are 0: d/db of a remainder is -n. */
#define PYAD_QUOTIENT_(A, X, Y) \
    A(floor, A(add, A(div, A(sub, X(0), Y), X(1)), A(k, 0.5)))

PYAD_OP_INLINE double pyad_v_fmod(double a, double b) { return fmod(a, b); }
#define PYAD_PARTIALS_fmod(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 1.0)); PUT(1, A(neg, PYAD_QUOTIENT_(A, X, Y)))
#define PYAD_NOTE_fmod                                                          \
    "C fmod: a - trunc(a/b) b, exact, with the sign of a; fmod(a, 0) and "      \
    "fmod(inf, b) = nan (invalid); d/da = 1, d/db = -trunc(a/b) (piecewise "    \
    "linear: second partials 0)"

/* Python's a % b for floats: the remainder takes the sign of the divisor
 * (fmod's, moved by one b when the signs differ; a zero gets b's sign).
 * Quiet comparisons: a nan raises no invalid flag. */
PYAD_OP_INLINE double pyad_v_mod(double a, double b)
{
    double r = fmod(a, b);
    if (r == 0.0)
        return copysign(0.0, b);
    if (isless(r, 0.0) != isless(b, 0.0))
        r += b;             /* |r + b| < |b|: never overflows; exact if tiny */
    return r;
}
#define PYAD_PARTIALS_mod(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 1.0)); PUT(1, A(neg, PYAD_QUOTIENT_(A, X, Y)))
#define PYAD_NOTE_mod                                                           \
    "Python's a % b: a - floor(a/b) b with the sign of b (-1.0 % 3.0 = 2.0); "  \
    "a % 0 = nan (invalid) where Python raises; a % inf = a for a, b of the "   \
    "same sign, else inf with b's sign; d/da = 1, d/db = -floor(a/b)"

/* Python's a // b for floats: floor of the exact quotient. The quotient is
 * (a - fmod(a, b)) / b, an integer up to rounding, moved down by one when
 * the remainder and b differ in sign, then rounded to the nearest integer.
 * b == 0 and nan operands give a / b (numpy's values: 1 // 0 = inf,
 * 0 // 0 = nan). A zero quotient is -0.0 when a and b differ in sign
 * (taken from the sign bits: a / b itself may underflow). */
PYAD_OP_INLINE double pyad_v_floordiv(double a, double b)
{
    double r, q, f;
    if (b == 0.0 || a != a || b != b)
        return a / b;
    r = fmod(a, b);          /* exact; nan (invalid) for an infinite a */
    q = (a - r) / b;
    if (r != 0.0 && isless(r, 0.0) != isless(b, 0.0))
        q -= 1.0;
    if (q == 0.0)
        return signbit(a) != signbit(b) ? -0.0 : 0.0;
    if (isinf(q))            /* the quotient overflowed: inf - inf below */
        return q;
    f = floor(q);
    return isgreater(q - f, 0.5) ? f + 1.0 : f;
}
#define PYAD_PARTIALS_floordiv(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 0.0)); PUT(1, A(k, 0.0))
#define PYAD_NOTE_floordiv                                                     \
    "Python's a // b: floor(a/b) of the exact quotient (-7.0 // 2.0 = -4.0; "  \
    "-5.0 // inf = -1.0); a // 0 = a/0 (+-inf, divide; 0 // 0 = nan) where "   \
    "Python raises; gradient 0 (piecewise constant)"

/* copysign(a, b) = |a| with the sign bit of b (so b = -0.0 counts as
 * negative), but nan for a nan b: a nan's sign bit is whatever the CPU or
 * the C library left there (log(-1) is -nan on x86), not a sign, and
 * numpy's answer (+-|a| from that bit) would differ between platforms.
 * d/da = sign(a) sgn(b): 0 at a = 0, as abs'(0); nan for a nan b. */
PYAD_OP_INLINE double pyad_v_copysign(double a, double b)
{
    return b != b ? b : copysign(a, b);
}
#define PYAD_PARTIALS_copysign(A, T, X, Y, PUT, n)                      \
    PUT(0, A(mul, A(sign, X(0)), A(copysign, A(k, 1.0), X(1))));        \
    PUT(1, A(k, 0.0))
#define PYAD_NOTE_copysign                                                     \
    "|a| with the sign bit of b (C copysign; b = -0.0 counts as negative), "   \
    "but nan for a nan b (numpy reads the nan's sign bit); "                    \
    "d/da = sign(a) * copysign(1, b), 0 at a = 0; d/db = 0"

#endif
