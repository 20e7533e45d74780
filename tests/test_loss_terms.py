"""``Model.losses`` skips the walk of the layers while no loss term can exist (``nn.module.LossTerms``);
each source of a loss term turns the walk on, so the Keras semantics stay (terms recomputed per call)."""

import numpy as np
import pytest

import autograd_mini as am
import nn
from nn.module import LossTerms


@pytest.fixture
def fresh(monkeypatch):
    """A process where no loss term has been seen yet (restored after the test)."""
    monkeypatch.setattr(LossTerms, "possible", False)


def _model():
    return nn.Sequential([nn.Input((2,)), nn.layers.Dense(3, activation="tanh"), nn.layers.Dense(1)])


def test_no_loss_term_no_walk(fresh):
    model = _model()
    model(np.ones((4, 2), np.float32), training=True)
    assert LossTerms.possible is False
    assert model.losses == []


def test_weight_regularizer_assigned_later_is_seen(fresh):
    model = _model()
    assert model.losses == []
    model.layers[1].kernel.regularizer = nn.regularizers.L2(0.5)
    (penalty,) = model.losses
    kernel = model.layers[1].kernel.data
    np.testing.assert_allclose(penalty.data, 0.5 * np.sum(kernel**2), rtol=1e-6)


def test_regularizer_given_at_construction_is_seen(fresh):
    model = nn.Sequential([nn.Input((2,)), nn.layers.Dense(1, bias_regularizer=nn.regularizers.L1(0.1))])
    assert len(model.losses) == 1


def test_activity_regularizer_term_recomputed_per_call(fresh):
    layer = nn.layers.Dense(1, activity_regularizer=nn.regularizers.L2(1.0), kernel_initializer="ones")
    model = nn.Sequential([nn.Input((2,)), layer])
    model(np.ones((2, 2), np.float32))
    (first,) = model.losses
    model(2 * np.ones((2, 2), np.float32))
    (second,) = model.losses
    assert float(second.data) == pytest.approx(4 * float(first.data))


def test_add_loss_in_call_is_seen(fresh):
    class Penalised(nn.layers.Layer):
        def call(self, x):
            self.add_loss(am.tensor(np.float32(3.0)))
            return x

    model = nn.Sequential([nn.Input((2,)), Penalised()])
    model(np.ones((1, 2), np.float32))
    assert [float(t.data) for t in model.losses] == [3.0]


def test_model_add_loss_is_seen(fresh):
    model = _model()
    model.add_loss(am.tensor(np.float32(2.0)))
    assert [float(t.data) for t in model.losses] == [2.0]


def test_class_with_its_own_losses_is_walked(fresh):
    class Own(nn.layers.Layer):
        @property
        def losses(self):
            return [am.tensor(np.float32(5.0))]

        def call(self, x):
            return x

    model = nn.Sequential([nn.Input((2,)), Own()])
    assert [float(t.data) for t in model.losses] == [5.0]


def test_fit_trains_on_a_regularizer_added_between_fits(fresh):
    nn.utils.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32)
    y = x[:, :1]
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    plain = model.evaluate(x, y, verbose=0)
    model.layers[0].kernel.regularizer = nn.regularizers.L2(100.0)
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    assert history.history["loss"][0] > plain + 1.0  # the penalty is in the training loss
