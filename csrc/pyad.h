/* pyad.h -- the public C API of pyad's core.
 *
 * This file is the single source of truth for the cffi binding: the build
 * script (csrc/ffibuild.py) drops the preprocessor lines and hands the rest
 * to ffibuilder.cdef(), with the pyad_*.h headers it includes read in place
 * (pyad_higher.h). Keep them to plain declarations cffi can parse.
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

/* The op registry (csrc/oplist.h), for the Python layer, which builds its
 * functions, methods and numpy hooks from it. Op codes are stable and dense
 * from 0; nothing persisted stores them (pickles store names). */
int pyad_op_count(void);
const char *pyad_op_name(int op);   /* "" for an unknown code */
int pyad_op_arity(int op);          /* 1, 2, 3, or -1 for n-ary; 0: unknown */
/* Which second partials may be non-zero (Hessian sparsity). */
enum {
    PYAD_HESS_NONE = 0,   /* none: linear or piecewise-constant derivative */
    PYAD_HESS_FULL = 1,   /* any pair of operands */
    PYAD_HESS_CROSS = 2,  /* only between different operands (mul) */
    PYAD_HESS_DOT = 3     /* only between w_i and x_i (dot) */
};
int pyad_op_hess(int op);           /* PYAD_HESS_*, -1 for an unknown code */
const char *pyad_op_ufunc(int op);  /* numpy's ufunc name, or "" */
const char *pyad_op_note(int op);   /* domain and kink conventions */

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

/* Buffered recording (CPython only; used by pyad/_lib.py alone). Python
 * appends each op as a record (code, x0, x1, out) to the record buffer
 * `pending`: code is an op code plus PYAD_REC_CONST0/1 for constant
 * operands (x_i a float, else a handle), or PYAD_REC_LEAF for a leaf of
 * value x0; out is a handle Python took from the stack `free`.
 * pyad_py_sync records the buffered ops in order (emptying the buffer),
 * releases the handles on the stack `dead` (of dead Vars), and pushes
 * `refill` freshly reserved handles on `free`; the three (pyad_py_var_base
 * makes them) are given as id()s. Returns the first failing record's
 * status (*failed = its index) or OK. */
enum { PYAD_REC_CONST0 = 256, PYAD_REC_CONST1 = 512, PYAD_REC_LEAF = 1024 };
int pyad_py_sync(uintptr_t ops, uintptr_t dead, uintptr_t free_list,
                 size_t refill, int64_t *failed);

/* Recording now, safe from Ctrl-C (CPython only; used by pyad/record.py
 * and pyad/var.py alone). Each records as its plain form above and stores
 * the new handle in `out` (an id() of a pyad.Var the caller made with no
 * handle yet) before it returns, so that no signal handler can run
 * between the node's birth and a Var owning it; out is checked first
 * (else HANDLE). Each returns the handle or a status.
 * pyad_py_op: a unary or binary op; operand i is a constant (ca, cb) when
 * bit i of consts is set, else the node of handle a (b). */
int64_t pyad_py_op(int op, int64_t a, int64_t b, double ca, double cb, int consts,
                   uintptr_t out);
int64_t pyad_py_nary_to(int op, const int64_t *handles, const double *constants, size_t n,
                        uintptr_t out);
int64_t pyad_py_leaf(double value, uintptr_t out);
/* pyad_py_nary_to over the items of a list (an id()), read in C rather
 * than converted to arrays in Python: each item an exact pyad.Var (its
 * node) or an exact float (a constant). Returns the new handle, or
 * PYAD_PY_OTHER when an item is anything else, a Var's handle is
 * negative, or no item is a Var; or a status. Nothing is recorded unless
 * a handle is returned. */
enum { PYAD_PY_OTHER = -1000 };
int64_t pyad_py_nary(int op, uintptr_t items, uintptr_t out);

/* The base class of pyad.Var (CPython only; used by pyad/_lib.py alone):
 * one slot `_h`, the handle (a C int64), and a finalizer in C that pushes
 * it on `dead` when the Var dies. In C, a finalizer is atomic with
 * respect to signal handlers (a Python __del__ can be interrupted by Ctrl-C
 * before its first line, losing the handle and the graph behind it), and
 * no Python frame runs; and a class method `_fresh()` that makes a Var
 * owning the last handle of `free` (the reserved handles), so that no
 * signal can land between taking a handle and a Var owning it. Stores in
 * the dict `ns` (an id()) the class under "VarBase" and the buffers of
 * pyad_py_sync (pybuffers.c), made once, under "pending", "dead" and
 * "free". Returns OK, or NOMEM. */
int pyad_py_var_base(uintptr_t ns);

/* The base class of pyad.Compiled (pycall.c; CPython only, used by
 * pyad/_lib.py alone): a C call (tp_call and vectorcall) that replays the
 * most recent trace at float arguments, else calls the method `_call`.
 * Stores the class in the dict `ns` (an id()) under "CallBase", and the
 * function that makes a vectorcall subclass of a Python subclass of it
 * under "fast_call_class". Returns OK, or NOMEM. */
int pyad_py_call_base(uintptr_t ns);

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

/* The backward pass from out recorded as ops (create_graph), so that the
 * gradient can be differentiated again. The seed is the node of handle
 * seed_h, or the constant seed_c when seed_h < 0. For each wrt[i],
 * grad_out[i] receives a new handle to the node of d(out)/d(wrt[i]), or -1
 * where out does not depend on it. With stop_at_wrt the sweep does not go
 * past a wrt node (each is an independent variable). .grad is not touched.
 * All or nothing: on an error no handle is made. */
int pyad_grad_graph(int64_t out, int64_t seed_h, double seed_c,
                    const int64_t *wrt, size_t n_wrt, int stop_at_wrt,
                    int64_t *grad_out);

/* Extract the graph between input and output nodes as a flat program, for
 * replay. Node k of the program is PYAD_NODE_INPUT, PYAD_NODE_CONST (a leaf
 * that is not an input; its recorded value is baked in) or an op code, and
 * its operands are program nodes args[arg_start[k] .. arg_start[k+1]).
 * Program nodes are in topological order; inputs stop the walk (an interior
 * node given as input is treated as a free variable). Call once with NULL
 * arrays to learn *n_nodes and *n_args, then with arrays of those sizes
 * (arg_start: n_nodes + 1; input_slot: n_in; output_slot: n_out).
 * node_grad, which may be NULL, receives each node's .grad. */
enum { PYAD_NODE_INPUT = -1, PYAD_NODE_CONST = -2 };
int pyad_export(const int64_t *inputs, size_t n_in,
                const int64_t *outputs, size_t n_out,
                int32_t *node_op, double *node_value, double *node_grad,
                uint32_t *arg_start, uint32_t *args, uint32_t *input_slot,
                uint32_t *output_slot, size_t *n_nodes, size_t *n_args);

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

/* ==== Compiled programs (program.c) =====================================
 * A program is a frozen graph (as pyad_export gives it) plus guards, kept
 * outside the tape so that it can be replayed for new inputs, one point or
 * a batch of points, with no lock and no Python. pyad_program_new validates
 * everything it is given (op codes, arities, operand indices, slots,
 * guards) and copies it; a program it accepts can never index out of range.
 * Programs are immutable once made, so any number of threads may replay
 * one at the same time (each call brings its own scratch).
 */
typedef struct pyad_program pyad_program;

/* More pyad_status values. */
enum {
    PYAD_ERR_PROGRAM = -10,  /* pyad_program_new: malformed program */
    PYAD_ERR_GUARD = -11,    /* a guard's outcome differs from the trace */
    PYAD_ERR_ARGS = -12,     /* a missing buffer, a buffer smaller than the
                              * call needs, or the wrong number of inputs */
    PYAD_ERR_CANCELLED = -13 /* a batch stopped early: its cancel flag rose */
};

/* Guard kinds: the recorded test is (value[a] KIND other) == outcome, where
 * other is value[b] for b >= 0 or the constant c for b == -1. SAME pins
 * the exact bits of value[a] to those of c (float(v) was taken). */
enum {
    PYAD_GUARD_LT = 0,
    PYAD_GUARD_LE = 1,
    PYAD_GUARD_GT = 2,
    PYAD_GUARD_GE = 3,
    PYAD_GUARD_NE = 4,
    PYAD_GUARD_SAME = 5
};

/* Where a replay failed: the point (batch index), the program node whose
 * forward value raised (errmode), or the first guard that missed; -1 when
 * not applicable. */
typedef struct {
    int64_t point;
    int64_t node;
    int64_t guard;
} pyad_fail_info;

/* Validate and copy a program. Arrays as pyad_export fills them; guards
 * as above (guard arrays may be NULL when n_guards is 0). Every INPUT node
 * must be named by exactly one input slot. Returns PYAD_OK and *out, or
 * PYAD_ERR_PROGRAM / PYAD_ERR_NOMEM with *out = NULL. */
int pyad_program_new(const int32_t *node_op, const double *node_value,
                     const uint32_t *arg_start, size_t n_nodes,
                     const uint32_t *args, size_t n_args,
                     const uint32_t *input_slot, size_t n_in,
                     const uint32_t *output_slot, size_t n_out,
                     const int32_t *guard_kind, const uint32_t *guard_a,
                     const int64_t *guard_b, const double *guard_c,
                     const uint8_t *guard_outcome, size_t n_guards,
                     pyad_program **out);
void pyad_program_free(pyad_program *p);
size_t pyad_program_n_nodes(const pyad_program *p);
size_t pyad_program_n_ops(const pyad_program *p);   /* non-leaf nodes */
size_t pyad_program_n_in(const pyad_program *p);
size_t pyad_program_n_out(const pyad_program *p);
/* Doubles of scratch one pyad_program_eval call needs. */
size_t pyad_program_work_size(const pyad_program *p);

/* One point: x[n_in] -> values[n_out] and, when grads is not NULL, the
 * Jacobian grads[n_out * n_in] (row o = d output o / d inputs), equal bit
 * for bit to eager recording plus backward. Guards are checked after the
 * forward pass: on a miss returns PYAD_ERR_GUARD (info->guard says which).
 * With a non-zero errmode, an op whose forward value raises a selected
 * IEEE exception gives its status (info->node says which).
 * Each buffer comes with its length in elements (n_x: the number of
 * inputs given, which must be the program's n_in); a buffer shorter than
 * the program needs gives PYAD_ERR_ARGS and nothing is read or written. */
int pyad_program_eval(const pyad_program *p, const double *x, size_t n_x,
                      double *values, size_t n_values,
                      double *grads, size_t n_grads,
                      double *work, size_t work_len, pyad_fail_info *info);

/* The lean value call (pycall.c, Compiled's C call): the single output of
 * a program of at most 1024 nodes at one point, or NaN when anything is
 * off (sizes, a guard that misses, a raising error mode): then, or for a
 * NaN value, the caller takes the general path, which says why. */
double pyad_program_value(const pyad_program *p, const double *x, size_t n_x);

/* Points [begin, end) of a batch of n_points. The n_x (= n_in) input
 * columns: input i of point j is x[i][j * stride[i]], where stride 1 means
 * a column of n_points numbers, stride k a column of a row-major array of k
 * numbers per point, and stride 0 broadcasts x[i][0]. Point j
 * writes values[j * n_out ..] and, if grads is not NULL,
 * grads[j * n_out * n_in ..]; the buffers' lengths (in elements) must
 * cover every point up to end, else PYAD_ERR_ARGS before anything is read
 * or written. A point whose guards miss gets guard_fail[j] = 1 (else 0),
 * its outputs are unspecified, and *n_guard_fail counts them; this is not
 * an error. With a non-zero errmode, the first point (lowest index, guards
 * holding) whose forward raises gives the status, info->point and
 * info->node. cancel, if not NULL, is polled between blocks of points:
 * once non-zero (pyad_cancel), the call returns PYAD_ERR_CANCELLED at the
 * next block boundary, and the outputs of points not reached are
 * unspecified. */
int pyad_program_eval_batch(const pyad_program *p, const double *const *x,
                            const size_t *stride, size_t n_x, size_t n_points,
                            size_t begin, size_t end,
                            double *values, size_t n_values,
                            double *grads, size_t n_grads,
                            uint8_t *guard_fail, size_t n_fail,
                            size_t *n_guard_fail, pyad_fail_info *info,
                            const int *cancel);
/* Raise a cancel flag (an int, initially 0) for every batch call polling
 * it; safe from any thread while those calls run. */
void pyad_cancel(int *flag);
/* Benchmark knob: points per block of a batch (1..256); 0 = automatic. */
int pyad_program_set_block(size_t points);
/* ==== end of compiled programs ========================================== */

/* fork() safety (tape.c). prepare takes the tape's lock, waiting for any
 * call in another thread to finish, so that fork() copies a consistent
 * tape; parent and child release it on each side. Call them around
 * fork(), as pyad/forking.py does with os.register_at_fork. */
void pyad_fork_prepare(void);
void pyad_fork_parent(void);
void pyad_fork_child(void);

/* ==== Elementary-function kernels (vmath.c) ======================== * pyad's own exp, expm1, log, log1p, sin, cos, tanh, cosh and sinh
 * (csrc/vmath.h, docs/vmath.md), exposed for tests and benchmarks only.
 */
enum {
    PYAD_VMATH_EXP = 0,
    PYAD_VMATH_EXPM1 = 1,
    PYAD_VMATH_LOG = 2,
    PYAD_VMATH_LOG1P = 3,
    PYAD_VMATH_SIN = 4,
    PYAD_VMATH_COS = 5,
    PYAD_VMATH_TANH = 6,
    PYAD_VMATH_SINCOS = 7,   /* y[0..n) = sin, y[n..2n) = cos */
    PYAD_VMATH_COSH = 8,
    PYAD_VMATH_SINH = 9,
    PYAD_VMATH_N_KERNELS = 10
};
/* How to evaluate: the vector helper (pyad_vexp...) as built (baseline
 * x86-64: SSE2); the branch-free scalar kernel (pyad_exp...) or the C
 * library's function, called once per element in a loop kept scalar; the
 * vector helper compiled for AVX2 (PYAD_ERR_OP where the CPU or compiler
 * has none); the point kernel (pyad_exp_point...) once per element. */
enum {
    PYAD_VMATH_VECTOR = 0,
    PYAD_VMATH_SCALAR = 1,
    PYAD_VMATH_LIBM = 2,
    PYAD_VMATH_VECTOR_AVX2 = 3,
    PYAD_VMATH_POINT = 4
};

/* y[j] = kernel(x[j]) for j < n (y may be x). Returns the PYAD_RAISE_* bits
 * of the IEEE flags the call raised, PYAD_ERR_OP for an unknown kernel or
 * way, or PYAD_ERR_ARGS for a missing buffer. */
int pyad_vmath(int kernel, int how, const double *x, double *y, size_t n);
/* The same one element at a time: flags[j] = the PYAD_RAISE_* bits raised
 * by element j alone. Returns PYAD_OK or an error as above. */
int pyad_vmath_flags(int kernel, int how, const double *x, double *y,
                     uint8_t *flags, size_t n);
/* pyad_vmath repeated reps times, flags not collected (for timing). */
int pyad_vmath_repeat(int kernel, int how, const double *x, double *y,
                      size_t n, size_t reps);
/* ==== end of elementary-function kernels ================================ */

#include "pyad_higher.h" /* higher order: jvp, vjp, hvp, Hessians, sparsity */

#endif
