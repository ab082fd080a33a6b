/* pybridge.c -- where C reads the Python objects of eager recording: the
 * record buffer (pyad/_lib.py). (pycall.c reads a compiled call's floats.)
 *
 * Python records `a * b` by appending a tuple (code, x0, x1, out) to a
 * list, with `out` a handle it reserved earlier, instead of calling C once
 * per op: a cffi call costs more than the op (argument tuple, GIL release
 * and re-acquire, lock), and converting the list with cffi costs ~280
 * instructions per number. pyad_py_sync hands the whole buffer to the tape
 * in one call: it reads the tuples with the C API (a few instructions per
 * number), empties the lists, records the ops, releases the handles of dead
 * Vars and reserves fresh handles for the next ops.
 *
 * Order of locks: the tape's lock first (taken with the GIL released, as
 * every entry point takes it), then the GIL. No thread ever waits for the
 * tape's lock while holding the GIL, so this cannot deadlock; and because
 * the buffer is emptied and recorded under one hold of the tape's lock, a
 * thread that finds the buffer empty and reads a node (which takes the
 * lock) sees every op that was buffered before.
 *
 * CPython's limited API only (the wheel is abi3). The lists arrive as id()s
 * (CPython: the address of the object), from _lib.py alone.
 */
#define Py_LIMITED_API 0x03090000
#include <Python.h>

#include <stddef.h>
#include <stdlib.h>

#include "tape.h"

/* Scratch for the decoded records and dead handles, grown as needed; only
 * touched with the tape's lock held. */
static pyad_record *recs;
static size_t recs_cap;
static int64_t *dead;
static size_t dead_cap;
static int64_t *fresh;
static size_t fresh_cap;

static int grow_to(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 1024;
    void *q;
    if (need <= *cap)
        return 1;
    while (n < need)
        n *= 2;
    q = pyad_grow(*p, n, size);
    if (!q)
        return 0;
    *p = q;
    *cap = n;
    return 1;
}

/* An exact int or float as int64 / double; 0 (and no Python error left
 * set) if it is anything else. */
static int as_i64(PyObject *o, int64_t *out)
{
    if (!PyLong_CheckExact(o))
        return 0;
    *out = (int64_t)PyLong_AsLongLong(o);
    if (*out == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

static int as_f64(PyObject *o, double *out)
{
    if (PyFloat_CheckExact(o)) {
        *out = PyFloat_AsDouble(o);
        return 1;
    }
    return 0;
}

/* Decode record tuple t; a malformed one becomes an op code C refuses. */
static void decode(PyObject *t, pyad_record *r)
{
    int64_t code;
    r->code = -1;
    r->out = -1;
    r->h[0] = r->h[1] = -1;
    r->c[0] = r->c[1] = 0.0;
    if (!PyTuple_Check(t) || PyTuple_Size(t) != 4 ||
        !as_i64(PyTuple_GetItem(t, 0), &code) || !as_i64(PyTuple_GetItem(t, 3), &r->out))
        return;
    for (int i = 0; i < 2; i++) {
        PyObject *x = PyTuple_GetItem(t, 1 + i);
        int is_const = code == PYAD_REC_LEAF ? i == 0
                                              : (code & (i ? PYAD_REC_CONST1 : PYAD_REC_CONST0)) != 0;
        if (is_const && !as_f64(x, &r->c[i]))
            return;
        if (!is_const && !as_i64(x, &r->h[i]))
            r->h[i] = -1;     /* not a handle (a tampered Var): refused as one */
    }
    r->code = code;
}

/* Snapshot and empty the two lists (GIL held). Returns 0 on failure. */
static int take(PyObject *ops, PyObject *dead_list, size_t *n, size_t *m)
{
    Py_ssize_t no = PyList_Size(ops), nd = PyList_Size(dead_list);
    if (no < 0 || nd < 0) {
        PyErr_Clear();
        return 0;
    }
    if (!grow_to((void **)&recs, &recs_cap, (size_t)no, sizeof *recs) ||
        !grow_to((void **)&dead, &dead_cap, (size_t)nd, sizeof *dead))
        return 0;
    for (Py_ssize_t i = 0; i < no; i++)
        decode(PyList_GetItem(ops, i), &recs[i]);
    for (Py_ssize_t i = 0; i < nd; i++)
        if (!as_i64(PyList_GetItem(dead_list, i), &dead[i]))
            dead[i] = -1;
    /* Only tuples of numbers and ints go away here: no finalizer runs. */
    if (PyList_SetSlice(ops, 0, no, NULL) < 0 || PyList_SetSlice(dead_list, 0, nd, NULL) < 0) {
        PyErr_Clear();
        return 0;
    }
    *n = (size_t)no;
    *m = (size_t)nd;
    return 1;
}

/* Append the fresh handles to the free list (GIL held). */
static int give(PyObject *free_list, const int64_t *fresh, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        PyObject *h = PyLong_FromLongLong((long long)fresh[i]);
        if (!h || PyList_Append(free_list, h) < 0) {
            Py_XDECREF(h);
            PyErr_Clear();
            return 0;
        }
        Py_DECREF(h);
    }
    return 1;
}

int pyad_py_sync(uintptr_t ops, uintptr_t dead_list, uintptr_t free_list,
                 size_t refill, int64_t *failed)
{
    PyGILState_STATE gil;
    size_t n = 0, m = 0, bad = 0;
    int st = PYAD_OK, taken;
    *failed = -1;
    pyad_lock(&pyad_tape_lock);
    if (!grow_to((void **)&fresh, &fresh_cap, refill, sizeof *fresh))
        refill = 0;
    gil = PyGILState_Ensure();
    taken = take((PyObject *)ops, (PyObject *)dead_list, &n, &m);
    PyGILState_Release(gil);
    if (!taken) {
        pyad_unlock(&pyad_tape_lock);
        return PYAD_ERR_NOMEM;
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
        if (!give((PyObject *)free_list, fresh, refill))
            st = st == PYAD_OK ? PYAD_ERR_NOMEM : st;
        PyGILState_Release(gil);
    }
    pyad_unlock(&pyad_tape_lock);
    return st;
}
