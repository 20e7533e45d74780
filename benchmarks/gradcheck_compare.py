"""Gradient checkers compared on the gradient corpus (tests/gradient_corpus): detections, false
alarms and time per case, for am.testing.assert_grads_match, torch.autograd.gradcheck (+
gradgradcheck where the case is second order) and jax.test_util.check_grads.

    PYTHONPATH=$PWD python benchmarks/gradcheck_compare.py [--inputs 5] [--seed 0]

Every case and mutant is checked on the same fixed inputs (``--inputs`` per case, drawn once
by the case's Hypothesis strategy with ``--seed``); a correct case is a false alarm when any
input fails, a mutant is found when any input fails. The same numpy forward and backward
formula run in each framework:

- autograd_mini: the case's ``am.Function`` (its backward under ``create_graph`` is recorded:
  order 2 where the case says so), and the same at order 1 only (the time comparable with
  the others; second-derivative-only mutants n/a);
- torch: a ``torch.autograd.Function`` whose forward and backward call the numpy formulas
  (``gradcheck``'s defaults). Its backward is not differentiable by torch, so
  ``gradgradcheck`` and the second-derivative-only mutants are not applicable (n/a);
- jax: a ``jax.custom_vjp`` function whose forward and backward are ``jax.pure_callback``s of
  the numpy formulas, ``check_grads(order=1, modes=("rev",))`` under x64; n/a at order 2.

An exception other than the checker's assertion (a shape error inside the framework) counts
as a detection and is tallied in "by error". Times are wall-clock per (case, input) on a
shared 2-core machine, interleaved per case (am, torch, jax), so the ratios are what to read.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from gradient_corpus.cases import CASES  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import autograd_mini as am  # noqa: E402
from autograd_mini.testing import assert_grads_match  # noqa: E402


def fixed_inputs(case, count: int, hseed: int) -> list:
    got = []

    @seed(hseed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def collect(data):
        got.append(case.draw(data))

    collect()
    return got[:count]


def _tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,)


# ---- the three checkers: each returns "pass", "fail" or "error" ------------------------------------


def run_am(case, backward, args, options, order=None):
    op = case.op(backward)
    tensors = [am.tensor(np.asarray(a)) for a in args]
    try:
        assert_grads_match(lambda *ts: op.apply(*ts, **options), *tensors, order=order or case.order)
        return "pass"
    except AssertionError:
        return "fail"
    except Exception:
        return "error"


def run_torch(case, backward, args, options):
    import torch

    backward = backward or case.backward

    class Bridge(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *ts):
            xs = [t.detach().numpy() for t in ts]
            y = np.asarray(case.forward(*xs, **options), dtype=np.float64)
            ctx.xs, ctx.y = xs, y
            return torch.from_numpy(y.copy())

        @staticmethod
        def backward(ctx, g):
            grads = _tuple(backward(g.detach().numpy(), ctx.y, *ctx.xs, **options))
            return tuple(None if d is None else torch.from_numpy(np.array(d)) for d in grads)

    ts = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in args]
    try:
        ok = torch.autograd.gradcheck(Bridge.apply, ts, raise_exception=False)
        return "pass" if ok else "fail"
    except Exception:
        return "error"


def run_jax(case, backward, args, options):
    import jax
    from jax.test_util import check_grads

    backward = backward or case.backward
    with jax.enable_x64(True):
        xs0 = [np.asarray(a, dtype=np.float64) for a in args]
        y0 = np.asarray(case.forward(*xs0, **options), dtype=np.float64)
        out_spec = jax.ShapeDtypeStruct(y0.shape, np.float64)
        in_specs = tuple(jax.ShapeDtypeStruct(x.shape, np.float64) for x in xs0)

        def value(*xs):
            return np.asarray(case.forward(*[np.asarray(x) for x in xs], **options), dtype=np.float64)

        @jax.custom_vjp
        def f(*xs):
            return jax.pure_callback(value, out_spec, *xs)

        def fwd(*xs):
            y = f(*xs)
            return y, (xs, y)

        def bwd(res, g):
            xs, y = res

            def grads(g, y, *xs):
                got = _tuple(backward(np.asarray(g), np.asarray(y), *[np.asarray(x) for x in xs], **options))
                return tuple(np.asarray(d) for d in got)

            return tuple(jax.pure_callback(grads, in_specs, g, y, *xs))

        f.defvjp(fwd, bwd)
        try:
            check_grads(f, tuple(xs0), order=1, modes=("rev",))
            return "pass"
        except AssertionError:
            return "fail"
        except Exception:
            return "error"


def run_am_first_order(case, backward, args, options):
    return run_am(case, backward, args, options, order=1)


CHECKERS = {
    "autograd_mini": run_am,
    "autograd_mini order 1": run_am_first_order,
    "torch": run_torch,
    "jax": run_jax,
}
MODULES = {"autograd_mini": "autograd_mini", "autograd_mini order 1": "autograd_mini", "torch": "torch", "jax": "jax"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    warnings.simplefilter("ignore")
    names = []
    for name in list(CHECKERS):
        try:
            __import__(MODULES[name])
            names.append(name)
        except ImportError:
            print(f"{name}: not installed, skipped")
    stats = {n: {"alarms": 0, "found": 0, "by_error": 0, "applicable": 0, "time": 0.0, "runs": 0} for n in names}
    missed = {n: [] for n in names}
    n_mutants = 0
    for case in CASES:
        inputs = fixed_inputs(case, opts.inputs, opts.seed)
        jobs = [(None, None, "correct")] + [(m, backward, kind) for m, (kind, backward) in case.mutants.items()]
        for mutant, backward, kind in jobs:
            n_mutants += mutant is not None
            for name in names:
                if name != "autograd_mini" and kind == "second":
                    continue  # the foreign bridges cannot differentiate a numpy backward
                results = []
                for args, options in inputs:
                    start = time.perf_counter()
                    results.append(CHECKERS[name](case, backward, args, options))
                    stats[name]["time"] += time.perf_counter() - start
                    stats[name]["runs"] += 1
                failed = [r for r in results if r != "pass"]
                if mutant is None:
                    stats[name]["alarms"] += bool(failed)
                    if failed:
                        missed[name].append(f"false alarm: {case.name} ({failed[0]})")
                else:
                    stats[name]["applicable"] += 1
                    if failed:
                        stats[name]["found"] += 1
                        stats[name]["by_error"] += all(r == "error" for r in failed)
                    else:
                        missed[name].append(f"missed: {case.name}-{mutant} ({kind})")
    print(f"\n{len(CASES)} correct cases, {n_mutants} mutants, {opts.inputs} fixed inputs each (seed {opts.seed})\n")
    print(
        "| checker | false alarms (of correct cases) | mutants found (of applicable) | by error | ms per (case, input) |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name in names:
        s = stats[name]
        print(
            f"| {name} | {s['alarms']} of {len(CASES)} | {s['found']} of {s['applicable']} | {s['by_error']} | "
            f"{1000 * s['time'] / max(s['runs'], 1):.1f} |"
        )
    for name in names:
        if missed[name]:
            print(f"\n{name}:\n  " + "\n  ".join(missed[name]))


if __name__ == "__main__":
    main()
