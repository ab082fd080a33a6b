"""The Python number protocol, as PyTorch's scalar tensors have it: value
equality with identity hash, format specs, item/round/int/math.floor, the
guards these record in a compiled trace, and GradientDroppedWarning when
float() silently cuts a gradient inside pyad.grad or a compiled trace."""

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

import pyad
from pyad import GradientDroppedWarning, Var

# ---- == and != --------------------------------------------------------------


def test_equality_compares_values_with_every_real_number():
    v = Var(3.0)
    for other in (
        3,
        3.0,
        True + 2,
        np.float64(3),
        np.float32(3),
        np.int64(3),
        Fraction(3),
        Var(3.0),
    ):
        assert (v == other) is True and (v != other) is False, type(other)
        assert (other == v) is True and (other != v) is False, type(other)
    for other in (2, 3.5, np.float64(-3), Var(3.0000000000000004)):
        assert (v == other) is False and (v != other) is True, other
    nan = Var(math.nan)
    assert nan != nan and not (nan == nan) and nan != math.nan
    assert Var(0.0) == Var(-0.0)


def test_value_equality_makes_the_usual_special_case_work():
    """Issue 10's example: `if x == 0:` was an identity test, so sinc of a
    Var at 0 divided 0 by 0."""

    def sinc(x):
        return 1.0 if x == 0 else pyad.sin(x) / x

    assert sinc(Var(0.0)) == 1.0
    assert pyad.grad(sinc)(0.5) == pytest.approx((0.5 * math.cos(0.5) - math.sin(0.5)) / 0.25)
    f = pyad.compile(sinc)
    assert f(0.0) == 1.0 and f(2.0) == pytest.approx(math.sin(2.0) / 2.0) and f(0.0) == 1.0


def test_equality_with_non_numbers_is_false_not_an_error():
    v = Var(1.0)
    for other in (None, "1.0", [1.0], (1.0,), {1.0: 1}, object(), 1j):
        assert (v == other) is False and (v != other) is True, other


def test_comparisons_with_numpy_scalars_raise_no_numpy_message():
    v = Var(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.float64(3) == v and v == np.float64(3)
        assert np.float64(2) < v and v > np.float32(2) and np.int8(4) >= v
        assert not (np.float64(3) != v)
        assert np.equal(v, 3.0) is True and np.not_equal(v, 3.0) is False


def test_hash_is_identity_so_equal_vars_stay_distinct_keys():
    a, b = Var(1.0), Var(1.0)
    assert a == b and hash(a) != hash(b)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len({a, b, a}) == 2
    assert hash(a) == hash(a) == object.__hash__(a)


# ---- plain numbers out --------------------------------------------------------


def test_format_specs_format_the_value():
    v = Var(2.0 / 3.0)
    assert f"{v:.4f}" == "0.6667" and f"{v:>10.2e}" == "  6.67e-01" and f"{v:g}" == "0.666667"
    assert f"{v}" == str(v) == repr(v) and format(v, "") == str(v)
    assert format(v, ".3f") == "0.667" and format(v, ".1%") == "66.7%"


def test_item_round_int_floor_give_plain_numbers():
    v = Var(-2.5)
    assert v.item() == -2.5 and type(v.item()) is float
    assert round(v) == -2 and type(round(v)) is int  # half to even, as float
    assert round(Var(3.5)) == 4 and round(Var(0.5)) == 0
    assert round(Var(2.675), 2) == round(2.675, 2) and type(round(v, 1)) is float
    assert int(v) == -2 and type(int(v)) is int
    assert math.trunc(v) == -2 and math.floor(v) == -3 and math.ceil(v) == -2
    assert type(math.floor(v)) is int
    big = Var(2.0**60)
    assert int(big) == 2**60 and math.floor(big) == 2**60
    for bad, err in ((math.nan, ValueError), (math.inf, OverflowError)):
        for fn in (int, round, math.floor, math.ceil, math.trunc):
            with pytest.raises(err):
                fn(Var(bad))


def test_numpy_statistics_of_object_arrays_of_vars():
    xs = [Var(x) for x in (1.0, 2.0, 4.0)]
    a = np.empty(3, dtype=object)
    a[:] = xs
    m, var, std = np.mean(a), np.var(a), np.std(a)
    assert all(type(t) is Var for t in (m, var, std))
    assert var.val == pytest.approx(np.var([1.0, 2.0, 4.0]), rel=1e-15)
    assert std.val == pytest.approx(np.std([1.0, 2.0, 4.0]), rel=1e-15)
    std.backward()
    mean = 7.0 / 3.0
    for x in xs:  # d std / d x_i = (x_i - mean) / (n std)
        assert x.grad == pytest.approx((x.val - mean) / (3 * std.val), rel=1e-14)
    assert np.conjugate(xs[0]) is xs[0] and xs[0].real is xs[0] and xs[0].imag == 0.0


# ---- compiled traces: ==, != and the integer conversions are guards ----------


def test_equality_is_a_guard_in_a_compiled_trace():
    f = pyad.compile(lambda x: x * 2.0 if x == 1.0 else x)
    assert f(1.0) == 2.0 and f(2.0) == 2.0 and f(3.0) == 3.0 and f(1.0) == 2.0
    assert f.traces == 2
    g = pyad.compile(lambda x, y: x if x != y else x * y)
    assert g(2.0, 3.0) == 2.0 and g(3.0, 3.0) == 9.0 and g(1.0, 5.0) == 1.0
    assert g.traces == 2
    xs = np.array([1.0, 2.0, 1.0, 5.0])
    assert f(xs).tolist() == [2.0, 2.0, 2.0, 5.0]


@pytest.mark.parametrize(
    "conv,same_trace,new_trace",
    [
        (math.floor, [(1.5, 1.5), (1.0, 1.0), (1.99, 1.99)], (2.0, 4.0)),
        (math.ceil, [(1.5, 3.0), (2.0, 4.0), (1.01, 2.02)], (1.0, 1.0)),
        (int, [(1.5, 1.5), (1.0, 1.0)], (-0.5, -0.0)),
        (int, [(-0.5, -0.0), (0.9, 0.0), (-0.9, -0.0)], (-1.0, 1.0)),
        (round, [(2.0, 4.0), (1.5, 3.0), (2.5, 5.0)], (2.5000000000000004, 2.5000000000000004 * 3)),
        (round, [(3.0, 9.0), (2.6, 7.800000000000001)], (3.5, 14.0)),
    ],
)
def test_integer_conversions_guard_their_interval(conv, same_trace, new_trace):
    """int(x), math.floor(x), round(x)... in a compiled function re-trace
    only when the integer changes (two comparison guards), not per value
    as float(x) does."""
    f = pyad.compile(lambda x: x * conv(x))
    for x, want in same_trace:
        assert f(x) == want, (conv, x)
    assert f.traces == 1, conv
    x, want = new_trace
    assert f(x) == want and f.traces == 2, conv
    # the integer is a constant of the trace: its gradient is the integer
    assert f.grad(same_trace[0][0])[0] == conv(same_trace[0][0])


# ---- GradientDroppedWarning ---------------------------------------------------


def _caught(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("default")
        out = fn()
    return out, [x for x in w if x.category is GradientDroppedWarning]


def test_math_function_of_a_var_inside_grad_warns_naming_pyads():
    g, caught = _caught(lambda: pyad.grad(lambda x: x * math.sin(x))(1.0))
    assert g == pytest.approx(math.sin(1.0))  # the dropped gradient: the truth is 1.38
    assert len(caught) == 1
    msg = str(caught[0].message)
    assert "use pyad.sin(" in msg and "pyad.grad" in msg
    assert caught[0].filename == __file__  # the line that called math.sin
    assert pyad.grad(lambda x: x * pyad.sin(x))(1.0) == pytest.approx(
        math.sin(1.0) + math.cos(1.0), rel=1e-15
    )


def _twice_at_one_site():
    out = []
    for x in (1.0, 2.0, 3.0):
        out.append(pyad.value_and_grad(lambda x: x * np.float64(x))(x))
    return out


def test_warns_once_per_call_site_and_names_numpys_spelling():
    _, caught = _caught(_twice_at_one_site)
    assert len(caught) == 1
    _, caught = _caught(lambda: pyad.grad(lambda x: np.arctan2(float(x), 1.0) * x)(0.5))
    assert len(caught) == 1 and "use pyad.atan2(" in str(caught[0].message)


def test_explicit_reads_and_unrelated_vars_stay_silent():
    c = Var(2.0)
    for fn in (
        lambda x: x * math.sin(x.val),  # .val: the value, on purpose
        lambda x: x * x.item(),
        lambda x: x * float(c),  # c does not depend on x
        lambda x: x * f"{x:.3f}".count("0"),  # formatting
        lambda x: x * (1.0 if x == 1.0 else 2.0),
    ):
        _, caught = _caught(lambda fn=fn: pyad.grad(fn)(1.0))
        assert caught == []
    _, caught = _caught(lambda: float(Var(1.0)) + math.sin(Var(2.0)))  # outside grad
    assert caught == []


def test_float_in_a_compiled_trace_warns_about_the_retrace():
    f = pyad.compile(lambda x: x * math.exp(x))
    (y1, y2), caught = _caught(lambda: (f(1.0), f(2.0)))  # two traces, one site
    assert len(caught) == 1
    msg = str(caught[0].message)
    assert "use pyad.exp(" in msg and "re-traces" in msg
    assert y2 == pytest.approx(2.0 * math.exp(2.0)) and f.traces == 2


def test_gradient_dropped_warning_is_a_user_warning_and_can_raise():
    assert issubclass(GradientDroppedWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientDroppedWarning)
        with pytest.raises(GradientDroppedWarning):
            pyad.grad(lambda x: math.sqrt(x))(4.0)
