"""draw_graph in linear time: seconds per 1,000 nodes for graphs of 10^3 .. 10^6 nodes.

A ``Value`` chain ``y = y * 1.0001`` (each step one op node and two data nodes) and a Tensor
chain with a side branch per step (``h = tanh(h) + h * c``, a name scope every 100 steps). Each
row times ``draw_graph`` (the walk, collapsing and the DOT text; rendering is bounded by
``max_nodes`` and not timed). A flat "ms per 1,000 nodes" column means linear time.

    python benchmarks/draw_scaling.py            # Values 10^3..10^6, Tensors 10^3..10^5
    python benchmarks/draw_scaling.py --quick    # up to 10^5 / 10^4

On this shared 2-core machine the absolute numbers drift with load; the last line times two
sizes alternately in one process, and their ratio is the check of linear time.
"""

from __future__ import annotations

import gc
import sys
import time

import numpy as np

import autograd_mini as am


def value_chain(steps: int):
    y = am.Value(1.0, label="x")
    for _ in range(steps):
        y = y * 1.0001
    return y


def tensor_graph(steps: int):
    x = am.tensor(np.ones(3, dtype=np.float32), requires_grad=True, name="x")
    c = am.tensor(np.full(3, 0.5, dtype=np.float32), name="c")
    h = x
    for k in range(0, steps, 100):
        with am.name_scope(f"block{k // 100}"):
            for _ in range(min(100, steps - k)):
                h = am.tanh(h) + h * c
    return h.sum()


def count_nodes(root) -> int:
    from autograd_mini.viz.walk import build

    return len(build(root, show_data=False, show_grad=False))


def timed(root) -> float:
    gc.collect()
    start = time.perf_counter()
    am.draw_graph(root)
    return time.perf_counter() - start


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    timed(value_chain(10))  # warm up: imports and first-call costs are not the graph's
    print(f"{'graph':>8} {'nodes':>10} {'seconds':>9} {'ms / 1,000 nodes':>17}")
    value_sizes = [10**3, 10**4, 10**5] + ([] if quick else [10**6])
    tensor_sizes = [10**3, 10**4] + ([] if quick else [10**5])
    for kind, sizes, make, per_step in (
        ("Value", value_sizes, value_chain, 3),
        ("Tensor", tensor_sizes, tensor_graph, 6),
    ):
        for nodes in sizes:
            root = make(max(1, nodes // per_step))
            n = count_nodes(root)
            seconds = timed(root)
            print(f"{kind:>8} {n:>10,} {seconds:>9.3f} {1000 * seconds / n * 1000:>17.3f}", flush=True)
            del root
            gc.collect()
    # the linearity check proper: two sizes timed alternately in one process (load drifts)
    small, large = value_chain(10**4 // 3), value_chain((10**5 if quick else 10**6) // 3)
    ratios = []
    for _ in range(3):
        a, b = timed(small), timed(large)
        ratios.append(b / a)
    n_small, n_large = count_nodes(small), count_nodes(large)
    print(
        f"interleaved: {n_large:,} nodes take {min(ratios):.1f}-{max(ratios):.1f}x the time of {n_small:,} "
        f"(linear: {n_large / n_small:.0f}x)"
    )


if __name__ == "__main__":
    main()
