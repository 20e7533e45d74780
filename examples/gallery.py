"""The lecture's pictures: the chain rule, the sigmoid neuron, an MLP loss with its fused ops
expanded, a deep sigmoid network coloured by gradient size, a model diagram, and backprop step
by step (HTML pages, plus a PNG frame when Debian's chromium is installed).

    python examples/gallery.py --out docs     # writes docs/gallery/
"""

from __future__ import annotations

import os
import subprocess
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

CHROMIUM = Path("/usr/bin/chromium")


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


def screenshot(page: Path, png: Path, step: int) -> Path | None:
    """A PNG of ``page`` at ``step`` through headless chromium (None when it is absent)."""
    if not CHROMIUM.exists():
        return None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--window-size=1280,400",
                "--hide-scrollbars",
                f"--screenshot={png}",
                f"{page.resolve().as_uri()}?step={step}",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    return png if png.exists() else None


def main(argv=None):
    parser = options(__doc__.splitlines()[0], argv)
    parser.set_defaults(out="docs")
    args = parser.parse_args(argv)
    out = out_dir(args.out, "gallery")
    written = []
    *_, f = chain_rule()
    written.append(write_svg(am.draw_graph(f), out / "chain_rule.svg"))
    neuron = sigmoid_neuron_values()[2]
    written.append(write_svg(am.draw_graph(neuron, precision=3), out / "sigmoid_neuron.svg"))
    loss, model = mlp_loss()
    written.append(write_svg(am.draw_graph(loss, expand_fused=True, rankdir="TB"), out / "mlp_loss_expanded.svg"))
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
    frame = screenshot(page, out / "sigmoid_neuron_backprop_step3.png", 3)
    if frame is not None:
        written.append(frame)
    for path in written:
        print(f"  {path} ({Path(path).stat().st_size // 1024} KB)")
    return [Path(p) for p in written]


if __name__ == "__main__":
    main()
