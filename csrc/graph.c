/* graph.c -- the backward pass recorded as ops (create_graph).
 *
 * pyad_grad_graph sweeps from an output like the numeric sweep (sweep.c),
 * but each adjoint is a node: every partial is recorded by running the op's
 * partials formula (opdefs.h) in the builder algebra, and every adjoint
 * contribution is a mul node and every accumulation an add node. The
 * result is an ordinary graph on the tape, so it can be differentiated
 * again, to any order. Its values equal the numeric sweep's bit for bit:
 * the formula and the order of operations are the same.
 *
 * The builder folds constants (an op of constants is a constant; x * 1 is
 * x, x * -1 is -x, where() of a constant condition is the selected
 * operand), skips zero partials (comparisons, sign), and records nodes
 * without compacting the tape, so node ids stay valid during the sweep.
 * Each node it makes holds one builder reference, dropped at the end: what
 * nothing uses dies then.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tape.h"

struct pyad_builder {
    int status;             /* first failure; the builder stops at it */
    uint32_t *made;         /* nodes made, each holding a builder reference */
    size_t n_made, cap_made;
};

static pyad_bval bconst(double c)
{
    pyad_bval r = {PYAD_BCONST, c};
    return r;
}

static pyad_bval bnode(uint32_t node)
{
    pyad_bval r = {node, 0.0};
    return r;
}

static int is_const(pyad_bval v, double c)
{
    return v.node == PYAD_BCONST && v.c == c && signbit(v.c) == signbit(c);
}

/* Record op over builder values: constants become constant leaves. */
static pyad_bval make(pyad_builder *b, int op, const pyad_bval *x, size_t n)
{
    double xv[MAX_STACK_OPERANDS], d[MAX_STACK_OPERANDS], y;
    uint32_t node[MAX_STACK_OPERANDS], out;
    size_t n_const = 0;
    int st;
    if (n > MAX_STACK_OPERANDS) {       /* formulas use ops of arity <= 3 */
        b->status = PYAD_ERR_OP;
        return bconst(NAN);
    }
    for (size_t i = 0; i < n; i++) {
        n_const += x[i].node == PYAD_BCONST;
        xv[i] = x[i].node == PYAD_BCONST ? x[i].c : T.value[x[i].node];
    }
    if (b->n_made + n_const + 1 > b->cap_made) {
        size_t cap = 2 * b->cap_made + n_const + 16;
        uint32_t *m = pyad_grow(b->made, cap, sizeof *m);
        if (!m) {
            b->status = PYAD_ERR_NOMEM;
            return bconst(NAN);
        }
        b->made = m;
        b->cap_made = cap;
    }
    if ((st = pyad_reserve_for(n)) != PYAD_OK ||
        (st = pyad_reserve_nodes_total(T.length + n_const + 1)) != PYAD_OK) {
        b->status = st;
        return bconst(NAN);
    }
    y = pyad_op_value(op, xv, n);
    pyad_op_partials(op, xv, n, y, d);
    for (size_t i = 0; i < n; i++) {
        if (x[i].node == PYAD_BCONST) {
            node[i] = pyad_append(OP_LEAF, x[i].c);
            T.refcount[node[i]] = 1;
            b->made[b->n_made++] = node[i];
        } else {
            node[i] = x[i].node;
        }
    }
    out = pyad_append((uint8_t)op, y);
    for (size_t i = 0; i < n; i++)
        pyad_add_edge(out, node[i], d[i]);
    T.refcount[out] = 1;
    b->made[b->n_made++] = out;
    return bnode(out);
}

pyad_bval pyad_b_op(pyad_builder *b, int op, const pyad_bval *x, size_t n)
{
    int all_const = 1;
    if (b->status != PYAD_OK)
        return bconst(NAN);
    for (size_t i = 0; i < n; i++)
        all_const &= x[i].node == PYAD_BCONST;
    if (all_const) {
        double xv[MAX_STACK_OPERANDS];
        for (size_t i = 0; i < n && i < MAX_STACK_OPERANDS; i++)
            xv[i] = x[i].c;
        return bconst(pyad_op_value(op, xv, n));
    }
    if (op == PYAD_OP_mul && n == 2) {      /* exact: x * 1 == x, x * -1 == -x */
        for (int i = 0; i < 2; i++) {
            if (is_const(x[i], 1.0))
                return x[1 - i];
            if (is_const(x[i], -1.0))
                return pyad_b_op(b, PYAD_OP_neg, &x[1 - i], 1);
        }
    }
    if (op == PYAD_OP_where && n == 3 && x[0].node == PYAD_BCONST)
        return x[0].c > 0.0 ? x[1] : x[2];
    return make(b, op, x, n);
}

/* The adjoint contribution a * d, as the numeric sweep computes it. */
static pyad_bval times(pyad_builder *b, pyad_bval a, pyad_bval d)
{
    pyad_bval x[2] = {a, d};
    return pyad_b_op(b, PYAD_OP_mul, x, 2);
}

static pyad_bval plus(pyad_builder *b, pyad_bval a, pyad_bval c)
{
    pyad_bval x[2] = {a, c};
    return pyad_b_op(b, PYAD_OP_add, x, 2);
}

/* A handle for builder value v (a constant becomes a leaf). */
static int64_t handle_for(pyad_builder *b, pyad_bval v)
{
    int st;
    uint32_t node;
    if ((st = pyad_reserve_for(0)) != PYAD_OK)
        return st;
    if (v.node == PYAD_BCONST) {
        node = pyad_append(OP_LEAF, v.c);
    } else {
        node = v.node;
    }
    (void)b;
    T.refcount[node]++;
    return pyad_new_handle(node);
}

/* Push node i's adjoint to its operands: partial by partial, in operand
 * order, as the numeric sweep does. x and d hold n builder values each. */
static void propagate(pyad_builder *b, uint32_t i, pyad_bval *adj,
                      pyad_bval *x, pyad_bval *d, uint32_t epoch, size_t *pending)
{
    uint32_t first = T.edge_start[i], n = T.edge_start[i + 1] - first;
    for (uint32_t e = 0; e < n; e++)
        x[e] = bnode(T.edge_node[first + e]);
    pyad_op_partials_graph(b, T.op[i], x, n, bnode(i), d);
    for (uint32_t e = 0; e < n && b->status == PYAD_OK; e++) {
        uint32_t p = T.edge_node[first + e];
        pyad_bval c;
        if (is_const(d[e], 0.0))    /* a piecewise-constant op: nothing flows */
            continue;
        c = times(b, adj[i], d[e]);
        if (T.stamp[p] == epoch) {
            adj[p] = plus(b, adj[p], c);
        } else {
            T.stamp[p] = epoch;
            adj[p] = c;
            (*pending)++;
        }
    }
}

/* The recorded reverse sweep from out; adj[i] is node i's adjoint once
 * T.stamp[i] == epoch. Stops at wrt nodes when asked (is_wrt). */
static void sweep_graph(pyad_builder *b, uint32_t out, pyad_bval seed,
                        const uint8_t *is_wrt, int stop_at_wrt, pyad_bval *adj,
                        uint32_t epoch)
{
    pyad_bval stack[2 * MAX_STACK_OPERANDS], *scratch = stack;
    size_t pending = 1, cap = MAX_STACK_OPERANDS;
    T.stamp[out] = epoch;
    adj[out] = seed;
    for (uint32_t i = out; pending > 0 && b->status == PYAD_OK; i--) {
        uint32_t n = T.edge_start[i + 1] - T.edge_start[i];
        if (T.stamp[i] != epoch)
            continue;
        pending--;
        if ((stop_at_wrt && is_wrt[i]) || T.op[i] == OP_LEAF || n == 0)
            continue;
        if (n > cap) {              /* a wide n-ary op (sum, dot) */
            pyad_bval *more = pyad_grow(scratch == stack ? NULL : scratch,
                                        2 * (size_t)n, sizeof *more);
            if (!more) {
                b->status = PYAD_ERR_NOMEM;
                break;
            }
            scratch = more;
            cap = n;
        }
        propagate(b, i, adj, scratch, scratch + n, epoch, &pending);
    }
    if (scratch != stack)
        free(scratch);
}

/* Drop handle h (made by this call, on failure). */
static void drop_handle(int64_t h)
{
    uint32_t node;
    if (pyad_node_of(h, &node)) {
        T.handle_node[h] = NIL;
        T.free_handles[T.n_free++] = (uint32_t)h;
        pyad_decref(node);
    }
}

int pyad_grad_graph(int64_t out, int64_t seed_h, double seed_c,
                    const int64_t *wrt, size_t n_wrt, int stop_at_wrt,
                    int64_t *grad_out)
{
    pyad_builder b = {PYAD_OK, NULL, 0, 0};
    uint32_t out_node, seed_node = NIL, *wrt_node = NULL, epoch;
    uint8_t *is_wrt = NULL;
    pyad_bval *adj = NULL;
    int st = PYAD_OK;
    if (n_wrt && (!wrt || !grad_out))
        return PYAD_ERR_ARGS;
    for (size_t k = 0; k < n_wrt; k++)
        grad_out[k] = -1;
    pyad_lock(&pyad_tape_lock);
    if (!pyad_node_of(out, &out_node) ||
        (seed_h >= 0 && !pyad_node_of(seed_h, &seed_node))) {
        st = PYAD_ERR_HANDLE;
        goto done;
    }
    wrt_node = pyad_grow(NULL, n_wrt ? n_wrt : 1, sizeof *wrt_node);
    adj = pyad_grow(NULL, (size_t)out_node + 1, sizeof *adj);
    is_wrt = pyad_grow(NULL, (size_t)out_node + 1, 1);
    if (!wrt_node || !adj || !is_wrt) {
        st = PYAD_ERR_NOMEM;
        goto done;
    }
    memset(is_wrt, 0, (size_t)out_node + 1);
    for (size_t k = 0; k < n_wrt; k++) {
        if (!pyad_node_of(wrt[k], &wrt_node[k])) {
            st = PYAD_ERR_HANDLE;
            goto done;
        }
        if (wrt_node[k] <= out_node)
            is_wrt[wrt_node[k]] = 1;
    }
    epoch = pyad_next_epoch();
    sweep_graph(&b, out_node, seed_h >= 0 ? bnode(seed_node) : bconst(seed_c),
                is_wrt, stop_at_wrt, adj, epoch);
    st = b.status;
    for (size_t k = 0; k < n_wrt && st == PYAD_OK; k++) {
        uint32_t w = wrt_node[k];
        if (w <= out_node && T.stamp[w] == epoch) {
            int64_t h = handle_for(&b, adj[w]);
            if (h < 0)
                st = (int)h;
            else
                grad_out[k] = h;
        }
    }
    if (st != PYAD_OK)          /* all or nothing */
        for (size_t k = 0; k < n_wrt; k++) {
            if (grad_out[k] >= 0)
                drop_handle(grad_out[k]);
            grad_out[k] = -1;
        }
done:
    for (size_t i = 0; i < b.n_made; i++)
        pyad_decref(b.made[i]);
    free(b.made);
    free(wrt_node);
    free(adj);
    free(is_wrt);
    pyad_unlock(&pyad_tape_lock);
    return st;
}
