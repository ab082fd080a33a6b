/* export.c -- the graph between input and output nodes as a flat program
 * (see pyad_export in pyad.h), for compiled replay.
 */
#include <stdlib.h>

#include "tape.h"

static int export_locked(const int64_t *inputs, size_t n_in,
                         const int64_t *outputs, size_t n_out,
                         int32_t *node_op, double *node_value,
                         double *node_grad, uint32_t *arg_start, uint32_t *args,
                         uint32_t *input_slot, uint32_t *output_slot,
                         size_t *n_nodes, size_t *n_args)
{
    uint32_t in_mark = pyad_next_epoch(), seen = pyad_next_epoch();
    uint32_t top = 0, lo = UINT32_MAX, n = 0, *slot;
    size_t pending = 0, count = 0, edges = 0;
    if (in_mark == 0 || seen <= in_mark) {    /* wrapped between the two */
        in_mark = pyad_next_epoch();
        seen = pyad_next_epoch();
    }
    for (size_t k = 0; k < n_in; k++) {
        if (!pyad_node_of(inputs[k], &n))
            return PYAD_ERR_HANDLE;
        T.stamp[n] = in_mark;
        top = n > top ? n : top;
        lo = n < lo ? n : lo;
    }
    for (size_t k = 0; k < n_out; k++) {
        if (!pyad_node_of(outputs[k], &n))
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
    slot = pyad_grow(NULL, (size_t)(top - lo) + 1, sizeof *slot);
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
        pyad_node_of(inputs[k], &n);
        input_slot[k] = slot[n - lo];
    }
    for (size_t k = 0; k < n_out; k++) {
        pyad_node_of(outputs[k], &n);
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
    pyad_lock(&pyad_tape_lock);
    st = export_locked(inputs, n_in, outputs, n_out, node_op, node_value,
                       node_grad, arg_start, args, input_slot, output_slot,
                       n_nodes, n_args);
    pyad_unlock(&pyad_tape_lock);
    return st;
}
