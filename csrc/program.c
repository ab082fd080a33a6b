/* program.c -- compiled programs: creation, validation, shared pieces.
 *
 * See program.h for what a program is; replay.c and batch.c evaluate it.
 */
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "program.h"

#define MAX_NODES ((size_t)UINT32_MAX - 1)

/* ---- creation and validation ------------------------------------------ */

void *pyad_program_alloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return pyad_locked_alloc(count * size);
}

#define COPY(dst, src, count) \
    (((dst) = pyad_program_alloc((count), sizeof *(dst))) != NULL && \
     ((count) == 0 || memcpy((dst), (src), (count) * sizeof *(dst))))

void pyad_program_free(pyad_program *p)
{
    if (!p)
        return;
    PYAD_RELEASE(p->op, p->value, p->arg_start, p->args, p->input_slot,
                 p->output_slot, p->code, p->dense, p->sweep_arg, p->sweep_owner,
                 p->leaf_run, p->g_kind, p->g_a, p->g_b, p->g_c, p->g_out, p);
}

/* Check everything pyad_program_new is given, before any allocation. */
static int validate(const int32_t *node_op, const uint32_t *arg_start,
                    size_t n_nodes, const uint32_t *args, size_t n_args,
                    const uint32_t *input_slot, size_t n_in,
                    const uint32_t *output_slot, size_t n_out,
                    const int32_t *guard_kind, const uint32_t *guard_a,
                    const int64_t *guard_b, const uint8_t *guard_outcome,
                    size_t n_guards, uint8_t *input_seen)
{
    size_t n_input_nodes = 0;
    if (arg_start[0] != 0 || arg_start[n_nodes] != n_args)
        return PYAD_ERR_PROGRAM;
    for (size_t k = 0; k < n_nodes; k++) {
        int32_t op = node_op[k];
        uint32_t first = arg_start[k], last = arg_start[k + 1];
        if (last < first || last > n_args)
            return PYAD_ERR_PROGRAM;
        if (op == PYAD_NODE_INPUT || op == PYAD_NODE_CONST) {
            if (last != first)
                return PYAD_ERR_PROGRAM;
            n_input_nodes += op == PYAD_NODE_INPUT;
            continue;
        }
        if (!pyad_op_accepts(op, last - first))
            return PYAD_ERR_PROGRAM;
        for (uint32_t e = first; e < last; e++)
            if (args[e] >= k)      /* operands come strictly earlier */
                return PYAD_ERR_PROGRAM;
    }
    if (n_input_nodes != n_in)
        return PYAD_ERR_PROGRAM;
    memset(input_seen, 0, n_nodes);
    for (size_t i = 0; i < n_in; i++) {
        uint32_t s = input_slot[i];
        if (s >= n_nodes || node_op[s] != PYAD_NODE_INPUT || input_seen[s])
            return PYAD_ERR_PROGRAM;
        input_seen[s] = 1;
    }
    for (size_t o = 0; o < n_out; o++)
        if (output_slot[o] >= n_nodes)
            return PYAD_ERR_PROGRAM;
    for (size_t g = 0; g < n_guards; g++) {
        if (guard_kind[g] < PYAD_GUARD_LT || guard_kind[g] > PYAD_GUARD_SAME)
            return PYAD_ERR_PROGRAM;
        if (guard_a[g] >= n_nodes || guard_outcome[g] > 1)
            return PYAD_ERR_PROGRAM;
        if (guard_b[g] < -1 || (guard_b[g] >= 0 && (uint64_t)guard_b[g] >= n_nodes))
            return PYAD_ERR_PROGRAM;
    }
    return PYAD_OK;
}

/* dense[o] = 1 when every op node up to output o is an ancestor of it (as
 * for a single output: export keeps only what the outputs use). Its sweep
 * then reaches every node, and backward_point can skip the reached flags.
 *
 * Linear in the program, whatever the number of outputs: with use[k] the
 * first op node that has k as an operand (none: n_nodes), every op node
 * k <= s is an ancestor of s exactly when use[k] <= s for every op node
 * k < s. (If so, going down from s, each op node's first user lies in
 * (k, s] and is an ancestor by then; conversely an ancestor k < s reaches
 * s through an operand edge into (k, s].) So dense[o] compares s with the
 * running maximum of use[] below s. */
static int mark_dense(pyad_program *p)
{
    uint32_t *use = pyad_program_alloc(p->n_nodes ? p->n_nodes : 1, sizeof *use);
    uint32_t *below = pyad_program_alloc(p->n_nodes ? p->n_nodes : 1, sizeof *below);
    uint32_t top = 0;
    if (!use || !below) {
        PYAD_RELEASE(use, below);
        return 0;
    }
    for (size_t k = 0; k < p->n_nodes; k++)
        use[k] = (uint32_t)p->n_nodes;
    for (size_t i = p->n_ops; i-- > 0;) {       /* descending: first users win */
        const instr_t *c = &p->code[i];
        for (uint32_t e = 0; e < c->n; e++)
            use[p->args[c->first + e]] = c->k;
    }
    /* below[s] = max of use[k] over the op nodes k < s (0 if none) */
    for (size_t k = 0; k < p->n_nodes; k++) {
        below[k] = top;
        if (p->op[k] >= 0 && use[k] > top)
            top = use[k];
    }
    for (size_t o = 0; o < p->n_out; o++) {
        uint32_t s = p->output_slot[o];
        p->dense[o] = (uint8_t)(below[s] <= s);
    }
    PYAD_RELEASE(use, below);
    return 1;
}

/* leaf_run: the runs of nodes that are not ops. Many short runs (constants
 * scattered among the ops) cost a loop each, so past one run per 16 nodes
 * a single run covers everything (a plain copy). */
static int mark_leaf_runs(pyad_program *p)
{
    size_t runs = 0;
    for (size_t k = 0; k < p->n_nodes; k++)
        if (p->op[k] < 0 && (k == 0 || p->op[k - 1] >= 0))
            runs++;
    if (runs > p->n_nodes / 16 + 1) {
        if (!(p->leaf_run = pyad_program_alloc(2, sizeof *p->leaf_run)))
            return 0;
        p->leaf_run[0] = 0;
        p->leaf_run[1] = (uint32_t)p->n_nodes;
        p->n_leaf_runs = 1;
        return 1;
    }
    if (!(p->leaf_run = pyad_program_alloc(runs ? 2 * runs : 1, sizeof *p->leaf_run)))
        return 0;
    for (size_t k = 0; k < p->n_nodes; k++) {
        if (p->op[k] >= 0)
            continue;
        if (k == 0 || p->op[k - 1] >= 0)
            p->leaf_run[2 * p->n_leaf_runs++] = (uint32_t)k;
        p->leaf_run[2 * p->n_leaf_runs - 1] = (uint32_t)k + 1;
    }
    return 1;
}

/* sweep_arg, sweep_owner: every edge in the order of a reverse sweep, so
 * that point replay sweeps them in one flat loop. Every edge belongs to an
 * op node (inputs and constants have none). */
static int order_sweep(pyad_program *p)
{
    size_t n = p->n_args ? p->n_args : 1;
    if (!(p->sweep_arg = pyad_program_alloc(n, sizeof *p->sweep_arg)) ||
        !(p->sweep_owner = pyad_program_alloc(n, sizeof *p->sweep_owner)))
        return 0;
    for (size_t i = 0; i < p->n_ops; i++) {
        const instr_t *c = &p->code[i];
        size_t at = pyad_sweep_first(p, c);
        for (uint32_t e = 0; e < c->n; e++) {
            p->sweep_arg[at + e] = p->args[c->first + e];
            p->sweep_owner[at + e] = c->k;
        }
    }
    return 1;
}

int pyad_program_new(const int32_t *node_op, const double *node_value,
                     const uint32_t *arg_start, size_t n_nodes,
                     const uint32_t *args, size_t n_args,
                     const uint32_t *input_slot, size_t n_in,
                     const uint32_t *output_slot, size_t n_out,
                     const int32_t *guard_kind, const uint32_t *guard_a,
                     const int64_t *guard_b, const double *guard_c,
                     const uint8_t *guard_outcome, size_t n_guards,
                     pyad_program **out)
{
    pyad_program *p;
    uint8_t *seen;
    int st;
    if (!out)
        return PYAD_ERR_ARGS;
    *out = NULL;
    if (n_nodes > MAX_NODES || n_args > MAX_NODES || n_in > n_nodes ||
        n_out > MAX_NODES || n_guards > MAX_NODES)
        return PYAD_ERR_PROGRAM;
    if (!arg_start || (n_nodes && (!node_op || !node_value)) ||
        (n_args && !args) || (n_in && !input_slot) || (n_out && !output_slot) ||
        (n_guards && (!guard_kind || !guard_a || !guard_b || !guard_c ||
                      !guard_outcome)))
        return PYAD_ERR_PROGRAM;
    if (!(seen = pyad_program_alloc(n_nodes, 1)))
        return PYAD_ERR_NOMEM;
    st = validate(node_op, arg_start, n_nodes, args, n_args, input_slot, n_in,
                  output_slot, n_out, guard_kind, guard_a, guard_b,
                  guard_outcome, n_guards, seen);
    PYAD_RELEASE(seen);
    if (st != PYAD_OK)
        return st;
    if (!(p = pyad_program_alloc(1, sizeof *p)))
        return PYAD_ERR_NOMEM;
    memset(p, 0, sizeof *p);
    p->n_nodes = n_nodes;
    p->n_args = n_args;
    p->n_in = n_in;
    p->n_out = n_out;
    p->n_guards = n_guards;
    if (!COPY(p->op, node_op, n_nodes) || !COPY(p->value, node_value, n_nodes) ||
        !COPY(p->arg_start, arg_start, n_nodes + 1) || !COPY(p->args, args, n_args) ||
        !COPY(p->input_slot, input_slot, n_in) ||
        !COPY(p->output_slot, output_slot, n_out) ||
        !COPY(p->g_kind, guard_kind, n_guards) || !COPY(p->g_a, guard_a, n_guards) ||
        !COPY(p->g_b, guard_b, n_guards) || !COPY(p->g_c, guard_c, n_guards) ||
        !COPY(p->g_out, guard_outcome, n_guards) ||
        !(p->code = pyad_program_alloc(n_nodes, sizeof *p->code))) {
        pyad_program_free(p);
        return PYAD_ERR_NOMEM;
    }
    p->max_arity = 1;
    for (size_t k = 0; k < n_nodes; k++) {
        size_t n = p->arg_start[k + 1] - p->arg_start[k];
        if (p->op[k] >= 0) {
            instr_t *c = &p->code[p->n_ops++];
            c->k = (uint32_t)k;
            c->first = p->arg_start[k];
            c->n = (uint32_t)n;
            c->op = p->op[k];
        }
        if (n > p->max_arity)
            p->max_arity = n;
    }
    if (!(p->dense = pyad_program_alloc(n_out ? n_out : 1, 1)) || !mark_dense(p) ||
        !mark_leaf_runs(p) || !order_sweep(p)) {
        pyad_program_free(p);
        return PYAD_ERR_NOMEM;
    }
    *out = p;
    return PYAD_OK;
}

size_t pyad_program_n_nodes(const pyad_program *p) { return p ? p->n_nodes : 0; }
size_t pyad_program_n_ops(const pyad_program *p) { return p ? p->n_ops : 0; }
size_t pyad_program_n_in(const pyad_program *p) { return p ? p->n_in : 0; }
size_t pyad_program_n_out(const pyad_program *p) { return p ? p->n_out : 0; }

void pyad_cancel(int *flag)
{
    if (flag)
        pyad_flag_set(flag, 1);
}

/* values, adjoints, partials (one per edge), reached flags (as bytes) */
size_t pyad_program_work_size(const pyad_program *p)
{
    if (!p)
        return 0;
    return 2 * p->n_nodes + p->n_args + p->n_nodes / sizeof(double) + 1;
}

size_t pyad_instrs_upto(const pyad_program *p, uint32_t k)
{
    size_t lo = 0, hi = p->n_ops;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->code[mid].k <= k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- guards ---------------------------------------------------------------- */

/* The recorded test is (a KIND b) == outcome, b being value[g_b] or the
 * constant g_c; SAME pins the exact bits of a to those of g_c. */
int pyad_guard_holds(const pyad_program *p, size_t g, double a, double b)
{
    switch (p->g_kind[g]) {
    case PYAD_GUARD_LT: return a < b;
    case PYAD_GUARD_LE: return a <= b;
    case PYAD_GUARD_GT: return a > b;
    case PYAD_GUARD_GE: return a >= b;
    case PYAD_GUARD_NE: return a != b;
    default: {
        uint64_t x, y;
        double c = p->g_c[g];
        memcpy(&x, &a, sizeof x);
        memcpy(&y, &c, sizeof y);
        return x == y;
    }
    }
}

int64_t pyad_first_failed_guard(const pyad_program *p, const double *v)
{
    for (size_t g = 0; g < p->n_guards; g++) {
        double a = v[p->g_a[g]];
        double b = p->g_b[g] >= 0 ? v[p->g_b[g]] : p->g_c[g];
        if (pyad_guard_holds(p, g, a, b) != p->g_out[g])
            return (int64_t)g;
    }
    return -1;
}
