/* tapegrad.c -- gradients as numbers straight from the tape, for the
 * transforms (pyad.grad, value_and_grad): one reverse sweep from any number
 * of weighted outputs into a caller's buffer, leaving .grad untouched (a
 * transform has no side effect on the Vars it closes over); and the live
 * handles whose nodes an output depends on, for backward(create_graph=True);
 * and many leaves in one call (a transform's array arguments).
 *
 * The sweep is the tape's own (sweep.c): the same visiting order, the same
 * adjoint set on first contact and added to after, so a gradient equals
 * what backward() leaves in .grad of a fresh leaf, bit for bit -- except
 * that, as every evaluator of derivatives beyond backward() (lanes.c,
 * graph.c), it skips the edges whose partial is a constant 0 whatever the
 * operands (comparisons, sign, where's condition): an infinite adjoint
 * reaching one gives 0 there, where backward() makes nan.
 */
#include <stdlib.h>

#include "tape.h"

int pyad_gradient(const int64_t *outs, const double *seeds, size_t n_out,
                  const int64_t *wrt, size_t n_wrt, double *grad_out)
{
    uint32_t *start = NULL, *wnode = NULL, top = 0, epoch, cap = MAX_STACK_OPERANDS;
    uint8_t stack[MAX_STACK_OPERANDS], *zero = stack;
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
    {
        /* restrict locals: no reload of a pointer or an edge range per node
         * (see sweep.c) */
        uint32_t *restrict stamp = T.stamp;
        double *restrict adjoint = T.adjoint;
        const uint32_t *restrict edge_start = T.edge_start;
        const uint32_t *restrict edge_node = T.edge_node;
        const double *restrict edge_partial = T.edge_partial;
        for (size_t k = 0; k < n_out; k++) {
            uint32_t s = start[k];
            if (stamp[s] != epoch) {
                stamp[s] = epoch;
                adjoint[s] = 0.0;
                pending++;
            }
            adjoint[s] += seeds ? seeds[k] : 1.0;
            top = s > top ? s : top;
        }
        for (uint32_t i = top; pending > 0; i--) {
            uint32_t first = edge_start[i], n = edge_start[i + 1] - first;
            double a;
            if (stamp[i] != epoch)
                continue;
            pending--;
            if (n == 0)
                continue;
            if (n > cap) {
                uint8_t *more = pyad_grow(zero == stack ? NULL : zero, n, 1);
                if (!more) {
                    st = PYAD_ERR_NOMEM;
                    break;
                }
                zero = more;
                cap = n;
            }
            pyad_op_zero_partials(T.op[i], n, zero);
            a = adjoint[i];
            for (uint32_t e = 0; e < n; e++) {
                uint32_t p = edge_node[first + e];
                double d;
                if (zero[e])
                    continue;
                d = a * edge_partial[first + e];
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
    if (zero != stack)
        free(zero);
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

int pyad_leaves(const double *values, size_t n, int64_t *handles)
{
    int st = PYAD_OK;
    size_t made = 0;
    if (n && (!values || !handles))
        return PYAD_ERR_ARGS;
    pyad_lock(&pyad_tape_lock);
    for (; made < n; made++) {
        uint32_t node;
        if ((st = pyad_reserve_for(0)) != PYAD_OK)
            break;
        if (made == 0 && pyad_should_compact())
            pyad_compact();
        node = pyad_append(OP_LEAF, values[made]);
        T.refcount[node] = 1;
        handles[made] = pyad_new_handle(node);
    }
    if (st != PYAD_OK) {            /* all or nothing */
        while (made-- > 0) {
            uint32_t node;
            int64_t h = handles[made];
            if (pyad_node_of(h, &node)) {
                T.handle_node[h] = NIL;
                T.free_handles[T.n_free++] = (uint32_t)h;
                pyad_decref(node);
            }
            handles[made] = -1;
        }
    }
    pyad_unlock(&pyad_tape_lock);
    return st;
}
