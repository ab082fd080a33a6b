/* batch.c -- compiled replay of a batch of points (pyad_program_eval_batch).
 *
 * Op-major over blocks of B points: each op's value (and each edge's
 * partial) is computed for the whole block in one loop, so the dispatch of
 * an op is paid once per block, and the loops over points are what the
 * compiler vectorises (the registry's definitions are inline, see ops.h).
 * Then one reverse sweep per output over the block, one multiply-add per
 * edge and point. Same definitions, same order as the tape and replay.c:
 * bit-identical results.
 */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The branch-free lanes forms of the elementary functions (kernels.h), so
 * that the loops over points vectorise; the row functions (batch_rows.h). */
#define PYAD_LANES 1
#include "platform.h"
#include "program.h"

#define PYAD_ROWS_TABLE pyad_rows_lanes
#include "batch_rows.h"

#define BLOCK_MAX 256
#define BLOCK_MIN 8
#define BLOCK_BUDGET ((size_t)6 << 20)   /* bytes of rows per block */

static size_t block_override;

/* Tuning knob for benchmarks: points per block of a batch; 0 = automatic. */
int pyad_program_set_block(size_t points)
{
    if (points > BLOCK_MAX)
        return PYAD_ERR_ARGS;
    block_override = points;
    return PYAD_OK;
}

typedef struct {
    const pyad_program *p;
    size_t B;               /* points per block */
    double *val;            /* n_nodes rows of B */
    double *adj;            /* n_nodes rows of B */
    double *dp;             /* n_args rows of B: each edge's partial */
    uint8_t *reached;       /* n_nodes */
    uint8_t *exact;         /* n_ops: 1 = run with the exact lanes forms */
    const double **src;     /* n_in: each input's adjoint row, or NULL */
    double *point;          /* n_nodes: one point, for locating fp errors */
} batch_t;

/* A row function saw a nan: recompute instruction c at every point whose
 * value or partial is nan but whose operands are not, with the point forms
 * (ops.c), which give the bits every other evaluator gives. Such a nan is
 * a lanes form's answer to an argument outside its kernel's ordinary range
 * (kernels.h), or a true nan (log(-1)), which the point form gives again.
 * With the lanes forms, points with a nan operand are recomputed too: a
 * partial may not depend on that operand (xlogy's log(y) at x = nan, y =
 * 0 is -inf). The exact forms answer every argument but a sine or cosine
 * beyond 2^20, and only unary ops call those: their operand is not nan.
 * Returns the number of points recomputed. */
static size_t fix_nans(const batch_t *bt, const instr_t *c, size_t m, int which,
                       int exact)
{
    const size_t B = bt->B;
    const uint32_t *a = bt->p->args + c->first;
    double *y = bt->val + (size_t)c->k * B, x[3], d[3];
    size_t fixed = 0;
    if (c->n > 3)     /* the row functions are for 1 to 3 operands */
        return 0;
    for (size_t pt = 0; pt < m; pt++) {
        int nan_in = 0, nan_out = y[pt] != y[pt];
        for (uint32_t e = 0; e < c->n; e++) {
            x[e] = bt->val[(size_t)a[e] * B + pt];
            nan_in |= x[e] != x[e];
            if (which)
                nan_out |= bt->dp[(size_t)(c->first + e) * B + pt] !=
                           bt->dp[(size_t)(c->first + e) * B + pt];
        }
        if ((nan_in && exact) || !nan_out)
            continue;
        fixed++;
        if (which != 2)
            y[pt] = pyad_op_value(c->op, x, c->n);
        if (which) {
            pyad_op_partials(c->op, x, c->n, y[pt], d);
            for (uint32_t e = 0; e < c->n; e++)
                bt->dp[(size_t)(c->first + e) * B + pt] = d[e];
        }
    }
    return fixed;
}

/* Forward pass over the m points of the current block: values (which =
 * 0), values and each edge's partial (1), or the partials of values
 * already computed (2). An instruction runs with the lanes forms until
 * more than an eighth of a block's points needed recomputing: from then on
 * (for the rest of the batch) with the exact lanes forms, which cost ~1.5x
 * the lanes forms but a tenth of a recomputation. */
static void forward_block(const batch_t *bt, size_t m, int which)
{
    const pyad_program *p = bt->p;
    const size_t B = bt->B;
    for (size_t i = 0; i < p->n_ops; i++) {
        const instr_t *c = &p->code[i];
        const uint32_t *a = p->args + c->first;
        pyad_row_fn f = (bt->exact[i] ? pyad_rows_exact : pyad_rows_lanes)[c->op];
        if (f) {
            const double *x[3] = {NULL, NULL, NULL};
            double *d[3] = {NULL, NULL, NULL};
            for (uint32_t e = 0; e < c->n; e++) {
                x[e] = bt->val + (size_t)a[e] * B;
                d[e] = bt->dp + (size_t)(c->first + e) * B;
            }
            if (f(x[0], x[1], x[2], bt->val + (size_t)c->k * B, d[0], d[1], d[2], m, which) &&
                fix_nans(bt, c, m, which, bt->exact[i]) * 8 > m)
                bt->exact[i] = 1;
        } else {
            pyad_nary_rows(p, c, bt->val, bt->dp, B, m, which);
        }
    }
}

/* Reverse sweep for output o over the m points of the current block. */
PYAD_CLONES static void backward_block(const batch_t *bt, size_t o, size_t m)
{
    const pyad_program *p = bt->p;
    const size_t B = bt->B;
    double *adj = bt->adj;
    const double *dp = bt->dp;
    uint8_t *reached = bt->reached;
    uint32_t out = p->output_slot[o];
    memset(reached, 0, (size_t)out + 1);
    reached[out] = 1;
    for (size_t j = 0; j < m; j++)
        adj[(size_t)out * B + j] = -0.0 + 1.0;
    for (size_t i = pyad_instrs_upto(p, out); i-- > 0;) {
        const instr_t *c = &p->code[i];
        const uint32_t *a = p->args + c->first;
        const double *g = adj + (size_t)c->k * B;
        if (!reached[c->k])
            continue;
        /* Edge by edge, in order, as the tape does (an operand may repeat);
         * the first contact of an operand starts its row at -0.0. */
        for (uint32_t e = 0; e < c->n; e++) {
            double *t = adj + (size_t)a[e] * B;
            const double *d = dp + (size_t)(c->first + e) * B;
            if (!reached[a[e]]) {
                reached[a[e]] = 1;
                for (size_t j = 0; j < m; j++)
                    t[j] = -0.0 + g[j] * d[j];
            } else {
                for (size_t j = 0; j < m; j++)
                    t[j] += g[j] * d[j];
            }
        }
    }
}

/* g[j * step + i] = src[i][j] (-0.0 as +0.0) for the m points and n
 * inputs, every src[i] a row; inlined with n a constant. */
static inline __attribute__((always_inline)) void
interleave(double *restrict g, size_t step, const double **src, size_t n, size_t m)
{
    for (size_t j = 0; j < m; j++)
        for (size_t i = 0; i < n; i++)
            g[j * step + i] = 0.0 + src[i][j];
}

/* The gradient of output o at the m points of the block, into rows of
 * n_out x n_in (point-major: each point's gradient is written whole, in
 * order, rather than each input's column at a stride: measured faster,
 * even for 3 inputs). An input the sweep did not reach has derivative 0. */
static void grads_out(const batch_t *bt, size_t o, size_t m, double *grads)
{
    const pyad_program *p = bt->p;
    const size_t B = bt->B, n = p->n_in, step = p->n_out * n;
    const double **src = bt->src;
    for (size_t i = 0; i < n; i++) {
        uint32_t s = p->input_slot[i];
        src[i] = s <= p->output_slot[o] && bt->reached[s] ? bt->adj + (size_t)s * B : NULL;
    }
    grads += o * n;
    switch (n) { /* the common arities with every input reached: loops of a
                  * constant width, which gcc unrolls (the general loop's
                  * test per element measured ~9% of a 3-input batch) */
    case 1:
        if (src[0]) {
            interleave(grads, step, src, 1, m);
            return;
        }
        break;
    case 2:
        if (src[0] && src[1]) {
            interleave(grads, step, src, 2, m);
            return;
        }
        break;
    case 3:
        if (src[0] && src[1] && src[2]) {
            interleave(grads, step, src, 3, m);
            return;
        }
        break;
    case 4:
        if (src[0] && src[1] && src[2] && src[3]) {
            interleave(grads, step, src, 4, m);
            return;
        }
        break;
    default:
        break;
    }
    for (size_t j = 0; j < m; j++) {
        double *g = grads + j * step;
        for (size_t i = 0; i < n; i++)
            g[i] = src[i] ? 0.0 + src[i][j] : 0.0;
    }
}

/* Find the first point of the block (guards holding) whose forward raises,
 * by replaying those points one at a time with the flags checked per op. */
static int locate_block_fp_error(const batch_t *bt, const double *const *x,
                                 const size_t *stride, size_t base, size_t m,
                                 const uint8_t *guard_fail,
                                 pyad_fail_info *info)
{
    const pyad_program *p = bt->p;
    for (size_t j = 0; j < m; j++) {
        int st;
        if (guard_fail && guard_fail[base + j])
            continue;
        memcpy(bt->point, p->value, p->n_nodes * sizeof *bt->point);
        for (size_t i = 0; i < p->n_in; i++)
            bt->point[p->input_slot[i]] = x[i][(base + j) * stride[i]];
        st = pyad_locate_fp_error(p, bt->point, &info->node);
        if (st != PYAD_OK) {
            info->point = (int64_t)(base + j);
            return st;
        }
    }
    return PYAD_OK;
}

static size_t choose_block(const pyad_program *p)
{
    size_t B, rows = 2 * p->n_nodes + p->n_args;
    if (block_override)
        return block_override;
    B = BLOCK_BUDGET / (sizeof(double) * (rows ? rows : 1));
    if (B > BLOCK_MAX)
        B = BLOCK_MAX;
    if (B < BLOCK_MIN)
        B = BLOCK_MIN;
    while (B & (B - 1))           /* a power of two: whole vector lanes */
        B &= B - 1;
    return B;
}

int pyad_program_eval_batch(const pyad_program *p, const double *const *x,
                            const size_t *stride, size_t n_x, size_t n_points,
                            size_t begin, size_t end,
                            double *values, size_t n_values,
                            double *grads, size_t n_grads,
                            uint8_t *guard_fail, size_t n_fail,
                            size_t *n_guard_fail, pyad_fail_info *info,
                            const int *cancel)
{
    batch_t bt;
    size_t rows, misses = 0;
    int mode, st = PYAD_OK;
    if (!p || !values || !guard_fail || !n_guard_fail || !info ||
        (p->n_in && (!x || !stride)) || end < begin)
        return PYAD_ERR_ARGS;
    /* Every buffer must cover points [0, end): checked before any access. */
    if (n_x != p->n_in || end > n_points || end > n_fail ||
        !pyad_rows_fit(end, p->n_out, n_values) ||
        (grads && ((p->n_in && p->n_out > SIZE_MAX / p->n_in) ||
                   !pyad_rows_fit(end, p->n_out * p->n_in, n_grads))))
        return PYAD_ERR_ARGS;
    for (size_t i = 0; i < p->n_in; i++)
        if (!x[i] || (end && stride[i] > SIZE_MAX / end))
            return PYAD_ERR_ARGS;
    info->point = info->node = info->guard = -1;
    *n_guard_fail = 0;
    if (end == begin)
        return PYAD_OK;
    bt.p = p;
    bt.B = choose_block(p);
    rows = 2 * p->n_nodes + p->n_args + 1;
    if (rows > SIZE_MAX / sizeof(double) / bt.B - 1)
        return PYAD_ERR_NOMEM;
    bt.val = pyad_program_alloc(rows * bt.B + p->n_nodes + 1, sizeof(double));
    bt.reached = pyad_program_alloc(p->n_nodes + 1 + p->n_ops, 1);
    bt.src = pyad_program_alloc(p->n_in + 1, sizeof *bt.src);
    if (!bt.val || !bt.reached || !bt.src) {
        PYAD_RELEASE(bt.val, bt.reached, bt.src);
        return PYAD_ERR_NOMEM;
    }
    bt.exact = bt.reached + p->n_nodes + 1;
    memset(bt.exact, 0, p->n_ops);
    bt.adj = bt.val + p->n_nodes * bt.B;
    bt.dp = bt.adj + p->n_nodes * bt.B;
    bt.point = bt.dp + (p->n_args + 1) * bt.B;
    /* Leaves: recorded values, once; inputs are rewritten per block. */
    for (size_t k = 0; k < p->n_nodes; k++)
        if (p->op[k] == PYAD_NODE_CONST)
            for (size_t j = 0; j < bt.B; j++)
                bt.val[k * bt.B + j] = p->value[k];
    mode = pyad_get_errmode();
    for (size_t base = begin; base < end && st == PYAD_OK; base += bt.B) {
        size_t m = end - base < bt.B ? end - base : bt.B;
        int raised = 0;
        if (cancel && pyad_flag_get(cancel)) {
            st = PYAD_ERR_CANCELLED;
            break;
        }
        for (size_t i = 0; i < p->n_in; i++) {
            double *r = bt.val + (size_t)p->input_slot[i] * bt.B;
            const double *xi = x[i];
            if (stride[i] == 1)
                memcpy(r, xi + base, m * sizeof *r);
            else if (stride[i])     /* a column of a row-major (N, n) array */
                for (size_t j = 0; j < m; j++)
                    r[j] = xi[(base + j) * stride[i]];
            else
                for (size_t j = 0; j < m; j++)
                    r[j] = xi[0];
        }
        if (mode) {
            feclearexcept(FE_ALL_EXCEPT);
            forward_block(&bt, m, 0);
            raised = fetestexcept(PYAD_FE_WATCHED);
        } else {
            forward_block(&bt, m, grads ? 1 : 0);
        }
        for (size_t j = 0; j < m; j++)
            guard_fail[base + j] = 0;
        for (size_t g = 0; g < p->n_guards; g++) {
            const double *ra = bt.val + (size_t)p->g_a[g] * bt.B;
            const double *rb = p->g_b[g] >= 0 ? bt.val + (size_t)p->g_b[g] * bt.B : NULL;
            for (size_t j = 0; j < m; j++) {
                double b = rb ? rb[j] : p->g_c[g];
                if (pyad_guard_holds(p, g, ra[j], b) != p->g_out[g])
                    guard_fail[base + j] = 1;
            }
        }
        for (size_t j = 0; j < m; j++)
            misses += guard_fail[base + j];
        if (mode && pyad_fp_status(mode, raised) != PYAD_OK) {
            st = locate_block_fp_error(&bt, x, stride, base, m, guard_fail, info);
            if (st != PYAD_OK)
                break;
        }
        for (size_t o = 0; o < p->n_out; o++) {
            const double *r = bt.val + (size_t)p->output_slot[o] * bt.B;
            for (size_t j = 0; j < m; j++)
                values[(base + j) * p->n_out + o] = r[j];
        }
        if (!grads)
            continue;
        if (mode)
            forward_block(&bt, m, 2);
        for (size_t o = 0; o < p->n_out; o++) {
            backward_block(&bt, o, m);
            grads_out(&bt, o, m, grads + base * p->n_out * p->n_in);
        }
    }
    *n_guard_fail = misses;
    PYAD_RELEASE(bt.val, bt.reached, bt.src);
    return st;
}
