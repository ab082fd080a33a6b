/* sparsity.c -- structural sparsity of a program's Jacobian and Hessian
 * (the colouring and the check of a pattern are in coloring.c).
 *
 * Structure comes from the registry alone:
 *  - which partials are a constant 0 whatever the operands (comparisons,
 *    sign, where's condition): the structure algebra of ops.h. No
 *    derivative of any order flows along such an edge;
 *  - each op's hess class (oplist.h): which pairs of operands may have a
 *    non-zero second partial (an unknown class counts as FULL).
 * dep(k), the inputs node k depends on, is propagated forward along the
 * other edges. Row o of the Jacobian pattern is dep(output o). The Hessian
 * of sum_o w_o f_o is sum over the nodes k with a non-zero adjoint (reached
 * backward from a seeded output) of sum over operand pairs (a, b) of its
 * second partials times grad a grad b^T: its pattern is the union of
 * dep(a) x dep(b) over those pairs. Both are supersets of the numerical
 * non-zeros (exact for the structure of the program), symmetric for the
 * Hessian, with columns sorted in each row.
 *
 * When a pattern would cost too much to build (dependency sets or pair
 * lists past a budget), it is reported dense, which is still a valid
 * superset.
 */
#include <stdlib.h>
#include <string.h>

#include "lanes.h"

#define DEPS_BUDGET(p) (((size_t)1 << 22) + 32 * ((p)->n_nodes + (p)->n_args))
#define PAIRS_LIMIT(n) (((size_t)1 << 24) + 4 * (n) * (n))

/* ---- dependency sets ------------------------------------------------------------- */

typedef struct {
    size_t *start;          /* n_nodes + 1: node k's set is pool[start[k] ..) */
    uint32_t *pool;
    size_t len, cap;
    int dense;              /* past the budget: every set is everything */
} deps_t;

static int push_dep(deps_t *D, uint32_t x, size_t budget)
{
    if (D->len == D->cap) {
        size_t cap = D->cap ? 2 * D->cap : 1024;
        uint32_t *pool;
        if (cap > budget) {
            D->dense = 1;
            return PYAD_OK;
        }
        if (!(pool = xrealloc(D->pool, cap, sizeof *pool)))
            return PYAD_ERR_NOMEM;
        D->pool = pool;
        D->cap = cap;
    }
    D->pool[D->len++] = x;
    return PYAD_OK;
}

/* zero[e]: edge e carries no derivative (a constant-0 partial, or an
 * edge into a constant). */
static void zero_edges(const pyad_program *p, uint8_t *zero)
{
    for (size_t i = 0; i < p->n_ops; i++) {
        const instr_t *c = &p->code[i];
        pyad_op_zero_partials(c->op, c->n, zero + c->first);
        for (uint32_t e = 0; e < c->n; e++)
            zero[c->first + e] |= p->op[p->args[c->first + e]] == PYAD_NODE_CONST;
    }
}

static int deps_build(const pyad_program *p, const uint8_t *zero, deps_t *D)
{
    size_t *stamp = xcalloc(p->n_in + 1, sizeof *stamp), budget = DEPS_BUDGET(p);
    uint32_t *in_index = xmalloc(p->n_nodes + 1, sizeof *in_index);
    int st = PYAD_OK;
    memset(D, 0, sizeof *D);
    D->start = xmalloc(p->n_nodes + 1, sizeof *D->start);
    if (!stamp || !in_index || !D->start) {
        st = PYAD_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < p->n_in; i++)
        in_index[p->input_slot[i]] = (uint32_t)i;
    for (size_t k = 0; k < p->n_nodes && st == PYAD_OK && !D->dense; k++) {
        D->start[k] = D->len;
        if (p->op[k] == PYAD_NODE_INPUT) {
            st = push_dep(D, in_index[k], budget);
        } else if (p->op[k] >= 0) {
            for (uint32_t e = p->arg_start[k]; e < p->arg_start[k + 1]; e++) {
                uint32_t a = p->args[e];
                if (zero[e])
                    continue;
                for (size_t q = D->start[a]; q < D->start[a + 1] && st == PYAD_OK; q++) {
                    uint32_t x = D->pool[q];
                    if (stamp[x] != k + 1) {
                        stamp[x] = k + 1;
                        st = push_dep(D, x, budget);
                    }
                }
            }
        }
        D->start[k + 1] = D->len;
    }
done:
    xfree(stamp);
    xfree(in_index);
    return st;
}

static void deps_free(deps_t *D)
{
    xfree(D->start);
    xfree(D->pool);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* A dense rows x cols pattern; PYAD_ERR_ARGS if it does not fit. */
static int dense_pattern(size_t rows, size_t cols, int64_t *row_ptr, int64_t *col,
                         size_t cap, size_t *nnz)
{
    if (cols && rows > SIZE_MAX / 8 / cols)
        return PYAD_ERR_NOMEM;
    *nnz = rows * cols;
    if (!col)
        return PYAD_OK;
    if (!row_ptr || cap < *nnz)
        return PYAD_ERR_ARGS;
    for (size_t r = 0; r <= rows; r++)
        row_ptr[r] = (int64_t)(r * cols);
    for (size_t q = 0; q < rows * cols; q++)
        col[q] = (int64_t)(q % cols);
    return PYAD_OK;
}

int pyad_program_jacobian_sparsity(const pyad_program *p, int64_t *row_ptr,
                                   int64_t *col, size_t cap, size_t *nnz)
{
    uint8_t *zero;
    deps_t D;
    size_t count = 0;
    int st;
    if (!p || !nnz)
        return PYAD_ERR_ARGS;
    if (!(zero = xmalloc(p->n_args + 1, 1)))
        return PYAD_ERR_NOMEM;
    zero_edges(p, zero);
    st = deps_build(p, zero, &D);
    xfree(zero);
    if (st == PYAD_OK && D.dense)
        st = dense_pattern(p->n_out, p->n_in, row_ptr, col, cap, nnz);
    else if (st == PYAD_OK) {
        for (size_t o = 0; o < p->n_out; o++) {
            uint32_t s = p->output_slot[o];
            count += D.start[s + 1] - D.start[s];
        }
        *nnz = count;
        if (col && (!row_ptr || cap < count))
            st = PYAD_ERR_ARGS;
        else if (col) {
            size_t q = 0;
            row_ptr[0] = 0;
            for (size_t o = 0; o < p->n_out; o++) {
                uint32_t s = p->output_slot[o];
                size_t first = q;
                for (size_t k = D.start[s]; k < D.start[s + 1]; k++)
                    col[q++] = D.pool[k];
                qsort(col + first, q - first, sizeof *col, cmp_i64);
                row_ptr[o + 1] = (int64_t)q;
            }
        }
    }
    deps_free(&D);
    return st;
}

/* ---- Hessian pattern ---------------------------------------------------------------- */

/* Lower-triangle pairs (r << 32 | c, r >= c), deduplicated now and then. */
typedef struct {
    uint64_t *v;
    size_t len, cap, made, limit, full;
    int dense;
} pairs_t;

static size_t sort_unique(uint64_t *v, size_t len)
{
    size_t u = 0;
    qsort(v, len, sizeof *v, cmp_u64);
    for (size_t i = 0; i < len; i++)
        if (u == 0 || v[i] != v[u - 1])
            v[u++] = v[i];
    return u;
}

static int push_pair(pairs_t *P, uint32_t a, uint32_t b)
{
    uint32_t r = a > b ? a : b, c = a > b ? b : a;
    if (P->dense)
        return PYAD_OK;
    if (++P->made > P->limit) {
        P->dense = 1;
        return PYAD_OK;
    }
    if (P->len == P->cap) {
        P->len = P->len ? sort_unique(P->v, P->len) : 0;
        if (P->len >= P->full) {        /* every entry is there: dense */
            P->dense = 1;
            return PYAD_OK;
        }
        if (P->cap == 0 || P->len > P->cap / 2) {
            size_t cap = P->cap ? 2 * P->cap : 4096;
            uint64_t *v = xrealloc(P->v, cap, sizeof *v);
            if (!v)
                return PYAD_ERR_NOMEM;
            P->v = v;
            P->cap = cap;
        }
    }
    P->v[P->len++] = (uint64_t)r << 32 | c;
    return PYAD_OK;
}

static int cross(pairs_t *P, const deps_t *D, uint32_t a, uint32_t b)
{
    int st = PYAD_OK;
    for (size_t i = D->start[a]; i < D->start[a + 1] && st == PYAD_OK; i++)
        for (size_t j = D->start[b]; j < D->start[b + 1] && st == PYAD_OK; j++)
            st = push_pair(P, D->pool[i], D->pool[j]);
    return st;
}

/* The pairs of one op node with a non-zero adjoint, by its hess class. */
static int op_pairs(const pyad_program *p, const instr_t *c, const uint8_t *zero,
                    const deps_t *D, pairs_t *P, uint32_t *U, size_t *stamp)
{
    const uint32_t *a = p->args + c->first;
    const uint8_t *z = zero + c->first;
    int hess = pyad_ops[c->op].hess, st = PYAD_OK;
    if (hess == PYAD_HESS_NONE)
        return PYAD_OK;
    if (hess == PYAD_HESS_CROSS) {
        for (uint32_t e = 0; e < c->n; e++)
            for (uint32_t f = e + 1; f < c->n && st == PYAD_OK; f++)
                if (!z[e] && !z[f])
                    st = cross(P, D, a[e], a[f]);
    } else if (hess == PYAD_HESS_DOT) {
        uint32_t k = c->n / 2;
        for (uint32_t i = 0; i < k && st == PYAD_OK; i++)
            if (!z[i] && !z[k + i])
                st = cross(P, D, a[i], a[k + i]);
    } else {        /* FULL, or a class this file does not know: all pairs */
        size_t u = 0;
        for (uint32_t e = 0; e < c->n; e++) {
            if (z[e])
                continue;
            for (size_t q = D->start[a[e]]; q < D->start[a[e] + 1]; q++)
                if (stamp[D->pool[q]] != (size_t)c->k + 1) {
                    stamp[D->pool[q]] = (size_t)c->k + 1;
                    U[u++] = D->pool[q];
                }
        }
        for (size_t i = 0; i < u && st == PYAD_OK; i++)
            for (size_t j = 0; j <= i && st == PYAD_OK; j++)
                st = push_pair(P, U[i], U[j]);
    }
    return st;
}

/* The mirrored CSR of the sorted unique lower pairs. */
static int symmetric_csr(size_t n, const uint64_t *v, size_t len, int64_t *row_ptr,
                         int64_t *col, size_t cap, size_t *nnz)
{
    size_t count = 0;
    int64_t *pos;
    for (size_t i = 0; i < len; i++)
        count += (v[i] >> 32) == (v[i] & 0xffffffffu) ? 1 : 2;
    *nnz = count;
    if (!col)
        return PYAD_OK;
    if (!row_ptr || cap < count)
        return PYAD_ERR_ARGS;
    if (!(pos = xcalloc(n + 1, sizeof *pos)))
        return PYAD_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        size_t r = v[i] >> 32, c = v[i] & 0xffffffffu;
        pos[r]++;
        if (r != c)
            pos[c]++;
    }
    row_ptr[0] = 0;
    for (size_t r = 0; r < n; r++) {
        row_ptr[r + 1] = row_ptr[r] + pos[r];
        pos[r] = row_ptr[r];
    }
    for (size_t i = 0; i < len; i++)          /* row r: its columns c <= r */
        col[pos[v[i] >> 32]++] = (int64_t)(v[i] & 0xffffffffu);
    for (size_t i = 0; i < len; i++) {        /* then c > r, ascending */
        size_t r = v[i] >> 32, c = v[i] & 0xffffffffu;
        if (r != c)
            col[pos[c]++] = (int64_t)r;
    }
    xfree(pos);
    return PYAD_OK;
}

int pyad_program_hessian_sparsity(const pyad_program *p, const double *w,
                                  int64_t *row_ptr, int64_t *col, size_t cap,
                                  size_t *nnz)
{
    const size_t n = p ? p->n_in : 0;
    uint8_t *zero = NULL, *reached = NULL;
    uint32_t *U = NULL, top = 0;
    size_t *stamp = NULL;
    pairs_t P = {NULL, 0, 0, 0, 0, 0, 0};
    deps_t D = {NULL, NULL, 0, 0, 0};
    int st, any = 0;
    if (!p || !nnz)
        return PYAD_ERR_ARGS;
    if (n > UINT32_MAX || (n && n > SIZE_MAX / 8 / n))
        return PYAD_ERR_ARGS;
    P.limit = PAIRS_LIMIT(n);
    P.full = n * (n + 1) / 2;
    zero = xmalloc(p->n_args + 1, 1);
    reached = xcalloc(p->n_nodes + 1, 1);
    U = xmalloc(n + 1, sizeof *U);
    stamp = xcalloc(n + 1, sizeof *stamp);
    if (!zero || !reached || !U || !stamp) {
        st = PYAD_ERR_NOMEM;
        goto done;
    }
    zero_edges(p, zero);
    if ((st = deps_build(p, zero, &D)) != PYAD_OK)
        goto done;
    for (size_t o = 0; o < p->n_out; o++)
        if (!w || w[o] != 0.0) {
            reached[p->output_slot[o]] = 1;
            top = p->output_slot[o] > top ? p->output_slot[o] : top;
            any = 1;
        }
    for (size_t i = any ? pyad_instrs_upto(p, top) : 0; i-- > 0 && !D.dense;) {
        const instr_t *c = &p->code[i];
        if (!reached[c->k])
            continue;
        for (uint32_t e = 0; e < c->n; e++)
            if (!zero[c->first + e])
                reached[p->args[c->first + e]] = 1;
        if ((st = op_pairs(p, c, zero, &D, &P, U, stamp)) != PYAD_OK)
            goto done;
    }
    if (!D.dense && !P.dense) {
        P.len = P.len ? sort_unique(P.v, P.len) : 0;
        if (P.len >= P.full && n)
            P.dense = 1;
    }
    if (D.dense || P.dense)
        st = dense_pattern(n, n, row_ptr, col, cap, nnz);
    else
        st = symmetric_csr(n, P.v, P.len, row_ptr, col, cap, nnz);
done:
    deps_free(&D);
    xfree(P.v);
    xfree(zero);
    xfree(reached);
    xfree(U);
    xfree(stamp);
    return st;
}
