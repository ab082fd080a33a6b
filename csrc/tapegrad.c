/* tapegrad.c -- gradients as numbers straight from the tape, for the
 * transforms (pyad.grad, value_and_grad): one reverse sweep from any number
 * of weighted outputs into a caller's buffer, leaving .grad untouched (a
 * transform has no side effect on the Vars it closes over); and the live
 * handles whose nodes an output depends on, for backward(create_graph=True).
 *
 * The sweep is the tape's own (sweep.c): the same visiting order, the same
 * adjoint set on first contact and added to after, so a gradient equals
 * what backward() leaves in .grad of a fresh leaf, bit for bit.
 */
#include <stdlib.h>

#include "tape.h"

int pyad_gradient(const int64_t *outs, const double *seeds, size_t n_out,
                  const int64_t *wrt, size_t n_wrt, double *grad_out)
{
    uint32_t *start = NULL, *wnode = NULL, top = 0, epoch;
    size_t pending = 0;
    int st = PYAD_OK;
    if ((n_out && !outs) || (n_wrt && (!wrt || !grad_out)))
        return PYAD_ERR_ARGS;
    pyad_lock(&pyad_tape_lock);
    start = pyad_grow(NULL, n_out ? n_out : 1, sizeof *start);
    wnode = pyad_grow(NULL, n_wrt ? n_wrt : 1, sizeof *wnode);
    if (!start || !wnode) {
        st = PYAD_ERR_NOMEM;
        goto done;
    }
    for (size_t k = 0; k < n_out; k++)
        if (!pyad_node_of(outs[k], &start[k]))
            st = PYAD_ERR_HANDLE;
    for (size_t k = 0; k < n_wrt; k++)
        if (!pyad_node_of(wrt[k], &wnode[k]))
            st = PYAD_ERR_HANDLE;
    if (st != PYAD_OK || n_out == 0)
        goto results;
    epoch = pyad_next_epoch();
    for (size_t k = 0; k < n_out; k++) {
        uint32_t s = start[k];
        if (T.stamp[s] != epoch) {
            T.stamp[s] = epoch;
            T.adjoint[s] = 0.0;
            pending++;
        }
        T.adjoint[s] += seeds ? seeds[k] : 1.0;
        top = s > top ? s : top;
    }
    for (uint32_t i = top; pending > 0; i--) {
        double a;
        if (T.stamp[i] != epoch)
            continue;
        pending--;
        a = T.adjoint[i];
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
results:
    for (size_t k = 0; k < n_wrt; k++) {
        uint32_t w = wnode[k];
        grad_out[k] = st == PYAD_OK && n_out && w <= top && T.stamp[w] == T.epoch
                    ? 0.0 + T.adjoint[w] : 0.0;
    }
done:
    pyad_unlock(&pyad_tape_lock);
    free(start);
    free(wnode);
    return st;
}

int pyad_ancestor_handles(int64_t out, int64_t *handles, size_t cap, size_t *count)
{
    uint32_t node, epoch;
    size_t pending = 1, c = 0;
    if (!count || (cap && !handles))
        return PYAD_ERR_ARGS;
    pyad_lock(&pyad_tape_lock);
    if (!pyad_node_of(out, &node)) {
        pyad_unlock(&pyad_tape_lock);
        return PYAD_ERR_HANDLE;
    }
    epoch = pyad_next_epoch();
    T.stamp[node] = epoch;
    for (uint32_t i = node; pending > 0; i--) {
        if (T.stamp[i] != epoch)
            continue;
        pending--;
        for (uint32_t e = T.edge_start[i]; e < T.edge_start[i + 1]; e++) {
            uint32_t p = T.edge_node[e];
            if (T.stamp[p] != epoch) {
                T.stamp[p] = epoch;
                pending++;
            }
        }
    }
    for (size_t h = 0; h < T.handles; h++) {
        uint32_t n = T.handle_node[h];
        if (n != NIL && n <= node && T.stamp[n] == epoch) {
            if (c < cap)
                handles[c] = (int64_t)h;
            c++;
        }
    }
    *count = c;
    pyad_unlock(&pyad_tape_lock);
    return PYAD_OK;
}
