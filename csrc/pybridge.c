/* pybridge.c -- where C reads the Python objects of eager recording: the
 * record buffer `pending` and the handle lists (pyad/_lib.py). (pycall.c
 * reads a compiled call's floats.)
 *
 * An op is not recorded by one C call: a cffi call costs more than the op
 * (argument tuple, GIL release and re-acquire, lock). Instead the op takes
 * a handle Python reserved earlier and appends its record (code, x0, x1,
 * out) to `pending`, a C array of pyad_record behind a small Python object
 * (RecordBuffer, below): the number slots of pyvar.c write a record in
 * place, the Python paths call pending.append((code, x0, x1, out)), which
 * decodes the tuple at once. Both run with the GIL held, so the buffer has
 * one order whichever path recorded an op. (It was a list of tuples: the
 * tuple, its deallocation and its decoding at the sync were ~13% of a
 * scalar-code training step.) pyad_py_sync hands the whole buffer to the
 * tape in one call: it swaps the array out (no copy), records the ops,
 * releases the handles of dead Vars and reserves fresh handles for the next
 * ops.
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

#include "pybridge.h"
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

/* The record of (code, x0, x1, out): operand i is a float when code marks
 * it constant, else a handle. An operand of the wrong type becomes handle
 * -1, which C refuses as one (a tampered Var); a constant that is not a
 * float, the code -1 (refused as an op). */
static void decode(int64_t code, PyObject *x0, PyObject *x1, PyObject *out, pyad_record *r)
{
    PyObject *x[2] = {x0, x1};
    r->code = -1;
    r->h[0] = r->h[1] = -1;
    r->c[0] = r->c[1] = 0.0;
    if (!as_i64(out, &r->out))
        r->out = -1;
    for (int i = 0; i < 2; i++) {
        int is_const = code == PYAD_REC_LEAF ? i == 0
                                              : (code & (i ? PYAD_REC_CONST1 : PYAD_REC_CONST0)) != 0;
        if (is_const && !as_f64(x[i], &r->c[i]))
            return;
        if (!is_const && !as_i64(x[i], &r->h[i]))
            r->h[i] = -1;
    }
    r->code = code;
}

/* ---- the record buffer: RecordBuffer -------------------------------------- */

typedef struct {
    PyObject_HEAD
    pyad_record *rec; /* rec[0..n) are the buffered ops, in order */
    size_t n, cap;
} pyad_buffer_object;

static PyTypeObject *buffer_type;

/* A slot for one more record, or NULL (MemoryError set). */
static pyad_record *next_slot(pyad_buffer_object *b)
{
    if (b->n == b->cap && !grow_to((void **)&b->rec, &b->cap, b->n + 1, sizeof *b->rec)) {
        PyErr_NoMemory();
        return NULL;
    }
    return &b->rec[b->n];
}

int pyad_buffer_push(PyObject *buffer, int64_t code, PyObject *x0, PyObject *x1,
                     PyObject *out)
{
    pyad_buffer_object *b = (pyad_buffer_object *)buffer;
    pyad_record *r = next_slot(b);
    if (!r)
        return -1;
    decode(code, x0, x1, out, r);
    b->n++;
    return 0;
}

int pyad_is_buffer(PyObject *o)
{
    return buffer_type && Py_TYPE(o) == buffer_type;
}

/* pending.append((code, x0, x1, out)): a tuple of another shape, or a code
 * that is not an int, is buffered as a record C refuses at the sync (the
 * list of tuples this replaced behaved so). */
static PyObject *buffer_append(PyObject *self, PyObject *t)
{
    pyad_buffer_object *b = (pyad_buffer_object *)self;
    pyad_record *r = next_slot(b);
    int64_t code;
    if (!r)
        return NULL;
    if (PyTuple_Check(t) && PyTuple_Size(t) == 4 && as_i64(PyTuple_GetItem(t, 0), &code)) {
        decode(code, PyTuple_GetItem(t, 1), PyTuple_GetItem(t, 2), PyTuple_GetItem(t, 3), r);
    } else {
        r->code = r->out = r->h[0] = r->h[1] = -1;
        r->c[0] = r->c[1] = 0.0;
    }
    b->n++;
    Py_RETURN_NONE;
}

static Py_ssize_t buffer_length(PyObject *self)
{
    return (Py_ssize_t)((pyad_buffer_object *)self)->n;
}

/* pending[i]: record i as the tuple (code, x0, x1, out) it was appended as
 * (operands C could not read as -1), for tests and debugging. */
static PyObject *buffer_item(PyObject *self, Py_ssize_t i)
{
    pyad_buffer_object *b = (pyad_buffer_object *)self;
    const pyad_record *r;
    PyObject *x[2];
    if (i < 0 || (size_t)i >= b->n) {
        PyErr_SetString(PyExc_IndexError, "record buffer index out of range");
        return NULL;
    }
    r = &b->rec[i];
    for (int k = 0; k < 2; k++) {
        int is_const = r->code == PYAD_REC_LEAF
                           ? k == 0
                           : r->code >= 0 && (r->code & (k ? PYAD_REC_CONST1 : PYAD_REC_CONST0));
        x[k] = is_const ? PyFloat_FromDouble(r->c[k]) : PyLong_FromLongLong((long long)r->h[k]);
    }
    if (!x[0] || !x[1]) {
        Py_XDECREF(x[0]);
        Py_XDECREF(x[1]);
        return NULL;
    }
    return Py_BuildValue("(LNNL)", (long long)r->code, x[0], x[1], (long long)r->out);
}

static void buffer_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc free_slot = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    free(((pyad_buffer_object *)self)->rec);
    free_slot(self);
    Py_DECREF(tp);
}

static PyMethodDef buffer_methods[] = {
    {"append", (PyCFunction)buffer_append, METH_O,
     "Buffer the record (code, x0, x1, out) of one op."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot buffer_slots[] = {
    {Py_tp_dealloc, (void *)buffer_dealloc},
    {Py_tp_methods, (void *)buffer_methods},
    {Py_sq_length, (void *)buffer_length},
    {Py_sq_item, (void *)buffer_item},
    {Py_tp_doc, (void *)"pyad's record buffer: the ops recorded since the last sync."},
    {0, NULL},
};

static PyType_Spec buffer_spec = {
    "pyad.RecordBuffer", (int)sizeof(pyad_buffer_object), 0, Py_TPFLAGS_DEFAULT, buffer_slots,
};

PyObject *pyad_buffer_new(void)
{
    PyObject *b;
    if (!buffer_type && !(buffer_type = (PyTypeObject *)PyType_FromSpec(&buffer_spec)))
        return NULL;
    b = PyType_GenericNew(buffer_type, NULL, NULL);
    if (b) {
        ((pyad_buffer_object *)b)->rec = NULL;
        ((pyad_buffer_object *)b)->n = ((pyad_buffer_object *)b)->cap = 0;
    }
    return b;
}

/* ---- the sync --------------------------------------------------------------- */

/* Take the buffered records (swapping arrays with the scratch `recs`: no
 * copy) and snapshot and empty the list of dead handles (GIL held).
 * Returns 0 on failure. */
static int take(PyObject *ops, PyObject *dead_list, size_t *n, size_t *m)
{
    pyad_buffer_object *b = (pyad_buffer_object *)ops;
    Py_ssize_t nd = PyList_Size(dead_list);
    pyad_record *spare = recs;
    size_t spare_cap = recs_cap;
    if (!pyad_is_buffer(ops) || nd < 0) {
        PyErr_Clear();
        return 0;
    }
    if (!grow_to((void **)&dead, &dead_cap, (size_t)nd, sizeof *dead))
        return 0;
    for (Py_ssize_t i = 0; i < nd; i++)
        if (!as_i64(PyList_GetItem(dead_list, i), &dead[i]))
            dead[i] = -1;
    /* Only ints go away here: no finalizer runs. */
    if (PyList_SetSlice(dead_list, 0, nd, NULL) < 0) {
        PyErr_Clear();
        return 0;
    }
    recs = b->rec;
    recs_cap = b->cap;
    *n = b->n;
    b->rec = spare;
    b->cap = spare_cap;
    b->n = 0;
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
