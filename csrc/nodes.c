/* nodes.c -- one node's state by handle: value, grad, leafness (Var.val,
 * Var.grad, Var.is_leaf and their setters). Each takes the tape's lock for
 * the read or write; a handle that names no live node gives NaN or
 * PYAD_ERR_HANDLE, never a read out of bounds. Only a leaf's value may be
 * set: an op node's value is what its operands made it.
 */
#include <math.h>

#include "tape.h"

double pyad_value(int64_t h)
{
    uint32_t n;
    double v = NAN;
    pyad_lock(&pyad_tape_lock);
    if (pyad_node_of(h, &n))
        v = T.value[n];
    pyad_unlock(&pyad_tape_lock);
    return v;
}

double pyad_grad(int64_t h)
{
    uint32_t n;
    double g = NAN;
    pyad_lock(&pyad_tape_lock);
    if (pyad_node_of(h, &n))
        g = T.grad[n];
    pyad_unlock(&pyad_tape_lock);
    return g;
}

int pyad_is_leaf(int64_t h)
{
    uint32_t n;
    int r = PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    if (pyad_node_of(h, &n))
        r = T.op[n] == OP_LEAF;
    pyad_unlock(&pyad_tape_lock);
    return r;
}

int pyad_set_value(int64_t h, double value)
{
    uint32_t n;
    int st = PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    if (pyad_node_of(h, &n)) {
        st = T.op[n] == OP_LEAF ? PYAD_OK : PYAD_ERR_NOT_LEAF;
        if (st == PYAD_OK)
            T.value[n] = value;
    }
    pyad_unlock(&pyad_tape_lock);
    return st;
}

int pyad_set_grad(int64_t h, double grad)
{
    uint32_t n;
    int st = PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    if (pyad_node_of(h, &n)) {
        T.grad[n] = grad;
        st = PYAD_OK;
    }
    pyad_unlock(&pyad_tape_lock);
    return st;
}
