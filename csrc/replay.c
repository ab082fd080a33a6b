/* replay.c -- compiled replay of one point (pyad_program_eval).
 *
 * One pass over the op nodes computes the values and, when a gradient is
 * wanted, each edge's partial (the registry's definitions, inline: see
 * PYAD_VALUE_CASE in ops.h); then one reverse sweep per output multiplies
 * and adds along the edges, as the tape's sweep does. Scratch comes from
 * the caller, so a call does not allocate.
 *
 * Matching the eager sweep exactly takes two details:
 *  - the tape sets an adjoint on its first contribution and adds later
 *    ones; here adjoints start at -0.0, the exact identity of IEEE
 *    addition (-0.0 + d == d for every d, signed zeros included);
 *  - the tape only visits nodes reached from the output; here a flag per
 *    node does the same, so an unreached node never adds 0 * inf = nan
 *    (skipped for outputs whose whole program is their ancestry: dense).
 *
 * Error mode: with a non-zero errmode only the values are checked for IEEE
 * exceptions (partials never are): the flags are cleared once and tested
 * once per pass, and only when something was raised are the ops re-run one
 * at a time to find the first.
 */
#include <fenv.h>
#include <math.h>
#include <string.h>

#include "program.h"

/* Inside the loops below: the operands of instruction c, at values v. */
#define PYAD_X(j) v[a[j]]
#define PYAD_NOPS c->n
#define PYAD_OUT v[c->k]
#define PYAD_Y v[c->k]
#define PYAD_PUT(i, d) dp[at + (i)] = (d)   /* in sweep order */

/* The value of instruction c at values v, into v. Inlined into each loop:
 * a call per instruction (its prologue and epilogue) cost as much as the
 * arithmetic ops themselves. */
static inline __attribute__((always_inline)) void value_of(const pyad_program *p, const instr_t *c,
                                                            double *restrict v)
{
    const uint32_t *a = p->args + c->first;
    switch (c->op) {
        PYAD_OP_LIST(PYAD_VALUE_CASE)
    default:
        break;
    }
}

/* Values only. */
static void forward_values(const pyad_program *p, double *restrict v)
{
    const instr_t *c = p->code, *end = p->code + p->n_ops;
    for (; c < end; c++)
        value_of(p, c, v);
}

/* Values and the partials of every edge, in one pass. The value goes to a
 * local, stored after the partials: no store to v comes between the
 * value's loads of the operands and the partials', so the compiler sees
 * they are the same and computes what the two share once (softplus and
 * its partial sigmoid share an exp). */
#undef PYAD_OUT
#undef PYAD_Y
#define PYAD_OUT y_
#define PYAD_Y y_
#define VALUE_PARTIALS_CASE(name, code, arity, hess, uf)                          \
    case PYAD_OP_##name: {                                                        \
        double y_;                                                                \
        PYAD_VALUE_##arity(name);                                                 \
        PYAD_PARTIALS_##name(PYAD_NUM, double, PYAD_X, PYAD_Y, PYAD_PUT, PYAD_NOPS); \
        v[c->k] = y_;                                                             \
        break;                                                                    \
    }
static void forward_partials(const pyad_program *p, double *restrict v, double *restrict dp)
{
    const instr_t *c = p->code, *end = p->code + p->n_ops;
    for (; c < end; c++) {
        const uint32_t *a = p->args + c->first;
        const size_t at = pyad_sweep_first(p, c);
        switch (c->op) {
            PYAD_OP_LIST(VALUE_PARTIALS_CASE)
        default:
            break;
        }
    }
}

#undef PYAD_OUT
#undef PYAD_Y
#define PYAD_OUT v[c->k]
#define PYAD_Y v[c->k]

/* The partials alone, from values already computed (checked mode: the
 * values were tested for IEEE flags, the partials are not). */
static void partials_only(const pyad_program *p, const double *restrict v,
                          double *restrict dp)
{
    const instr_t *c = p->code, *end = p->code + p->n_ops;
    for (; c < end; c++) {
        const uint32_t *a = p->args + c->first;
        const size_t at = pyad_sweep_first(p, c);
        switch (c->op) {
            PYAD_OP_LIST(PYAD_PARTIALS_CASE)
        default:
            break;
        }
    }
}
#undef PYAD_X
#undef PYAD_NOPS
#undef PYAD_OUT
#undef PYAD_Y
#undef PYAD_PUT

int pyad_locate_fp_error(const pyad_program *p, double *v, int64_t *node)
{
    int mode = pyad_get_errmode();
    for (size_t i = 0; i < p->n_ops; i++) {
        int st;
        feclearexcept(FE_ALL_EXCEPT);
        value_of(p, &p->code[i], v);
        st = pyad_fp_status(mode, fetestexcept(PYAD_FE_WATCHED));
        if (st != PYAD_OK) {
            *node = p->code[i].k;
            return st;
        }
    }
    return PYAD_OK;
}

/* Reverse sweep for output o, over partials dp (in sweep order). */
static void sweep(const pyad_program *p, size_t o, const double *restrict dp,
                  double *restrict adj, uint8_t *restrict reached, double *restrict grads)
{
    uint32_t out = p->output_slot[o];
    size_t top = pyad_instrs_upto(p, out);      /* instructions [0, top) */
    for (size_t k = 0; k <= out; k++)
        adj[k] = -0.0;
    adj[out] += 1.0;
    if (p->dense[o]) {
        /* Every node is reached: one flat loop over the edges, in the order
         * of the loop below (no per-node loop whose length varies, so no
         * mispredicted loop exits). An op node's adjoint is complete when
         * its first edge comes: all its users are later nodes. */
        const uint32_t *restrict arg = p->sweep_arg, *restrict owner = p->sweep_owner;
        size_t from = top ? pyad_sweep_first(p, &p->code[top - 1]) : p->n_args;
        for (size_t j = from; j < p->n_args; j++)
            adj[arg[j]] += adj[owner[j]] * dp[j];
    } else {
        memset(reached, 0, (size_t)out + 1);
        reached[out] = 1;
        for (size_t i = top; i-- > 0;) {
            const instr_t *c = &p->code[i];
            const uint32_t *a = p->args + c->first;
            const double *d = dp + pyad_sweep_first(p, c);
            double g;
            if (!reached[c->k])
                continue;
            g = adj[c->k];
            for (uint32_t e = 0; e < c->n; e++) {
                adj[a[e]] += g * d[e];
                reached[a[e]] = 1;
            }
        }
    }
    for (size_t i = 0; i < p->n_in; i++) {
        uint32_t s = p->input_slot[i];
        grads[o * p->n_in + i] = 0.0 + (s <= out ? adj[s] : -0.0);
    }
}

int pyad_program_eval(const pyad_program *p, const double *x, size_t n_x,
                      double *values, size_t n_values,
                      double *grads, size_t n_grads,
                      double *work, size_t work_len, pyad_fail_info *info)
{
    double *v, *adj, *dp;
    uint8_t *reached;
    int mode;
    if (!p || !values || !work || !info || (p->n_in && !x))
        return PYAD_ERR_ARGS;
    /* Every buffer must fit the program: checked before any access. */
    if (n_x != p->n_in || n_values < p->n_out || work_len < pyad_program_work_size(p) ||
        (grads && !pyad_rows_fit(p->n_out, p->n_in, n_grads)))
        return PYAD_ERR_ARGS;
    info->point = info->node = info->guard = -1;
    v = work;
    adj = v + p->n_nodes;
    dp = adj + p->n_nodes;
    reached = (uint8_t *)(dp + p->n_args);
    pyad_program_load_leaves(p, v);
    for (size_t i = 0; i < p->n_in; i++)
        v[p->input_slot[i]] = x[i];
    mode = pyad_get_errmode();
    if (!mode) {
        if (grads)
            forward_partials(p, v, dp);
        else
            forward_values(p, v);
        if ((info->guard = pyad_first_failed_guard(p, v)) >= 0)
            return PYAD_ERR_GUARD;
    } else {
        int raised;
        feclearexcept(FE_ALL_EXCEPT);
        forward_values(p, v);
        raised = fetestexcept(PYAD_FE_WATCHED);
        if ((info->guard = pyad_first_failed_guard(p, v)) >= 0)
            return PYAD_ERR_GUARD;
        if (pyad_fp_status(mode, raised) != PYAD_OK) {
            int st;
            pyad_program_load_leaves(p, v);
            for (size_t i = 0; i < p->n_in; i++)
                v[p->input_slot[i]] = x[i];
            st = pyad_locate_fp_error(p, v, &info->node);
            if (st != PYAD_OK)
                return st;
        }
        if (grads)
            partials_only(p, v, dp);
    }
    for (size_t o = 0; o < p->n_out; o++)
        values[o] = v[p->output_slot[o]];
    if (grads)
        for (size_t o = 0; o < p->n_out; o++)
            sweep(p, o, dp, adj, reached, grads);
    return PYAD_OK;
}

/* ---- the lean value call (Compiled's C call: pycall.c) ------------------- */

#define VALUE_STACK 1024    /* nodes a program may have for the lean call */

double pyad_program_value(const pyad_program *p, const double *x, size_t n_x)
{
    double v[VALUE_STACK];
    if (!p || n_x != p->n_in || p->n_out != 1 || p->n_nodes > VALUE_STACK ||
        (p->n_in && !x) || pyad_get_errmode())
        return NAN;
    pyad_program_load_leaves(p, v);
    for (size_t i = 0; i < p->n_in; i++)
        v[p->input_slot[i]] = x[i];
    forward_values(p, v);
    if (pyad_first_failed_guard(p, v) >= 0)
        return NAN;
    return v[p->output_slot[0]];
}
