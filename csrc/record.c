/* record.c -- recording ops on the tape.
 *
 * Every entry point takes the tape's lock, looks its operands up by handle,
 * computes the value and the local partials with the op registry (ops.h)
 * and appends one node whose edges hold the partials, so that the sweep is
 * one multiply-add per edge whatever the op.
 */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>

#include "tape.h"

/* Recording leaves the IEEE flags numpy watches as the caller had them.
 * pyad reports an op's exceptions through its own error mode; a flag left
 * set would be found by whatever tests the flags next -- a numpy loop
 * whose element calls read a Var, which runs the buffered ops first, would
 * warn "invalid value encountered in maximum" for a sqrt(-1) recorded
 * earlier. Cheap when nothing was raised (two reads of the flags). */
static int flags_kept(void)
{
    return fetestexcept(PYAD_FE_WATCHED);
}

static void flags_restore(int kept)
{
    int now = fetestexcept(PYAD_FE_WATCHED);
    if (now & ~kept)
        feclearexcept(now & ~kept);
    if (kept & ~now)        /* a checked evaluation cleared them */
        feraiseexcept(kept & ~now);
}

/* Value of op on x, checked against error mode `mode`. */
static int evaluate(int op, const double *x, size_t n, int mode, double *y)
{
    if (!mode) {
        *y = pyad_op_value(op, x, n);
        return PYAD_OK;
    }
    feclearexcept(FE_ALL_EXCEPT);
    *y = pyad_op_value(op, x, n);
    return pyad_fp_status(mode, fetestexcept(PYAD_FE_WATCHED));
}

/* Record op over n operands: operand i is node[i] (the node of handle[i]),
 * or a new constant leaf holding x[i] where node[i] == NIL. x holds every
 * operand's value. The value is computed (and checked against the error
 * mode) before anything changes, so a failing op leaves the tape exactly as
 * it was; only then may the tape be compacted, after which the operands are
 * looked up again. Called with the lock held; gives the new node (with one
 * reference, for the handle the caller names it with) or a status. */
static int record(int op, const int64_t *handle, uint32_t *node,
                  const double *x, size_t n, int mode, uint32_t *out)
{
    double stack_d[MAX_STACK_OPERANDS], *d = stack_d, y;
    size_t n_const = 0;
    int st;
    if (!pyad_op_accepts(op, n))
        return PYAD_ERR_OP;
    if ((st = evaluate(op, x, n, mode, &y)) != PYAD_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        n_const += node[i] == NIL;
    /* Reserve everything first, so that a failure leaves the tape exactly
     * as it was: the node, its edges and handle, and the constant leaves. */
    if ((st = pyad_reserve_for(n)) != PYAD_OK)
        return st;
    if ((st = pyad_reserve_nodes_total(T.length + n_const + 1)) != PYAD_OK)
        return st;
    if (n > MAX_STACK_OPERANDS && !(d = pyad_grow(NULL, n, sizeof *d)))
        return PYAD_ERR_NOMEM;
    /* Nothing can fail from here on. Compaction only shrinks the tape (it
     * keeps the capacity just reserved); operands move, so look them up. */
    if (pyad_should_compact()) {
        pyad_compact();
        for (size_t i = 0; i < n; i++)
            if (node[i] != NIL)
                pyad_node_of(handle[i], &node[i]);
    }
    pyad_op_partials(op, x, n, y, d);
    for (size_t i = 0; i < n; i++)
        if (node[i] == NIL)
            node[i] = pyad_append(OP_LEAF, x[i]);
    *out = pyad_append((uint8_t)op, y);
    for (size_t i = 0; i < n; i++)
        pyad_add_edge(*out, node[i], d[i]);
    if (d != stack_d)
        free(d);
    T.refcount[*out] = 1;
    return PYAD_OK;
}

/* record() for the entry points: a new handle for the node, or a status. */
static int64_t record_handle(int op, const int64_t *handle, uint32_t *node,
                             const double *x, size_t n)
{
    uint32_t out;
    int kept = flags_kept();
    int st = record(op, handle, node, x, n, pyad_get_errmode(), &out);
    flags_restore(kept);
    return st == PYAD_OK ? pyad_new_handle(out) : st;
}

static int leaf_node(double value, uint32_t *out)
{
    int st = pyad_reserve_for(0);
    if (st != PYAD_OK)
        return st;
    if (pyad_should_compact())
        pyad_compact();
    *out = pyad_append(OP_LEAF, value);
    T.refcount[*out] = 1;
    return PYAD_OK;
}

int64_t pyad_leaf_locked(double value)
{
    uint32_t node;
    int64_t h = leaf_node(value, &node);
    return h == PYAD_OK ? pyad_new_handle(node) : h;
}

int64_t pyad_leaf(double value)
{
    int64_t h;
    pyad_lock(&pyad_tape_lock);
    h = pyad_leaf_locked(value);
    pyad_unlock(&pyad_tape_lock);
    return h;
}

/* ---- buffered ops (Python's record buffer, see pybridge.c) ------------------ */

/* One buffered op: its result goes to the reserved handle rec->out. Ops
 * Python buffered are recorded without the error mode: they were made
 * outside any raising errstate (inside one, Python records directly). */
static int ingest_one(const pyad_record *rec)
{
    int64_t code = rec->code, handle[2];
    uint32_t node[2], out = 0;
    double x[2];
    int op = (int)(code & 255), n, st;
    if (rec->out < 0 || (uint64_t)rec->out >= T.handles || T.handle_node[rec->out] != RESERVED)
        return PYAD_ERR_HANDLE;
    if (code == PYAD_REC_LEAF) {
        st = leaf_node(rec->c[0], &out);
    } else {
        if (code < 0 || code >= 1024 || op >= pyad_n_ops || pyad_ops[op].arity < 1 ||
            pyad_ops[op].arity > 2)
            return PYAD_ERR_OP;
        n = pyad_ops[op].arity;
        for (int i = 0; i < n; i++) {
            int is_const = (code & (i ? PYAD_REC_CONST1 : PYAD_REC_CONST0)) != 0;
            node[i] = NIL;
            handle[i] = -1;
            x[i] = rec->c[i];
            if (!is_const) {
                handle[i] = rec->h[i];
                if (!pyad_node_of(handle[i], &node[i]))
                    return PYAD_ERR_HANDLE;
                x[i] = T.value[node[i]];
            }
        }
        st = record(op, handle, node, x, (size_t)n, 0, &out);
    }
    if (st == PYAD_OK)
        T.handle_node[rec->out] = out;
    return st;
}

int pyad_ingest_locked(const pyad_record *rec, size_t n, size_t *failed)
{
    int first = PYAD_OK, kept = flags_kept();
    for (size_t i = 0; i < n; i++) {
        int st = ingest_one(&rec[i]);
        if (st == PYAD_OK)
            continue;
        if (first == PYAD_OK) {
            first = st;
            *failed = i;
        }
        if (st == PYAD_ERR_NOMEM || st == PYAD_ERR_FULL)
            break;
    }
    flags_restore(kept);
    return first;
}

/* Operands of the fixed-arity entry points: handle >= 0 names a node,
 * handle < 0 stands for the constant in x. */
static int64_t record_operands(int op, const int64_t *handle, double *x, size_t n)
{
    uint32_t node[2];
    for (size_t i = 0; i < n; i++) {
        node[i] = NIL;
        if (handle[i] >= 0) {
            if (!pyad_node_of(handle[i], &node[i]))
                return PYAD_ERR_HANDLE;
            x[i] = T.value[node[i]];
        }
    }
    return record_handle(op, handle, node, x, n);
}

int64_t pyad_unary(int op, int64_t a)
{
    int64_t h[1] = {a}, r;
    double x[1] = {0.0};
    if (a < 0)        /* else record_operands takes it for the constant 0.0 */
        return PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    r = record_operands(op, h, x, 1);
    pyad_unlock(&pyad_tape_lock);
    return r;
}

int64_t pyad_binary(int op, int64_t a, int64_t b)
{
    int64_t h[2] = {a, b}, r;
    double x[2] = {0.0, 0.0};
    if (a < 0 || b < 0)
        return PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    r = record_operands(op, h, x, 2);
    pyad_unlock(&pyad_tape_lock);
    return r;
}

int64_t pyad_binary_vc(int op, int64_t a, double b)
{
    int64_t h[2] = {a, -1}, r;
    double x[2] = {0.0, b};
    if (a < 0)
        return PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    r = record_operands(op, h, x, 2);
    pyad_unlock(&pyad_tape_lock);
    return r;
}

int64_t pyad_binary_cv(int op, double a, int64_t b)
{
    int64_t h[2] = {-1, b}, r;
    double x[2] = {a, 0.0};
    if (b < 0)
        return PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    r = record_operands(op, h, x, 2);
    pyad_unlock(&pyad_tape_lock);
    return r;
}

int64_t pyad_nary_locked(int op, const int64_t *handles, const double *constants, size_t n)
{
    uint32_t *node;
    double *x;
    int64_t h = PYAD_OK;
    if (!handles && n)
        return PYAD_ERR_HANDLE;
    node = pyad_grow(NULL, n ? n : 1, sizeof *node);
    x = pyad_grow(NULL, n ? n : 1, sizeof *x);
    if (!node || !x)
        h = PYAD_ERR_NOMEM;
    for (size_t i = 0; i < n && h == PYAD_OK; i++) {
        if (handles[i] >= 0) {
            if (!pyad_node_of(handles[i], &node[i]))
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
        h = record_handle(op, handles, node, x, n);
    free(node);     /* under the lock: a fork never finds a thread in malloc */
    free(x);
    return h;
}

int64_t pyad_nary(int op, const int64_t *handles, const double *constants,
                  size_t n)
{
    int64_t h;
    pyad_lock(&pyad_tape_lock);
    h = pyad_nary_locked(op, handles, constants, n);
    pyad_unlock(&pyad_tape_lock);
    return h;
}

int pyad_eval(int op, const double *x, size_t n, double *out)
{
    if (!pyad_op_accepts(op, n))
        return PYAD_ERR_OP;
    if (!out || (n && !x))
        return PYAD_ERR_HANDLE;
    return evaluate(op, x, n, pyad_get_errmode(), out);
}
