/* kernels.h -- the elementary functions the op definitions call.
 *
 * exp, expm1, log, log1p, sin, cos, tanh, cosh and sinh are pyad's own
 * kernels (vmath*.h: < 0.64 ulp, glibc's IEEE flags, the same bits on every
 * platform and instruction set). Each comes in two forms with identical
 * bits and flags, and a translation unit picks one:
 *
 *   point  (default)  the common path behind a well-predicted branch: for
 *                     one value at a time (eager recording, point replay);
 *   lanes  (PYAD_LANES defined before including)  branch-free, so that a
 *                     loop over points vectorises (batch replay). sin and
 *                     cos give nan for |x| >= 2^20 (finite), which their
 *                     fast path does not reduce: batch.c recomputes every
 *                     point whose value is nan and whose operands are not
 *                     with the point form (ops.c), so the results are the
 *                     same bits as the point form's everywhere.
 */
#ifndef PYAD_KERNELS_H
#define PYAD_KERNELS_H
#include "vmath.h"
#include "vmath_hyp.h"
#include "vmath_log.h"
#include "vmath_trig.h"
#include "vmath_vec.h"

#ifdef PYAD_LANES
#define PYAD_K1_(name, full) \
    PYAD_VM_INLINE double pyad_k_##name(double x) { return full(x); }
PYAD_K1_(exp, pyad_exp)
PYAD_K1_(expm1, pyad_expm1)
PYAD_K1_(log, pyad_log)
PYAD_K1_(log1p, pyad_log1p)
PYAD_K1_(tanh, pyad_tanh)
PYAD_K1_(cosh, pyad_cosh)
PYAD_K1_(sinh, pyad_sinh)
PYAD_VM_INLINE double pyad_k_sin(double x)
{
    pyad_vm_mask big = ~pyad_vm_abs_lt(x, PYAD_VM_TRIG_MAX) & ~pyad_vm_nonfinite(x);
    return pyad_vm_sel(big, NAN, pyad_vm_sin_fast(x));
}
PYAD_VM_INLINE double pyad_k_cos(double x)
{
    pyad_vm_mask big = ~pyad_vm_abs_lt(x, PYAD_VM_TRIG_MAX) & ~pyad_vm_nonfinite(x);
    return pyad_vm_sel(big, NAN, pyad_vm_cos_fast(x));
}
#else
#define PYAD_K1_(name, point) \
    PYAD_VM_INLINE double pyad_k_##name(double x) { return point(x); }
PYAD_K1_(exp, pyad_exp_point)
PYAD_K1_(expm1, pyad_expm1_point)
PYAD_K1_(log, pyad_log_point)
PYAD_K1_(log1p, pyad_log1p_point)
PYAD_K1_(tanh, pyad_tanh_point)
PYAD_K1_(cosh, pyad_cosh_point)
PYAD_K1_(sinh, pyad_sinh_point)
PYAD_K1_(sin, pyad_sin_point)
PYAD_K1_(cos, pyad_cos_point)
#endif
#undef PYAD_K1_

#endif
