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
 * The call arrives by vectorcall (PEP 590) where CPython allows it: the
 * arguments as an array, no tuple built for them, which is ~10% of a small
 * call (the tuple's allocation, its garbage-collector count, its free).
 * CPython before 3.12 gives vectorcall to no Python subclass of a type, so
 * pyad.Compiled and pyad.Function are each wrapped by `fast_call_class`
 * (pyad/_lib.py's `fast_call`): a subclass made here, with the vectorcall
 * flag and offset, that takes the Python class's namespace. tp_call stays
 * for every other caller (PyObject_Call, the Python subclasses).
 *
 * CPython's limited API only (the wheel is abi3). The vectorcall flag and
 * the arguments-offset bit join the limited API in 3.12 with the values
 * they have had since 3.8; "__vectorcalloffset__" in a type's members is
 * read by PyType_FromSpec since 3.9.
 */
#define Py_LIMITED_API 0x03090000
#include <Python.h>
#include <structmember.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef Py_TPFLAGS_HAVE_VECTORCALL
#define Py_TPFLAGS_HAVE_VECTORCALL (1UL << 11)
#endif
#ifndef PY_VECTORCALL_ARGUMENTS_OFFSET
#define PY_VECTORCALL_ARGUMENTS_OFFSET ((size_t)1 << (8 * sizeof(size_t) - 1))
#endif

typedef PyObject *(*vector_call)(PyObject *, PyObject *const *, size_t, PyObject *);

#include "program.h"

#define LEAN_INPUTS 16 /* arguments the C call reads (more: the Python path) */

typedef struct {
    PyObject_HEAD
    vector_call vectorcall;   /* call_vector, set by call_new */
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

/* 1 and *out for the value at the float arguments args[0..n), when this
 * path answers; 0 (no error set) when the call goes to `_call`. Runs no
 * Python code, so the program cannot be swapped under it. */
static int fast_value(pyad_call_object *c, PyObject *const *args, Py_ssize_t n, double *out)
{
    double x[LEAN_INPUTS];
    if (!c->prog || n != c->n_in)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!read_double(args[i], &x[i])) {
            PyErr_Clear();
            return 0;
        }
    *out = pyad_program_value(c->prog, x, (size_t)n);
    return !isnan(*out);
}

static PyObject *call_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *items[LEAN_INPUTS];
    Py_ssize_t n = PyTuple_Size(args);
    double v;
    if (n < 0 || n > LEAN_INPUTS || (kwargs && PyDict_Size(kwargs) != 0))
        return call_slow(self, args, kwargs);
    for (Py_ssize_t i = 0; i < n; i++)
        items[i] = PyTuple_GetItem(args, i); /* borrowed; args holds them */
    if (fast_value((pyad_call_object *)self, items, n, &v))
        return PyFloat_FromDouble(v);
    return call_slow(self, args, kwargs);
}

/* The vectorcall form: args[0..n) positional, then the values of the
 * keyword names `kwnames` (NULL without). The path to `_call` builds the
 * tuple and dict that tp_call would have had. */
static PyObject *call_vector(PyObject *self, PyObject *const *args, size_t nargsf,
                             PyObject *kwnames)
{
    Py_ssize_t n = (Py_ssize_t)(nargsf & ~PY_VECTORCALL_ARGUMENTS_OFFSET), nk = 0;
    PyObject *tuple, *kwargs = NULL, *r = NULL;
    double v;
    if (kwnames && (nk = PyTuple_Size(kwnames)) < 0)
        return NULL;
    if (nk == 0 && fast_value((pyad_call_object *)self, args, n, &v))
        return PyFloat_FromDouble(v);
    if (!(tuple = PyTuple_New(n)))
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(args[i]);
        PyTuple_SetItem(tuple, i, args[i]); /* steals the reference */
    }
    if (nk > 0) {
        if (!(kwargs = PyDict_New()))
            goto done;
        for (Py_ssize_t j = 0; j < nk; j++)
            if (PyDict_SetItem(kwargs, PyTuple_GetItem(kwnames, j), args[n + j]) < 0)
                goto done;
    }
    r = call_slow(self, tuple, kwargs);
done:
    Py_DECREF(tuple);
    Py_XDECREF(kwargs);
    return r;
}

/* Every instance (of CallBase's subclasses, all heap types) gets the
 * vectorcall entry; the arguments are __init__'s. */
static PyObject *call_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
    PyObject *self = alloc ? alloc(type, 0) : NULL;
    (void)args;
    (void)kwargs;
    if (self)
        ((pyad_call_object *)self)->vectorcall = call_vector;
    else if (!PyErr_Occurred())
        PyErr_NoMemory();
    return self;
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

static PyMemberDef call_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(pyad_call_object, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot call_slots[] = {
    {Py_tp_call, (void *)call_call},
    {Py_tp_new, (void *)call_new},
    {Py_tp_members, (void *)call_members},
    {Py_tp_dealloc, (void *)call_dealloc},
    {Py_tp_methods, (void *)call_methods},
    {Py_tp_doc, (void *)"The C part of pyad.Compiled: its call at one point of floats."},
    {0, NULL},
};

static PyType_Spec call_spec = {
    "pyad.CallBase", (int)sizeof(pyad_call_object), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_VECTORCALL, call_slots,
};

static PyObject *call_base; /* CallBase, made once */

/* fast_call_class(cls, name): a subclass of cls (a Python subclass of
 * CallBase) whose instances take the vectorcall, named `name`
 * ("module.qualname"); pyad/_lib.py copies cls's namespace into it.
 * Before 3.12 a spec-made type keeps a pointer to its spec's name, so the
 * names live here, one per class made. */
#define FAST_CLASSES 4
static char fast_names[FAST_CLASSES][128];
static int fast_made;

static PyType_Slot fast_slots[] = {
    {Py_tp_call, (void *)call_call},
    {Py_tp_members, (void *)call_members},
    {0, NULL},
};

static PyObject *fast_call_class(PyObject *unused, PyObject *args)
{
    PyObject *cls, *bases, *made = NULL;
    const char *name;
    PyType_Spec spec = {NULL, 0, 0,
                        Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_VECTORCALL,
                        fast_slots};
    (void)unused;
    if (!PyArg_ParseTuple(args, "Os", &cls, &name))
        return NULL;
    if (!PyType_Check(cls) || !call_base || PyObject_IsSubclass(cls, call_base) != 1) {
        PyErr_SetString(PyExc_TypeError, "fast_call_class: not a subclass of CallBase");
        return NULL;
    }
    if (fast_made == FAST_CLASSES || strlen(name) >= sizeof fast_names[0]) {
        PyErr_SetString(PyExc_ValueError, "fast_call_class: no room for this class");
        return NULL;
    }
    strcpy(fast_names[fast_made], name);
    spec.name = fast_names[fast_made];
    if ((bases = PyTuple_Pack(1, cls))) {
        made = PyType_FromSpecWithBases(&spec, bases);
        Py_DECREF(bases);
    }
    if (made)
        fast_made++;
    return made;
}

static PyMethodDef fast_call_def = {
    "fast_call_class", fast_call_class, METH_VARARGS,
    "A subclass of cls whose instances CPython calls by vectorcall (pyad/_lib.py).",
};

int pyad_py_call_base(uintptr_t ns)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *maker;
    int st = PYAD_OK;
    if (!call_base)
        call_base = PyType_FromSpec(&call_spec);
    maker = PyCFunction_NewEx(&fast_call_def, NULL, NULL);
    if (!call_base || !maker || PyDict_SetItemString((PyObject *)ns, "CallBase", call_base) < 0
        || PyDict_SetItemString((PyObject *)ns, "fast_call_class", maker) < 0) {
        PyErr_Clear();
        st = PYAD_ERR_NOMEM;
    }
    Py_XDECREF(maker);
    PyGILState_Release(gil);
    return st;
}
