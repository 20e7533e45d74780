"""The issue's anchors: no false alarm on correct code, every bug class reported (issue 23)."""

import importlib
import inspect

import numpy as np
import pytest
from hypothesis import given, seed

import autograd_mini as am
from autograd_mini.testing import arrays, assert_grads_match, check_grad, grad_settings, shapes

gradcheck_module = importlib.import_module("autograd_mini.gradcheck")  # am.gradcheck is the function


class AbsCube(am.Function):
    """y = |x|**3;  dy/dx = 3 x |x| (written with ops: second order works; y'' = 6|x| has a kink at 0)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x) ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * abs(x)


def row_normalize(x):
    return x / (x * x).sum(-1, keepdims=True).sqrt()


def cosine_similarity(x):
    y = am.tensor(np.ones(x.shape))
    return (x * y).sum(-1) / ((x * x).sum(-1).sqrt() * (y * y).sum(-1).sqrt())


# ---- 1. the three false alarms of the issue -------------------------------------------------------


def test_the_three_false_alarms_of_the_issue_are_gone():
    assert_grads_match(AbsCube.apply, am.tensor([0.0]), order=2, modes=("rev", "fwd"))
    assert_grads_match(row_normalize, am.tensor([0.001, -0.001]), order=2)
    assert_grads_match(cosine_similarity, am.tensor([[0.001, 0.001]]), order=2, modes=("rev", "fwd"))


def test_a_single_central_difference_would_have_raised_them(monkeypatch):
    # the refinement is what removes the alarm at [[0.001, 0.001]]: without it the plain central
    # difference (1.6e-5 where the derivative is 0) is blamed
    from autograd_mini import finite_diff

    monkeypatch.setattr(finite_diff, "refine", lambda phi, h, a, atol, rtol: (np.zeros(np.shape(a)), np.nan + a))
    with pytest.raises(am.GradcheckError):
        assert_grads_match(cosine_similarity, am.tensor([[0.001, 0.001]]))


def test_one_set_of_defaults():
    want = (gradcheck_module.DEFAULT_EPS, gradcheck_module.DEFAULT_ATOL, gradcheck_module.DEFAULT_RTOL)
    for fn in (am.gradcheck, am.gradgradcheck, assert_grads_match, check_grad):
        p = inspect.signature(fn).parameters
        assert (p["eps"].default, p["atol"].default, p["rtol"].default) == want, fn


@pytest.mark.parametrize("hseed", [0, 1, 2])
def test_no_false_alarm_near_singularities_over_seeds(hseed):
    @seed(hseed)
    @grad_settings
    @given(shapes(min_dims=1, max_dims=2).flatmap(lambda s: arrays(s, avoid=(0.0,))))
    def prop(x):
        assert_grads_match(row_normalize, am.tensor(x), order=2)
        assert_grads_match(AbsCube.apply, am.tensor(x), order=2)
        assert_grads_match(cosine_similarity, am.tensor(x))

    @seed(hseed)
    @grad_settings
    @given(shapes(min_dims=1, max_dims=2).flatmap(lambda s: arrays(s)))  # exact zeros: y'' = 6|x| kinks there
    def at_second_order_kinks(x):
        assert_grads_match(AbsCube.apply, am.tensor(np.concatenate([x.ravel(), [0.0]])), order=2, modes=("rev", "fwd"))

    prop()
    at_second_order_kinks()


def test_kinks_accept_any_subgradient_but_not_garbage():
    assert am.gradcheck(lambda x: x.abs(), (am.tensor([0.0, 1.0]),))
    assert am.gradcheck(lambda x: am.relu(x), (am.tensor([0.0, -1.0]),), modes=("rev", "fwd"))

    class AbsWrongAtZero(am.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.abs(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * np.where(x == 0, 5.0, np.sign(x))

    with pytest.raises(am.GradcheckError, match="1 of 2 elements"):
        am.gradcheck(AbsWrongAtZero.apply, (am.tensor([0.0, 1.0]),))


def test_float16_gradients_are_caught_by_tolerance_and_by_strict_mode():
    class SinHalf(am.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return (g * np.cos(x)).astype(np.float16)

    class SinHalfCast(SinHalf):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return (g * np.cos(x)).astype(np.float16).astype(x.dtype)

    x = am.tensor([0.3, 1.1, -0.7, 2.0])
    with pytest.raises(am.GradcheckError, match=r"dtype float16 for input 0 .* of dtype float64"):
        am.gradcheck(SinHalf.apply, (x,))
    with pytest.raises(am.GradcheckError, match="differs from finite differences"):
        am.gradcheck(SinHalfCast.apply, (x,))


# ---- 2. strict mode and in-place writes -------------------------------------------------------------


class BroadcastGrad(am.Function):
    """y = x + b (b broadcast over rows) with a backward that forgets to sum b's gradient down."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, g):
        return g, g


def test_strict_mode_reports_a_broadcast_shaped_gradient():
    x, b = am.tensor(np.ones((3, 2))), am.tensor(np.ones(2))
    with pytest.raises(am.GradcheckError, match=r"shape \(3, 2\) for input 1 \(b\) of shape \(2,\)"):
        am.gradcheck(BroadcastGrad.apply, (x, b))
    assert am.gradcheck(BroadcastGrad.apply, (x, b), strict=False)  # the engine sums it down


def test_a_write_into_a_saved_array_names_the_op_the_input_and_the_line():
    class Scale(am.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            w *= 1.0  # the bug: writes into w
            return g * w, g * x

    with pytest.raises(am.GradcheckError) as info:
        am.gradcheck(Scale.apply, (am.tensor([1.0, 2.0]), am.tensor([3.0, 4.0])))
    message = str(info.value)
    assert "op 'scale'" in message and "input 1 (w)" in message
    assert "test_gradcheck_anchors.py" in message and "w *= 1.0" in message


def test_a_write_into_an_input_in_forward_is_named():
    class Twice(am.Function):
        @staticmethod
        def forward(ctx, x):
            x *= 2.0
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    with pytest.raises(am.GradcheckError, match=r"op 'twice': forward writes in place into one of its inputs \(x\)"):
        am.gradcheck(Twice.apply, (am.tensor([1.0, 2.0]),))


def test_library_frames_are_hidden():
    for fn in (am.gradcheck, assert_grads_match, check_grad, gradcheck_module._check, gradcheck_module._fail):
        assert "__tracebackhide__" in fn.__code__.co_varnames, fn


# ---- 6. consistent reports ---------------------------------------------------------------------------


def test_reports_count_consistently_and_show_the_input():
    class HalfSquare(am.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    with pytest.raises(am.GradcheckError) as info:
        am.gradcheck(HalfSquare.apply, (am.tensor([1.0, 2.0]),))
    message = str(info.value)
    assert "in 2 of 2 elements" in message and "2 of 4 differ" in message
    assert "At input 0 = [1., 2.]" in message and "off by" in message


def test_order_auto_checks_second_order_wherever_the_backward_allows_it():
    class CubeDropsGraph(am.Function):  # right first derivative; the second is lost (x.data)
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * np.asarray(getattr(x, "data", x)) ** 2

    @am.once_differentiable
    class CubeFirstOrder(CubeDropsGraph):  # declared first order only: nothing to check at order 2
        pass

    class CubeSavesIntermediate(am.Function):
        @staticmethod
        def forward(ctx, x):
            square = x * x
            ctx.save_for_backward(square)
            return square * x

        @staticmethod
        def backward(ctx, g):
            (square,) = ctx.saved_tensors
            return g * 3 * square

    x = am.tensor([0.5, -1.5])
    with pytest.raises(am.GradcheckError, match="order 2"):
        assert_grads_match(CubeDropsGraph.apply, x)  # the default is order="auto"
    assert_grads_match(CubeFirstOrder.apply, x)
    assert_grads_match(CubeSavesIntermediate.apply, x)
    assert am.gradcheck(CubeDropsGraph.apply, (x,))  # gradcheck's default stays order 1
