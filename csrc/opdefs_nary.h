/* opdefs_nary.h -- the n-ary ops.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_NARY_H
#define PYAD_OPDEFS_NARY_H
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stddef.h>

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
 * neuron instead of 2k.
 *
 * Its flags are its value's: a product can underflow while the sum is
 * normal (1e-200 * 1e-200 + 1.0), and that underflow is not the value's.
 * When a product may underflow (an operand below 2^-511 in magnitude and
 * neither zero: a quiet test of the operands, before any product), the
 * underflow flag is saved first and put back after the sum unless the
 * value itself is tiny. Otherwise the sum is the plain loop. */
/* 2^-511: a product of two larger numbers is normal */
#define PYAD_DOT_SMALL_ 1.4916681462400413e-154
#define PYAD_VALUE_dot(X, n, out)                                          \
    do {                                                                   \
        size_t k_ = (n) / 2;                                               \
        int saved_ = 0;                                                    \
        fexcept_t under_;                                                  \
        double s_ = X(0);                                                  \
        for (size_t i_ = 0; i_ < k_; i_++) {                               \
            double w_ = X(i_), x_ = X(k_ + i_);                            \
            if ((isless(fabs(w_), PYAD_DOT_SMALL_) ||                      \
                 isless(fabs(x_), PYAD_DOT_SMALL_)) &&                     \
                w_ != 0.0 && x_ != 0.0 && !saved_)                         \
                saved_ = !fegetexceptflag(&under_, FE_UNDERFLOW);          \
            s_ = i_ ? s_ + w_ * x_ : w_ * x_;                              \
        }                                                                  \
        if (k_ && (n) % 2)                                                 \
            s_ = s_ + X((n) - 1);                                          \
        if (saved_ && !islessequal(fabs(s_), DBL_MIN))                     \
            fesetexceptflag(&under_, FE_UNDERFLOW);                        \
        (out) = s_;                                                        \
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
#define PYAD_NOTE_dot "sum(w_i * x_i) left to right, then the bias; flags of the value only (a product that underflows in a normal sum raises nothing)"

#endif
