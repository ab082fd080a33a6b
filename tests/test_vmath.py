"""pyad's own elementary functions (csrc/vmath.h, docs/vmath.md): accuracy
against mpmath, special values and IEEE flags against glibc, the same bits
from the scalar and point kernels, the SSE2 and the AVX2 vector helpers.

The default run takes a few seconds; PYAD_VMATH_FULL=1 adds the large
random sweep (~1e6 points per kernel, minutes)."""

import math
import os
import struct
import sys

import numpy as np
import pytest
import vmath_support as vs

from pyad._lib import ffi, lib

# Max ulp error per kernel as documented in docs/vmath.md (the measured
# maximum of the full sweep, rounded up); every one is below 1.
BOUND = {
    "exp": 0.56,
    "expm1": 0.62,
    "log": 0.65,
    "log1p": 0.66,
    "sin": 0.61,
    "cos": 0.61,
    "tanh": 0.59,
    "cosh": 0.58,
    "sinh": 0.59,
}
FULL = os.environ.get("PYAD_VMATH_FULL") == "1"
HAVE_AVX2 = vs.have_avx2()
VECTOR_WAYS = [vs.VECTOR] + ([vs.AVX2] if HAVE_AVX2 else [])
INF, NAN = math.inf, math.nan


def _d(u):
    return struct.unpack("<d", struct.pack("<Q", u))[0]


# Special and threshold arguments; their neighbours are added below.
SPECIAL = [
    0.0, -0.0, INF, -INF, NAN, -NAN,
    _d(0x7FF4000000000001), _d(0x7FF8000000000123), _d(0xFFF8000000000042),  # sNaN, payloads
    5e-324, -5e-324, 1e-310, -1e-310, 2.2250738585072014e-308, -2.2250738585072014e-308,
    1e-300, -1e-300, 2.0**-60, 2.0**-54, 2.0**-28, 2.0**-27, 2.0**-20, -(2.0**-20), 1e-5,
    0.5, 1.0, -1.0, 2.0, -2.0, math.pi / 4, math.pi / 2, math.pi, 3 * math.pi / 4,
    709.782712893384, 710.0, 1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308,
    -708.3964185322641, -708.4, -745.1332191019411, -745.1332191019412, -746.0, -1000.0,
    -37.5, -40.0, 19.06, 20.0, 22.0, -22.0, 2.0**20, -(2.0**20), 1e22, -1e22,
    710.4758600739439, -710.4758600739439, 711.0, 2.0**-26,
    600.0, -600.0, 704.0, -704.0,  # exp: where the table path ends, was
]  # fmt: skip
_fin = [v for v in SPECIAL if math.isfinite(v)]
ARGS = np.array(
    SPECIAL + [math.nextafter(v, INF) for v in _fin] + [math.nextafter(v, -INF) for v in _fin]
)


def _same(a, b):
    """Equal bits, or both nan."""
    return (vs.bits(a) == vs.bits(b)) | (np.isnan(a) & np.isnan(b))


def _scan(centre, n):
    """The 2n doubles around centre."""
    return vs.from_bits(
        (vs.bits(np.array([centre])).astype(np.int64) + np.arange(-n, n)).astype(np.uint64)
    )


def _flag_args():
    rng = np.random.default_rng(5)
    return np.concatenate(
        [
            ARGS,
            rng.integers(0, 2**64, 20000, dtype=np.uint64).view(np.float64),  # any bits
            _scan(-708.3964185322641, 500),  # exp: subnormal results start
            rng.uniform(-708.4, -590.0, 20000),  # exp: no intermediate underflows
            _scan(-745.1332191019411, 500),  # exp: results reach 0
            _scan(709.782712893384, 500),  # exp, expm1: overflow
            _scan(710.4758600739439, 500),  # cosh, sinh: overflow
            _scan(-710.4758600739439, 500),
            _scan(2.2250738585072014e-308, 200),  # tiny results: underflow or not
            _scan(-2.2250738585072014e-308, 200),
            _scan(-1.0, 200),  # log1p's pole
        ]
    )


FLAG_ARGS = _flag_args()


@pytest.mark.parametrize("name", vs.NAMES)
def test_accuracy_against_mpmath(name):
    res = vs.sweep(name, 12000 if FULL else 150, seed=11)
    worst = max(err for _, err, _ in res.values())
    assert worst < BOUND[name], res


@pytest.mark.skipif(not FULL, reason="large sweep: set PYAD_VMATH_FULL=1")
@pytest.mark.parametrize("name", vs.NAMES)
def test_accuracy_full_sweep(name):
    res = vs.sweep(name, 250000, procs=os.cpu_count() or 1)
    sys.stdout.write(f"\n{name}: {res}\n")
    assert sum(points for points, _, _ in res.values()) >= 10**6
    assert max(err for _, err, _ in res.values()) < BOUND[name], res


@pytest.mark.parametrize("name", vs.NAMES)
def test_special_values_as_glibc(name):
    ours, _ = vs.run_each(name, ARGS, vs.SCALAR)
    glibc, _ = vs.run_each(name, ARGS, vs.LIBM)
    # Where glibc's result is exact (nan with its payload, +-inf, zeros of
    # either sign, +-1 from tanh or cos, -1 from expm1) ours has the same
    # bits; elsewhere both are close to the truth, so within 2 ulps of each
    # other (glibc's tanh, cosh and sinh err by up to ~2 ulps; ours are
    # checked against mpmath above).
    exact = np.isnan(glibc) | np.isinf(glibc) | (glibc == 0) | (np.abs(glibc) == 1)
    exact &= ~((np.abs(glibc) == 1) & np.isfinite(ARGS) & (np.abs(ARGS) < 19))
    bad = exact & ~_same(ours, glibc)
    assert not bad.any(), list(zip(ARGS[bad], ours[bad], glibc[bad]))
    with np.errstate(invalid="ignore"):
        close = ~exact & (np.abs(ours - glibc) > 2 * np.spacing(np.abs(glibc)))
    assert not close.any(), list(zip(ARGS[close], ours[close], glibc[close]))


@pytest.mark.parametrize("name", vs.NAMES)
@pytest.mark.parametrize("how", [vs.SCALAR, vs.POINT] + VECTOR_WAYS)
def test_flags_per_element_as_glibc(name, how):
    _, ours = vs.run_each(name, FLAG_ARGS, how)
    _, glibc = vs.run_each(name, FLAG_ARGS, vs.LIBM)
    bad = ours != glibc
    assert not bad.any(), list(zip(FLAG_ARGS[bad][:10], ours[bad][:10], glibc[bad][:10]))


@pytest.mark.parametrize("name", vs.NAMES + ["sincos"])
@pytest.mark.parametrize("how", VECTOR_WAYS)
def test_flags_of_mixed_vector_lanes(name, how):
    """A lane's flags never leak from, or into, its neighbours: a call over
    a pattern [a, b, a, b, ...] raises flags(a) | flags(b), exactly."""
    kernel = "sin" if name == "sincos" else name
    _, single = vs.run_each(kernel, ARGS, vs.LIBM)
    if name == "sincos":
        _, cos_flags = vs.run_each("cos", ARGS, vs.LIBM)
        single = single | cos_flags
    rng = np.random.default_rng(3)
    pairs = rng.integers(0, len(ARGS), (400, 2))
    for i, j in pairs:
        x = np.array([ARGS[i], ARGS[j]] * 8)
        _, raised = vs.run(name, x, how)
        assert raised == single[i] | single[j], (ARGS[i], ARGS[j])


# Ordinary arguments of each kernel (the vector helpers' lean path).
ORDINARY = {
    "exp": lambda r, n: r.uniform(-599, 599, n),
    "expm1": lambda r, n: r.uniform(-39, 39, n),
    "log": lambda r, n: vs.positive_bits(r, 2.2250738585072014e-308, 1e300, n),
    "log1p": lambda r, n: r.uniform(-0.999, 1000, n),
    "sin": lambda r, n: r.uniform(-1e6, 1e6, n),
    "cos": lambda r, n: r.uniform(-1e6, 1e6, n),
    "sincos": lambda r, n: r.uniform(-1e6, 1e6, n),
    "tanh": lambda r, n: r.uniform(-19, 19, n),
    "cosh": lambda r, n: r.uniform(-700, 700, n),
    "sinh": lambda r, n: r.uniform(-21.9, 21.9, n),
}


def _mixed(rng, n, name):
    """Runs of ordinary arguments (whole chunks of the vector helpers, and
    a chunk with one rare lane) then every kind of argument, shuffled."""
    parts = [ARGS, FLAG_ARGS[len(ARGS) : len(ARGS) + 4000]]
    for kernel in vs.NAMES:
        parts += list(vs.regions(kernel, rng, 300).values())
    x = np.concatenate(parts)
    ordinary = ORDINARY[name](rng, 1000)
    ordinary[700] = NAN
    return np.concatenate([ORDINARY[name](rng, 600), ordinary, x[rng.permutation(len(x))]])[:n]


@pytest.mark.parametrize("name", vs.NAMES + ["sincos"])
def test_scalar_and_vector_give_the_same_bits(name):
    x = _mixed(np.random.default_rng(8), 20000, name)
    want, want_flags = vs.run_each(name, x, vs.SCALAR)
    for how in [vs.SCALAR, vs.POINT] + VECTOR_WAYS:
        got, _ = vs.run(name, x, how)
        assert _same(got, want).all(), how
        for lo, hi in [(0, 600), (600, 1600)]:  # flags of the ordinary runs
            _, raised = vs.run(name, x[lo:hi], how)
            assert raised == np.bitwise_or.reduce(want_flags[lo:hi]), (how, lo)
    # Any alignment and length: the vector loop's prologue and epilogue.
    parts = [want[: len(x)], want[len(x) :]] if name == "sincos" else [want]
    for start in range(4):
        for n in (1, 2, 3, 5, 8, 13):
            got, _ = vs.run(name, x[start : start + n], vs.VECTOR)
            expect = np.concatenate([p[start : start + n] for p in parts])
            assert _same(got, expect).all()


def test_sincos_is_sin_and_cos():
    x = _mixed(np.random.default_rng(9), 5000, "sincos")
    both, _ = vs.run("sincos", x, vs.VECTOR)
    assert _same(both[: len(x)], vs.run("sin", x, vs.VECTOR)[0]).all()
    assert _same(both[len(x) :], vs.run("cos", x, vs.VECTOR)[0]).all()


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_vector_helper_in_place(name):
    """y may be x: the lanes beyond the fast path are recomputed from the
    x the first pass left in y."""
    x = np.array([0.5, 3e6, -1e300, 2.0**20, NAN, 1.0, -(2.0**20) + 0.5, 7e15] * 3)
    want, _ = vs.run(name, x, vs.SCALAR)
    buf = x.copy()
    p = ffi.from_buffer("double[]", buf)
    assert lib.pyad_vmath(vs.KERNEL[name], vs.VECTOR, p, p, len(buf)) >= 0
    assert _same(buf, want).all()


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_beyond_the_fast_path_is_libm(name):
    x = np.concatenate([vs.log_uniform(np.random.default_rng(4), 20, 1023, 500), [2.0**20]])
    for how in [vs.SCALAR, vs.VECTOR]:
        got, _ = vs.run(name, x, how)
        assert _same(got, vs.run(name, x, vs.LIBM)[0]).all()


MONOTONE = {
    # kernel: centres where the reduction or the formula switches
    "exp": [(k + 0.5) * math.log(2) for k in (-1, 0, 1, 7, -300)]
    + [(k + 0.5) * math.log(2) / 128 for k in (-129, -1, 0, 1, 127, 128, 90001)]  # the table's
    + [-708.3964185322641, 2.0**-60, 600.0, -600.0, 704.0, -704.0],
    "expm1": [0.5 * math.log(2), -0.5 * math.log(2), 2.0**-20, -(2.0**-20), 2.0**-60, -40.0],
    "log": [math.sqrt(2), math.sqrt(2) / 2, 1.0, 2.2250738585072014e-308, math.sqrt(2) * 2**40],
    "log1p": [2.0**-20, -(2.0**-20), math.sqrt(2) - 1, math.sqrt(2) / 2 - 1, 2.0**-60],
    "tanh": [2.0**-28, -(2.0**-28), 0.5 * math.log(2) / 2, 20.0, 1.0],
    "sin": [math.pi / 4, -math.pi / 4, 2.0**-27, 1.0, 2.0**20 - 200],  # where sin increases
    "-cos": [math.pi / 4, 3 * math.pi / 4, 2.0**-27],  # where cos decreases
    "cos": [5 * math.pi / 4, 7 * math.pi / 4],  # where cos increases
    "cosh": [2.0**-27, 0.5 * math.log(2), 1.5 * math.log(2), 22.0, 30.5 * math.log(2), 700.0],
    "-cosh": [-(2.0**-27), -0.5 * math.log(2), -22.0],
    "sinh": [2.0**-26, -(2.0**-26), 22.0, -22.0, 0.5 * math.log(2), 700.0],
}


@pytest.mark.parametrize("case", sorted(MONOTONE))
def test_monotone_across_branch_points(case):
    """Increasing (or decreasing) over the 6000 doubles around each point
    where the reduction changes k or the formula changes."""
    name = case.lstrip("-")
    for c in MONOTONE[case]:
        x = np.sort(_scan(c, 3000))
        y, _ = vs.run(name, x, vs.VECTOR)
        step = np.diff(y) * (-1.0 if case.startswith("-") else 1.0)
        assert (step >= 0).all(), c


def test_bad_arguments():
    x = np.zeros(2)
    p = ffi.from_buffer("double[]", x)
    assert lib.pyad_vmath(-1, 0, p, p, 2) == lib.PYAD_ERR_OP
    assert lib.pyad_vmath(lib.PYAD_VMATH_N_KERNELS, 0, p, p, 2) == lib.PYAD_ERR_OP
    assert lib.pyad_vmath(0, 99, p, p, 2) == lib.PYAD_ERR_OP
    assert lib.pyad_vmath(0, 0, ffi.NULL, p, 2) == lib.PYAD_ERR_ARGS
    assert lib.pyad_vmath(0, 0, ffi.NULL, ffi.NULL, 0) == 0
    assert lib.pyad_vmath_repeat(0, 0, p, ffi.NULL, 2, 3) == lib.PYAD_ERR_ARGS
    flags = np.zeros(2, np.uint8)
    assert lib.pyad_vmath_flags(0, 0, p, p, ffi.NULL, 2) == lib.PYAD_ERR_ARGS
    assert lib.pyad_vmath_flags(0, 7 + 99, p, p, ffi.from_buffer("uint8_t[]", flags), 2) < 0


def test_exp_table_is_the_generators(capsys):
    """csrc/vmath_exptab.h is what bench/vmath_fit.py exp_table prints."""
    bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench")
    header = os.path.join(bench, "..", "csrc", "vmath_exptab.h")
    if not (os.path.exists(os.path.join(bench, "vmath_fit.py")) and os.path.exists(header)):
        pytest.skip("needs the source tree (bench/, csrc/): the tests run from a wheel")
    sys.path.insert(0, bench)
    try:
        import vmath_fit
    finally:
        sys.path.remove(bench)
    vmath_fit.exp_table()
    printed = capsys.readouterr().out
    with open(header) as f:
        assert printed in f.read()
