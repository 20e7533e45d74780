"""am.testing checks gradients written in PyTorch and JAX with its own strategies and reports."""

import numpy as np
import pytest
from hypothesis import given

import autograd_mini as am
from autograd_mini.testing import arrays, check_jax, check_torch, grad_settings, shapes


def test_torch_functions_pass_when_right_and_fail_with_the_report_when_wrong():
    torch = pytest.importorskip("torch")

    class Softplus(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.nn.functional.softplus(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.sigmoid(x)

    class SoftplusDetached(Softplus):  # right first derivative, second derivative lost
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.sigmoid(x.detach())

    class BiasAdd(torch.autograd.Function):  # forgets to sum the bias gradient: torch sums it silently
        @staticmethod
        def forward(ctx, x, b):
            return x + b

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = np.array([0.3, -1.2, 2.0])
    assert check_torch(Softplus, x, order=2, modes=("rev", "fwd"))
    assert check_torch(SoftplusDetached, x)
    with pytest.raises(am.GradcheckError, match=r"SoftplusDetached .*order 2"):
        check_torch(SoftplusDetached, x, order=2)
    with pytest.raises(am.GradcheckError, match=r"shape \(3, 2\).*input 1 of shape \(2,\)"):
        check_torch(BiasAdd, np.ones((3, 2)), np.ones(2))
    assert check_torch(BiasAdd, np.ones((3, 2)), np.ones(2), strict=False)


def test_jax_custom_vjp_pass_when_right_and_fail_when_wrong():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy

    def fwd(x):
        return jnp.tanh(x), x

    @jax.custom_vjp
    def tanh(x):
        return jnp.tanh(x)

    tanh.defvjp(fwd, lambda x, g: (g * (1 - jnp.tanh(x) ** 2),))

    @jax.custom_vjp
    def tanh_bad(x):
        return jnp.tanh(x)

    tanh_bad.defvjp(fwd, lambda x, g: (g * (1 - jnp.tanh(x)) ** 2,))  # the square on the wrong factor

    x = np.array([0.3, -1.2, 2.0])
    assert check_jax(tanh, x, order=2, modes=("rev", "fwd"))
    with pytest.raises(am.GradcheckError, match="tanh_bad .*differs from finite differences"):
        check_jax(tanh_bad, x)


def test_hypothesis_shrinks_a_torch_bug_to_a_minimal_input():
    torch = pytest.importorskip("torch")

    class AbsWrong(torch.autograd.Function):  # sign(x) written as (x > 1): wrong only on (0, 1]
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.abs()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.where(x > 1, 1.0, -1.0).to(x.dtype)

    @grad_settings
    @given(shapes(min_dims=1, max_dims=1).flatmap(lambda s: arrays(s, avoid=(0.0,))))
    def prop(x):
        check_torch(AbsWrong, x)

    with pytest.raises(am.GradcheckError) as info:
        prop()
    assert "At input 0 = [" in str(info.value)
