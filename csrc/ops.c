/* ops.c -- every op pyad knows: value and local partials, one row each.
 *
 * Conventions (README, "Numerical conventions"): IEEE results, no traps;
 * relu'(0) = abs'(0) = 0; sqrt'(0) = +inf; d/dx x**k = 0 when k == 0;
 * d/dk a**k = 0 where a == 0 and nan where a < 0. A nan operand gives a nan
 * partial where the formula would not produce one by itself.
 */
#include <math.h>
#include "ops.h"
#include "pyad.h"

#define UNUSED(x) (void)(x)

/* ---- binary ---------------------------------------------------------- */
static double add_f(const double *x, size_t n) { UNUSED(n); return x[0] + x[1]; }
static void add_d(const double *x, size_t n, double y, double *d)
{ UNUSED(x); UNUSED(n); UNUSED(y); d[0] = 1.0; d[1] = 1.0; }

static double sub_f(const double *x, size_t n) { UNUSED(n); return x[0] - x[1]; }
static void sub_d(const double *x, size_t n, double y, double *d)
{ UNUSED(x); UNUSED(n); UNUSED(y); d[0] = 1.0; d[1] = -1.0; }

static double mul_f(const double *x, size_t n) { UNUSED(n); return x[0] * x[1]; }
static void mul_d(const double *x, size_t n, double y, double *d)
{ UNUSED(n); UNUSED(y); d[0] = x[1]; d[1] = x[0]; }

static double div_f(const double *x, size_t n) { UNUSED(n); return x[0] / x[1]; }
static void div_d(const double *x, size_t n, double y, double *d)
{ UNUSED(n); d[0] = 1.0 / x[1]; d[1] = -y / x[1]; }   /* -a/b^2 = -(a/b)/b */

static double pow_f(const double *x, size_t n) { UNUSED(n); return pow(x[0], x[1]); }
static void pow_d(const double *x, size_t n, double y, double *d)
{
    double a = x[0], k = x[1];
    UNUSED(n);
    d[0] = (k == 0.0) ? 0.0 : k * pow(a, k - 1.0);
    if (a == 0.0)
        d[1] = 0.0;
    else if (a < 0.0)
        d[1] = NAN;
    else
        d[1] = y * log(a);
}

/* ---- unary ----------------------------------------------------------- */
static double neg_f(const double *x, size_t n) { UNUSED(n); return -x[0]; }
static void neg_d(const double *x, size_t n, double y, double *d)
{ UNUSED(x); UNUSED(n); UNUSED(y); d[0] = -1.0; }

static double abs_f(const double *x, size_t n) { UNUSED(n); return fabs(x[0]); }
static void abs_d(const double *x, size_t n, double y, double *d)
{
    UNUSED(n); UNUSED(y);
    d[0] = x[0] > 0.0 ? 1.0 : x[0] < 0.0 ? -1.0 : x[0] == 0.0 ? 0.0 : NAN;
}

static double exp_f(const double *x, size_t n) { UNUSED(n); return exp(x[0]); }
static void exp_d(const double *x, size_t n, double y, double *d)
{ UNUSED(x); UNUSED(n); d[0] = y; }

static double log_f(const double *x, size_t n) { UNUSED(n); return log(x[0]); }
static void log_d(const double *x, size_t n, double y, double *d)
{ UNUSED(n); UNUSED(y); d[0] = x[0] == 0.0 ? INFINITY : 1.0 / x[0]; }  /* -0 too */

static double sin_f(const double *x, size_t n) { UNUSED(n); return sin(x[0]); }
static void sin_d(const double *x, size_t n, double y, double *d)
{ UNUSED(n); UNUSED(y); d[0] = cos(x[0]); }

static double cos_f(const double *x, size_t n) { UNUSED(n); return cos(x[0]); }
static void cos_d(const double *x, size_t n, double y, double *d)
{ UNUSED(n); UNUSED(y); d[0] = -sin(x[0]); }

static double tanh_f(const double *x, size_t n) { UNUSED(n); return tanh(x[0]); }
/* 1/cosh^2 rather than 1 - tanh^2, which cancels to 0 in the tails. */
static void tanh_d(const double *x, size_t n, double y, double *d)
{
    double c = cosh(x[0]);
    UNUSED(n); UNUSED(y);
    d[0] = 1.0 / (c * c);
}

/* 1/(1+e^-a) written so that exp never overflows, whatever the sign of a. */
static double sigmoid_f(const double *x, size_t n)
{
    double a = x[0];
    UNUSED(n);
    if (isgreaterequal(a, 0.0))      /* quiet: a nan operand raises nothing */
        return 1.0 / (1.0 + exp(-a));
    double e = exp(a);
    return e / (1.0 + e);
}
/* s(a) s(-a) = e/(1+e)^2 with e = exp(-|a|): no cancellation in the tails,
 * unlike y * (1 - y). */
static void sigmoid_d(const double *x, size_t n, double y, double *d)
{
    double e = exp(-fabs(x[0]));
    UNUSED(n); UNUSED(y);
    d[0] = x[0] != x[0] ? x[0] : e / ((1.0 + e) * (1.0 + e));
}

static double relu_f(const double *x, size_t n)
{ UNUSED(n); return isgreater(x[0], 0.0) ? x[0] : islessequal(x[0], 0.0) ? 0.0 : x[0]; }
static void relu_d(const double *x, size_t n, double y, double *d)
{ UNUSED(n); UNUSED(y); d[0] = x[0] > 0.0 ? 1.0 : x[0] <= 0.0 ? 0.0 : NAN; }

static double sqrt_f(const double *x, size_t n) { UNUSED(n); return sqrt(x[0]); }
static void sqrt_d(const double *x, size_t n, double y, double *d)
{ UNUSED(x); UNUSED(n); d[0] = y == 0.0 ? INFINITY : 0.5 / y; }  /* +inf at ±0 */

static double log1p_f(const double *x, size_t n) { UNUSED(n); return log1p(x[0]); }
static void log1p_d(const double *x, size_t n, double y, double *d)
{ UNUSED(n); UNUSED(y); d[0] = 1.0 / (1.0 + x[0]); }

static double expm1_f(const double *x, size_t n) { UNUSED(n); return expm1(x[0]); }
static void expm1_d(const double *x, size_t n, double y, double *d)
{ UNUSED(n); UNUSED(y); d[0] = exp(x[0]); }

/* log(1+e^a) = max(a,0) + log1p(e^-|a|): no overflow, exact tails. */
static double softplus_f(const double *x, size_t n)
{
    double a = x[0];
    UNUSED(n);
    if (a != a)
        return a;
    return (a > 0.0 ? a : 0.0) + log1p(exp(-fabs(a)));
}
static void softplus_d(const double *x, size_t n, double y, double *d)
{ UNUSED(y); d[0] = sigmoid_f(x, n); }

/* ---- n-ary ----------------------------------------------------------- */
static double sum_f(const double *x, size_t n)
{
    double s = 0.0;
    if (n == 0)
        return 0.0;
    s = x[0];                 /* start from x[0], so sum([-0.0]) is -0.0 */
    for (size_t i = 1; i < n; i++)
        s += x[i];
    return s;
}
static void sum_d(const double *x, size_t n, double y, double *d)
{ UNUSED(x); UNUSED(y); for (size_t i = 0; i < n; i++) d[i] = 1.0; }

/* ---- comparisons and select (for branch-free code: pyad.where) -------
 * A comparison gives 1.0 or 0.0 (0.0 when either operand is nan) and has
 * zero partials: it is piecewise constant. where(c, a, b) is a when c > 0
 * else b (so a nan condition selects b); its partial is 1 for the selected
 * operand and 0 for the other two. */
static void zero2_d(const double *x, size_t n, double y, double *d)
{ UNUSED(x); UNUSED(n); UNUSED(y); d[0] = 0.0; d[1] = 0.0; }

/* The quiet comparison macros: < on a nan raises FE_INVALID, these do not,
 * so that a nan operand is not an error under errstate(invalid='raise'). */
static double lt_f(const double *x, size_t n) { UNUSED(n); return isless(x[0], x[1]) ? 1.0 : 0.0; }
static double le_f(const double *x, size_t n) { UNUSED(n); return islessequal(x[0], x[1]) ? 1.0 : 0.0; }
static double gt_f(const double *x, size_t n) { UNUSED(n); return isgreater(x[0], x[1]) ? 1.0 : 0.0; }
static double ge_f(const double *x, size_t n) { UNUSED(n); return isgreaterequal(x[0], x[1]) ? 1.0 : 0.0; }

static double where_f(const double *x, size_t n) { UNUSED(n); return isgreater(x[0], 0.0) ? x[1] : x[2]; }
static void where_d(const double *x, size_t n, double y, double *d)
{
    int c = x[0] > 0.0;
    UNUSED(n); UNUSED(y);
    d[0] = 0.0;
    d[1] = c ? 1.0 : 0.0;
    d[2] = c ? 0.0 : 1.0;
}

/* dot(w, x[, b]) over n = 2k (+1) operands w0..wk-1, x0..xk-1 (, b):
 * sum of w_i * x_i, left to right, plus b when n is odd. One node for a
 * whole neuron instead of 2k. */
static double dot_f(const double *x, size_t n)
{
    size_t k = n / 2;
    double s = 0.0;
    for (size_t i = 0; i < k; i++)
        s = i ? s + x[i] * x[k + i] : x[0] * x[k];
    if (n % 2)
        s = k ? s + x[n - 1] : x[0];
    return s;
}
static void dot_d(const double *x, size_t n, double y, double *d)
{
    size_t k = n / 2;
    UNUSED(y);
    for (size_t i = 0; i < k; i++) {
        d[i] = x[k + i];
        d[k + i] = x[i];
    }
    if (n % 2)
        d[n - 1] = 1.0;
}

/* ---- the table ------------------------------------------------------- */
const pyad_op_row pyad_ops[] = {
    {"add", 2, add_f, add_d},
    {"sub", 2, sub_f, sub_d},
    {"mul", 2, mul_f, mul_d},
    {"div", 2, div_f, div_d},
    {"pow", 2, pow_f, pow_d},
    {"neg", 1, neg_f, neg_d},
    {"abs", 1, abs_f, abs_d},
    {"exp", 1, exp_f, exp_d},
    {"log", 1, log_f, log_d},
    {"sin", 1, sin_f, sin_d},
    {"cos", 1, cos_f, cos_d},
    {"tanh", 1, tanh_f, tanh_d},
    {"sigmoid", 1, sigmoid_f, sigmoid_d},
    {"relu", 1, relu_f, relu_d},
    {"sqrt", 1, sqrt_f, sqrt_d},
    {"log1p", 1, log1p_f, log1p_d},
    {"expm1", 1, expm1_f, expm1_d},
    {"softplus", 1, softplus_f, softplus_d},
    {"sum", -1, sum_f, sum_d},
    {"lt", 2, lt_f, zero2_d},
    {"le", 2, le_f, zero2_d},
    {"gt", 2, gt_f, zero2_d},
    {"ge", 2, ge_f, zero2_d},
    {"where", 3, where_f, where_d},
    {"dot", -1, dot_f, dot_d},
};
const int pyad_n_ops = (int)(sizeof pyad_ops / sizeof pyad_ops[0]);

int pyad_fp_status(int mode, int raised)
{
    if ((mode & PYAD_RAISE_INVALID) && (raised & FE_INVALID))
        return PYAD_ERR_INVALID;
    if ((mode & PYAD_RAISE_DIVIDE) && (raised & FE_DIVBYZERO))
        return PYAD_ERR_DIVIDE;
    if ((mode & PYAD_RAISE_OVERFLOW) && (raised & FE_OVERFLOW))
        return PYAD_ERR_OVERFLOW;
    if ((mode & PYAD_RAISE_UNDERFLOW) && (raised & FE_UNDERFLOW))
        return PYAD_ERR_UNDERFLOW;
    return PYAD_OK;
}
