/* pyad.h -- the public C API of pyad's core.
 *
 * This file is the single source of truth for the cffi binding: the build
 * script (csrc/ffibuild.py) drops the preprocessor lines and hands the rest
 * to ffibuilder.cdef(). Keep it to plain declarations cffi can parse.
 *
 * Model: one process-wide tape of nodes, stored as flat arrays in creation
 * order (a topological order). Python holds *handles*, small integers that
 * name a node; a handle stays valid until released, even when the tape is
 * compacted and nodes move. Every call takes the tape's lock, so the API is
 * safe to call from several threads at once (cffi releases the GIL).
 *
 * Errors: functions returning int64_t give a handle (>= 0) or a negative
 * pyad_status; functions returning int give a pyad_status. Nothing here
 * prints or aborts.
 */
#ifndef PYAD_H
#define PYAD_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PYAD_OK = 0,
    PYAD_ERR_NOMEM = -1,     /* an allocation failed; nothing was changed */
    PYAD_ERR_HANDLE = -2,    /* unknown or released handle */
    PYAD_ERR_OP = -3,        /* unknown op code, or wrong number of operands */
    PYAD_ERR_FULL = -4,      /* the tape cannot index more nodes or edges */
    PYAD_ERR_DIVIDE = -5,    /* divide by zero, with errmode divide=raise */
    PYAD_ERR_OVERFLOW = -6,  /* overflow, with errmode overflow=raise */
    PYAD_ERR_INVALID = -7,   /* invalid operation, with errmode invalid=raise */
    PYAD_ERR_NOT_LEAF = -8,  /* the value of an interior node was assigned */
    PYAD_ERR_UNDERFLOW = -9  /* underflow, with errmode underflow=raise */
} pyad_status;

/* Bits of the per-thread error mode: which IEEE exceptions make an op fail
 * (with the tape left as it was) instead of returning inf or nan. */
enum {
    PYAD_RAISE_DIVIDE = 1,
    PYAD_RAISE_OVERFLOW = 2,
    PYAD_RAISE_INVALID = 4,
    PYAD_RAISE_UNDERFLOW = 8
};

/* The op table, for the Python layer to look ops up by name. */
int pyad_op_count(void);
const char *pyad_op_name(int op);
int pyad_op_arity(int op);          /* 1, 2, or -1 for n-ary */

/* Recording. Each returns the new node's handle or a negative status. */
int64_t pyad_leaf(double value);
int64_t pyad_unary(int op, int64_t a);
int64_t pyad_binary(int op, int64_t a, int64_t b);
int64_t pyad_binary_vc(int op, int64_t a, double b);   /* b is a constant */
int64_t pyad_binary_cv(int op, double a, int64_t b);   /* a is a constant */
/* An n-ary op over n operands: operand i is the node of handles[i] when that
 * is >= 0, else the constant constants[i] (constants may be NULL if no
 * handle is negative). */
int64_t pyad_nary(int op, const int64_t *handles, const double *constants,
                  size_t n);

/* Evaluate an op on plain numbers (no recording); *out receives the value. */
int pyad_eval(int op, const double *x, size_t n, double *out);

/* Drop a handle. The node dies when no handle and no live node uses it. */
void pyad_release(int64_t h);
void pyad_release_many(const int64_t *handles, size_t n);

/* Node state. The getters return NaN for a bad handle. */
double pyad_value(int64_t h);
double pyad_grad(int64_t h);
int pyad_is_leaf(int64_t h);        /* 1, 0, or a negative status */
int pyad_set_value(int64_t h, double value);     /* leaves only */
int pyad_set_grad(int64_t h, double grad);

/* grad += seed * d(out)/d(node) for out and every node out depends on. */
int pyad_backward(int64_t out, double seed);
/* Set grad = 0 on each given node and every node it depends on. */
int pyad_zero_grad(const int64_t *handles, size_t n);

/* Extract the graph between input and output nodes as a flat program, for
 * replay. Node k of the program is PYAD_NODE_INPUT, PYAD_NODE_CONST (a leaf
 * that is not an input; its recorded value is baked in) or an op code, and
 * its operands are program nodes args[arg_start[k] .. arg_start[k+1]).
 * Program nodes are in topological order; inputs stop the walk (an interior
 * node given as input is treated as a free variable). Call once with NULL
 * arrays to learn *n_nodes and *n_args, then with arrays of those sizes
 * (arg_start: n_nodes + 1; input_slot: n_in; output_slot: n_out). */
enum { PYAD_NODE_INPUT = -1, PYAD_NODE_CONST = -2 };
int pyad_export(const int64_t *inputs, size_t n_in,
                const int64_t *outputs, size_t n_out,
                int32_t *node_op, double *node_value, uint32_t *arg_start,
                uint32_t *args, uint32_t *input_slot, uint32_t *output_slot,
                size_t *n_nodes, size_t *n_args);

/* The calling thread's error mode (PYAD_RAISE_* bits); returns the old one. */
int pyad_set_errmode(int mode);
int pyad_get_errmode(void);

/* Introspection, for tests and memory accounting. */
size_t pyad_live_nodes(void);       /* nodes not yet freed */
size_t pyad_tape_length(void);      /* slots in use, live or dead */
size_t pyad_live_handles(void);
size_t pyad_bytes_reserved(void);   /* heap bytes held by the tape */
/* Make the n-th allocation from now fail (n >= 0); n < 0 turns it off. */
void pyad_debug_fail_alloc_after(int64_t n);

#endif
