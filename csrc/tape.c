/* tape.c -- the process-wide tape: node storage, handles, lifetime, sweep.
 *
 * Storage is a structure of arrays indexed by node id, in creation order, so
 * every node's operands have smaller ids than the node itself and one
 * reverse loop is a valid backward sweep. Operand lists live in one shared
 * edge array (edge_node, edge_partial); node i owns edges
 * [edge_start[i], edge_start[i+1]). The local partial of each edge is
 * computed when the node is recorded, so the sweep is one multiply-add per
 * edge whatever the op.
 *
 * Lifetime: refcount[i] counts the handle naming node i (Python's Var) plus
 * the edges of live nodes that point at i. A node whose count reaches zero
 * is marked dead and releases its operands, iteratively. Dead nodes at the
 * end of the tape are popped at once; when more than half the tape is dead
 * it is compacted (live nodes slide down in order, ids are remapped), which
 * is why Python holds handles rather than node ids.
 *
 * Threads: one mutex guards everything; the error mode is per thread.
 */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "platform.h"
#include "pyad.h"

#define NIL UINT32_MAX
#define OP_DEAD 0xFE
#define OP_LEAF 0xFF
#define MAX_INDEX (UINT32_MAX - 1)
#define MIN_CAPACITY 1024
#define COMPACT_MIN_LENGTH 4096
#define MAX_STACK_OPERANDS 8

typedef struct {
    /* per node */
    double *value;
    double *grad;
    double *adjoint;        /* sweep scratch */
    uint32_t *stamp;        /* sweep scratch: == epoch when reached */
    uint32_t *refcount;     /* for dead nodes: next in the release list */
    uint32_t *edge_start;   /* length + 1 entries */
    uint8_t *op;            /* op code, OP_LEAF or OP_DEAD */
    size_t length, capacity, dead;
    /* per edge */
    uint32_t *edge_node;
    double *edge_partial;
    size_t edges, edge_capacity;
    /* handles */
    uint32_t *handle_node;  /* NIL when the handle is free */
    uint32_t *free_handles; /* stack of free handle slots */
    size_t handles, handle_capacity, n_free;
    uint32_t epoch;
} tape_t;

static tape_t T;
static pyad_mutex_t lock = PYAD_MUTEX_INIT;
static PYAD_THREAD_LOCAL int errmode;
static int64_t fail_countdown = -1;   /* test switch for allocation failure */

/* ---- allocation ------------------------------------------------------ */

/* realloc, or NULL when the test switch says this allocation fails. */
static void *grow(void *p, size_t count, size_t size)
{
    if (fail_countdown >= 0 && fail_countdown-- == 0)
        return NULL;
    if (size && count > SIZE_MAX / size)
        return NULL;
    return realloc(p, count * size);
}

/* Resize one array in place; on failure the old block stays valid. */
#define RESIZE(ptr, count) \
    resize_array((void **)&(ptr), (count), sizeof *(ptr))
static int resize_array(void **ptr, size_t count, size_t size)
{
    void *p = grow(*ptr, count ? count : 1, size);
    if (!p)
        return 0;
    *ptr = p;
    return 1;
}

/* Make room for node_cap nodes and edge_cap edges. On failure nothing that
 * is in use changes: blocks that did grow stay valid, capacity stays put. */
static int reserve_nodes(size_t cap)
{
    int ok;
    if (cap > MAX_INDEX)
        return PYAD_ERR_FULL;
    ok = RESIZE(T.value, cap) & RESIZE(T.grad, cap) & RESIZE(T.adjoint, cap) &
         RESIZE(T.stamp, cap) & RESIZE(T.refcount, cap) &
         RESIZE(T.edge_start, cap + 1) & RESIZE(T.op, cap);
    /* Every array now holds at least min(old, new) entries: a shrink is
     * always good, a growth only if every array grew. */
    if (cap < T.capacity) {
        T.capacity = cap;
        return PYAD_OK;
    }
    if (!ok)
        return PYAD_ERR_NOMEM;
    memset(T.stamp + T.capacity, 0, (cap - T.capacity) * sizeof *T.stamp);
    T.capacity = cap;
    return PYAD_OK;
}

static int reserve_edges(size_t cap)
{
    int ok;
    if (cap > MAX_INDEX)
        return PYAD_ERR_FULL;
    ok = RESIZE(T.edge_node, cap) & RESIZE(T.edge_partial, cap);
    if (cap < T.edge_capacity || ok) {
        T.edge_capacity = cap;
        return PYAD_OK;
    }
    return PYAD_ERR_NOMEM;
}

static size_t next_capacity(size_t have, size_t need)
{
    size_t cap = have < MIN_CAPACITY ? MIN_CAPACITY : have;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    return cap;
}

/* Room for one more node with n_edges operands, and for its handle. */
static int reserve_for(size_t n_edges)
{
    int st;
    if (T.length + 1 > T.capacity &&
        (st = reserve_nodes(next_capacity(T.capacity, T.length + 1))) != PYAD_OK)
        return st;
    if (n_edges > MAX_INDEX - T.edges)
        return PYAD_ERR_FULL;
    if (T.edges + n_edges > T.edge_capacity &&
        (st = reserve_edges(next_capacity(T.edge_capacity, T.edges + n_edges))) != PYAD_OK)
        return st;
    if (T.n_free == 0 && T.handles == T.handle_capacity) {
        size_t cap = next_capacity(T.handle_capacity, T.handles + 1);
        if (cap > MAX_INDEX)
            return PYAD_ERR_FULL;
        if (!(RESIZE(T.handle_node, cap) & RESIZE(T.free_handles, cap)))
            return PYAD_ERR_NOMEM;
        T.handle_capacity = cap;
    }
    return PYAD_OK;
}

/* Give memory back when the tape has shrunk to a quarter of its capacity:
 * down to twice what is in use, in one step. */
static size_t shrunk(size_t cap, size_t used)
{
    size_t target = cap;
    while (target > MIN_CAPACITY && used < target / 4)
        target /= 2;
    return target < MIN_CAPACITY ? MIN_CAPACITY : target;
}

static void maybe_shrink(void)
{
    size_t cap = shrunk(T.capacity, T.length);
    size_t edge_cap = shrunk(T.edge_capacity, T.edges);
    if (cap < T.capacity)
        reserve_nodes(cap);
    if (edge_cap < T.edge_capacity)
        reserve_edges(edge_cap);
}

/* ---- handles and lifetime -------------------------------------------- */

static int node_of(int64_t h, uint32_t *node)
{
    if (h < 0 || (uint64_t)h >= T.handles || T.handle_node[h] == NIL)
        return 0;
    *node = T.handle_node[h];
    return 1;
}

static int64_t new_handle(uint32_t node)
{
    uint32_t h = T.n_free ? T.free_handles[--T.n_free] : (uint32_t)T.handles++;
    T.handle_node[h] = node;
    return (int64_t)h;
}

/* Drop one reference to node n; free it and, transitively, its operands
 * when nothing refers to them any more. The pending list is threaded
 * through the refcount slots of the dying nodes, so this never allocates
 * and never recurses. */
static void decref(uint32_t n)
{
    uint32_t head;
    if (--T.refcount[n] != 0)
        return;
    T.refcount[n] = NIL;
    head = n;
    while (head != NIL) {
        uint32_t i = head;
        head = T.refcount[i];
        T.op[i] = OP_DEAD;
        T.dead++;
        for (uint32_t e = T.edge_start[i]; e < T.edge_start[i + 1]; e++) {
            uint32_t p = T.edge_node[e];
            if (--T.refcount[p] == 0) {
                T.refcount[p] = head;
                head = p;
            }
        }
    }
    while (T.length > 0 && T.op[T.length - 1] == OP_DEAD) {
        T.length--;
        T.dead--;
    }
    T.edges = T.edge_start[T.length];
    maybe_shrink();
}

/* Slide live nodes down over dead ones, keeping their order, and remap
 * every edge and handle. The stamp array is the scratch map old -> new. */
static void compact(void)
{
    uint32_t *remap = T.stamp;
    size_t j = 0, e = 0;
    for (size_t i = 0; i < T.length; i++) {
        uint32_t first = T.edge_start[i], last = T.edge_start[i + 1];
        if (T.op[i] == OP_DEAD)
            continue;
        remap[i] = (uint32_t)j;
        T.value[j] = T.value[i];
        T.grad[j] = T.grad[i];
        T.refcount[j] = T.refcount[i];
        T.op[j] = T.op[i];
        T.edge_start[j] = (uint32_t)e;
        for (uint32_t k = first; k < last; k++, e++) {
            T.edge_node[e] = remap[T.edge_node[k]];   /* operands come first */
            T.edge_partial[e] = T.edge_partial[k];
        }
        j++;
    }
    T.length = j;
    T.edges = e;
    T.edge_start[j] = (uint32_t)e;
    T.dead = 0;
    for (size_t h = 0; h < T.handles; h++)
        if (T.handle_node[h] != NIL)
            T.handle_node[h] = remap[T.handle_node[h]];
    memset(T.stamp, 0, T.capacity * sizeof *T.stamp);
    T.epoch = 0;
}

static void maybe_compact(void)
{
    if (T.length >= COMPACT_MIN_LENGTH && T.dead > T.length / 2)
        compact();
}

/* ---- recording ------------------------------------------------------- */

/* Forward value of op on x, checked against this thread's error mode. */
static int evaluate(const pyad_op_row *row, const double *x, size_t n, double *y)
{
    if (!errmode) {
        *y = row->forward(x, n);
        return PYAD_OK;
    }
    feclearexcept(FE_ALL_EXCEPT);
    *y = row->forward(x, n);
    return pyad_fp_status(errmode, fetestexcept(PYAD_FE_WATCHED));
}

static const pyad_op_row *row_for(int op, size_t n)
{
    if (op < 0 || op >= pyad_n_ops)
        return NULL;
    if (pyad_ops[op].arity >= 0 ? (size_t)pyad_ops[op].arity != n : n == 0)
        return NULL;
    return &pyad_ops[op];
}

/* Append a node. Room must have been reserved. */
static uint32_t append(uint8_t op, double value)
{
    uint32_t i = (uint32_t)T.length++;
    T.value[i] = value;
    T.grad[i] = 0.0;
    T.refcount[i] = 0;
    T.op[i] = op;
    T.stamp[i] = 0;
    T.edge_start[i] = (uint32_t)T.edges;
    T.edge_start[i + 1] = (uint32_t)T.edges;
    return i;
}

static void add_edge(uint32_t from, uint32_t to, double partial)
{
    T.edge_node[T.edges] = to;
    T.edge_partial[T.edges] = partial;
    T.edges++;
    T.edge_start[from + 1] = (uint32_t)T.edges;
    T.refcount[to]++;
}

/* Record op over n operands: operand i is node[i] (the node of handle[i]),
 * or a new constant leaf holding x[i] where node[i] == NIL. x holds every
 * operand's value. The value is computed (and checked against the error
 * mode) before anything changes, so a failing op leaves the tape exactly as
 * it was; only then may the tape be compacted, after which the operands are
 * looked up again. Called with the lock held; returns a handle or a status. */
static int64_t record(int op, const int64_t *handle, uint32_t *node,
                      const double *x, size_t n)
{
    const pyad_op_row *row = row_for(op, n);
    double stack_d[MAX_STACK_OPERANDS], *d = stack_d, y;
    size_t n_const = 0;
    int st;
    if (!row)
        return PYAD_ERR_OP;
    if ((st = evaluate(row, x, n, &y)) != PYAD_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        n_const += node[i] == NIL;
    /* Reserve everything first, so that a failure leaves the tape exactly
     * as it was: the node, its edges and handle, and the constant leaves. */
    if ((st = reserve_for(n)) != PYAD_OK)
        return st;
    if (T.length + n_const + 1 > T.capacity &&
        (st = reserve_nodes(next_capacity(T.capacity, T.length + n_const + 1))) != PYAD_OK)
        return st;
    if (n > MAX_STACK_OPERANDS && !(d = grow(NULL, n, sizeof *d)))
        return PYAD_ERR_NOMEM;
    /* Nothing can fail from here on. Compaction only shrinks the tape (it
     * keeps the capacity just reserved); operands move, so look them up. */
    if (T.length >= COMPACT_MIN_LENGTH && T.dead > T.length / 2) {
        compact();
        for (size_t i = 0; i < n; i++)
            if (node[i] != NIL)
                node_of(handle[i], &node[i]);
    }
    row->partials(x, n, y, d);
    for (size_t i = 0; i < n; i++)
        if (node[i] == NIL)
            node[i] = append(OP_LEAF, x[i]);
    uint32_t out = append((uint8_t)op, y);
    for (size_t i = 0; i < n; i++)
        add_edge(out, node[i], d[i]);
    if (d != stack_d)
        free(d);
    T.refcount[out] = 1;
    return new_handle(out);
}

int pyad_op_count(void) { return pyad_n_ops; }

const char *pyad_op_name(int op)
{
    return (op >= 0 && op < pyad_n_ops) ? pyad_ops[op].name : "";
}

int pyad_op_arity(int op)
{
    return (op >= 0 && op < pyad_n_ops) ? pyad_ops[op].arity : 0;
}

int64_t pyad_leaf(double value)
{
    int64_t h;
    pyad_lock(&lock);
    h = reserve_for(0);
    if (h == PYAD_OK) {
        maybe_compact();
        uint32_t i = append(OP_LEAF, value);
        T.refcount[i] = 1;
        h = new_handle(i);
    }
    pyad_unlock(&lock);
    return h;
}

/* Operands of the fixed-arity entry points: handle >= 0 names a node,
 * handle < 0 stands for the constant in x. */
static int64_t record_operands(int op, const int64_t *handle, double *x, size_t n)
{
    uint32_t node[2];
    for (size_t i = 0; i < n; i++) {
        node[i] = NIL;
        if (handle[i] >= 0) {
            if (!node_of(handle[i], &node[i]))
                return PYAD_ERR_HANDLE;
            x[i] = T.value[node[i]];
        }
    }
    return record(op, handle, node, x, n);
}

int64_t pyad_unary(int op, int64_t a)
{
    int64_t h[1] = {a}, r;
    double x[1] = {0.0};
    if (a < 0)        /* else record_operands takes it for the constant 0.0 */
        return PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    r = record_operands(op, h, x, 1);
    pyad_unlock(&lock);
    return r;
}

int64_t pyad_binary(int op, int64_t a, int64_t b)
{
    int64_t h[2] = {a, b}, r;
    double x[2] = {0.0, 0.0};
    if (a < 0 || b < 0)
        return PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    r = record_operands(op, h, x, 2);
    pyad_unlock(&lock);
    return r;
}

int64_t pyad_binary_vc(int op, int64_t a, double b)
{
    int64_t h[2] = {a, -1}, r;
    double x[2] = {0.0, b};
    if (a < 0)
        return PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    r = record_operands(op, h, x, 2);
    pyad_unlock(&lock);
    return r;
}

int64_t pyad_binary_cv(int op, double a, int64_t b)
{
    int64_t h[2] = {-1, b}, r;
    double x[2] = {a, 0.0};
    if (b < 0)
        return PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    r = record_operands(op, h, x, 2);
    pyad_unlock(&lock);
    return r;
}

int64_t pyad_nary(int op, const int64_t *handles, const double *constants,
                  size_t n)
{
    uint32_t *node;
    double *x;
    int64_t h = PYAD_OK;
    if (!handles && n)
        return PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    node = grow(NULL, n ? n : 1, sizeof *node);
    x = grow(NULL, n ? n : 1, sizeof *x);
    if (!node || !x)
        h = PYAD_ERR_NOMEM;
    for (size_t i = 0; i < n && h == PYAD_OK; i++) {
        if (handles[i] >= 0) {
            if (!node_of(handles[i], &node[i]))
                h = PYAD_ERR_HANDLE;
            else
                x[i] = T.value[node[i]];
        } else if (!constants) {
            h = PYAD_ERR_HANDLE;
        } else {
            node[i] = NIL;
            x[i] = constants[i];
        }
    }
    if (h == PYAD_OK)
        h = record(op, handles, node, x, n);
    pyad_unlock(&lock);
    free(node);
    free(x);
    return h;
}

int pyad_eval(int op, const double *x, size_t n, double *out)
{
    const pyad_op_row *row = row_for(op, n);
    if (!row)
        return PYAD_ERR_OP;
    if (!out || (n && !x))
        return PYAD_ERR_HANDLE;
    return evaluate(row, x, n, out);
}

static void release_locked(int64_t h)
{
    uint32_t n;
    if (node_of(h, &n)) {
        T.handle_node[h] = NIL;
        T.free_handles[T.n_free++] = (uint32_t)h;
        decref(n);
    }
}

void pyad_release(int64_t h)
{
    pyad_lock(&lock);
    release_locked(h);
    pyad_unlock(&lock);
}

void pyad_release_many(const int64_t *handles, size_t n)
{
    if (!handles)
        return;
    pyad_lock(&lock);
    for (size_t i = 0; i < n; i++)
        release_locked(handles[i]);
    pyad_unlock(&lock);
}

/* ---- node state ------------------------------------------------------ */

double pyad_value(int64_t h)
{
    uint32_t n;
    double v = NAN;
    pyad_lock(&lock);
    if (node_of(h, &n))
        v = T.value[n];
    pyad_unlock(&lock);
    return v;
}

double pyad_grad(int64_t h)
{
    uint32_t n;
    double g = NAN;
    pyad_lock(&lock);
    if (node_of(h, &n))
        g = T.grad[n];
    pyad_unlock(&lock);
    return g;
}

int pyad_is_leaf(int64_t h)
{
    uint32_t n;
    int r = PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    if (node_of(h, &n))
        r = T.op[n] == OP_LEAF;
    pyad_unlock(&lock);
    return r;
}

int pyad_set_value(int64_t h, double value)
{
    uint32_t n;
    int st = PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    if (node_of(h, &n)) {
        st = T.op[n] == OP_LEAF ? PYAD_OK : PYAD_ERR_NOT_LEAF;
        if (st == PYAD_OK)
            T.value[n] = value;
    }
    pyad_unlock(&lock);
    return st;
}

int pyad_set_grad(int64_t h, double grad)
{
    uint32_t n;
    int st = PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    if (node_of(h, &n)) {
        T.grad[n] = grad;
        st = PYAD_OK;
    }
    pyad_unlock(&lock);
    return st;
}

/* ---- the sweep ------------------------------------------------------- */

static uint32_t next_epoch(void)
{
    if (++T.epoch == 0) {      /* wrapped: forget every old stamp */
        memset(T.stamp, 0, T.capacity * sizeof *T.stamp);
        T.epoch = 1;
    }
    return T.epoch;
}

/* One reverse pass from the highest start node down. A node is visited
 * only if it was reached from a start node (stamp == epoch), so unrelated
 * nodes in between cost one compare each, and the loop stops as soon as no
 * reached node is left below. With accumulate, the adjoints are added to
 * the grads (backward); without, the reached grads are cleared. */
static void sweep(const uint32_t *start, const double *seed, size_t n,
                  int accumulate)
{
    uint32_t epoch = next_epoch(), top = 0;
    size_t pending = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t s = start[k];
        if (T.stamp[s] != epoch) {
            T.stamp[s] = epoch;
            T.adjoint[s] = 0.0;
            pending++;
        }
        T.adjoint[s] += seed ? seed[k] : 0.0;
        if (s > top)
            top = s;
    }
    for (uint32_t i = top; pending > 0; i--) {
        if (T.stamp[i] != epoch)
            continue;
        pending--;
        double a = T.adjoint[i];
        if (accumulate)
            T.grad[i] += a;
        else
            T.grad[i] = 0.0;
        for (uint32_t e = T.edge_start[i]; e < T.edge_start[i + 1]; e++) {
            uint32_t p = T.edge_node[e];
            double d = a * T.edge_partial[e];
            if (T.stamp[p] != epoch) {
                T.stamp[p] = epoch;
                T.adjoint[p] = d;
                pending++;
            } else {
                T.adjoint[p] += d;
            }
        }
    }
}

int pyad_backward(int64_t out, double seed)
{
    uint32_t n;
    int st = PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    if (node_of(out, &n)) {
        sweep(&n, &seed, 1, 1);
        st = PYAD_OK;
    }
    pyad_unlock(&lock);
    return st;
}

int pyad_zero_grad(const int64_t *handles, size_t n)
{
    uint32_t *start;
    int st = PYAD_OK;
    if (n == 0)
        return PYAD_OK;
    if (!handles)
        return PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    start = grow(NULL, n, sizeof *start);
    if (!start)
        st = PYAD_ERR_NOMEM;
    for (size_t k = 0; k < n && st == PYAD_OK; k++)
        if (!node_of(handles[k], &start[k]))
            st = PYAD_ERR_HANDLE;
    if (st == PYAD_OK)
        sweep(start, NULL, n, 0);
    pyad_unlock(&lock);
    free(start);
    return st;
}

/* ---- export ---------------------------------------------------------- */

static int export_locked(const int64_t *inputs, size_t n_in,
                         const int64_t *outputs, size_t n_out,
                         int32_t *node_op, double *node_value,
                         double *node_grad, uint32_t *arg_start, uint32_t *args,
                         uint32_t *input_slot, uint32_t *output_slot,
                         size_t *n_nodes, size_t *n_args)
{
    uint32_t in_mark = next_epoch(), seen = next_epoch();
    uint32_t top = 0, lo = UINT32_MAX, n = 0, *slot;
    size_t pending = 0, count = 0, edges = 0;
    if (in_mark == 0 || seen <= in_mark) {    /* wrapped between the two */
        in_mark = next_epoch();
        seen = next_epoch();
    }
    for (size_t k = 0; k < n_in; k++) {
        if (!node_of(inputs[k], &n))
            return PYAD_ERR_HANDLE;
        T.stamp[n] = in_mark;
        top = n > top ? n : top;
        lo = n < lo ? n : lo;
    }
    for (size_t k = 0; k < n_out; k++) {
        if (!node_of(outputs[k], &n))
            return PYAD_ERR_HANDLE;
        if (T.stamp[n] != in_mark && T.stamp[n] != seen) {
            T.stamp[n] = seen;
            pending++;
        }
        top = n > top ? n : top;
    }
    /* Walk down from the outputs, as the sweep does, marking what they use. */
    for (uint32_t i = top; pending > 0; i--) {
        if (T.stamp[i] != seen)
            continue;
        pending--;
        lo = i < lo ? i : lo;
        for (uint32_t e = T.edge_start[i]; e < T.edge_start[i + 1]; e++) {
            uint32_t p = T.edge_node[e];
            if (T.stamp[p] != in_mark && T.stamp[p] != seen) {
                T.stamp[p] = seen;
                pending++;
            }
        }
    }
    if (lo == UINT32_MAX)           /* no inputs, no outputs */
        lo = top = 0;
    for (uint32_t i = lo; i <= top && T.length; i++) {
        if (T.stamp[i] == seen) {
            count++;
            edges += T.edge_start[i + 1] - T.edge_start[i];
        } else if (T.stamp[i] == in_mark) {
            count++;
        }
    }
    *n_nodes = count;
    *n_args = edges;
    if (!node_op)
        return PYAD_OK;
    if (!node_value || !arg_start || (edges && !args) ||
        (n_in && !input_slot) || (n_out && !output_slot))
        return PYAD_ERR_HANDLE;
    slot = grow(NULL, (size_t)(top - lo) + 1, sizeof *slot);
    if (!slot)
        return PYAD_ERR_NOMEM;
    count = edges = 0;
    for (uint32_t i = lo; i <= top && T.length; i++) {
        int is_input = T.stamp[i] == in_mark;
        if (!is_input && T.stamp[i] != seen)
            continue;
        slot[i - lo] = (uint32_t)count;
        node_op[count] = is_input ? PYAD_NODE_INPUT
                       : T.op[i] == OP_LEAF ? PYAD_NODE_CONST : (int32_t)T.op[i];
        node_value[count] = T.value[i];
        if (node_grad)
            node_grad[count] = T.grad[i];
        arg_start[count] = (uint32_t)edges;
        if (!is_input)
            for (uint32_t e = T.edge_start[i]; e < T.edge_start[i + 1]; e++)
                args[edges++] = slot[T.edge_node[e] - lo];
        count++;
    }
    arg_start[count] = (uint32_t)edges;
    for (size_t k = 0; k < n_in; k++) {
        node_of(inputs[k], &n);
        input_slot[k] = slot[n - lo];
    }
    for (size_t k = 0; k < n_out; k++) {
        node_of(outputs[k], &n);
        output_slot[k] = slot[n - lo];
    }
    free(slot);
    return PYAD_OK;
}

int pyad_export(const int64_t *inputs, size_t n_in,
                const int64_t *outputs, size_t n_out,
                int32_t *node_op, double *node_value, double *node_grad,
                uint32_t *arg_start, uint32_t *args, uint32_t *input_slot,
                uint32_t *output_slot, size_t *n_nodes, size_t *n_args)
{
    int st;
    if ((n_in && !inputs) || (n_out && !outputs) || !n_nodes || !n_args)
        return PYAD_ERR_HANDLE;
    pyad_lock(&lock);
    st = export_locked(inputs, n_in, outputs, n_out, node_op, node_value,
                       node_grad, arg_start, args, input_slot, output_slot,
                       n_nodes, n_args);
    pyad_unlock(&lock);
    return st;
}

/* ---- modes and introspection ------------------------------------------ */

int pyad_set_errmode(int mode)
{
    int old = errmode;
    errmode = mode & (PYAD_RAISE_DIVIDE | PYAD_RAISE_OVERFLOW |
                      PYAD_RAISE_INVALID | PYAD_RAISE_UNDERFLOW);
    return old;
}

int pyad_get_errmode(void) { return errmode; }

size_t pyad_live_nodes(void)
{
    size_t n;
    pyad_lock(&lock);
    n = T.length - T.dead;
    pyad_unlock(&lock);
    return n;
}

size_t pyad_tape_length(void)
{
    size_t n;
    pyad_lock(&lock);
    n = T.length;
    pyad_unlock(&lock);
    return n;
}

size_t pyad_live_handles(void)
{
    size_t n;
    pyad_lock(&lock);
    n = T.handles - T.n_free;
    pyad_unlock(&lock);
    return n;
}

size_t pyad_bytes_reserved(void)
{
    const size_t per_node = 3 * sizeof(double) + 3 * sizeof(uint32_t) + 1;
    const size_t per_edge = sizeof(uint32_t) + sizeof(double);
    size_t b;
    pyad_lock(&lock);
    b = T.capacity * per_node + T.edge_capacity * per_edge +
        T.handle_capacity * 2 * sizeof(uint32_t);
    pyad_unlock(&lock);
    return b;
}

void pyad_debug_fail_alloc_after(int64_t n)
{
    pyad_lock(&lock);
    fail_countdown = n < 0 ? -1 : n;
    pyad_unlock(&lock);
}

/* ---- fork() ----------------------------------------------------------- */

/* A thread that holds the lock when another thread forks does not exist in
 * the child, so the child's lock would stay taken forever (and the tape
 * could be half-updated). prepare takes the lock in the forking thread,
 * after every other pyad call has left it; both sides then let it go. In
 * the child the forking thread is the owner, so unlocking is well defined;
 * the child's tape is exactly the parent's at that moment. */
void pyad_fork_prepare(void) { pyad_lock(&lock); }
void pyad_fork_parent(void) { pyad_unlock(&lock); }
void pyad_fork_child(void) { pyad_unlock(&lock); }

/* Allocation for program.c. Replay takes no lock, but program.c makes its
 * malloc and free calls through these, which hold the tape's lock for the
 * call: then fork(), whose prepare hook takes that lock, never copies a
 * thread that is inside the allocator. glibc's malloc is fork-safe on its
 * own, but not every allocator is (ASan's in .ci/sanitize: a child forked
 * while a replay thread was in malloc hung in its first malloc). The
 * allocation-failure test switch is checked under the same lock. */
void *pyad_locked_alloc(size_t bytes)
{
    void *p = NULL;
    pyad_lock(&lock);
    if (!(fail_countdown >= 0 && fail_countdown-- == 0))
        p = malloc(bytes ? bytes : 1);
    pyad_unlock(&lock);
    return p;
}

void pyad_locked_free(void *const *blocks, size_t n)
{
    pyad_lock(&lock);
    for (size_t i = 0; i < n; i++)
        free(blocks[i]);
    pyad_unlock(&lock);
}
