/* program.c -- compiled replay: a frozen graph evaluated for new inputs.
 *
 * A program is what pyad_export gives (nodes in topological order, each an
 * INPUT, a CONST or an op over earlier nodes) plus guards, copied into a
 * block that nothing else touches, so replay needs no lock. Replay uses the
 * op table's own forward and partials functions (or, for the simplest ops,
 * the very same expressions written inline), in the same order as the tape,
 * so values and gradients equal eager recording + backward bit for bit.
 *
 * Matching the eager sweep exactly takes two details:
 *  - the tape sets an adjoint on its first contribution and adds later
 *    ones; here adjoints start at -0.0, the exact identity of IEEE
 *    addition (-0.0 + d == d for every d, signed zeros included);
 *  - the tape only visits nodes reached from the output; here a flag per
 *    node does the same, so an unreached node never adds 0 * inf = nan.
 *
 * Two evaluators:
 *  - one point (pyad_program_eval): point-major, one pass over the ops,
 *    scratch supplied by the caller (so a call does not allocate);
 *  - a batch (pyad_program_eval_batch): op-major over blocks of points, so
 *    the dispatch of each op is paid once per block, not once per point.
 *
 * Error mode: as in tape.c, with a non-zero errmode the forward values are
 * checked for IEEE exceptions (the partials never are). To keep the fast
 * path fast the flags are cleared once and tested once per pass; only when
 * something was raised are the ops re-run one at a time to find the first.
 */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "platform.h"
#include "pyad.h"

#define MAX_NODES ((size_t)UINT32_MAX - 1)
#define BLOCK_MAX 256
#define BLOCK_MIN 8
#define BLOCK_BUDGET ((size_t)6 << 20)   /* bytes of values + adjoints */

/* Fast paths: ops whose forward and partials are written inline below
 * with exactly the expressions of ops.c. Everything else calls the table. */
enum { F_LEAF = 0, F_GENERIC, F_ADD, F_SUB, F_MUL, F_DIV, F_NEG, F_SUM };

/* One op node, laid out for the replay loops: everything one step needs in
 * one place (the node arrays stay for validation and pickling). */
typedef struct {
    uint32_t k;             /* the node */
    uint32_t a0, a1;        /* its first two operands (a1 = a0 if unary) */
    uint32_t first, n;      /* operands are args[first .. first + n) */
    int32_t op;
    uint8_t fast;           /* F_* */
} instr_t;

struct pyad_program {
    size_t n_nodes, n_args, n_in, n_out, n_guards, n_ops, max_arity;
    int32_t *op;            /* per node: op code, INPUT or CONST */
    uint8_t *fast;          /* per node: F_* */
    double *value;          /* per node: recorded value (CONST baked in) */
    uint32_t *arg_start;    /* n_nodes + 1 */
    uint32_t *args;
    uint32_t *input_slot, *output_slot;
    instr_t *code;          /* the op nodes, ascending (n_ops of them) */
    uint8_t *dense;         /* per output: every op node below it is one of
                             * its ancestors, so its sweep needs no flags */
    int32_t *g_kind;
    uint32_t *g_a;
    int64_t *g_b;
    double *g_c;
    uint8_t *g_out;
};

static size_t block_override;

/* tape.c: malloc and free under the tape's lock (fork safety), with the
 * test switch of pyad_debug_fail_alloc_after. */
void *pyad_locked_alloc(size_t bytes);
void pyad_locked_free(void *const *blocks, size_t n);

/* ---- creation and validation ------------------------------------------ */

static void *alloc_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return pyad_locked_alloc(count * size);
}

/* free() for a list of blocks, under one lock. */
#define RELEASE(...)                                                     \
    do {                                                                 \
        void *const blocks_[] = {__VA_ARGS__};                           \
        pyad_locked_free(blocks_, sizeof blocks_ / sizeof blocks_[0]);   \
    } while (0)

#define COPY(dst, src, count) \
    (((dst) = alloc_array((count), sizeof *(dst))) != NULL && \
     ((count) == 0 || memcpy((dst), (src), (count) * sizeof *(dst))))

void pyad_program_free(pyad_program *p)
{
    if (!p)
        return;
    RELEASE(p->op, p->fast, p->value, p->arg_start, p->args, p->input_slot,
            p->output_slot, p->code, p->dense, p->g_kind, p->g_a, p->g_b,
            p->g_c, p->g_out, p);
}

static uint8_t fast_kind(int32_t op)
{
    static const struct { const char *name; uint8_t kind; } table[] = {
        {"add", F_ADD}, {"sub", F_SUB}, {"mul", F_MUL}, {"div", F_DIV},
        {"neg", F_NEG}, {"sum", F_SUM},
    };
    if (op < 0)
        return F_LEAF;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(pyad_ops[op].name, table[i].name) == 0)
            return table[i].kind;
    return F_GENERIC;
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
        if (op < 0 || op >= pyad_n_ops)
            return PYAD_ERR_PROGRAM;
        if (pyad_ops[op].arity >= 0 ? last - first != (uint32_t)pyad_ops[op].arity
                                    : last == first)
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
    uint32_t *use = alloc_array(p->n_nodes ? p->n_nodes : 1, sizeof *use);
    uint32_t *below = alloc_array(p->n_nodes ? p->n_nodes : 1, sizeof *below);
    uint32_t top = 0;
    if (!use || !below) {
        RELEASE(use, below);
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
    RELEASE(use, below);
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
    if (!(seen = alloc_array(n_nodes, 1)))
        return PYAD_ERR_NOMEM;
    st = validate(node_op, arg_start, n_nodes, args, n_args, input_slot, n_in,
                  output_slot, n_out, guard_kind, guard_a, guard_b,
                  guard_outcome, n_guards, seen);
    RELEASE(seen);
    if (st != PYAD_OK)
        return st;
    if (!(p = alloc_array(1, sizeof *p)))
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
        !(p->fast = alloc_array(n_nodes, 1)) ||
        !(p->code = alloc_array(n_nodes, sizeof *p->code))) {
        pyad_program_free(p);
        return PYAD_ERR_NOMEM;
    }
    p->max_arity = 1;
    for (size_t k = 0; k < n_nodes; k++) {
        size_t n = p->arg_start[k + 1] - p->arg_start[k];
        p->fast[k] = fast_kind(p->op[k]);
        if (p->op[k] >= 0) {
            instr_t *c = &p->code[p->n_ops++];
            c->k = (uint32_t)k;
            c->first = p->arg_start[k];
            c->n = (uint32_t)n;
            c->a0 = p->args[c->first];
            c->a1 = n > 1 ? p->args[c->first + 1] : c->a0;
            c->op = p->op[k];
            c->fast = p->fast[k];
        }
        if (n > p->max_arity)
            p->max_arity = n;
    }
    if (!(p->dense = alloc_array(n_out ? n_out : 1, 1)) || !mark_dense(p)) {
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

/* 1 when count rows of `row` elements fit in a buffer of len elements. */
static int rows_fit(size_t count, size_t row, size_t len)
{
    return row == 0 || count <= len / row;
}

/* values, adjoints, operand and partial scratch, reached flags (as bytes) */
size_t pyad_program_work_size(const pyad_program *p)
{
    if (!p)
        return 0;
    return 2 * p->n_nodes + 2 * p->max_arity + p->n_nodes / sizeof(double) + 1;
}

/* Tuning knob for benchmarks: points per block of a batch; 0 = automatic. */
int pyad_program_set_block(size_t points)
{
    if (points > BLOCK_MAX)
        return PYAD_ERR_ARGS;
    block_override = points;
    return PYAD_OK;
}

/* ---- shared pieces ----------------------------------------------------- */

static int guard_holds(int32_t kind, double a, double b, double c)
{
    switch (kind) {
    case PYAD_GUARD_LT: return a < b;
    case PYAD_GUARD_LE: return a <= b;
    case PYAD_GUARD_GT: return a > b;
    case PYAD_GUARD_GE: return a >= b;
    case PYAD_GUARD_NE: return a != b;
    default: {
        uint64_t x, y;
        memcpy(&x, &a, sizeof x);
        memcpy(&y, &c, sizeof y);
        return x == y;
    }
    }
}

/* ---- one point ---------------------------------------------------------- */

/* Forward value of op node k from the values v; xs is operand scratch. */
static inline double forward_one(const pyad_program *p, const instr_t *c,
                                 const double *v, double *xs)
{
    switch (c->fast) {
    case F_ADD: return v[c->a0] + v[c->a1];
    case F_SUB: return v[c->a0] - v[c->a1];
    case F_MUL: return v[c->a0] * v[c->a1];
    case F_DIV: return v[c->a0] / v[c->a1];
    case F_NEG: return -v[c->a0];
    default: {
        const uint32_t *a = p->args + c->first;
        for (size_t i = 0; i < c->n; i++)
            xs[i] = v[a[i]];
        return pyad_ops[c->op].forward(xs, c->n);
    }
    }
}

/* The forward pass of one point: v holds the inputs already (and every
 * other node's recorded value); fills in the op nodes. */
static void forward_point(const pyad_program *p, double *v, double *xs)
{
    const instr_t *c = p->code, *end = p->code + p->n_ops;
    for (; c < end; c++)
        v[c->k] = forward_one(p, c, v, xs);
}

/* Re-run the forward pass op by op, testing the flags after each, to find
 * the first op whose value raises what the error mode selects. */
static int locate_fp_error(const pyad_program *p, double *v, double *xs,
                           int64_t *node)
{
    for (size_t i = 0; i < p->n_ops; i++) {
        const instr_t *c = &p->code[i];
        int st;
        feclearexcept(FE_ALL_EXCEPT);
        v[c->k] = forward_one(p, c, v, xs);
        st = pyad_fp_status(pyad_get_errmode(), fetestexcept(PYAD_FE_WATCHED));
        if (st != PYAD_OK) {
            *node = c->k;
            return st;
        }
    }
    return PYAD_OK;
}

static int64_t first_failed_guard(const pyad_program *p, const double *v)
{
    for (size_t g = 0; g < p->n_guards; g++) {
        double a = v[p->g_a[g]];
        double b = p->g_b[g] >= 0 ? v[p->g_b[g]] : p->g_c[g];
        if (guard_holds(p->g_kind[g], a, b, p->g_c[g]) != p->g_out[g])
            return (int64_t)g;
    }
    return -1;
}

/* Reverse sweep for output o of one point, as tape.c's sweep does it. */
/* How many instructions have node <= k (code is sorted by node). */
static size_t instrs_upto(const pyad_program *p, uint32_t k)
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

/* The partials -1 (sub, neg) as a value the compiler cannot fold into a
 * negation, so that g * -1 is the multiplication the tape does. */
static volatile const double MINUS_ONE = -1.0;

/* Reverse sweep for output o of one point, as tape.c's sweep does it. */
static inline __attribute__((always_inline)) void
backward_impl(const pyad_program *p, size_t o, const double *v, double *adj,
              uint8_t *reached, double *xs, double *d, double *grads,
              const int dense)
{
    uint32_t out = p->output_slot[o];
    const double m1 = MINUS_ONE;
    for (size_t k = 0; k <= out; k++)
        adj[k] = -0.0;
    if (!dense) {           /* dense: every node is reached, no flags needed */
        memset(reached, 0, (size_t)out + 1);
        reached[out] = 1;
    }
    adj[out] += 1.0;
    for (size_t i = instrs_upto(p, out); i-- > 0;) {
        const instr_t *c = &p->code[i];
        uint32_t a0 = c->a0, a1 = c->a1;
        double g;
        if (!dense && !reached[c->k])
            continue;
        g = adj[c->k];
        switch (c->fast) {
        case F_ADD:
            adj[a0] += g * 1.0; if (!dense) reached[a0] = 1;
            adj[a1] += g * 1.0; if (!dense) reached[a1] = 1;
            break;
        case F_SUB:
            adj[a0] += g * 1.0; if (!dense) reached[a0] = 1;
            adj[a1] += g * m1; if (!dense) reached[a1] = 1;
            break;
        case F_MUL: {
            double x0 = v[a0], x1 = v[a1];
            adj[a0] += g * x1; if (!dense) reached[a0] = 1;
            adj[a1] += g * x0; if (!dense) reached[a1] = 1;
            break;
        }
        case F_DIV: {
            double b = v[a1], y = v[c->k];
            double d0 = 1.0 / b, d1 = -y / b;
            adj[a0] += g * d0; if (!dense) reached[a0] = 1;
            adj[a1] += g * d1; if (!dense) reached[a1] = 1;
            break;
        }
        case F_NEG:
            adj[a0] += g * m1; if (!dense) reached[a0] = 1;
            break;
        default: {
            const uint32_t *a = p->args + c->first;
            size_t n = c->n;
            for (size_t e = 0; e < n; e++)
                xs[e] = v[a[e]];
            pyad_ops[c->op].partials(xs, n, v[c->k], d);
            for (size_t e = 0; e < n; e++) {
                adj[a[e]] += g * d[e];
                if (!dense) reached[a[e]] = 1;
            }
        }
        }
    }
    for (size_t i = 0; i < p->n_in; i++) {
        uint32_t s = p->input_slot[i];
        grads[o * p->n_in + i] = 0.0 + (s <= out ? adj[s] : -0.0);
    }
}

static void backward_point(const pyad_program *p, size_t o, const double *v,
                           double *adj, uint8_t *reached, double *xs,
                           double *d, double *grads)
{
    if (p->dense[o])
        backward_impl(p, o, v, adj, reached, xs, d, grads, 1);
    else
        backward_impl(p, o, v, adj, reached, xs, d, grads, 0);
}

int pyad_program_eval(const pyad_program *p, const double *x, size_t n_x,
                      double *values, size_t n_values,
                      double *grads, size_t n_grads,
                      double *work, size_t work_len, pyad_fail_info *info)
{
    double *v, *adj, *xs, *d;
    uint8_t *reached;
    int mode;
    if (!p || !values || !work || !info || (p->n_in && !x))
        return PYAD_ERR_ARGS;
    if (n_x != p->n_in || n_values < p->n_out || work_len < pyad_program_work_size(p) ||
        (grads && !rows_fit(p->n_out, p->n_in, n_grads)))
        return PYAD_ERR_ARGS;
    info->point = info->node = info->guard = -1;
    v = work;
    adj = v + p->n_nodes;
    xs = adj + p->n_nodes;
    d = xs + p->max_arity;
    reached = (uint8_t *)(d + p->max_arity);
    memcpy(v, p->value, p->n_nodes * sizeof *v);
    for (size_t i = 0; i < p->n_in; i++)
        v[p->input_slot[i]] = x[i];
    mode = pyad_get_errmode();
    if (mode)
        feclearexcept(FE_ALL_EXCEPT);
    forward_point(p, v, xs);
    if (mode) {
        int raised = fetestexcept(PYAD_FE_WATCHED);
        if ((info->guard = first_failed_guard(p, v)) >= 0)
            return PYAD_ERR_GUARD;
        if (pyad_fp_status(pyad_get_errmode(), raised) != PYAD_OK) {
            int st;
            memcpy(v, p->value, p->n_nodes * sizeof *v);
            for (size_t i = 0; i < p->n_in; i++)
                v[p->input_slot[i]] = x[i];
            st = locate_fp_error(p, v, xs, &info->node);
            if (st != PYAD_OK)
                return st;
        }
    } else if ((info->guard = first_failed_guard(p, v)) >= 0) {
        return PYAD_ERR_GUARD;
    }
    for (size_t o = 0; o < p->n_out; o++)
        values[o] = v[p->output_slot[o]];
    if (grads)
        for (size_t o = 0; o < p->n_out; o++)
            backward_point(p, o, v, adj, reached, xs, d, grads);
    return PYAD_OK;
}

/* ---- batches ------------------------------------------------------------ */

typedef struct {
    const pyad_program *p;
    size_t B;               /* points per block */
    double *val;            /* n_nodes rows of B */
    double *adj;            /* n_nodes rows of B */
    double *xs, *d;         /* max_arity each */
    uint8_t *reached;       /* n_nodes */
    double *point;          /* n_nodes: one point, for locating fp errors */
} batch_t;

/* Forward pass over the m points of the current block. */
static void forward_block(const batch_t *bt, size_t m)
{
    const pyad_program *p = bt->p;
    const size_t B = bt->B;
    double *val = bt->val, *xs = bt->xs;
    for (size_t i = 0; i < p->n_ops; i++) {
        const instr_t *c = &p->code[i];
        const uint32_t *a = p->args + c->first;
        size_t n = c->n;
        double *r = val + (size_t)c->k * B;
        const double *x0 = val + (size_t)c->a0 * B;
        const double *x1 = val + (size_t)c->a1 * B;
        switch (c->fast) {
        case F_ADD: for (size_t j = 0; j < m; j++) r[j] = x0[j] + x1[j]; break;
        case F_SUB: for (size_t j = 0; j < m; j++) r[j] = x0[j] - x1[j]; break;
        case F_MUL: for (size_t j = 0; j < m; j++) r[j] = x0[j] * x1[j]; break;
        case F_DIV: for (size_t j = 0; j < m; j++) r[j] = x0[j] / x1[j]; break;
        case F_NEG: for (size_t j = 0; j < m; j++) r[j] = -x0[j]; break;
        case F_SUM:
            /* x[0] + x[1] + ... left to right, as sum_f does */
            for (size_t j = 0; j < m; j++) r[j] = x0[j];
            for (size_t e = 1; e < n; e++) {
                const double *xe = val + (size_t)a[e] * B;
                for (size_t j = 0; j < m; j++) r[j] += xe[j];
            }
            break;
        default: {
            pyad_forward_fn f = pyad_ops[c->op].forward;
            for (size_t j = 0; j < m; j++) {
                for (size_t e = 0; e < n; e++)
                    xs[e] = val[(size_t)a[e] * B + j];
                r[j] = f(xs, n);
            }
        }
        }
    }
}

/* Reverse sweep for output o over the m points of the current block. */
static void backward_block(const batch_t *bt, size_t o, size_t m)
{
    const pyad_program *p = bt->p;
    const size_t B = bt->B;
    const double *val = bt->val;
    double *adj = bt->adj, *xs = bt->xs, *d = bt->d;
    uint8_t *reached = bt->reached;
    uint32_t out = p->output_slot[o];
    const double m1 = MINUS_ONE;
    memset(reached, 0, (size_t)out + 1);
    reached[out] = 1;
    for (size_t j = 0; j < m; j++)
        adj[(size_t)out * B + j] = -0.0 + 1.0;
    for (size_t i = instrs_upto(p, out); i-- > 0;) {
        const instr_t *c = &p->code[i];
        const uint32_t *a = p->args + c->first;
        size_t n = c->n;
        const double *g = adj + (size_t)c->k * B;
        const double *x0 = val + (size_t)c->a0 * B, *x1 = val + (size_t)c->a1 * B;
        double *t0 = adj + (size_t)c->a0 * B, *t1 = adj + (size_t)c->a1 * B;
        if (!reached[c->k])
            continue;
        /* First contact of an operand: start its adjoint row at -0.0. */
        for (size_t e = 0; e < n; e++) {
            if (!reached[a[e]]) {
                double *t = adj + (size_t)a[e] * B;
                reached[a[e]] = 1;
                for (size_t j = 0; j < m; j++)
                    t[j] = -0.0;
            }
        }
        /* Edge by edge, in order, as the tape does (a0 may equal a1). */
        switch (c->fast) {
        case F_ADD:
        case F_SUM:
            for (size_t e = 0; e < n; e++) {
                double *t = adj + (size_t)a[e] * B;
                for (size_t j = 0; j < m; j++)
                    t[j] += g[j] * 1.0;
            }
            break;
        case F_SUB:
            for (size_t j = 0; j < m; j++) t0[j] += g[j] * 1.0;
            for (size_t j = 0; j < m; j++) t1[j] += g[j] * m1;
            break;
        case F_NEG:
            for (size_t j = 0; j < m; j++) t0[j] += g[j] * m1;
            break;
        case F_MUL:
            for (size_t j = 0; j < m; j++) t0[j] += g[j] * x1[j];
            for (size_t j = 0; j < m; j++) t1[j] += g[j] * x0[j];
            break;
        case F_DIV: {
            const double *y = val + (size_t)c->k * B;
            for (size_t j = 0; j < m; j++) t0[j] += g[j] * (1.0 / x1[j]);
            for (size_t j = 0; j < m; j++) t1[j] += g[j] * (-y[j] / x1[j]);
            break;
        }
        default: {
            pyad_partials_fn f = pyad_ops[c->op].partials;
            const double *y = val + (size_t)c->k * B;
            for (size_t j = 0; j < m; j++) {
                for (size_t e = 0; e < n; e++)
                    xs[e] = val[(size_t)a[e] * B + j];
                f(xs, n, y[j], d);
                for (size_t e = 0; e < n; e++)
                    adj[(size_t)a[e] * B + j] += g[j] * d[e];
            }
        }
        }
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
        st = locate_fp_error(p, bt->point, bt->xs, &info->node);
        if (st != PYAD_OK) {
            info->point = (int64_t)(base + j);
            return st;
        }
    }
    return PYAD_OK;
}

static size_t choose_block(const pyad_program *p)
{
    size_t B;
    if (block_override)
        return block_override;
    B = BLOCK_BUDGET / (2 * sizeof(double) * (p->n_nodes ? p->n_nodes : 1));
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
        !rows_fit(end, p->n_out, n_values) ||
        (grads && ((p->n_in && p->n_out > SIZE_MAX / p->n_in) ||
                   !rows_fit(end, p->n_out * p->n_in, n_grads))))
        return PYAD_ERR_ARGS;
    for (size_t i = 0; i < p->n_in; i++)
        if (!x[i] || stride[i] > 1)
            return PYAD_ERR_ARGS;
    info->point = info->node = info->guard = -1;
    *n_guard_fail = 0;
    if (end == begin)
        return PYAD_OK;
    bt.p = p;
    bt.B = choose_block(p);
    rows = p->n_nodes ? p->n_nodes : 1;
    if (rows > SIZE_MAX / 2 / bt.B)
        return PYAD_ERR_NOMEM;
    bt.val = alloc_array(2 * rows * bt.B + 2 * p->max_arity + rows, sizeof(double));
    bt.reached = alloc_array(rows, 1);
    if (!bt.val || !bt.reached) {
        RELEASE(bt.val, bt.reached);
        return PYAD_ERR_NOMEM;
    }
    bt.adj = bt.val + rows * bt.B;
    bt.xs = bt.adj + rows * bt.B;
    bt.d = bt.xs + p->max_arity;
    bt.point = bt.d + p->max_arity;
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
            if (stride[i])
                memcpy(r, xi + base, m * sizeof *r);
            else
                for (size_t j = 0; j < m; j++)
                    r[j] = xi[0];
        }
        if (mode)
            feclearexcept(FE_ALL_EXCEPT);
        forward_block(&bt, m);
        if (mode)
            raised = fetestexcept(PYAD_FE_WATCHED);
        for (size_t j = 0; j < m; j++)
            guard_fail[base + j] = 0;
        for (size_t g = 0; g < p->n_guards; g++) {
            const double *ra = bt.val + (size_t)p->g_a[g] * bt.B;
            const double *rb = p->g_b[g] >= 0 ? bt.val + (size_t)p->g_b[g] * bt.B : NULL;
            for (size_t j = 0; j < m; j++) {
                double b = rb ? rb[j] : p->g_c[g];
                if (guard_holds(p->g_kind[g], ra[j], b, p->g_c[g]) != p->g_out[g])
                    guard_fail[base + j] = 1;
            }
        }
        for (size_t j = 0; j < m; j++)
            misses += guard_fail[base + j];
        if (mode && pyad_fp_status(pyad_get_errmode(), raised) != PYAD_OK) {
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
        for (size_t o = 0; o < p->n_out; o++) {
            backward_block(&bt, o, m);
            for (size_t i = 0; i < p->n_in; i++) {
                uint32_t s = p->input_slot[i];
                const double *r = bt.adj + (size_t)s * bt.B;
                double *gout = grads + o * p->n_in + i;
                size_t step = p->n_out * p->n_in;
                if (s <= p->output_slot[o] && bt.reached[s])
                    for (size_t j = 0; j < m; j++)
                        gout[(base + j) * step] = 0.0 + r[j];
                else
                    for (size_t j = 0; j < m; j++)
                        gout[(base + j) * step] = 0.0;
            }
        }
    }
    *n_guard_fail = misses;
    RELEASE(bt.val, bt.reached);
    return st;
}
