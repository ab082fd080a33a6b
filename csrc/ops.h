/* ops.h -- the op registry as every evaluator sees it.
 *
 * oplist.h lists the ops and opdefs.h defines each one once (value,
 * partials). This header turns those definitions into what the evaluators
 * use, all by macro expansion over the list, so no evaluator restates an
 * op's math:
 *   - the op codes (enum) and the table (ops.c);
 *   - three instantiations of each partials formula: with doubles
 *     (pyad_d_<name>), with dual numbers (pyad_dt_<name>: the partials and
 *     their tangents, for second order) and with a graph builder
 *     (pyad_op_partials_graph, for backward(create_graph=True));
 *   - switch cases that evaluate an op inline (PYAD_VALUE_CASE,
 *     PYAD_PARTIALS_CASE) for the replay loops, which define PYAD_X(j),
 *     PYAD_NOPS and the rest before expanding them.
 */
#ifndef PYAD_OPS_H
#define PYAD_OPS_H
#include <fenv.h>
#include <stddef.h>
#include <stdint.h>

#include "opdefs.h"
#include "oplist.h"
#include "pyad.h"

/* ---- codes and the table ---------------------------------------------------- */

#define PYAD_ENUM_(name, code, arity, hess, uf) PYAD_OP_##name = code,
typedef enum { PYAD_OP_LIST(PYAD_ENUM_) PYAD_OP_END_ } pyad_op_code;
#undef PYAD_ENUM_

#define PYAD_ARITY_1 1
#define PYAD_ARITY_2 2
#define PYAD_ARITY_3 3
#define PYAD_ARITY_N (-1)

typedef struct {
    const char *name;
    int arity;                /* 1, 2, 3, or -1 for n-ary */
    int hess;                 /* PYAD_HESS_* */
    const char *ufunc;        /* numpy's name, or "" */
    const char *note;         /* domain and kink conventions */
} pyad_op_row;

extern const pyad_op_row pyad_ops[];
extern const int pyad_n_ops;

/* 1 when op is a code of the table and n operands suit its arity. */
static inline int pyad_op_accepts(int op, size_t n)
{
    if (op < 0 || op >= pyad_n_ops)
        return 0;
    return pyad_ops[op].arity >= 0 ? (size_t)pyad_ops[op].arity == n : n > 0;
}

/* ---- algebra 1: doubles ------------------------------------------------------
 * A(op, ...) is op's value function; partials are plain numbers. */
#define PYAD_NUM(op, ...) pyad_v_##op(__VA_ARGS__)
static inline double pyad_v_k(double c) { return c; }

#define PYAD_XARR_(j) x[j]
#define PYAD_DPUT_(i, v) d[i] = (v)
#define PYAD_GEN_D_(name, code, arity, hess, uf)                                  \
    PYAD_OP_INLINE void pyad_d_##name(const double *x, size_t n, double y, double *d) \
    {                                                                             \
        (void)x; (void)n; (void)y;                                                \
        PYAD_PARTIALS_##name(PYAD_NUM, double, PYAD_XARR_, y, PYAD_DPUT_, n);     \
    }
PYAD_OP_LIST(PYAD_GEN_D_)
#undef PYAD_GEN_D_

/* ---- algebra 2: dual numbers (value, tangent) ----------------------------------
 * A(op, ...) of duals gives op's value and its tangent sum_i d_i t_i, with the
 * partials d_i of algebra 1. Running a partials formula on duals gives the
 * partials and their tangents: what forward-over-reverse needs. */
typedef struct {
    double v, t;
} pyad_dual;

#define PYAD_TAN(op, ...) pyad_t_##op(__VA_ARGS__)
static inline pyad_dual pyad_t_k(double c) { pyad_dual r = {c, 0.0}; return r; }

/* d * t, but 0 for a zero tangent: moving along a zero direction changes
 * nothing, even where a partial is infinite (sqrt at 0). */
static inline double pyad_dt_term_(double d, double t) { return t == 0.0 ? 0.0 : d * t; }

#define PYAD_GEN_T_1(name)                                                     \
    static inline pyad_dual pyad_t_##name(pyad_dual a)                         \
    {                                                                          \
        double x[1] = {a.v}, d[1];                                             \
        pyad_dual r;                                                           \
        r.v = pyad_v_##name(a.v);                                              \
        pyad_d_##name(x, 1, r.v, d);                                           \
        r.t = pyad_dt_term_(d[0], a.t);                                        \
        return r;                                                              \
    }
#define PYAD_GEN_T_2(name)                                                     \
    static inline pyad_dual pyad_t_##name(pyad_dual a, pyad_dual b)            \
    {                                                                          \
        double x[2] = {a.v, b.v}, d[2];                                        \
        pyad_dual r;                                                           \
        r.v = pyad_v_##name(a.v, b.v);                                         \
        pyad_d_##name(x, 2, r.v, d);                                           \
        r.t = pyad_dt_term_(d[0], a.t) + pyad_dt_term_(d[1], b.t);             \
        return r;                                                              \
    }
#define PYAD_GEN_T_3(name)                                                     \
    static inline pyad_dual pyad_t_##name(pyad_dual a, pyad_dual b, pyad_dual c) \
    {                                                                          \
        double x[3] = {a.v, b.v, c.v}, d[3];                                   \
        pyad_dual r;                                                           \
        r.v = pyad_v_##name(a.v, b.v, c.v);                                    \
        pyad_d_##name(x, 3, r.v, d);                                           \
        r.t = pyad_dt_term_(d[0], a.t) + pyad_dt_term_(d[1], b.t) +            \
              pyad_dt_term_(d[2], c.t);                                        \
        return r;                                                              \
    }
#define PYAD_GEN_T_N(name) /* n-ary ops are not used inside formulas */
#define PYAD_GEN_T_(name, code, arity, hess, uf) PYAD_GEN_T_##arity(name)
PYAD_OP_LIST(PYAD_GEN_T_)
#undef PYAD_GEN_T_

/* The partials of op at x (tangent xt, value y with tangent yt) and their
 * tangents: d[i] = d y/d x_i, dt[i] = sum_j d2 y/(d x_i d x_j) xt_j. */
#define PYAD_XDUAL_(j) pyad_dual_of_(x[j], xt[j])
#define PYAD_TPUT_(i, val) do { pyad_dual p_ = (val); d[i] = p_.v; dt[i] = p_.t; } while (0)
static inline pyad_dual pyad_dual_of_(double v, double t) { pyad_dual r = {v, t}; return r; }
#define PYAD_GEN_DT_(name, code, arity, hess, uf)                              \
    static inline void pyad_dt_##name(const double *x, const double *xt,      \
                                      size_t n, double y, double yt,         \
                                      double *d, double *dt)                 \
    {                                                                         \
        pyad_dual yd = {y, yt};                                               \
        (void)x; (void)xt; (void)n; (void)yd;                                 \
        PYAD_PARTIALS_##name(PYAD_TAN, pyad_dual, PYAD_XDUAL_, yd, PYAD_TPUT_, n); \
    }
PYAD_OP_LIST(PYAD_GEN_DT_)
#undef PYAD_GEN_DT_

/* ---- algebra 3: a graph builder ----------------------------------------------
 * A(op, ...) records op on the tape (constant operands folded), so a
 * partials formula records its partials as nodes: the backward pass as a
 * differentiable graph. The builder lives in sweep.c; `bld` names it. */
typedef struct pyad_builder pyad_builder;
#define PYAD_BCONST UINT32_MAX
typedef struct {
    uint32_t node;              /* PYAD_BCONST: the constant c */
    double c;
} pyad_bval;

pyad_bval pyad_b_op(pyad_builder *bld, int op, const pyad_bval *x, size_t n);
static inline pyad_bval pyad_b_k(pyad_builder *bld, double c)
{
    pyad_bval r = {PYAD_BCONST, c};
    (void)bld;
    return r;
}
#define PYAD_BLD(op, ...) pyad_b_##op(bld, __VA_ARGS__)
#define PYAD_GEN_B_1(name)                                                     \
    static inline pyad_bval pyad_b_##name(pyad_builder *bld, pyad_bval a)      \
    { return pyad_b_op(bld, PYAD_OP_##name, &a, 1); }
#define PYAD_GEN_B_2(name)                                                     \
    static inline pyad_bval pyad_b_##name(pyad_builder *bld, pyad_bval a, pyad_bval b) \
    { pyad_bval x[2] = {a, b}; return pyad_b_op(bld, PYAD_OP_##name, x, 2); }
#define PYAD_GEN_B_3(name)                                                     \
    static inline pyad_bval pyad_b_##name(pyad_builder *bld, pyad_bval a,      \
                                          pyad_bval b, pyad_bval c)            \
    { pyad_bval x[3] = {a, b, c}; return pyad_b_op(bld, PYAD_OP_##name, x, 3); }
#define PYAD_GEN_B_N(name)
#define PYAD_GEN_B_(name, code, arity, hess, uf) PYAD_GEN_B_##arity(name)
PYAD_OP_LIST(PYAD_GEN_B_)
#undef PYAD_GEN_B_

/* ---- generic entry points (ops.c) ---------------------------------------------- */

/* The value of op over x[0..n) (n must suit the arity). */
double pyad_op_value(int op, const double *x, size_t n);
/* d[i] = d value / d x[i]; y is the value. */
void pyad_op_partials(int op, const double *x, size_t n, double y, double *d);
/* The partials and their tangents along xt (yt: the value's tangent). */
void pyad_op_tangents(int op, const double *x, const double *xt, size_t n,
                      double y, double yt, double *d, double *dt);
/* The partials as builder values (recorded nodes or constants). */
void pyad_op_partials_graph(pyad_builder *bld, int op, const pyad_bval *x,
                            size_t n, pyad_bval y, pyad_bval *d);

/* ---- inline switch cases for the replay loops ------------------------------------
 * Inside `switch (op) { PYAD_OP_LIST(PYAD_VALUE_CASE) }` the evaluator
 * defines PYAD_X(j) (operand j's value), PYAD_NOPS (the operand count) and
 * PYAD_OUT (where the value goes); for PYAD_PARTIALS_CASE also PYAD_Y (the
 * value) and PYAD_PUT(i, d) (what to do with partial d of operand i). */
#define PYAD_VALUE_1(name) PYAD_OUT = pyad_v_##name(PYAD_X(0))
#define PYAD_VALUE_2(name) PYAD_OUT = pyad_v_##name(PYAD_X(0), PYAD_X(1))
#define PYAD_VALUE_3(name) PYAD_OUT = pyad_v_##name(PYAD_X(0), PYAD_X(1), PYAD_X(2))
#define PYAD_VALUE_N(name) PYAD_VALUE_##name(PYAD_X, PYAD_NOPS, PYAD_OUT)
#define PYAD_VALUE_CASE(name, code, arity, hess, uf) \
    case PYAD_OP_##name: PYAD_VALUE_##arity(name); break;
#define PYAD_PARTIALS_CASE(name, code, arity, hess, uf)                          \
    case PYAD_OP_##name:                                                         \
        PYAD_PARTIALS_##name(PYAD_NUM, double, PYAD_X, PYAD_Y, PYAD_PUT, PYAD_NOPS); \
        break;

/* ---- error modes ------------------------------------------------------------------ */

/* The IEEE exceptions that error modes can turn into errors. */
#define PYAD_FE_WATCHED (FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID | FE_UNDERFLOW)

/* The pyad_status for IEEE flags `raised` (fetestexcept) under error mode
 * `mode` (PYAD_RAISE_* bits): PYAD_OK unless the mode asks to raise one. */
int pyad_fp_status(int mode, int raised);

/* ==== higher order (issue 11): generic helpers for tangent.c, hessian.c,
 * sparsity.c. Expanded from the registry like everything above. ========== */

/* Algebra 2b: dual numbers as algebra 2, except that an op inside a
 * formula computes only the partials of its operands whose tangent is not
 * zero. The result is the same, bit for bit (term(d, 0) is 0 whatever d),
 * and pow(x, k) with a constant k never takes the log(x) of d/dk. */
#define PYAD_TAN2(op, ...) pyad_t2_##op(__VA_ARGS__)
static inline pyad_dual pyad_t2_k(double c) { pyad_dual r = {c, 0.0}; return r; }
#define PYAD_D2PUT_(i, v) d[i] = need[i] ? (v) : 0.0
#define PYAD_GEN_D2_(name, code, arity, hess, uf)                                 \
    static inline void pyad_d2_##name(const double *x, const uint8_t *need,      \
                                      size_t n, double y, double *d)             \
    {                                                                            \
        (void)x; (void)n; (void)y; (void)need;                                   \
        PYAD_PARTIALS_##name(PYAD_NUM, double, PYAD_XARR_, y, PYAD_D2PUT_, n);   \
    }
PYAD_OP_LIST(PYAD_GEN_D2_)
#undef PYAD_GEN_D2_
#define PYAD_GEN_T2_1(name)                                                    \
    static inline pyad_dual pyad_t2_##name(pyad_dual a)                        \
    {                                                                          \
        double x[1] = {a.v}, d[1];                                             \
        uint8_t need[1] = {a.t != 0.0};                                        \
        pyad_dual r;                                                           \
        r.v = pyad_v_##name(a.v);                                              \
        pyad_d2_##name(x, need, 1, r.v, d);                                    \
        r.t = pyad_dt_term_(d[0], a.t);                                        \
        return r;                                                              \
    }
#define PYAD_GEN_T2_2(name)                                                    \
    static inline pyad_dual pyad_t2_##name(pyad_dual a, pyad_dual b)           \
    {                                                                          \
        double x[2] = {a.v, b.v}, d[2];                                        \
        uint8_t need[2] = {a.t != 0.0, b.t != 0.0};                            \
        pyad_dual r;                                                           \
        r.v = pyad_v_##name(a.v, b.v);                                         \
        pyad_d2_##name(x, need, 2, r.v, d);                                    \
        r.t = pyad_dt_term_(d[0], a.t) + pyad_dt_term_(d[1], b.t);             \
        return r;                                                              \
    }
#define PYAD_GEN_T2_3(name)                                                    \
    static inline pyad_dual pyad_t2_##name(pyad_dual a, pyad_dual b, pyad_dual c) \
    {                                                                          \
        double x[3] = {a.v, b.v, c.v}, d[3];                                   \
        uint8_t need[3] = {a.t != 0.0, b.t != 0.0, c.t != 0.0};                \
        pyad_dual r;                                                           \
        r.v = pyad_v_##name(a.v, b.v, c.v);                                    \
        pyad_d2_##name(x, need, 3, r.v, d);                                    \
        r.t = pyad_dt_term_(d[0], a.t) + pyad_dt_term_(d[1], b.t) +            \
              pyad_dt_term_(d[2], c.t);                                        \
        return r;                                                              \
    }
#define PYAD_GEN_T2_N(name) /* n-ary ops are not used inside formulas */
#define PYAD_GEN_T2_(name, code, arity, hess, uf) PYAD_GEN_T2_##arity(name)
PYAD_OP_LIST(PYAD_GEN_T2_)
#undef PYAD_GEN_T2_

/* The partials formula of op `name` in the dual algebra (2b), as a
 * statement, for evaluators that generate their own switch cases (with a
 * loop over lanes inside each). They define PYAD_XD(j) (operand j as a
 * pyad_dual: value and tangent), PYAD_YD (the op's value and its tangent),
 * PYAD_NOPS, and PYAD_DPUT(i, dual): what to do with partial i and its
 * tangent. A PYAD_DPUT that does not evaluate its argument skips computing
 * it (the argument is an expression). */
#define PYAD_DUAL_PARTIALS(name) \
    PYAD_PARTIALS_##name(PYAD_TAN2, pyad_dual, PYAD_XD, PYAD_YD, PYAD_DPUT, PYAD_NOPS)

/* Algebra 4: structure. A value is a known constant or unknown (depends on
 * the operands); an op of constants is folded. Running a partials formula
 * in it tells which partials are a constant 0 whatever the operands
 * (comparisons, sign, where's condition): no derivative, of any order,
 * flows along such an edge, so sparsity patterns leave it out. */
typedef struct {
    int known;
    double c;
} pyad_sval;

#define PYAD_STR(op, ...) pyad_s_##op(__VA_ARGS__)
static inline pyad_sval pyad_s_k(double c) { pyad_sval r = {1, c}; return r; }
static inline pyad_sval pyad_s_unknown_(void) { pyad_sval r = {0, 0.0}; return r; }
#define PYAD_GEN_S_1(name)                                                     \
    static inline pyad_sval pyad_s_##name(pyad_sval a)                         \
    {                                                                          \
        pyad_sval r = {a.known, 0.0};                                          \
        if (r.known)                                                           \
            r.c = pyad_v_##name(a.c);                                          \
        return r;                                                              \
    }
#define PYAD_GEN_S_2(name)                                                     \
    static inline pyad_sval pyad_s_##name(pyad_sval a, pyad_sval b)            \
    {                                                                          \
        pyad_sval r = {a.known && b.known, 0.0};                               \
        if (r.known)                                                           \
            r.c = pyad_v_##name(a.c, b.c);                                     \
        return r;                                                              \
    }
#define PYAD_GEN_S_3(name)                                                     \
    static inline pyad_sval pyad_s_##name(pyad_sval a, pyad_sval b, pyad_sval c) \
    {                                                                          \
        pyad_sval r = {a.known && b.known && c.known, 0.0};                    \
        if (r.known)                                                           \
            r.c = pyad_v_##name(a.c, b.c, c.c);                                \
        return r;                                                              \
    }
#define PYAD_GEN_S_N(name)
#define PYAD_GEN_S_(name, code, arity, hess, uf) PYAD_GEN_S_##arity(name)
PYAD_OP_LIST(PYAD_GEN_S_)
#undef PYAD_GEN_S_

/* zero[i] = 1 when partial i of op over n operands is a constant 0. */
#define PYAD_SX_(j) pyad_s_unknown_()
#define PYAD_SPUT_(i, v)                                                       \
    do {                                                                       \
        pyad_sval s_ = (v);                                                    \
        zero[i] = (uint8_t)(s_.known && s_.c == 0.0);                          \
    } while (0)
#define PYAD_ZERO_CASE_(name, code, arity, hess, uf)                           \
    case PYAD_OP_##name:                                                       \
        PYAD_PARTIALS_##name(PYAD_STR, pyad_sval, PYAD_SX_, y_, PYAD_SPUT_, n); \
        break;
static inline void pyad_op_zero_partials(int op, size_t n, uint8_t *zero)
{
    pyad_sval y_ = pyad_s_unknown_();
    (void)y_;
    for (size_t i = 0; i < n; i++)
        zero[i] = 0;
    switch (op) {
        PYAD_OP_LIST(PYAD_ZERO_CASE_)
    default:
        break;
    }
}
#undef PYAD_ZERO_CASE_
#undef PYAD_SX_
#undef PYAD_SPUT_
/* ==== end of higher order =================================================== */

#endif
