/* coloring.c -- a column colouring of a sparsity pattern, so that a
 * Jacobian or Hessian costs one sweep per colour (hessian.c), and the check
 * of a pattern handed back to the evaluators.
 *
 * The colouring is distance-2 on the column graph: two columns that share
 * a row get different colours. Then in the product of the matrix with the
 * sum of the unit vectors of one colour, each row holds at most one
 * structurally non-zero entry of that colour, which is read off directly.
 */
#include <stdlib.h>
#include <string.h>

#include "lanes.h"

/* ---- checking a pattern ----------------------------------------------------------------- */

static int has_entry(const int64_t *row_ptr, const int64_t *col, size_t r, int64_t c)
{
    int64_t lo = row_ptr[r], hi = row_ptr[r + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (col[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < row_ptr[r + 1] && col[lo] == c;
}

int pyad_csr_ok(size_t n_rows, size_t n_cols, const int64_t *row_ptr,
                  const int64_t *col, size_t nnz)
{
    if (!row_ptr || (nnz && !col) || nnz > INT64_MAX || row_ptr[0] != 0 ||
        row_ptr[n_rows] != (int64_t)nnz)
        return 0;
    for (size_t r = 0; r < n_rows; r++) {
        if (row_ptr[r + 1] < row_ptr[r] || row_ptr[r + 1] > (int64_t)nnz)
            return 0;
        for (int64_t q = row_ptr[r]; q < row_ptr[r + 1]; q++)
            if (col[q] < 0 || (uint64_t)col[q] >= n_cols ||
                (q > row_ptr[r] && col[q] <= col[q - 1]))
                return 0;
    }
    return 1;
}

int pyad_pattern_check(size_t n_rows, size_t n_cols, const int64_t *row_ptr,
                       const int64_t *col, size_t nnz, const int32_t *color,
                       size_t n_colors, int symmetric)
{
    size_t *mark;
    if (!pyad_csr_ok(n_rows, n_cols, row_ptr, col, nnz) || (n_cols && !color) ||
        (symmetric && n_rows != n_cols))
        return PYAD_ERR_ARGS;
    for (size_t j = 0; j < n_cols; j++)
        if (color[j] < 0 || (size_t)color[j] >= n_colors)
            return PYAD_ERR_ARGS;
    if (!(mark = xcalloc(n_colors + 1, sizeof *mark)))
        return PYAD_ERR_NOMEM;
    for (size_t r = 0; r < n_rows; r++)
        for (int64_t q = row_ptr[r]; q < row_ptr[r + 1]; q++) {
            size_t c = (size_t)color[col[q]];
            if (mark[c] == r + 1 ||
                (symmetric && !has_entry(row_ptr, col, (size_t)col[q], (int64_t)r))) {
                xfree(mark);
                return PYAD_ERR_ARGS;
            }
            mark[c] = r + 1;
        }
    xfree(mark);
    return PYAD_OK;
}

/* ---- colouring ----------------------------------------------------------------------------- */

typedef struct {
    size_t cost;
    uint32_t col;
} ranked_t;

/* costlier first, then by column (a total order: the same colouring on
 * every platform) */
static int by_cost_desc(const void *a, const void *b)
{
    const ranked_t *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? 1 : -1;
    return (x->col > y->col) - (x->col < y->col);
}

/* Greedy colouring of the columns in the given order: each takes the
 * smallest colour no column sharing a row with it has. */
static size_t greedy(size_t n_cols, const int64_t *row_ptr, const int64_t *col,
                     const size_t *cstart, const uint32_t *crow, const uint32_t *order,
                     int32_t *color, size_t *forbid)
{
    size_t used = 0;
    for (size_t j = 0; j < n_cols; j++)
        color[j] = -1;
    memset(forbid, 0, (n_cols + 1) * sizeof *forbid);
    for (size_t t = 0; t < n_cols; t++) {
        uint32_t j = order[t];
        size_t k = 0;
        for (size_t q = cstart[j]; q < cstart[j + 1]; q++) {
            uint32_t r = crow[q];
            for (int64_t s = row_ptr[r]; s < row_ptr[r + 1]; s++)
                if (color[col[s]] >= 0)
                    forbid[color[col[s]]] = (size_t)t + 1;
        }
        while (forbid[k] == (size_t)t + 1)
            k++;
        color[j] = (int32_t)k;
        used = k + 1 > used ? k + 1 : used;
    }
    return used;
}

int pyad_sparsity_color(size_t n_rows, size_t n_cols, const int64_t *row_ptr,
                        const int64_t *col, size_t nnz, int32_t *color,
                        size_t *n_colors)
{
    size_t *cstart, *forbid, *cost, best, used;
    uint32_t *crow, *order;
    ranked_t *rank;
    int32_t *other;
    int st = PYAD_OK;
    if (!n_colors || (n_cols && !color) || n_cols >= INT32_MAX || n_rows > UINT32_MAX ||
        !pyad_csr_ok(n_rows, n_cols, row_ptr, col, nnz))
        return PYAD_ERR_ARGS;
    cstart = xcalloc(n_cols + 2, sizeof *cstart);
    forbid = xmalloc(n_cols + 1, sizeof *forbid);
    cost = xcalloc(n_cols + 1, sizeof *cost);
    crow = xmalloc(nnz + 1, sizeof *crow);
    order = xmalloc(n_cols + 1, sizeof *order);
    other = xmalloc(n_cols + 1, sizeof *other);
    rank = xmalloc(n_cols + 1, sizeof *rank);
    if (!cstart || !forbid || !cost || !crow || !order || !other || !rank) {
        st = PYAD_ERR_NOMEM;
        goto done;
    }
    /* the rows of each column (CSC), and each column's cost: the entries
     * of its rows, an upper bound on the columns it conflicts with */
    for (size_t q = 0; q < nnz; q++)
        cstart[col[q] + 2]++;
    for (size_t j = 0; j < n_cols; j++)
        cstart[j + 2] += cstart[j + 1];
    for (size_t r = 0; r < n_rows; r++)
        for (int64_t q = row_ptr[r]; q < row_ptr[r + 1]; q++) {
            crow[cstart[col[q] + 1]++] = (uint32_t)r;
            cost[col[q]] += (size_t)(row_ptr[r + 1] - row_ptr[r]);
        }
    /* natural order (optimal for banded patterns), then largest first;
     * the fewer colours win */
    for (size_t j = 0; j < n_cols; j++)
        order[j] = (uint32_t)j;
    best = greedy(n_cols, row_ptr, col, cstart, crow, order, color, forbid);
    for (size_t j = 0; j < n_cols; j++) {
        rank[j].cost = cost[j];
        rank[j].col = (uint32_t)j;
    }
    qsort(rank, n_cols, sizeof *rank, by_cost_desc);
    for (size_t j = 0; j < n_cols; j++)
        order[j] = rank[j].col;
    used = greedy(n_cols, row_ptr, col, cstart, crow, order, other, forbid);
    if (used < best) {
        memcpy(color, other, n_cols * sizeof *color);
        best = used;
    }
    *n_colors = best;
done:
    xfree(cstart);
    xfree(forbid);
    xfree(cost);
    xfree(crow);
    xfree(order);
    xfree(other);
    xfree(rank);
    return st;
}
