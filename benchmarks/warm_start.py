"""Where a warm process's time goes: the lecture's run a second time (its kernel in the cache).

The lecture's run (1-10(sigmoid)-1, SGD, 1,000 samples, ``fit(batch_size=1, validation_split=0.2,
epochs=50)``, ``jit_compile=True``) in a new process whose kernel cache
(``AUTOGRAD_MINI_CACHE_DIR``) and numba cache are warm. Each child reports, in CPU seconds
(``getrusage``: user + system) and wall seconds,

- ``interpreter``: from the parent's ``spawn`` to the child's first line (start-up, ``site``),
- ``import nn``, ``import numba`` (what ``get_numba()`` does: numba's import and its BLAS probe),
- ``model``: building and compiling the Keras model,
- ``fit``: the whole fit, with the kernel's load from the cache and numba's first use in the
  process (its typing and target registries: ``target_context.refresh()``),
- ``first use``: ``fit`` minus a second, identical fit in the same process (same seed, a new
  model: its kernel loads again, numba is warm), i.e. what the first fit pays once,
- ``outside fit``: the whole process minus a warm fit (``total - 2 * fit2``): what remains when
  the fit itself costs nothing.

With ``--base PATH`` (another checkout, e.g. ``git archive ... | tar -x -C /tmp/base``) the two are
run interleaved (ours, base, base, ours, ...) so they share the machine's drift; best of
``--rounds`` per column. Each tree gets its own warm cache folder (filled by one run first).

    python benchmarks/warm_start.py [--rounds 5] [--base /tmp/base]
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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child() -> dict:
    marks = {"start": (time.time(), time.perf_counter(), _cpu())}

    def mark(name):
        marks[name] = (time.time(), time.perf_counter(), _cpu())

    import nn

    mark("import nn")
    from autograd_mini.numba_support import get_numba

    get_numba()
    mark("import numba")
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (1000, 1)).astype(np.float32)
    y = (x - 0.5) ** 2
    histories = []
    for run in ("", "2"):
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
        model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=True)
        mark("model" + run)
        histories.append(model.fit(x, y, batch_size=1, epochs=50, validation_split=0.2, verbose=0).history)
        mark("fit" + run)
    if histories[0] != histories[1]:
        raise AssertionError("the second fit is not bit for bit the first")
    from autograd_mini.lowering import disk_cache

    return {"marks": marks, "cache": disk_cache.stats(), "val_loss": float(histories[0]["val_loss"][-1]).hex()}


def _process(tree: str, cache: str) -> dict:
    env = dict(os.environ, AUTOGRAD_MINI_CACHE_DIR=cache, PYTHONPATH=tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned, start = time.time(), time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child"], env=env, capture_output=True, text=True, check=True
    ).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(out.strip().splitlines()[-1])
    m = report["marks"]
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime

    def span(a, b, i):
        return m[b][i] - m[a][i]

    row = {"total": (wall, cpu), "interpreter": (m["start"][0] - spawned, m["start"][2])}
    row["import nn"] = (span("start", "import nn", 1), span("start", "import nn", 2))
    row["import numba"] = (span("import nn", "import numba", 1), span("import nn", "import numba", 2))
    row["model"] = (span("import numba", "model", 1), span("import numba", "model", 2))
    row["fit"] = (span("model", "fit", 1), span("model", "fit", 2))
    warm = (span("model2", "fit2", 1), span("model2", "fit2", 2))
    row["first use"] = (row["fit"][0] - warm[0], row["fit"][1] - warm[1])
    row["outside fit"] = (wall - 2 * warm[0], cpu - 2 * warm[1])
    row["_report"] = report
    return row


def main(rounds: int, base: str | None) -> dict:
    trees = {"ours": str(ROOT)} | ({"base": base} if base else {})
    print(
        "the lecture's run in a new process with a warm kernel cache: where the time goes "
        f"(CPU s / wall s, best of {rounds}{', interleaved with ' + base if base else ''})"
    )
    rows: dict = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as folder:
        caches = {name: os.path.join(folder, name) for name in trees}
        for name, tree in trees.items():
            _process(tree, caches[name])  # fills the cache
        order = list(trees)
        for r in range(rounds):
            for name in order if r % 2 == 0 else order[::-1]:
                rows[name].append(_process(trees[name], caches[name]))
    columns = ["total", "interpreter", "import nn", "import numba", "model", "fit", "first use", "outside fit"]
    print(f"  {'':6}" + "".join(f"{c:>16}" for c in columns))
    best = {}
    for name in trees:
        best[name] = {c: (min(r[c][1] for r in rows[name]), min(r[c][0] for r in rows[name])) for c in columns}
        print(f"  {name:6}" + "".join(f"{best[name][c][0]:7.3f} /{best[name][c][1]:6.3f} " for c in columns))
        hits = {r["_report"]["cache"]["disk_hits"] for r in rows[name]}
        print(f"  {'':6}kernels loaded from the cache per process: {sorted(hits)}")
    if base:
        same = {r["_report"]["val_loss"] for name in trees for r in rows[name]}
        print(f"  the same final val_loss bit for bit in every process: {len(same) == 1}")
    print(f"  load average {tuple(round(v, 1) for v in os.getloadavg())}")
    return best


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base", help="another checkout to compare with, run interleaved")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child()))
    else:
        main(args.rounds, args.base)
