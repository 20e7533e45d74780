"""Benchmarks in one process, printed as ratios: autograd_mini against PyTorch CPU, ``jax.jit``,
hand-written numpy and micrograd (each comparison is skipped when its package is missing).

    pip install -e ".[bench]"          # torch==2.13.0 (CPU), jax and micrograd==0.1.0
    python benchmarks/run.py           # all
    python benchmarks/run.py ops value scaling mnist batch1 lecture40k memory

Speed goals live here, never in timed unit tests.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from pathlib import Path

import numpy as np

import autograd_mini as am

ROOT = Path(__file__).resolve().parents[1]


def race(contenders: dict, rounds=5, scale=1.0, settle=0.0) -> dict:
    """Best time of each contender over ``rounds``, run interleaved (a, b, c, a, b, c, ...): on a
    shared 2-core machine the speed drifts over seconds, and interleaving exposes every
    contender to the same drift. A full collection runs before each timing, and ``settle``
    seconds of sleep let the previous contender's worker threads (torch's OpenMP pool spins
    after its work) go idle before a multi-threaded contender starts. Returns {name: best seconds * scale}."""
    best = {name: float("inf") for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            gc.collect()  # nobody pays for the previous contender's cyclic garbage
            time.sleep(settle)
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return {name: value * scale for name, value in best.items()}


def optional(name):
    try:
        return __import__(name)
    except ImportError:
        print(f"  ({name} not installed: pip install -e '.[bench]')")
        return None


# ---- per-op overhead -------------------------------------------------------------------------------
def bench_ops(n=200, chains=10):
    print("\nper-op overhead, forward+backward, chain of elementwise ops on an 8x8 float64 tensor (us/op)")
    ops = [lambda t: t * 1.0001, lambda t: t + 0.5, lambda t: t.tanh() if hasattr(t, "tanh") else np.tanh(t)]
    x0 = np.random.default_rng(0).standard_normal((8, 8))

    def ours():
        for _ in range(chains):
            x = am.tensor(x0, requires_grad=True)
            y = x
            for i in range(n):
                y = ops[i % 3](y)
            y.sum().backward()

    def numpy_forward_backward():  # the same math by hand: forward, then the chain rule backward
        for _ in range(chains):
            saved, y = [], x0
            for i in range(n):
                saved.append(y)
                y = y * 1.0001 if i % 3 == 0 else (y + 0.5 if i % 3 == 1 else np.tanh(y))
            g = np.ones_like(y)
            for i in reversed(range(n)):
                if i % 3 == 0:
                    g = g * 1.0001
                elif i % 3 == 2:
                    t = np.tanh(saved[i])
                    g = g * (1 - t * t)

    contenders = {"autograd_mini": ours, "numpy by hand": numpy_forward_backward}
    torch = optional("torch")
    threads = None
    if torch:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # per-op overhead, not parallelism (restored below)
        xt = torch.tensor(x0)

        def torch_chain():
            for _ in range(chains):
                x = xt.clone().requires_grad_()
                y = x
                for i in range(n):
                    y = y * 1.0001 if i % 3 == 0 else (y + 0.5 if i % 3 == 1 else torch.tanh(y))
                y.sum().backward()

        contenders["torch"] = torch_chain
    results = race(contenders, rounds=40, scale=1e6 / (n * chains))
    if threads:
        torch.set_num_threads(threads)
    _print(results, "autograd_mini", "us/op")
    return results


# ---- Value vs micrograd ------------------------------------------------------------------------------
def _demo_data(n=100):
    rng = np.random.default_rng(1)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(np.arange(n) % 2 == 0, 1.0, 2.0) + rng.normal(0, 0.1, n)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    y = np.where(np.arange(n) % 2 == 0, 1, -1)
    return X.tolist(), y.tolist()


def _value_mlp(Value, sizes=(2, 16, 16, 1)):
    random.seed(0)
    layers = []
    for i, (nin, nout) in enumerate(zip(sizes[:-1], sizes[1:])):
        neurons = [
            ([Value(random.uniform(-1, 1)) for _ in range(nin)], Value(0.0), i < len(sizes) - 2) for _ in range(nout)
        ]
        layers.append(neurons)
    return layers


def _value_step(Value, layers, X, y):
    params = [p for layer in layers for w, b, _ in layer for p in w + [b]]
    scores = []
    for xi in X:
        h = [Value(v) for v in xi]
        for layer in layers:
            out = []
            for w, b, relu in layer:
                act = sum((wi * hi for wi, hi in zip(w, h)), b)
                out.append(act.relu() if relu else act)
            h = out
        scores.append(h[0])
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= 0.01 * p.grad
    return loss.data


def bench_value():
    print("\nmicrograd's demo step: MLP(2,[16,16,1]) of Values, max-margin + L2 on 100 points, fwd+bwd+SGD (s/step)")
    X, y = _demo_data()
    layers = _value_mlp(am.Value)
    contenders = {"autograd_mini.Value": lambda: _value_step(am.Value, layers, X, y)}
    micrograd = optional("micrograd")
    if micrograd:
        from micrograd.engine import Value as MValue

        m_layers = _value_mlp(MValue)
        contenders["micrograd 0.1.0"] = lambda: _value_step(MValue, m_layers, X, y)
        chain = MValue(1.0)
        for _ in range(1000):
            chain = chain + 1.0
        try:
            chain.backward()
            print("  micrograd: 1,000-node chain backward ok")
        except RecursionError:
            print("  micrograd: RecursionError on a 1,000-node chain (autograd_mini: 1,000,000 nodes work)")
    results = race(contenders, rounds=3)
    _print(results, "autograd_mini.Value", "s/step")
    return results


# ---- linear scaling ---------------------------------------------------------------------------------------
def bench_scaling():
    print("\nbackward time per node (Tensor chain of mul on a 2-element tensor)")
    for n in (1_000, 100_000, 1_000_000):
        x = am.tensor(np.ones(2), requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0
        root = y.sum()
        t = time.perf_counter()
        root.backward()
        print(f"  {n:>9,} nodes: {(time.perf_counter() - t) / n * 1e6:.2f} us/node")


# ---- MNIST MLP epoch ---------------------------------------------------------------------------------------
def bench_mnist(epochs=1):
    print("\nseed MNIST MLP (784-512-Dropout-512-Dropout-10, RMSprop, batch 128), one epoch of training (s)")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from mnist_reference import numpy_epoch, seed_model, torch_epoch

    import nn

    data = ROOT.parent / "shared" / "data" / "mnist"
    (x, y), _ = nn.datasets.mnist.load_data(data)
    x = x.reshape(-1, 784).astype(np.float32) / 255
    one_hot = np.eye(10, dtype=np.float32)[y]

    eager, captured = seed_model(nn, False), seed_model(nn, True)
    start = time.perf_counter()
    captured.fit(x[:384], one_hot[:384], batch_size=128, epochs=2, verbose=0)  # trace + validate + replay
    print(f"  (jit_compile: first steps, traced twice and checked, {time.perf_counter() - start:.2f} s)")
    captured.fit(x, one_hot, batch_size=128, epochs=1, verbose=0)
    print(f"  (jit_compile: {_kernel_note(captured)})")
    contenders = {
        "autograd_mini fit": lambda: eager.fit(x, one_hot, batch_size=128, epochs=epochs, verbose=0),
        "autograd_mini jit_compile": lambda: captured.fit(x, one_hot, batch_size=128, epochs=epochs, verbose=0),
        "numpy by hand": lambda: numpy_epoch(x, one_hot),
    }
    torch = optional("torch")
    if torch:
        contenders["torch"] = lambda: torch_epoch(torch, x, y)
    jax = optional("jax")
    if jax:
        from jax_reference import mnist_epoch

        contenders["jax.jit"], compile_seconds = mnist_epoch(jax, x, one_hot)
        print(f"  (jax.jit: first-step trace and compile {compile_seconds:.2f} s, both batch signatures)")
    results = race(contenders, rounds=3, settle=0.5)
    _print(results, "autograd_mini fit", "s/epoch")
    if "jax.jit" in results:
        print(
            f"  autograd_mini jit_compile / jax.jit = {results['autograd_mini jit_compile'] / results['jax.jit']:.2f}"
        )
    return results


# ---- batch-1 SGD on the 1-10-1 sigmoid network ---------------------------------------------------------------
def bench_batch1(n=2000, epochs=2):
    print("\nbatch-1 SGD, 1-10(sigmoid)-1 network, MSE, lr 0.008: time per step (us)")
    import nn

    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (n, 1)).astype(np.float32)
    y = (x - 0.5) ** 2

    def lecture_model(jit):
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
        model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=jit)
        return model

    eager, captured, replayed = lecture_model(False), lecture_model(True), lecture_model(True)
    start = time.perf_counter()
    captured.fit(x[:3], y[:3], batch_size=1, epochs=1, verbose=0)
    print(f"  (jit_compile: first steps, traced twice and checked, {(time.perf_counter() - start) * 1e3:.0f} ms)")
    start = time.perf_counter()
    captured.fit(x, y, batch_size=1, epochs=1, verbose=0)  # the tiered JIT compiles its loop kernel here
    print(f"  (jit_compile: {_kernel_note(captured)}; that whole first epoch {time.perf_counter() - start:.2f} s)")
    steps = n * epochs

    def exact_replay():  # jit_compile without numba: the bit-exact numpy replay of the step
        with am.use_numba(False):
            replayed.fit(x, y, batch_size=1, epochs=epochs, verbose=0)

    contenders = {
        "autograd_mini fit": lambda: eager.fit(x, y, batch_size=1, epochs=epochs, verbose=0),
        "autograd_mini jit_compile": lambda: captured.fit(x, y, batch_size=1, epochs=epochs, verbose=0),
        "jit_compile, exact": exact_replay,
    }
    torch = optional("torch")
    if torch:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(1, 10), torch.nn.Sigmoid(), torch.nn.Linear(10, 1))
        opt = torch.optim.SGD(net.parameters(), lr=0.008)
        loss_fn = torch.nn.MSELoss()
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def torch_loop():  # the leanest loop: shuffle once per epoch, then basic slices
            for _ in range(epochs):
                order = torch.randperm(n)
                xs, ys = xt[order], yt[order]
                for i in range(n):
                    opt.zero_grad()
                    loss = loss_fn(net(xs[i : i + 1]), ys[i : i + 1])
                    loss.backward()
                    opt.step()

        contenders["torch loop"] = torch_loop
    jax = optional("jax")
    if jax:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from jax_reference import batch1_loop

        contenders["jax.jit loop"], compile_seconds = batch1_loop(jax, x, y, epochs)
        print(f"  (jax.jit: first-step trace and compile {compile_seconds * 1e3:.0f} ms)")
    results = race(contenders, rounds=3, scale=1e6 / steps)
    _print(results, "autograd_mini fit", "us/step")
    if "jax.jit loop" in results:
        print(
            f"  autograd_mini jit_compile / jax.jit loop = {results['autograd_mini jit_compile'] / results['jax.jit loop']:.2f}"
        )
    return results


def _kernel_note(model) -> str:
    """What the captured step runs: its loop kernel (with the compile time) or the numpy replay (and why)."""
    step = getattr(model, "_captured_train_step", None)
    if step is None:
        return "no captured step"
    notes = []
    for s in step.compiled.stats():
        if s["kernel"]:
            notes.append(f"loop kernel, compiled in {s['compile_seconds']:.2f} s")
        else:
            notes.append(f"numpy replay ({s['not_lowered'] or 'not compiled yet'})")
    return "; ".join(notes) or "nothing captured"


# ---- the Swedish lecture's full run: 40,000 batch-1 steps ----------------------------------------------------
def bench_lecture40k(n=800, epochs=50):
    print("\nthe lecture's full run: 1-10(sigmoid)-1, SGD lr 0.008, batch 1, 800 samples x 50 epochs (s, wall time)")
    import nn

    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (n, 1)).astype(np.float32)
    y = (x - 0.5) ** 2
    results = {}
    import os
    import tempfile

    from autograd_mini.lowering import kernel

    cold, previous = tempfile.TemporaryDirectory(), os.environ.get("AUTOGRAD_MINI_CACHE_DIR")
    os.environ["AUTOGRAD_MINI_CACHE_DIR"] = cold.name  # an empty kernel cache: the time includes numba's compile
    # (benchmarks/lecture_cache.py measures a cold and a warm process)
    for name, jit in (("autograd_mini fit", False), ("autograd_mini jit_compile", True)):
        kernel._COMPILED.clear()  # the wall time includes compiling the step, as jax's includes its compile
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
        model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=jit)
        gc.collect()
        start = time.perf_counter()
        model.fit(x, y, batch_size=1, epochs=epochs, verbose=0)
        results[name] = time.perf_counter() - start
        if jit:
            print(f"  ({name}: {_kernel_note(model)})")
    if previous is None:
        del os.environ["AUTOGRAD_MINI_CACHE_DIR"]
    else:
        os.environ["AUTOGRAD_MINI_CACHE_DIR"] = previous
    cold.cleanup()
    jax = optional("jax")
    if jax:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from jax_reference import batch1_loop

        start = time.perf_counter()
        run, _ = batch1_loop(jax, x, y, epochs)
        run()
        results["jax.jit loop (with compile)"] = time.perf_counter() - start
    _print(results, "autograd_mini jit_compile", "s")
    return results


# ---- peak memory of the MNIST epoch -------------------------------------------------------------------------
def bench_memory():
    print("\npeak memory (whole-process max RSS) of one seed-MNIST epoch, each in its own process (MiB)")
    import subprocess

    results = {}
    names = ["autograd_mini", "numpy"] + (["torch"] if optional("torch") else [])
    for name in names:
        out = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "peak_memory.py"), name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results[name] = float(out.split()[-1])
    _print(results, "autograd_mini", "MiB")
    return results


def _print(results, ours, unit):
    base = results[ours]
    for name, value in results.items():
        ratio = "" if name == ours else f"   {ours} / {name} = {base / value:.2f}"
        print(f"  {name:<22} {value:10.4f} {unit}{ratio}")


SECTIONS = {
    "ops": bench_ops,
    "value": bench_value,
    "scaling": bench_scaling,
    "mnist": bench_mnist,
    "batch1": bench_batch1,
    "lecture40k": bench_lecture40k,
    "memory": bench_memory,
}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(SECTIONS):
        SECTIONS[name]()
