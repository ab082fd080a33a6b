/* bulk.c -- one op recorded over many elements in one call, for the object
 * arrays of Vars the transforms give a function (pyad/_arrays.py): a numpy
 * ufunc over an array becomes one C call instead of one per element.
 *
 * Each element is recorded as record.c records one op (pyad_binary and the
 * rest): its constant operands become leaves just before it, its value is
 * checked against the error mode before anything changes, its partials go
 * on its edges, and the node gets a handle. Elements are recorded in order,
 * so the tape holds exactly what an element-by-element loop would leave.
 * Unlike a loop, the call leaves the thread's floating-point flags as it
 * found them (the partials of pow at 0 compute log(0), whose divide flag
 * is not the value's, and numpy would report it as a warning).
 */
#include <fenv.h>
#include <stdlib.h>

#include "program.h"
#include "tape.h"

/* allocation as in program.c: under the tape's lock (fork safety) */
static void *xmalloc(size_t count, size_t size) { return pyad_program_alloc(count, size); }
static void xfree(void *p) { pyad_locked_free(&p, 1); }

/* Drop the handles made so far (all or nothing). */
static void drop(int64_t *out, size_t made)
{
    while (made-- > 0) {
        uint32_t node;
        int64_t h = out[made];
        if (pyad_node_of(h, &node)) {
            T.handle_node[h] = NIL;
            T.free_handles[T.n_free++] = (uint32_t)h;
            pyad_decref(node);
        }
        out[made] = -1;
    }
}

int pyad_record_many(int op, size_t arity, size_t n, const int64_t *handles,
                     const double *consts, int64_t *out, size_t *failed)
{
    double xs[MAX_STACK_OPERANDS], ds[MAX_STACK_OPERANDS], *x = xs, *d = ds;
    uint32_t nodes[MAX_STACK_OPERANDS], *node = nodes;
    int mode = pyad_get_errmode(), st = PYAD_OK;
    fexcept_t flags;
    size_t k = 0;
    if (!failed || (n && (!handles || !consts || !out)))
        return PYAD_ERR_ARGS;
    *failed = 0;
    if (!pyad_op_accepts(op, arity))
        return PYAD_ERR_OP;
    if (n == 0)
        return PYAD_OK;
    if (arity > MAX_STACK_OPERANDS &&
        (!(x = xmalloc(arity, sizeof *x)) || !(d = xmalloc(arity, sizeof *d)) ||
         !(node = xmalloc(arity, sizeof *node)))) {
        st = PYAD_ERR_NOMEM;
        goto done;
    }
    fegetexceptflag(&flags, FE_ALL_EXCEPT);
    pyad_lock(&pyad_tape_lock);
    if (pyad_should_compact())
        pyad_compact();
    for (; k < n && st == PYAD_OK; k++) {
        size_t n_const = 0;
        double y;
        uint32_t at;
        for (size_t j = 0; j < arity; j++) {
            int64_t h = handles[j * n + k];
            node[j] = NIL;
            if (h >= 0) {
                if (!pyad_node_of(h, &node[j])) {
                    st = PYAD_ERR_HANDLE;
                    break;
                }
                x[j] = T.value[node[j]];
            } else {
                x[j] = consts[j * n + k];
                n_const++;
            }
        }
        if (st != PYAD_OK)
            break;
        if (mode)
            feclearexcept(FE_ALL_EXCEPT);
        y = pyad_op_value(op, x, arity);
        if (mode && (st = pyad_fp_status(mode, fetestexcept(PYAD_FE_WATCHED))) != PYAD_OK)
            break;
        if ((st = pyad_reserve_for(arity)) != PYAD_OK ||
            (st = pyad_reserve_nodes_total(T.length + n_const + 1)) != PYAD_OK)
            break;
        pyad_op_partials(op, x, arity, y, d);
        for (size_t j = 0; j < arity; j++)
            if (node[j] == NIL)
                node[j] = pyad_append(OP_LEAF, x[j]);
        at = pyad_append((uint8_t)op, y);
        for (size_t j = 0; j < arity; j++)
            pyad_add_edge(at, node[j], d[j]);
        T.refcount[at] = 1;
        out[k] = pyad_new_handle(at);
    }
    if (st != PYAD_OK) {
        *failed = k;
        drop(out, k);
    }
    pyad_unlock(&pyad_tape_lock);
    fesetexceptflag(&flags, FE_ALL_EXCEPT);
done:
    if (x != xs)
        xfree(x);
    if (d != ds)
        xfree(d);
    if (node != nodes)
        xfree(node);
    return st;
}
