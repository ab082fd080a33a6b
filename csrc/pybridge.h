/* pybridge.h -- the record buffer of eager recording, for pyvar.c (the
 * number slots append to it in C). Include after <Python.h>. */
#ifndef PYAD_PYBRIDGE_H
#define PYAD_PYBRIDGE_H

#include <stdint.h>

/* A new, empty record buffer (pyad/_lib.py's `pending`), or NULL with an
 * error set. */
PyObject *pyad_buffer_new(void);

/* Whether o is a record buffer. */
int pyad_is_buffer(PyObject *o);

/* Append the record (code, x0, x1, out) to buffer: operand i is a float
 * where code marks it constant, else a handle (an int). An operand C cannot
 * read makes a record the sync refuses, as pending.append does. Returns 0,
 * or -1 with MemoryError set. GIL held. */
int pyad_buffer_push(PyObject *buffer, int64_t code, PyObject *x0, PyObject *x1,
                     PyObject *out);

#endif
