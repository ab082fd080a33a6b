/* opdefs_exp.h -- exponentials, logarithms, roots and the error function.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_EXP_H
#define PYAD_OPDEFS_EXP_H
#include <math.h>
#include <stddef.h>

#include "kernels.h"

/* ---- exponentials and logarithms ------------------------------------------- */

PYAD_OP_INLINE double pyad_v_exp(double a) { return pyad_k_exp(a); }
#define PYAD_PARTIALS_exp(A, T, X, Y, PUT, n) PUT(0, Y)
#define PYAD_NOTE_exp "overflows to inf above 709.78"

PYAD_OP_INLINE double pyad_v_expm1(double a) { return pyad_k_expm1(a); }
#define PYAD_PARTIALS_expm1(A, T, X, Y, PUT, n) PUT(0, A(exp, X(0)))
#define PYAD_NOTE_expm1 "exp(x) - 1, exact near 0"

PYAD_OP_INLINE double pyad_v_log(double a) { return pyad_k_log(a); }
/* 1/(x + 0): x + 0 is x, but +0 for -0, so log'(-0) = log'(0) = +inf */
#define PYAD_PARTIALS_log(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(add, X(0), A(k, 0.0))))
#define PYAD_NOTE_log "log(0) = -inf (divide), log(x < 0) = nan (invalid); log'(0) = log'(-0) = +inf"

PYAD_OP_INLINE double pyad_v_log1p(double a) { return pyad_k_log1p(a); }
#define PYAD_PARTIALS_log1p(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(add, A(k, 1.0), X(0))))
#define PYAD_NOTE_log1p "log(1 + x), exact near 0; log1p(-1) = -inf"

PYAD_OP_INLINE double pyad_v_sqrt(double a) { return sqrt(a); }
/* 0.5 / (sqrt(x) + 0): +inf at 0 and at -0 (sqrt(-0) is -0; + 0 makes it +0) */
#define PYAD_PARTIALS_sqrt(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 0.5), A(add, Y, A(k, 0.0))))
#define PYAD_NOTE_sqrt "sqrt(x < 0) = nan (invalid); sqrt'(0) = sqrt'(-0) = +inf"

/* Constants, rounded to nearest (C11 has no M_LN2): */
#define PYAD_LN2_ 0.6931471805599453094         /* log(2) */
#define PYAD_LOG2E_ 1.4426950408889634074       /* 1/log(2) */
#define PYAD_LOG10E_ 0.43429448190325182765     /* 1/log(10) */
#define PYAD_2_SQRTPI_ 1.1283791670955125739    /* 2/sqrt(pi) */

PYAD_OP_INLINE double pyad_v_exp2(double a) { return exp2(a); }
#define PYAD_PARTIALS_exp2(A, T, X, Y, PUT, n) PUT(0, A(mul, Y, A(k, PYAD_LN2_)))
#define PYAD_NOTE_exp2 "2**x (C exp2, exact at integers); overflows to inf from 1024; exp2' = exp2 * log(2)"

/* log2' = (1/log 2)/x and log10' = (1/log 10)/x: one division, no product
 * that could overflow; + 0 as in log' (so +inf at -0 too). */
PYAD_OP_INLINE double pyad_v_log2(double a) { return log2(a); }
#define PYAD_PARTIALS_log2(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, PYAD_LOG2E_), A(add, X(0), A(k, 0.0))))
#define PYAD_NOTE_log2 "C log2 (exact at powers of 2); log2(0) = -inf (divide), log2(x < 0) = nan (invalid); log2'(0) = +inf"

PYAD_OP_INLINE double pyad_v_log10(double a) { return log10(a); }
#define PYAD_PARTIALS_log10(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, PYAD_LOG10E_), A(add, X(0), A(k, 0.0))))
#define PYAD_NOTE_log10 "C log10; log10(0) = -inf (divide), log10(x < 0) = nan (invalid); log10'(0) = +inf"

/* cbrt' = 1/(3 y^2): y^2 never overflows nor underflows (|y| is within
 * 1e-108 .. 6e102); +inf at 0 and at -0 (y^2 is +0). */
PYAD_OP_INLINE double pyad_v_cbrt(double a) { return cbrt(a); }
#define PYAD_PARTIALS_cbrt(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(mul, A(k, 3.0), A(square, Y))))
#define PYAD_NOTE_cbrt "real cube root, defined for x < 0 (cbrt(-8) = -2); cbrt'(0) = +inf"

/* erf' = -erfc' = 2/sqrt(pi) exp(-x^2). exp(-x*x) is off by up to x^2
 * ulps in the tails (the rounding of x*x, times x^2); here x^2 = p + e
 * exactly (p = x*x rounded, e = fma(x, x, -p) its rounding error) and
 * exp(-x^2) = exp(-p) (1 - e) to full precision (|e| < 1e-13). |x| is
 * capped at 1e150, where the result is 0 either way, so that x*x stays
 * finite (fma(x, x, -inf) would be nan). Every step is smooth, so the
 * formula's own derivative (second order) is accurate too. */
#define PYAD_GAUSS_(A, T, x, out)                                              \
    do {                                                                       \
        T ax_ = A(minimum, A(abs, x), A(k, 1e150));                            \
        T p_ = A(mul, ax_, ax_);                                               \
        T e_ = A(fma, ax_, ax_, A(neg, p_));                                   \
        (out) = A(mul, A(k, PYAD_2_SQRTPI_),                                   \
                  A(mul, A(exp, A(neg, p_)), A(sub, A(k, 1.0), e_)));          \
    } while (0)

PYAD_OP_INLINE double pyad_v_erf(double a) { return erf(a); }
#define PYAD_PARTIALS_erf(A, T, X, Y, PUT, n) \
    do { T g_; PYAD_GAUSS_(A, T, X(0), g_); PUT(0, g_); } while (0)
#define PYAD_NOTE_erf "C erf; erf(±inf) = ±1; erf' = 2/sqrt(pi) exp(-x^2), accurate in the tails (0 from |x| > 27.3)"

PYAD_OP_INLINE double pyad_v_erfc(double a) { return erfc(a); }
#define PYAD_PARTIALS_erfc(A, T, X, Y, PUT, n) \
    do { T g_; PYAD_GAUSS_(A, T, X(0), g_); PUT(0, A(neg, g_)); } while (0)
#define PYAD_NOTE_erfc "1 - erf(x) without cancellation (C erfc), underflows to 0 above 27.2; erfc' = -erf'"

/* a > 40, as a mask (not for a nan): positive, and |a|'s bits above 40's. */
PYAD_OP_INLINE pyad_vm_mask pyad_above40_(double a)
{
    return pyad_vm_uin(pyad_vm_bits(a) & PYAD_VM_ABS, 0x4044000000000001ull,
                       PYAD_VM_INF + 1) & ~pyad_vm_signbit(a);
}

/* exp(-|a|), with -|a| clamped to -40 for a > 40 (sigmoid and softplus):
 * the same function in both, so that softplus and its partial (sigmoid)
 * evaluated together compute it once. A nan propagates.
 *
 * In a branch-free loop over points (PYAD_LANES) it is inlined and the
 * compiler shares the expression. One point at a time, exp is a branch
 * (the point kernel's common path or its full kernel) and gcc computed
 * it twice, so there it is a const function: a call with the same
 * argument is computed once (a second exp had tripled the cost of a
 * softplus' partials and sweep in point replay: ~27 ns, now ~8). */
#if defined(PYAD_LANES) || !defined(__GNUC__)
#define PYAD_EXP_NEG_ABS_ATTR PYAD_OP_INLINE
#else
#define PYAD_EXP_NEG_ABS_ATTR static __attribute__((const, noinline, unused))
#endif
PYAD_EXP_NEG_ABS_ATTR double pyad_exp_neg_abs_(double a)
{
    return pyad_k_exp(pyad_vm_sel(pyad_above40_(a), -40.0, -fabs(a)));
}

/* 1/(1+e^-a), in a form where exp never overflows: for a > 40, e^-a <
 * 2^-57 and the value rounds to exactly 1 (returned without computing the
 * exp, whose underflow for a > 708 is not the value's). */
PYAD_OP_INLINE double pyad_v_sigmoid(double a)
{
    /* Masks and selects (vmath.h), no branch and no call, so that batches
     * vectorise (with `c ? x : y` gcc kept these loops scalar): one exp of
     * -|a| serves both signs; a >= 0 includes -0. */
    double e = pyad_exp_neg_abs_(a);
    pyad_vm_mask pos = ~pyad_vm_signbit(a) | pyad_vm_ueq(pyad_vm_bits(a), PYAD_VM_SIGN);
    return pyad_vm_sel(pos, 1.0, e) / (1.0 + e);
}
/* s(x) s(-x): exact in both tails, unlike y (1 - y) */
#define PYAD_PARTIALS_sigmoid(A, T, X, Y, PUT, n) \
    PUT(0, A(mul, Y, A(sigmoid, A(neg, X(0)))))
#define PYAD_NOTE_sigmoid "1/(1+exp(-x)), never overflows; exact tails"

/* log(1+e^a) = max(a, 0) + log1p(e^-|a|); for a > 40 the log1p term is
 * below half an ulp of a and the value is a itself. */
PYAD_OP_INLINE double pyad_v_softplus(double a)
{
    /* masks and selects, as sigmoid; a nan propagates through exp */
    pyad_vm_mask big = pyad_above40_(a);
    double t = pyad_k_log1p(pyad_exp_neg_abs_(a)) * pyad_vm_sel(big, 0.0, 1.0);
    pyad_vm_mask positive = ~pyad_vm_signbit(a) & ~pyad_vm_ueq(pyad_vm_bits(a), 0);
    return pyad_vm_sel(positive, a, 0.0) + t;
}
#define PYAD_PARTIALS_softplus(A, T, X, Y, PUT, n) PUT(0, A(sigmoid, X(0)))
#define PYAD_NOTE_softplus "log(1+exp(x)), never overflows; softplus' = sigmoid"

#endif
