"""The lecture's pictures: the chain rule, the sigmoid neuron, an MLP loss with its fused ops
expanded, a deep sigmoid network coloured by gradient size, a model diagram, and backprop step
by step (HTML pages, 16:9 frames as PNG and animated GIFs), the chain rule on every edge and a
fan-out drawn as a sum.

    python examples/gallery.py --out docs     # writes docs/gallery/
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(__file__))
from _common import options, out_dir
from walkthroughs import chain_rule, sigmoid_neuron_values

import autograd_mini as am
import nn


def write_svg(graph, path: Path) -> Path:
    path.write_bytes(graph.pipe(format="svg"))
    return path


def mlp_loss():
    """A 4-8-3 MLP's cross-entropy on two iris-like samples, after backward(retain_graph=True)."""
    nn.utils.clear_session()
    nn.utils.set_random_seed(7)
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(3, activation="softmax")])
    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    loss = nn.losses.SparseCategoricalCrossentropy()(np.array([0, 2]), model((x - 5.0) / 2.0))
    loss.backward(retain_graph=True)
    return loss, model


def deep_sigmoid_loss(depth: int = 8):
    """A 1-unit-per-layer sigmoid chain: the gradient shrinks by >= 4x per layer (vanishing)."""
    nn.utils.clear_session()
    nn.utils.set_random_seed(3)
    model = nn.Sequential([nn.Input((1,))] + [nn.Dense(1, activation="sigmoid") for _ in range(depth)])
    loss = nn.losses.MeanSquaredError()(np.array([[1.0]], dtype=np.float32), model(np.array([[0.5]], np.float32)))
    loss.backward(retain_graph=True)
    return loss


def neuron_tensor():
    """The sigmoid neuron on Tensors, named for the animation."""
    w = am.tensor([2.0, -3.0], requires_grad=True, name="w")
    b = am.tensor(-3.0, requires_grad=True, name="b")
    x = am.tensor([-1.0, -2.0], name="x")
    z = (w * x).sum() + b
    f = am.sigmoid(z)
    f.name = "f"
    return f


def fan_out():
    """a used twice by * and once by +: its gradient is the sum 1 + 3 + 3 = 7."""
    a = am.Value(3.0, label="a")
    b = a * a
    b.label = "b"
    c = b + a
    c.label = "c"
    return c


def frames(root, out: Path, name: str | None, title: str, keep: dict) -> list[Path]:
    """Export ``root``'s backprop frames to a temporary folder; keep the chosen ones in ``out``
    (``keep``: frame number -> file name) plus the animated GIF as ``<name>.gif``."""
    kept = []
    with tempfile.TemporaryDirectory() as folder:
        am.animate_backward(
            root, Path(folder) / "page.html", frames=folder, title=title, mp4=False, formats=("png",), rankdir="LR"
        )
        for number, target in keep.items():
            shutil.copyfile(Path(folder) / f"frame_{number:03d}.png", out / target)
            kept.append(out / target)
        if name is None:
            return kept
        shutil.copyfile(Path(folder) / "backprop.gif", out / f"{name}.gif")
        kept.append(out / f"{name}.gif")
    return kept


def main(argv=None):
    parser = options(__doc__.splitlines()[0], argv)
    parser.set_defaults(out="docs")
    args = parser.parse_args(argv)
    out = out_dir(args.out, "gallery")
    written = []
    *_, f = chain_rule()
    written.append(write_svg(am.draw_graph(f), out / "chain_rule.svg"))
    written.append(write_svg(am.draw_graph(f, edge_labels="product"), out / "chain_rule_edges.svg"))
    c = fan_out()
    c.backward()
    written.append(write_svg(am.draw_graph(c, edge_labels="product"), out / "fan_out.svg"))
    neuron = sigmoid_neuron_values()[2]
    written.append(write_svg(am.draw_graph(neuron, precision=3), out / "sigmoid_neuron.svg"))
    loss, model = mlp_loss()
    written.append(write_svg(am.draw_graph(loss, fit="slide"), out / "mlp_loss.svg"))
    written.append(write_svg(am.draw_graph(loss, expand_fused=True), out / "mlp_loss_expanded.svg"))
    written.append(
        write_svg(
            am.draw_graph(deep_sigmoid_loss(), grad_colors=True, precision=2, rankdir="TB"),
            out / "deep_sigmoid_grads.svg",
        )
    )
    written.append(
        nn.plot_model(
            model, out / "model.png", show_shapes=True, show_layer_names=True, show_layer_activations=True, dpi=60
        )
    )
    written.append(am.animate_backward(f, out / "chain_rule_backprop.html", title="The chain rule, step by step"))
    page = am.animate_backward(neuron_tensor(), out / "sigmoid_neuron_backprop.html", title="A sigmoid neuron")
    written.append(page)
    *_, f = chain_rule()
    written += frames(f, out, "chain_rule_backprop", "The chain rule, step by step", {8: "chain_rule_step08.png"})
    written += frames(fan_out(), out, None, "Fan-out: gradients add up", {6: "fan_out_step06.png"})
    written += frames(neuron_tensor(), out, None, "A sigmoid neuron", {9: "sigmoid_neuron_backprop_step3.png"})
    for path in written:
        print(f"  {path} ({Path(path).stat().st_size // 1024} KB)")
    return [Path(p) for p in written]


if __name__ == "__main__":
    main()
