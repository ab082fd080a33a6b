/* opdefs.h -- the one definition of every op: its value and its partials.
 *
 * Each op of oplist.h defines here:
 *
 *   pyad_v_<name>        its value: a static inline function of its operands
 *                        (PYAD_VALUE_<name>(X, n, out), a statement over an
 *                        operand accessor, for the n-ary ops);
 *   PYAD_PARTIALS_<name> its partials, d value / d operand i, written ONCE
 *                        in a small algebra that ops.h instantiates three
 *                        ways: with doubles (the partials every evaluator
 *                        uses), with dual numbers (their tangents: the second
 *                        order of Hessian-vector products), and with a graph
 *                        builder (the backward pass recorded as ops:
 *                        backward(create_graph=True), so to any order);
 *   PYAD_NOTE_<name>     its domain and its conventions at kinks and ties.
 *
 * The algebra a partials formula may use:
 *   A(k, c)         the constant c
 *   A(op, a, ...)   the op `op` of oplist.h applied to algebra values
 *   X(j)            operand j;  Y  the op's value;  n  the operand count
 *   T               the algebra's value type (for locals)
 *   PUT(i, v)       the partial for operand i is v. Partials are PUT in
 *                   ascending i: evaluators accumulate in that order, and an
 *                   operand may appear twice (x * x).
 * Conditions use the `where` op (a where c > 0 else b), so the recorded
 * backward of a kink is itself piecewise. Values are computed in forms that
 * raise only the IEEE flags of the value itself (errstate checks them).
 */
#ifndef PYAD_OPDEFS_H
#define PYAD_OPDEFS_H
#include <math.h>
#include <stddef.h>

/* ---- arithmetic ---------------------------------------------------------- */

static inline double pyad_v_add(double a, double b) { return a + b; }
#define PYAD_PARTIALS_add(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 1.0)); PUT(1, A(k, 1.0))
#define PYAD_NOTE_add "IEEE addition"

static inline double pyad_v_sub(double a, double b) { return a - b; }
#define PYAD_PARTIALS_sub(A, T, X, Y, PUT, n) \
    PUT(0, A(k, 1.0)); PUT(1, A(k, -1.0))
#define PYAD_NOTE_sub "IEEE subtraction"

static inline double pyad_v_mul(double a, double b) { return a * b; }
#define PYAD_PARTIALS_mul(A, T, X, Y, PUT, n) \
    PUT(0, X(1)); PUT(1, X(0))
#define PYAD_NOTE_mul "IEEE multiplication"

static inline double pyad_v_div(double a, double b) { return a / b; }
/* d/db a/b = -a/b^2, written -(a/b)/b from the value */
#define PYAD_PARTIALS_div(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), X(1))); PUT(1, A(div, A(neg, Y), X(1)))
#define PYAD_NOTE_div "IEEE division: 1/0 = inf, 0/0 = nan"

static inline double pyad_v_pow(double a, double b) { return pow(a, b); }
/* d/da a**k = k a**(k-1), but 0 where k == 0 (not 0 * inf at a == 0);
 * d/dk a**k = a**k log(a): 0 where a == 0, nan where a < 0 (log's nan).
 * where(|c|, f, |c| * 0) is "f, or +0 where c == ±0", and nan for a nan c. */
#define PYAD_PARTIALS_pow(A, T, X, Y, PUT, n)                                 \
    do {                                                                      \
        T ak_ = A(abs, X(1)), aa_ = A(abs, X(0));                             \
        PUT(0, A(where, ak_,                                                  \
                 A(mul, X(1), A(pow, X(0), A(sub, X(1), A(k, 1.0)))),         \
                 A(mul, ak_, A(k, 0.0))));                                    \
        PUT(1, A(where, aa_, A(mul, Y, A(log, X(0))), A(mul, aa_, A(k, 0.0)))); \
    } while (0)
#define PYAD_NOTE_pow \
    "value as C pow; d/dx x**k = 0 when k == 0; d/dk a**k = 0 where a == 0, nan where a < 0"

static inline double pyad_v_neg(double a) { return -a; }
#define PYAD_PARTIALS_neg(A, T, X, Y, PUT, n) PUT(0, A(k, -1.0))
#define PYAD_NOTE_neg "-x"

static inline double pyad_v_pos(double a) { return a; }
#define PYAD_PARTIALS_pos(A, T, X, Y, PUT, n) PUT(0, A(k, 1.0))
#define PYAD_NOTE_pos "the identity, as a new node (used to cut a graph for nested transforms)"

static inline double pyad_v_square(double a) { return a * a; }
#define PYAD_PARTIALS_square(A, T, X, Y, PUT, n) PUT(0, A(mul, A(k, 2.0), X(0)))
#define PYAD_NOTE_square "x * x"

/* ---- kinks and steps ------------------------------------------------------ */

static inline double pyad_v_abs(double a) { return fabs(a); }
#define PYAD_PARTIALS_abs(A, T, X, Y, PUT, n) PUT(0, A(sign, X(0)))
#define PYAD_NOTE_abs "abs'(0) = 0 (sign(x))"

/* numpy's sign: sign(-0.0) is 0.0, sign(nan) is nan. Quiet comparisons:
 * a nan operand raises no invalid flag. */
static inline double pyad_v_sign(double a)
{
    return isgreater(a, 0.0) ? 1.0 : isless(a, 0.0) ? -1.0 : a == a ? 0.0 : a;
}
#define PYAD_PARTIALS_sign(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0))
#define PYAD_NOTE_sign "values as numpy (sign(-0.0) = 0.0, sign(nan) = nan); gradient 0"

static inline double pyad_v_relu(double a)
{
    return isgreater(a, 0.0) ? a : islessequal(a, 0.0) ? 0.0 : a;
}
/* sign(relu(x)): 1 for x > 0, 0 for x <= 0, nan for nan */
#define PYAD_PARTIALS_relu(A, T, X, Y, PUT, n) PUT(0, A(sign, Y))
#define PYAD_NOTE_relu "relu(-0.0) = 0.0; relu'(0) = 0; relu(nan) = nan"

/* ---- exponentials and logarithms ------------------------------------------- */

static inline double pyad_v_exp(double a) { return exp(a); }
#define PYAD_PARTIALS_exp(A, T, X, Y, PUT, n) PUT(0, Y)
#define PYAD_NOTE_exp "overflows to inf above 709.78"

static inline double pyad_v_expm1(double a) { return expm1(a); }
#define PYAD_PARTIALS_expm1(A, T, X, Y, PUT, n) PUT(0, A(exp, X(0)))
#define PYAD_NOTE_expm1 "exp(x) - 1, exact near 0"

static inline double pyad_v_log(double a) { return log(a); }
/* 1/(x + 0): x + 0 is x, but +0 for -0, so log'(-0) = log'(0) = +inf */
#define PYAD_PARTIALS_log(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(add, X(0), A(k, 0.0))))
#define PYAD_NOTE_log "log(0) = -inf (divide), log(x < 0) = nan (invalid); log'(0) = log'(-0) = +inf"

static inline double pyad_v_log1p(double a) { return log1p(a); }
#define PYAD_PARTIALS_log1p(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(add, A(k, 1.0), X(0))))
#define PYAD_NOTE_log1p "log(1 + x), exact near 0; log1p(-1) = -inf"

static inline double pyad_v_sqrt(double a) { return sqrt(a); }
/* 0.5 / (sqrt(x) + 0): +inf at 0 and at -0 (sqrt(-0) is -0; + 0 makes it +0) */
#define PYAD_PARTIALS_sqrt(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 0.5), A(add, Y, A(k, 0.0))))
#define PYAD_NOTE_sqrt "sqrt(x < 0) = nan (invalid); sqrt'(0) = sqrt'(-0) = +inf"

/* 1/(1+e^-a), in a form where exp never overflows: for a > 40, e^-a <
 * 2^-57 and the value rounds to exactly 1 (returned without computing the
 * exp, whose underflow for a > 708 is not the value's). */
static inline double pyad_v_sigmoid(double a)
{
    if (isgreater(a, 40.0))
        return 1.0;
    if (isgreaterequal(a, 0.0))
        return 1.0 / (1.0 + exp(-a));
    double e = exp(a);          /* a < 0, or nan (propagates) */
    return e / (1.0 + e);
}
/* s(x) s(-x): exact in both tails, unlike y (1 - y) */
#define PYAD_PARTIALS_sigmoid(A, T, X, Y, PUT, n) \
    PUT(0, A(mul, Y, A(sigmoid, A(neg, X(0)))))
#define PYAD_NOTE_sigmoid "1/(1+exp(-x)), never overflows; exact tails"

/* log(1+e^a) = max(a, 0) + log1p(e^-|a|); for a > 40 the log1p term is
 * below half an ulp of a and the value is a itself. */
static inline double pyad_v_softplus(double a)
{
    if (a != a)
        return a;
    if (a > 40.0)
        return a;
    return (a > 0.0 ? a : 0.0) + log1p(exp(-fabs(a)));
}
#define PYAD_PARTIALS_softplus(A, T, X, Y, PUT, n) PUT(0, A(sigmoid, X(0)))
#define PYAD_NOTE_softplus "log(1+exp(x)), never overflows; softplus' = sigmoid"

/* ---- trigonometric and hyperbolic ------------------------------------------ */

static inline double pyad_v_sin(double a) { return sin(a); }
#define PYAD_PARTIALS_sin(A, T, X, Y, PUT, n) PUT(0, A(cos, X(0)))
#define PYAD_NOTE_sin "sin(inf) = nan (invalid)"

static inline double pyad_v_cos(double a) { return cos(a); }
#define PYAD_PARTIALS_cos(A, T, X, Y, PUT, n) PUT(0, A(neg, A(sin, X(0))))
#define PYAD_NOTE_cos "cos(inf) = nan (invalid)"

static inline double pyad_v_tanh(double a) { return tanh(a); }
/* 1/cosh^2 rather than 1 - tanh^2, which cancels to 0 in the tails */
#define PYAD_PARTIALS_tanh(A, T, X, Y, PUT, n) \
    PUT(0, A(div, A(k, 1.0), A(square, A(cosh, X(0)))))
#define PYAD_NOTE_tanh "tanh' = 1/cosh(x)^2, exact in the tails"

static inline double pyad_v_cosh(double a) { return cosh(a); }
#define PYAD_PARTIALS_cosh(A, T, X, Y, PUT, n) PUT(0, A(sinh, X(0)))
#define PYAD_NOTE_cosh "overflows to inf above 710.48"

static inline double pyad_v_sinh(double a) { return sinh(a); }
#define PYAD_PARTIALS_sinh(A, T, X, Y, PUT, n) PUT(0, A(cosh, X(0)))
#define PYAD_NOTE_sinh "overflows to inf above 710.48"

/* ---- comparisons and select (branch-free code: pyad.where) -----------------
 * A comparison gives 1.0 or 0.0 (0.0 when either operand is nan), with
 * quiet comparisons (a nan raises no invalid flag), and has zero partials:
 * it is piecewise constant. where(c, a, b) is a where c > 0 else b (so a nan
 * condition selects b); the gradient goes to the selected operand. */
static inline double pyad_v_lt(double a, double b) { return isless(a, b) ? 1.0 : 0.0; }
static inline double pyad_v_le(double a, double b) { return islessequal(a, b) ? 1.0 : 0.0; }
static inline double pyad_v_gt(double a, double b) { return isgreater(a, b) ? 1.0 : 0.0; }
static inline double pyad_v_ge(double a, double b) { return isgreaterequal(a, b) ? 1.0 : 0.0; }
#define PYAD_PARTIALS_CMP_(A, T, X, Y, PUT, n) PUT(0, A(k, 0.0)); PUT(1, A(k, 0.0))
#define PYAD_PARTIALS_lt PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_le PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_gt PYAD_PARTIALS_CMP_
#define PYAD_PARTIALS_ge PYAD_PARTIALS_CMP_
#define PYAD_NOTE_lt "1.0 if a < b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_le "1.0 if a <= b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_gt "1.0 if a > b else 0.0 (0.0 with a nan); gradient 0"
#define PYAD_NOTE_ge "1.0 if a >= b else 0.0 (0.0 with a nan); gradient 0"

static inline double pyad_v_where(double c, double a, double b)
{
    return isgreater(c, 0.0) ? a : b;
}
#define PYAD_PARTIALS_where(A, T, X, Y, PUT, n)      \
    PUT(0, A(k, 0.0));                               \
    PUT(1, A(where, X(0), A(k, 1.0), A(k, 0.0)));    \
    PUT(2, A(where, X(0), A(k, 0.0), A(k, 1.0)))
#define PYAD_NOTE_where "a where cond > 0 else b (a nan cond selects b); gradient to the selected operand"

/* ---- n-ary ----------------------------------------------------------------- */

/* x0 + x1 + ... left to right, starting from x0 (so sum([-0.0]) is -0.0) */
#define PYAD_VALUE_sum(X, n, out)                      \
    do {                                               \
        double s_ = X(0);                              \
        for (size_t i_ = 1; i_ < (n); i_++)            \
            s_ += X(i_);                               \
        (out) = s_;                                    \
    } while (0)
#define PYAD_PARTIALS_sum(A, T, X, Y, PUT, n) \
    for (size_t i_ = 0; i_ < (n); i_++)       \
        PUT(i_, A(k, 1.0))
#define PYAD_NOTE_sum "left to right from the first operand"

/* dot(w, x[, b]) over n = 2k (+1) operands w0..wk-1, x0..xk-1 (, b): the
 * products added left to right, then b when n is odd. One node for a whole
 * neuron instead of 2k. */
#define PYAD_VALUE_dot(X, n, out)                                  \
    do {                                                           \
        size_t k_ = (n) / 2;                                       \
        double s_ = k_ ? X(0) * X(k_) : X(0);                      \
        for (size_t i_ = 1; i_ < k_; i_++)                         \
            s_ = s_ + X(i_) * X(k_ + i_);                          \
        if (k_ && (n) % 2)                                         \
            s_ = s_ + X((n) - 1);                                  \
        (out) = s_;                                                \
    } while (0)
#define PYAD_PARTIALS_dot(A, T, X, Y, PUT, n)      \
    do {                                           \
        size_t k_ = (n) / 2;                       \
        for (size_t i_ = 0; i_ < k_; i_++)         \
            PUT(i_, X(k_ + i_));                   \
        for (size_t i_ = 0; i_ < k_; i_++)         \
            PUT(k_ + i_, X(i_));                   \
        if ((n) % 2)                               \
            PUT((n) - 1, A(k, 1.0));               \
    } while (0)
#define PYAD_NOTE_dot "sum(w_i * x_i) left to right, then the bias"

#endif
