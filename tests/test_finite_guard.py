"""The optimizer's undo of a step that would write a non-finite weight (``FiniteGuard``): every
weight, slot and extra state array, the step count, whatever the weights' dtype and size (small
float32 weights are checked through one float64 buffer, large or float64 ones in place)."""

import warnings

import numpy as np
import pytest

import autograd_mini as am
import nn


def params(dtype, sizes):
    rng = np.random.default_rng(0)
    return [nn.Parameter(rng.standard_normal(size).astype(dtype)) for size in sizes]


def state(opt, ps):
    return [p.data.copy() for p in ps] + [np.array(v, copy=True) for v in opt.variables]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", [[(3, 2), (2,)], [(5000,), (3,)]])
@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.optimizers.SGD(learning_rate=0.1, momentum=0.9),
        lambda: nn.optimizers.Adam(learning_rate=0.1),
        lambda: nn.optimizers.Nadam(learning_rate=0.1),
    ],
)
def test_an_overflowing_step_leaves_every_array_as_before(dtype, sizes, make):
    ps = params(dtype, sizes)
    opt = make()
    opt.build(ps)
    for p in ps:
        p.grad = am.Tensor(np.ones_like(p.data))
    opt.step()  # one finite step: slots and extra state are not their initial values
    big = np.finfo(dtype).max
    opt.learning_rate = float(big)
    ps[-1].data[...] = -0.95 * big  # only the last variable overflows: the first ones are undone too
    before = state(opt, ps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow and the skip warning
        opt.step()
    after = state(opt, ps)
    assert opt.iterations == 1
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_the_check_raises_no_floating_point_error():
    ps = params(np.float32, [(4, 3), (3,)])
    opt = nn.optimizers.SGD(learning_rate=1.0)
    opt.build(ps)
    for p in ps:
        p.data[...] = 1e30  # squares overflow float32, not the float64 check
        p.grad = am.Tensor(np.zeros_like(p.data))
    with np.errstate(all="raise"):
        opt.step()
    assert opt.iterations == 1
