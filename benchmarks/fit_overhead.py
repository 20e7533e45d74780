"""The per-batch cost of ``fit`` *outside* the step, in microseconds (best of several runs).

    python benchmarks/fit_overhead.py            # all rows
    python benchmarks/fit_overhead.py trivial    # only the trivial-step rows

- ``trivial``: a ``train_step`` returning a constant dict, so all that is timed is the loop:
  batching (shuffled and not), callbacks, progress, logs, the loss check. Also with a user
  callback that has a batch hook, and with ``steps_per_execution=8``.
- ``captured``: the lectures' 1-10(sigmoid)-1 network with ``jit_compile=True``, timed in
  ``fit`` and as a bare loop calling the captured step on prepared batches; the difference
  is what the loop adds to the real step. ``replayed``: the same with ``jit_compile="auto"``
  (the exact numpy replay of the step).

Timings are interleaved (a, b, a, b, ...) and the best round counts, as in ``run.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from run import race

import nn


class ConstantStep(nn.Model):
    """A model whose training step does nothing: fit's own cost is all that remains."""

    def __init__(self):
        super().__init__()
        self.dense = nn.layers.Dense(1)
        self.logs = {"loss": 0.5}

    def call(self, inputs, training=None):
        """The one Dense layer (used only to build)."""
        return self.dense(inputs)

    def train_step(self, data):
        """The same logs every batch, no work."""
        return self.logs


class BatchCounter(nn.callbacks.Callback):
    """A user callback with a batch hook (so the callback list cannot skip it)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def on_train_batch_end(self, batch, logs=None):
        """Count."""
        self.count += 1


def bench_trivial(n=20000, rounds=7):
    """Per-batch cost of fit around a step that does nothing, batch_size=1."""
    print(f"\nfit around a constant train_step, batch_size=1, {n} batches (us/batch)")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 1)).astype(np.float32)
    y = rng.standard_normal((n, 1)).astype(np.float32)

    def model(spe=1):
        m = ConstantStep()
        m.compile(optimizer="sgd", loss="mse", steps_per_execution=spe)
        m.fit(x[:2], y[:2], batch_size=1, verbose=0)
        return m

    plain, spe8 = model(), model(8)
    contenders = {
        "shuffled": lambda: plain.fit(x, y, batch_size=1, verbose=0),
        "not shuffled": lambda: plain.fit(x, y, batch_size=1, verbose=0, shuffle=False),
        "shuffled + callback": lambda: plain.fit(x, y, batch_size=1, verbose=0, callbacks=[BatchCounter()]),
        "steps_per_execution=8": lambda: spe8.fit(x, y, batch_size=1, verbose=0),
    }
    results = race(contenders, rounds=rounds, scale=1e6 / n)
    for name, value in results.items():
        print(f"  {name:<24} {value:8.2f} us/batch")
    return results


def bench_captured(n=2000, epochs=2, rounds=5, jit_compile=True):
    """The lectures' network with jit_compile=True (or "auto": the exact numpy replay): fit against a
    bare loop over the step."""
    print(f"\n1-10(sigmoid)-1, SGD, batch_size=1, jit_compile={jit_compile!r}, {n} x {epochs} steps (us/step)")
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (n, 1)).astype(np.float32)
    y = (x - 0.5) ** 2
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((1,)), nn.layers.Dense(10, activation="sigmoid"), nn.layers.Dense(1)])
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=jit_compile)
    model.fit(x[:3], y[:3], batch_size=1, epochs=1, verbose=0)
    step = model._captured_train_step
    batches = [(x[i : i + 1], y[i : i + 1]) for i in range(n)]

    def bare():
        model._fit_state["trainable"] = model.trainable_weights
        model.train(True)
        for _ in range(epochs):
            model.reset_metrics()
            for batch in batches:
                step(batch)
        model._fit_state.pop("trainable", None)

    contenders = {
        "fit": lambda: model.fit(x, y, batch_size=1, epochs=epochs, verbose=0),
        "bare loop over the step": bare,
    }
    results = race(contenders, rounds=rounds, scale=1e6 / (n * epochs))
    for name, value in results.items():
        print(f"  {name:<24} {value:8.2f} us/step")
    print(f"  {'fit - bare loop':<24} {results['fit'] - results['bare loop over the step']:8.2f} us/step")
    return results


def bench_replayed(n=2000, epochs=2, rounds=5):
    """The lectures' network with jit_compile="auto": the replayed step (bit for bit the eager one)."""
    return bench_captured(n, epochs, rounds, jit_compile="auto")


SECTIONS = {"trivial": bench_trivial, "captured": bench_captured, "replayed": bench_replayed}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(SECTIONS):
        SECTIONS[name]()
