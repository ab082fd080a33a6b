/* opdefs_nary.h -- the n-ary ops.
 *
 * Part of the op registry: see opdefs.h for what each op defines and the
 * algebra its partials are written in. Included by opdefs.h only.
 */
#ifndef PYAD_OPDEFS_NARY_H
#define PYAD_OPDEFS_NARY_H
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
