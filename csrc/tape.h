/* tape.h -- the process-wide tape, shared by the C files that work on it
 * (tape.c: storage and lifetime; record.c: recording; sweep.c: backward;
 * export.c: programs). Not part of the public API (pyad.h).
 *
 * Storage is a structure of arrays indexed by node id, in creation order, so
 * every node's operands have smaller ids than the node itself and one
 * reverse loop is a valid backward sweep. Operand lists live in one shared
 * edge array (edge_node, edge_partial); node i owns edges
 * [edge_start[i], edge_start[i+1]). The local partial of each edge is
 * computed when the node is recorded, so the sweep is one multiply-add per
 * edge whatever the op.
 *
 * Lifetime: refcount[i] counts the handles naming node i (Python's Vars)
 * plus the edges of live nodes that point at i. A node whose count reaches
 * zero is marked dead and releases its operands, iteratively. Dead nodes at
 * the end of the tape are popped at once; when more than half the tape is
 * dead it is compacted (live nodes slide down in order, ids are remapped),
 * which is why Python holds handles rather than node ids.
 *
 * Threads: one mutex (pyad_tape_lock) guards everything; every function
 * declared here expects it held. The error mode is per thread.
 */
#ifndef PYAD_TAPE_H
#define PYAD_TAPE_H
#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "platform.h"
#include "pyad.h"

#define NIL UINT32_MAX
#define RESERVED (UINT32_MAX - 1)   /* a handle Python holds for a buffered op */
#define OP_DEAD 0xFE
#define OP_LEAF 0xFF
#define MAX_INDEX (UINT32_MAX - 1)
#define MAX_STACK_OPERANDS 8

typedef struct {
    /* per node */
    double *value;
    double *grad;
    double *adjoint;        /* sweep scratch */
    uint32_t *stamp;        /* sweep scratch: == epoch when reached */
    uint32_t *refcount;     /* for dead nodes: next in the release list */
    uint32_t *edge_start;   /* length + 1 entries */
    uint8_t *op;            /* op code, OP_LEAF or OP_DEAD */
    size_t length, capacity, dead;
    /* per edge */
    uint32_t *edge_node;
    double *edge_partial;
    size_t edges, edge_capacity;
    /* handles */
    uint32_t *handle_node;  /* NIL when the handle is free */
    uint32_t *free_handles; /* stack of free handle slots */
    size_t handles, handle_capacity, n_free;
    uint32_t epoch;
} tape_t;

extern tape_t pyad_tape;
extern pyad_mutex_t pyad_tape_lock;
#define T pyad_tape


/* realloc, or NULL when the allocation-failure test switch says so. */
void *pyad_grow(void *p, size_t count, size_t size);

/* Room for one more node with n_edges operands, and for its handle; and
 * room for `nodes` nodes in all. A failure changes nothing in use. */
int pyad_reserve_for(size_t n_edges);
int pyad_reserve_nodes_total(size_t nodes);

/* The node of handle h, if h names one (not free, not reserved). */
static inline int pyad_node_of(int64_t h, uint32_t *node)
{
    uint32_t n;
    if (h < 0 || (uint64_t)h >= T.handles || (n = T.handle_node[h]) >= RESERVED)
        return 0;
    *node = n;
    return 1;
}

int64_t pyad_new_handle(uint32_t node);     /* room must be reserved */
/* Mark k handles RESERVED (held by Python for ops it has buffered, see
 * record.c's ingest) and write them to out. */
int pyad_reserve_handles(int64_t *out, size_t k);
/* Drop handle h: its node loses a reference; a reserved handle is freed. */
void pyad_release_locked(int64_t h);

/* One buffered op, as Python's record buffer holds it (pyad/_lib.py):
 * code is an op code plus PYAD_REC_* bits; operand i is the node of
 * handle h[i], or the constant c[i] when its CONST bit is set; the result
 * goes to handle out, which Python reserved. A LEAF record is a leaf of
 * value c[0]. */
typedef struct {
    int64_t code, out;
    int64_t h[2];
    double c[2];
} pyad_record;

/* Record the buffered ops in order (record.c). A record that fails (a bad
 * handle or op) leaves its result handle reserved and the others go on; an
 * allocation failure stops there. Returns the first failure's status (and
 * *failed = its index), or PYAD_OK. */
int pyad_ingest_locked(const pyad_record *rec, size_t n, size_t *failed);

/* pyad_nary with the tape's lock held (record.c). */
int64_t pyad_nary_locked(int op, const int64_t *handles, const double *constants, size_t n);
int64_t pyad_leaf_locked(double value);
void pyad_decref(uint32_t node);

/* Compact when more than half of a long tape is dead; handles stay valid,
 * node ids change. */
int pyad_should_compact(void);
void pyad_compact(void);

/* Append a node with no edges yet; then its edges, in operand order. Room
 * must have been reserved. */
uint32_t pyad_append(uint8_t op, double value);
void pyad_add_edge(uint32_t from, uint32_t to, double partial);

/* A fresh sweep stamp (wrapping clears every stamp). */
uint32_t pyad_next_epoch(void);

/* Whether any thread's error mode raises (needs no lock: an atomic count,
 * which a thread changes only for itself). */
int pyad_errmode_anywhere(void);

#endif
