"""The seed MNIST epoch with ``jit_compile=True``: the step's loop kernel with its products as BLAS
calls, against the numpy replay the step ran before (BLAS products, numpy elementwise work) and a
bare ``jax.jit`` loop doing the same work.

784-512(relu)-Dropout(0.2)-512(relu)-Dropout(0.2)-10(softmax), categorical cross-entropy, RMSprop,
batch 128, 60,000 images. In one process, interleaved (replay, kernel, jax, replay, ...), best of
``--rounds``, CPU time (``time.process_time``: every thread of the process, BLAS's too) and wall
time. It also prints the BLAS thread counts, the kernel's cold compile (an empty kernel cache
folder) and, in a second process on that folder, its load from the disk cache.

    python benchmarks/mnist_compiled.py [--rounds 3] [--epochs 1]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _data():
    import nn

    (x, y), _ = nn.datasets.mnist.load_data(ROOT.parent / "shared" / "data" / "mnist")
    x = x.reshape(-1, 784).astype(np.float32) / 255
    return x, np.eye(10, dtype=np.float32)[y]


def seed_model(blas: bool):
    """The seed model with ``jit_compile=True``, its first steps taken (traced, checked, lowered):
    ``blas`` False compiles with kernels' BLAS calls off, so the step keeps the numpy replay."""
    import nn
    from autograd_mini.lowering import blas as kernel_blas

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from mnist_reference import seed_model as build

    x, one_hot = _data()
    model = build(nn, jit_compile=True)
    kernel_blas.set_enabled(blas)
    try:
        start = time.perf_counter()
        model.fit(x[:384], one_hot[:384], batch_size=128, epochs=2, verbose=0)
        first = time.perf_counter() - start
    finally:
        kernel_blas.set_enabled(True)
    return model, first


def kernel_note(model) -> dict:
    """What the batch-128 step runs: kernel or replay (and why), compile seconds, where the machine code came from."""
    for s in model._captured_train_step.compiled.stats():
        if s["signature"][0][0][0] == 128:
            return {
                "kernel": s["kernel"],
                "compile_seconds": s["compile_seconds"],
                "compile_source": s["compile_source"],
                "not_lowered": s["not_lowered"],
            }
    return {}


def blas_threads() -> str:
    """The thread counts of the OpenBLAS builds in this process (numpy's, and scipy's that kernels call)."""
    found = []
    for lib in sorted(glob.glob(str(Path(np.__file__).parents[1] / "*.libs" / "*openblas*.so*"))):
        handle = ctypes.CDLL(lib)
        for symbol in (
            "scipy_openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads",
            "openblas_get_num_threads",
        ):
            fn = getattr(handle, symbol, None)
            if fn is not None:
                found.append(f"{Path(lib).name.split('-')[0]}: {fn()}")
                break
    env = os.environ.get("OPENBLAS_NUM_THREADS")
    return ", ".join(found or ["unknown"]) + f" (OPENBLAS_NUM_THREADS={env}; {os.cpu_count()} cores)"


def race(contenders: dict, rounds: int) -> dict:
    """Best CPU and wall seconds of each contender, run interleaved with a collection before each."""
    best = {name: [float("inf"), float("inf")] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            gc.collect()
            time.sleep(0.5)  # the previous contender's BLAS threads go idle
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            best[name][0] = min(best[name][0], time.process_time() - cpu)
            best[name][1] = min(best[name][1], time.perf_counter() - wall)
    return best


def child_load() -> None:
    """Run in a second process on the first one's cache folder: the kernel comes from the disk cache."""
    model, first = seed_model(blas=True)
    print(json.dumps({"first_steps_seconds": first, **kernel_note(model)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--child-load", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_load:
        return child_load()
    cache = tempfile.mkdtemp(prefix="amcache-mnist-")
    os.environ["AUTOGRAD_MINI_CACHE_DIR"] = cache  # an empty folder: the kernel compiles cold
    x, one_hot = _data()
    print("seed MNIST MLP, one epoch (784-512-D-512-D-10, RMSprop, batch 128), jit_compile=True")
    replayed, first_replay = seed_model(blas=False)
    compiled, first_kernel = seed_model(blas=True)
    note = kernel_note(compiled)
    print(f"  replay: first steps {first_replay:.2f} s ({kernel_note(replayed)['not_lowered']})")
    print(
        f"  BLAS kernel: first steps {first_kernel:.2f} s, cold compile {note['compile_seconds']:.2f} s "
        f"({note['compile_source']}); kernel: {note['kernel']}"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, __file__, "--child-load"], env=env, capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    print(
        f"  BLAS kernel in a second process: {loaded['compile_source']}, {loaded['compile_seconds']:.2f} s "
        f"(first steps {loaded['first_steps_seconds']:.2f} s)"
    )
    print(f"  BLAS threads: {blas_threads()}")

    def epoch(model):
        return lambda: model.fit(x, one_hot, batch_size=128, epochs=args.epochs, verbose=0)

    contenders = {"replay (numpy, BLAS products)": epoch(replayed), "kernel (BLAS products)": epoch(compiled)}
    try:
        import jax
    except ImportError:
        print("  (jax not installed: pip install -e '.[bench]')")
    else:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from jax_reference import mnist_epoch

        run, jax_compile = mnist_epoch(jax, x, one_hot)
        contenders["jax.jit"] = lambda: [run() for _ in range(args.epochs)]
        print(f"  jax.jit: compile {jax_compile:.2f} s")
    results = race(contenders, args.rounds)
    base_cpu, base_wall = results["kernel (BLAS products)"]
    print(f"  best of {args.rounds}, s per {args.epochs} epoch(s):      CPU      wall   kernel/this (CPU, wall)")
    for name, (cpu, wall) in results.items():
        print(f"  {name:<32} {cpu:8.3f} {wall:8.3f}   {base_cpu / cpu:.2f}x, {base_wall / wall:.2f}x")
    assert kernel_note(compiled)["kernel"] and not kernel_note(replayed)["kernel"]


if __name__ == "__main__":
    main()
