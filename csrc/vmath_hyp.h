/* vmath_hyp.h -- cosh and sinh (included by vmath.h, which has the
 * contract and the helpers), from the parts of exp and expm1. */
#ifndef PYAD_VMATH_HYP_H
#define PYAD_VMATH_HYP_H

/* cosh(a) for a in [2^-27, 711] (overflows past 710.4758...):
 * (e^a + e^-a)/2 = 2^(k-1) (v + 2^-2k / v), v = e^r = vh + vl. The
 * reciprocal is corrected once (e = 1 - v q, q0 vh exact as four partial
 * products) and dropped past k = 30, where it is below 2^-60 of v. The sum
 * is exact but for its last addition, then scaled (exact, or overflows). */
PYAD_VM_INLINE double pyad_vm_cosh_common2(double a)
{
    double k, s, h, t;
    pyad_vm_exp_core(a, &k, &s, &h, &t);
    double p = h + t;
    double vh = s + p;
    double vl = (s - vh) + p;                /* exact: |s| >= |p| */
    double q = 1.0 / vh;
    double qh = pyad_vm_top26(q), ql = q - qh;
    double vhh = pyad_vm_top26(vh), vhl = vh - vhh;
    double e = ((((1.0 - vhh * qh) - vhh * ql) - vhl * qh) - vhl * ql) - vl * q;
    pyad_vm_mask far = pyad_vm_flt(30.0, k);
    double sc = pyad_vm_sel(far, 0.0, pyad_vm_pow2(-2.0 * pyad_vm_sel(far, 30.0, k)));
    double w, we;
    pyad_vm_two_sum(vh, q * sc, &w, &we);
    return pyad_vm_ldexp(w + ((we + vl) + (q * e) * sc), k - 1.0);
}

/* Ordinary arguments (vmath.h): 2^-27 <= |x| < 708. */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_cosh_rare(double x)
{
    return ~pyad_vm_uin(pyad_vm_bits(x) & PYAD_VM_ABS, 0x3e40000000000000ull,
                        0x4086200000000000ull);
}

PYAD_VM_INLINE double pyad_vm_cosh_common(double x)
{ return pyad_vm_cosh_common2(fabs(x)); }

PYAD_VM_INLINE double pyad_cosh(double x)
{
    double a = fabs(pyad_vm_finite_or(x, 0.0));
    pyad_vm_mask tiny = pyad_vm_abs_lt(a, 0x1p-27);      /* rounds to 1 */
    double ac = pyad_vm_sel(pyad_vm_flt(711.0, a), 711.0, a);  /* still overflows */
    double y = pyad_vm_cosh_common2(pyad_vm_sel(tiny, 1.0, ac));
    y = pyad_vm_sel(tiny, 1.0, y);
    /* cosh(+-inf) = +inf, nan quieted, no flag. */
    double special = pyad_vm_sel(pyad_vm_isnan(x), x + 0.0, INFINITY);
    return pyad_vm_sel(pyad_vm_nonfinite(x), special, y);
}

/* sinh(a) for a in [2^-26, 22]: (N + N/(N+1))/2, N = expm1(a) as a
 * double-double, the quotient as one too, summed exactly but for the last
 * addition. */
PYAD_VM_INLINE double pyad_vm_sinh_small(double a)
{
    double nl, nh = pyad_vm_expm1_dd(a, &nl);
    double dh, dl;
    pyad_vm_two_sum(nh, 1.0, &dh, &dl);
    double ql, qh = pyad_vm_div_dd(nh, nl, dh, dl + nl, &ql);
    double w, we;
    pyad_vm_two_sum(nh, qh, &w, &we);
    return 0.5 * (w + ((we + nl) + ql));     /* exact halving: w > 2^-26 */
}

/* sinh(a) for a in [22, 711] (overflows past 710.4758...): e^a/2, as
 * e^-a / 2 < 2^-63 e^a. */
PYAD_VM_INLINE double pyad_vm_sinh_big(double a)
{
    double k, s, h, t;
    pyad_vm_exp_core(a, &k, &s, &h, &t);
    return pyad_vm_ldexp(s + (h + t), k - 1.0);
}

/* Ordinary arguments (vmath.h): 2^-26 <= |x| < 22. */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_sinh_rare(double x)
{
    return ~pyad_vm_uin(pyad_vm_bits(x) & PYAD_VM_ABS, 0x3e50000000000000ull,
                        0x4036000000000000ull);
}

PYAD_VM_INLINE double pyad_vm_sinh_common(double x)
{ return pyad_vm_copysign(pyad_vm_sinh_small(fabs(x)), x); }

PYAD_VM_INLINE double pyad_sinh(double x)
{
    double a = fabs(pyad_vm_finite_or(x, 0.0));
    pyad_vm_mask tiny = pyad_vm_abs_lt(a, 0x1p-26);      /* rounds to x */
    pyad_vm_mask big = ~pyad_vm_abs_lt(a, 22.0);
    double small = pyad_vm_sinh_small(pyad_vm_sel(tiny | big, 1.0, a));
    double ab = pyad_vm_sel(pyad_vm_flt(711.0, a), 711.0, a);  /* still overflows */
    double large = pyad_vm_sinh_big(pyad_vm_sel(big, ab, 30.0));
    double y = pyad_vm_copysign(pyad_vm_sel(big, large, small), x);
    y = pyad_vm_sel(tiny, x, y);
    y = y - pyad_vm_uflow(pyad_vm_abs_lt(x, 0x1p-1022) & ~pyad_vm_abs_lt(x, 0x1p-1074));
    /* sinh(+-inf) = +-inf, nan quieted, no flag. */
    return pyad_vm_sel(pyad_vm_nonfinite(x), x + 0.0, y);
}

/* sech2(x) = 1/cosh(x)^2 = tanh'(x), from the parts of tanh: with
 * N = expm1(2|x|) >= 0 and r = 1/(N + 2) <= 1/2, sech2 = 4 r (1 - r), as
 * 1 - r = (N + 1)/(N + 2); nothing cancels (1 - tanh^2 does in the tails),
 * so a few ulp for every x. N is the expm1 inside tanh_common2, which a
 * compiler shares when tanh and its partial are evaluated together. From
 * |x| = 20 on, (2 exp(-|x|))^2 (the rest is below 2^-57 of it): exp(-|x|)
 * stays normal, so the square is rounded once, and underflows (with the
 * flag) exactly where the value does; |x| is clamped to 400, past which it
 * is 0. Below 2^-28, 1 (rounded). Not one of the kernels of the contract
 * above (< 1 ulp): ~3 ulp, tested against mpmath as an op. */
PYAD_VM_INLINE double pyad_vm_sech2_of(double n)
{
    double r = 1.0 / (n + 2.0);
    return 4.0 * r * (1.0 - r);
}

/* Ordinary arguments: 2^-21 <= |x| < 20 (so 2|x| is ordinary for expm1). */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_sech2_rare(double x)
{
    return ~pyad_vm_uin(pyad_vm_bits(x) & PYAD_VM_ABS, 0x3ea0000000000000ull,
                        0x4034000000000000ull);
}

PYAD_VM_INLINE double pyad_vm_sech2_common(double x)
{ return pyad_vm_sech2_of(pyad_vm_expm1_common(2.0 * fabs(x))); }

PYAD_VM_INLINE double pyad_sech2(double x)
{
    double a = fabs(pyad_vm_finite_or(x, 0.0));
    pyad_vm_mask tiny = pyad_vm_abs_lt(a, 0x1p-28);
    pyad_vm_mask big = ~pyad_vm_abs_lt(a, 20.0);
    double mid = pyad_vm_sech2_of(pyad_expm1(2.0 * pyad_vm_sel(tiny | big, 1.0, a)));
    double ab = pyad_vm_sel(pyad_vm_flt(400.0, a), 400.0, a);
    double e = 2.0 * pyad_vm_exp_common(-pyad_vm_sel(big, ab, 20.0));  /* ordinary */
    double y = pyad_vm_sel(tiny, 1.0, pyad_vm_sel(big, e * e, mid));
    /* sech2(+-inf) = +0, nan quieted, no flag. */
    double special = pyad_vm_sel(pyad_vm_isnan(x), x + 0.0, 0.0);
    return pyad_vm_sel(pyad_vm_nonfinite(x), special, y);
}

#endif
