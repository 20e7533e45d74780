"""Wall time of the ``--quick`` depth x optimizer grid, serial (one process, one point after another) vs
one Ray Tune experiment on this machine's cores, with trials per second.

    python benchmarks/tune_sweep.py                     # depths 1, 4, 8 x the 8 optimizers of optimizers.py
    python benchmarks/tune_sweep.py --optimizers 4 --rounds 2

Each point is ``examples/depth_sweep.train_depth``: construct_model(h) on 12,000 MNIST images, 1 epoch,
batch 128, with one optimizer of ``examples/optimizers.contenders`` (their learning rates), seeded with 0.
The Tune run reuses worker processes (``reuse_actors=True``); its time includes starting Ray (shown
apart), and the test accuracies of both runs are compared point by point. Rounds alternate serial and Tune
(Tune, serial, Tune, serial, ...), and the best of each counts: the machine may be shared, say so when
quoting. Needs the tune extra and MNIST (``--data``, default ../shared/data/mnist).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT))

import _tune  # noqa: E402
import depth_sweep  # noqa: E402
import optimizers  # noqa: E402

import nn  # noqa: E402

BATCH = 128
# the two functions a point needs, bound here so that a trial pickles them and not the example modules
train_depth, contenders = depth_sweep.train_depth, optimizers.contenders


def grid(depths, names):
    return [(h, name) for h in depths for name in names]


def point(data, h, name, epochs, callbacks=()):
    steps = -(-len(data[0]) // BATCH)
    optimizer = contenders(steps)[name]()
    _, accuracy = train_depth(data, h, epochs, seed=0, optimizer=optimizer, callbacks=callbacks)
    return accuracy


def grid_trial(config, data=None):
    from ray import tune

    accuracy = point(data, config["h"], config["optimizer"], config["epochs"])
    tune.report({"test_accuracy": accuracy})


def serial(data, points, epochs):
    started = time.perf_counter()
    accuracies = {(h, name): point(data, h, name, epochs) for h, name in points}
    return time.perf_counter() - started, accuracies


def tuned(data, depths, names, epochs, storage):
    import ray
    from ray import tune
    from ray.cloudpickle import register_pickle_by_value

    for module in (depth_sweep, optimizers):  # the examples travel with the trials, by value
        register_pickle_by_value(module)

    started = time.perf_counter()
    _tune.start_ray()
    ray_start = time.perf_counter() - started
    try:
        space = {"h": tune.grid_search(list(depths)), "optimizer": tune.grid_search(list(names)), "epochs": epochs}
        results = _tune.run_grid(grid_trial, space, name="tune_sweep_bench", storage=storage, data=data)
    finally:
        ray.shutdown()
    wall = time.perf_counter() - started
    accuracies = {(r.config["h"], r.config["optimizer"]): r.metrics["test_accuracy"] for r in results}
    return wall, ray_start, accuracies


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--optimizers", type=int, default=8, help="the first N optimizers of optimizers.py")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--storage", default="/tmp/autograd_mini_tune_bench")
    args = parser.parse_args(argv)
    depths, epochs = (1, 4, 8), 1
    names = list(optimizers.contenders(1))[: args.optimizers]
    points = grid(depths, names)
    data = depth_sweep.load(args.data, limit=12_000)
    cores = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{len(points)} trials ({len(depths)} depths x {len(names)} optimizers), {cores} cores, load {load:.1f}")
    best_serial = best_tune = best_start = float("inf")
    for round_ in range(args.rounds):
        t_wall, t_start, t_acc = tuned(data, depths, names, epochs, args.storage)
        s_wall, s_acc = serial(data, points, epochs)
        print(f"round {round_ + 1}: serial {s_wall:.1f} s, Tune {t_wall:.1f} s (of which starting Ray {t_start:.1f} s)")
        differ = [(p, s_acc[p], t_acc.get(p)) for p in points if s_acc[p] != t_acc.get(p)]
        print(f"  test accuracies: {len(points) - len(differ)} of {len(points)} identical", *differ, sep="\n  ")
        best_serial, best_tune, best_start = min(best_serial, s_wall), min(best_tune, t_wall), min(best_start, t_start)
    n = len(points)
    print(f"{'run':<10}{'wall s':>9}{'trials/s':>10}")
    print(f"{'serial':<10}{best_serial:>9.1f}{n / best_serial:>10.2f}")
    print(f"{'Tune':<10}{best_tune:>9.1f}{n / best_tune:>10.2f}")
    print(
        f"Tune / serial speed-up {best_serial / best_tune:.2f}x on {cores} cores "
        f"(without Ray's start {best_serial / (best_tune - best_start):.2f}x); "
        f"load average after: {os.getloadavg()[0]:.1f}"
    )
    return {"serial": best_serial, "tune": best_tune, "ray_start": best_start, "trials": n, "nn": nn.__file__}


if __name__ == "__main__":
    main()
