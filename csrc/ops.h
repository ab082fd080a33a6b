/* ops.h -- the op table, shared by the recorder (tape.c) and the evaluator.
 *
 * An op is one row: a name, an arity, a forward function that computes the
 * value from the operands, and a partials function that computes the local
 * derivative d(value)/d(operand i) for every operand. Adding an op means one
 * row in ops.c and one short line in pyad/ops.py; nothing else changes.
 */
#ifndef PYAD_OPS_H
#define PYAD_OPS_H
#include <fenv.h>
#include <stddef.h>

typedef double (*pyad_forward_fn)(const double *x, size_t n);
/* y is the value forward() returned for x; writes n partials to d. */
typedef void (*pyad_partials_fn)(const double *x, size_t n, double y,
                                 double *d);

typedef struct {
    const char *name;
    int arity;                /* 1, 2, or -1 for n-ary */
    pyad_forward_fn forward;
    pyad_partials_fn partials;
} pyad_op_row;

extern const pyad_op_row pyad_ops[];
extern const int pyad_n_ops;

/* The IEEE exceptions that error modes can turn into errors. */
#define PYAD_FE_WATCHED (FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID | FE_UNDERFLOW)

/* The pyad_status for IEEE flags `raised` (fetestexcept) under error mode
 * `mode` (PYAD_RAISE_* bits): PYAD_OK unless the mode asks to raise one. */
int pyad_fp_status(int mode, int raised);

#endif
