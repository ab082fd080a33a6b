/* special.h -- the numerical kernels of the special functions (special.c).
 *
 * The values of the ops of opdefs_special.h. They are out-of-line
 * functions, so every evaluator (eager, point replay, batch lanes) calls
 * the same machine code and gets the same bits. Each raises only the IEEE
 * flags of its own value (errstate): a flag raised by an intermediate
 * (exp(-x^2) underflowing inside a normal result, say) is put back.
 */
#ifndef PYAD_SPECIAL_H
#define PYAD_SPECIAL_H
#include <stddef.h>

double pyad_sp_lgamma(double x);
double pyad_sp_digamma(double x);
/* psi^(n)(x) for a non-negative integer n (polygamma(0, x) = digamma) */
double pyad_sp_polygamma(double n, double x);
double pyad_sp_logaddexp(double a, double b);
double pyad_sp_xlogy(double x, double y);
double pyad_sp_xlog1py(double x, double y);
double pyad_sp_ndtr(double x);
double pyad_sp_log_ndtr(double x);
/* d/dx log_ndtr(x) = phi(x) / Phi(x), accurate for x down to -inf */
double pyad_sp_dlog_ndtr(double x);
double pyad_sp_ndtri(double p);

/* The lower tail of the normal distribution, u = 1/x^2: sqrt(2 pi) |x|
 * exp(x^2/2) Phi(x) = 1 + u T(u) asymptotically, T(u) = sum_k (-1)^(k+1)
 * (2k+1)!! u^k (k = 0..24: below 1e-18 from |x| = 10). special.c and
 * opdefs_special.h evaluate T from these coefficients. */
#define PYAD_SP_TAIL_TERMS 25
#define PYAD_SP_TAIL_COEFS { \
    -1.0, 3.0, -15.0, 105.0, \
    -945.0, 10395.0, -135135.0, 2027025.0, \
    -34459425.0, 654729075.0, -13749310575.0, 316234143225.0, \
    -7905853580625.0, 213458046676875.0, -6190283353629375.0, 191898783962510624.0, \
    -6332659870762850304.0, 221643095476699758592.0, -8200794532637891887104.0, 319830986772877752139776.0, \
    -13113070457687987770621952.0, 563862029680583512791449600.0, -25373791335626255807872499712.0, 1192568192774434172503588864000.0, \
    -58435841445947270793501157097472.0 \
}
/* below this, dlog_ndtr and its derivative use the series */
#define PYAD_SP_TAIL_FROM (-10.0)
double pyad_sp_erfinv(double x);

#endif
