"""The Swedish lecture's whole run as a student runs it: a new process each time.

1-10(sigmoid)-1, MSE, SGD lr 0.008, 1,000 samples, ``fit(batch_size=1, validation_split=0.2,
epochs=50)``: 40,000 batch-1 training steps and 10,000 batch-1 validation batches. Measured as
whole-process wall time (interpreter start, imports, model, compile, fit) of

- ``jit_compile=True``, cold: an empty ``AUTOGRAD_MINI_CACHE_DIR`` (the first run ever),
- ``jit_compile=True``, warm: the same folder again (the second run: the kernel cache hits),
- a bare ``jax.jit`` loop doing the same work (the same network, shuffle per epoch, batch-1
  steps and batch-1 validation losses), with its compile,

run interleaved (cold, warm, jax, cold, ...) so the three share the machine's drift; best of
``--rounds``. Each child also reports its own compile time and where its kernels came from
(the training step's and the validation step's), and how many batches ran N per native call.

    python benchmarks/lecture_cache.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N, EPOCHS = 1000, 50


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (N, 1)).astype(np.float32)
    return x, (x - 0.5) ** 2


def child_ours():
    import nn
    from autograd_mini.lowering import disk_cache

    x, y = _data()
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=True)
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=1, epochs=EPOCHS, validation_split=0.2, verbose=0)
    fit_seconds = time.perf_counter() - start
    steps = [function.step for function in (model.train_function, model.test_function)]
    stats = [s for step in steps for s in step.compiled.stats()]  # (training and validation kernels)
    return {
        "fit_seconds": fit_seconds,
        "compile_seconds": sum(s["compile_seconds"] or 0.0 for s in stats),
        "compile_source": sorted({str(s["compile_source"]) for s in stats}),
        "cache": disk_cache.stats(),
        "val_loss": history.history["val_loss"][-1],
        "multi_step_batches": sum(step.multi_step_batches for step in steps),
    }


def child_jax():
    import jax
    import numpy as np

    jnp = jax.numpy
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from jax_reference import _glorot

    x, y = _data()
    split = int(N * 0.8)
    rng = np.random.default_rng(0)
    params = [jnp.asarray(_glorot(rng, 1, 10)), jnp.zeros(10, jnp.float32)]
    params += [jnp.asarray(_glorot(rng, 10, 1)), jnp.zeros(1, jnp.float32)]

    def loss_fn(params, xb, yb):
        w1, b1, w2, b2 = params
        return jnp.mean((jax.nn.sigmoid(xb @ w1 + b1) @ w2 + b2 - yb) ** 2)

    @jax.jit
    def step(params, xs, ys, i):
        xb, yb = jax.lax.dynamic_slice_in_dim(xs, i, 1), jax.lax.dynamic_slice_in_dim(ys, i, 1)
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        return [p - 0.008 * g for p, g in zip(params, grads)], loss

    @jax.jit
    def evaluate(params, xs, ys, i):
        return loss_fn(params, jax.lax.dynamic_slice_in_dim(xs, i, 1), jax.lax.dynamic_slice_in_dim(ys, i, 1))

    start = time.perf_counter()
    xt, yt = jnp.asarray(x[:split]), jnp.asarray(y[:split])
    xv, yv = jnp.asarray(x[split:]), jnp.asarray(y[split:])
    jax.block_until_ready(step(params, xt, yt, 0))
    jax.block_until_ready(evaluate(params, xv, yv, 0))
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    order_rng = np.random.default_rng(0)
    for _ in range(EPOCHS):
        order = jnp.asarray(order_rng.permutation(split))
        xs, ys = xt[order], yt[order]
        for i in range(split):
            params, loss = step(params, xs, ys, i)
        total = 0.0
        for i in range(N - split):
            total += float(evaluate(params, xv, yv, i))
    jax.block_until_ready(params)
    return {
        "fit_seconds": time.perf_counter() - start,
        "compile_seconds": compile_seconds,
        "val_loss": total / (N - split),
    }


def _process(kind: str, cache: str) -> tuple[float, dict]:
    """Wall time of a child process, and its report with its CPU time (user + system, which a
    loaded machine inflates less than the wall time)."""
    env = dict(os.environ, AUTOGRAD_MINI_CACHE_DIR=cache, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # (a student's Python keeps its .pyc files: so do the children)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind], env=env, capture_output=True, text=True, check=True
    ).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(out.strip().splitlines()[-1])
    report["cpu_seconds"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, report


def main(rounds: int) -> dict:
    print(
        f"the lecture's whole run in a new process: 1-10(sigmoid)-1, SGD, {N} samples, batch 1, "
        f"validation_split=0.2, {EPOCHS} epochs (whole-process wall time, s; best of {rounds}, interleaved)"
    )
    best: dict = {}
    try:
        import jax  # noqa: F401

        kinds = ["cold", "warm", "jax"]
    except ImportError:
        print("  (jax not installed: pip install -e '.[bench]')")
        kinds = ["cold", "warm"]
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            for kind in kinds:
                wall, report = _process("jax" if kind == "jax" else "ours", cache)
                if kind not in best or wall < best[kind][0]:
                    best[kind] = (wall, report)
    names = {"cold": "jit_compile, cold cache", "warm": "jit_compile, warm cache", "jax": "jax.jit loop"}
    for kind, (wall, report) in best.items():
        source = f", kernel: {', '.join(report['compile_source'])}" if "compile_source" in report else ""
        print(
            f"  {names[kind]:<24} {wall:7.2f} s   (CPU {report['cpu_seconds']:.2f} s; fit {report['fit_seconds']:.2f} s, "
            f"compile {report['compile_seconds']:.2f} s{source}"
            + (f"; {report['multi_step_batches']} batches N per call" if "multi_step_batches" in report else "")
            + ")"
        )
    if "jax" in best:
        for kind in ("cold", "warm"):
            cpu = best[kind][1]["cpu_seconds"] / best["jax"][1]["cpu_seconds"]
            print(f"  {names[kind]} / jax.jit loop = {best[kind][0] / best['jax'][0]:.2f} (wall), {cpu:.2f} (CPU)")
    return {kind: wall for kind, (wall, _) in best.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=["ours", "jax"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_ours() if args.child == "ours" else child_jax()))
    else:
        main(args.rounds)
