/* drive.c -- running the lane sweeps (lanes.c) for a call: many directions
 * at one point, or a batch of points with a direction each; and the entry
 * points built directly on them: jvp, vjp, hvp, one point or a batch.
 *
 * Guards and the error mode behave as in replay.c and batch.c: after the
 * forward values, a guard miss is reported first (PYAD_ERR_GUARD for one
 * point, a guard_fail mask for a batch), then an IEEE exception the error
 * mode selects (the first point, in order, whose values raise).
 */
#include <stdlib.h>
#include <string.h>

#include "lanes.h"

/* ---- many directions at one point ---------------------------------------------- */

/* The guards and the error mode of the point (or batch lane) just
 * computed: PYAD_ERR_GUARD, an IEEE status, or PYAD_OK. */
static int check_point(const pyad_lanes *L, int raised, pyad_fail_info *info)
{
    if ((info->guard = pyad_lanes_failed_guard(L, 0)) >= 0)
        return PYAD_ERR_GUARD;
    if (raised) {
        size_t lane;
        return pyad_lanes_locate(L, 1, NULL, &lane, &info->node);
    }
    return PYAD_OK;
}

/* Set the input tangents of lanes [0, m) to directions base .. base + m. */
static void set_directions(pyad_lanes *L, size_t base, size_t m, size_t n_dirs,
                           const double *dirs, const int32_t *color)
{
    const pyad_program *p = L->p;
    for (size_t i = 0; i < p->n_in; i++) {
        double *t = L->tan + (size_t)p->input_slot[i] * L->B;
        for (size_t l = 0; l < m; l++) {
            size_t d = base + l;
            t[l] = dirs ? dirs[i * n_dirs + d]
                 : color ? (color[i] == (int32_t)d ? 1.0 : 0.0)
                 : (i == d ? 1.0 : 0.0);
        }
    }
}

int pyad_lanes_at_point(pyad_lanes *L, const double *x, int flags, size_t n_dirs,
                        const double *dirs, const int32_t *color, double *R,
                        double *values, double *grad, pyad_fail_info *info)
{
    const pyad_program *p = L->p;
    const size_t B = L->B;
    const int second = (flags & PYAD_LANES_SECOND) != 0;
    const int rev = second || (flags & PYAD_LANES_REVERSE);
    const int fwd = second || (flags & PYAD_LANES_TANGENT);
    const int tparts = fwd ? PYAD_FWD_TANGENTS | (second ? PYAD_FWD_SECOND : 0) : 0;
    int mode = pyad_get_errmode(), raised = 0, st;
    int parts = PYAD_FWD_VALUES | PYAD_FWD_PARTIALS;
    size_t m = n_dirs < B ? n_dirs : B;
    info->point = info->node = info->guard = -1;
    for (size_t i = 0; i < p->n_in; i++)
        L->val[p->input_slot[i]] = x[i];
    if (mode) {             /* values alone first: only they are checked */
        raised = pyad_lanes_values_raised(L, 1, mode);
        parts = PYAD_FWD_PARTIALS;
    }
    /* the point's forward sweep, fused with the first block's tangents */
    if (fwd && n_dirs) {
        set_directions(L, 0, m, n_dirs, dirs, color);
        pyad_lanes_forward(L, m, parts | tparts);
    } else {
        pyad_lanes_forward(L, 1, parts);
    }
    if ((st = check_point(L, raised, info)) != PYAD_OK)
        return st;
    if (values)
        for (size_t o = 0; o < p->n_out; o++)
            values[o] = L->val[p->output_slot[o]];
    for (size_t base = 0; fwd && base < n_dirs; base += B) {
        m = n_dirs - base < B ? n_dirs - base : B;
        if (base) {
            set_directions(L, base, m, n_dirs, dirs, color);
            pyad_lanes_forward(L, m, tparts);
        }
        if (rev)
            pyad_lanes_reverse(L, m, second);
        if (second) {
            for (size_t i = 0; i < p->n_in; i++)
                for (size_t l = 0; l < m; l++)
                    R[i * n_dirs + base + l] = pyad_lanes_hv(L, i, l);
        } else if (R) {
            for (size_t o = 0; o < p->n_out; o++) {
                const double *t = L->tan + (size_t)p->output_slot[o] * B;
                for (size_t l = 0; l < m; l++)
                    R[o * n_dirs + base + l] = t[l];
            }
        }
    }
    if (grad) {
        if (!n_dirs || !rev || !fwd)
            pyad_lanes_reverse(L, 0, 0);
        for (size_t i = 0; i < p->n_in; i++)
            grad[i] = pyad_lanes_grad(L, i, 0);
    }
    return PYAD_OK;
}

/* ---- a batch of points, one direction each ------------------------------------------ */

int pyad_lanes_batch(const pyad_program *p, int flags, const pyad_columns *cols,
                     size_t begin, size_t end, double *values, double *tangents,
                     double *grads, double *hvs, uint8_t *guard_fail,
                     size_t *n_guard_fail, pyad_fail_info *info)
{
    const int second = (flags & PYAD_LANES_SECOND) != 0;
    const int fwd = second || (flags & PYAD_LANES_TANGENT);
    const int rev = second || (flags & PYAD_LANES_REVERSE);
    const int tparts = fwd ? PYAD_FWD_TANGENTS | (second ? PYAD_FWD_SECOND : 0) : 0;
    pyad_lanes L;
    size_t B, misses = 0;
    int mode = pyad_get_errmode(), st = PYAD_OK;
    info->point = info->node = info->guard = -1;
    *n_guard_fail = 0;
    if (end == begin)
        return PYAD_OK;
    B = pyad_lanes_choose(p, end - begin, 0);
    if ((st = pyad_lanes_new(&L, p, B, B)) != PYAD_OK)
        return st;
    /* A weight column of stride 0 holding 0 leaves its output out; any
     * other column seeds it (for every point: the seeds of a block never
     * depend on which points share it). */
    for (size_t o = 0; o < p->n_out; o++)
        L.seeded[o] = !cols->w || cols->w_stride[o] || cols->w[o][0] != 0.0;
    for (size_t base = begin; base < end; base += B) {
        size_t m = end - base < B ? end - base : B, lane;
        int raised, parts;
        for (size_t i = 0; i < p->n_in; i++) {
            size_t s = p->input_slot[i];
            for (size_t l = 0; l < m; l++)
                L.val[s * B + l] = cols->x[i][(base + l) * cols->x_stride[i]];
            if (fwd)
                for (size_t l = 0; l < m; l++)
                    L.tan[s * B + l] = cols->t[i][(base + l) * cols->t_stride[i]];
        }
        for (size_t o = 0; o < p->n_out && rev; o++)
            for (size_t l = 0; l < m; l++)
                L.wt[o * B + l] = cols->w ? cols->w[o][(base + l) * cols->w_stride[o]] : 1.0;
        parts = PYAD_FWD_VALUES | PYAD_FWD_PARTIALS | tparts;
        raised = 0;
        if (mode) {         /* values alone first: only they are checked */
            raised = pyad_lanes_values_raised(&L, m, mode);
            parts &= ~PYAD_FWD_VALUES;
        }
        pyad_lanes_forward(&L, m, parts);
        for (size_t l = 0; l < m; l++) {
            guard_fail[base + l] = pyad_lanes_failed_guard(&L, l) >= 0;
            misses += guard_fail[base + l];
        }
        if (raised) {
            st = pyad_lanes_locate(&L, m, guard_fail + base, &lane, &info->node);
            if (st != PYAD_OK) {
                info->point = (int64_t)(base + lane);
                break;
            }
        }
        if (rev)
            pyad_lanes_reverse(&L, m, second);
        for (size_t o = 0; o < p->n_out; o++) {
            const double *v = L.val + (size_t)p->output_slot[o] * B;
            const double *t = L.tan + (size_t)p->output_slot[o] * B;
            for (size_t l = 0; l < m; l++) {
                if (values)
                    values[(base + l) * p->n_out + o] = v[l];
                if (tangents)
                    tangents[(base + l) * p->n_out + o] = t[l];
            }
        }
        for (size_t i = 0; i < p->n_in; i++)
            for (size_t l = 0; l < m; l++) {
                if (grads)
                    grads[(base + l) * p->n_in + i] = pyad_lanes_grad(&L, i, l);
                if (hvs)
                    hvs[(base + l) * p->n_in + i] = pyad_lanes_hv(&L, i, l);
            }
    }
    *n_guard_fail = misses;
    pyad_lanes_free(&L);
    return st;
}

/* 1 when every column of a batch is given (NULL arrays only for none). */
int pyad_columns_ok(const double *const *c, const size_t *stride, size_t n)
{
    if (!n)
        return 1;
    if (!c || !stride)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!c[i])
            return 0;
    return 1;
}

/* ---- entry points: one point -------------------------------------------------------- */

size_t pyad_program_so_work_size(const pyad_program *p)
{
    size_t bytes;
    if (!p)
        return 0;
    bytes = pyad_lanes_bytes(p, 1, 1);
    return bytes == SIZE_MAX ? SIZE_MAX : bytes / sizeof(double) + 1;
}

/* Lanes for one point and one direction over the caller's work. */
static int bind_work(pyad_lanes *L, const pyad_program *p, double *work,
                     size_t work_len, pyad_fail_info *info)
{
    size_t need = pyad_program_so_work_size(p);
    if (!work || !info || need == SIZE_MAX || work_len < need)
        return PYAD_ERR_ARGS;
    pyad_lanes_bind(L, p, 1, 1, work);
    return PYAD_OK;
}

int pyad_program_jvp(const pyad_program *p, const double *x, const double *t,
                     double *values, double *tangents, double *work,
                     size_t work_len, pyad_fail_info *info)
{
    pyad_lanes L;
    int st;
    if (!p || (p->n_in && (!x || !t)) || (p->n_out && !tangents))
        return PYAD_ERR_ARGS;
    if ((st = bind_work(&L, p, work, work_len, info)) != PYAD_OK)
        return st;
    return pyad_lanes_at_point(&L, x, PYAD_LANES_TANGENT, 1, t, NULL, tangents,
                               values, NULL, info);
}

int pyad_program_vjp(const pyad_program *p, const double *x, const double *w,
                     double *values, double *grad, double *work,
                     size_t work_len, pyad_fail_info *info)
{
    pyad_lanes L;
    int st;
    if (!p || (p->n_in && (!x || !grad)))
        return PYAD_ERR_ARGS;
    if ((st = bind_work(&L, p, work, work_len, info)) != PYAD_OK)
        return st;
    pyad_lanes_seed_shared(&L, w);
    return pyad_lanes_at_point(&L, x, PYAD_LANES_REVERSE, 0, NULL, NULL, NULL,
                               values, grad, info);
}

int pyad_program_hvp(const pyad_program *p, const double *x, const double *w,
                     const double *v, double *values, double *grad, double *hv,
                     double *work, size_t work_len, pyad_fail_info *info)
{
    pyad_lanes L;
    int st;
    if (!p || (p->n_in && (!x || !v || !hv)))
        return PYAD_ERR_ARGS;
    if ((st = bind_work(&L, p, work, work_len, info)) != PYAD_OK)
        return st;
    pyad_lanes_seed_shared(&L, w);
    return pyad_lanes_at_point(&L, x, PYAD_LANES_SECOND, 1, v, NULL, hv, values,
                               grad, info);
}

/* ---- entry points: batches ------------------------------------------------------------ */

static int batch_args(const pyad_program *p, const pyad_columns *c, size_t begin,
                      size_t end, uint8_t *guard_fail, size_t *n_guard_fail,
                      pyad_fail_info *info)
{
    if (!p || !guard_fail || !n_guard_fail || !info || end < begin)
        return PYAD_ERR_ARGS;
    if (!pyad_columns_ok(c->x, c->x_stride, p->n_in))
        return PYAD_ERR_ARGS;
    if (c->t && !pyad_columns_ok(c->t, c->t_stride, p->n_in))
        return PYAD_ERR_ARGS;
    if (c->w && !pyad_columns_ok(c->w, c->w_stride, p->n_out))
        return PYAD_ERR_ARGS;
    return PYAD_OK;
}

int pyad_program_jvp_batch(const pyad_program *p, const double *const *x,
                           const size_t *x_stride, const double *const *t,
                           const size_t *t_stride, size_t begin, size_t end,
                           double *values, double *tangents, uint8_t *guard_fail,
                           size_t *n_guard_fail, pyad_fail_info *info)
{
    pyad_columns c = {x, x_stride, t, t_stride, NULL, NULL};
    int st = batch_args(p, &c, begin, end, guard_fail, n_guard_fail, info);
    if (st != PYAD_OK || (p->n_in && !t) || (p->n_out && !tangents))
        return st != PYAD_OK ? st : PYAD_ERR_ARGS;
    return pyad_lanes_batch(p, PYAD_LANES_TANGENT, &c, begin, end, values,
                            tangents, NULL, NULL, guard_fail, n_guard_fail, info);
}

int pyad_program_vjp_batch(const pyad_program *p, const double *const *x,
                           const size_t *x_stride, const double *const *w,
                           const size_t *w_stride, size_t begin, size_t end,
                           double *values, double *grads, uint8_t *guard_fail,
                           size_t *n_guard_fail, pyad_fail_info *info)
{
    pyad_columns c = {x, x_stride, NULL, NULL, w, w_stride};
    int st = batch_args(p, &c, begin, end, guard_fail, n_guard_fail, info);
    if (st != PYAD_OK || (p->n_in && !grads))
        return st != PYAD_OK ? st : PYAD_ERR_ARGS;
    return pyad_lanes_batch(p, PYAD_LANES_REVERSE, &c, begin, end, values, NULL,
                            grads, NULL, guard_fail, n_guard_fail, info);
}

int pyad_program_hvp_batch(const pyad_program *p, const double *const *x,
                           const size_t *x_stride, const double *const *w,
                           const size_t *w_stride, const double *const *v,
                           const size_t *v_stride, size_t begin, size_t end,
                           double *values, double *grads, double *hvs,
                           uint8_t *guard_fail, size_t *n_guard_fail,
                           pyad_fail_info *info)
{
    pyad_columns c = {x, x_stride, v, v_stride, w, w_stride};
    int st = batch_args(p, &c, begin, end, guard_fail, n_guard_fail, info);
    if (st != PYAD_OK || (p->n_in && (!v || !hvs)))
        return st != PYAD_OK ? st : PYAD_ERR_ARGS;
    return pyad_lanes_batch(p, PYAD_LANES_SECOND, &c, begin, end, values, NULL,
                            grads, hvs, guard_fail, n_guard_fail, info);
}
