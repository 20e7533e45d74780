"""In-place updates: PyTorch's operators and methods, TensorFlow's assign*, copy-on-write."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_mini as am


def test_isub_on_leaf_that_requires_grad_raises_pytorch_error():
    w = am.tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    with pytest.raises(RuntimeError, match="a leaf Tensor that requires grad is being used in an in-place operation"):
        w -= 0.1
    assert w.data is data and np.array_equal(data, [1.0, 2.0])


@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "div_"])
def test_methods_on_leaf_that_requires_grad_raise(method):
    w = am.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad"):
        getattr(w, method)(2.0)
    for method in ("zero_", "clamp_"):
        with pytest.raises(RuntimeError, match="leaf Tensor that requires grad"):
            getattr(w, method)(*(() if method == "zero_" else (0.0,)))


def test_operators_update_in_place_under_no_grad():
    w = am.tensor([1.0, 2.0], requires_grad=True)
    alias = w
    with am.no_grad():
        w -= 0.5
        w += 1.5
        w *= 2.0
        w /= 4.0
    assert w is alias
    np.testing.assert_allclose(w.data, [1.0, 1.5])
    assert w.requires_grad and w.is_leaf


def test_methods_update_and_return_self():
    t = am.tensor([1.0, -2.0, 3.0])
    assert t.add_(1.0, alpha=2.0) is t
    np.testing.assert_allclose(t.data, [3.0, 0.0, 5.0])
    t.sub_(am.tensor([1.0, 1.0, 1.0]), alpha=3.0)
    np.testing.assert_allclose(t.data, [0.0, -3.0, 2.0])
    t.mul_(2.0).div_(4.0)
    np.testing.assert_allclose(t.data, [0.0, -1.5, 1.0])
    t.clamp_(min=-1.0, max=0.5)
    np.testing.assert_allclose(t.data, [0.0, -1.0, 0.5])
    t.fill_(7.0)
    np.testing.assert_allclose(t.data, [7.0, 7.0, 7.0])
    t.copy_(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(t.data, [1.0, 2.0, 3.0])
    t.zero_()
    np.testing.assert_allclose(t.data, [0.0, 0.0, 0.0])


def test_sgd_loop_with_no_grad_trains():
    w = am.tensor([0.0], requires_grad=True)
    for _ in range(50):
        loss = ((w - 3.0) ** 2).sum()
        loss.backward()
        with am.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    np.testing.assert_allclose(w.data, [3.0], atol=1e-4)


def test_assign_methods_update_leaf_that_requires_grad():
    w = am.tensor([1.0, 2.0], requires_grad=True)
    assert w.assign_sub(np.array([0.5, 0.5])) is w
    w.assign_add(am.tensor([1.0, 1.0]))
    np.testing.assert_allclose(w.data, [1.5, 2.5])
    w.assign([0.0, 1.0])
    np.testing.assert_allclose(w.data, [0.0, 1.0])
    assert w.requires_grad and w.is_leaf


def test_float32_stays_float32():
    w = am.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    w.assign_sub(np.full(3, 0.25))  # a float64 value
    with am.no_grad():
        w += np.ones(3)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.data, 1.75)


def test_bad_updates_raise_before_changing_anything():
    t = am.tensor([1.0, 2.0])
    data = t.data
    with pytest.raises(ValueError, match=r"add_: cannot update a tensor of shape \(2,\).*shape \(3,\)"):
        t.add_(np.ones(3))
    with pytest.raises(ValueError, match=r"assign: .*shape \(2, 2\)"):
        t.assign(np.ones((2, 2)))
    i = am.tensor([1, 2])
    with pytest.raises(TypeError, match="cannot update a tensor of dtype int64"):
        i += 0.5
    with pytest.raises(TypeError, match="complex128"):
        t.assign_add(np.array([1j, 1j]))
    assert t.data is data and np.array_equal(data, [1.0, 2.0])


def test_inplace_on_non_leaf_under_grad_raises_clearly():
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        y += 1


def test_inplace_with_value_requiring_grad_raises():
    c = am.tensor([1.0, 2.0])
    x = am.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad would not be recorded"):
        c += x


def test_copy_on_write_keeps_pending_backward_exact():
    w = am.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()  # the graph saved w's array
    with am.no_grad():
        w -= 1.0  # used to raise "output array is read-only"
    w.assign_sub(np.array([1.0, 1.0]))
    loss.backward()
    np.testing.assert_allclose(w.grad.data, [2.0, 4.0])  # d/dw at the old values
    np.testing.assert_allclose(w.data, [-1.0, 0.0])


def test_update_in_place_when_no_graph_holds_the_array():
    w = am.tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    w.assign_sub(np.array([1.0, 1.0]))
    assert w.data is data  # no copy when nothing holds it
    loss = (w * w).sum()
    loss.backward()
    w.assign_sub(np.array([1.0, 1.0]))  # the graph was released by backward
    assert w.data is data


def test_writing_data_with_numpy_while_graph_holds_it_still_raises():
    w = am.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        w.data -= 1.0
    loss.backward()
    w.data -= 1.0  # free again after backward


def test_non_leaf_update_under_no_grad_keeps_graph():
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = (y * y).sum()
    with am.no_grad():
        y += 100.0
    z.backward()
    np.testing.assert_allclose(x.grad.data, 2 * 3 * 3 * np.array([1.0, 2.0]))


def test_setitem_under_no_grad_and_its_errors():
    w = am.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad"):
        w[0] = 5.0
    loss = (w * w).sum()
    with am.no_grad():
        w[0] = 5.0
    np.testing.assert_allclose(w.data, [5.0, 2.0, 3.0])
    loss.backward()
    np.testing.assert_allclose(w.grad.data, [2.0, 4.0, 6.0])
    t = am.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="__setitem__: cannot assign a value of shape"):
        t[0] = np.ones(3)
