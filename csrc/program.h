/* program.h -- a compiled program as its evaluators see it (internal).
 *
 * A program is what pyad_export gives (nodes in topological order, each an
 * INPUT, a CONST or an op over earlier nodes) plus guards, copied into a
 * block that nothing else touches, so replay needs no lock. program.c makes
 * and validates it; replay.c evaluates one point, batch.c blocks of points.
 *
 * Every evaluator computes an op's value and partials with the registry's
 * own definitions (ops.h), inline, in the same order as the tape, so values
 * and gradients equal eager recording + backward bit for bit. Partials are
 * stored per edge (as the tape stores them), so a reverse sweep is one
 * multiply-add per edge whatever the op, and several outputs share them.
 */
#ifndef PYAD_PROGRAM_H
#define PYAD_PROGRAM_H
#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "pyad.h"

/* One op node, laid out for the replay loops. */
typedef struct {
    uint32_t k;             /* the node */
    uint32_t first, n;      /* operands are args[first .. first + n) */
    int32_t op;
} instr_t;

struct pyad_program {
    size_t n_nodes, n_args, n_in, n_out, n_guards, n_ops, max_arity;
    int32_t *op;            /* per node: op code, INPUT or CONST */
    double *value;          /* per node: recorded value (CONST baked in) */
    uint32_t *arg_start;    /* n_nodes + 1 */
    uint32_t *args;
    uint32_t *input_slot, *output_slot;
    instr_t *code;          /* the op nodes, ascending (n_ops of them) */
    uint8_t *dense;         /* per output: every op node below it is one of
                             * its ancestors, so its sweep needs no flags */
    uint32_t *sweep_arg, *sweep_owner;  /* per edge, in sweep order (the
                             * op nodes descending, each one's operands
                             * ascending): its operand and its op node. Point
                             * replay stores the partials in this order. */
    uint32_t *leaf_run;     /* [start, end) pairs covering every node that is
                             * not an op (pyad_program_load_leaves) */
    size_t n_leaf_runs;
    int32_t *g_kind;
    uint32_t *g_a;
    int64_t *g_b;
    double *g_c;
    uint8_t *g_out;
};

/* malloc of count * size bytes (NULL on overflow, or when the
 * allocation-failure test switch says so), and free of a list of blocks.
 * Both are made holding the tape's lock (tape.c: pyad_locked_alloc,
 * pyad_locked_free), which replay otherwise never takes: then fork(),
 * whose prepare hook takes that lock, never copies a replay thread that is
 * inside the allocator (not every allocator is fork-safe: ASan's is not). */
void *pyad_program_alloc(size_t count, size_t size);
void *pyad_locked_alloc(size_t bytes);
void pyad_locked_free(void *const *blocks, size_t n);
void *pyad_locked_realloc(void *p, size_t bytes);
#define PYAD_RELEASE(...)                                                  \
    do {                                                                   \
        void *const pyad_blocks_[] = {__VA_ARGS__};                        \
        pyad_locked_free(pyad_blocks_,                                     \
                         sizeof pyad_blocks_ / sizeof pyad_blocks_[0]);    \
    } while (0)

/* 1 when count rows of `row` elements fit in a buffer of len elements. */
static inline int pyad_rows_fit(size_t count, size_t row, size_t len)
{
    return row == 0 || count <= len / row;
}

/* The recorded values of the nodes that are not ops (inputs, constants)
 * into v, from which a replay starts: the ops' values are all written by
 * the forward pass before they are read (operands come first), so they
 * are not copied. */
static inline void pyad_program_load_leaves(const pyad_program *p, double *v)
{
    for (size_t r = 0; r < p->n_leaf_runs; r++)
        for (uint32_t k = p->leaf_run[2 * r], end = p->leaf_run[2 * r + 1]; k < end; k++)
            v[k] = p->value[k];
}

/* Where the partials of instruction c start in sweep order: the edges of
 * the later instructions come first. */
static inline size_t pyad_sweep_first(const pyad_program *p, const instr_t *c)
{
    return p->n_args - c->first - c->n;
}

/* How many instructions have node <= k (code is sorted by node). */
size_t pyad_instrs_upto(const pyad_program *p, uint32_t k);

/* 1 when guard g holds for operand values a and b. */
int pyad_guard_holds(const pyad_program *p, size_t g, double a, double b);

/* The first guard that fails at the node values v, or -1. */
int64_t pyad_first_failed_guard(const pyad_program *p, const double *v);

/* Re-run the forward pass of one point op by op, testing the IEEE flags
 * after each, to find the first op whose value raises what the calling
 * thread's error mode selects: its status, and *node. v holds the inputs
 * and constants. */
int pyad_locate_fp_error(const pyad_program *p, double *v, int64_t *node);

#endif
