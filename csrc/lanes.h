/* lanes.h -- a program swept over a block of lanes (internal).
 *
 * The evaluators beyond the gradient (tangent.c: jvp, forward Jacobians;
 * hessian.c: vjp, hvp, Hessians) all run the same sweeps, over a block of
 * *lanes*. A lane carries one direction: an input tangent, and in the
 * reverse sweep an adjoint tangent. Its point (input values, hence node
 * values, partials and adjoints) is either its own (a batch of points: the
 * point rows are B wide, W = B) or shared by every lane of the block (many
 * directions at one point: Hessian columns, colours; W = 1, and values,
 * partials and adjoints are computed once).
 *
 * Rows are node-major (row k holds node k for every lane), so each op is
 * dispatched once per block and the loops over lanes are what the compiler
 * vectorises. Each lane's arithmetic is the same, in the same order,
 * whatever the block size, the lane's position in it, or W: results are
 * bit-identical for any split of the work.
 *
 * The sweeps, all from the registry's definitions (ops.h):
 *   values      the op values (PYAD_VALUE_CASE);
 *   partials    d[e] = d node / d operand, per edge (PYAD_PARTIALS_CASE);
 *   tangents    t(node) = sum_e term(d[e], t(operand e)), in operand order
 *               (term: 0 for a zero tangent, see pyad_dt_term_); with
 *               `second`, also each partial's tangent (PYAD_DUAL_CASE);
 *   reverse     adjoints a (as replay.c: -0.0 start, one multiply-add per
 *               edge, only nodes reached from a seeded output) and, with
 *               `second`, adjoint tangents
 *                   at(operand) += at(node) * d[e] + a(node) * dt[e],
 *               which is forward-over-reverse: at(input) is (H v)_i.
 * Edges that carry no derivative are skipped in every sweep: edges into
 * constants (no one reads their adjoints; their partials are not even
 * computed) and edges whose partial is a constant 0 whatever the operands
 * (comparisons, sign, where's condition: the structure algebra of ops.h).
 * So an infinite adjoint times such a partial gives 0, not nan (as the
 * recorded backward of graph.c, JAX and PyTorch have it), and the sweeps
 * agree with the sparsity patterns, which leave those edges out.
 */
#ifndef PYAD_LANES_H
#define PYAD_LANES_H
#include <stddef.h>
#include <stdint.h>

#include "program.h"

typedef struct {
    const pyad_program *p;
    size_t B;               /* lanes per block */
    size_t W;               /* width of point rows: B, or 1 (shared point) */
    double *val;            /* n_nodes rows of W: values */
    double *dp;             /* n_args rows of W: each edge's partial */
    double *adj;            /* n_nodes rows of W: adjoints */
    double *tan;            /* n_nodes rows of B: tangents */
    double *dpt;            /* n_args rows of B: tangents of the partials */
    double *adjt;           /* n_nodes rows of B: adjoint tangents */
    double *wt;             /* n_out rows of W: output weights of the block */
    double *point;          /* n_nodes: one point, to locate fp errors */
    uint8_t *seeded;        /* n_out: outputs the reverse sweep starts from */
    uint8_t *reached;       /* n_nodes: reached from a seeded output */
    uint8_t *skip;          /* n_args: the edge carries no derivative (set
                             * with the partials) */
    void *block;            /* the allocation, when pyad_lanes_new made it */
} pyad_lanes;

/* Bytes of scratch for B lanes with point rows W wide (W == 1 or B). */
size_t pyad_lanes_bytes(const pyad_program *p, size_t B, size_t W);

/* Lay the lanes out over buf (pyad_lanes_bytes(p, B, W), double-aligned),
 * and set the rows of constants (values and zero tangents). */
void pyad_lanes_bind(pyad_lanes *L, const pyad_program *p, size_t B, size_t W,
                     void *buf);

/* The same over a new allocation (PYAD_ERR_NOMEM if it fails). */
int pyad_lanes_new(pyad_lanes *L, const pyad_program *p, size_t B, size_t W);
void pyad_lanes_free(pyad_lanes *L);

/* Lanes per block for a program: a power of two in [1, max_lanes] whose
 * rows fit a cache-sized budget. */
size_t pyad_lanes_choose(const pyad_program *p, size_t max_lanes, int shared);

/* The forward sweep over the first m lanes (points: m, or 1 when shared),
 * doing for each op, in one dispatch, the parts asked for: */
enum {
    PYAD_FWD_VALUES = 1,      /* values */
    PYAD_FWD_PARTIALS = 2,    /* partials, from values */
    PYAD_FWD_TANGENTS = 4,    /* tangents, from partials */
    PYAD_FWD_SECOND = 8       /* the partials' tangents, from tangents */
};
void pyad_lanes_forward(const pyad_lanes *L, size_t m, int parts);
/* Reverse from the seeded outputs, weighted by L->wt (set both first). */
void pyad_lanes_reverse(const pyad_lanes *L, size_t m, int second);

/* Forward values of the block under error mode `mode` (non-zero): 1 when the values
 * raised an IEEE exception the mode selects (only values are checked,
 * partials never are, as replay.c does), else 0. */
int pyad_lanes_values_raised(const pyad_lanes *L, size_t m, int mode);

/* After a raise: the status of the first point (lowest lane, skipping
 * those with skip[pt] set) whose values raise, with *lane and *node, found
 * by replaying the points one at a time op by op; PYAD_OK if none does. */
int pyad_lanes_locate(const pyad_lanes *L, size_t m, const uint8_t *skip,
                      size_t *lane, int64_t *node);

/* The first guard that fails for point lane `pt`, or -1. */
int64_t pyad_lanes_failed_guard(const pyad_lanes *L, size_t pt);

/* Set the seeds from output weights w (n_out of them, NULL: all 1; an
 * output of weight 0 is not seeded), shared by all the point rows. */
void pyad_lanes_seed_shared(pyad_lanes *L, const double *w);

/* Results at input i: gradient (adjoint) of point pt, (H v)_i of lane l;
 * 0.0 for an input no seeded output depends on. 0.0 + x makes -0.0 0.0, as
 * the tape's .grad does. */
static inline double pyad_lanes_grad(const pyad_lanes *L, size_t i, size_t pt)
{
    uint32_t s = L->p->input_slot[i];
    return L->reached[s] ? 0.0 + L->adj[(size_t)s * L->W + pt] : 0.0;
}
static inline double pyad_lanes_hv(const pyad_lanes *L, size_t i, size_t l)
{
    uint32_t s = L->p->input_slot[i];
    return L->reached[s] ? 0.0 + L->adjt[(size_t)s * L->B + l] : 0.0;
}

/* ---- drivers (drive.c) ----------------------------------------------------------- */

enum {
    PYAD_LANES_TANGENT = 1,   /* forward tangents: R holds output tangents */
    PYAD_LANES_REVERSE = 2,   /* a reverse sweep: gradients */
    PYAD_LANES_SECOND = 4     /* forward-over-reverse: R holds H v */
};

/* The columns of a batch: input i of point j is x[i][j * x_stride[i]];
 * directions t the same; output weights w (NULL: all 1) per output. */
typedef struct {
    const double *const *x;
    const size_t *x_stride;
    const double *const *t;
    const size_t *t_stride;
    const double *const *w;
    const size_t *w_stride;
} pyad_columns;

/* One point x (n_in values) and n_dirs directions: dirs (n_in x n_dirs,
 * row-major), or by colour (direction d is the sum of e_i over color[i] ==
 * d), or the unit vectors (both NULL). Set the seeds first (reverse).
 * With PYAD_LANES_SECOND, R (n_in x n_dirs) receives H v_d; else, if R is
 * not NULL, R (n_out x n_dirs) receives the output tangents. values and
 * grad (NULL to skip) the by-products. PYAD_ERR_GUARD on a guard miss. */
int pyad_lanes_at_point(pyad_lanes *L, const double *x, int flags, size_t n_dirs,
                        const double *dirs, const int32_t *color, double *R,
                        double *values, double *grad, pyad_fail_info *info);

/* Points [begin, end) of a batch, a direction each (flags as above);
 * results at absolute point indices, as pyad_program_eval_batch. */
int pyad_lanes_batch(const pyad_program *p, int flags, const pyad_columns *cols,
                     size_t begin, size_t end, double *values, double *tangents,
                     double *grads, double *hvs, uint8_t *guard_fail,
                     size_t *n_guard_fail, pyad_fail_info *info);

/* 1 when n columns are given (arrays may be NULL when n is 0). */
int pyad_columns_ok(const double *const *c, const size_t *stride, size_t n);

/* Allocation through the test switch of pyad_debug_fail_alloc_after, and
 * under the tape's lock (fork safety), as everywhere in the core
 * (sparsity.c, coloring.c). */
static inline void *xmalloc(size_t count, size_t size)
{
    return pyad_program_alloc(count, size);
}

static inline void *xcalloc(size_t count, size_t size)
{
    void *p = pyad_program_alloc(count, size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

static inline void *xrealloc(void *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return pyad_locked_realloc(p, count * size);
}

/* free() under the tape's lock, as program.c does (see pyad_locked_free). */
static inline void xfree(void *p)
{
    pyad_locked_free(&p, 1);
}

/* ---- patterns (coloring.c) ----------------------------------------------------------- */

/* PYAD_OK when row_ptr/col is a CSR pattern of n_rows x n_cols with nnz
 * entries, columns strictly increasing in each row, every column coloured
 * in [0, n_colors), no row holding two columns of one colour, and (with
 * symmetric) entry (c, r) present for every (r, c); else PYAD_ERR_ARGS
 * (PYAD_ERR_NOMEM if scratch cannot be had). */
int pyad_pattern_check(size_t n_rows, size_t n_cols, const int64_t *row_ptr,
                       const int64_t *col, size_t nnz, const int32_t *color,
                       size_t n_colors, int symmetric);

/* 1 when row_ptr/col is a CSR pattern of n_rows x n_cols with nnz entries
 * and columns strictly increasing in each row. */
int pyad_csr_ok(size_t n_rows, size_t n_cols, const int64_t *row_ptr,
                const int64_t *col, size_t nnz);

#endif
