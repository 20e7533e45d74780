"""N batch-1 steps in one native call (``autograd_mini.lowering.multi_step.run_steps``) against N
single calls of the same compiled step: the lectures' 1-10(sigmoid)-1 SGD step, time per step
(us), best of 5 rounds, interleaved; then whole fits, ``fit(batch_size=1, jit_compile=True,
steps_per_execution=N)`` against ``steps_per_execution=1`` (both with a callback's batch hook,
so that the loop stops after each execution) and against a fit nothing observes per batch
(whole epochs in large groups per native call), CPU time per step.

    python benchmarks/multi_step.py [N]

The fits: both models are compiled before timing (kernels from the disk cache or numba), so the
numbers are the steady state; they run interleaved, round after round, best of each kept. On a
shared machine the speed drifts: CPU time (``time.process_time``) counts only this process's
work, though another process's load still slows it (shared caches, frequency).
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import race

import nn
from autograd_mini.lowering.multi_step import run_steps


def main(n: int = 32, repeats: int = 50) -> dict:
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (n, 1)).astype(np.float32)
    y = (x - 0.5) ** 2
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=True)
    model.fit(x[:4], y[:4], batch_size=1, epochs=1, verbose=0)
    step = model._captured_train_step.compiled
    batches = [(x[i : i + 1], y[i : i + 1], None) for i in range(n)]
    assert run_steps(step, batches) is not None  # (compiles the N-step loop)

    def single():
        for _ in range(repeats):
            for args in batches:
                step(*args)

    def checked():
        for _ in range(repeats):
            run_steps(step, batches)

    def invariant():
        for _ in range(repeats):
            run_steps(step, batches, invariant=True)

    contenders = {"N single calls": single, "run_steps": checked, "run_steps(invariant)": invariant}
    results = race(contenders, rounds=5, scale=1e6 / (n * repeats))
    print(f"\n{n} batch-1 SGD steps per call, 1-10(sigmoid)-1 (us per step)")
    for name, value in results.items():
        print(f"  {name:<22} {value:8.2f} us   single / this = {results['N single calls'] / value:.2f}")
    return results


class _BatchHook(nn.callbacks.Callback):
    """A callback with a batch hook: the loop must stop after each execution to call it."""

    def on_train_batch_end(self, batch, logs=None):
        pass


def fit_per_step(spe: int = 32, samples: int = 2000, epochs: int = 2, rounds: int = 5) -> dict:
    """CPU seconds per step of ``fit(batch_size=1, jit_compile=True)``: with a batch-hook callback
    and ``steps_per_execution`` 1 and ``spe`` (one native call per execution), and with no
    callback that observes batches (the epoch's batches in large groups per native call);
    prints wall time too, and how many batches ran in N-step calls."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (samples, 1)).astype(np.float32)
    y = (x - 0.5) ** 2

    def lecture_model(steps_per_execution):
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
        model.compile(
            optimizer=nn.optimizers.SGD(learning_rate=0.008),
            loss="mse",
            jit_compile=True,
            steps_per_execution=steps_per_execution,
        )
        return model

    names = ("steps_per_execution=1, batch hook", f"steps_per_execution={spe}, batch hook", "no batch hook")
    models = dict(zip(names, (lecture_model(1), lecture_model(spe), lecture_model(1))))
    hooks = dict(zip(names, ([_BatchHook()], [_BatchHook()], [])))
    for name, model in models.items():  # traced, checked and compiled (also the N-step loop)
        model.fit(x[:128], y[:128], batch_size=1, epochs=1, verbose=0, callbacks=hooks[name])
    best = {name: (float("inf"), float("inf")) for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            model.fit(x, y, batch_size=1, epochs=epochs, verbose=0, callbacks=hooks[name])
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    steps = samples * epochs
    print(f"\nfit(batch_size=1, jit_compile=True), 1-10(sigmoid)-1, SGD: {steps} steps per fit, best of {rounds}")
    single = best[names[0]][0]
    for name, (cpu, wall) in best.items():
        print(
            f"  {name:<36} {cpu / steps * 1e6:7.2f} us/step CPU   {wall / steps * 1e6:7.2f} us/step wall"
            f"   / first = {cpu / single:.2f}   (batches N per call: {models[name].train_function.step.multi_step_batches})"
        )
    return {name: cpu / steps for name, (cpu, _) in best.items()}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    main(n)
    fit_per_step(n)
