/* pyvar.c -- VarBase, the C base class of pyad.Var: the handle slot, its
 * release when the Var dies, and the arithmetic operators of the hot path.
 * (the operators are in pyoper.c; pybuffers.c holds the buffers they fill;
 * pybridge.c empties them into the tape; pyad/_lib.py, record.py.)
 *
 * CPython's limited API only (the wheel is abi3).
 */
#define Py_LIMITED_API 0x03090000
#include <Python.h>

#include <stddef.h>
#include <string.h>

#include "pybridge.h"

/* A Var is one object with one slot, its handle (a C int64: no int object
 * per op). When it dies its handle goes on the stack `dead`, which the
 * next sync releases. That is done here, in C, rather than in a Python
 * __del__: CPython runs signal handlers at the start of every Python
 * function, so Ctrl-C could raise KeyboardInterrupt at the first line of a
 * __del__, the exception would be ignored (as every finalizer's is) and the
 * handle lost, with every node behind it. A C finalizer runs no Python code,
 * so no signal handler runs inside it; and it costs no Python frame per op.
 *
 * pyad.Var itself is made here too (var_class), not by its class statement:
 * CPython gives every class statement's instances a GC header, tracking,
 * and subtype_dealloc's generic path (finalizer call, slot clearing,
 * base dealloc), ~10% of a step of scalar code that makes a Var per op. A
 * handle is a number, so a Var refers to nothing and needs no GC: the type
 * made here has none, allocates with one malloc and frees in var_dealloc.
 * pyad/var.py writes the class statement and _lib.py copies its namespace
 * into this type (as pycall.c's fast_call_class does for Compiled).
 *
 * Gradients recorded by backward(create_graph=True) are Vars kept in the
 * dict pyad.var.graph_grads under the handle of the Var whose gradient they
 * are; the finalizer drops a dying Var's entry itself, in C, before its
 * handle can be reused. A Python hook could be cut short by Ctrl-C at its
 * first line, and the stale entry would then be read as the gradient of
 * the next Var given that handle. */

static PyObject *var_dead; /* the stack `dead`, one reference, kept for good */
static PyObject *var_free; /* the stack `free` of reserved handles, likewise */
static PyObject *var_base; /* the class */
static PyTypeObject *var_made;  /* the class var_class made last */

static PyObject *graph_grads; /* a dict, or NULL: see the top */

/* Delete graph_grads[h] if it is there. No Python code runs before the
 * entry is gone (the keys are ints, the dict exact); then the gradient Var
 * is dropped, and its own death comes back here with the dict consistent.
 * A failure (no memory for the key) is reported as unraisable; a Python
 * error being raised is kept. */
static void drop_graph_grad(int64_t h)
{
    PyObject *type, *value, *tb, *key;
    int found;
    if (!graph_grads || PyDict_Size(graph_grads) == 0)
        return; /* the common case: no gradient Vars */
    PyErr_Fetch(&type, &value, &tb);
    Py_INCREF(graph_grads); /* set_graph_grads may replace it meanwhile */
    key = PyLong_FromLongLong((long long)h);
    found = key ? PyDict_Contains(graph_grads, key) : -1;
    if (found < 0 || (found && PyDict_DelItem(graph_grads, key) < 0))
        PyErr_WriteUnraisable(graph_grads);
    Py_XDECREF(key);
    Py_DECREF(graph_grads);
    PyErr_Restore(type, value, tb);
}

/* Queue the handle and forget it, so that a second call does nothing: the
 * finalizer of a subclass instance runs from subtype_dealloc, and again
 * from var_dealloc, which also catches a subclass whose __del__ replaced
 * this one. The gradient entry goes first (the handle is not reusable
 * until a sync after the push). It sets no Python error. */
static void var_finalize(PyObject *self)
{
    int64_t h = pyad_var_handle(self);
    if (h == PYAD_NO_HANDLE)
        return; /* __init__ failed before the node existed, or done */
    drop_graph_grad(h);
    pyad_var_set_handle(self, PYAD_NO_HANDLE);
    /* No memory for one more slot: the node stays (a leak, never a crash). */
    (void)pyad_stack_push(var_dead, h);
}

static void var_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc free_slot;
    var_finalize(self);
    free_slot = tp == pyad_var_exact ? pyad_var_exact_free : (freefunc)PyType_GetSlot(tp, Py_tp_free);
    free_slot(self);
    Py_DECREF(tp); /* instances of heap types own a reference to their type */
}

/* tp_alloc of pyad.Var: one malloc, no GC header (see the top). Another
 * type (never made, but possible) takes the generic allocation. */
static PyObject *var_exact_alloc(PyTypeObject *tp, Py_ssize_t nitems)
{
    PyObject *o;
    if (tp != var_made || nitems != 0)
        return PyType_GenericAlloc(tp, nitems);
    if (!(o = PyObject_Malloc(sizeof(pyad_var_object))))
        return PyErr_NoMemory();
    ((pyad_var_object *)o)->stored = 0; /* no handle yet */
    return PyObject_Init(o, tp);        /* takes a reference to tp */
}

/* A new instance of cls owning the last reserved handle of `free`; NULL
 * with no error set if `free` is empty (direct mode, or a sync is due),
 * NULL with an error set on failure. One C call, so no signal handler runs
 * between taking the handle and a Var owning it: an op interrupted after
 * this drops the Var, whose finalizer queues the handle, and the sync
 * gives the reserved handle back. The handle is taken after the object is
 * allocated, since the allocation may run the GC, finalizers and a sync. */
PyObject *pyad_var_new_owning(PyTypeObject *cls, allocfunc alloc)
{
    PyObject *v = alloc(cls, 0);
    pyad_stack_object *free_stack = (pyad_stack_object *)var_free;
    if (!v)
        return NULL;
    if (free_stack->n == 0) {
        Py_DECREF(v); /* it has no handle: its finalizer queues nothing */
        return NULL;
    }
    pyad_var_set_handle(v, free_stack->h[--free_stack->n]);
    return v;
}

int64_t pyad_exact_var_handle(PyObject *o)
{
    return pyad_var_exact && Py_TYPE(o) == pyad_var_exact ? pyad_var_handle(o) : PYAD_NO_HANDLE;
}

/* Var._fresh(): new_owning for the Python paths (IndexError if `free` is
 * empty). */
static PyObject *var_fresh(PyObject *cls, PyObject *unused)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot((PyTypeObject *)cls, Py_tp_alloc);
    PyObject *v = pyad_var_new_owning((PyTypeObject *)cls, alloc);
    (void)unused;
    if (!v && !PyErr_Occurred())
        PyErr_SetString(PyExc_IndexError, "no reserved handle");
    return v;
}

/* v._take_reserved(): v, which has no handle yet, takes the last handle
 * of `free` and returns it (IndexError if `free` is empty), in one C
 * call: Var.__init__ cannot be interrupted between the two. */
static PyObject *var_take_reserved(PyObject *self, PyObject *unused)
{
    pyad_stack_object *free_stack = (pyad_stack_object *)var_free;
    int64_t h;
    (void)unused;
    if (pyad_var_handle(self) != PYAD_NO_HANDLE) {
        PyErr_SetString(PyExc_TypeError, "this Var has a handle already");
        return NULL;
    }
    if (free_stack->n == 0) {
        PyErr_SetString(PyExc_IndexError, "no reserved handle");
        return NULL;
    }
    h = free_stack->h[--free_stack->n];
    pyad_var_set_handle(self, h);
    return PyLong_FromLongLong((long long)h); /* on failure self still owns h */
}

static PyMethodDef var_methods[] = {
    {"_fresh", (PyCFunction)var_fresh, METH_NOARGS | METH_CLASS,
     "A new Var owning a reserved handle (pyad/record.py)."},
    {"_take_reserved", (PyCFunction)var_take_reserved, METH_NOARGS,
     "Take a reserved handle and return it (Var.__init__)."},
    {"_bind_operator", (PyCFunction)pyad_var_bind_operator, METH_VARARGS | METH_CLASS,
     "Set what an operator of the C fast path records (pyad/ops.py)."},
    {NULL, NULL, 0, NULL},
};

/* `_h`, the handle as an int: AttributeError before __init__ set it (and
 * after `del v._h`). Set to anything that is not an int64 (a tampered
 * Var), it holds -1, which C refuses as a handle. */
static PyObject *var_get_h(PyObject *self, void *unused)
{
    int64_t h = pyad_var_handle(self);
    (void)unused;
    if (h == PYAD_NO_HANDLE) {
        PyErr_SetString(PyExc_AttributeError, "_h");
        return NULL;
    }
    return PyLong_FromLongLong((long long)h);
}

static int var_set_h(PyObject *self, PyObject *value, void *unused)
{
    (void)unused;
    pyad_var_set_handle(self, value ? pyad_handle_of(value) : PYAD_NO_HANDLE);
    return 0;
}

static PyGetSetDef var_getset[] = {
    {"_h", var_get_h, var_set_h, "the node's handle in the C core", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot var_slots[] = {
    {Py_tp_finalize, (void *)var_finalize},
    {Py_tp_dealloc, (void *)var_dealloc},
    {Py_tp_getset, (void *)var_getset},
    {Py_tp_methods, (void *)var_methods},
    {Py_nb_add, (void *)pyad_var_add},
    {Py_nb_subtract, (void *)pyad_var_sub},
    {Py_nb_multiply, (void *)pyad_var_mul},
    {Py_nb_true_divide, (void *)pyad_var_div},
    {Py_nb_negative, (void *)pyad_var_neg},
    {Py_tp_doc, (void *)"The C part of pyad.Var: the handle, its release, + - * / and -x."},
    {0, NULL},
};

static PyType_Spec var_spec = {
    "pyad.VarBase", (int)sizeof(pyad_var_object), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, var_slots,
};

/* var_class(): pyad.Var, a subclass of VarBase with no GC support (see
 * the top); pyad/_lib.py copies the class statement's namespace into it.
 * The name is the class statement's (pyad/var.py). */
static PyType_Slot var_made_slots[] = {
    {Py_tp_alloc, (void *)var_exact_alloc},
    {Py_tp_dealloc, (void *)var_dealloc},
    {Py_tp_free, (void *)PyObject_Free},
    {0, NULL},
};

static PyType_Spec var_made_spec = {
    "pyad.var.Var", (int)sizeof(pyad_var_object), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, var_made_slots,
};

static PyObject *var_class(PyObject *unused, PyObject *noargs)
{
    PyObject *bases = PyTuple_Pack(1, var_base), *made;
    (void)unused;
    (void)noargs;
    if (!bases)
        return NULL;
    made = PyType_FromSpecWithBases(&var_made_spec, bases);
    Py_DECREF(bases);
    if (made) {
        Py_INCREF(made); /* kept for good, as the class is */
        var_made = (PyTypeObject *)made;
    }
    return made;
}

/* set_graph_grads(d): the dict whose entry, keyed by its handle, goes
 * when a Var dies (an exact dict, so that deleting runs no Python code;
 * None: none). Returns the previous one, or None. */
static PyObject *set_graph_grads(PyObject *unused, PyObject *d)
{
    PyObject *old = graph_grads;
    (void)unused;
    if (d != Py_None && !PyDict_CheckExact(d)) {
        PyErr_SetString(PyExc_TypeError, "set_graph_grads: not a dict");
        return NULL;
    }
    if (d == Py_None) {
        graph_grads = NULL;
    } else {
        Py_INCREF(d);
        graph_grads = d;
    }
    if (!old)
        Py_RETURN_NONE;
    return old; /* the reference this file held */
}

static PyMethodDef var_functions[] = {
    {"var_class", var_class, METH_NOARGS,
     "pyad.Var as a class with no GC support (pyad/_lib.py)."},
    {"set_graph_grads", set_graph_grads, METH_O,
     "Drop d[handle] when a Var dies (d a dict, or None); returns the previous one."},
};

int pyad_py_var_base(uintptr_t ns)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int st = PYAD_OK;
    static PyObject *pending; /* made once, however often this is called */
    if (!var_base && (var_base = PyType_FromSpec(&var_spec))) {
        pending = pyad_buffer_new();
        var_dead = pyad_stack_new();
        var_free = pyad_stack_new();
    }
    if (!var_base || !pending || !var_dead || !var_free ||
        PyDict_SetItemString((PyObject *)ns, "VarBase", var_base) < 0 ||
        PyDict_SetItemString((PyObject *)ns, "pending", pending) < 0 ||
        PyDict_SetItemString((PyObject *)ns, "dead", var_dead) < 0 ||
        PyDict_SetItemString((PyObject *)ns, "free", var_free) < 0 ||
        pyad_errmode_setup((PyObject *)ns, pending, var_dead, var_free) < 0) {
        PyErr_Clear();
        st = PYAD_ERR_NOMEM;
    }
    for (size_t k = 0; st == PYAD_OK && k < sizeof var_functions / sizeof var_functions[0]; k++) {
        PyObject *fn = PyCFunction_NewEx(&var_functions[k], NULL, NULL);
        if (!fn || PyDict_SetItemString((PyObject *)ns, var_functions[k].ml_name, fn) < 0) {
            PyErr_Clear();
            st = PYAD_ERR_NOMEM;
        }
        Py_XDECREF(fn);
    }
    PyGILState_Release(gil);
    return st;
}
