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
    if (pyad_errmode_anywhere()) /* direct mode: no handles to reserve */
        refill = 0;
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
        /* Checked again with the GIL held: a thread that switched to a
         * raising mode meanwhile emptied `free` (pyerrmode.c), and it must
         * stay empty. */
        int direct = pyad_errmode_anywhere();
        if (direct || !give((pyad_stack_object *)free_list, fresh, refill)) {
            /* give the handles back: C frees a reserved handle released */
            for (size_t i = 0; i < refill; i++)
                pyad_release_locked(fresh[i]);
            if (!direct && st == PYAD_OK)
                st = PYAD_ERR_NOMEM;
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

/* ---- ops recorded now, each given to a Var made before the call ---------
 *
 * A C call that returned a new handle to Python would lose it to Ctrl-C:
 * CPython runs signal handlers as the call returns, before the handle is
 * stored in a Var, and the node would never be released. So the caller
 * makes a Var without a handle first (`out`, an id(); kept alive by the
 * caller's frame) and the handle is stored in it here, under the GIL,
 * before the call returns; from then on its finalizer releases it. */

/* out as a pyad.Var (or a subclass's instance: Var.__init__) that has no
 * handle yet, or NULL (GIL held). */
static PyObject *handleless(uintptr_t out)
{
    PyObject *v = (PyObject *)out;
    if (!v || !pyad_var_exact || !PyType_IsSubtype(Py_TYPE(v), pyad_var_exact) ||
        pyad_var_handle(v) != PYAD_NO_HANDLE)
        return NULL;
    return v;
}

/* Give h to out, when h is a handle (tape's lock held, GIL not held). */
static int64_t give_to(PyObject *out, int64_t h)
{
    if (h >= 0) {
        PyGILState_STATE gil = PyGILState_Ensure();
        pyad_var_set_handle(out, h);
        PyGILState_Release(gil);
    }
    return h;
}

/* Check out, then record (tape's lock held); see pyad.h. */
static int64_t record_to(int op, const int64_t *handles, const double *constants,
                         size_t n, uintptr_t out_id)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *out = handleless(out_id);
    PyGILState_Release(gil);
    if (!out)
        return PYAD_ERR_HANDLE;
    if (op == PYAD_REC_LEAF)
        return give_to(out, pyad_leaf_locked(constants[0]));
    return give_to(out, pyad_nary_locked(op, handles, constants, n));
}

int64_t pyad_py_op(int op, int64_t a, int64_t b, double ca, double cb, int consts,
                   uintptr_t out)
{
    int64_t h[2] = {consts & 1 ? -1 : a, consts & 2 ? -1 : b};
    double c[2] = {ca, cb};
    int arity = pyad_op_arity(op);
    size_t n = arity == 1 || arity == 2 ? (size_t)arity : 0;
    int64_t r;
    if (!n)
        return PYAD_ERR_OP;
    /* a negative handle that is not a constant names no node */
    if ((!(consts & 1) && a < 0) || (n == 2 && !(consts & 2) && b < 0))
        return PYAD_ERR_HANDLE;
    pyad_lock(&pyad_tape_lock);
    r = record_to(op, h, c, n, out);
    pyad_unlock(&pyad_tape_lock);
    return r;
}

int64_t pyad_py_nary_to(int op, const int64_t *handles, const double *constants, size_t n,
                        uintptr_t out)
{
    int64_t r;
    if (op == PYAD_REC_LEAF)
        return PYAD_ERR_OP;
    pyad_lock(&pyad_tape_lock);
    r = record_to(op, handles, constants, n, out);
    pyad_unlock(&pyad_tape_lock);
    return r;
}

int64_t pyad_py_leaf(double value, uintptr_t out)
{
    int64_t r;
    pyad_lock(&pyad_tape_lock);
    r = record_to(PYAD_REC_LEAF, NULL, &value, 1, out);
    pyad_unlock(&pyad_tape_lock);
    return r;
}

/* ---- many new nodes at once, given to a list of Vars made before ------- */

/* vars (an id()) as a list of n pyad.Vars without a handle, else NULL
 * (GIL held). */
static PyObject *handleless_list(uintptr_t vars, size_t n)
{
    PyObject *list = (PyObject *)vars;
    if (!list || !PyList_Check(list) || PyList_Size(list) != (Py_ssize_t)n)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!handleless((uintptr_t)PyList_GetItem(list, (Py_ssize_t)i)))
            return NULL;
    return list;
}

static int check_list(uintptr_t vars, size_t n)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int ok = handleless_list(vars, n) != NULL;
    PyGILState_Release(gil);
    return ok;
}

/* Give h[i] >= 0 to vars[i] (checked again: the list is the caller's, but
 * another thread could reach it by its id; a handle whose Var changed
 * meanwhile stays unowned, a leak, never a crash). */
static void give_all(uintptr_t vars, const int64_t *h, size_t n)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *list = (PyObject *)vars;
    if (PyList_Check(list) && PyList_Size(list) == (Py_ssize_t)n)
        for (size_t i = 0; i < n; i++) {
            PyObject *v = handleless((uintptr_t)PyList_GetItem(list, (Py_ssize_t)i));
            if (v && h[i] >= 0)
                pyad_var_set_handle(v, h[i]);
        }
    PyGILState_Release(gil);
}

int pyad_py_leaves(const double *values, size_t n, int64_t *handles, uintptr_t vars)
{
    int st;
    if (!check_list(vars, n))
        return PYAD_ERR_HANDLE;
    st = pyad_leaves(values, n, handles);
    if (st == PYAD_OK)
        give_all(vars, handles, n);
    return st;
}

int pyad_py_grad_graph(int64_t out, int64_t seed_h, double seed_c, const int64_t *wrt,
                       size_t n_wrt, int stop_at_wrt, int64_t *grad_out, uintptr_t vars)
{
    int st;
    if (!check_list(vars, n_wrt))
        return PYAD_ERR_HANDLE;
    st = pyad_grad_graph(out, seed_h, seed_c, wrt, n_wrt, stop_at_wrt, grad_out);
    if (st == PYAD_OK)
        give_all(vars, grad_out, n_wrt);
    return st;
}

int pyad_py_record_many(int op, size_t arity, size_t n, const int64_t *handles,
                        const double *consts, int64_t *out, size_t *failed, uintptr_t vars)
{
    int st;
    if (!check_list(vars, n))
        return PYAD_ERR_HANDLE;
    st = pyad_record_many(op, arity, n, handles, consts, out, failed);
    if (st == PYAD_OK)
        give_all(vars, out, n);
    return st;
}

int64_t pyad_py_nary(int op, uintptr_t items, uintptr_t out_id)
{
    PyObject *list = (PyObject *)items, *out;
    PyGILState_STATE gil;
    Py_ssize_t n;
    int readable;
    int64_t h = PYAD_PY_OTHER;
    pyad_lock(&pyad_tape_lock);
    gil = PyGILState_Ensure();
    out = handleless(out_id);
    n = PyList_Check(list) ? PyList_Size(list) : -1;
    readable = n > 0;
    if (readable &&
        (!pyad_grow_to((void **)&nary_h, &nary_h_cap, (size_t)n, sizeof *nary_h) ||
         !pyad_grow_to((void **)&nary_c, &nary_c_cap, (size_t)n, sizeof *nary_c)))
        readable = 0, h = PYAD_ERR_NOMEM; /* not "other": the general path
                                           * would only run out of memory later */
    readable = readable && read_operands(list, (size_t)n);
    PyGILState_Release(gil);
    if (readable)
        h = out ? give_to(out, pyad_nary_locked(op, nary_h, nary_c, (size_t)n)) : PYAD_ERR_HANDLE;
    pyad_unlock(&pyad_tape_lock);
    return h;
}
