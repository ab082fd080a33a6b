/* tape.c -- the process-wide tape: storage, handles, lifetime.
 *
 * The layout and the lifetime rules are described in tape.h. Recording is
 * in record.c, the backward sweep in sweep.c, program export in export.c,
 * reads and writes of one node's state in nodes.c.
 */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tape.h"

#define MIN_CAPACITY 1024
#define COMPACT_MIN_LENGTH 4096

tape_t pyad_tape;
pyad_mutex_t pyad_tape_lock = PYAD_MUTEX_INIT;
static PYAD_THREAD_LOCAL int errmode;
/* Threads whose errmode is not 0. While it is 0 (no errstate raising
 * anywhere, the usual case) pyad_get_errmode answers without reading the
 * thread-local, which a shared library reaches through a call
 * (__tls_get_addr, ~5 ns: a few percent of an eager op or a small compiled
 * call). A thread always sees its own updates, so a thread whose errmode
 * is set never reads 0 here. */
static int errmode_threads;
static int64_t fail_countdown = -1;   /* test switch for allocation failure */
#define lock pyad_tape_lock

/* ---- allocation ------------------------------------------------------ */

/* realloc, or NULL when the test switch says this allocation fails. */
void *pyad_grow(void *p, size_t count, size_t size)
{
    if (fail_countdown >= 0 && fail_countdown-- == 0)
        return NULL;
    if (size && count > SIZE_MAX / size)
        return NULL;
    return realloc(p, count * size);
}

/* Resize one array in place; on failure the old block stays valid. */
#define RESIZE(ptr, count) \
    resize_array((void **)&(ptr), (count), sizeof *(ptr))
static int resize_array(void **ptr, size_t count, size_t size)
{
    void *p = pyad_grow(*ptr, count ? count : 1, size);
    if (!p)
        return 0;
    *ptr = p;
    return 1;
}

/* Make room for node_cap nodes and edge_cap edges. On failure nothing that
 * is in use changes: blocks that did grow stay valid, capacity stays put. */
static int reserve_nodes(size_t cap)
{
    int ok;
    if (cap > MAX_INDEX)
        return PYAD_ERR_FULL;
    ok = RESIZE(T.value, cap) & RESIZE(T.grad, cap) & RESIZE(T.adjoint, cap) &
         RESIZE(T.stamp, cap) & RESIZE(T.refcount, cap) &
         RESIZE(T.edge_start, cap + 1) & RESIZE(T.op, cap);
    /* Every array now holds at least min(old, new) entries: a shrink is
     * always good, a growth only if every array grew. */
    if (cap < T.capacity) {
        T.capacity = cap;
        return PYAD_OK;
    }
    if (!ok)
        return PYAD_ERR_NOMEM;
    memset(T.stamp + T.capacity, 0, (cap - T.capacity) * sizeof *T.stamp);
    T.capacity = cap;
    return PYAD_OK;
}

static int reserve_edges(size_t cap)
{
    int ok;
    if (cap > MAX_INDEX)
        return PYAD_ERR_FULL;
    ok = RESIZE(T.edge_node, cap) & RESIZE(T.edge_partial, cap);
    if (cap < T.edge_capacity || ok) {
        T.edge_capacity = cap;
        return PYAD_OK;
    }
    return PYAD_ERR_NOMEM;
}

static size_t next_capacity(size_t have, size_t need)
{
    size_t cap = have < MIN_CAPACITY ? MIN_CAPACITY : have;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    return cap;
}

/* Room for one more node with n_edges operands, and for its handle. */
int pyad_reserve_for(size_t n_edges)
{
    int st;
    if (T.length + 1 > T.capacity &&
        (st = reserve_nodes(next_capacity(T.capacity, T.length + 1))) != PYAD_OK)
        return st;
    if (n_edges > MAX_INDEX - T.edges)
        return PYAD_ERR_FULL;
    if (T.edges + n_edges > T.edge_capacity &&
        (st = reserve_edges(next_capacity(T.edge_capacity, T.edges + n_edges))) != PYAD_OK)
        return st;
    if (T.n_free == 0 && T.handles == T.handle_capacity) {
        size_t cap = next_capacity(T.handle_capacity, T.handles + 1);
        if (cap > MAX_INDEX)
            return PYAD_ERR_FULL;
        if (!(RESIZE(T.handle_node, cap) & RESIZE(T.free_handles, cap)))
            return PYAD_ERR_NOMEM;
        T.handle_capacity = cap;
    }
    return PYAD_OK;
}

int pyad_reserve_nodes_total(size_t nodes)
{
    if (nodes <= T.capacity)
        return PYAD_OK;
    return reserve_nodes(next_capacity(T.capacity, nodes));
}

/* Give memory back when the tape has shrunk to a quarter of its capacity:
 * down to twice what is in use, in one step. */
static size_t shrunk(size_t cap, size_t used)
{
    size_t target = cap;
    while (target > MIN_CAPACITY && used < target / 4)
        target /= 2;
    return target < MIN_CAPACITY ? MIN_CAPACITY : target;
}

static void maybe_shrink(void)
{
    size_t cap = shrunk(T.capacity, T.length);
    size_t edge_cap = shrunk(T.edge_capacity, T.edges);
    if (cap < T.capacity)
        reserve_nodes(cap);
    if (edge_cap < T.edge_capacity)
        reserve_edges(edge_cap);
}

/* ---- handles and lifetime -------------------------------------------- */

int64_t pyad_new_handle(uint32_t node)
{
    uint32_t h = T.n_free ? T.free_handles[--T.n_free] : (uint32_t)T.handles++;
    T.handle_node[h] = node;
    return (int64_t)h;
}

/* Drop one reference to node n; free it and, transitively, its operands
 * when nothing refers to them any more. The pending list is threaded
 * through the refcount slots of the dying nodes, so this never allocates
 * and never recurses. */
void pyad_decref(uint32_t n)
{
    uint32_t head;
    if (--T.refcount[n] != 0)
        return;
    T.refcount[n] = NIL;
    head = n;
    while (head != NIL) {
        uint32_t i = head;
        head = T.refcount[i];
        T.op[i] = OP_DEAD;
        T.dead++;
        for (uint32_t e = T.edge_start[i]; e < T.edge_start[i + 1]; e++) {
            uint32_t p = T.edge_node[e];
            if (--T.refcount[p] == 0) {
                T.refcount[p] = head;
                head = p;
            }
        }
    }
    while (T.length > 0 && T.op[T.length - 1] == OP_DEAD) {
        T.length--;
        T.dead--;
    }
    T.edges = T.edge_start[T.length];
    maybe_shrink();
}

/* Slide live nodes down over dead ones, keeping their order, and remap
 * every edge and handle. The stamp array is the scratch map old -> new. */
void pyad_compact(void)
{
    uint32_t *remap = T.stamp;
    size_t j = 0, e = 0;
    for (size_t i = 0; i < T.length; i++) {
        uint32_t first = T.edge_start[i], last = T.edge_start[i + 1];
        if (T.op[i] == OP_DEAD)
            continue;
        remap[i] = (uint32_t)j;
        T.value[j] = T.value[i];
        T.grad[j] = T.grad[i];
        T.refcount[j] = T.refcount[i];
        T.op[j] = T.op[i];
        T.edge_start[j] = (uint32_t)e;
        for (uint32_t k = first; k < last; k++, e++) {
            T.edge_node[e] = remap[T.edge_node[k]];   /* operands come first */
            T.edge_partial[e] = T.edge_partial[k];
        }
        j++;
    }
    T.length = j;
    T.edges = e;
    T.edge_start[j] = (uint32_t)e;
    T.dead = 0;
    for (size_t h = 0; h < T.handles; h++)
        if (T.handle_node[h] < RESERVED)
            T.handle_node[h] = remap[T.handle_node[h]];
    memset(T.stamp, 0, T.capacity * sizeof *T.stamp);
    T.epoch = 0;
}

int pyad_should_compact(void)
{
    return T.length >= COMPACT_MIN_LENGTH && T.dead > T.length / 2;
}

/* ---- appending ------------------------------------------------------------ */

uint32_t pyad_append(uint8_t op, double value)
{
    uint32_t i = (uint32_t)T.length++;
    T.value[i] = value;
    T.grad[i] = 0.0;
    T.refcount[i] = 0;
    T.op[i] = op;
    T.stamp[i] = 0;
    T.edge_start[i] = (uint32_t)T.edges;
    T.edge_start[i + 1] = (uint32_t)T.edges;
    return i;
}

void pyad_add_edge(uint32_t from, uint32_t to, double partial)
{
    T.edge_node[T.edges] = to;
    T.edge_partial[T.edges] = partial;
    T.edges++;
    T.edge_start[from + 1] = (uint32_t)T.edges;
    T.refcount[to]++;
}

uint32_t pyad_next_epoch(void)
{
    if (++T.epoch == 0) {      /* wrapped: forget every old stamp */
        memset(T.stamp, 0, T.capacity * sizeof *T.stamp);
        T.epoch = 1;
    }
    return T.epoch;
}

void pyad_release_locked(int64_t h)
{
    uint32_t n;
    if (pyad_node_of(h, &n)) {
        T.handle_node[h] = NIL;
        T.free_handles[T.n_free++] = (uint32_t)h;
        pyad_decref(n);
    } else if (h >= 0 && (uint64_t)h < T.handles && T.handle_node[h] == RESERVED) {
        T.handle_node[h] = NIL;
        T.free_handles[T.n_free++] = (uint32_t)h;
    }
}

int pyad_reserve_handles(int64_t *out, size_t k)
{
    size_t fresh = k > T.n_free ? k - T.n_free : 0;
    if (fresh > MAX_INDEX - T.handles)
        return PYAD_ERR_FULL;
    if (T.handles + fresh > T.handle_capacity) {
        size_t cap = next_capacity(T.handle_capacity, T.handles + fresh);
        if (cap > MAX_INDEX)
            return PYAD_ERR_FULL;
        if (!(RESIZE(T.handle_node, cap) & RESIZE(T.free_handles, cap)))
            return PYAD_ERR_NOMEM;
        T.handle_capacity = cap;
    }
    for (size_t i = 0; i < k; i++) {
        uint32_t h = T.n_free ? T.free_handles[--T.n_free] : (uint32_t)T.handles++;
        T.handle_node[h] = RESERVED;
        out[i] = (int64_t)h;
    }
    return PYAD_OK;
}

void pyad_release(int64_t h)
{
    pyad_lock(&lock);
    pyad_release_locked(h);
    pyad_unlock(&lock);
}

void pyad_release_many(const int64_t *handles, size_t n)
{
    if (!handles)
        return;
    pyad_lock(&lock);
    for (size_t i = 0; i < n; i++)
        pyad_release_locked(handles[i]);
    pyad_unlock(&lock);
}

/* ---- modes and introspection ------------------------------------------ */

int pyad_set_errmode(int mode)
{
    int old = errmode;
    int now = mode & (PYAD_RAISE_DIVIDE | PYAD_RAISE_OVERFLOW |
                      PYAD_RAISE_INVALID | PYAD_RAISE_UNDERFLOW);
    if (!old != !now)
        pyad_count_add(&errmode_threads, now ? 1 : -1);
    errmode = now;
    return old;
}

int pyad_get_errmode(void)
{
    return pyad_count_get(&errmode_threads) ? errmode : 0;
}

int pyad_errmode_anywhere(void)
{
    return pyad_count_get(&errmode_threads) != 0;
}

size_t pyad_live_nodes(void)
{
    size_t n;
    pyad_lock(&lock);
    n = T.length - T.dead;
    pyad_unlock(&lock);
    return n;
}

size_t pyad_tape_length(void)
{
    size_t n;
    pyad_lock(&lock);
    n = T.length;
    pyad_unlock(&lock);
    return n;
}

size_t pyad_live_handles(void)
{
    size_t n;
    pyad_lock(&lock);
    n = T.handles - T.n_free;
    pyad_unlock(&lock);
    return n;
}

size_t pyad_bytes_reserved(void)
{
    const size_t per_node = 3 * sizeof(double) + 3 * sizeof(uint32_t) + 1;
    const size_t per_edge = sizeof(uint32_t) + sizeof(double);
    size_t b;
    pyad_lock(&lock);
    b = T.capacity * per_node + T.edge_capacity * per_edge +
        T.handle_capacity * 2 * sizeof(uint32_t);
    pyad_unlock(&lock);
    return b;
}

void pyad_debug_fail_alloc_after(int64_t n)
{
    pyad_lock(&lock);
    fail_countdown = n < 0 ? -1 : n;
    pyad_unlock(&lock);
}

/* ---- fork() ----------------------------------------------------------- */

/* A thread that holds the lock when another thread forks does not exist in
 * the child, so the child's lock would stay taken forever (and the tape
 * could be half-updated). prepare takes the lock in the forking thread,
 * after every other pyad call has left it; both sides then let it go. In
 * the child the forking thread is the owner, so unlocking is well defined;
 * the child's tape is exactly the parent's at that moment. */
void pyad_fork_prepare(void) { pyad_lock(&lock); }
void pyad_fork_parent(void) { pyad_unlock(&lock); }
void pyad_fork_child(void) { pyad_unlock(&lock); }

/* Allocation for program.c. Replay takes no lock, but program.c makes its
 * malloc and free calls through these, which hold the tape's lock for the
 * call: then fork(), whose prepare hook takes that lock, never copies a
 * thread that is inside the allocator. glibc's malloc is fork-safe on its
 * own, but not every allocator is (ASan's in .ci/sanitize: a child forked
 * while a replay thread was in malloc hung in its first malloc). The
 * allocation-failure test switch is checked under the same lock. */
void *pyad_locked_alloc(size_t bytes)
{
    void *p = NULL;
    pyad_lock(&lock);
    if (!(fail_countdown >= 0 && fail_countdown-- == 0))
        p = malloc(bytes ? bytes : 1);
    pyad_unlock(&lock);
    return p;
}

void *pyad_locked_realloc(void *p, size_t bytes)
{
    void *q = NULL;
    pyad_lock(&lock);
    if (!(fail_countdown >= 0 && fail_countdown-- == 0))
        q = realloc(p, bytes ? bytes : 1);
    pyad_unlock(&lock);
    return q;
}

void pyad_locked_free(void *const *blocks, size_t n)
{
    pyad_lock(&lock);
    for (size_t i = 0; i < n; i++)
        free(blocks[i]);
    pyad_unlock(&lock);
}
