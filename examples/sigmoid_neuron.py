"""The sigmoid neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), w = [2, -3, -3], x = [-1, -2]:
gradients with Value, with Tensor, and by the hand-derived chain rule."""

from __future__ import annotations

import sys

import numpy as np
from walkthroughs import sigmoid_neuron_by_hand, sigmoid_neuron_tensors, sigmoid_neuron_values

import autograd_mini as am

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv).parse_args(argv)
    results = {
        "Value": sigmoid_neuron_values()[:2],
        "Tensor": sigmoid_neuron_tensors(),
        "by hand": sigmoid_neuron_by_hand(),
    }
    for name, (dx, dw) in results.items():
        print(f"{name:>8}: dx = {dx}, dw = {dw}")
    exact = results["by hand"]
    assert np.allclose(results["Value"][0], exact[0], atol=1e-12) and np.allclose(
        results["Tensor"][1], exact[1], atol=1e-12
    )
    print(f"dx = {exact[0]}")
    print(f"dw = {exact[1]}")
    path = am.draw_graph(sigmoid_neuron_values()[2]).render(
        out_dir(args.out, "sigmoid_neuron") / "sigmoid_neuron", format="svg"
    )
    print(f"graph written to {path}")
    return results


if __name__ == "__main__":
    main()
