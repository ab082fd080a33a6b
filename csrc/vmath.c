/* vmath.c -- test and benchmark entry points for the kernels of vmath.h:
 * evaluate one kernel over an array through its vector helper, through the
 * scalar kernel in a loop kept scalar, or through the C library, and report
 * the IEEE flags raised. Nothing else in pyad calls these. */
#include <fenv.h>
#include <math.h>
#include "ops.h"
#include "pyad.h"
#include "vmath.h"

/* A loop that the compiler must not vectorise, to time the scalar kernel
 * as one call per element. */
#if defined(__clang__)
#define PYAD_NOVEC_LOOP _Pragma("clang loop vectorize(disable) interleave(disable)")
#define PYAD_NOVEC_FN
#elif defined(__GNUC__)
#define PYAD_NOVEC_LOOP
#define PYAD_NOVEC_FN __attribute__((optimize("no-tree-vectorize")))
#else
#define PYAD_NOVEC_LOOP
#define PYAD_NOVEC_FN
#endif

typedef double (*vm_scalar_fn)(double);

static double libm_exp(double x) { return exp(x); }
static double libm_expm1(double x) { return expm1(x); }
static double libm_log(double x) { return log(x); }
static double libm_log1p(double x) { return log1p(x); }
static double libm_sin(double x) { return sin(x); }
static double libm_cos(double x) { return cos(x); }
static double libm_tanh(double x) { return tanh(x); }
static double libm_cosh(double x) { return cosh(x); }
static double libm_sinh(double x) { return sinh(x); }

static double our_exp(double x) { return pyad_exp(x); }
static double our_expm1(double x) { return pyad_expm1(x); }
static double our_log(double x) { return pyad_log(x); }
static double our_log1p(double x) { return pyad_log1p(x); }
static double our_sin(double x) { return pyad_sin(x); }
static double our_cos(double x) { return pyad_cos(x); }
static double our_tanh(double x) { return pyad_tanh(x); }
static double our_cosh(double x) { return pyad_cosh(x); }
static double our_sinh(double x) { return pyad_sinh(x); }

static double point_exp(double x) { return pyad_exp_point(x); }
static double point_expm1(double x) { return pyad_expm1_point(x); }
static double point_log(double x) { return pyad_log_point(x); }
static double point_log1p(double x) { return pyad_log1p_point(x); }
static double point_sin(double x) { return pyad_sin_point(x); }
static double point_cos(double x) { return pyad_cos_point(x); }
static double point_tanh(double x) { return pyad_tanh_point(x); }
static double point_cosh(double x) { return pyad_cosh_point(x); }
static double point_sinh(double x) { return pyad_sinh_point(x); }

/* Indexed by kernel; PYAD_VMATH_SINCOS has no single-valued function. */
static const vm_scalar_fn libm_fns[PYAD_VMATH_N_KERNELS] = {
    libm_exp, libm_expm1, libm_log, libm_log1p, libm_sin, libm_cos, libm_tanh, 0,
    libm_cosh, libm_sinh};
static const vm_scalar_fn our_fns[PYAD_VMATH_N_KERNELS] = {
    our_exp, our_expm1, our_log, our_log1p, our_sin, our_cos, our_tanh, 0,
    our_cosh, our_sinh};
static const vm_scalar_fn point_fns[PYAD_VMATH_N_KERNELS] = {
    point_exp, point_expm1, point_log, point_log1p, point_sin, point_cos, point_tanh, 0,
    point_cosh, point_sinh};

#define PYAD_VECTOR_PASS_BODY                                               \
    switch (kernel) {                                                       \
    case PYAD_VMATH_EXP: pyad_vexp(x, y, n); break;                         \
    case PYAD_VMATH_EXPM1: pyad_vexpm1(x, y, n); break;                     \
    case PYAD_VMATH_LOG: pyad_vlog(x, y, n); break;                         \
    case PYAD_VMATH_LOG1P: pyad_vlog1p(x, y, n); break;                     \
    case PYAD_VMATH_SIN: pyad_vsin(x, y, n); break;                         \
    case PYAD_VMATH_COS: pyad_vcos(x, y, n); break;                         \
    case PYAD_VMATH_TANH: pyad_vtanh(x, y, n); break;                       \
    case PYAD_VMATH_COSH: pyad_vcosh(x, y, n); break;                       \
    case PYAD_VMATH_SINH: pyad_vsinh(x, y, n); break;                       \
    default: pyad_vsincos(x, y, y + n, n); break;                           \
    }

static void vector_pass(int kernel, const double *x, double *y, size_t n)
{
    PYAD_VECTOR_PASS_BODY
}

/* The same loops compiled for AVX2 (4 lanes, 3-operand forms; no FMA, and
 * contraction is off), chosen at run time: must give the same bits. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PYAD_HAVE_AVX2_PASS 1
__attribute__((target("avx2")))
static void vector_pass_avx2(int kernel, const double *x, double *y, size_t n)
{
    PYAD_VECTOR_PASS_BODY
}

static int have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
#else
#define PYAD_HAVE_AVX2_PASS 0
#endif

PYAD_NOVEC_FN
static void scalar_pass(int kernel, int how, const double *x, double *y, size_t n)
{
    if (kernel == PYAD_VMATH_SINCOS) {
        PYAD_NOVEC_LOOP
        for (size_t j = 0; j < n; j++) {
            if (how == PYAD_VMATH_LIBM) {
                y[j] = sin(x[j]);
                y[n + j] = cos(x[j]);
            } else if (how == PYAD_VMATH_POINT) {
                pyad_sincos_point(x[j], &y[j], &y[n + j]);
            } else {
                pyad_sincos(x[j], &y[j], &y[n + j]);
            }
        }
        return;
    }
    /* Calls through the pointer are not inlined: each element is one call,
     * as in a scalar evaluator. */
    vm_scalar_fn f = how == PYAD_VMATH_LIBM    ? libm_fns[kernel]
                     : how == PYAD_VMATH_POINT ? point_fns[kernel]
                                               : our_fns[kernel];
    PYAD_NOVEC_LOOP
    for (size_t j = 0; j < n; j++)
        y[j] = f(x[j]);
}

static int watched_bits(int raised)
{
    return ((raised & FE_DIVBYZERO) ? PYAD_RAISE_DIVIDE : 0)
           | ((raised & FE_OVERFLOW) ? PYAD_RAISE_OVERFLOW : 0)
           | ((raised & FE_INVALID) ? PYAD_RAISE_INVALID : 0)
           | ((raised & FE_UNDERFLOW) ? PYAD_RAISE_UNDERFLOW : 0);
}

static int bad_args(int kernel, int how)
{
    if (kernel < 0 || kernel >= PYAD_VMATH_N_KERNELS || how < 0
        || how > PYAD_VMATH_POINT)
        return 1;
#if PYAD_HAVE_AVX2_PASS
    return how == PYAD_VMATH_VECTOR_AVX2 && !have_avx2();
#else
    return how == PYAD_VMATH_VECTOR_AVX2;
#endif
}

static void run(int kernel, int how, const double *x, double *y, size_t n)
{
    if (how == PYAD_VMATH_VECTOR)
        vector_pass(kernel, x, y, n);
#if PYAD_HAVE_AVX2_PASS
    else if (how == PYAD_VMATH_VECTOR_AVX2)
        vector_pass_avx2(kernel, x, y, n);
#endif
    else
        scalar_pass(kernel, how, x, y, n);
}

int pyad_vmath(int kernel, int how, const double *x, double *y, size_t n)
{
    if (bad_args(kernel, how))
        return PYAD_ERR_OP;
    if (n > 0 && (x == NULL || y == NULL))
        return PYAD_ERR_ARGS;
    feclearexcept(FE_ALL_EXCEPT);
    run(kernel, how, x, y, n);
    return watched_bits(fetestexcept(PYAD_FE_WATCHED));
}

int pyad_vmath_flags(int kernel, int how, const double *x, double *y,
                     uint8_t *flags, size_t n)
{
    if (bad_args(kernel, how))
        return PYAD_ERR_OP;
    if (n > 0 && (x == NULL || y == NULL || flags == NULL))
        return PYAD_ERR_ARGS;
    for (size_t j = 0; j < n; j++) {
        double out[2];
        feclearexcept(FE_ALL_EXCEPT);
        run(kernel, how, &x[j], out, 1);
        flags[j] = (uint8_t)watched_bits(fetestexcept(PYAD_FE_WATCHED));
        y[j] = out[0];
        if (kernel == PYAD_VMATH_SINCOS)
            y[n + j] = out[1];
    }
    return PYAD_OK;
}

int pyad_vmath_repeat(int kernel, int how, const double *x, double *y,
                      size_t n, size_t reps)
{
    if (bad_args(kernel, how))
        return PYAD_ERR_OP;
    if (n > 0 && (x == NULL || y == NULL))
        return PYAD_ERR_ARGS;
    for (size_t r = 0; r < reps; r++)
        run(kernel, how, x, y, n);
    return PYAD_OK;
}
