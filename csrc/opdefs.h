/* opdefs.h -- the one definition of every op: its value and its partials.
 *
 * Each op of oplist.h defines here:
 *
 *   pyad_v_<name>        its value: a static inline function of its operands
 *                        (PYAD_VALUE_<name>(X, n, out), a statement over an
 *                        operand accessor, for the n-ary ops);
 *   PYAD_PARTIALS_<name> its partials, d value / d operand i, written ONCE
 *                        in a small algebra that ops.h instantiates three
 *                        ways: with doubles (the partials every evaluator
 *                        uses), with dual numbers (their tangents: the second
 *                        order of Hessian-vector products), and with a graph
 *                        builder (the backward pass recorded as ops:
 *                        backward(create_graph=True), so to any order);
 *   PYAD_NOTE_<name>     its domain and its conventions at kinks and ties.
 *
 * The algebra a partials formula may use:
 *   A(k, c)         the constant c
 *   A(op, a, ...)   the op `op` of oplist.h applied to algebra values
 *   X(j)            operand j;  Y  the op's value;  n  the operand count
 *   T               the algebra's value type (for locals)
 *   PUT(i, v)       the partial for operand i is v. Partials are PUT in
 *                   ascending i: evaluators accumulate in that order, and an
 *                   operand may appear twice (x * x).
 * Conditions use the `where` op (a where c > 0 else b), so the recorded
 * backward of a kink is itself piecewise. Values are computed in forms that
 * raise only the IEEE flags of the value itself (errstate checks them).
 */
#ifndef PYAD_OPDEFS_H
#define PYAD_OPDEFS_H
#include <math.h>
#include <stddef.h>

/* Every evaluator inlines the definitions (so that its loops vectorise:
 * a call per point would keep them scalar). */
#if defined(PYAD_OP_INLINE)
/* set by the file that includes this (lanes.c: see there) */
#elif defined(__GNUC__)
#define PYAD_OP_INLINE static inline __attribute__((always_inline))
#else
#define PYAD_OP_INLINE static inline
#endif

#include "opdefs_arith.h"
#include "opdefs_steps.h"
#include "opdefs_exp.h"
#include "opdefs_trig.h"
#include "opdefs_nary.h"
#include "opdefs_special.h"

#endif
