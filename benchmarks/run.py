"""Benchmarks in one process, printed as ratios: autograd_mini against PyTorch CPU, hand-written
numpy and micrograd (each comparison is skipped when its package is missing).

    pip install -e ".[bench]"          # torch==2.13.0 (CPU) and micrograd==0.1.0
    python benchmarks/run.py           # all
    python benchmarks/run.py ops value scaling mnist

Speed goals live here, never in timed unit tests.
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

import autograd_mini as am

ROOT = Path(__file__).resolve().parents[1]


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def optional(name):
    try:
        return __import__(name)
    except ImportError:
        print(f"  ({name} not installed: pip install -e '.[bench]')")
        return None


# ---- per-op overhead -------------------------------------------------------------------------------
def bench_ops(n=200, chains=50):
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

    results = {"autograd_mini": best_of(ours) / (n * chains) * 1e6,
               "numpy by hand": best_of(numpy_forward_backward) / (n * chains) * 1e6}
    torch = optional("torch")
    if torch:
        torch.set_num_threads(1)
        xt = torch.tensor(x0)

        def torch_chain():
            for _ in range(chains):
                x = xt.clone().requires_grad_()
                y = x
                for i in range(n):
                    y = y * 1.0001 if i % 3 == 0 else (y + 0.5 if i % 3 == 1 else torch.tanh(y))
                y.sum().backward()
        results["torch"] = best_of(torch_chain) / (n * chains) * 1e6
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
        neurons = [([Value(random.uniform(-1, 1)) for _ in range(nin)], Value(0.0), i < len(sizes) - 2)
                   for _ in range(nout)]
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
    results = {"autograd_mini.Value": best_of(lambda: _value_step(am.Value, layers, X, y), 3)}
    micrograd = optional("micrograd")
    if micrograd:
        from micrograd.engine import Value as MValue
        m_layers = _value_mlp(MValue)
        results["micrograd 0.1.0"] = best_of(lambda: _value_step(MValue, m_layers, X, y), 3)
        chain = MValue(1.0)
        for _ in range(1000):
            chain = chain + 1.0
        try:
            chain.backward()
            print("  micrograd: 1,000-node chain backward ok")
        except RecursionError:
            print("  micrograd: RecursionError on a 1,000-node chain (autograd_mini: 1,000,000 nodes work)")
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
    from mnist_reference import numpy_epoch, torch_epoch
    import nn

    data = ROOT.parent / "shared" / "data" / "mnist"
    (x, y), _ = nn.datasets.mnist.load_data(data)
    x = x.reshape(-1, 784).astype(np.float32) / 255
    one_hot = np.eye(10, dtype=np.float32)[y]
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((784,)), nn.Dense(512, activation="relu"), nn.Dropout(0.2),
                           nn.Dense(512, activation="relu"), nn.Dropout(0.2), nn.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    results = {"autograd_mini fit": best_of(lambda: model.fit(x, one_hot, batch_size=128, epochs=epochs, verbose=0), 2)}
    results["numpy by hand"] = best_of(lambda: numpy_epoch(x, one_hot), 2)
    torch = optional("torch")
    if torch:
        results["torch"] = best_of(lambda: torch_epoch(torch, x, y), 2)
    _print(results, "autograd_mini fit", "s/epoch")
    return results


def _print(results, ours, unit):
    base = results[ours]
    for name, value in results.items():
        ratio = "" if name == ours else f"   {ours} / {name} = {base / value:.2f}"
        print(f"  {name:<22} {value:10.4f} {unit}{ratio}")


SECTIONS = {"ops": bench_ops, "value": bench_value, "scaling": bench_scaling, "mnist": bench_mnist}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(SECTIONS):
        SECTIONS[name]()
