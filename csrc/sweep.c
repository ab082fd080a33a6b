/* sweep.c -- the reverse sweep: backward, zero_grad.
 *
 * Creation order is a topological order, so one loop from the highest
 * start node down is a valid reverse pass.
 */
#include <stdlib.h>

#include "tape.h"

/* One reverse pass from the highest start node down. A node is visited
 * only if it was reached from a start node (stamp == epoch), so unrelated
 * nodes in between cost one compare each, and the loop stops as soon as no
 * reached node is left below. With accumulate, the adjoints are added to
 * the grads (backward); without, the reached grads are cleared. */
static void sweep(const uint32_t *start, const double *seed, size_t n,
                  int accumulate)
{
    /* The tape's arrays in restrict locals: distinct allocations, so a
     * store to one never makes the compiler reload another's pointer or
     * an edge range (with T.field[...] it reloaded both per node). */
    uint32_t *restrict stamp = T.stamp;
    double *restrict adjoint = T.adjoint;
    double *restrict grad = T.grad;
    const uint32_t *restrict edge_start = T.edge_start;
    const uint32_t *restrict edge_node = T.edge_node;
    const double *restrict edge_partial = T.edge_partial;
    uint32_t epoch = pyad_next_epoch(), top = 0;
    size_t pending = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t s = start[k];
        if (stamp[s] != epoch) {
            stamp[s] = epoch;
            adjoint[s] = 0.0;
            pending++;
        }
        adjoint[s] += seed ? seed[k] : 0.0;
        if (s > top)
            top = s;
    }
    for (uint32_t i = top; pending > 0; i--) {
        if (stamp[i] != epoch)
            continue;
        pending--;
        double a = adjoint[i];
        if (accumulate)
            grad[i] += a;
        else
            grad[i] = 0.0;
        for (uint32_t e = edge_start[i], end = edge_start[i + 1]; e < end; e++) {
            uint32_t p = edge_node[e];
            double d = a * edge_partial[e];
            if (stamp[p] != epoch) {
                stamp[p] = epoch;
                adjoint[p] = d;
                pending++;
            } else {
                adjoint[p] += d;
            }
        }
    }
}

int pyad_backward(int64_t out, double seed)
{
    uint32_t n;
    int st = PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    if (pyad_node_of(out, &n)) {
        sweep(&n, &seed, 1, 1);
        st = PYAD_OK;
    }
    pyad_unlock(&pyad_tape_lock);
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
    pyad_lock(&pyad_tape_lock);
    start = pyad_grow(NULL, n, sizeof *start);
    if (!start)
        st = PYAD_ERR_NOMEM;
    for (size_t k = 0; k < n && st == PYAD_OK; k++)
        if (!pyad_node_of(handles[k], &start[k]))
            st = PYAD_ERR_HANDLE;
    if (st == PYAD_OK)
        sweep(start, NULL, n, 0);
    free(start);    /* under the lock: a fork never finds a thread in malloc */
    pyad_unlock(&pyad_tape_lock);
    return st;
}
