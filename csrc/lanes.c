/* lanes.c -- the sweeps of a program over a block of lanes (see lanes.h).
 *
 * Every sweep dispatches each op once per block and loops over the lanes
 * inside, with the op's definitions inline (ops.h), as batch.c does. Each
 * kernel is written once with `shared` (one point for all lanes) as a
 * constant, and instantiated for both layouts.
 */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define LANES_MAX 256
#define LANES_BUDGET ((size_t)4 << 20)   /* bytes of rows per block */

/* ---- layout ---------------------------------------------------------------- */

/* a * b + c, or SIZE_MAX on overflow */
static size_t mul_add(size_t a, size_t b, size_t c)
{
    if (b && a > (SIZE_MAX - c) / b)
        return SIZE_MAX;
    return a * b + c;
}

/* Doubles in the rows of W-wide point data and B-wide lane data. */
static size_t lanes_doubles(const pyad_program *p, size_t B, size_t W)
{
    size_t point_rows = 2 * p->n_nodes + p->n_args + p->n_out;
    size_t lane_rows = 2 * p->n_nodes + p->n_args;
    size_t n = mul_add(point_rows, W, p->n_nodes + 1);
    if (n == SIZE_MAX)
        return n;
    return mul_add(lane_rows, B, n);
}

size_t pyad_lanes_bytes(const pyad_program *p, size_t B, size_t W)
{
    size_t d = lanes_doubles(p, B, W);
    size_t bytes = p->n_out + p->n_nodes + p->n_args + 1;
    if (d == SIZE_MAX || d > (SIZE_MAX - bytes) / sizeof(double))
        return SIZE_MAX;
    return d * sizeof(double) + bytes;
}

void pyad_lanes_bind(pyad_lanes *L, const pyad_program *p, size_t B, size_t W,
                     void *buf)
{
    double *d = buf;
    uint8_t *b;
    L->p = p;
    L->B = B;
    L->W = W;
    L->val = d;
    d += p->n_nodes * W;
    L->dp = d;
    d += p->n_args * W;
    L->adj = d;
    d += p->n_nodes * W;
    L->wt = d;
    d += p->n_out * W;
    L->tan = d;
    d += p->n_nodes * B;
    L->dpt = d;
    d += p->n_args * B;
    L->adjt = d;
    d += p->n_nodes * B;
    L->point = d;
    d += p->n_nodes + 1;
    b = (uint8_t *)d;
    L->seeded = b;
    b += p->n_out;
    L->reached = b;
    b += p->n_nodes;
    L->skip = b;
    /* Constants: their recorded values and zero tangents, once. */
    if (W == 1) {
        memcpy(L->val, p->value, p->n_nodes * sizeof *L->val);
    } else {
        for (size_t k = 0; k < p->n_nodes; k++)
            if (p->op[k] == PYAD_NODE_CONST)
                for (size_t j = 0; j < W; j++)
                    L->val[k * W + j] = p->value[k];
    }
    if (B == 1) {
        memset(L->tan, 0, p->n_nodes * sizeof *L->tan);
    } else {
        for (size_t k = 0; k < p->n_nodes; k++)
            if (p->op[k] == PYAD_NODE_CONST)
                for (size_t l = 0; l < B; l++)
                    L->tan[k * B + l] = 0.0;
    }
}

int pyad_lanes_new(pyad_lanes *L, const pyad_program *p, size_t B, size_t W)
{
    size_t bytes = pyad_lanes_bytes(p, B, W);
    void *buf;
    if (bytes == SIZE_MAX)
        return PYAD_ERR_NOMEM;
    buf = pyad_program_alloc(bytes, 1);
    if (!buf)
        return PYAD_ERR_NOMEM;
    pyad_lanes_bind(L, p, B, W, buf);
    L->block = buf;
    return PYAD_OK;
}

void pyad_lanes_free(pyad_lanes *L)
{
    xfree(L->block);
    L->block = NULL;
}

size_t pyad_lanes_choose(const pyad_program *p, size_t max_lanes, int shared)
{
    size_t rows = 2 * p->n_nodes + p->n_args;
    size_t B;
    if (!shared)
        rows += 2 * p->n_nodes + p->n_args + p->n_out;
    B = LANES_BUDGET / (sizeof(double) * (rows ? rows : 1));
    if (B > LANES_MAX)
        B = LANES_MAX;
    if (B > max_lanes)
        B = max_lanes;
    if (B < 1)
        B = 1;
    if (!shared || B < max_lanes)
        while (B & (B - 1))       /* a power of two: whole vector lanes */
            B &= B - 1;
    return B;
}

/* ---- forward ------------------------------------------------------------------ */

/* Each kernel takes `shared` as a constant (one point for all lanes: point
 * rows one wide, and one point), so that its instances have constant
 * widths and no loops over a single point. An edge into a constant is
 * skipped wherever that saves work (CONST_ARG). */
#define CONST_ARG(j) (p->op[a[j]] == PYAD_NODE_CONST)
#define W_ (shared ? 1 : L->W)
#define MP_ (shared ? 1 : m)

/* Operand j of instruction c at point pt; the value of c; its partial i. */
#define PYAD_X(j) val[(size_t)a[j] * W + pt]
#define PYAD_NOPS c->n
#define PYAD_OUT val[(size_t)c->k * W + pt]
#define PYAD_Y val[(size_t)c->k * W + pt]
#define PYAD_PUT(i, d) (dp[(size_t)(c->first + (i)) * W + pt] = CONST_ARG(i) ? 0.0 : (d))

/* Operand j of instruction c as a dual (value, tangent) in lane l; the
 * op's own; what to do with partial i (its tangent is stored, except on
 * edges into constants, where it is not even computed). */
#define PT_ (shared ? 0 : l)
#define PYAD_XD(j) pyad_dual_of_(val[(size_t)a[j] * W + PT_], tan[(size_t)a[j] * B + l])
#define PYAD_YD pyad_dual_of_(val[(size_t)c->k * W + PT_], tan[(size_t)c->k * B + l])
#define PYAD_DPUT(i, v)                                                        \
    do {                                                                       \
        if (!skip[c->first + (i)])                                             \
            dpt[(size_t)(c->first + (i)) * B + l] = (v).t;                     \
    } while (0)

/* Which edges carry no derivative, from the structure algebra (constant
 * per op: the compiler folds it), set with the partials. */
#define PYAD_SX(j) pyad_s_unknown_()
#define SKIP_PUT(i, v)                                                         \
    do {                                                                       \
        pyad_sval s_ = (v);                                                    \
        skip[c->first + (i)] = (uint8_t)((s_.known && s_.c == 0.0) || CONST_ARG(i)); \
    } while (0)

/* One op, every part `parts` asks for, in one dispatch: its values, its
 * partials, its tangent (the sum of term(d, t) over the operands that
 * carry a derivative, in order) and its partials' tangents. */
#define FORWARD_CASE(name, code, arity, hess, uf)                                  \
    case PYAD_OP_##name:                                                           \
        if (parts & PYAD_FWD_VALUES)                                               \
            for (size_t pt = 0; pt < mp; pt++)                                     \
                PYAD_VALUE_##arity(name);                                          \
        if (parts & PYAD_FWD_PARTIALS) {                                           \
            PYAD_PARTIALS_##name(PYAD_STR, pyad_sval, PYAD_SX, ys, SKIP_PUT, PYAD_NOPS); \
            for (size_t pt = 0; pt < mp; pt++) {                                   \
                PYAD_PARTIALS_##name(PYAD_NUM, double, PYAD_X, PYAD_Y, PYAD_PUT, PYAD_NOPS); \
            }                                                                      \
        }                                                                          \
        if (parts & PYAD_FWD_TANGENTS)                                             \
            tangent_sum(c, a, dp, skip, tan, W, B, m, shared);                     \
        if (parts & PYAD_FWD_SECOND)                                               \
            for (size_t l = 0; l < m; l++) {                                       \
                PYAD_DUAL_PARTIALS(name);                                          \
            }                                                                      \
        break;

ALWAYS_INLINE void tangent_sum(const instr_t *c, const uint32_t *a, const double *dp,
                               const uint8_t *skip, double *tan, size_t W, size_t B,
                               size_t m, const int shared)
{
    double *t = tan + (size_t)c->k * B;
    int first = 1;
    for (uint32_t e = 0; e < c->n; e++) {
        const double *d = dp + (size_t)(c->first + e) * W;
        const double *to = tan + (size_t)a[e] * B;
        if (skip[c->first + e])
            continue;
        if (first) {
            for (size_t l = 0; l < m; l++)
                t[l] = pyad_dt_term_(d[PT_], to[l]);
        } else {
            for (size_t l = 0; l < m; l++)
                t[l] = t[l] + pyad_dt_term_(d[PT_], to[l]);
        }
        first = 0;
    }
    if (first)              /* no operand carries a derivative */
        for (size_t l = 0; l < m; l++)
            t[l] = 0.0;
}

ALWAYS_INLINE void forward_impl(const pyad_lanes *L, size_t m_, const int parts,
                                const int shared, const int one)
{
    const size_t m = one ? 1 : m_;   /* one lane: loops the compiler unrolls */
    const pyad_program *p = L->p;
    const size_t B = L->B, W = W_, mp = MP_;
    const instr_t *code = p->code;
    double *val = L->val, *dp = L->dp, *tan = L->tan, *dpt = L->dpt;
    uint8_t *skip = L->skip;
    const pyad_sval ys = pyad_s_unknown_();
    for (size_t i = 0; i < p->n_ops; i++) {
        const instr_t *c = &code[i];
        const uint32_t *a = p->args + c->first;
        switch (c->op) {
            PYAD_OP_LIST(FORWARD_CASE)
        default:
            break;
        }
    }
    (void)val, (void)dp, (void)tan, (void)dpt, (void)B, (void)mp, (void)ys, (void)skip;
}
#undef PYAD_XD
#undef PYAD_YD
#undef PYAD_DPUT
#undef PYAD_SX
#undef SKIP_PUT
#undef PYAD_X
#undef PYAD_NOPS
#undef PYAD_OUT
#undef PYAD_Y
#undef PYAD_PUT

/* The combinations the drivers use, each its own instance, and each
 * instance its own function: in one function, the 27 copies of every op's
 * code made gcc's register dataflow (superlinear in a function's size) take
 * minutes to compile this file. */
#define FORWARD_PARTS(X)                                                        \
    X(0, PYAD_FWD_VALUES)                                                       \
    X(1, PYAD_FWD_PARTIALS)                                                     \
    X(2, PYAD_FWD_VALUES | PYAD_FWD_PARTIALS)                                   \
    X(3, PYAD_FWD_TANGENTS)                                                     \
    X(4, PYAD_FWD_TANGENTS | PYAD_FWD_SECOND)                                   \
    X(5, PYAD_FWD_PARTIALS | PYAD_FWD_TANGENTS)                                 \
    X(6, PYAD_FWD_PARTIALS | PYAD_FWD_TANGENTS | PYAD_FWD_SECOND)               \
    X(7, PYAD_FWD_VALUES | PYAD_FWD_PARTIALS | PYAD_FWD_TANGENTS)               \
    X(8, PYAD_FWD_VALUES | PYAD_FWD_PARTIALS | PYAD_FWD_TANGENTS | PYAD_FWD_SECOND)
#define FORWARD_DEFINE_(i, parts)                                               \
    static __attribute__((noinline)) void forward_one_##i(const pyad_lanes *L)  \
    {                                                                           \
        forward_impl(L, 1, (parts), 1, 1);                                      \
    }                                                                           \
    static __attribute__((noinline)) void forward_shared_##i(const pyad_lanes *L, size_t m) \
    {                                                                           \
        forward_impl(L, m, (parts), 1, 0);                                      \
    }                                                                           \
    static __attribute__((noinline)) void forward_batch_##i(const pyad_lanes *L, size_t m) \
    {                                                                           \
        forward_impl(L, m, (parts), 0, 0);                                      \
    }
FORWARD_PARTS(FORWARD_DEFINE_)
#define FORWARD_ONE_(i, parts) case (parts): forward_one_##i(L); break;
#define FORWARD_SHARED_(i, parts) case (parts): forward_shared_##i(L, m); break;
#define FORWARD_BATCH_(i, parts) case (parts): forward_batch_##i(L, m); break;

void pyad_lanes_forward(const pyad_lanes *L, size_t m, int parts)
{
    if (L->W == 1 && m == 1) {
        switch (parts) {
            FORWARD_PARTS(FORWARD_ONE_)
        default:
            break;
        }
    } else if (L->W == 1) {
        switch (parts) {
            FORWARD_PARTS(FORWARD_SHARED_)
        default:
            break;
        }
    } else {
        switch (parts) {
            FORWARD_PARTS(FORWARD_BATCH_)
        default:
            break;
        }
    }
}

/* ---- reverse -------------------------------------------------------------------- */

/* Start node k's adjoint rows at -0.0 (the identity of IEEE addition). */
ALWAYS_INLINE void touch(uint8_t *reached, double *adj, double *adjt, uint32_t k,
                         size_t W, size_t B, size_t mp, size_t m, const int second)
{
    reached[k] = 1;
    for (size_t j = 0; j < mp; j++)
        adj[(size_t)k * W + j] = -0.0;
    if (second)
        for (size_t l = 0; l < m; l++)
            adjt[(size_t)k * B + l] = -0.0;
}

/* (Every array is a local: the reached flags are bytes, which may alias
 * anything, and would make the compiler reload the struct's fields.) */
ALWAYS_INLINE void reverse_impl(const pyad_lanes *L, size_t m_, const int second,
                                const int shared, const int one)
{
    const size_t m = one ? 1 : m_;
    const pyad_program *p = L->p;
    const size_t B = L->B, W = W_, mp = MP_;
    const instr_t *code = p->code;
    const uint32_t *args = p->args;
    const uint8_t *skip = L->skip;
    const double *dp = L->dp, *dpt = L->dpt;
    uint8_t *reached = L->reached;
    double *adj = L->adj, *adjt = L->adjt;
    uint32_t top = 0;
    int any = 0;
    memset(reached, 0, p->n_nodes);
    for (size_t o = 0; o < p->n_out; o++) {
        uint32_t s = p->output_slot[o];
        const double *w = L->wt + o * W;
        if (!L->seeded[o])
            continue;
        if (!reached[s])
            touch(reached, adj, adjt, s, W, B, mp, m, second);
        for (size_t j = 0; j < mp; j++)
            adj[(size_t)s * W + j] += w[j];
        top = s > top ? s : top;
        any = 1;
    }
    if (!any)
        return;
    for (size_t i = pyad_instrs_upto(p, top); i-- > 0;) {
        const instr_t *c = &code[i];
        const uint32_t *a = args + c->first;
        const uint32_t k = c->k, n = c->n;
        const double *g = adj + (size_t)k * W, *gt = adjt + (size_t)k * B;
        if (!reached[k])
            continue;
        for (uint32_t e = 0; e < n; e++) {
            const size_t f = c->first + e;
            const uint32_t ae = a[e];
            const double *d = dp + f * W, *dt = dpt + f * B;
            double *r = adj + (size_t)ae * W, *rt = adjt + (size_t)ae * B;
            if (skip[f])
                continue;
            if (!reached[ae])
                touch(reached, adj, adjt, ae, W, B, mp, m, second);
            for (size_t j = 0; j < mp; j++)
                r[j] += g[j] * d[j];
            if (second)
                for (size_t l = 0; l < m; l++)
                    rt[l] += gt[l] * d[PT_] + g[PT_] * dt[l];
        }
    }
}

void pyad_lanes_reverse(const pyad_lanes *L, size_t m, int second)
{
    if (L->W == 1 && m == 1)
        second ? reverse_impl(L, 1, 1, 1, 1) : reverse_impl(L, 1, 0, 1, 1);
    else if (L->W == 1)
        second ? reverse_impl(L, m, 1, 1, 0) : reverse_impl(L, m, 0, 1, 0);
    else
        second ? reverse_impl(L, m, 1, 0, 0) : reverse_impl(L, m, 0, 0, 0);
}
#undef PT_

void pyad_lanes_seed_shared(pyad_lanes *L, const double *w)
{
    for (size_t o = 0; o < L->p->n_out; o++) {
        double x = w ? w[o] : 1.0;
        L->seeded[o] = x != 0.0;
        for (size_t j = 0; j < L->W; j++)
            L->wt[o * L->W + j] = x;
    }
}

/* ---- error mode and guards ------------------------------------------------------- */

int pyad_lanes_values_raised(const pyad_lanes *L, size_t m, int mode)
{
    int raised;
    feclearexcept(FE_ALL_EXCEPT);
    pyad_lanes_forward(L, m, PYAD_FWD_VALUES);
    raised = fetestexcept(PYAD_FE_WATCHED);
    return pyad_fp_status(mode, raised) != PYAD_OK;
}

int pyad_lanes_locate(const pyad_lanes *L, size_t m, const uint8_t *skip,
                      size_t *lane, int64_t *node)
{
    const pyad_program *p = L->p;
    size_t mp = L->W == 1 ? 1 : m;
    for (size_t pt = 0; pt < mp; pt++) {
        int st;
        if (skip && skip[pt])
            continue;
        for (size_t k = 0; k < p->n_nodes; k++)
            L->point[k] = L->val[k * L->W + pt];
        st = pyad_locate_fp_error(p, L->point, node);
        if (st != PYAD_OK) {
            *lane = pt;
            return st;
        }
    }
    return PYAD_OK;
}

int64_t pyad_lanes_failed_guard(const pyad_lanes *L, size_t pt)
{
    const pyad_program *p = L->p;
    for (size_t g = 0; g < p->n_guards; g++) {
        double a = L->val[(size_t)p->g_a[g] * L->W + pt];
        double b = p->g_b[g] >= 0 ? L->val[(size_t)p->g_b[g] * L->W + pt] : p->g_c[g];
        if (pyad_guard_holds(p, g, a, b) != p->g_out[g])
            return (int64_t)g;
    }
    return -1;
}
