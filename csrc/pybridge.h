/* pybridge.h -- the buffers of eager recording (pybuffers.c), shared by
 * the number slots and finalizer (pyvar.c) and the sync (pybridge.c).
 * Include after <Python.h>. Everything here runs with the GIL held. */
#ifndef PYAD_PYBRIDGE_H
#define PYAD_PYBRIDGE_H

#include <stdint.h>

#include "tape.h"

/* A Var with no handle yet (__init__ has not set it). A handle Python sets
 * that is not an int64 other than this is stored as -1, which C refuses. */
#define PYAD_NO_HANDLE INT64_MIN

/* `pending`: rec[0..n) are the ops buffered since the last sync, in order. */
typedef struct {
    PyObject_HEAD
    pyad_record *rec;
    size_t n, cap;
} pyad_buffer_object;

/* `free` and `dead`: h[0..n), a stack. */
typedef struct {
    PyObject_HEAD
    int64_t *h;
    size_t n, cap;
} pyad_stack_object;

/* New, empty buffers, or NULL with an error set. */
PyObject *pyad_buffer_new(void);
PyObject *pyad_stack_new(void);
int pyad_is_buffer(PyObject *o);
int pyad_is_stack(PyObject *o);

/* The slot for the next record of buffer (the caller fills it in and
 * counts it: ->n++), or NULL with MemoryError set. */
pyad_record *pyad_buffer_next(PyObject *buffer);

/* Push h; returns 0, or -1 when out of memory (no Python error set: the
 * finalizer calls it). */
int pyad_stack_push(PyObject *stack, int64_t h);

/* o as a handle: an int in int64's range other than PYAD_NO_HANDLE, else
 * -1. Never leaves an error set. */
int64_t pyad_handle_of(PyObject *o);

/* o's handle if o is an exact pyad.Var, else PYAD_NO_HANDLE (pyvar.c). */
int64_t pyad_exact_var_handle(PyObject *o);

/* Grow *p (of *cap elements of size bytes) to at least need; 0 if out of
 * memory (*p unchanged). */
int pyad_grow_to(void **p, size_t *cap, size_t need, size_t size);

/* Whether operand i of a record with code is a constant (else a handle). */
static inline int pyad_rec_is_const(int64_t code, int i)
{
    if (code == PYAD_REC_LEAF)
        return i == 0;
    return (code & (i ? PYAD_REC_CONST1 : PYAD_REC_CONST0)) != 0;
}

#endif
