"""Forward mode and second order of custom ops whose backward calls numpy (issue 23): each
numpy call becomes a graph op, or the error names the numpy function and the op."""

import numpy as np
import pytest

import autograd_mini as am


class Solve(am.Function):
    """x = A^-1 b;  dL/db = A^-T g,  dL/dA = -(A^-T g) x^T"""

    @staticmethod
    def forward(ctx, a, b):
        x = np.linalg.solve(a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = np.linalg.solve(a.T, g)
        return -np.outer(gb, x), gb


class Cumsum(am.Function):
    """y = cumsum(x);  dL/dx = reversed cumsum of g"""

    @staticmethod
    def forward(ctx, x):
        return np.cumsum(x)

    @staticmethod
    def backward(ctx, g):
        return np.flip(np.cumsum(np.flip(g)))


class Sort(am.Function):
    """y = sort(x);  dL/dx = g put back at each element's place"""

    @staticmethod
    def forward(ctx, x):
        ctx.order = np.argsort(x)
        return x[ctx.order]

    @staticmethod
    def backward(ctx, g):
        return np.take_along_axis(g, np.argsort(ctx.order), 0)


class Clip(am.Function):
    """y = clip(x, -1, 1);  dy/dx = 1 inside, 0 outside"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.clip(x, -1.0, 1.0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > -1) & (x < 1))


class Softplus(am.Function):
    """y = log(1 + e^x);  dy/dx = e^x / (1 + e^x), written with log1p/expm1 to be exercised"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(np.exp(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * np.exp(x - np.log1p(np.expm1(x) + 1.0))


class GatherAddAt(am.Function):
    """y = x[index];  dL/dx = zeros with g added at index, written with np.add.at (first order only)"""

    name = "gather"

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.shape = index, x.shape
        return x[index]

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.shape)
        np.add.at(out, ctx.index, g)
        return out, None


class Gather(GatherAddAt):
    """The same, with the scatter as a graph op: every order works."""

    @staticmethod
    def backward(ctx, g):
        return am.ops.dual.scatter_add(g, ctx.index, ctx.shape), None


X = am.tensor([0.3, -1.7, 0.9, 2.5])
INDEX = np.array([0, 2, 2])
CASES = {
    "solve": (Solve.apply, (am.tensor([[2.0, 0.3], [0.1, 1.5]]), am.tensor([0.4, -1.0]))),
    "cumsum": (Cumsum.apply, (X,)),
    "sort": (Sort.apply, (X,)),
    "clip": (Clip.apply, (X,)),
    "softplus": (Softplus.apply, (X,)),
    "gather": (lambda x: Gather.apply(x, INDEX), (X,)),
}


@pytest.mark.parametrize("name", CASES)
def test_correct_custom_ops_pass_in_forward_mode_and_at_second_order(name):
    f, inputs = CASES[name]
    assert am.gradcheck(f, inputs, modes=("rev", "fwd"), order=2)


def test_np_add_at_in_backward_names_the_function_and_the_op():
    with pytest.raises(TypeError, match=r"np.add.at in the backward of op 'gather'.*scatter_add"):
        am.gradcheck(lambda x: GatherAddAt.apply(x, INDEX), (X,), modes=("fwd",))
    assert am.gradcheck(lambda x: GatherAddAt.apply(x, INDEX), (X,))  # first order is fine


def test_an_unsupported_numpy_function_in_backward_raises_instead_of_a_silent_zero():
    class Cumprod(am.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.cumprod(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            y = np.cumprod(x)
            return np.flip(np.cumsum(np.flip(g * y))) / x

    x = am.tensor([0.5, 1.5, 2.0])
    assert am.gradcheck(Cumprod.apply, (x,))
    with pytest.raises(TypeError, match=r"np.cumprod in the backward of op 'cumprod'.*silently 0"):
        am.gradcheck(Cumprod.apply, (x,), modes=("fwd",))


def test_bitwise_operators_on_masks_and_not_on_floats():
    x = am.tensor([0.5, 1.5, 2.5])
    mask = (x > 1) & (x < 2)
    np.testing.assert_array_equal(mask.data, [False, True, False])
    np.testing.assert_array_equal((~mask | (x > 2)).data, [True, False, True])
    with pytest.raises(TypeError, match="bitwise operators take masks"):
        x & x
