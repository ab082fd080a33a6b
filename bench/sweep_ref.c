/* sweep_ref.c -- plain-C references for the "backward alone" row: the
 * bench's wide graph (workloads.wide) built in C arrays, node for node in
 * the order pyad's tape holds it, and two reverse sweeps over it.
 *
 *   sw_backward_reach  the algorithm of csrc/sweep.c written out on its
 *                      own (a stamp per node: only nodes reached from the
 *                      output are visited, a count of pending ones ends
 *                      the loop): pyad's backward minus the call, the
 *                      handle lookup and the lock;
 *   sw_backward_dense  the floor of any reverse sweep on this layout:
 *                      every node from the output down, adjoints cleared
 *                      by one memset, no reach tracking. Not a valid sweep
 *                      for a tape in general (an unreached node would add
 *                      0 * inf = nan to its operands), only a bound.
 *
 * Layout as csrc/tape.h: structure of arrays by node id, an edge range per
 * node into (edge_node, edge_partial). Built by test_bench_micro.py with
 * cffi at benchmark time, with pyad's flags; never committed as a binary.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t n_nodes, n_edges, top;
static uint32_t *edge_start, *edge_node, *stamp, epoch;
static double *value, *grad, *adjoint, *edge_partial;

static uint32_t leaf(double x)
{
    value[n_nodes] = x;
    edge_start[n_nodes + 1] = (uint32_t)n_edges;
    return (uint32_t)n_nodes++;
}

static uint32_t binary(double v, uint32_t a, double da, uint32_t b, double db)
{
    edge_node[n_edges] = a;
    edge_partial[n_edges++] = da;
    edge_node[n_edges] = b;
    edge_partial[n_edges++] = db;
    value[n_nodes] = v;
    edge_start[n_nodes + 1] = (uint32_t)n_edges;
    return (uint32_t)n_nodes++;
}

/* tree_sum([x[i] * x[i + 1 - n] + x[i] for i in range(n)]): returns the
 * number of nodes, or 0 when out of memory. */
size_t sw_build(const double *x, size_t n)
{
    size_t cap = 4 * n + 4;
    uint32_t *terms = malloc(n * sizeof *terms);
    edge_start = calloc(cap + 1, sizeof *edge_start);
    edge_node = malloc(2 * cap * sizeof *edge_node);
    stamp = calloc(cap, sizeof *stamp);
    value = malloc(cap * sizeof *value);
    grad = calloc(cap, sizeof *grad);
    adjoint = malloc(cap * sizeof *adjoint);
    edge_partial = malloc(2 * cap * sizeof *edge_partial);
    if (!terms || !edge_start || !edge_node || !stamp || !value || !grad ||
        !adjoint || !edge_partial)
        return 0;
    n_nodes = n_edges = 0;
    for (size_t i = 0; i < n; i++)
        leaf(x[i]);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)i, b = (uint32_t)((i + 1) % n);
        uint32_t m = binary(value[a] * value[b], a, value[b], b, value[a]);
        terms[i] = binary(value[m] + value[a], m, 1.0, a, 1.0);
    }
    for (size_t len = n; len > 1;) {
        size_t k = 0;
        for (size_t i = 0; i + 1 < len; i += 2)
            terms[k++] = binary(value[terms[i]] + value[terms[i + 1]], terms[i], 1.0,
                                terms[i + 1], 1.0);
        if (len % 2)
            terms[k++] = terms[len - 1];
        len = k;
    }
    top = terms[0];
    free(terms);
    return n_nodes;
}

double sw_value(void) { return value[top]; }
double sw_grad(size_t i) { return grad[i]; }
void sw_zero_grad(void) { memset(grad, 0, n_nodes * sizeof *grad); }

void sw_backward_reach(void)
{
    uint32_t *restrict st = stamp;
    double *restrict adj = adjoint, *restrict g = grad;
    const uint32_t *restrict es = edge_start, *restrict en = edge_node;
    const double *restrict ep = edge_partial;
    uint32_t e_now = ++epoch, s = (uint32_t)top;
    size_t pending = 1;
    st[s] = e_now;
    adj[s] = 1.0;
    for (uint32_t i = s; pending > 0; i--) {
        if (st[i] != e_now)
            continue;
        pending--;
        double a = adj[i];
        g[i] += a;
        for (uint32_t e = es[i], end = es[i + 1]; e < end; e++) {
            uint32_t p = en[e];
            double d = a * ep[e];
            if (st[p] != e_now) {
                st[p] = e_now;
                adj[p] = d;
                pending++;
            } else {
                adj[p] += d;
            }
        }
    }
}

void sw_backward_dense(void)
{
    double *restrict adj = adjoint, *restrict g = grad;
    const uint32_t *restrict es = edge_start, *restrict en = edge_node;
    const double *restrict ep = edge_partial;
    memset(adj, 0, (top + 1) * sizeof *adj);
    adj[top] = 1.0;
    for (size_t i = top + 1; i-- > 0;) {
        double a = adj[i];
        g[i] += a;
        for (uint32_t e = es[i], end = es[i + 1]; e < end; e++)
            adj[en[e]] += a * ep[e];
    }
}
