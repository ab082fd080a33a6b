/* pyoper.c -- + - * / and unary - of pyad.Var as C number slots: the hot
 * path of eager recording (pyvar.c makes the classes; pybuffers.c holds the
 * buffer they fill).
 *
 * CPython's limited API only (the wheel is abi3).
 */
#define Py_LIMITED_API 0x03090000
#include <Python.h>

#include <string.h>

#include "pybridge.h"

PyTypeObject *pyad_var_exact;   /* pyad.Var: the only class of the fast path */
freefunc pyad_var_exact_free;   /* its tp_free (looked up once: ~1% of a step) */
static int var_exact_gc;        /* it has GC support (a class statement's) */
static allocfunc var_alloc;     /* its tp_alloc */

/* `a * b` on Vars is the hot path of eager recording. As C number slots it
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
        *h = pyad_var_handle(x);
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
    r->out = pyad_var_handle(v);
    r->h[0] = h[0];
    r->h[1] = h[1];
    r->c[0] = c[0];
    r->c[1] = c[1];
    ((pyad_buffer_object *)var_pending)->n++;
    /* pyad.Var as var_class makes it has no GC support. Were the class of
     * the fast path a class statement's: it cannot be part of a cycle (an
     * exact Var refers to nothing), so the cyclic GC need not walk it (the
     * demo's ~60k ops per step would fill every young generation). */
    if (var_exact_gc)
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
    if (ta == pyad_var_exact && tb == pyad_var_exact)
        kind = 0;
    else if (ta == pyad_var_exact && tb == &PyFloat_Type)
        kind = 1;
    else if (ta == &PyFloat_Type && tb == pyad_var_exact)
        kind = 2;
    else
        goto python;
    v = pyad_var_new_owning(pyad_var_exact, var_alloc);
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
    if (PyObject_TypeCheck(a, pyad_var_exact))
        return PyObject_CallFunctionObjArgs(o->forward, a, b, NULL);
    if (PyObject_TypeCheck(b, pyad_var_exact))
        return PyObject_CallFunctionObjArgs(o->reflected, b, a, NULL);
    Py_RETURN_NOTIMPLEMENTED;
}

PyObject *pyad_var_add(PyObject *a, PyObject *b) { return binary(OPER_ADD, a, b); }
PyObject *pyad_var_sub(PyObject *a, PyObject *b) { return binary(OPER_SUB, a, b); }
PyObject *pyad_var_mul(PyObject *a, PyObject *b) { return binary(OPER_MUL, a, b); }
PyObject *pyad_var_div(PyObject *a, PyObject *b) { return binary(OPER_DIV, a, b); }

PyObject *pyad_var_neg(PyObject *a)
{
    const pyad_operator *o = &opers[OPER_NEG];
    PyObject *v;
    if (!o->forward) {
        PyErr_SetString(PyExc_TypeError, "pyad is not fully imported");
        return NULL;
    }
    if (Py_TYPE(a) == pyad_var_exact) {
        v = pyad_var_new_owning(pyad_var_exact, var_alloc);
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
PyObject *pyad_var_bind_operator(PyObject *cls, PyObject *args)
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
    Py_XDECREF((PyObject *)pyad_var_exact);
    Py_XDECREF(var_pending);
    pyad_var_exact = (PyTypeObject *)cls;
    var_exact_gc = PyType_IS_GC(pyad_var_exact);
    var_alloc = (allocfunc)PyType_GetSlot(pyad_var_exact, Py_tp_alloc);
    pyad_var_exact_free = (freefunc)PyType_GetSlot(pyad_var_exact, Py_tp_free);
    var_pending = pending;
    Py_RETURN_NONE;
}
