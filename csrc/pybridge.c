/* pybridge.c -- where C reads the Python objects of eager recording: the
 * record buffer `pending` and the handle stacks (pyad/_lib.py). (pycall.c
 * reads a compiled call's floats.)
 *
 * An op is not recorded by one C call: a cffi call costs more than the op
 * (argument tuple, GIL release and re-acquire, lock). Instead the op pops
 * a handle C reserved earlier from `free` and appends its record (code,
 * x0, x1, out) to `pending`; a Var that dies pushes its handle on `dead`
 * (the three are C arrays, pybuffers.c). pyad_py_sync hands all of it to
 * the tape in one call: it swaps the arrays of `pending` and `dead` out (no
 * copy), records the ops, releases the dead handles and pushes fresh ones
 * on `free` for the next ops.
 *
 * Order of locks: the tape's lock first (taken with the GIL released, as
 * every entry point takes it), then the GIL. No thread ever waits for the
 * tape's lock while holding the GIL, so this cannot deadlock; and because
 * the buffer is emptied and recorded under one hold of the tape's lock, a
 * thread that finds the buffer empty and reads a node (which takes the
 * lock) sees every op that was buffered before.
 *
 * CPython's limited API only (the wheel is abi3). The buffers arrive as
 * id()s (CPython: the address of the object), from _lib.py alone, and are
 * checked for their types.
 */
#define Py_LIMITED_API 0x03090000
#include <Python.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pybridge.h"
#include "tape.h"

/* The arrays the records and dead handles are swapped into; only touched
 * with the tape's lock held. */
static pyad_record *recs;
static size_t recs_cap;
static int64_t *dead;
static size_t dead_cap;
static int64_t *fresh;
static size_t fresh_cap;
static int64_t *nary_h; /* pyad_py_nary's operands */
static double *nary_c;
static size_t nary_h_cap, nary_c_cap;

/* Take the buffered records and dead handles (GIL held): each array is
 * swapped with the spare one of the previous sync, so nothing is copied
 * and the buffers keep their capacity. */
static void take(pyad_buffer_object *ops, pyad_stack_object *dead_stack, size_t *n, size_t *m)
{
    pyad_record *spare_recs = recs;
    int64_t *spare_dead = dead;
    size_t spare_recs_cap = recs_cap, spare_dead_cap = dead_cap;
    recs = ops->rec;
    recs_cap = ops->cap;
    *n = ops->n;
    ops->rec = spare_recs;
    ops->cap = spare_recs_cap;
    ops->n = 0;
    dead = dead_stack->h;
    dead_cap = dead_stack->cap;
    *m = dead_stack->n;
    dead_stack->h = spare_dead;
    dead_stack->cap = spare_dead_cap;
    dead_stack->n = 0;
}

/* Push the fresh handles on `free` (GIL held). Returns 0 on failure. */
static int give(pyad_stack_object *free_stack, const int64_t *fresh, size_t k)
{
    if (!pyad_grow_to((void **)&free_stack->h, &free_stack->cap, free_stack->n + k,
                      sizeof *fresh))
        return 0;
    memcpy(free_stack->h + free_stack->n, fresh, k * sizeof *fresh);
    free_stack->n += k;
    return 1;
}

int pyad_py_sync(uintptr_t ops, uintptr_t dead_list, uintptr_t free_list,
                 size_t refill, int64_t *failed)
{
    PyGILState_STATE gil;
    size_t n = 0, m = 0, bad = 0;
    int st = PYAD_OK, typed;
    *failed = -1;
    pyad_lock(&pyad_tape_lock);
    if (!pyad_grow_to((void **)&fresh, &fresh_cap, refill, sizeof *fresh))
        refill = 0;
    gil = PyGILState_Ensure();
    typed = pyad_is_buffer((PyObject *)ops) && pyad_is_stack((PyObject *)dead_list) &&
            pyad_is_stack((PyObject *)free_list);
    if (typed)
        take((pyad_buffer_object *)ops, (pyad_stack_object *)dead_list, &n, &m);
    PyGILState_Release(gil);
    if (!typed) {
        pyad_unlock(&pyad_tape_lock);
        return PYAD_ERR_HANDLE;
    }
    /* The records first (they may use handles that died after them), then
     * the releases, then fresh handles (possibly the ones just freed). */
    st = pyad_ingest_locked(recs, n, &bad);
    if (st != PYAD_OK)
        *failed = (int64_t)bad;
    for (size_t i = 0; i < m; i++)
        pyad_release_locked(dead[i]);
    if (refill && pyad_reserve_handles(fresh, refill) != PYAD_OK)
        refill = 0;
    if (refill) {
        gil = PyGILState_Ensure();
        if (!give((pyad_stack_object *)free_list, fresh, refill)) {
            /* give the handles back: C frees a reserved handle released */
            for (size_t i = 0; i < refill; i++)
                pyad_release_locked(fresh[i]);
            st = st == PYAD_OK ? PYAD_ERR_NOMEM : st;
        }
        PyGILState_Release(gil);
    }
    pyad_unlock(&pyad_tape_lock);
    return st;
}

/* Read the items of list into nary_h / nary_c (GIL held): 1 if each is an
 * exact Var with a handle >= 0 or an exact float, and one at least a Var. */
static int read_operands(PyObject *list, size_t n)
{
    int vars = 0;
    for (size_t i = 0; i < n; i++) {
        PyObject *x = PyList_GetItem(list, (Py_ssize_t)i);
        int64_t h = pyad_exact_var_handle(x);
        nary_h[i] = h;
        nary_c[i] = 0.0;
        if (h >= 0)
            vars = 1;
        else if (h == PYAD_NO_HANDLE && PyFloat_CheckExact(x))
            nary_h[i] = -1, nary_c[i] = PyFloat_AsDouble(x);
        else
            return 0;
    }
    return vars;
}

int64_t pyad_py_nary(int op, uintptr_t items)
{
    PyObject *list = (PyObject *)items;
    PyGILState_STATE gil;
    Py_ssize_t n;
    int readable;
    int64_t h = PYAD_PY_OTHER;
    pyad_lock(&pyad_tape_lock);
    gil = PyGILState_Ensure();
    n = PyList_Check(list) ? PyList_Size(list) : -1;
    readable = n > 0 &&
               pyad_grow_to((void **)&nary_h, &nary_h_cap, (size_t)n, sizeof *nary_h) &&
               pyad_grow_to((void **)&nary_c, &nary_c_cap, (size_t)n, sizeof *nary_c) &&
               read_operands(list, (size_t)n);
    PyGILState_Release(gil);
    if (readable)
        h = pyad_nary_locked(op, nary_h, nary_c, (size_t)n);
    pyad_unlock(&pyad_tape_lock);
    return h;
}
