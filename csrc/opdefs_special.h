/* opdefs_special.h -- special functions for likelihoods: log-gamma and its
 * derivatives, log-sum-exp, x log y, and the normal distribution.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only. The
 * values are the kernels of special.c; every derivative chain closes in
 * the registry: lgamma' = digamma, digamma' = polygamma(1, .), polygamma(n,
 * .)' = polygamma(n + 1, .); log_ndtr' = dlog_ndtr, whose derivative is
 * written with itself; ndtri' and erfinv' with their own value.
 */
#ifndef PYAD_OPDEFS_SPECIAL_H
#define PYAD_OPDEFS_SPECIAL_H
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stddef.h>

#include "kernels.h"
#include "special.h"

/* ---- log-gamma and its derivatives ------------------------------------------- */

PYAD_OP_INLINE double pyad_v_lgamma(double a) { return pyad_sp_lgamma(a); }
#define PYAD_PARTIALS_lgamma(A, T, X, Y, PUT, n) PUT(0, A(digamma, X(0)))
#define PYAD_NOTE_lgamma \
    "log|Gamma(x)| (math.lgamma); +inf at the poles 0, -1, -2, ... (divide); lgamma' = digamma"

PYAD_OP_INLINE double pyad_v_digamma(double a) { return pyad_sp_digamma(a); }
#define PYAD_PARTIALS_digamma(A, T, X, Y, PUT, n) PUT(0, A(polygamma, A(k, 1.0), X(0)))
#define PYAD_NOTE_digamma                                                              \
    "psi(x) = Gamma'/Gamma; digamma(+-0) = -+inf (divide), nan at -1, -2, ... (invalid); " \
    "digamma' = polygamma(1, x)"

PYAD_OP_INLINE double pyad_v_polygamma(double a, double b) { return pyad_sp_polygamma(a, b); }
#define PYAD_PARTIALS_polygamma(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 0.0));                              \
    PUT(1, A(polygamma, A(add, X(0), A(k, 1.0)), X(1)))
#define PYAD_NOTE_polygamma                                                              \
    "polygamma(n, x) = psi^(n)(x) for an integer n >= 0 (nan, invalid, otherwise; n <= 170); " \
    "at the poles the one-sided limit at +-0, +inf or nan at -1, -2, ...; gradient 0 in n"

/* ---- log-sum-exp ------------------------------------------------------------------ */

/* d = a - b as hi + lo (TwoSum: lo exact), lo 0 where hi is not finite */
#define PYAD_TWODIFF_(A, T, a, b, hi, lo)                                      \
    do {                                                                       \
        T bb_;                                                                 \
        (hi) = A(sub, a, b);                                                   \
        bb_ = A(sub, hi, a);                                                   \
        (lo) = A(add, A(sub, a, A(sub, hi, bb_)), A(sub, A(neg, b), bb_));     \
        (lo) = A(where, A(lt, A(abs, hi), A(k, 1e300)), lo, A(k, 0.0));        \
    } while (0)

/* m + log1p(sum over the others of exp(x_i - m)), m the first maximum: one
 * node, never overflowing. Terms below m - 746 are 0 and skipped (x_i - m
 * could overflow); a term that underflows may raise a flag the value does
 * not show, which is put back (as dot does). */
#define PYAD_VALUE_logsumexp(X, n, out)                                         \
    do {                                                                        \
        size_t j_ = 0;                                                          \
        double m_ = X(0), s_ = 0.0;                                             \
        int saved_ = 0;                                                         \
        fexcept_t under_;                                                       \
        for (size_t i_ = 1; i_ < (n); i_++) {                                   \
            double v_ = X(i_);                                                  \
            if (isgreater(v_, m_) || (v_ != v_ && m_ == m_)) {                  \
                m_ = v_;                                                        \
                j_ = i_;                                                        \
            }                                                                   \
        }                                                                       \
        if (isfinite(m_)) {                                                     \
            for (size_t i_ = 0; i_ < (n); i_++) {                               \
                double v_ = X(i_);                                              \
                if (i_ == j_ || !isgreaterequal(v_, m_ - 746.0))                \
                    continue;                                                   \
                if (isless(v_ - m_, -708.0) && !saved_)                         \
                    saved_ = !fegetexceptflag(&under_, FE_UNDERFLOW);           \
                s_ += pyad_k_exp(v_ - m_);                                      \
            }                                                                   \
            m_ = m_ + pyad_k_log1p(s_);                                         \
            if (saved_ && !islessequal(fabs(m_), DBL_MIN))                      \
                fesetexceptflag(&under_, FE_UNDERFLOW);                         \
        }                                                                       \
        (out) = m_;                                                             \
    } while (0)
/* The softmax exp(x_i - m) / sum_j exp(x_j - m), each x_i - m as two
 * doubles (exp(hi + lo) = exp(hi)(1 + lo)): exact to a few ulp even where
 * x_i - m is large, which exp(x_i - y) is not. */
#define PYAD_LSE_TERM_(A, T, xi, m, out)                                        \
    do {                                                                        \
        T hi_, lo_;                                                             \
        PYAD_TWODIFF_(A, T, xi, m, hi_, lo_);                                   \
        (out) = A(mul, A(exp, hi_), A(add, A(k, 1.0), lo_));                    \
    } while (0)
#define PYAD_PARTIALS_logsumexp(A, T, X, Y, PUT, n)                             \
    do {                                                                        \
        T m_ = X(0), s_ = A(k, 0.0), e_;                                        \
        for (size_t i_ = 1; i_ < (n); i_++)                                     \
            m_ = A(maximum, m_, X(i_));                                         \
        for (size_t i_ = 0; i_ < (n); i_++) {                                   \
            PYAD_LSE_TERM_(A, T, X(i_), m_, e_);                                \
            s_ = A(add, s_, e_);                                                \
        }                                                                       \
        for (size_t i_ = 0; i_ < (n); i_++) {                                   \
            PYAD_LSE_TERM_(A, T, X(i_), m_, e_);                                \
            PUT(i_, A(div, e_, s_));                                            \
        }                                                                       \
    } while (0)
#define PYAD_NOTE_logsumexp                                                       \
    "log(sum(exp(x_i))) shifted by the maximum: never overflows "                 \
    "(logsumexp([1000, 1000]) = 1000 + log 2); gradient the softmax; nan gradient " \
    "when an operand is +inf"

PYAD_OP_INLINE double pyad_v_logaddexp(double a, double b) { return pyad_sp_logaddexp(a, b); }
/* sigmoid(a - b) with a - b as two doubles (sigmoid(hi + lo) = s(1 + s(-hi) lo)) */
#define PYAD_PARTIALS_logaddexp(A, T, X, Y, PUT, n)                                \
    do {                                                                           \
        T hi_, lo_;                                                                \
        PYAD_TWODIFF_(A, T, X(0), X(1), hi_, lo_);                                 \
        PUT(0, A(mul, A(sigmoid, hi_),                                             \
                 A(add, A(k, 1.0), A(mul, A(sigmoid, A(neg, hi_)), lo_))));        \
        PUT(1, A(mul, A(sigmoid, A(neg, hi_)),                                     \
                 A(sub, A(k, 1.0), A(mul, A(sigmoid, hi_), lo_))));                \
    } while (0)
#define PYAD_NOTE_logaddexp \
    "log(exp(a) + exp(b)) (numpy's logaddexp), never overflows; gradient sigmoid(a - b), sigmoid(b - a)"

/* ---- x log y ---------------------------------------------------------------------- */

/* x/y, but 0 where x == 0 (the gradient of 0 log y in y is 0) */
#define PYAD_XDIV_(A, x, y) A(where, A(gt, A(abs, x), A(k, 0.0)), A(div, x, y), A(k, 0.0))

PYAD_OP_INLINE double pyad_v_xlogy(double a, double b) { return pyad_sp_xlogy(a, b); }
#define PYAD_PARTIALS_xlogy(A, T, X, Y, PUT, n) \
    PUT(0, A(log, X(1)));                       \
    PUT(1, PYAD_XDIV_(A, X(0), X(1)))
#define PYAD_NOTE_xlogy \
    "x log(y), 0 where x == 0 and y is not nan (scipy); d/dx = log(y), d/dy = x/y (0 where x == 0)"

PYAD_OP_INLINE double pyad_v_xlog1py(double a, double b) { return pyad_sp_xlog1py(a, b); }
#define PYAD_PARTIALS_xlog1py(A, T, X, Y, PUT, n) \
    PUT(0, A(log1p, X(1)));                       \
    PUT(1, PYAD_XDIV_(A, X(0), A(add, A(k, 1.0), X(1))))
#define PYAD_NOTE_xlog1py \
    "x log1p(y), 0 where x == 0 and y is not nan (scipy); d/dy = x/(1 + y) (0 where x == 0)"

/* ---- the normal distribution -------------------------------------------------------- */

/* phi(x) = exp(-x^2/2)/sqrt(2 pi), with x^2/2 = p + e exactly (see
 * PYAD_GAUSS_ in opdefs_exp.h): accurate in the tails, and smooth. */
#define PYAD_INV_SQRT2PI_ 0.3989422804014327
#define PYAD_NORMPDF_(A, T, x, out)                                            \
    do {                                                                       \
        T ax_ = A(minimum, A(abs, x), A(k, 1e150));                            \
        T h_ = A(mul, A(k, 0.5), ax_);                                         \
        T p_ = A(mul, h_, ax_);                                                \
        T e_ = A(fma, h_, ax_, A(neg, p_));                                    \
        (out) = A(mul, A(k, PYAD_INV_SQRT2PI_),                                \
                  A(mul, A(exp, A(neg, p_)), A(sub, A(k, 1.0), e_)));          \
    } while (0)

PYAD_OP_INLINE double pyad_v_ndtr(double a) { return pyad_sp_ndtr(a); }
#define PYAD_PARTIALS_ndtr(A, T, X, Y, PUT, n) \
    do { T g_; PYAD_NORMPDF_(A, T, X(0), g_); PUT(0, g_); } while (0)
#define PYAD_NOTE_ndtr "standard normal CDF Phi(x), relative accuracy in the lower tail (0 below -38.5); ndtr' = phi"

PYAD_OP_INLINE double pyad_v_log_ndtr(double a) { return pyad_sp_log_ndtr(a); }
#define PYAD_PARTIALS_log_ndtr(A, T, X, Y, PUT, n) PUT(0, A(dlog_ndtr, X(0)))
#define PYAD_NOTE_log_ndtr \
    "log Phi(x), accurate for every x (asymptotic series below -20); log_ndtr' = dlog_ndtr, finite down to -1e300"

/* r = phi/Phi; r' = -r (x + r), which cancels in the lower tail (x + r is
 * about -1/x): there r' = (r/x)^2 T(1/x^2), T the series of special.h. */
#define PYAD_TAILT_(A, T, x, out)                                              \
    do {                                                                       \
        static const double c_[PYAD_SP_TAIL_TERMS] = PYAD_SP_TAIL_COEFS;       \
        T xc_ = A(maximum, x, A(k, -1e100));                                   \
        T u_ = A(div, A(k, 1.0), A(square, xc_));                              \
        (out) = A(k, c_[PYAD_SP_TAIL_TERMS - 1]);                              \
        for (int k_ = PYAD_SP_TAIL_TERMS - 2; k_ >= 0; k_--)                   \
            (out) = A(add, A(mul, (out), u_), A(k, c_[k_]));                   \
    } while (0)
PYAD_OP_INLINE double pyad_v_dlog_ndtr(double a) { return pyad_sp_dlog_ndtr(a); }
#define PYAD_PARTIALS_dlog_ndtr(A, T, X, Y, PUT, n)                            \
    do {                                                                       \
        T t_;                                                                  \
        PYAD_TAILT_(A, T, X(0), t_);                                           \
        PUT(0, A(where, A(lt, X(0), A(k, PYAD_SP_TAIL_FROM)),                              \
                 A(mul, A(square, A(div, Y, X(0))), t_),                       \
                 A(neg, A(mul, Y, A(add, X(0), Y)))));                         \
    } while (0)
#define PYAD_NOTE_dlog_ndtr \
    "phi(x)/Phi(x), the derivative of log_ndtr (about -x in the lower tail); its derivative -r (x + r)"

PYAD_OP_INLINE double pyad_v_ndtri(double a) { return pyad_sp_ndtri(a); }
/* 1/phi(y) with phi(y) = Phi(y) r(y) = p dlog_ndtr(y) (from the upper tail
 * by symmetry, 1 - p exact there): exp(-y^2/2) would turn the rounding of
 * y into y^2 ulps; r is well conditioned. */
#define PYAD_PARTIALS_ndtri(A, T, X, Y, PUT, n)                                \
    PUT(0, A(div, A(k, 1.0),                                                   \
             A(where, A(lt, X(0), A(k, 0.5)), A(mul, X(0), A(dlog_ndtr, Y)),  \
               A(mul, A(sub, A(k, 1.0), X(0)), A(dlog_ndtr, A(neg, Y))))))
#define PYAD_NOTE_ndtri \
    "inverse of ndtr; ndtri(0) = -inf, ndtri(1) = inf (divide), nan outside [0, 1] (invalid); ndtri' = 1/phi(ndtri)"

PYAD_OP_INLINE double pyad_v_erfinv(double a) { return pyad_sp_erfinv(a); }
/* 1/erf'(y). Beyond |x| = 1/2, erf'(y) = sqrt(2) (1 - |x|) dlog_ndtr(-sqrt(2)
 * |y|) (1 - |x| exact): exp(-y^2) would turn the rounding of y into 2 y^2
 * ulps next to +-1. */
#define PYAD_SQRT2_ 1.4142135623730951
#define PYAD_PARTIALS_erfinv(A, T, X, Y, PUT, n)                                 \
    do {                                                                         \
        T g_, c_ = A(sub, A(k, 1.0), A(abs, X(0)));                              \
        T r_ = A(dlog_ndtr, A(mul, A(k, -PYAD_SQRT2_), A(abs, Y)));              \
        PYAD_GAUSS_(A, T, Y, g_);                                                \
        PUT(0, A(div, A(k, 1.0),                                                 \
                 A(where, A(gt, A(abs, X(0)), A(k, 0.5)),                        \
                   A(mul, A(k, PYAD_SQRT2_), A(mul, c_, r_)), g_)));             \
    } while (0)
#define PYAD_NOTE_erfinv \
    "inverse of erf; erfinv(+-1) = +-inf (divide), nan outside [-1, 1] (invalid); erfinv' = 1/erf'(erfinv)"

#endif
