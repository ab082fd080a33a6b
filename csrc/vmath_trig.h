/* vmath_trig.h -- sin and cos (included by vmath.h, which has the
 * contract and the helpers).
 *
 * Reduction: x = k pi/2 + r, |r| <= pi/4, by Cody-Waite with pi/2 in four
 * parts: the first three have 33 significant bits, so k * part is exact
 * for k < 2^20, and the subtractions are carried exactly (two-sum), which
 * keeps r to ~2^-130 absolute: the reduced argument is accurate to ~2^-70
 * relative even for the doubles closest to a multiple of pi/2. This fast
 * path covers |x| < 2^20; beyond it the scalar kernels call libm (a branch
 * that is never taken by ordinary arguments) and the vector helpers fix
 * those lanes up in a second, scalar pass, so both give the same bits.
 */
#ifndef PYAD_VMATH_TRIG_H
#define PYAD_VMATH_TRIG_H

#define PYAD_VM_TRIG_MAX 0x1p20
#define PYAD_VM_PIO2_1 0x1.921fb54400000p+0
#define PYAD_VM_PIO2_2 0x1.0b4611a600000p-34
#define PYAD_VM_PIO2_3 0x1.3198a2e000000p-69
#define PYAD_VM_PIO2_4 0x1.b839a252049c1p-104
#define PYAD_VM_INV_PIO2 0x1.45f306dc9c883p-1

/* sin r and cos r for r = x reduced, x an ordinary argument (or 0). */
PYAD_VM_INLINE void pyad_vm_sincos_common(double xr, double *sin_x, double *cos_x)
{
    /* S(z) = (sin r - r)/r^3 + 1/8 and C(z) = (cos r - 1 + z/2)/z^2, z = r^2
     * (bench/vmath_fit.py "sin", "cos"). */
    static const double S[7] = {
        -0x1.5555555555555p-5, 0x1.11111111110e5p-7, -0x1.a01a01a0125f1p-13,
        0x1.71de3a4b89f08p-19, -0x1.ae64492563879p-26, 0x1.611addeec68a0p-33,
        -0x1.a7f42f16440e4p-41};
    static const double C[6] = {
        0x1.555555555554cp-5, -0x1.6c16c16c1521ep-10, 0x1.a01a019cbf388p-16,
        -0x1.27e4f8128ec80p-22, 0x1.1ee9f13297f8dp-29, -0x1.8fb11e41a7c48p-37};
    double kd = xr * PYAD_VM_INV_PIO2 + PYAD_VM_SHIFT;
    uint64_t quad = pyad_vm_bits(kd);     /* k mod 4 in the low bits */
    kd -= PYAD_VM_SHIFT;
    double t = xr - kd * PYAD_VM_PIO2_1;  /* exact */
    double a, ae, b, be;
    pyad_vm_two_sum(t, -(kd * PYAD_VM_PIO2_2), &a, &ae);
    pyad_vm_two_sum(a, -(kd * PYAD_VM_PIO2_3), &b, &be);
    double rh = b, rl = (ae + be) - kd * PYAD_VM_PIO2_4;

    double z = rh * rh, z2 = z * z, z4 = z2 * z2;
    /* sin r = rh - rh^3/8 + rh z S(z) + rl cos rh. The r^3/8 part is exact
     * as c3 + d3: r17 has 17 bits, so its cube is exact; the rounding
     * errors fall on the part with S(z) ~ -1/24, a quarter of the r^3/6
     * a plain sin(r) = r + r^3 (-1/6 + ...) would leave to round. */
    double sp = (S[0] + z * S[1]) + z2 * (S[2] + z * S[3])
                + z4 * ((S[4] + z * S[5]) + z2 * S[6]);
    double r17 = pyad_vm_double(pyad_vm_bits(rh) & 0xfffffff000000000ull);
    double c3 = -0.125 * (r17 * r17 * r17);          /* exact */
    double d3 = -0.125 * ((rh - r17) * (z + r17 * (rh + r17)));
    double sh = rh + c3;
    double she = (rh - sh) + c3;                     /* exact: |rh| >= |c3| */
    /* cos r = 1 - z/2 + z^2 C(z) - rl sin rh, with z/2 = hh + hl, hh exact */
    double cp = (C[0] + z * C[1]) + z2 * (C[2] + z * C[3])
                + z4 * (C[4] + z * C[5]);
    double rhh = pyad_vm_top26(rh), rhl = rh - rhh;
    double hh = 0.5 * rhh * rhh;
    double hl = 0.5 * rhl * (rh + rhh);
    double ca = 1.0 - hh;
    double cae = (1.0 - ca) - hh;         /* exact: 1 >= hh */
    double sin_r = sh + ((she + (d3 + (rh * z) * sp)) + rl * ca);
    double cos_r = ca + ((cae - hl) + (z2 * cp - rl * sh));

    /* Quadrant: sin x = sin r, cos r, -sin r, -cos r for k mod 4 = 0..3,
     * cos x = cos r, -sin r, -cos r, sin r; selected on the bits. */
    uint64_t odd = 0 - (quad & 1);
    uint64_t sb = pyad_vm_bits(sin_r), cb = pyad_vm_bits(cos_r);
    *sin_x = pyad_vm_double(((cb & odd) | (sb & ~odd)) ^ ((quad & 2) << 62));
    *cos_x = pyad_vm_double(((sb & odd) | (cb & ~odd)) ^ (((quad + 1) & 2) << 62));
}

/* Ordinary arguments (vmath.h): 2^-27 <= |x| < 2^20. */
PYAD_VM_INLINE pyad_vm_mask pyad_vm_trig_rare(double x)
{
    return ~pyad_vm_uin(pyad_vm_bits(x) & PYAD_VM_ABS, 0x3e40000000000000ull,
                        0x4130000000000000ull);
}

/* sin x and cos x for |x| < 2^20 and for non-finite x (nan, raising
 * invalid for an infinity); both are x itself (with no flag raised) for
 * the lanes beyond, which the callers recompute. */
PYAD_VM_INLINE void pyad_vm_sincos_fast(double x, double *sin_x, double *cos_x)
{
    double xs = pyad_vm_finite_or(x, 0.0);
    pyad_vm_mask tiny = pyad_vm_abs_lt(xs, 0x1p-27);  /* sin x rounds to x, cos x to 1 */
    pyad_vm_mask big = ~pyad_vm_abs_lt(xs, PYAD_VM_TRIG_MAX);
    double s, c;
    pyad_vm_sincos_common(pyad_vm_sel(tiny | big, 0.0, xs), &s, &c);
    s = pyad_vm_sel(tiny, x, s);
    c = pyad_vm_sel(tiny, 1.0, c);
    s = pyad_vm_sel(big, x, s);
    c = pyad_vm_sel(big, x, c);
    /* inf - inf raises invalid; a nan comes back quieted. */
    pyad_vm_mask nonfinite = pyad_vm_nonfinite(x);
    *sin_x = pyad_vm_sel(nonfinite, x - x, s);
    *cos_x = pyad_vm_sel(nonfinite, x - x, c);
}

PYAD_VM_INLINE double pyad_vm_sin_common(double x)
{
    double s, c;
    pyad_vm_sincos_common(x, &s, &c);
    return s;
}

PYAD_VM_INLINE double pyad_vm_cos_common(double x)
{
    double s, c;
    pyad_vm_sincos_common(x, &s, &c);
    return c;
}

/* sin x = x raises underflow for a subnormal x (as glibc). Not inside
 * pyad_vm_sincos_fast: cos must not raise it, even where the compiler
 * keeps sin's unused value (e.g. in a sanitised build). */
PYAD_VM_INLINE double pyad_vm_sin_uflow(double x, double s)
{
    return s - pyad_vm_uflow(pyad_vm_abs_lt(x, 0x1p-1022) & ~pyad_vm_abs_lt(x, 0x1p-1074));
}

PYAD_VM_INLINE double pyad_vm_sin_fast(double x)
{
    double s, c;
    pyad_vm_sincos_fast(x, &s, &c);
    return pyad_vm_sin_uflow(x, s);
}

PYAD_VM_INLINE double pyad_vm_cos_fast(double x)
{
    double s, c;
    pyad_vm_sincos_fast(x, &s, &c);
    return c;
}

/* Is x finite and outside the fast path? (quiet comparisons) */
PYAD_VM_INLINE int pyad_vm_trig_big(double x)
{
    return isgreaterequal(fabs(x), PYAD_VM_TRIG_MAX) && isless(fabs(x), INFINITY);
}

PYAD_VM_INLINE double pyad_sin(double x)
{
    return pyad_vm_trig_big(x) ? sin(x) : pyad_vm_sin_fast(x);
}

PYAD_VM_INLINE double pyad_cos(double x)
{
    return pyad_vm_trig_big(x) ? cos(x) : pyad_vm_cos_fast(x);
}

PYAD_VM_INLINE void pyad_sincos(double x, double *sin_x, double *cos_x)
{
    if (pyad_vm_trig_big(x)) {
        *sin_x = sin(x);
        *cos_x = cos(x);
    } else {
        pyad_vm_sincos_fast(x, sin_x, cos_x);
        *sin_x = pyad_vm_sin_uflow(x, *sin_x);
    }
}

#endif
