/* vmath_vec.h -- the vector helpers: y[j] = f(x[j]) for j < n, y may be x
 * (included by vmath.h).
 *
 * Each helper works in chunks. A first, cheap vectorised pass over a chunk
 * tests whether every argument is *ordinary* (the kernel's *_rare mask is
 * zero everywhere; e.g. 2^-60 <= |x| < 600 for exp): then the chunk goes
 * through the kernel's *_common path, which has no clamp, no special case
 * and no flag to raise, and costs ~2/3 of the full kernel. Otherwise the
 * chunk goes through the full branch-free kernel (and, for sin and cos, a
 * scalar pass over the lanes beyond the fast path). On ordinary arguments
 * both paths execute the same operations on the same values, or operations
 * that are exact in both, so the helpers give the scalar kernels' bits, and
 * their flags, whatever the mix of arguments.
 */
#ifndef PYAD_VMATH_VEC_H
#define PYAD_VMATH_VEC_H

#define PYAD_VM_CHUNK 128

#define PYAD_VM_HELPER(name, rare, common, full_chunk)                      \
    PYAD_VM_INLINE void name(const double *x, double *y, size_t n)          \
    {                                                                       \
        for (size_t b = 0; b < n; b += PYAD_VM_CHUNK) {                     \
            size_t m = n - b < PYAD_VM_CHUNK ? n - b : PYAD_VM_CHUNK;       \
            const double *xb = x + b;                                       \
            double *yb = y + b;                                             \
            pyad_vm_mask any = 0;                                           \
            for (size_t j = 0; j < m; j++)                                  \
                any |= rare(xb[j]);                                         \
            if (any == 0) {                                                 \
                for (size_t j = 0; j < m; j++)                              \
                    yb[j] = common(xb[j]);                                  \
            } else {                                                        \
                full_chunk(xb, yb, m);                                      \
            }                                                               \
        }                                                                   \
    }

#define PYAD_VM_FULL_CHUNK(name, kernel)                                    \
    PYAD_VM_INLINE void name(const double *x, double *y, size_t n)          \
    {                                                                       \
        for (size_t j = 0; j < n; j++)                                      \
            y[j] = kernel(x[j]);                                            \
    }

PYAD_VM_FULL_CHUNK(pyad_vm_exp_chunk, pyad_exp)
PYAD_VM_FULL_CHUNK(pyad_vm_expm1_chunk, pyad_expm1)
PYAD_VM_FULL_CHUNK(pyad_vm_log_chunk, pyad_log)
PYAD_VM_FULL_CHUNK(pyad_vm_log1p_chunk, pyad_log1p)
PYAD_VM_FULL_CHUNK(pyad_vm_tanh_chunk, pyad_tanh)
PYAD_VM_FULL_CHUNK(pyad_vm_cosh_chunk, pyad_cosh)
PYAD_VM_FULL_CHUNK(pyad_vm_sinh_chunk, pyad_sinh)

/* sin and cos: the branch-free pass leaves x in the lanes beyond 2^20,
 * which a scalar pass recomputes with libm (sin or cos of a value never
 * lands beyond 2^20, so the test on y is safe in place). */
PYAD_VM_INLINE void pyad_vm_sin_chunk(const double *x, double *y, size_t n)
{
    for (size_t j = 0; j < n; j++)
        y[j] = pyad_vm_sin_fast(x[j]);
    for (size_t j = 0; j < n; j++)
        if (pyad_vm_trig_big(y[j]))
            y[j] = sin(y[j]);
}

PYAD_VM_INLINE void pyad_vm_cos_chunk(const double *x, double *y, size_t n)
{
    for (size_t j = 0; j < n; j++)
        y[j] = pyad_vm_cos_fast(x[j]);
    for (size_t j = 0; j < n; j++)
        if (pyad_vm_trig_big(y[j]))
            y[j] = cos(y[j]);
}

PYAD_VM_HELPER(pyad_vexp, pyad_vm_exp_rare, pyad_vm_exp_common, pyad_vm_exp_chunk)
PYAD_VM_HELPER(pyad_vexpm1, pyad_vm_expm1_rare, pyad_vm_expm1_common, pyad_vm_expm1_chunk)
PYAD_VM_HELPER(pyad_vlog, pyad_vm_log_rare, pyad_vm_log_common, pyad_vm_log_chunk)
PYAD_VM_HELPER(pyad_vlog1p, pyad_vm_log1p_rare, pyad_vm_log1p_common, pyad_vm_log1p_chunk)
PYAD_VM_HELPER(pyad_vtanh, pyad_vm_tanh_rare, pyad_vm_tanh_common, pyad_vm_tanh_chunk)
PYAD_VM_HELPER(pyad_vcosh, pyad_vm_cosh_rare, pyad_vm_cosh_common, pyad_vm_cosh_chunk)
PYAD_VM_HELPER(pyad_vsinh, pyad_vm_sinh_rare, pyad_vm_sinh_common, pyad_vm_sinh_chunk)
PYAD_VM_HELPER(pyad_vsin, pyad_vm_trig_rare, pyad_vm_sin_common, pyad_vm_sin_chunk)
PYAD_VM_HELPER(pyad_vcos, pyad_vm_trig_rare, pyad_vm_cos_common, pyad_vm_cos_chunk)

PYAD_VM_INLINE void pyad_vsincos(const double *x, double *sin_x, double *cos_x, size_t n)
{
    for (size_t b = 0; b < n; b += PYAD_VM_CHUNK) {
        size_t m = n - b < PYAD_VM_CHUNK ? n - b : PYAD_VM_CHUNK;
        const double *xb = x + b;
        double *sb = sin_x + b, *cb = cos_x + b;
        pyad_vm_mask any = 0;
        for (size_t j = 0; j < m; j++)
            any |= pyad_vm_trig_rare(xb[j]);
        if (any == 0) {
            for (size_t j = 0; j < m; j++)
                pyad_vm_sincos_common(xb[j], &sb[j], &cb[j]);
            continue;
        }
        for (size_t j = 0; j < m; j++) {
            pyad_vm_sincos_fast(xb[j], &sb[j], &cb[j]);
            sb[j] = pyad_vm_sin_uflow(xb[j], sb[j]);
        }
        for (size_t j = 0; j < m; j++)
            if (pyad_vm_trig_big(sb[j])) {
                double v = sb[j];
                sb[j] = sin(v);
                cb[j] = cos(v);
            }
    }
}

/* Point kernels, for one argument at a time (eager recording, point
 * replay): the common path behind a branch that ordinary arguments always
 * take, so well predicted; the full kernel otherwise. Same bits and flags
 * as pyad_exp...; a loop over them does not vectorise (use the helpers). */
#if defined(__GNUC__)
#define PYAD_VM_LIKELY(c) __builtin_expect(!!(c), 1)
#else
#define PYAD_VM_LIKELY(c) (c)
#endif
#define PYAD_VM_POINT(name, rare, common, full)                             \
    PYAD_VM_INLINE double name(double x)                                    \
    {                                                                       \
        return PYAD_VM_LIKELY(rare(x) == 0) ? common(x) : full(x);          \
    }
PYAD_VM_POINT(pyad_exp_point, pyad_vm_exp_rare, pyad_vm_exp_common, pyad_exp)
PYAD_VM_POINT(pyad_expm1_point, pyad_vm_expm1_rare, pyad_vm_expm1_common, pyad_expm1)
PYAD_VM_POINT(pyad_log_point, pyad_vm_log_rare, pyad_vm_log_common, pyad_log)
PYAD_VM_POINT(pyad_log1p_point, pyad_vm_log1p_rare, pyad_vm_log1p_common, pyad_log1p)
PYAD_VM_POINT(pyad_tanh_point, pyad_vm_tanh_rare, pyad_vm_tanh_common, pyad_tanh)
PYAD_VM_POINT(pyad_cosh_point, pyad_vm_cosh_rare, pyad_vm_cosh_common, pyad_cosh)
PYAD_VM_POINT(pyad_sinh_point, pyad_vm_sinh_rare, pyad_vm_sinh_common, pyad_sinh)
PYAD_VM_POINT(pyad_sech2_point, pyad_vm_sech2_rare, pyad_vm_sech2_common, pyad_sech2)
PYAD_VM_POINT(pyad_sin_point, pyad_vm_trig_rare, pyad_vm_sin_common, pyad_sin)
PYAD_VM_POINT(pyad_cos_point, pyad_vm_trig_rare, pyad_vm_cos_common, pyad_cos)

PYAD_VM_INLINE void pyad_sincos_point(double x, double *sin_x, double *cos_x)
{
    if (PYAD_VM_LIKELY(pyad_vm_trig_rare(x) == 0))
        pyad_vm_sincos_common(x, sin_x, cos_x);
    else
        pyad_sincos(x, sin_x, cos_x);
}

#undef PYAD_VM_POINT
#undef PYAD_VM_HELPER
#undef PYAD_VM_FULL_CHUNK
#endif
