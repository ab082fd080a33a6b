/* pybridge.h -- the buffers of eager recording (pybuffers.c), shared by
 * the number slots (pyoper.c), the Var classes and their finalizer
 * (pyvar.c) and the sync (pybridge.c).
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

/* Push every handle of stack `from` on stack `to` and empty `from`: all
 * or nothing. Returns 0, or -1 when out of memory (no Python error set). */
int pyad_stack_move(PyObject *from, PyObject *to);

/* Put ErrstateBase and set_errmode (pyerrmode.c) in the dict ns; they
 * use the three buffers given. Returns 0, or -1 with an error set. */
int pyad_errmode_setup(PyObject *ns, PyObject *pending, PyObject *dead, PyObject *free_stack);

/* o as a handle: an int in int64's range other than PYAD_NO_HANDLE, else
 * -1. Never leaves an error set. */
int64_t pyad_handle_of(PyObject *o);

/* o's handle if o is an exact pyad.Var, else PYAD_NO_HANDLE (pyvar.c). */
int64_t pyad_exact_var_handle(PyObject *o);

/* ---- a Var (pyvar.c, pyoper.c) ------------------------------------------ */

/* A Var is one object with one slot, its handle (a C int64: no int object
 * per op). */
typedef struct {
    PyObject_HEAD
    /* The handle, stored XOR its top bit: memory fresh from CPython's
     * generic tp_alloc is zeroed, and zero stands for PYAD_NO_HANDLE
     * (object.__new__ of a subclass of Var, before __init__), with no
     * alloc of ours to set it. */
    uint64_t stored;
} pyad_var_object;

#define PYAD_HANDLE_BIAS ((uint64_t)1 << 63)

static inline int64_t pyad_var_handle(PyObject *v)
{
    return (int64_t)(((pyad_var_object *)v)->stored ^ PYAD_HANDLE_BIAS);
}

static inline void pyad_var_set_handle(PyObject *v, int64_t h)
{
    ((pyad_var_object *)v)->stored = (uint64_t)h ^ PYAD_HANDLE_BIAS;
}

/* pyad.Var, the class of the operators' fast path, and its tp_free; set
 * by Var._bind_operator (pyoper.c). */
extern PyTypeObject *pyad_var_exact;
extern freefunc pyad_var_exact_free;

/* A new instance of cls owning a reserved handle (pyvar.c): see there. */
PyObject *pyad_var_new_owning(PyTypeObject *cls, allocfunc alloc);

/* The number slots and Var._bind_operator (pyoper.c). */
PyObject *pyad_var_add(PyObject *a, PyObject *b);
PyObject *pyad_var_sub(PyObject *a, PyObject *b);
PyObject *pyad_var_mul(PyObject *a, PyObject *b);
PyObject *pyad_var_div(PyObject *a, PyObject *b);
PyObject *pyad_var_neg(PyObject *a);
PyObject *pyad_var_bind_operator(PyObject *cls, PyObject *args);

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
