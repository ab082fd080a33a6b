/* pycall.c -- the C call of a compiled function at one point of floats.
 *
 * pyad.Compiled's base class (`CallBase`) is made here so that the common
 * call, `f(1.0, 2.0)` with float arguments on the most recent trace, runs
 * no Python frame at all: the interpreter calls tp_call below, which reads
 * the floats, replays the program's values (pyad_program_value, replay.c)
 * and returns the value. A Python __call__ with *args, then a cffi call
 * (its argument tuple, a GIL release and re-acquire) cost more than
 * replaying a 20-op function; this path costs about as much as one call of
 * a C function.
 *
 * Arguments may be floats (or float subclasses such as numpy.float64)
 * and ints (not bool) that convert to a double. Anything else -- keyword
 * arguments, another arity, another type, an int too big for a double, a
 * program that does not fit, a guard that misses, a raising errstate, or a
 * NaN value (pyad_program_value answers NaN for all of these) -- goes to
 * the Python method `_call` with the same arguments, which handles it and
 * says why when it fails. So this path is an optimisation only: it gives
 * the same bits as the general path, or defers to it.
 *
 * The program is owned by a Python object (`owner`, the pyad Program whose
 * cdata frees it), referenced here, so the pointer lives as long as it is
 * stored. The GIL is held throughout: no other thread can swap or free the
 * program during a call, and a call is short (at most PYAD_LEAN_NODES
 * nodes), so holding the GIL costs the other threads little.
 *
 * CPython's limited API only (the wheel is abi3).
 */
#define Py_LIMITED_API 0x03090000
#include <Python.h>

#include <math.h>
#include <stdint.h>

#include "program.h"

#define LEAN_INPUTS 16 /* arguments the C call reads (more: the Python path) */

typedef struct {
    PyObject_HEAD
    const pyad_program *prog; /* NULL: no C path, every call goes to _call */
    PyObject *owner;          /* keeps prog alive; NULL with it */
    Py_ssize_t n_in;          /* prog's inputs */
} pyad_call_object;

static PyObject *call_slow(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *method = PyObject_GetAttrString(self, "_call"), *r;
    if (!method)
        return NULL;
    r = PyObject_Call(method, args, kwargs);
    Py_DECREF(method);
    return r;
}

/* 1 and *out for a float or float subclass (numpy.float64), or an int
 * (not bool) that converts: the same double the general path makes of it.
 * 0 otherwise (an error may be set: the caller clears it). */
static int read_double(PyObject *a, double *out)
{
    if (PyFloat_Check(a)) {
        *out = PyFloat_AsDouble(a);
        return 1;
    }
    if (PyLong_CheckExact(a)) {
        *out = PyLong_AsDouble(a); /* -1.0 and OverflowError when too big */
        return !(*out == -1.0 && PyErr_Occurred());
    }
    return 0;
}

static PyObject *call_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    pyad_call_object *c = (pyad_call_object *)self;
    double x[LEAN_INPUTS], v;
    Py_ssize_t n;
    if (!c->prog || (kwargs && PyDict_Size(kwargs) != 0))
        return call_slow(self, args, kwargs);
    n = PyTuple_Size(args);
    if (n != c->n_in)
        return call_slow(self, args, kwargs);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *a = PyTuple_GetItem(args, i);
        if (!a || !read_double(a, &x[i])) {
            PyErr_Clear();
            return call_slow(self, args, kwargs);
        }
    }
    v = pyad_program_value(c->prog, x, (size_t)n);
    if (isnan(v))
        return call_slow(self, args, kwargs);
    return PyFloat_FromDouble(v);
}

/* _set_lean(owner, address, n_in): use the program at `address` (owned by
 * `owner`, which is kept) for the C call; _set_lean(None, 0, 0) turns the
 * C call off. Private to pyad/retracing.py. */
static PyObject *call_set_lean(PyObject *self, PyObject *args)
{
    pyad_call_object *c = (pyad_call_object *)self;
    PyObject *owner, *old;
    unsigned long long address;
    Py_ssize_t n_in;
    if (!PyArg_ParseTuple(args, "OKn", &owner, &address, &n_in))
        return NULL;
    old = c->owner;
    if (owner == Py_None || !address || n_in < 0 || n_in > LEAN_INPUTS) {
        c->prog = NULL;
        c->owner = NULL;
        c->n_in = 0;
    } else {
        Py_INCREF(owner);
        c->owner = owner;
        c->prog = (const pyad_program *)(uintptr_t)address;
        c->n_in = n_in;
    }
    Py_XDECREF(old); /* last: its finalizer may run Python code */
    Py_RETURN_NONE;
}

static void call_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc free_slot = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    pyad_call_object *c = (pyad_call_object *)self;
    c->prog = NULL;
    Py_CLEAR(c->owner);
    free_slot(self);
    Py_DECREF(tp); /* instances of heap types own a reference to their type */
}

static PyMethodDef call_methods[] = {
    {"_set_lean", (PyCFunction)call_set_lean, METH_VARARGS,
     "Set the program of the C call (pyad/retracing.py)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot call_slots[] = {
    {Py_tp_call, (void *)call_call},
    {Py_tp_dealloc, (void *)call_dealloc},
    {Py_tp_methods, (void *)call_methods},
    {Py_tp_doc, (void *)"The C part of pyad.Compiled: its call at one point of floats."},
    {0, NULL},
};

static PyType_Spec call_spec = {
    "pyad.CallBase", (int)sizeof(pyad_call_object), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, call_slots,
};

static PyObject *call_base;

int pyad_py_call_base(uintptr_t ns)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int st = PYAD_OK;
    if (!call_base)
        call_base = PyType_FromSpec(&call_spec);
    if (!call_base || PyDict_SetItemString((PyObject *)ns, "CallBase", call_base) < 0) {
        PyErr_Clear();
        st = PYAD_ERR_NOMEM;
    }
    PyGILState_Release(gil);
    return st;
}
