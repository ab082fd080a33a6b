/* pyvar.c -- VarBase, the C base class of pyad.Var: the handle slot, its
 * release when the Var dies, and the arithmetic operators of the hot path.
 * (pybuffers.c holds the buffers these fill; pybridge.c empties them into
 * the tape; pyad/_lib.py, record.py.)
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
 * next sync releases. That is done here,
 * in C, rather than in a Python __del__: CPython runs signal handlers at the
 * start of every Python function, so Ctrl-C could raise KeyboardInterrupt
 * at the first line of a __del__, the exception would be ignored (as every
 * finalizer's is) and the handle lost, with every node behind it. A C
 * finalizer runs no Python code, so no signal handler runs inside it; and it
 * costs no Python frame per op. VarBase is not tracked by the cyclic GC (a
 * handle is a number: no cycles); pyad.Var, a class statement, is (CPython
 * gives every such class GC support), so the operator slots below untrack
 * the Vars they make.
 *
 * The finalizer is tp_finalize, so that pyad/var.py can swap Var.__del__
 * for a Python one while gradients recorded by backward(create_graph=True)
 * exist (that one releases the handle itself), and put this one back. */

typedef struct {
    PyObject_HEAD
    /* The handle, stored XOR its top bit: memory fresh from tp_alloc is
     * zeroed, and zero stands for PYAD_NO_HANDLE (object.__new__(Var),
     * before __init__). pyad.Var, a class statement, allocates with
     * CPython's own tp_alloc, so no alloc of ours could set it. */
    uint64_t stored;
} pyad_var_object;

#define HANDLE_BIAS ((uint64_t)1 << 63)

static inline int64_t var_handle(PyObject *v)
{
    return (int64_t)(((pyad_var_object *)v)->stored ^ HANDLE_BIAS);
}

static inline void var_set_handle(PyObject *v, int64_t h)
{
    ((pyad_var_object *)v)->stored = (uint64_t)h ^ HANDLE_BIAS;
}

static PyObject *var_dead; /* the stack `dead`, one reference, kept for good */
static PyObject *var_free; /* the stack `free` of reserved handles, likewise */
static PyObject *var_base; /* the class */
static PyTypeObject *var_exact; /* pyad.Var: the only class of the fast path */
static allocfunc var_alloc;     /* its tp_alloc */
static freefunc var_free_fn;    /* its tp_free (looked up once: ~1% of a step) */

static void var_finalize(PyObject *self)
{
    int64_t h = var_handle(self);
    if (h == PYAD_NO_HANDLE)
        return; /* __init__ failed before the node existed */
    /* No memory for one more slot: the node stays (a leak, never a crash).
     * Sets no Python error, so the one being raised, if any, is kept. */
    (void)pyad_stack_push(var_dead, h);
}

static void var_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc free_slot;
    /* A subclass's dealloc (Var's) has already called the finalizer. */
    if ((PyObject *)tp == var_base)
        var_finalize(self);
    free_slot = tp == var_exact ? var_free_fn : (freefunc)PyType_GetSlot(tp, Py_tp_free);
    free_slot(self);
    Py_DECREF(tp); /* instances of heap types own a reference to their type */
}


/* A new instance of cls owning the last reserved handle of `free`; NULL
 * with no error set if `free` is empty (direct mode, or a sync is due),
 * NULL with an error set on failure. One C call, so no signal handler runs
 * between taking the handle and a Var owning it: an op interrupted after
 * this drops the Var, whose finalizer queues the handle, and the sync
 * gives the reserved handle back. The handle is taken after the object is
 * allocated, since the allocation may run the GC, finalizers and a sync. */
static PyObject *new_owning(PyTypeObject *cls, allocfunc alloc)
{
    PyObject *v = alloc(cls, 0);
    pyad_stack_object *free_stack = (pyad_stack_object *)var_free;
    if (!v)
        return NULL;
    if (free_stack->n == 0) {
        Py_DECREF(v); /* it has no handle: its finalizer queues nothing */
        return NULL;
    }
    var_set_handle(v, free_stack->h[--free_stack->n]);
    return v;
}

int64_t pyad_exact_var_handle(PyObject *o)
{
    return var_exact && Py_TYPE(o) == var_exact ? var_handle(o) : PYAD_NO_HANDLE;
}

/* Var._fresh(): new_owning for the Python paths (IndexError if `free` is
 * empty). */
static PyObject *var_fresh(PyObject *cls, PyObject *unused)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot((PyTypeObject *)cls, Py_tp_alloc);
    PyObject *v = new_owning((PyTypeObject *)cls, alloc);
    (void)unused;
    if (!v && !PyErr_Occurred())
        PyErr_SetString(PyExc_IndexError, "no reserved handle");
    return v;
}

/* ---- the operators + - * / and unary - ------------------------------------
 *
 * `a * b` on Vars is the hot path of eager recording. As C number slots it
 * runs no Python frame: for an exact Var with an exact Var or float, the
 * slot takes a reserved handle exactly as Var._fresh() does and writes the
 * record record.py's methods append, (code, x0, x1, out), to `pending`
 * (pybuffers.c), so the buffer and its order are the same whichever path
 * recorded an op. Every other case (a subclass of Var, an int, a numpy
 * scalar or array, a non-number, no reserved handle) calls record.py's
 * Python method, registered by ops.py through Var._bind_operator(), so the
 * behaviour there is the Python path's own. */

enum { OPER_ADD, OPER_SUB, OPER_MUL, OPER_DIV, OPER_NEG, N_OPERS };
static const char *const oper_names[N_OPERS] = {"add", "sub", "mul", "div", "neg"};

typedef struct {
    int64_t code[3];    /* the op's record codes: both Vars, x1 a float, x0 a float */
    PyObject *forward;  /* record.py's forward(a, b) (unary: the function) */
    PyObject *reflected; /* reflected(a, b) for b <op> a; NULL when unary */
} pyad_operator;

static pyad_operator opers[N_OPERS];
static PyObject *var_pending;   /* the record buffer `pending` */

/* Operand x of an op as a record holds it: a Var's handle, or a float. */
static void operand(PyObject *x, int64_t *h, double *c)
{
    if (PyFloat_CheckExact(x))
        *c = PyFloat_AsDouble(x);
    else
        *h = var_handle(x);
}

/* Append (code, x0, x1, v's handle) to `pending` (x1 NULL: unary); the
 * handles are read after v was allocated (which may run any code) and a
 * missing one (an uninitialised Var) sends the op to the Python path
 * (NotImplemented, v dropped). v is consumed on failure. Returns v, or
 * NULL (error set), or NotImplemented. */
static PyObject *record(PyObject *v, int64_t code, PyObject *x0, PyObject *x1)
{
    pyad_record *r;
    int64_t h[2] = {0, 0};
    double c[2] = {0.0, 0.0};
    operand(x0, &h[0], &c[0]);
    if (x1)
        operand(x1, &h[1], &c[1]);
    if (h[0] == PYAD_NO_HANDLE || h[1] == PYAD_NO_HANDLE) {
        Py_DECREF(v);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (!(r = pyad_buffer_next(var_pending))) {
        Py_DECREF(v); /* its finalizer queues the reserved handle */
        return NULL;
    }
    r->code = code;
    r->out = var_handle(v);
    r->h[0] = h[0];
    r->h[1] = h[1];
    r->c[0] = c[0];
    r->c[1] = c[1];
    ((pyad_buffer_object *)var_pending)->n++;
    /* It cannot be part of a cycle (an exact Var refers to nothing), so
     * the cyclic GC need not walk it: the demo's ~60k ops per step
     * otherwise fill every young generation it scans. */
    PyObject_GC_UnTrack(v);
    return v;
}

static PyObject *binary(int k, PyObject *a, PyObject *b)
{
    const pyad_operator *o = &opers[k];
    PyTypeObject *ta = Py_TYPE(a), *tb = Py_TYPE(b);
    PyObject *v;
    int kind; /* 0: Var, Var; 1: Var, float; 2: float, Var */
    if (!o->forward)
        Py_RETURN_NOTIMPLEMENTED; /* while pyad is being imported */
    if (ta == var_exact && tb == var_exact)
        kind = 0;
    else if (ta == var_exact && tb == &PyFloat_Type)
        kind = 1;
    else if (ta == &PyFloat_Type && tb == var_exact)
        kind = 2;
    else
        goto python;
    v = new_owning(var_exact, var_alloc);
    if (!v) {
        if (PyErr_Occurred())
            return NULL;
        goto python; /* no reserved handle: the Python path syncs */
    }
    v = record(v, o->code[kind], a, b);
    if (v != Py_NotImplemented)
        return v;
    Py_DECREF(v);
python:
    if (PyObject_TypeCheck(a, var_exact))
        return PyObject_CallFunctionObjArgs(o->forward, a, b, NULL);
    if (PyObject_TypeCheck(b, var_exact))
        return PyObject_CallFunctionObjArgs(o->reflected, b, a, NULL);
    Py_RETURN_NOTIMPLEMENTED;
}

static PyObject *var_add(PyObject *a, PyObject *b) { return binary(OPER_ADD, a, b); }
static PyObject *var_sub(PyObject *a, PyObject *b) { return binary(OPER_SUB, a, b); }
static PyObject *var_mul(PyObject *a, PyObject *b) { return binary(OPER_MUL, a, b); }
static PyObject *var_div(PyObject *a, PyObject *b) { return binary(OPER_DIV, a, b); }

static PyObject *var_neg(PyObject *a)
{
    const pyad_operator *o = &opers[OPER_NEG];
    PyObject *v;
    if (!o->forward) {
        PyErr_SetString(PyExc_TypeError, "pyad is not fully imported");
        return NULL;
    }
    if (Py_TYPE(a) == var_exact) {
        v = new_owning(var_exact, var_alloc);
        if (!v && PyErr_Occurred())
            return NULL;
        if (v) {
            v = record(v, o->code[0], a, NULL);
            if (v != Py_NotImplemented)
                return v;
            Py_DECREF(v);
        }
    }
    return PyObject_CallFunctionObjArgs(o->forward, a, NULL);
}

/* Var._bind_operator(name, code, forward, reflected, pending): the op of
 * operator `name` ("add" "sub" "mul" "div" "neg") records `code`, and the
 * cases the slot does not handle go to forward / reflected (None when
 * unary); called by ops.py on pyad.Var, the class of the fast path. */
static PyObject *var_bind_operator(PyObject *cls, PyObject *args)
{
    const char *name;
    long code;
    PyObject *forward, *reflected, *pending;
    int k = 0;
    if (!PyArg_ParseTuple(args, "slOOO", &name, &code, &forward, &reflected, &pending))
        return NULL;
    while (k < N_OPERS && strcmp(oper_names[k], name) != 0)
        k++;
    if (k == N_OPERS || !PyCallable_Check(forward) || !pyad_is_buffer(pending) ||
        (k != OPER_NEG && !PyCallable_Check(reflected))) {
        PyErr_SetString(PyExc_ValueError, "_bind_operator: not an operator of the fast path");
        return NULL;
    }
    opers[k].code[0] = code;
    opers[k].code[1] = code | PYAD_REC_CONST1;
    opers[k].code[2] = code | PYAD_REC_CONST0;
    Py_INCREF(forward);
    Py_XDECREF(opers[k].forward);
    opers[k].forward = forward;
    if (k != OPER_NEG) {
        Py_INCREF(reflected);
        Py_XDECREF(opers[k].reflected);
        opers[k].reflected = reflected;
    }
    Py_INCREF(cls);
    Py_INCREF(pending);
    Py_XDECREF((PyObject *)var_exact);
    Py_XDECREF(var_pending);
    var_exact = (PyTypeObject *)cls;
    var_alloc = (allocfunc)PyType_GetSlot(var_exact, Py_tp_alloc);
    var_free_fn = (freefunc)PyType_GetSlot(var_exact, Py_tp_free);
    var_pending = pending;
    Py_RETURN_NONE;
}

static PyMethodDef var_methods[] = {
    {"_fresh", (PyCFunction)var_fresh, METH_NOARGS | METH_CLASS,
     "A new Var owning a reserved handle (pyad/record.py)."},
    {"_bind_operator", (PyCFunction)var_bind_operator, METH_VARARGS | METH_CLASS,
     "Set what an operator of the C fast path records (pyad/ops.py)."},
    {NULL, NULL, 0, NULL},
};

/* `_h`, the handle as an int: AttributeError before __init__ set it (and
 * after `del v._h`). Set to anything that is not an int64 (a tampered
 * Var), it holds -1, which C refuses as a handle. */
static PyObject *var_get_h(PyObject *self, void *unused)
{
    int64_t h = var_handle(self);
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
    var_set_handle(self, value ? pyad_handle_of(value) : PYAD_NO_HANDLE);
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
    {Py_nb_add, (void *)var_add},
    {Py_nb_subtract, (void *)var_sub},
    {Py_nb_multiply, (void *)var_mul},
    {Py_nb_true_divide, (void *)var_div},
    {Py_nb_negative, (void *)var_neg},
    {Py_tp_doc, (void *)"The C part of pyad.Var: the handle, its release, + - * / and -x."},
    {0, NULL},
};

static PyType_Spec var_spec = {
    "pyad.VarBase", (int)sizeof(pyad_var_object), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, var_slots,
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
        PyDict_SetItemString((PyObject *)ns, "free", var_free) < 0) {
        PyErr_Clear();
        st = PYAD_ERR_NOMEM;
    }
    PyGILState_Release(gil);
    return st;
}
