/* fused_ref.c -- the hand-fused C reference for the "fastest autograd"
 * workload (bench/fastest_autograd.py defines it; read its docstring first).
 *
 * What a C programmer writes for this one computation: no tape, no op
 * codes, no interpreter. The forward pass is a straight loop over the node
 * array, one cycle (7 new nodes) per iteration; the reverse pass walks the
 * same cycles backwards with every adjoint written out by hand. Values and
 * adjoints live in two flat arrays the caller owns (allocated once, like the
 * work buffer of a compiled pyad function).
 *
 * Numerics follow pyad's op definitions where it matters for the 1e-12
 * check (softplus in the overflow-free form, sums left to right, softmax as
 * exp(x_k) / (e_0 + e_1 + e_2 + e_3) without a max shift); the softmax
 * backward uses the fused form  dx_k = y_k (g_k - sum_j g_j y_j)  that a hand
 * writer would, so its exps need not be stored. The softplus derivative is
 * sigmoid(x), recomputed in the reverse pass from the stored input (one
 * exp), as an evaluator that keeps only values must.
 *
 * Built by bench/fastest_autograd.py with cffi at benchmark time, with the
 * flags pyad itself is built with (-O3 -ffp-contract=off); never committed
 * as a binary.
 */
#include <math.h>
#include <stddef.h>

static inline double softplus(double x)
{
    return (x > 0.0 ? x : 0.0) + log1p(exp(-fabs(x)));
}

static inline double sigmoid(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

size_t fa_nodes(size_t n_leaves, size_t n_ops)
{
    /* ops 0, 1, 2 of a cycle append one node each, op 3 (softmax) four */
    return n_leaves + (n_ops / 4) * 7 + n_ops % 4;
}

/* The three one-node ops; k is the index of the node being made. */
static inline void op_forward(double *v, size_t k, size_t which)
{
    if (which == 0)
        v[k] = softplus(v[k - 10]);
    else if (which == 1)
        v[k] = v[k - 30] + v[k - 25] + v[k - 20] + v[k - 15];
    else
        v[k] = v[k - 20] * v[k - 10];
}

static inline void op_reverse(const double *v, double *a, size_t k, size_t which)
{
    double g = a[k];
    if (which == 0) {
        a[k - 10] += g * sigmoid(v[k - 10]);
    } else if (which == 1) {
        a[k - 30] += g;
        a[k - 25] += g;
        a[k - 20] += g;
        a[k - 15] += g;
    } else {
        a[k - 20] += g * v[k - 10];
        a[k - 10] += g * v[k - 20];
    }
}

/* Value of the last node; grad[i] = d last / d leaf i. v and a hold
 * fa_nodes(n_leaves, n_ops) doubles each; on return a[] holds the adjoint
 * of every node (the benchmark checks them all). n_leaves >= 30. */
double fa_value_and_grad(const double *leaves, size_t n_leaves, size_t n_ops,
                         double *v, double *a, double *grad)
{
    size_t n = fa_nodes(n_leaves, n_ops), cycles = n_ops / 4, k, c;

    for (k = 0; k < n_leaves; k++)
        v[k] = leaves[k];
    k = n_leaves;
    for (c = 0; c < cycles; c++, k += 7) {
        v[k] = softplus(v[k - 10]);
        v[k + 1] = v[k - 29] + v[k - 24] + v[k - 19] + v[k - 14];
        v[k + 2] = v[k - 18] * v[k - 8];
        double e0 = exp(v[k - 1]), e1 = exp(v[k]), e2 = exp(v[k + 1]), e3 = exp(v[k + 2]);
        double s = e0 + e1 + e2 + e3;
        v[k + 3] = e0 / s;
        v[k + 4] = e1 / s;
        v[k + 5] = e2 / s;
        v[k + 6] = e3 / s;
    }
    for (size_t r = 0; r < n_ops % 4; r++)
        op_forward(v, k + r, r);

    for (size_t i = 0; i < n; i++)
        a[i] = 0.0;
    a[n - 1] = 1.0;

    for (size_t r = n_ops % 4; r-- > 0;)
        op_reverse(v, a, k + r, r);
    while (k > n_leaves) {
        k -= 7;
        /* softmax: inputs k-1 .. k+2, outputs k+3 .. k+6 */
        double y0 = v[k + 3], y1 = v[k + 4], y2 = v[k + 5], y3 = v[k + 6];
        double g0 = a[k + 3], g1 = a[k + 4], g2 = a[k + 5], g3 = a[k + 6];
        double dot = g0 * y0 + g1 * y1 + g2 * y2 + g3 * y3;
        a[k - 1] += y0 * (g0 - dot);
        a[k] += y1 * (g1 - dot);
        a[k + 1] += y2 * (g2 - dot);
        a[k + 2] += y3 * (g3 - dot);
        /* product k+2 = (k-18) * (k-8) */
        double g = a[k + 2];
        a[k - 18] += g * v[k - 8];
        a[k - 8] += g * v[k - 18];
        /* sum k+1 of k-29, k-24, k-19, k-14 */
        g = a[k + 1];
        a[k - 29] += g;
        a[k - 24] += g;
        a[k - 19] += g;
        a[k - 14] += g;
        /* softplus k of k-10 */
        a[k - 10] += a[k] * sigmoid(v[k - 10]);
    }

    for (size_t i = 0; i < n_leaves; i++)
        grad[i] = a[i];
    return v[n - 1];
}
