/* pybuffers.c -- the three buffers of eager recording (pyad/_lib.py):
 * `pending`, the records of the ops since the last sync (RecordBuffer);
 * `free`, the handles C reserved for the next ops, and `dead`, the handles
 * of Vars that died (both HandleStack). Each is a C array behind a small
 * Python object: the number slots (pyoper.c) and the finalizer (pyvar.c) use the
 * arrays directly, Python code through a few list-like methods, always
 * with the GIL held, which orders them. pybridge.c's sync empties them.
 *
 * They were Python lists of tuples and ints: per op a record tuple, an int
 * object for the handle (made at the sync, freed at the next), a slice
 * deletion to pop `free` and an append to `dead`, and the decoding of all
 * of it at the sync -- more than a third of recording `a * b`.
 *
 * CPython's limited API only (the wheel is abi3).
 */
#define Py_LIMITED_API 0x03090000
#include <Python.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pybridge.h"

int pyad_grow_to(void **p, size_t *cap, size_t need, size_t size)
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

int64_t pyad_handle_of(PyObject *o)
{
    long long h;
    if (!o || !PyLong_Check(o))
        return -1;
    h = PyLong_AsLongLong(o);
    if (h == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return h == PYAD_NO_HANDLE ? -1 : (int64_t)h;
}

/* ---- RecordBuffer ------------------------------------------------------------ */

static PyTypeObject *buffer_type, *stack_type;

int pyad_is_buffer(PyObject *o)
{
    return buffer_type && Py_TYPE(o) == buffer_type;
}

int pyad_is_stack(PyObject *o)
{
    return stack_type && Py_TYPE(o) == stack_type;
}

pyad_record *pyad_buffer_next(PyObject *buffer)
{
    pyad_buffer_object *b = (pyad_buffer_object *)buffer;
    if (b->n == b->cap && !pyad_grow_to((void **)&b->rec, &b->cap, b->n + 1, sizeof *b->rec)) {
        PyErr_NoMemory();
        return NULL;
    }
    return &b->rec[b->n];
}

/* pending.append((code, x0, x1, out)): operand i is a float where code
 * marks it constant, else a handle. Anything C cannot read is buffered as
 * a record the sync refuses (the list of tuples this replaced behaved so):
 * an operand or out that is not an int64 as the handle -1, a constant
 * that is not a float or a tuple of another shape as the code -1. */
static PyObject *buffer_append(PyObject *self, PyObject *t)
{
    pyad_record *r = pyad_buffer_next(self);
    PyObject *code;
    if (!r)
        return NULL;
    r->code = r->out = r->h[0] = r->h[1] = -1;
    r->c[0] = r->c[1] = 0.0;
    ((pyad_buffer_object *)self)->n++;
    if (!PyTuple_Check(t) || PyTuple_Size(t) != 4)
        Py_RETURN_NONE;
    code = PyTuple_GetItem(t, 0);
    r->out = pyad_handle_of(PyTuple_GetItem(t, 3));
    if (!PyLong_CheckExact(code) || pyad_handle_of(code) < 0)
        Py_RETURN_NONE;
    for (int i = 0; i < 2; i++) {
        PyObject *x = PyTuple_GetItem(t, 1 + i);
        if (!pyad_rec_is_const(pyad_handle_of(code), i))
            r->h[i] = pyad_handle_of(x);
        else if (PyFloat_CheckExact(x))
            r->c[i] = PyFloat_AsDouble(x);
        else
            Py_RETURN_NONE;
    }
    r->code = pyad_handle_of(code);
    Py_RETURN_NONE;
}

static Py_ssize_t buffer_length(PyObject *self)
{
    return (Py_ssize_t)((pyad_buffer_object *)self)->n;
}

/* pending[i]: record i as the tuple (code, x0, x1, out) it was appended as
 * (what C could not read as -1), for tests and debugging. */
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
    for (int k = 0; k < 2; k++)
        x[k] = r->code >= 0 && pyad_rec_is_const(r->code, k)
                   ? PyFloat_FromDouble(r->c[k])
                   : PyLong_FromLongLong((long long)r->h[k]);
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

/* ---- HandleStack ------------------------------------------------------------- */

int pyad_stack_push(PyObject *stack, int64_t h)
{
    pyad_stack_object *s = (pyad_stack_object *)stack;
    if (s->n == s->cap && !pyad_grow_to((void **)&s->h, &s->cap, s->n + 1, sizeof *s->h))
        return -1;
    s->h[s->n++] = h;
    return 0;
}

/* append(h): any value is taken, as the handle -1 if it is not an int64
 * (a tampered Var's; C ignores it at the release). */
static PyObject *stack_append(PyObject *self, PyObject *h)
{
    if (pyad_stack_push(self, pyad_handle_of(h)) < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *stack_extend(PyObject *self, PyObject *items)
{
    PyObject *it, *h;
    if (pyad_is_stack(items)) { /* one copy; s.extend(s) doubles s, as a list does */
        pyad_stack_object *from = (pyad_stack_object *)items;
        size_t k = from->n;
        for (size_t i = 0; i < k; i++)
            if (pyad_stack_push(self, from->h[i]) < 0)
                return PyErr_NoMemory();
        Py_RETURN_NONE;
    }
    if (!(it = PyObject_GetIter(items)))
        return NULL;
    while ((h = PyIter_Next(it))) {
        int st = pyad_stack_push(self, pyad_handle_of(h));
        Py_DECREF(h);
        if (st < 0) {
            Py_DECREF(it);
            return PyErr_NoMemory();
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *stack_pop(PyObject *self, PyObject *unused)
{
    pyad_stack_object *s = (pyad_stack_object *)self;
    (void)unused;
    if (s->n == 0) {
        PyErr_SetString(PyExc_IndexError, "pop from an empty handle stack");
        return NULL;
    }
    return PyLong_FromLongLong((long long)s->h[--s->n]);
}

static PyObject *stack_clear(PyObject *self, PyObject *unused)
{
    (void)unused;
    ((pyad_stack_object *)self)->n = 0;
    Py_RETURN_NONE;
}

/* s.move_to(t): push every handle of s on t and empty s, in one C call
 * (Ctrl-C cannot land between the two and leave a handle on both, to be
 * released while a Var still takes it from s). */
static PyObject *stack_move_to(PyObject *self, PyObject *to)
{
    if (!pyad_is_stack(to) || to == self) {
        PyErr_SetString(PyExc_TypeError, "move_to: another handle stack is needed");
        return NULL;
    }
    if (pyad_stack_move(self, to) < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

int pyad_stack_move(PyObject *from, PyObject *to)
{
    pyad_stack_object *s = (pyad_stack_object *)from, *t = (pyad_stack_object *)to;
    if (s->n == 0) /* nothing to move; either array may be NULL (memcpy's UB) */
        return 0;
    if (!pyad_grow_to((void **)&t->h, &t->cap, t->n + s->n, sizeof *t->h))
        return -1;
    memcpy(t->h + t->n, s->h, s->n * sizeof *s->h);
    t->n += s->n;
    s->n = 0;
    return 0;
}

static Py_ssize_t stack_length(PyObject *self)
{
    return (Py_ssize_t)((pyad_stack_object *)self)->n;
}

static PyObject *stack_item(PyObject *self, Py_ssize_t i)
{
    pyad_stack_object *s = (pyad_stack_object *)self;
    if (i < 0 || (size_t)i >= s->n) {
        PyErr_SetString(PyExc_IndexError, "handle stack index out of range");
        return NULL;
    }
    return PyLong_FromLongLong((long long)s->h[i]);
}

static void stack_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc free_slot = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    free(((pyad_stack_object *)self)->h);
    free_slot(self);
    Py_DECREF(tp);
}

static PyMethodDef stack_methods[] = {
    {"append", (PyCFunction)stack_append, METH_O, "Push a handle."},
    {"extend", (PyCFunction)stack_extend, METH_O, "Push every handle of an iterable."},
    {"pop", (PyCFunction)stack_pop, METH_NOARGS, "Pop the last handle (IndexError if empty)."},
    {"clear", (PyCFunction)stack_clear, METH_NOARGS, "Forget every handle."},
    {"move_to", (PyCFunction)stack_move_to, METH_O, "Push every handle on another stack, and empty this one."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot stack_slots[] = {
    {Py_tp_dealloc, (void *)stack_dealloc},
    {Py_tp_methods, (void *)stack_methods},
    {Py_sq_length, (void *)stack_length},
    {Py_sq_item, (void *)stack_item},
    {Py_tp_doc, (void *)"A stack of handles (pyad's `free` and `dead`), in C."},
    {0, NULL},
};

static PyType_Spec stack_spec = {
    "pyad.HandleStack", (int)sizeof(pyad_stack_object), 0, Py_TPFLAGS_DEFAULT, stack_slots,
};

/* ---- making them --------------------------------------------------------------- */

static PyObject *make(PyTypeObject **type, PyType_Spec *spec)
{
    if (!*type && !(*type = (PyTypeObject *)PyType_FromSpec(spec)))
        return NULL;
    /* tp_alloc zeroes the object: no array, n = cap = 0. */
    return PyType_GenericNew(*type, NULL, NULL);
}

PyObject *pyad_buffer_new(void)
{
    return make(&buffer_type, &buffer_spec);
}

PyObject *pyad_stack_new(void)
{
    return make(&stack_type, &stack_spec);
}
