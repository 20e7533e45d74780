"""``am.GradientTape``: TensorFlow's idiom on the same engine."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_mini as am


def test_tape_gradient_list_of_sources_and_assign_sub_loop():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    W = am.tensor(np.zeros(3), requires_grad=True)
    b = am.tensor(0.0, requires_grad=True)
    for _ in range(300):
        with am.GradientTape() as tape:
            loss = ((am.tensor(X) @ W + b - y) ** 2).mean()
        dW, db = tape.gradient(loss, [W, b])
        W.assign_sub(0.1 * dW)
        b.assign_sub(0.1 * db)
    np.testing.assert_allclose(W.data, [1.0, -2.0, 0.5], atol=1e-4)
    np.testing.assert_allclose(b.data, 0.3, atol=1e-4)


def test_non_persistent_tape_second_call_raises():
    x = am.tensor(3.0, requires_grad=True)
    with am.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x).item() == 6.0
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only be used to compute one set"):
        tape.gradient(y, x)


def test_persistent_tape_and_dict_sources_and_unconnected_none():
    x = am.tensor(3.0, requires_grad=True)
    u = am.tensor(1.0, requires_grad=True)
    with am.GradientTape(persistent=True) as tape:
        y = x * x
        z = y * x
    assert tape.gradient(z, x).item() == 27.0
    grads = tape.gradient(y, {"x": x, "u": u})
    assert grads["x"].item() == 6.0 and grads["u"] is None
    assert tape.gradient(y, u, unconnected_gradients="zero").item() == 0.0
    assert tape.gradient([y, z], x).item() == 33.0  # a list of targets is summed


def test_watch_tracks_constant_and_restores_it():
    x = am.tensor([1.0, 2.0])
    with am.GradientTape() as tape:
        tape.watch(x)
        y = (x * x).sum()
    assert not x.requires_grad  # only the tape tracked it
    np.testing.assert_allclose(tape.gradient(y, x).data, [2.0, 4.0])


def test_unwatched_constant_gets_none():
    x = am.tensor([1.0, 2.0])
    w = am.tensor([1.0, 1.0], requires_grad=True)
    with am.GradientTape() as tape:
        y = (x * w).sum()
    dx, dw = tape.gradient(y, (x, w))
    assert dx is None
    np.testing.assert_allclose(dw.data, [1.0, 2.0])


def test_output_gradients_and_non_scalar_target():
    x = am.tensor([1.0, 2.0], requires_grad=True)
    with am.GradientTape(persistent=True) as tape:
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).data, [2.0, 4.0])
    np.testing.assert_allclose(tape.gradient(y, x, output_gradients=np.array([1.0, 10.0])).data, [2.0, 40.0])


def test_nested_tapes_give_second_derivative():
    x = am.tensor(2.0, requires_grad=True)
    with am.GradientTape() as outer:
        with am.GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert dy.item() == 12.0 and d2y.item() == 12.0


def test_tape_records_inside_no_grad():
    x = am.tensor(2.0, requires_grad=True)
    with am.no_grad(), am.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x).item() == 4.0


def test_bad_sources_raise_type_error():
    x = am.tensor(2.0, requires_grad=True)
    with am.GradientTape() as tape:
        y = x * x
    with pytest.raises(TypeError, match=r"sources\[1\] must be a Tensor, got ndarray"):
        tape.gradient(y, [x, np.ones(1)])
