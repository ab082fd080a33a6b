/* vmath.h -- pyad's own elementary functions: exp, expm1 and tanh here,
 * log and log1p in vmath_log.h, sin and cos in vmath_trig.h, the vector
 * helpers (pyad_vexp...) and point kernels (pyad_exp_point...) in
 * vmath_vec.h. docs/vmath.md has the algorithms, error bounds,
 * measurements, and which entry to use where.
 *
 * Why our own: every evaluator (eager recording, point replay, batch
 * replay) must give the same bits on every platform, and batches must run
 * at SIMD speed. So each kernel is a static inline, branch-free function of
 * plain IEEE double operations (no fma, no libm call, contraction off): a
 * loop `y[j] = pyad_log(x[j])` auto-vectorises with gcc -O3 even for
 * baseline x86-64 (SSE2), and the vectorised loop gives the same bits as
 * the scalar call because every operation is correctly rounded either way.
 * exp's common path also reads a table of 2^(j/128) (integer words, the
 * same everywhere), which its loops read as a gather: two loads per pair
 * of lanes with SSE2, one instruction with AVX2.
 *
 * Contract of every kernel:
 * - error below 1 ulp against the exact value (measured, docs/vmath.md);
 * - special values as glibc: signed zeros, infinities, nan (a nan input is
 *   returned quieted, with its payload), subnormals, overflow and underflow
 *   thresholds, domain errors;
 * - IEEE flags as glibc for the ones errstate watches (divide-by-zero,
 *   overflow, invalid, underflow): raised by data-dependent arithmetic on
 *   exactly the lanes that need them, never by an intermediate result or
 *   by a special-case lane. Hence a raw argument is only ever classified
 *   by integer operations on its bits, and every floating-point operation
 *   runs on a sanitised argument.
 *
 * Requires round-to-nearest (the shift trick below rounds to an integer).
 */
#ifndef PYAD_VMATH_H
#define PYAD_VMATH_H
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vmath_exptab.h"

/* The error-free transformations need every operation rounded to double
 * (not x87's extended precision). */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != -1
#error "vmath.h needs FLT_EVAL_METHOD == 0 (SSE2 on x86)"
#endif

/* Always inlined: a batch loop that calls several kernels must get each
 * one inlined to vectorise it, whatever gcc's growth limits say. */
#if defined(PYAD_VM_INLINE)
/* set by the file that includes this (lanes.c: see there) */
#elif defined(__GNUC__)
#define PYAD_VM_INLINE static inline __attribute__((always_inline))
#else
#define PYAD_VM_INLINE static inline
#endif

/* ---- bits and small exact building blocks ---------------------------- */
PYAD_VM_INLINE uint64_t pyad_vm_bits(double x)
{ uint64_t u; memcpy(&u, &x, sizeof u); return u; }
PYAD_VM_INLINE double pyad_vm_double(uint64_t u)
{ double x; memcpy(&x, &u, sizeof x); return x; }

/* 1.5 * 2^52: x + SHIFT - SHIFT rounds x (|x| < 2^51) to an integer, and
 * the low bits of x + SHIFT hold that integer in two's complement. */
#define PYAD_VM_SHIFT 0x1.8p52
#define PYAD_VM_TOP26 0xfffffffff8000000ull  /* keeps 26 significant bits */
#define PYAD_VM_SIGN 0x8000000000000000ull

/* ---- choices without branches ----------------------------------------
 * A condition is a mask, all ones or all zeros, made by integer arithmetic
 * on the bits (or on the sign of a difference), and a choice is a bitwise
 * select. Not `c ? a : b`: gcc's middle end turns that into a branch, then
 * jump threading and PRE fill the branch with constant-folded operations
 * that may raise a flag, which if-conversion may not speculate under
 * -ftrapping-math, and the loop stays scalar. Nor a comparison turned into
 * a mask: gcc 12 cannot vectorise that conversion for SSE2. */
typedef uint64_t pyad_vm_mask;

PYAD_VM_INLINE double pyad_vm_sel(pyad_vm_mask m, double a, double b)
{ return pyad_vm_double((pyad_vm_bits(a) & m) | (pyad_vm_bits(b) & ~m)); }

/* a < b for a, b < 2^63 (e.g. the bits of |x|, ordered as |x|). */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_ult(uint64_t a, uint64_t b)
{ return 0 - ((a - b) >> 63); }

/* a == b. */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_ueq(uint64_t a, uint64_t b)
{
    uint64_t z = a ^ b;
    return ((z | (0 - z)) >> 63) - 1;
}

/* a < b, from the sign of a - b, for non-nan a, b where a - b cannot
 * overflow and is not -0 (as it is for a = -0, b = +0). */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_flt(double a, double b)
{ return 0 - (pyad_vm_bits(a - b) >> 63); }

#define PYAD_VM_ABS 0x7fffffffffffffffull
#define PYAD_VM_INF 0x7ff0000000000000ull    /* bits of +inf */
#define PYAD_VM_MIN 0x0010000000000000ull    /* bits of 2^-1022 */

/* Classes of x, from |x|'s bits: nan; nan or +-inf; |x| < 2^-1022. */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_isnan(double x)
{ return pyad_vm_ult(PYAD_VM_INF, pyad_vm_bits(x) & PYAD_VM_ABS); }
PYAD_VM_INLINE pyad_vm_mask pyad_vm_nonfinite(double x)
{ return pyad_vm_ult(PYAD_VM_INF - 1, pyad_vm_bits(x) & PYAD_VM_ABS); }
PYAD_VM_INLINE pyad_vm_mask pyad_vm_abs_lt(double x, double bound)
{ return pyad_vm_ult(pyad_vm_bits(x) & PYAD_VM_ABS, pyad_vm_bits(bound)); }
/* lo <= a < hi for a, lo, hi < 2^63. */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_uin(uint64_t a, uint64_t lo, uint64_t hi)
{ return 0 - (((a - hi) & ~(a - lo)) >> 63); }
PYAD_VM_INLINE pyad_vm_mask pyad_vm_signbit(double x)
{ return 0 - (pyad_vm_bits(x) >> 63); }

/* x with nan and +-inf replaced by `safe`. */
PYAD_VM_INLINE double pyad_vm_finite_or(double x, double safe)
{ return pyad_vm_sel(pyad_vm_nonfinite(x), safe, x); }

/* |y| with the sign of x. */
PYAD_VM_INLINE double pyad_vm_copysign(double y, double x)
{ return pyad_vm_double((pyad_vm_bits(y) & PYAD_VM_ABS) | (pyad_vm_bits(x) & PYAD_VM_SIGN)); }

/* 2^k for an integer-valued double k in [-1022, 1023]. */
PYAD_VM_INLINE double pyad_vm_pow2(double k)
{
    return pyad_vm_double(pyad_vm_bits(k + (PYAD_VM_SHIFT + 1023.0)) << 52);
}

/* y * 2^k for an integer-valued k in [-1076, 1024], in two exact steps
 * so that a subnormal result is rounded once. */
PYAD_VM_INLINE double pyad_vm_ldexp(double y, double k)
{
    double k1 = (k * 0.5 + PYAD_VM_SHIFT) - PYAD_VM_SHIFT;
    return y * pyad_vm_pow2(k1) * pyad_vm_pow2(k - k1);
}

/* The high half of x (26 significant bits, so its square is exact). */
PYAD_VM_INLINE double pyad_vm_top26(double x)
{ return pyad_vm_double(pyad_vm_bits(x) & PYAD_VM_TOP26); }

/* Knuth's two-sum: *hi + *lo == a + b exactly. */
PYAD_VM_INLINE void pyad_vm_two_sum(double a, double b, double *hi, double *lo)
{
    double s = a + b, bb = s - a;
    *hi = s;
    *lo = (a - (s - bb)) + (b - bb);
}

/* Raise underflow (and inexact) when `tiny` is set, by squaring 2^-600 to
 * 0; otherwise squares 0 exactly. The result is subtracted from y by the
 * caller (y - 0 keeps the sign of a zero y). */
PYAD_VM_INLINE double pyad_vm_uflow(pyad_vm_mask tiny)
{
    double t = pyad_vm_sel(tiny, 0x1p-600, 0.0);
    return t * t;
}

/* ---- exp and expm1 ---------------------------------------------------- */
/* ln 2 = LN2_HI + LN2_LO, LN2_HI with 42 significant bits, so k * LN2_HI
 * is exact for |k| < 2^11. */
#define PYAD_VM_LN2_HI 0x1.62e42fefa3800p-1
#define PYAD_VM_LN2_LO 0x1.ef35793c76730p-45
#define PYAD_VM_INV_LN2 0x1.71547652b82fep+0

/* exp(x) = 2^k (s + h + t) for |x| <= 746, x == 0 or |x| >= 2^-60: k an
 * integer, s = 1 + r rounded (r = x - k ln2, |r| <= ln2/2), h the high
 * part of r^2/2 (26 bits squared, exact; |h| < 0.061) and t the rest (|t| <
 * 0.008); s + h + t is exp(r) to about 2^-62 before rounding. */
PYAD_VM_INLINE void pyad_vm_exp_core(double x, double *k, double *s, double *h,
                                    double *t)
{
    /* (exp(r) - 1 - r) / r^2 - 1/2, i.e. P - 1/2 (bench/vmath_fit.py "exp"),
     * divided by r. */
    static const double P[10] = {
        0x1.5555555555557p-3, 0x1.5555555555558p-5, 0x1.11111111100dep-7,
        0x1.6c16c16c15200p-10, 0x1.a01a01abe6a7ap-13, 0x1.a01a01acf9500p-16,
        0x1.71de0235e2275p-19, 0x1.27e4ccd18ad0cp-22, 0x1.af4de0741289ap-26,
        0x1.1f8b463e4d5edp-29};
    double kd = (x * PYAD_VM_INV_LN2 + PYAD_VM_SHIFT) - PYAD_VM_SHIFT;
    double r0 = x - kd * PYAD_VM_LN2_HI;        /* exact (Sterbenz) */
    double c = kd * PYAD_VM_LN2_LO;
    double rh = r0 - c;
    double rl = (r0 - rh) - c;                  /* r = rh + rl to ~2^-85 */
    double sh = 1.0 + rh;
    double s0 = (1.0 - sh) + rh;                /* exact: 1 + rh = sh + s0 */
    /* r^2/2 exactly as hh + hl (rhh has 26 bits). */
    double rhh = pyad_vm_top26(rh), rhl = rh - rhh;
    double hh = 0.5 * rhh * rhh;
    double hl = 0.5 * rhl * (rh + rhh);
    /* Estrin on the tail polynomial Q(r), exp(r) = 1 + r + r^2/2 + r^3 Q. */
    double r2 = rh * rh, r4 = r2 * r2, r8 = r4 * r4;
    double q01 = P[0] + rh * P[1], q23 = P[2] + rh * P[3];
    double q45 = P[4] + rh * P[5], q67 = P[6] + rh * P[7];
    double q89 = P[8] + rh * P[9];
    double q = (q01 + r2 * q23) + r4 * (q45 + r2 * q67) + r8 * q89;
    double small = s0 + rl * (1.0 + rh) + hl + r2 * (rh * q);
    *k = kd;
    *s = sh;
    *h = hh;
    *t = small;
}

/* expm1(x) / 2^k = s + h + t - 2^-k (exp_core's parts) as hi + *lo, hi
 * the rounded sum. 2^-1000 stands in for 2^-k when k > 1000 (both vanish
 * against s). */
PYAD_VM_INLINE double pyad_vm_expm1_scaled(double k, double s, double h,
                                          double t, double *lo)
{
    double u = pyad_vm_pow2(-pyad_vm_sel(pyad_vm_flt(1000.0, k), 1000.0, k));
    double a, e;
    pyad_vm_two_sum(s, -u, &a, &e);
    double b = a + h;
    double be = (a - b) + h;                 /* exact: |a| >= h, or a = 0 */
    *lo = (be + e) + t;
    return b;
}

/* The ordinary arguments of each kernel, the only ones its *_common path
 * (used by the vector helpers, vmath_vec.h) takes: there it needs no
 * clamp, no special case and raises no flag, and gives the same bits as
 * the full kernel. *_rare is all ones for the other arguments. */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_exp_rare(double x)
{   /* ordinary: 2^-60 <= |x| < 600. Then scale >= 2^-866 in the common
     * path, and |p| >= 2^-100 or p = 0, so scale * p is never subnormal
     * (near -704 it was: a spurious underflow flag, and a coarser
     * rounding than the result's) */
    return ~pyad_vm_uin(pyad_vm_bits(x) & PYAD_VM_ABS, 0x3c30000000000000ull,
                        0x4082c00000000000ull);
}

/* exp(x) for the ordinary x, by a table (vmath_exptab.h): k = round(x 128 /
 * ln2) = 128 m + j, r = x - k ln2/128 (|r| <= ln2/256, the product with the
 * high part exact and the subtraction exact by Sterbenz), and
 * exp(x) = 2^m 2^(j/128) e^r = scale (1 + tail) (1 + r + r^2 P(r)), P of
 * degree 3 (bench/vmath_fit.py "exp_t", error 2^-46.6, entering as
 * r^2 dP < 2^-63). scale = 2^m hi is made by adding k << 45 to the table's
 * word (j's bits cancel), normal for |x| < 600. One rounding of the last
 * addition dominates: 0.507 ulp measured (docs/vmath.md). Half the
 * operations of exp_core's double-double path; a loop over it still
 * vectorises (the table indexed as an array: through a pointer, gcc 12
 * kept the loop scalar). */
PYAD_VM_INLINE double pyad_vm_exp_common(double x)
{
    static const double P[4] = {0x1.fffffffffff58p-2, 0x1.5555555555495p-3,
                                0x1.55555accda004p-5, 0x1.111115c0a670fp-7};
    double kd = x * (128.0 * PYAD_VM_INV_LN2) + PYAD_VM_SHIFT;
    uint64_t ki = pyad_vm_bits(kd);
    kd -= PYAD_VM_SHIFT;
    double r = (x - kd * PYAD_VM_LN2_128_HI) - kd * PYAD_VM_LN2_128_LO;
    uint64_t j = 2 * (ki & 127);   /* indexed so that loops gather */
    double scale = pyad_vm_double(PYAD_VM_EXP_TAB[j + 1] + (ki << 45));
    double r2 = r * r;
    double p = pyad_vm_double(PYAD_VM_EXP_TAB[j]) + r + r2 * (P[0] + r * P[1]) +
               r2 * r2 * (P[2] + r * P[3]);
    return scale + scale * p;
}

/* exp of the other arguments (|x| < 2^-60, |x| >= 600, inf, nan) from
 * exp_core: its extra precision rounds a subnormal result once. */
PYAD_VM_INLINE double pyad_vm_exp_special(double x)
{
    /* Computed for x itself where 2^-60 <= |x| < 746; for +-746 where |x|
     * is larger but finite (still overflows, or underflows to 0); for 0
     * where it is smaller (exp rounds to 1) or not finite. */
    uint64_t ax = pyad_vm_bits(x) & PYAD_VM_ABS;
    uint64_t b746 = 0x4087500000000000ull;   /* bits of 746.0 */
    double xc = pyad_vm_sel(pyad_vm_uin(ax, 0x3c30000000000000ull, b746), x, 0.0);
    xc = pyad_vm_sel(pyad_vm_uin(ax, b746, PYAD_VM_INF),
                     pyad_vm_double(b746 | (pyad_vm_bits(x) & PYAD_VM_SIGN)), xc);
    double k, s, h, t;
    pyad_vm_exp_core(xc, &k, &s, &h, &t);
    double y = pyad_vm_ldexp(s + (h + t), k);  /* overflow here */
    /* A subnormal result, rounded once on its grid (multiples of 2^-1074):
     * 1 + w, w = (s + h + t) 2^(k+1022) < 1, rounds w to multiples of 2^-52
     * when added up exactly but for the last addition. */
    pyad_vm_mask sub = pyad_vm_abs_lt(y, 0x1p-1022);
    double ts = pyad_vm_pow2(pyad_vm_sel(sub, k + 1022.0, 0.0));
    double wh = s * ts, wl = (h + t) * ts;
    double z = 1.0 + wh;
    double ze = (1.0 - z) + wh;              /* exact: 1 >= wh */
    y = pyad_vm_sel(sub, ((z + (ze + wl)) - 1.0) * 0x1p-1022, y);
    /* That product is exact; glibc signals underflow for every result
     * below 2^-1022. */
    y = y - pyad_vm_uflow(sub);
    /* exp(+inf) = +inf, exp(-inf) = +0, nan quieted, all without a flag. */
    double special = pyad_vm_sel(pyad_vm_signbit(x) & ~pyad_vm_isnan(x), 0.0, x);
    return pyad_vm_sel(pyad_vm_nonfinite(x), special + 0.0, y);
}

PYAD_VM_INLINE double pyad_exp(double x)
{
    /* Each path runs on an argument it takes without a flag: the common
     * path on 1.0 where x is rare, the special one on 0.0 elsewhere. */
    pyad_vm_mask rare = pyad_vm_exp_rare(x);
    double common = pyad_vm_exp_common(pyad_vm_sel(rare, 1.0, x));
    return pyad_vm_sel(rare, pyad_vm_exp_special(pyad_vm_sel(rare, x, 0.0)), common);
}

PYAD_VM_INLINE pyad_vm_mask pyad_vm_expm1_rare(double x)
{   /* ordinary: 2^-20 <= |x| < 40, or 2^-20 <= x < 708 */
    uint64_t bx = pyad_vm_bits(x);
    return ~(pyad_vm_uin(bx & PYAD_VM_ABS, 0x3eb0000000000000ull, 0x4044000000000000ull)
             | pyad_vm_uin(bx, 0x3eb0000000000000ull, 0x4086200000000000ull));
}

PYAD_VM_INLINE double pyad_vm_expm1_common(double x)
{
    double k, s, h, t;
    pyad_vm_exp_core(x, &k, &s, &h, &t);
    double lo, hi = pyad_vm_expm1_scaled(k, s, h, t, &lo);
    return (hi + lo) * pyad_vm_pow2(k);
}

PYAD_VM_INLINE double pyad_expm1(double x)
{
    double xc = pyad_vm_finite_or(x, 0.0);
    pyad_vm_mask tiny = pyad_vm_abs_lt(xc, 0x1p-60);   /* expm1(x) rounds to x */
    xc = pyad_vm_sel(tiny, 0.0, xc);
    xc = pyad_vm_sel(pyad_vm_flt(710.0, xc), 710.0, xc);
    xc = pyad_vm_sel(pyad_vm_flt(xc, -40.0), -40.0, xc);  /* rounds to -1 */
    double k, s, h, t;
    pyad_vm_exp_core(xc, &k, &s, &h, &t);
    double lo, hi = pyad_vm_expm1_scaled(k, s, h, t, &lo);
    double y = pyad_vm_ldexp(hi + lo, k);
    /* Below 2^-20 the parts above cancel to a few bits of x: the series
     * x + x^2/2 + x^3/6 is more accurate (xq keeps x^2 normal). */
    pyad_vm_mask small = pyad_vm_abs_lt(xc, 0x1p-20);
    double xq = pyad_vm_sel(small, xc, 0.0);
    y = pyad_vm_sel(small, xq + (xq * xq) * (0.5 + xq * 0x1.5555555555555p-3), y);
    y = pyad_vm_sel(tiny, x, y);
    /* Tiny results come from tiny x only: nonzero and below 2^-1022. */
    y = y - pyad_vm_uflow(pyad_vm_abs_lt(x, 0x1p-1022) & ~pyad_vm_abs_lt(x, 0x1p-1074));
    /* expm1(+inf) = +inf, expm1(-inf) = -1, nan quieted. */
    double special = pyad_vm_sel(pyad_vm_signbit(x) & ~pyad_vm_isnan(x), -1.0, x);
    return pyad_vm_sel(pyad_vm_nonfinite(x), special + 0.0, y);
}

#include "vmath_log.h"

/* ---- tanh -------------------------------------------------------------- */
/* tanh|x| = N / (N + 2), N = expm1(2|x|) as a double-double, divided with
 * one correction step so that only the final addition rounds. */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_tanh_rare(double x)
{   /* ordinary: 2^-28 <= |x| < 20 */
    return ~pyad_vm_uin(pyad_vm_bits(x) & PYAD_VM_ABS, 0x3e30000000000000ull,
                        0x4034000000000000ull);
}

/* expm1(xc) as nh + nl (|nl| <= ulp(nh)/2), for 2^-60 <= xc <= 40. */
PYAD_VM_INLINE double pyad_vm_expm1_dd(double xc, double *nl)
{
    double k, s, h, t;
    pyad_vm_exp_core(xc, &k, &s, &h, &t);
    double lo, hi = pyad_vm_expm1_scaled(k, s, h, t, &lo);
    double nh;
    pyad_vm_two_sum(hi, lo, &nh, nl);
    double scale = pyad_vm_pow2(k);          /* k in [-1, 58]: exact */
    *nl *= scale;
    return nh * scale;
}

/* (nh + nl) / (dh + dl) as q0 + *lo, q0 the quotient rounded: one division
 * and one correction step, rho = N - q0 D with q0 dh exact as four
 * partial products of 26-bit halves. */
PYAD_VM_INLINE double pyad_vm_div_dd(double nh, double nl, double dh, double dl,
                                     double *lo)
{
    double inv = 1.0 / dh;
    double q0 = nh * inv;
    double qh = pyad_vm_top26(q0), ql = q0 - qh;
    double dhh = pyad_vm_top26(dh), dhl = dh - dhh;
    double rho = (((nh - qh * dhh) - qh * dhl) - ql * dhh) - ql * dhl;
    rho += nl - q0 * dl;
    *lo = rho * inv;
    return q0;
}

/* tanh(x) from xc = |x| in [2^-28, 20]. */
PYAD_VM_INLINE double pyad_vm_tanh_common2(double x, double xc)
{
    double nl, nh = pyad_vm_expm1_dd(2.0 * xc, &nl);
    double dh, dl;
    pyad_vm_two_sum(nh, 2.0, &dh, &dl);
    double lo, q0 = pyad_vm_div_dd(nh, nl, dh, dl + nl, &lo);
    return pyad_vm_copysign(q0 + lo, x);
}

PYAD_VM_INLINE double pyad_vm_tanh_common(double x)
{ return pyad_vm_tanh_common2(x, fabs(x)); }

PYAD_VM_INLINE double pyad_tanh(double x)
{
    double ax = fabs(pyad_vm_finite_or(x, 0.0));
    pyad_vm_mask tiny = pyad_vm_abs_lt(ax, 0x1p-28);   /* tanh(x) rounds to x */
    double xc = pyad_vm_sel(pyad_vm_flt(20.0, ax), 20.0, ax);  /* rounds to 1 */
    xc = pyad_vm_sel(tiny, 1.0, xc);
    double y = pyad_vm_tanh_common2(x, xc);
    y = pyad_vm_sel(tiny, x, y);
    y = y - pyad_vm_uflow(pyad_vm_abs_lt(x, 0x1p-1022) & ~pyad_vm_abs_lt(x, 0x1p-1074));
    /* tanh(+-inf) = +-1, nan quieted. */
    double special = pyad_vm_sel(pyad_vm_isnan(x), x, pyad_vm_copysign(1.0, x));
    return pyad_vm_sel(pyad_vm_nonfinite(x), special + 0.0, y);
}

#include "vmath_hyp.h"
#include "vmath_trig.h"
#include "vmath_vec.h"

#endif
