/* ops.c -- the op table, and evaluation of an op by code.
 *
 * Everything here is expanded from the registry (oplist.h, opdefs.h):
 * nothing restates an op's math.
 */
#include <math.h>

#include "ops.h"
#include "pyad.h"

/* Codes are dense from 0 in list order, so that the table can be indexed by
 * code: each row's code must be the previous one plus one (which also makes
 * them unique). Checked at compile time. */
#define PYAD_CHECK_(name, code, arity, hess, uf) \
    _Static_assert(PYAD_OP_##name == code, "op code of " #name);
PYAD_OP_LIST(PYAD_CHECK_)
#undef PYAD_CHECK_
#define PYAD_COUNT_(name, code, arity, hess, uf) +1
_Static_assert((0 PYAD_OP_LIST(PYAD_COUNT_)) == PYAD_OP_END_,
               "op codes must be dense from 0 and in list order");
#undef PYAD_COUNT_

#define PYAD_ROW_(name, code, arity, hess, uf) \
    [code] = {#name, PYAD_ARITY_##arity, PYAD_HESS_##hess, uf, PYAD_NOTE_##name},
const pyad_op_row pyad_ops[] = {PYAD_OP_LIST(PYAD_ROW_)};
#undef PYAD_ROW_
const int pyad_n_ops = (int)(sizeof pyad_ops / sizeof pyad_ops[0]);

double pyad_op_value(int op, const double *x, size_t n)
{
    double out = NAN;
#define PYAD_X(j) x[j]
#define PYAD_NOPS n
#define PYAD_OUT out
    switch (op) {
        PYAD_OP_LIST(PYAD_VALUE_CASE)
    default:
        break;
    }
#undef PYAD_X
#undef PYAD_NOPS
#undef PYAD_OUT
    return out;
}

#define PYAD_D_CASE_(name, code, arity, hess, uf) \
    case PYAD_OP_##name: pyad_d_##name(x, n, y, d); break;
void pyad_op_partials(int op, const double *x, size_t n, double y, double *d)
{
    switch (op) {
        PYAD_OP_LIST(PYAD_D_CASE_)
    default:
        break;
    }
}
#undef PYAD_D_CASE_

#define PYAD_DT_CASE_(name, code, arity, hess, uf) \
    case PYAD_OP_##name: pyad_dt_##name(x, xt, n, y, yt, d, dt); break;
void pyad_op_tangents(int op, const double *x, const double *xt, size_t n,
                      double y, double yt, double *d, double *dt)
{
    switch (op) {
        PYAD_OP_LIST(PYAD_DT_CASE_)
    default:
        break;
    }
}
#undef PYAD_DT_CASE_

#define PYAD_BX_(j) x[j]
#define PYAD_BPUT_(i, v) d[i] = (v)
#define PYAD_B_CASE_(name, code, arity, hess, uf)                              \
    case PYAD_OP_##name:                                                       \
        PYAD_PARTIALS_##name(PYAD_BLD, pyad_bval, PYAD_BX_, y, PYAD_BPUT_, n); \
        break;
void pyad_op_partials_graph(pyad_builder *bld, int op, const pyad_bval *x,
                            size_t n, pyad_bval y, pyad_bval *d)
{
    (void)y;
    switch (op) {
        PYAD_OP_LIST(PYAD_B_CASE_)
    default:
        break;
    }
}
#undef PYAD_B_CASE_

int pyad_fp_status(int mode, int raised)
{
    if ((mode & PYAD_RAISE_INVALID) && (raised & FE_INVALID))
        return PYAD_ERR_INVALID;
    if ((mode & PYAD_RAISE_DIVIDE) && (raised & FE_DIVBYZERO))
        return PYAD_ERR_DIVIDE;
    if ((mode & PYAD_RAISE_OVERFLOW) && (raised & FE_OVERFLOW))
        return PYAD_ERR_OVERFLOW;
    if ((mode & PYAD_RAISE_UNDERFLOW) && (raised & FE_UNDERFLOW))
        return PYAD_ERR_UNDERFLOW;
    return PYAD_OK;
}

/* ---- the table, for the Python layer ---------------------------------------- */

int pyad_op_count(void) { return pyad_n_ops; }

const char *pyad_op_name(int op)
{
    return (op >= 0 && op < pyad_n_ops) ? pyad_ops[op].name : "";
}

int pyad_op_arity(int op)
{
    return (op >= 0 && op < pyad_n_ops) ? pyad_ops[op].arity : 0;
}

int pyad_op_hess(int op)
{
    return (op >= 0 && op < pyad_n_ops) ? pyad_ops[op].hess : -1;
}

const char *pyad_op_ufunc(int op)
{
    return (op >= 0 && op < pyad_n_ops) ? pyad_ops[op].ufunc : "";
}

const char *pyad_op_note(int op)
{
    return (op >= 0 && op < pyad_n_ops) ? pyad_ops[op].note : "";
}
