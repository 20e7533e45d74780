"""N batch-1 steps in one native call (``autograd_mini.lowering.multi_step.run_steps``) against N
single calls of the same compiled step: the lectures' 1-10(sigmoid)-1 SGD step, time per step
(us), best of 5 rounds, interleaved.

    python benchmarks/multi_step.py [N]
"""

from __future__ import annotations

import sys
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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 32)
