/* pyad_higher.h -- the higher-order part of the public C API (see pyad.h,
 * which includes this at its end: the cffi binding reads it in place).
 */
#ifndef PYAD_HIGHER_H
#define PYAD_HIGHER_H
#include <stddef.h>
#include <stdint.h>

/* ==== Higher order (issue 11): drive.c, hessian.c, sparsity.c, coloring.c,
 * lanes.c, tapegrad.c, bulk.c =================================================
 * Derivatives beyond the gradient of a program, by the sweeps of lanes.c:
 * forward tangents (jvp), weighted reverse sweeps (vjp), Hessian-vector
 * products by forward-over-reverse (one forward sweep carrying a tangent,
 * one reverse sweep carrying adjoints and their tangents, with each op's
 * partials run on dual numbers), dense and sparse Hessians and forward
 * Jacobians, and structural sparsity with a colouring. Like replay: no
 * lock, no Python, any number of threads at once; every buffer is checked
 * (PYAD_ERR_ARGS), nothing prints or aborts. A result is bit-identical
 * computed alone or as part of any batch, whatever the split [begin, end).
 *
 * Conventions of this section:
 *  - one point: x holds n_in values; directions (t, v) n_in; weights w
 *    n_out. In a batch, input i of point j is x[i][j * x_stride[i]] (any
 *    stride: 0 broadcasts one number, n_in walks the rows of an (N, n_in)
 *    array); directions and weights the same, per input and per output.
 *  - w: the function differentiated is sum_o w[o] * output o. NULL: every
 *    weight is 1. An output of weight 0 is left out (no adjoint flows from
 *    it, so its infinities cannot turn into nan); in a batch, a weight
 *    column of stride 0 holding 0 leaves it out, any other column seeds it.
 *  - values (n_out) and grad (n_in, the weighted gradient) are by-products;
 *    NULL skips them. In a batch, point j writes values[j * n_out ..],
 *    grads[j * n_in ..], and its main result at j times its size.
 *  - guards and error mode as pyad_program_eval (one point: PYAD_ERR_GUARD
 *    and info->guard) and pyad_program_eval_batch (a batch: guard_fail[j],
 *    *n_guard_fail; the first point whose values raise gives the status).
 *  - An input no seeded output depends on gets 0.0 (never -0.0).
 *  - patterns are CSR: row_ptr (rows + 1), col (nnz), columns strictly
 *    increasing in each row; color gives each column a colour in
 *    [0, n_colors) such that no row holds two columns of one colour (as
 *    pyad_sparsity_color makes); a Hessian pattern must be symmetric. All
 *    of it is checked (PYAD_ERR_ARGS), but only a structural superset of
 *    the non-zeros (as the pattern functions give) yields right values.
 */

/* Doubles of work one pyad_program_jvp / _vjp / _hvp call needs. */
size_t pyad_program_so_work_size(const pyad_program *p);

/* tangents[o] = d output o / dx . t (forward mode, one sweep). */
int pyad_program_jvp(const pyad_program *p, const double *x, const double *t,
                     double *values, double *tangents, double *work,
                     size_t work_len, pyad_fail_info *info);
/* grad = sum_o w[o] d output o / dx (one reverse sweep). */
int pyad_program_vjp(const pyad_program *p, const double *x, const double *w,
                     double *values, double *grad, double *work, size_t work_len,
                     pyad_fail_info *info);
/* hv = H v, H the Hessian of sum_o w[o] output o (forward-over-reverse);
 * grad, the gradient, comes with it. */
int pyad_program_hvp(const pyad_program *p, const double *x, const double *w,
                     const double *v, double *values, double *grad, double *hv,
                     double *work, size_t work_len, pyad_fail_info *info);
/* The dense Hessian H[n_in * n_in], row-major, exactly symmetric: column j
 * is H e_j (n_in Hessian-vector products run as lanes of a block), and the
 * lower triangle is mirrored. */
int pyad_program_hessian(const pyad_program *p, const double *x, const double *w,
                         double *values, double *grad, double *H,
                         pyad_fail_info *info);
/* The Hessian's values at the entries of a symmetric pattern (hval[nnz]),
 * from n_colors Hessian-vector products, exactly symmetric. */
int pyad_program_hessian_sparse(const pyad_program *p, const double *x,
                                const double *w, const int64_t *row_ptr,
                                const int64_t *col, size_t nnz, const int32_t *color,
                                size_t n_colors, double *values, double *grad,
                                double *hval, pyad_fail_info *info);
/* The Jacobian J[n_out * n_in] by forward mode (n_in tangents as lanes). */
int pyad_program_jacobian_fwd(const pyad_program *p, const double *x,
                              double *values, double *J, pyad_fail_info *info);
/* The Jacobian's values at the entries of an n_out x n_in pattern, from
 * n_colors forward sweeps. */
int pyad_program_jacobian_sparse(const pyad_program *p, const double *x,
                                 const int64_t *row_ptr, const int64_t *col,
                                 size_t nnz, const int32_t *color, size_t n_colors,
                                 double *values, double *jval, pyad_fail_info *info);

/* Batches: points [begin, end). */
int pyad_program_jvp_batch(const pyad_program *p, const double *const *x,
                           const size_t *x_stride, const double *const *t,
                           const size_t *t_stride, size_t begin, size_t end,
                           double *values, double *tangents, uint8_t *guard_fail,
                           size_t *n_guard_fail, pyad_fail_info *info);
int pyad_program_vjp_batch(const pyad_program *p, const double *const *x,
                           const size_t *x_stride, const double *const *w,
                           const size_t *w_stride, size_t begin, size_t end,
                           double *values, double *grads, uint8_t *guard_fail,
                           size_t *n_guard_fail, pyad_fail_info *info);
int pyad_program_hvp_batch(const pyad_program *p, const double *const *x,
                           const size_t *x_stride, const double *const *w,
                           const size_t *w_stride, const double *const *v,
                           const size_t *v_stride, size_t begin, size_t end,
                           double *values, double *grads, double *hvs,
                           uint8_t *guard_fail, size_t *n_guard_fail,
                           pyad_fail_info *info);
int pyad_program_hessian_batch(const pyad_program *p, const double *const *x,
                               const size_t *x_stride, const double *const *w,
                               const size_t *w_stride, size_t begin, size_t end,
                               double *values, double *grads, double *H,
                               uint8_t *guard_fail, size_t *n_guard_fail,
                               pyad_fail_info *info);
int pyad_program_hessian_sparse_batch(
    const pyad_program *p, const double *const *x, const size_t *x_stride,
    const double *const *w, const size_t *w_stride, const int64_t *row_ptr,
    const int64_t *col, size_t nnz, const int32_t *color, size_t n_colors,
    size_t begin, size_t end, double *values, double *grads, double *hvals,
    uint8_t *guard_fail, size_t *n_guard_fail, pyad_fail_info *info);
int pyad_program_jacobian_fwd_batch(const pyad_program *p, const double *const *x,
                                    const size_t *x_stride, size_t begin, size_t end,
                                    double *values, double *J, uint8_t *guard_fail,
                                    size_t *n_guard_fail, pyad_fail_info *info);
int pyad_program_jacobian_sparse_batch(
    const pyad_program *p, const double *const *x, const size_t *x_stride,
    const int64_t *row_ptr, const int64_t *col, size_t nnz, const int32_t *color,
    size_t n_colors, size_t begin, size_t end, double *values, double *jvals,
    uint8_t *guard_fail, size_t *n_guard_fail, pyad_fail_info *info);

/* Structural patterns, from the program and the registry (each op's
 * constant-zero partials and hess class): a superset of the non-zeros at
 * every point. The Jacobian's is n_out x n_in; the Hessian's (of sum_o
 * w[o] output o, w as above) n_in x n_in and symmetric. Call with col NULL
 * to learn *nnz, then with row_ptr and col of (rows + 1) and cap >= *nnz
 * entries (PYAD_ERR_ARGS if cap is short). A pattern too costly to build
 * (pathological growth of dependency sets) is reported dense. */
int pyad_program_jacobian_sparsity(const pyad_program *p, int64_t *row_ptr,
                                   int64_t *col, size_t cap, size_t *nnz);
int pyad_program_hessian_sparsity(const pyad_program *p, const double *w,
                                  int64_t *row_ptr, int64_t *col, size_t cap,
                                  size_t *nnz);
/* Colour the columns of an n_rows x n_cols CSR pattern so that no row
 * holds two columns of one colour (a distance-2 colouring of the column
 * graph): greedy in the natural order (optimal for banded patterns) and
 * largest-first, the fewer colours kept. color[n_cols]; *n_colors. */
int pyad_sparsity_color(size_t n_rows, size_t n_cols, const int64_t *row_ptr,
                        const int64_t *col, size_t nnz, int32_t *color,
                        size_t *n_colors);

/* On the tape (takes the lock): grad_out[i] = sum_k seeds[k] d outs[k] /
 * d wrt[i] (seeds NULL: all 1), by the tape's own sweep, so equal to what
 * backward() leaves in .grad of a fresh leaf; .grad is not touched. */
int pyad_gradient(const int64_t *outs, const double *seeds, size_t n_out,
                  const int64_t *wrt, size_t n_wrt, double *grad_out);
/* The live handles whose nodes out depends on (out's own included): the
 * first cap into handles, and *count of them all. */
int pyad_ancestor_handles(int64_t out, int64_t *handles, size_t cap, size_t *count);
/* n new leaves holding values[i], their handles into handles[i]; all or
 * nothing (on an error no leaf is made). */
int pyad_leaves(const double *values, size_t n, int64_t *handles);
/* Record op over n elements at once (bulk.c): operand j of element k is the
 * node of handles[j * n + k] when that is >= 0, else the constant
 * consts[j * n + k]; out[k] receives element k's new handle. Each element
 * is recorded as pyad_binary and the rest record one op, in order. All or
 * nothing: on an error no element is kept and *failed says which failed.
 * The thread's floating-point flags are left as they were. */
int pyad_record_many(int op, size_t arity, size_t n, const int64_t *handles,
                     const double *consts, int64_t *out, size_t *failed);
/* The three above, safe from Ctrl-C (CPython only; pyad/_transform.py,
 * _graphgrad.py, _arrays.py): vars (an id()) is a list of n pyad.Vars the
 * caller made with no handle (else HANDLE, and nothing is made); each new
 * handle (>= 0) is stored in its Var before the call returns, so that no
 * signal handler runs between a node's birth and a Var owning it (see
 * pyad_py_op in pyad.h). The handles are also written as above. */
int pyad_py_leaves(const double *values, size_t n, int64_t *handles, uintptr_t vars);
int pyad_py_grad_graph(int64_t out, int64_t seed_h, double seed_c, const int64_t *wrt,
                       size_t n_wrt, int stop_at_wrt, int64_t *grad_out, uintptr_t vars);
int pyad_py_record_many(int op, size_t arity, size_t n, const int64_t *handles,
                        const double *consts, int64_t *out, size_t *failed, uintptr_t vars);
/* ==== end of higher order ================================================= */

#endif
