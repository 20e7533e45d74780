"""The main job: ``python examples/main.py [--out DIR]``.

Runs the lectures' walkthroughs (chain rule, sigmoid neuron, one backprop step), the iris
table of the low-level loop, and a Keras-style Sequential on iris, on embedded data, and
writes the graphs and plots to an output folder it prints.

This script is course material on top of both libraries (examples -> nn -> autograd_mini):
the walkthroughs and the iris runs live beside it in ``examples/``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import walkthroughs
from lecture import iris_loop, iris_sequential, plot_iris_curves

import nn
from autograd_mini import draw_graph


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(prog="python examples/main.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="autograd_mini_output", help="folder for graphs and plots")
    parser.add_argument("--quick", action="store_true", help="accepted as by every example (the main job is quick)")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    written = []

    _section("1. chain rule: f = (x + y) * z, x=-2, y=5, z=-4")
    x, y, z, q, f = walkthroughs.chain_rule()
    print(f"q, f = {q.data:g} {f.data:g}")
    print(f"[df/dx, df/dy, df/dz] = [{x.grad:g}, {y.grad:g}, {z.grad:g}]")
    written.append(draw_graph(f).render(out / "chain_rule", format="svg"))
    written.append(draw_graph(f).render(out / "chain_rule", format="png"))

    _section("2. sigmoid neuron: w = [2, -3, -3], x = [-1, -2]")
    dx, dw, neuron = walkthroughs.sigmoid_neuron_values()
    tdx, tdw = walkthroughs.sigmoid_neuron_tensors()
    print(f"Value : dx = {dx}, dw = {dw}")
    print(f"Tensor: dx = {tdx}, dw = {tdw}")
    print(f"hand  : dx = {walkthroughs.sigmoid_neuron_by_hand()[0]}")
    written.append(draw_graph(neuron).render(out / "sigmoid_neuron", format="svg"))

    _section("3. one backprop step of the 1-1-1 sigmoid network (eta = 0.5)")
    _, _, _, grads, updated = walkthroughs.one_neuron_step()
    _, lecture = walkthroughs.one_neuron_step_lecture()
    for name in ("w_o", "b_o", "w_h", "b_h"):
        print(
            f"{name}: dL/d{name} = {grads[name]: .9f}  ->  {updated[name]:.9f} "
            f"(lecture, activations rounded to 2 dp: {lecture[name]:.9f})"
        )

    _section("4. iris, low-level loop (tensors, backward(), manual update; lecture's table)")
    rows = iris_loop()
    written.append(
        plot_iris_curves(
            rows, out / "iris_softmax_curves.png", "iris: softmax regression, the lecture's low-level loop"
        )
    )

    _section("5. iris, Keras-style Sequential 4-8-4-3 with SGD(0.1)")
    model, history, _ = iris_sequential(epochs=100)
    written.append(nn.plot_history(history, out / "iris_sequential_history.png"))
    written.append(
        nn.plot_model(
            model, out / "iris_model.svg", show_shapes=True, show_layer_names=True, show_layer_activations=True
        )
    )
    (x_train, y_train), _ = nn.datasets.iris.load_data()
    loss = nn.losses.SparseCategoricalCrossentropy()(
        y_train[:8], model((x_train[:8] - x_train.mean(0)) / x_train.std(0))
    )
    written.append(draw_graph(loss, rankdir="TB").render(out / "iris_mlp_loss_graph", format="svg"))

    _section("written")
    for path in written:
        print(f"  {path}")
    print(f"\nall outputs are in {out} ({time.perf_counter() - start:.1f} s)")
    return out


if __name__ == "__main__":
    main()
