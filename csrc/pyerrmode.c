/* pyerrmode.c -- a thread's error mode, switched from Python in one step
 * that Ctrl-C cannot cut: ErrstateBase, the C base of pyad.errstate (its
 * __enter__ and __exit__), and set_errmode, which pyad/_lib.py gives
 * Python as lib.pyad_set_errmode.
 *
 * Switching to a raising mode is three steps: hand the buffered ops to the
 * tape (they were recorded under the old mode, and must be checked under
 * it), give back the reserved handles of `free` (so that every op of the
 * thread takes the direct path, which checks at the op), and set the mode.
 * Done in Python, CPython could run a signal handler between any two of
 * them (3.11 checks at every call's return and every function's start),
 * and in a Python __exit__ even before the first: the thread would be left
 * raising after its `with` (every later error raised), or raising with
 * reserved handles (errors reported at the next sync instead of at the
 * op). Here the steps run in C, where no signal handler runs, and a `with`
 * calls a C __enter__/__exit__ with no Python frame: once __enter__ has
 * returned, __exit__ runs whole.
 *
 * While any thread raises, pybridge.c's sync reserves no handles, so
 * `free` stays empty for every thread. Both that test and the steps here
 * run with the GIL held, so a refill cannot slip in between them.
 *
 * CPython's limited API only (the wheel is abi3).
 */
#define Py_LIMITED_API 0x03090000
#include <Python.h>

#include "pybridge.h"

static PyObject *rec_pending, *rec_dead, *rec_free; /* _lib.py's buffers */

/* Report a failed sync's status through pyad's one helper: pyad._lib's
 * sync_failed raises the exception of pyad.errors for it. */
static void report_sync(int st)
{
    PyObject *lib = PyImport_ImportModule("pyad._lib"), *r = NULL;
    if (lib) {
        r = PyObject_CallMethod(lib, "sync_failed", "i", st);
        Py_DECREF(lib);
    }
    if (r) { /* it returned: it should not have */
        Py_DECREF(r);
        PyErr_Format(PyExc_RuntimeError, "pyad: sync failed with status %d", st);
    }
}

/* Make `mode` this thread's error mode (the three steps at the top).
 * Returns the mode before, or -1 with an error set and the mode unchanged.
 * A failed sync (an earlier buffered op) is reported, and the mode left,
 * when sync_st is NULL; else the buffer is empty all the same, the mode is
 * switched, and the status goes to *sync_st for the caller to report once
 * its own bookkeeping is done (__exit__ must switch whatever happened). */
static int switch_mode(int mode, int *sync_st)
{
    int old = pyad_get_errmode(), st = PYAD_OK;
    int64_t failed;
    if (((pyad_buffer_object *)rec_pending)->n) {
        /* the tape's lock is taken without the GIL (pybridge.c) */
        PyThreadState *ts = PyEval_SaveThread();
        st = pyad_py_sync((uintptr_t)rec_pending, (uintptr_t)rec_dead,
                          (uintptr_t)rec_free, 0, &failed);
        PyEval_RestoreThread(ts);
    }
    if (st != PYAD_OK && !sync_st) {
        report_sync(st);
        return -1;
    }
    if (sync_st)
        *sync_st = st;
    if (!old && mode && pyad_stack_move(rec_free, rec_dead) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    pyad_set_errmode(mode);
    return old;
}

/* set_errmode(mode) -> the mode before. */
static PyObject *set_errmode(PyObject *unused, PyObject *arg)
{
    int old, mode = (int)PyLong_AsLong(arg);
    (void)unused;
    if ((mode == -1 && PyErr_Occurred()) || (old = switch_mode(mode, NULL)) < 0)
        return NULL;
    return PyLong_FromLong(old);
}

/* ---- ErrstateBase ------------------------------------------------------ */

/* The modes to restore, per thread: self._saved is a dict from a thread's
 * ident to the list of the modes it had at each entry still open (entries
 * nest per thread). The list of this thread (borrowed, NULL if none; with
 * create, made if missing), or NULL with an error set. *key gets the key. */
static PyObject *saved_modes(PyObject *self, int create, PyObject **saved, PyObject **key)
{
    PyObject *list;
    *key = NULL;
    if (!(*saved = PyObject_GetAttrString(self, "_saved")))
        return NULL;
    if (!PyDict_CheckExact(*saved)) {
        PyErr_SetString(PyExc_TypeError, "errstate: _saved must be a dict");
        return NULL;
    }
    if (!(*key = PyLong_FromUnsignedLong(PyThread_get_thread_ident())))
        return NULL;
    list = PyDict_GetItemWithError(*saved, *key);
    if (list || PyErr_Occurred() || !create)
        return list;
    if (!(list = PyList_New(0)))
        return NULL;
    if (PyDict_SetItem(*saved, *key, list) < 0) {
        Py_DECREF(list);
        return NULL;
    }
    Py_DECREF(list); /* the dict holds it */
    return list;
}

static int int_attr(PyObject *self, const char *name, int *out)
{
    PyObject *o = PyObject_GetAttrString(self, name);
    long v;
    if (!o)
        return -1;
    v = PyLong_AsLong(o);
    Py_DECREF(o);
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = (int)v;
    return 0;
}

/* __enter__: remember this thread's mode, then switch to it with the bits
 * _set_bits set and _clear_bits cleared. */
static PyObject *errstate_enter(PyObject *self, PyObject *unused)
{
    PyObject *saved = NULL, *key = NULL, *list, *old_obj;
    int set, clear, old;
    Py_ssize_t n;
    (void)unused;
    if (int_attr(self, "_set_bits", &set) < 0 || int_attr(self, "_clear_bits", &clear) < 0)
        return NULL;
    old = pyad_get_errmode();
    list = saved_modes(self, 1, &saved, &key);
    if (!list || !(old_obj = PyLong_FromLong(old)))
        goto fail;
    if (PyList_Append(list, old_obj) < 0) {
        Py_DECREF(old_obj);
        goto fail;
    }
    Py_DECREF(old_obj);
    if (switch_mode((old | set) & ~clear, NULL) < 0) {
        /* not entered: forget the entry (a shrinking list does not fail) */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        n = PyList_Size(list);
        PyList_SetSlice(list, n - 1, n, NULL);
        PyErr_Restore(type, value, tb);
        goto fail;
    }
    Py_DECREF(saved);
    Py_DECREF(key);
    Py_INCREF(self);
    return self;
fail:
    Py_XDECREF(saved);
    Py_XDECREF(key);
    return NULL;
}

/* __exit__: back to the mode this thread had at its latest open entry. */
static PyObject *errstate_exit(PyObject *self, PyObject *args)
{
    PyObject *saved = NULL, *key = NULL, *list;
    Py_ssize_t n;
    long old;
    int st;
    (void)args;
    list = saved_modes(self, 0, &saved, &key);
    if (!list) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError,
                            "errstate: __exit__ on a thread with no open __enter__ of it");
        goto fail;
    }
    n = PyList_Size(list);
    if (n < 1 || (old = PyLong_AsLong(PyList_GetItem(list, n - 1))) == -1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "errstate: no mode saved to restore");
        goto fail;
    }
    if (switch_mode((int)old, &st) < 0)
        goto fail; /* still open: the entry stays */
    PyList_SetSlice(list, n - 1, n, NULL);
    if (n == 1 && PyDict_DelItem(saved, key) < 0)
        PyErr_Clear(); /* an empty list left behind is harmless */
    Py_DECREF(saved);
    Py_DECREF(key);
    if (st != PYAD_OK) {
        report_sync(st);
        return NULL;
    }
    Py_RETURN_FALSE;
fail:
    Py_XDECREF(saved);
    Py_XDECREF(key);
    return NULL;
}

static PyMethodDef errstate_methods[] = {
    {"__enter__", errstate_enter, METH_NOARGS, "Switch this thread's error mode."},
    {"__exit__", errstate_exit, METH_VARARGS, "Restore this thread's error mode."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot errstate_slots[] = {
    {Py_tp_methods, (void *)errstate_methods},
    {Py_tp_doc, (void *)"The C base of pyad.errstate (csrc/pyerrmode.c)."},
    {0, NULL},
};

static PyType_Spec errstate_spec = {
    "pyad.ErrstateBase", (int)sizeof(PyObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, errstate_slots,
};

static PyMethodDef set_errmode_def = {
    "set_errmode", set_errmode, METH_O,
    "Make mode this thread's error mode; returns the mode before."};

int pyad_errmode_setup(PyObject *ns, PyObject *pending, PyObject *dead, PyObject *free_stack)
{
    static PyObject *base; /* made once */
    PyObject *fn;
    int bad;
    rec_pending = pending;
    rec_dead = dead;
    rec_free = free_stack;
    if (!base && !(base = PyType_FromSpec(&errstate_spec)))
        return -1;
    if (PyDict_SetItemString(ns, "ErrstateBase", base) < 0 ||
        !(fn = PyCFunction_NewEx(&set_errmode_def, NULL, NULL)))
        return -1;
    bad = PyDict_SetItemString(ns, "set_errmode", fn) < 0;
    Py_DECREF(fn);
    return bad ? -1 : 0;
}
