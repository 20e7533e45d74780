"""Graph rendering: DOT text, real SVG/PNG through a renderer, grouping, collapsing."""

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import autograd_mini as am
import nn


def svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)  # parses as XML
    return [t.text or "" for t in root.iter() if t.tag.endswith("text")]


def chain_rule_graph():
    x, y, z = am.Value(-2.0, label="x"), am.Value(5.0, label="y"), am.Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    return f


def test_value_graph_renders_svg_with_data_and_grads():
    svg = am.draw_graph(chain_rule_graph()).pipe(format="svg")
    texts = " ".join(svg_texts(svg))
    assert "data -12.0000" in texts and "grad -4.0000" in texts and "grad 3.0000" in texts
    assert "*" in texts and "+" in texts


def test_png_render(tmp_path):
    out = am.draw_graph(chain_rule_graph()).render(tmp_path / "chain", format="png")
    assert Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dot_is_deterministic():
    assert am.to_dot(chain_rule_graph()) == am.to_dot(chain_rule_graph())


def test_tensor_graph_labels_names_shapes_and_kinds():
    w = am.tensor(np.ones((2, 2)), requires_grad=True, name="W1")
    x = am.tensor(np.ones((3, 2)))
    loss = am.tanh(x @ w).sum()
    dot = am.to_dot(loss, legend=True)
    assert "W1" in dot and "(2, 2) float64" in dot and "matmul" in dot and "tanh" in dot
    assert "#cfe2ff" in dot and "#eeeeee" in dot and "#d1f2d1" in dot  # param, constant, output
    assert "legend" in dot


def test_model_loss_graph_groups_ops_by_layer():
    nn.utils.clear_session()
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(3, activation="softmax")])
    loss = nn.losses.SparseCategoricalCrossentropy()(np.array([0, 2]), model(np.ones((2, 4))))
    dot = am.to_dot(loss)
    assert 'label="dense"' in dot and 'label="dense_1"' in dot and "dense.kernel" in dot
    svg = am.draw_graph(loss).pipe(format="svg")
    assert "dense_1.kernel" in " ".join(svg_texts(svg))


def test_large_graph_collapses_without_recursion():
    x = am.tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    dot = am.to_dot(y.sum())
    assert "mul x1000000" in dot and dot.count("->") < 10


def test_plot_model_formats(tmp_path):
    model = nn.Sequential([nn.Input((784,)), nn.Dense(16, activation="relu"), nn.Dense(10, activation="softmax")])
    svg = nn.plot_model(model, tmp_path / "model.svg")
    texts = " ".join(svg_texts(svg.read_bytes()))
    assert "(None, 16)" in texts and "Dense" in texts
    assert nn.plot_model(model, tmp_path / "model.png").read_bytes()[:4] == b"\x89PNG"
    assert "digraph" in nn.plot_model(model, tmp_path / "model.dot").read_text()
    with pytest.raises(ValueError, match="suffix"):
        nn.plot_model(model, tmp_path / "model.bmp")


def test_to_dot_rejects_other_objects():
    with pytest.raises(TypeError, match="Value or a Tensor"):
        am.to_dot(3.0)
