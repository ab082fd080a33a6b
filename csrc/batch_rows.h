/* batch_rows.h -- the loops over the points of a block, for batch.c.
 *
 * For an op of 1 to 3 operands, one function of its own over rows passed
 * as restrict pointers (an op's output row is never one of its operand
 * rows): x0..x2 the operands, y the value, d0..d2 the partials of its
 * edges. Kept apart, each loop is small enough for the vectoriser. For the
 * n-ary ops (sum, dot, logsumexp), one function with an operand accessor.
 *
 * The definitions are expanded twice (kernels.h): by batch.c with the lanes
 * forms of the kernels (nan where an argument is outside a kernel's
 * ordinary range), into pyad_rows_lanes; and by batch_exact.c with the
 * exact lanes forms, into pyad_rows_exact and pyad_nary_rows. Both give the
 * point form's bits wherever they give a number (batch.c recomputes the
 * rest).
 */
#ifndef PYAD_BATCH_ROWS_H
#define PYAD_BATCH_ROWS_H
#include <string.h>

#include "program.h"

/* A row function: value (which = 0), value and partials (1) or the
 * partials of values already in y (2) at the m points of the rows; nonzero
 * if a value or partial it wrote is nan. */
typedef int (*pyad_row_fn)(const double *restrict, const double *restrict,
                           const double *restrict, double *restrict, double *restrict,
                           double *restrict, double *restrict, size_t, int);

/* by op code: the row function of each op of 1 to 3 operands (NULL for
 * the n-ary ops) */
extern const pyad_row_fn pyad_rows_lanes[PYAD_OP_END_];
extern const pyad_row_fn pyad_rows_exact[PYAD_OP_END_];

/* n-ary instruction c at the m points of a block of B: val and dp are the
 * block's value and partial rows (exact forms). */
void pyad_nary_rows(const pyad_program *p, const instr_t *c, double *val, double *dp,
                    size_t B, size_t m, int which);
#endif

#ifdef PYAD_ROWS_TABLE
/* The loops over points, compiled twice where gcc can pick at load time
 * (an ifunc): for AVX2 (4 doubles per vector) and for the baseline (SSE2).
 * No FMA is used (contraction is off), so both give the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define PYAD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PYAD_CLONES
#endif

/* 1 for a nan, 0 otherwise, with integer operations only (so that the
 * loops keep vectorising): a nan's magnitude bits exceed infinity's. */
static inline uint64_t nan_bit_(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return ~((u & 0x7fffffffffffffffull) - 0x7ff0000000000001ull) >> 63;
}

#define ROW_X_(j) x##j[pt]
#define ROW_PUT_(i, v) do { double rowput_v_ = (v); d##i[pt] = rowput_v_; nan_acc_ |= nan_bit_(rowput_v_); } while (0)
/* the value of op `name` of the given arity at point pt, into out */
#define ROW_VALUE_1(name, out) out = pyad_v_##name(x0[pt])
#define ROW_VALUE_2(name, out) out = pyad_v_##name(x0[pt], x1[pt])
#define ROW_VALUE_3(name, out) out = pyad_v_##name(x0[pt], x1[pt], x2[pt])
#define ROW_DEF_(name, code, arity, hess, uf) ROW_DEF_A_(name, arity)
#define ROW_DEF_A_(name, arity) ROW_DEF_##arity(name)
#define ROW_DEF_1(name) ROW_KERNEL_(name, 1)
#define ROW_DEF_2(name) ROW_KERNEL_(name, 2)
#define ROW_DEF_3(name) ROW_KERNEL_(name, 3)
#define ROW_DEF_N(name)
#define ROW_KERNEL_(name, arity)                                                   \
    PYAD_CLONES static int fwd_##name(                                             \
        const double *restrict x0, const double *restrict x1,                      \
        const double *restrict x2, double *restrict y, double *restrict d0,        \
        double *restrict d1, double *restrict d2, size_t m, int which)             \
    {                                                                              \
        uint64_t nan_acc_ = 0;                                                     \
        (void)x1; (void)x2; (void)d0; (void)d1; (void)d2;                          \
        if (which == 0) {                                                          \
            for (size_t pt = 0; pt < m; pt++) {                                    \
                double v_;                                                         \
                ROW_VALUE_##arity(name, v_);                                       \
                y[pt] = v_;                                                        \
                nan_acc_ |= nan_bit_(v_);                                          \
            }                                                                      \
        } else if (which == 1) {                                                   \
            for (size_t pt = 0; pt < m; pt++) {                                    \
                double v_;                                                         \
                ROW_VALUE_##arity(name, v_);                                       \
                y[pt] = v_;                                                        \
                nan_acc_ |= nan_bit_(v_);                                          \
                PYAD_PARTIALS_##name(PYAD_NUM, double, ROW_X_, v_, ROW_PUT_, 1);   \
            }                                                                      \
        } else {                                                                   \
            for (size_t pt = 0; pt < m; pt++) {                                    \
                double v_ = y[pt];                                                 \
                (void)v_;                                                          \
                PYAD_PARTIALS_##name(PYAD_NUM, double, ROW_X_, v_, ROW_PUT_, 1);   \
            }                                                                      \
        }                                                                          \
        return nan_acc_ != 0;                                                      \
    }
#define PYAD_NOPS 1
PYAD_OP_LIST(ROW_DEF_)
#undef PYAD_NOPS

#define ROW_ENTRY_(name, code, arity, hess, uf) ROW_ENTRY_A_(name, arity)
#define ROW_ENTRY_A_(name, arity) ROW_ENTRY_##arity(name)
#define ROW_ENTRY_1(name) [PYAD_OP_##name] = fwd_##name,
#define ROW_ENTRY_2(name) [PYAD_OP_##name] = fwd_##name,
#define ROW_ENTRY_3(name) [PYAD_OP_##name] = fwd_##name,
#define ROW_ENTRY_N(name)
const pyad_row_fn PYAD_ROWS_TABLE[PYAD_OP_END_] = {PYAD_OP_LIST(ROW_ENTRY_)};

#ifdef PYAD_LANES_EXACT
/* n-ary ops: operand j of instruction c at point pt of the block. */
#define PYAD_X(j) val[(size_t)a[j] * B + pt]
#define PYAD_NOPS c->n
#define PYAD_OUT val[(size_t)c->k * B + pt]
#define PYAD_Y val[(size_t)c->k * B + pt]
#define PYAD_PUT(i, d) dp[(size_t)(c->first + (i)) * B + pt] = (d)
#define NARY_GEN_1(name)
#define NARY_GEN_2(name)
#define NARY_GEN_3(name)
#define NARY_GEN_N(name)                                                         \
    case PYAD_OP_##name:                                                         \
        for (size_t pt = 0; pt < m; pt++) {                                      \
            if (which != 2)                                                      \
                PYAD_VALUE_N(name);                                              \
            if (which)                                                           \
                PYAD_PARTIALS_##name(PYAD_NUM, double, PYAD_X, PYAD_Y, PYAD_PUT, PYAD_NOPS); \
        }                                                                        \
        break;
#define NARY_CASE_(name, code, arity, hess, uf) NARY_GEN_##arity(name)

void pyad_nary_rows(const pyad_program *p, const instr_t *c, double *val, double *dp,
                    size_t B, size_t m, int which)
{
    const uint32_t *a = p->args + c->first;
    switch (c->op) {
        PYAD_OP_LIST(NARY_CASE_)
    default:
        break;
    }
}
#endif
#endif
