/* vmath_log.h -- log and log1p (included by vmath.h, which has the
 * contract and the helpers). */
#ifndef PYAD_VMATH_LOG_H
#define PYAD_VMATH_LOG_H

/* ---- log and log1p ---------------------------------------------------- */
/* Bits of sqrt(2)/2: the mantissa m of the reduction is in [sqrt2/2, sqrt2). */
#define PYAD_VM_LOG_OFF 0x3fe6a09e667f3bcdull

/* log(2^e (1 + f + c)) for 1 + f = m in [sqrt2/2, sqrt2), given as the bits
 * of a positive normal double v = 2^(e - eadd) m, plus a correction c
 * (|c| <= 2^-52) to 1 + f. */
PYAD_VM_INLINE double pyad_vm_log_core(double v, double eadd, double c)
{
    /* Q(z), log(1+f) = 2 atanh(s) = 2s + s z Q(z), s = f/(2+f), z = s^2
     * (bench/vmath_fit.py "log"). */
    static const double Q[8] = {
        0x1.5555555555555p-1, 0x1.9999999999d11p-2, 0x1.24924924397dap-2,
        0x1.c71c724b6b591p-3, 0x1.745ce1c6cf6e8p-3, 0x1.3b2024ebadc14p-3,
        0x1.0f6739402391fp-3, 0x1.0f0e424431346p-3};
    uint64_t tmp = pyad_vm_bits(v) + ((1ull << 62) - PYAD_VM_LOG_OFF);
    double m = pyad_vm_double((tmp & 0x000fffffffffffffull) + PYAD_VM_LOG_OFF);
    /* e = (tmp >> 52) - 1024, converted exactly through the mantissa. */
    double e = pyad_vm_double((tmp >> 52) | 0x4330000000000000ull)
               - (0x1p52 + 1024.0) + eadd;
    double f = m - 1.0;                      /* exact */
    double s = f / (2.0 + f);
    double z = s * s, z2 = z * z, z4 = z2 * z2;
    double q = (Q[0] + z * Q[1]) + z2 * (Q[2] + z * Q[3])
               + z4 * ((Q[4] + z * Q[5]) + z2 * (Q[6] + z * Q[7]));
    /* log(1+f) = f - f^2/2 + s (f^2/2 + z Q), with f^2/2 = hh + hl, hh exact. */
    double fh = pyad_vm_top26(f), fl = f - fh;
    double hh = 0.5 * fh * fh;
    double hl = 0.5 * fl * (f + fh);
    double corr = s * ((hh + hl) + z * q);
    double a = f - hh;
    double ae = (f - a) - hh;                /* exact: |f| >= hh */
    double eh = e * PYAD_VM_LN2_HI;          /* exact */
    double b = eh + a;
    double be = (eh - b) + a;                /* exact: |eh| >= |a| or eh = 0 */
    /* c / (1+f) = c (1-s)/(1+s) ~ c (1-s)^2 (1+z), to 2^-10 relative. */
    double cw = c * ((1.0 - s) * (1.0 - s) * (1.0 + z));
    double lo = ((be + ae) - hl) + (corr + (e * PYAD_VM_LN2_LO + cw));
    return b + lo;
}

/* The value for the lanes a log kernel does not compute: num/den, where
 * the division raises divide-by-zero for (-1, 0) (at the pole) and invalid
 * for (0, 0) (below it); it is x/1 for +inf and nan, 1/1 elsewhere. */
PYAD_VM_INLINE double pyad_vm_log_special(double x, pyad_vm_mask pole,
                                         pyad_vm_mask below)
{
    double num = pyad_vm_sel(pyad_vm_nonfinite(x) & ~below, x, 1.0);
    num = pyad_vm_sel(below, 0.0, num);
    num = pyad_vm_sel(pole, -1.0, num);
    return num / pyad_vm_sel(pole | below, 0.0, 1.0);
}

PYAD_VM_INLINE pyad_vm_mask pyad_vm_log_rare(double x)
{   /* ordinary: positive, normal, finite */
    return ~pyad_vm_uin(pyad_vm_bits(x), PYAD_VM_MIN, PYAD_VM_INF);
}

PYAD_VM_INLINE double pyad_vm_log_common(double x)
{ return pyad_vm_log_core(x, 0.0, 0.0); }

PYAD_VM_INLINE double pyad_log(double x)
{
    uint64_t ax = pyad_vm_bits(x) & PYAD_VM_ABS;
    pyad_vm_mask pole = pyad_vm_ult(ax, 1);                  /* +-0 */
    pyad_vm_mask below = pyad_vm_signbit(x) & ~pole & ~pyad_vm_isnan(x);
    pyad_vm_mask ok = ~(pole | below | pyad_vm_nonfinite(x));
    double xc = pyad_vm_sel(ok, x, 1.0);
    pyad_vm_mask sub = pyad_vm_abs_lt(xc, 0x1p-1022);
    xc = xc * pyad_vm_sel(sub, 0x1p54, 1.0);                 /* exact */
    double y = pyad_vm_log_core(xc, pyad_vm_sel(sub, -54.0, 0.0), 0.0);
    return pyad_vm_sel(ok, y, pyad_vm_log_special(x, pole, below));
}

PYAD_VM_INLINE pyad_vm_mask pyad_vm_log1p_rare(double x)
{   /* ordinary: 2^-20 <= x < 2^1000 or -1 < x <= -2^-20 */
    uint64_t ax = pyad_vm_bits(x) & PYAD_VM_ABS;
    pyad_vm_mask neg = pyad_vm_signbit(x);
    return ~((~neg & pyad_vm_uin(ax, 0x3eb0000000000000ull, 0x7e70000000000000ull))
             | (neg & pyad_vm_uin(ax, 0x3eb0000000000000ull, 0x3ff0000000000000ull)));
}

/* log1p(x) for finite x > -1, before the special cases. */
PYAD_VM_INLINE double pyad_vm_log1p_common(double x)
{
    /* 1 + x = u + c0 exactly; u >= 2^-53 is normal. */
    double u, c0;
    pyad_vm_two_sum(1.0, x, &u, &c0);
    /* The correction in units of m: c0 2^-e, where e = the exponent of u
     * in the reduction (e <= 1024). Past 2^1000 it is far below an ulp. */
    uint64_t ebits = (pyad_vm_bits(u) + ((1ull << 62) - PYAD_VM_LOG_OFF)) >> 52;
    double e = pyad_vm_double(ebits | 0x4330000000000000ull) - (0x1p52 + 1024.0);
    pyad_vm_mask huge = pyad_vm_flt(1000.0, e);
    double cm = c0 * pyad_vm_pow2(-pyad_vm_sel(huge, 1000.0, e));
    return pyad_vm_log_core(u, 0.0, pyad_vm_sel(huge, 0.0, cm));
}

PYAD_VM_INLINE double pyad_log1p(double x)
{
    pyad_vm_mask pole = pyad_vm_ueq(pyad_vm_bits(x), pyad_vm_bits(-1.0));
    /* x < -1, -inf included: sign set and |x| > 1, not nan. */
    pyad_vm_mask below = pyad_vm_signbit(x) & ~pyad_vm_isnan(x)
                         & pyad_vm_ult(pyad_vm_bits(1.0), pyad_vm_bits(x) & PYAD_VM_ABS);
    pyad_vm_mask ok = ~(pole | below | pyad_vm_nonfinite(x));
    double xc = pyad_vm_sel(ok, x, 0.0);
    double y = pyad_vm_log1p_common(xc);
    /* Below 2^-20, where 1 + x = u + c0 leaves c0 a large part of x, the
     * series x - x^2/2 + x^3/3 is more accurate (and keeps -0). */
    pyad_vm_mask small = pyad_vm_abs_lt(xc, 0x1p-20);
    pyad_vm_mask tiny = pyad_vm_abs_lt(xc, 0x1p-60);    /* rounds to x */
    double xq = pyad_vm_sel(small & ~tiny, xc, 0.0);     /* x^2 stays normal */
    y = pyad_vm_sel(small, xq + (xq * xq) * (-0.5 + xq * 0x1.5555555555555p-2), y);
    y = pyad_vm_sel(tiny, xc, y);
    /* Tiny results come from tiny x only: nonzero and below 2^-1022. */
    y = y - pyad_vm_uflow(pyad_vm_abs_lt(x, 0x1p-1022) & ~pyad_vm_abs_lt(x, 0x1p-1074));
    return pyad_vm_sel(ok, y, pyad_vm_log_special(x, pole, below));
}

#endif
