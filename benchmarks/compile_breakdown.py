"""Where a cold compile of the lecture's step goes: numba's typing, its lowering to LLVM IR,
LLVM's function and module passes, machine code, the kernel cache's files.

1-10(sigmoid)-1, MSE, SGD, batch 1, ``jit_compile=True`` (``lecture_cache.py``'s network), in a
new process with an empty ``AUTOGRAD_MINI_CACHE_DIR``; CPU seconds (``time.process_time``,
which a loaded machine inflates less than wall time), best of ``--rounds`` processes. The
stages are timed by wrapping numba's own pass methods; they nest (the lowering includes
LLVM's function passes), so the parts are listed as measured, not summed. numba's one-time
set-up for compiling (the refresh of its typing and lowering registries, paid by a process's
first compile) is timed apart, and the compile is given without it too.

    python benchmarks/compile_breakdown.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STAGES = [  # (module, class or None, method, label)
    ("numba.core.typed_passes", "BaseTypeInference", "run_pass", "numba typing"),
    ("numba.core.lowering", "Lower", "lower", "numba lowering to LLVM IR (with LLVM's function passes)"),
    ("numba.core.codegen", "CPUCodeLibrary", "_optimize_functions", "  LLVM function passes"),
    ("numba.core.codegen", "CPUCodeLibrary", "_optimize_final_module", "LLVM module passes"),
    ("numba.core.codegen", "JITCodeLibrary", "_finalize_specific", "LLVM machine code"),
    ("numba.core.caching", "Cache", "save_overload", "numba's cache write"),
    ("autograd_mini.lowering.disk_cache", None, "compile_kernel", "the whole compile (kernel cache included)"),
]


REGISTRIES = "numba's one-time set-up for compiling (its registries; once per process)"
WITHOUT = "the whole compile without numba's one-time set-up"


def child() -> dict:
    import importlib

    import numpy as np

    import nn

    spent: dict = collections.defaultdict(float)

    def wrap(owner, name, label):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start

        setattr(owner, name, timed)

    for module, cls, method, label in STAGES:
        owner = importlib.import_module(module)
        wrap(getattr(owner, cls) if cls else owner, method, label)
    # numba's one-time set-up for compiling (its typing and lowering registries: the target
    # context's refresh), paid once per process by its first compile: before the kernel cache
    # loaded the optimizer's helpers without it (numba_support.loading_cached_code), that load
    # paid it; now the step's compile does. Reported apart, and the compile without it.
    from numba.core import base
    from numba.core.typing import context

    depth = [0]

    def timed(refresh):
        def timed_refresh(self):
            depth[0] += 1
            start = time.process_time()
            try:
                return refresh(self)
            finally:
                depth[0] -= 1
                if not depth[0]:  # (the target context's refresh refreshes the typing context's)
                    spent[REGISTRIES] += time.process_time() - start

        return timed_refresh

    for owner in (base.BaseContext, context.BaseContext):
        owner.refresh = timed(owner.refresh)
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (8, 1)).astype(np.float32)
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=True)
    start = time.process_time()
    model.fit(x, (x - 0.5) ** 2, batch_size=1, epochs=1, verbose=0)
    spent["first fit"] = time.process_time() - start
    stats = model._captured_train_step.compiled.stats()
    sources = [e.kernel.sources for e in model._captured_train_step.compiled.cache.values() if e.kernel is not None]
    spent["generated lines"] = float(sum(s.count("\n") for s in sources[0][:-1])) if sources else 0.0
    spent["kernel from"] = sorted({str(s["compile_source"]) for s in stats})
    spent[WITHOUT] = spent[STAGES[-1][3]] - spent[REGISTRIES]
    return dict(spent)


def main(rounds: int) -> None:
    best: dict = {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, AUTOGRAD_MINI_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
            out = subprocess.run(
                [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True
            ).stdout
        report = json.loads(out.strip().splitlines()[-1])
        for key, value in report.items():
            if not isinstance(value, float) or key not in best or value < best[key]:
                best[key] = value
    print(
        f"the lecture step's cold compile, CPU seconds (best of {rounds} new processes; kernel: {best['kernel from']})"
    )
    for _, _, _, label in STAGES:
        print(f"  {best.get(label, 0.0):6.3f}  {label}")
    print(f"  {best.get(REGISTRIES, 0.0):6.3f}  {REGISTRIES}")
    print(f"  {best.get(WITHOUT, 0.0):6.3f}  {WITHOUT}")
    print(f"  {best['first fit']:6.3f}  the first fit call in all (numba's start, the traces, the compile)")
    print(f"  {int(best['generated lines']):6d}  generated lines")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child()))
    else:
        main(args.rounds)
