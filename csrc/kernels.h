/* kernels.h -- the elementary functions the op definitions call.
 *
 * exp, expm1, log, log1p, sin, cos, tanh, cosh and sinh are pyad's own
 * kernels (vmath*.h: < 0.64 ulp, glibc's IEEE flags, the same bits on every
 * platform and instruction set); sech2 = 1/cosh^2 (tanh's derivative) is
 * built from their parts (vmath_hyp.h: a few ulp, sharing tanh's expm1).
 * A translation unit picks one of three
 * forms, all with the same bits wherever they give a number:
 *
 *   point  (default)  the common path behind a well-predicted branch: for
 *                     one value at a time (eager recording, point replay);
 *   lanes  (PYAD_LANES)  branch-free, so that a loop over points vectorises
 *                     (batch replay): each kernel's common path alone, nan
 *                     for the arguments outside its ordinary range (vmath.h:
 *                     e.g. |x| < 2^-60 or >= 600 for exp), at ~2/3 of the
 *                     cost of the full kernel;
 *   exact lanes  (PYAD_LANES and PYAD_LANES_EXACT)  branch-free full
 *                     kernels: a number for every argument, except sin and
 *                     cos, nan for |x| >= 2^20 (finite), which their fast
 *                     path does not reduce.
 *
 * batch.c recomputes every point where a lanes form gave nan and the
 * operands are not nan with the point form (ops.c), and switches an
 * instruction whose points keep needing that to the exact lanes forms
 * (batch_exact.c), so the results are the point form's bits everywhere.
 *
 * pyad_kw_<name> is the kernel in its wide form: the exact lanes form under
 * PYAD_LANES, else the point form; pyad_k_<name> is the same, except in
 * the lanes form. The n-ary ops always run with the exact lanes forms
 * (logsumexp's exp(0) at its maximum would send every point to the
 * recomputation).
 */
#ifndef PYAD_KERNELS_H
#define PYAD_KERNELS_H
#include "vmath.h"
#include "vmath_hyp.h"
#include "vmath_log.h"
#include "vmath_trig.h"
#include "vmath_vec.h"

/* pyad_kw_<name>: the full kernel (exact lanes) or the point form. */
#ifdef PYAD_LANES
#define PYAD_KW_(name, full) \
    PYAD_VM_INLINE double pyad_kw_##name(double x) { return full(x); }
PYAD_KW_(exp, pyad_exp)
PYAD_KW_(expm1, pyad_expm1)
PYAD_KW_(log, pyad_log)
PYAD_KW_(log1p, pyad_log1p)
PYAD_KW_(tanh, pyad_tanh)
PYAD_KW_(cosh, pyad_cosh)
PYAD_KW_(sinh, pyad_sinh)
PYAD_KW_(sech2, pyad_sech2)
PYAD_VM_INLINE double pyad_kw_sin(double x)
{
    pyad_vm_mask big = ~pyad_vm_abs_lt(x, PYAD_VM_TRIG_MAX) & ~pyad_vm_nonfinite(x);
    return pyad_vm_sel(big, NAN, pyad_vm_sin_fast(x));
}
PYAD_VM_INLINE double pyad_kw_cos(double x)
{
    pyad_vm_mask big = ~pyad_vm_abs_lt(x, PYAD_VM_TRIG_MAX) & ~pyad_vm_nonfinite(x);
    return pyad_vm_sel(big, NAN, pyad_vm_cos_fast(x));
}
#else
#define PYAD_KW_(name, point) \
    PYAD_VM_INLINE double pyad_kw_##name(double x) { return point(x); }
PYAD_KW_(exp, pyad_exp_point)
PYAD_KW_(expm1, pyad_expm1_point)
PYAD_KW_(log, pyad_log_point)
PYAD_KW_(log1p, pyad_log1p_point)
PYAD_KW_(tanh, pyad_tanh_point)
PYAD_KW_(cosh, pyad_cosh_point)
PYAD_KW_(sinh, pyad_sinh_point)
PYAD_KW_(sech2, pyad_sech2_point)
PYAD_KW_(sin, pyad_sin_point)
PYAD_KW_(cos, pyad_cos_point)
#endif
#undef PYAD_KW_

/* pyad_k_<name>: the lanes form (the common path, nan outside the
 * ordinary range), or the wide form. */
#if defined(PYAD_LANES) && !defined(PYAD_LANES_EXACT)
#define PYAD_K1_(name, rare, common) \
    PYAD_VM_INLINE double pyad_k_##name(double x) { return pyad_vm_sel(rare(x), NAN, common(x)); }
PYAD_K1_(exp, pyad_vm_exp_rare, pyad_vm_exp_common)
PYAD_K1_(expm1, pyad_vm_expm1_rare, pyad_vm_expm1_common)
PYAD_K1_(log, pyad_vm_log_rare, pyad_vm_log_common)
PYAD_K1_(log1p, pyad_vm_log1p_rare, pyad_vm_log1p_common)
PYAD_K1_(tanh, pyad_vm_tanh_rare, pyad_vm_tanh_common)
PYAD_K1_(cosh, pyad_vm_cosh_rare, pyad_vm_cosh_common)
PYAD_K1_(sinh, pyad_vm_sinh_rare, pyad_vm_sinh_common)
PYAD_K1_(sech2, pyad_vm_sech2_rare, pyad_vm_sech2_common)
PYAD_K1_(sin, pyad_vm_trig_rare, pyad_vm_sin_common)
PYAD_K1_(cos, pyad_vm_trig_rare, pyad_vm_cos_common)
#else
#define PYAD_K1_(name) \
    PYAD_VM_INLINE double pyad_k_##name(double x) { return pyad_kw_##name(x); }
PYAD_K1_(exp)
PYAD_K1_(expm1)
PYAD_K1_(log)
PYAD_K1_(log1p)
PYAD_K1_(tanh)
PYAD_K1_(cosh)
PYAD_K1_(sinh)
PYAD_K1_(sech2)
PYAD_K1_(sin)
PYAD_K1_(cos)
#endif
#undef PYAD_K1_

#endif
