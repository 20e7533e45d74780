"""The numpy replay compiled once (``autograd_mini.replay.Replay``): after its first call each backward
pass runs as straight-line code written by the one walk, with the same numbers as the eager step."""

import numpy as np
import pytest

import autograd_mini as am
import autograd_mini.replay as replay_module


def make_problem(seed=0, grads=False):
    rng = np.random.default_rng(seed)
    w = am.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b = am.tensor(np.zeros((1, 4), np.float32), requires_grad=True)  # broadcast: reduced and reshaped
    s = am.tensor(np.float32(0.5), requires_grad=True)  # a 0-d float32 leaf fed float64 gradients: cast
    xs = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(6)]
    for leaf in (w, b, s) if grads else ():  # gradients that accumulate over the calls
        leaf.grad = am.tensor(np.ones_like(leaf.data))
    return w, b, s, xs


def make_step(w, b, s, fresh: bool):
    def step(x):
        if fresh:
            w.grad = b.grad = s.grad = None
        h = am.tanh(x @ w + b[0])  # b[0]: (4,) broadcast over the batch
        scaled = h * am.cast(s, np.float64)  # float64 from here on: s's gradient is cast back
        loss = (scaled * scaled).sum() + (h * h).mean()  # h fans out: gradients accumulate
        loss.backward()
        return loss

    return step


@pytest.mark.parametrize("fresh", [True, False])
def test_the_unrolled_replay_equals_the_eager_step_bit_for_bit(fresh):
    w, b, s, xs = make_problem(grads=not fresh)
    eager = make_step(w, b, s, fresh)
    losses = [eager(am.tensor(x)).data for x in xs]

    w2, b2, s2, _ = make_problem(grads=not fresh)
    compiled = am.compile(make_step(w2, b2, s2, fresh))
    replayed = [compiled(x).data for x in xs]
    (entry,) = compiled.cache.values()
    assert entry.replays == 4 and "walk(" not in entry.replay.sources[0]  # unrolled after its first call
    assert all(np.array_equal(a, c) for a, c in zip(losses, replayed))
    for eager_leaf, leaf in ((w, w2), (b, b2), (s, s2)):
        assert leaf.grad.dtype == np.float32 and np.array_equal(eager_leaf.grad.data, leaf.grad.data)


def test_a_long_backward_pass_keeps_the_walk(monkeypatch):
    monkeypatch.setattr(replay_module, "MAX_UNROLLED_STEPS", 2)
    w, b, s, xs = make_problem()
    eager = make_step(w, b, s, True)
    losses = [eager(am.tensor(x)).data for x in xs]
    w2, b2, s2, _ = make_problem()
    compiled = am.compile(make_step(w2, b2, s2, True))
    replayed = [compiled(x).data for x in xs]
    (entry,) = compiled.cache.values()
    assert "walk(" in entry.replay.sources[0]
    assert all(np.array_equal(a, c) for a, c in zip(losses, replayed))
    assert np.array_equal(w.grad.data, w2.grad.data) and np.array_equal(s.grad.data, s2.grad.data)


def test_a_replayed_leaf_gradient_is_a_fresh_array_each_call():
    w, b, s, xs = make_problem()
    compiled = am.compile(make_step(w, b, s, True))
    grads = []
    for x in xs:
        compiled(x)
        grads.append(w.grad.data)
    assert len({id(g) for g in grads}) == len(grads)  # no buffer shared between calls
    assert all(g.flags.writeable for g in grads[2:])
