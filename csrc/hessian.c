/* hessian.c -- dense and sparse Hessians and forward Jacobians of a
 * program, at one point or over a batch of points.
 *
 * All four are many directions at one point (pyad_lanes_at_point): the
 * values, partials and adjoints of the point are computed once, and the
 * directions run as lanes of a block.
 *  - Dense Hessian: the n unit vectors; lane j gives column j, H e_j. Only
 *    the lower triangle is kept (entry (i, j), i >= j, from lane j) and
 *    mirrored, so the result is exactly symmetric.
 *  - Sparse Hessian: a colouring of the columns of the (symmetric)
 *    pattern such that no row holds two columns of one colour; lane c is
 *    H times the sum of the unit vectors of colour c, and entry (i, j),
 *    i >= j, is row i of the lane of colour(j): no other column of that
 *    colour has a structural non-zero in row i. Mirrored as above. The cost
 *    is (number of colours) Hessian-vector products.
 *  - Jacobians: forward tangents, the unit vectors or the colours.
 */
#include <stdlib.h>
#include <string.h>

#include "lanes.h"

enum { HESS_DENSE, HESS_SPARSE, JAC_DENSE, JAC_SPARSE };

typedef struct {
    int kind;
    const int64_t *row_ptr, *col;   /* the pattern (sparse kinds) */
    size_t nnz;
    const int32_t *color;
    size_t n_colors;
} target_t;

/* Columns (directions) of a target, and the size of one point's result. */
static size_t n_dirs(const pyad_program *p, const target_t *t)
{
    return t->kind == HESS_SPARSE || t->kind == JAC_SPARSE ? t->n_colors : p->n_in;
}

static size_t result_size(const pyad_program *p, const target_t *t)
{
    switch (t->kind) {
    case HESS_DENSE: return p->n_in * p->n_in;
    case JAC_DENSE: return p->n_out * p->n_in;
    default: return t->nnz;
    }
}

/* Check the target against the program; PYAD_ERR_ARGS if it does not fit,
 * or if a dense result's size overflows. */
static int check_target(const pyad_program *p, const target_t *t)
{
    size_t rows = t->kind == JAC_SPARSE || t->kind == JAC_DENSE ? p->n_out : p->n_in;
    if (p->n_in && rows > SIZE_MAX / sizeof(double) / p->n_in)
        return PYAD_ERR_ARGS;
    if (t->kind == HESS_DENSE || t->kind == JAC_DENSE)
        return PYAD_OK;
    return pyad_pattern_check(rows, p->n_in, t->row_ptr, t->col, t->nnz, t->color,
                              t->n_colors, t->kind == HESS_SPARSE);
}

/* One point: R is the compressed result (rows x directions), or the dense
 * result itself; out receives the result. */
static int one_point(pyad_lanes *L, const target_t *t, const double *x, double *R,
                     double *values, double *grad, double *out,
                     pyad_fail_info *info)
{
    const pyad_program *p = L->p;
    const size_t n = p->n_in, nd = n_dirs(p, t);
    int second = t->kind == HESS_DENSE || t->kind == HESS_SPARSE;
    int flags = second ? PYAD_LANES_SECOND : PYAD_LANES_TANGENT;
    const int32_t *color = t->kind == HESS_SPARSE || t->kind == JAC_SPARSE ? t->color : NULL;
    int st;
    if (t->kind == HESS_DENSE || t->kind == JAC_DENSE)
        R = out;
    st = pyad_lanes_at_point(L, x, flags, nd, NULL, color, R, values, grad, info);
    if (st != PYAD_OK)
        return st;
    if (t->kind == HESS_DENSE) {
        for (size_t i = 0; i < n; i++)          /* mirror the lower triangle */
            for (size_t j = 0; j < i; j++)
                out[j * n + i] = out[i * n + j];
    } else if (t->kind == HESS_SPARSE || t->kind == JAC_SPARSE) {
        size_t rows = t->kind == HESS_SPARSE ? n : p->n_out;
        for (size_t r = 0; r < rows; r++)
            for (int64_t q = t->row_ptr[r]; q < t->row_ptr[r + 1]; q++) {
                size_t c = (size_t)t->col[q];
                if (t->kind == JAC_SPARSE || r >= c)
                    out[q] = R[r * nd + (size_t)t->color[c]];
                else
                    out[q] = R[c * nd + (size_t)t->color[r]];
            }
    }
    return PYAD_OK;
}

/* Lanes and the compressed scratch for a target. */
static int prepare(pyad_lanes *L, const pyad_program *p, const target_t *t,
                   double **R)
{
    size_t nd = n_dirs(p, t), B, rows;
    int st;
    *R = NULL;
    if (t->kind == HESS_SPARSE || t->kind == JAC_SPARSE) {
        rows = t->kind == HESS_SPARSE ? p->n_in : p->n_out;
        if (nd && rows > SIZE_MAX / sizeof(double) / nd)
            return PYAD_ERR_NOMEM;
        if (!(*R = pyad_program_alloc(rows * nd + 1, sizeof(double))))
            return PYAD_ERR_NOMEM;
    }
    B = pyad_lanes_choose(p, nd ? nd : 1, 1);
    if ((st = pyad_lanes_new(L, p, B, 1)) != PYAD_OK) {
        xfree(*R);
        *R = NULL;
    }
    return st;
}

static int run_point(const pyad_program *p, const target_t *t, const double *x,
                     const double *w, double *values, double *grad, double *out,
                     pyad_fail_info *info)
{
    pyad_lanes L;
    double *R;
    int st;
    if (!p || !info || (p->n_in && !x) || (result_size(p, t) && !out))
        return PYAD_ERR_ARGS;
    info->point = info->node = info->guard = -1;
    if ((st = check_target(p, t)) != PYAD_OK || (st = prepare(&L, p, t, &R)) != PYAD_OK)
        return st;
    pyad_lanes_seed_shared(&L, w);
    st = one_point(&L, t, x, R, values, grad, out, info);
    pyad_lanes_free(&L);
    xfree(R);
    return st;
}

/* Points [begin, end): each point as one_point, with its weights (a
 * column of stride 0 holding 0 leaves its output out, as in drive.c). */
static int run_batch(const pyad_program *p, const target_t *t,
                     const double *const *x, const size_t *x_stride,
                     const double *const *w, const size_t *w_stride, size_t begin,
                     size_t end, double *values, double *grads, double *out,
                     uint8_t *guard_fail, size_t *n_guard_fail, pyad_fail_info *info)
{
    pyad_lanes L;
    double *R, *xj;
    size_t size, misses = 0;
    int st;
    if (!p || !guard_fail || !n_guard_fail || !info || end < begin ||
        !pyad_columns_ok(x, x_stride, p->n_in) ||
        (w && !pyad_columns_ok(w, w_stride, p->n_out)))
        return PYAD_ERR_ARGS;
    size = result_size(p, t);
    if (size && !out)
        return PYAD_ERR_ARGS;
    info->point = info->node = info->guard = -1;
    *n_guard_fail = 0;
    if (end == begin)
        return PYAD_OK;
    if ((st = check_target(p, t)) != PYAD_OK || (st = prepare(&L, p, t, &R)) != PYAD_OK)
        return st;
    if (!(xj = pyad_program_alloc(p->n_in + 1, sizeof(double)))) {
        pyad_lanes_free(&L);
        xfree(R);
        return PYAD_ERR_NOMEM;
    }
    for (size_t o = 0; o < p->n_out; o++)
        L.seeded[o] = !w || w_stride[o] || w[o][0] != 0.0;
    for (size_t j = begin; j < end; j++) {
        for (size_t i = 0; i < p->n_in; i++)
            xj[i] = x[i][j * x_stride[i]];
        for (size_t o = 0; o < p->n_out; o++)
            L.wt[o] = w ? w[o][j * w_stride[o]] : 1.0;
        st = one_point(&L, t, xj, R, values ? values + j * p->n_out : NULL,
                       grads ? grads + j * p->n_in : NULL, out + j * size, info);
        if (st == PYAD_ERR_GUARD) {
            guard_fail[j] = 1;
            misses++;
            st = PYAD_OK;
            continue;
        }
        guard_fail[j] = 0;
        if (st != PYAD_OK) {
            info->point = (int64_t)j;
            break;
        }
    }
    info->guard = -1;
    *n_guard_fail = misses;
    xfree(xj);
    pyad_lanes_free(&L);
    xfree(R);
    return st;
}

/* ---- entry points ------------------------------------------------------------------ */

int pyad_program_hessian(const pyad_program *p, const double *x, const double *w,
                         double *values, double *grad, double *H,
                         pyad_fail_info *info)
{
    target_t t = {HESS_DENSE, NULL, NULL, 0, NULL, 0};
    return run_point(p, &t, x, w, values, grad, H, info);
}

int pyad_program_hessian_sparse(const pyad_program *p, const double *x,
                                const double *w, const int64_t *row_ptr,
                                const int64_t *col, size_t nnz, const int32_t *color,
                                size_t n_colors, double *values, double *grad,
                                double *hval, pyad_fail_info *info)
{
    target_t t = {HESS_SPARSE, row_ptr, col, nnz, color, n_colors};
    return run_point(p, &t, x, w, values, grad, hval, info);
}

int pyad_program_jacobian_fwd(const pyad_program *p, const double *x,
                              double *values, double *J, pyad_fail_info *info)
{
    target_t t = {JAC_DENSE, NULL, NULL, 0, NULL, 0};
    return run_point(p, &t, x, NULL, values, NULL, J, info);
}

int pyad_program_jacobian_sparse(const pyad_program *p, const double *x,
                                 const int64_t *row_ptr, const int64_t *col,
                                 size_t nnz, const int32_t *color, size_t n_colors,
                                 double *values, double *jval, pyad_fail_info *info)
{
    target_t t = {JAC_SPARSE, row_ptr, col, nnz, color, n_colors};
    return run_point(p, &t, x, NULL, values, NULL, jval, info);
}

int pyad_program_hessian_batch(const pyad_program *p, const double *const *x,
                               const size_t *x_stride, const double *const *w,
                               const size_t *w_stride, size_t begin, size_t end,
                               double *values, double *grads, double *H,
                               uint8_t *guard_fail, size_t *n_guard_fail,
                               pyad_fail_info *info)
{
    target_t t = {HESS_DENSE, NULL, NULL, 0, NULL, 0};
    return run_batch(p, &t, x, x_stride, w, w_stride, begin, end, values, grads, H,
                     guard_fail, n_guard_fail, info);
}

int pyad_program_hessian_sparse_batch(
    const pyad_program *p, const double *const *x, const size_t *x_stride,
    const double *const *w, const size_t *w_stride, const int64_t *row_ptr,
    const int64_t *col, size_t nnz, const int32_t *color, size_t n_colors,
    size_t begin, size_t end, double *values, double *grads, double *hvals,
    uint8_t *guard_fail, size_t *n_guard_fail, pyad_fail_info *info)
{
    target_t t = {HESS_SPARSE, row_ptr, col, nnz, color, n_colors};
    return run_batch(p, &t, x, x_stride, w, w_stride, begin, end, values, grads,
                     hvals, guard_fail, n_guard_fail, info);
}

int pyad_program_jacobian_fwd_batch(const pyad_program *p, const double *const *x,
                                    const size_t *x_stride, size_t begin, size_t end,
                                    double *values, double *J, uint8_t *guard_fail,
                                    size_t *n_guard_fail, pyad_fail_info *info)
{
    target_t t = {JAC_DENSE, NULL, NULL, 0, NULL, 0};
    return run_batch(p, &t, x, x_stride, NULL, NULL, begin, end, values, NULL, J,
                     guard_fail, n_guard_fail, info);
}

int pyad_program_jacobian_sparse_batch(
    const pyad_program *p, const double *const *x, const size_t *x_stride,
    const int64_t *row_ptr, const int64_t *col, size_t nnz, const int32_t *color,
    size_t n_colors, size_t begin, size_t end, double *values, double *jvals,
    uint8_t *guard_fail, size_t *n_guard_fail, pyad_fail_info *info)
{
    target_t t = {JAC_SPARSE, row_ptr, col, nnz, color, n_colors};
    return run_batch(p, &t, x, x_stride, NULL, NULL, begin, end, values, NULL, jvals,
                     guard_fail, n_guard_fail, info);
}
