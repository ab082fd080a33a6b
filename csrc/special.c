/* special.c -- the special functions' values (special.h): log-gamma and
 * its derivatives, the normal distribution, and the likelihood helpers.
 *
 * Each public function computes its value between a save of the IEEE
 * flags and honest_flags(), which puts back every flag its value does not
 * show (see special.h), so intermediates may overflow or underflow freely.
 * Accuracy against mpmath: docs/special-functions.md (tests/accuracy.py).
 */
#define _DEFAULT_SOURCE /* lgamma_r: lgamma's sign goes to a global */
#include <fenv.h>
#include <float.h>
#include <math.h>

#include "kernels.h"
#include "special.h"

#define PI_ 3.14159265358979323846
#define LN2_ 0.6931471805599453094
#define INV_SQRT2_ 0.7071067811865476          /* 1/sqrt(2), rounded ... */
#define INV_SQRT2_LO_ -4.833646656726457e-17   /* ... and what rounding lost */
#define SQRT2_ 1.4142135623730951
#define INV_SQRTPI_ 0.5641895835477563         /* 1/sqrt(pi) */
#define INV_SQRT2PI_ 0.3989422804014327        /* 1/sqrt(2 pi) */
#define LOG_SQRT2PI_ 0.9189385332046728        /* log(sqrt(2 pi)) */
#define SQRTPI_2_ 0.886226925452758            /* sqrt(pi)/2 */
#define TWO_SQRTPI_ 1.1283791670955126         /* 2/sqrt(pi) */

/* ---- flags of the value only ----------------------------------------------- */

static double honest_flags(double y, const fexcept_t *saved)
{
    int keep = 0; /* flags the value does not show: back to their saved state */
    if (isfinite(y))
        keep |= FE_OVERFLOW | FE_DIVBYZERO;
    if (!isnan(y))
        keep |= FE_INVALID;
    if (!(fabs(y) <= DBL_MIN))
        keep |= FE_UNDERFLOW;
    fesetexceptflag(saved, keep);
    return y;
}

/* The public entry of kernel `raw`: the operands are read through a
 * volatile after the flags are saved, so no computation moves before it. */
#define PYAD_SP_ENTRY1_(name)                                        \
    double pyad_sp_##name(double x)                                  \
    {                                                                \
        fexcept_t f_;                                                \
        volatile double vx_;                                         \
        fegetexceptflag(&f_, FE_ALL_EXCEPT);                         \
        vx_ = x;                                                     \
        return honest_flags(name##_raw(vx_), &f_);                   \
    }
#define PYAD_SP_ENTRY2_(name)                                        \
    double pyad_sp_##name(double a, double b)                        \
    {                                                                \
        fexcept_t f_;                                                \
        volatile double va_, vb_;                                    \
        fegetexceptflag(&f_, FE_ALL_EXCEPT);                         \
        va_ = a;                                                     \
        vb_ = b;                                                     \
        return honest_flags(name##_raw(va_, vb_), &f_);              \
    }

/* an IEEE nan (invalid) and infinity (divide) made at run time from x */
static double invalid_nan(double x) { return (x - x) / (x - x); }
static double pole_inf(double x) { return 1.0 / fabs(x - x); }

/* ---- log-gamma ---------------------------------------------------------------- */

static double lgamma_raw(double x)
{
#if defined(_WIN32)
    return lgamma(x);
#else
    int sign;
    return lgamma_r(x, &sign); /* glibc: within 3 ulp, also near its negative zeros */
#endif
}
PYAD_SP_ENTRY1_(lgamma)

/* ---- digamma -------------------------------------------------------------------- */

/* psi's positive zero, as a sum of two doubles */
#define PSI_ROOT_ 1.4616321449683622
#define PSI_ROOT_LO_ 9.549995429965697e-17
/* Taylor coefficients of psi at its root: psi^(k)(x0)/k! = (-1)^(k+1)
 * zeta(k+1, x0), k = 1..40 (mpmath, 60 digits). On |x - x0| <= 1/2 the
 * terms fall as (0.5/x0)^k = 0.342^k: 40 of them reach 2^-60. */
static const double psi_taylor[40] = {
    0.9676722454476212, -0.44276316898359208, 0.25849976095565103, -0.16394270544240652,
    0.10782405069126237, -0.072199561256454714, 0.04880428816414311, -0.033161126474847362,
    0.022597648232218104, -0.01542476590494896, 0.010538791616612175, -0.0072045343863568687,
    0.0049267813957298533, -0.0033698016554393282, 0.002305126326734928, -0.0015769367714301972,
    0.0010788252019162967, -0.00073807093899600515, 0.00050495326583460199, -0.00034546802510630769,
    0.00023635601564027053, -0.00016170622091974803, 0.0001106337276874741, -7.5691795821950661e-05,
    5.1785757952220809e-05, -3.5430070947659604e-05, 2.4240066118601318e-05, -1.6584242271854135e-05,
    1.134638458466385e-05, -7.7628176684620943e-06, 5.3110609208898636e-06, -3.6336507898010456e-06,
    2.4860227331295378e-06, -1.7008538854332607e-06, 1.1636675363548843e-06, -7.9614254312419699e-07,
    5.4469419306694457e-07, -3.7266161283438227e-07, 2.5496265520215542e-07, -1.7443695117727745e-07,
};

/* psi(x) for x >= 10: log x - 1/(2x) - sum B_2k / (2k x^2k), k = 1..9 */
static double psi_asymptotic(double x)
{
    static const double b[9] = {1.0 / 12,  -1.0 / 120,       1.0 / 252,
                                -1.0 / 240, 1.0 / 132,        -691.0 / 32760,
                                1.0 / 12,  -3617.0 / 8160,   43867.0 / 14364};
    double z = 1.0 / (x * x), s = b[8];
    for (int k = 7; k >= 0; k--)
        s = s * z + b[k];
    return pyad_k_log(x) - (0.5 / x + s * z);
}

/* psi(x) for x > 0. Around the root (where the value is small and every
 * recurrence would cancel) the Taylor series in x - x0, x0 as two doubles;
 * above, the recurrence psi(x) = psi(x - m) + sum 1/(x - k) from that
 * window, up to 10; below, psi(x) = psi(x + 1) - 1/x. */
static double psi_positive(double x)
{
    if (x >= 10.0)
        return psi_asymptotic(x);
    if (x < PSI_ROOT_ - 0.5)
        return psi_positive(x + 1.0) - 1.0 / x;
    double acc = 0.0;
    double m = floor(x - (PSI_ROOT_ - 0.5));
    for (double k = 1.0; k <= m; k++)
        acc += 1.0 / (x - k); /* exact x - k; the smallest terms first */
    double t = ((x - m) - PSI_ROOT_) - PSI_ROOT_LO_;
    double p = psi_taylor[39];
    for (int i = 38; i >= 0; i--)
        p = p * t + psi_taylor[i];
    return p * t + acc;
}

/* pi cot(pi x), with x reduced exactly to [-1/2, 1/2] first */
static double pi_cot_pi(double x)
{
    double r = x - nearbyint(x);
    return PI_ / tan(PI_ * r);
}

static double digamma_raw(double x)
{
    if (isnan(x) || x == INFINITY)
        return x;
    if (x <= 0.0 && x == floor(x)) { /* the poles; -inf too */
        if (x == 0.0)
            return -1.0 / x; /* psi(+-0) = -+inf, the one-sided limits */
        return invalid_nan(x);
    }
    if (x < 0.0) /* reflection */
        return psi_positive(1.0 - x) - pi_cot_pi(x);
    return psi_positive(x);
}
PYAD_SP_ENTRY1_(digamma)

/* ---- polygamma ------------------------------------------------------------------ */

/* zeta(s, a) = sum_k (a + k)^-s for an integer s >= 2 and a > 0 (or
 * a < 0 not an integer: then the term next to the pole dominates, exactly
 * as a + k is exact): the
 * terms below N directly (smallest first), the rest by Euler-Maclaurin
 * from b = a + N >= max(12, s), where its terms fall fast. */
static double hurwitz_zeta(double s, double a)
{
    static const double bf[10] = { /* B_2j / (2j)! */
        8.3333333333333333e-02, -1.3888888888888889e-03, 3.3068783068783069e-05,
        -8.2671957671957672e-07, 2.0876756987868099e-08, -5.2841901386874932e-10,
        1.3382536530684679e-11, -3.3896802963225828e-13, 8.5860620562778446e-15,
        -2.1748686985580619e-16};
    double lo = s > 12.0 ? s : 12.0;
    double n = a < lo ? ceil(lo - a) : 0.0;
    double b = a + n;
    double t1 = pow(b, 1.0 - s); /* b^(1-s) */
    double t = t1 / b, q = t / b, rising = s, em = 0.0;
    for (int j = 0; j < 10; j++) {
        em += bf[j] * rising * q;
        rising *= (s + 2.0 * j + 1.0) * (s + 2.0 * j + 2.0);
        q /= b * b;
    }
    /* each side of the pole (a < 0) from its smallest term to its largest */
    double k0 = a > 0.0 ? 0.0 : floor(-a) + 1.0; /* the first a + k > 0 */
    double above = (em + 0.5 * t) + t1 / (s - 1.0), below = 0.0;
    for (double k = n - 1.0; k >= k0; k--)
        above += pow(a + k, -s);
    for (double k = 0.0; k < k0; k++)
        below += pow(a + k, -s);
    return above + below;
}

static double polygamma_raw(double n, double x);

/* x < 0, not an integer: psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi d^n/dx^n
 * cot(pi x), with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x)), P_0(c) = c,
 * P_k+1(c) = -(1 + c^2) P_k'(c) (coefficients by degree). */
static double polygamma_reflected(double n, double x)
{
    double p[174] = {0.0}, dp[174];
    int k, m = (int)n;
    double c = 1.0 / tan(PI_ * (x - nearbyint(x))), v = 0.0, scale = PI_;
    p[1] = 1.0;
    for (k = 0; k < m; k++) {
        int deg = k + 1, j;
        for (j = 0; j < deg; j++)
            dp[j] = (j + 1) * p[j + 1]; /* P_k' */
        for (j = 0; j <= deg + 1; j++)
            p[j] = -((j < deg ? dp[j] : 0.0) + (j >= 2 ? dp[j - 2] : 0.0));
        scale *= PI_;
    }
    for (k = m + 1; k >= 0; k--)
        v = v * c + p[k];
    return (fmod(n, 2.0) == 0.0 ? 1.0 : -1.0) * polygamma_raw(n, 1.0 - x) - scale * v;
}

static double polygamma_raw(double n, double x)
{
    if (isnan(n) || isnan(x))
        return n + x;
    if (!(n >= 0.0) || n != floor(n) || isinf(n))
        return invalid_nan(n);
    if (n == 0.0)
        return digamma_raw(x);
    double sign = fmod(n, 2.0) == 1.0 ? 1.0 : -1.0; /* (-1)^(n+1) */
    if (x == INFINITY)
        return 0.0;
    if (x <= 0.0 && x == floor(x)) { /* the poles; -inf too */
        if (isinf(x))
            return invalid_nan(x);
        if (x == 0.0) /* one-sided limits: (-1)^(n+1) n! / x^(n+1) */
            return (signbit(x) ? 1.0 : sign) * pole_inf(x);
        return sign > 0.0 ? pole_inf(x) : invalid_nan(x);
    }
    if (n > 170.0) /* n! overflows */
        return sign * pole_inf(x);
    if (x < -1000.0) /* the direct sum would take -x terms */
        return polygamma_reflected(n, x);
    double fact = 1.0;
    for (double i = 2.0; i <= n; i++)
        fact *= i;
    return sign * fact * hurwitz_zeta(n + 1.0, x);
}
PYAD_SP_ENTRY2_(polygamma)

/* ---- logaddexp, xlogy, xlog1py ----------------------------------------------------- */

static double logaddexp_raw(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b) /* also both inf: no inf - inf */
        return a + LN2_;
    double m = a > b ? a : b;
    return m + pyad_k_log1p(pyad_k_exp(-fabs(a - b)));
}
PYAD_SP_ENTRY2_(logaddexp)

/* 0 where x == 0 (y not nan), as scipy: 0 log 0 = 0 */
static double xlogy_raw(double x, double y)
{
    if (isnan(x)) /* not log(y): a y < 0 would raise invalid */
        return x + y;
    if (x == 0.0 && !isnan(y))
        return 0.0;
    return x * pyad_k_log(y);
}
PYAD_SP_ENTRY2_(xlogy)

static double xlog1py_raw(double x, double y)
{
    if (isnan(x))
        return x + y;
    if (x == 0.0 && !isnan(y))
        return 0.0;
    return x * pyad_k_log1p(y);
}
PYAD_SP_ENTRY2_(xlog1py)

/* ---- the normal distribution ---------------------------------------------------- */

/* Phi(x) = erfc(-x/sqrt 2)/2. x/sqrt(2) as zh + zl (two doubles), and
 * erfc(-zh - zl) = erfc(-zh) + zl 2/sqrt(pi) exp(-zh^2) to first order: the
 * rounding of x/sqrt(2) alone would cost x^2 ulps in the lower tail. */
static double ndtr_raw(double x)
{
    if (isnan(x))
        return x;
    double zh = x * INV_SQRT2_;
    double zl = fma(x, INV_SQRT2_, -zh) + x * INV_SQRT2_LO_;
    double corr = zl * INV_SQRTPI_ * pyad_k_exp(-zh * zh);
    return 0.5 * erfc(-zh) + (isfinite(corr) ? corr : 0.0);
}
PYAD_SP_ENTRY1_(ndtr)

/* T(u) of special.h, u = 1/x^2 (x capped at -1e100: u stays normal) */
static double tail_series(double x, double *u_out)
{
    static const double c[PYAD_SP_TAIL_TERMS] = PYAD_SP_TAIL_COEFS;
    double xc = x < -1e100 ? -1e100 : x;
    double u = 1.0 / (xc * xc), t = c[PYAD_SP_TAIL_TERMS - 1];
    for (int k = PYAD_SP_TAIL_TERMS - 2; k >= 0; k--)
        t = t * u + c[k];
    *u_out = u;
    return t;
}

/* log Phi(x): log1p(-Phi(-x)) above 0, log(Phi(x)) down to -20, and below
 * -x^2/2 - log(-x) - log(sqrt(2 pi)) + log1p(u T(u)) with x^2/2 exact as
 * the sum p + e (fma). */
static double log_ndtr_raw(double x)
{
    if (isnan(x) || x == -INFINITY)
        return x;
    if (x > 0.0)
        return pyad_k_log1p(-ndtr_raw(-x));
    if (x >= -20.0)
        return pyad_k_log(ndtr_raw(x));
    double u, t = tail_series(x, &u);
    double h = 0.5 * x, p = h * x;
    if (isinf(p))
        return -p;
    double e = fma(h, x, -p);
    return (((pyad_k_log1p(u * t) - LOG_SQRT2PI_) - pyad_k_log(-x)) - e) - p;
}
PYAD_SP_ENTRY1_(log_ndtr)

/* phi(x) = exp(-x^2/2)/sqrt(2 pi), x^2/2 = p + e exactly */
static double norm_pdf(double x)
{
    double ax = fabs(x) < 1e150 ? fabs(x) : 1e150;
    double h = 0.5 * ax, p = h * ax, e = fma(h, ax, -p);
    return INV_SQRT2PI_ * pyad_k_exp(-p) * (1.0 - e);
}

/* phi(x)/Phi(x); below -10, -x/S with S = 1 + u T(u) (see tail_series) */
static double dlog_ndtr_raw(double x)
{
    if (isnan(x))
        return x;
    if (x < PYAD_SP_TAIL_FROM) {
        double u, t = tail_series(x, &u);
        return -x / (1.0 + u * t);
    }
    return norm_pdf(x) / ndtr_raw(x);
}
PYAD_SP_ENTRY1_(dlog_ndtr)

/* erfinv on |x| <= 1/2: a series start, then Halley's iteration on
 * erf(y) - x (cubic: three steps from 1e-4 reach full precision). */
static double erfinv_central(double x)
{
    if (fabs(x) < 0x1p-26)
        return x * SQRTPI_2_;
    double x2 = x * x;
    double y = SQRTPI_2_ * x *
               (1.0 + x2 * (0.26179938779914946 +
                            x2 * (0.1439317308492198 +
                                  x2 * (0.09766361950392057 + x2 * 0.07329907936638087))));
    for (int i = 0; i < 3; i++) {
        double g = erf(y) - x;
        double d = TWO_SQRTPI_ * pyad_k_exp(-y * y);
        y -= g / (d + g * y);
    }
    return y;
}

/* Phi^-1(q) for 0 < q < 1/4: Abramowitz-Stegun 26.2.23 as a start (error
 * below 4.5e-4), then Halley's iteration on log_ndtr(y) - log(q), whose
 * derivative is dlog_ndtr: relative accuracy down to q = 5e-324. */
static double ndtri_tail(double q)
{
    double lq = pyad_k_log(q);
    double t = sqrt(-2.0 * lq);
    double y = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) /
                         (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
    for (int i = 0; i < 3; i++) {
        double g = log_ndtr_raw(y) - lq;
        double r = dlog_ndtr_raw(y);
        y -= g / (r + 0.5 * g * (y + r));
    }
    return y;
}

static double ndtri_raw(double p)
{
    if (isnan(p))
        return p;
    if (!(p >= 0.0 && p <= 1.0))
        return invalid_nan(p);
    if (p == 0.0)
        return -pole_inf(p);
    if (p == 1.0)
        return pole_inf(p);
    if (p >= 0.25 && p <= 0.75) /* 2p - 1 exact */
        return SQRT2_ * erfinv_central(2.0 * p - 1.0);
    if (p > 0.5) /* 1 - p exact */
        return -ndtri_tail(1.0 - p);
    return ndtri_tail(p);
}
PYAD_SP_ENTRY1_(ndtri)

static double erfinv_raw(double x)
{
    double ax = fabs(x);
    if (isnan(x))
        return x;
    if (ax > 1.0)
        return invalid_nan(x);
    if (ax == 1.0)
        return x / (1.0 - ax);
    if (ax <= 0.5)
        return erfinv_central(x);
    /* erfinv(x) = -ndtri((1 - |x|)/2)/sqrt(2): 1 - |x| and its half exact */
    return copysign(-ndtri_tail(0.5 * (1.0 - ax)) * INV_SQRT2_, x);
}
PYAD_SP_ENTRY1_(erfinv)
