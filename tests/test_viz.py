"""Graph rendering: DOT text, real SVG/PNG through a renderer, grouping, collapsing, number
formatting, gradients on every node, fused-op expansion, gradient colours, released graphs."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import autograd_mini as am
import nn
from autograd_mini.viz.format import fmt, fmt_constant


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


def edges(dot: str) -> int:
    return dot.count("->")


def test_value_graph_renders_svg_with_data_and_grads():
    svg = am.draw_graph(chain_rule_graph()).pipe(format="svg")
    texts = " ".join(svg_texts(svg))
    assert "data -12" in texts and "grad -4" in texts and "grad 3" in texts and "grad 1" in texts
    assert "*" in texts and "+" in texts


def test_png_render(tmp_path):
    out = am.draw_graph(chain_rule_graph()).render(tmp_path / "chain", format="png")
    assert Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_digraph_displays_inline_through_the_pure_renderer():
    bundle = am.draw_graph(chain_rule_graph())._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_dot_is_deterministic():
    assert am.to_dot(chain_rule_graph()) == am.to_dot(chain_rule_graph())


@pytest.mark.parametrize(
    "x, precision, text",
    [
        (2e-6, 4, "2e-6"),
        (0.5, 4, "0.5"),
        (1 / 3, 4, "0.3333"),
        (1 / 3, 2, "0.33"),
        (123456.0, 4, "1.235e5"),
        (0, 4, "0"),
    ],
)
def test_significant_digits_and_scientific_notation(x, precision, text):
    assert fmt(x, precision) == text


def test_constants_show_their_exact_value():
    assert fmt_constant(1.0001) == "1.0001" and fmt_constant(3) == "3"
    x = am.tensor([1.0, 2.0], requires_grad=True)
    assert ">1.0001<" in am.to_dot((x * 1.0001).sum())  # a table cell: the graph has matrices


def test_small_gradients_are_not_rounded_to_zero():
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 1e-6).sum()
    y.backward(retain_graph=True)
    dot = am.to_dot(y, precision=3)
    assert dot.count(">1e-6<") == 3 and "0.0000" not in dot  # x.grad as cells, and x * 1e-6 = [1e-6, 2e-6]


def test_every_node_shows_shape_dtype_and_a_gradient_summary_whatever_its_size():
    w = am.tensor(np.arange(12.0).reshape(3, 4) / 10, requires_grad=True, name="W")
    x = am.tensor(np.ones((5, 3)))
    hidden = am.tanh(x @ w)
    loss = (hidden * hidden).mean()
    loss.backward(retain_graph=True)
    dot = am.to_dot(loss)
    assert "(5, 4) float64" in dot and "(3, 4) float64" in dot
    g = w.grad.data
    norm = fmt(np.linalg.norm(g))
    assert f"grad norm {norm} min {fmt(g.min())} max {fmt(g.max())}" in dot
    inner = (2 * hidden.data / hidden.size) * (1 - hidden.data**2)  # d loss / d (x @ w)
    assert f"grad norm {fmt(np.linalg.norm(inner))}" in dot  # an intermediate's gradient
    output = re.search(r'bgcolor="#d1f2d1">(.*?)</table>>', dot).group(1)  # the output's table
    assert "() float64<" in output and ">data " in output and ">grad 1<" in output
    assert w.grad is not None and np.array_equal(w.grad.data, g)  # drawing accumulated nothing


def test_before_backward_no_gradients_are_shown():
    x = am.tensor([1.0, 2.0], requires_grad=True)
    assert not re.search(r"\bgrad\b", am.to_dot((x * x).sum()))  # no gradient field, in any form


def test_released_graph_raises_a_clear_error_instead_of_a_single_box():
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = (am.tanh(x) * 3.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        am.to_dot(y)
    z = (am.tanh(x) * 3.0).sum()
    z.backward(retain_graph=True)
    assert "tanh" in am.to_dot(z)


def test_tensor_graph_labels_names_shapes_and_kinds():
    w = am.tensor(np.ones((2, 2)), requires_grad=True, name="W1")
    x = am.tensor(np.ones((3, 2)))
    loss = am.tanh(x @ w).sum()
    dot = am.to_dot(loss, legend=True)
    assert "W1" in dot and "(2, 2) float64" in dot and "matmul" in dot and "tanh" in dot
    assert "#cfe2ff" in dot and "#eeeeee" in dot and "#d1f2d1" in dot  # param, constant, output
    assert "legend" in dot


def mlp_loss():
    nn.utils.clear_session()
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(3, activation="softmax")])
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    return nn.losses.SparseCategoricalCrossentropy()(np.array([0, 2]), model(x)), model


def test_model_loss_graph_groups_ops_by_layer():
    loss, _ = mlp_loss()
    dot = am.to_dot(loss)
    assert 'label="dense"' in dot and 'label="dense_1"' in dot and "dense.kernel" in dot
    svg = am.draw_graph(loss).pipe(format="svg")
    assert "dense_1.kernel" in " ".join(svg_texts(svg))


def test_expand_fused_draws_the_ops_a_fused_node_stands_for_with_their_gradients():
    loss, model = mlp_loss()
    plain = am.to_dot(loss)
    assert 'label="dense (relu)"' in plain and 'label="relu"' not in plain and "log_softmax" not in plain
    loss.backward(retain_graph=True)
    dot = am.to_dot(loss, expand_fused=True)
    for op in ("matmul", "add", "relu", "log_softmax"):
        assert f'label="{op}"' in dot
    assert not re.search(r'shape="ellipse"[^\n]*label="(softmax_cross_entropy|dense)"', dot)  # no fused op node
    assert "subgraph cluster_" in dot and 'label="softmax_cross_entropy"; style=' in dot  # its ops, boxed
    # the relu's input (x @ W + b of the first layer) with its gradient, computed by the core ops
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    kernel, bias = (w.data for w in model.layers[0].weights)
    z = am.tensor(x @ kernel + bias, requires_grad=True)
    h = am.relu(z)
    k2, b2 = (w.data for w in model.layers[1].weights)
    logits = h @ k2 + b2
    (-(am.log_softmax(logits, -1)[np.arange(2), np.array([0, 2])]).sum() / 2).backward()
    assert f"grad norm {fmt(np.linalg.norm(z.grad.data))}" in dot
    am.draw_graph(loss, expand_fused=True).pipe(format="svg")  # renders


def test_grad_colors_show_vanishing_gradients_on_a_log_scale():
    nn.utils.clear_session()
    nn.utils.set_random_seed(1)
    layers = [nn.Input((2,))] + [nn.Dense(2, activation="sigmoid") for _ in range(8)]
    model = nn.Sequential(layers)
    loss = model(np.ones((1, 2), dtype=np.float32)).sum()
    loss.backward(retain_graph=True)
    dot = am.to_dot(loss, grad_colors=True)
    assert "log scale" in dot
    color_of = {}
    for line in dot.splitlines():  # the table's fill (matrices are drawn as HTML-like tables)
        m = re.search(r'bgcolor="(#[0-9a-f]+)"><tr><td><font[^>]*>(dense(?:_\d)?)\.kernel<', line)
        if m:
            color_of[m.group(2)] = m.group(1)
    assert len(color_of) == 8
    from autograd_mini.viz.dot import RAMP

    assert RAMP.index(color_of["dense"]) < RAMP.index(color_of["dense_7"])  # deep layers: darker


def test_large_graph_collapses_without_recursion():
    x = am.tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(100_000):  # far beyond any recursion limit
        y = y * 1.0
    dot = am.to_dot(y.sum())
    assert "mul x100000" in dot and edges(dot) < 10


def test_value_chain_of_60k_steps_draws():
    # 180,000 drawing nodes (quadratic collapsing took minutes; benchmarks/draw_scaling.py times it)
    y = am.Value(1.0, label="x")
    for _ in range(60_000):
        y = y * 1.0001
    dot = am.to_dot(y)
    assert "* x60000" in dot and "collapsed" in dot


def test_shared_constant_chain_renders_in_bounded_time():
    x = am.tensor(np.ones(3), requires_grad=True)
    c = 1.0001
    y = x
    for _ in range(10_000):
        y = am.tanh(y * c) + 0.5
    svg = am.draw_graph(y.sum()).pipe(format="svg")
    texts = " ".join(svg_texts(svg))
    assert "1.0001" in texts and "collapsed" in texts


def test_fan_out_is_bounded_when_the_graph_is_small():
    x = am.tensor([1.0], requires_grad=True)
    total = x * 0.0
    for k in range(40):
        total = total + am.sin(x * float(k))
    dot = am.to_dot(total, max_nodes=500)
    from autograd_mini.viz import MAX_EDGES_PER_NODE

    sources = re.findall(r"(n\d+) ->", dot)
    assert max(sources.count(s) for s in set(sources)) <= MAX_EDGES_PER_NODE
    assert "used by 41 ops" in dot


def test_to_dot_rejects_other_objects_and_bad_options():
    with pytest.raises(TypeError, match="Value or a Tensor"):
        am.to_dot(3.0)
    with pytest.raises(ValueError, match="precision"):
        am.to_dot(am.Value(1.0), precision=0)
    with pytest.raises(ValueError, match="rankdir"):
        am.to_dot(am.Value(1.0), rankdir="XY")


def _normalised(svg: str) -> str:
    """SVG text without comments and whitespace runs (the renderer's version line aside)."""
    return re.sub(r"\s+", " ", re.sub(r"<!--.*?-->", "", svg, flags=re.S)).strip()


def test_gallery_produces_every_picture_and_none_is_stale(tmp_path):
    import importlib.util
    import sys

    examples = Path(__file__).resolve().parents[1] / "examples"
    sys.path.insert(0, str(examples))
    spec = importlib.util.spec_from_file_location("gallery", examples / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    written = {p.name: p for p in gallery.main(["--out", str(tmp_path)])}
    for name in ("chain_rule.svg", "sigmoid_neuron.svg", "mlp_loss_expanded.svg", "deep_sigmoid_grads.svg"):
        ET.fromstring(written[name].read_bytes())  # valid SVG
    assert "log_softmax" in written["mlp_loss_expanded.svg"].read_text()
    assert "log scale" in written["deep_sigmoid_grads.svg"].read_text()
    assert written["model.png"].read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in written["sigmoid_neuron_backprop.html"].read_text()
    committed = Path(__file__).resolve().parents[1] / "docs" / "gallery"
    assert sum(p.stat().st_size for p in committed.iterdir()) < 1_000_000
    assert sorted(p.name for p in committed.iterdir()) == sorted(written)  # nothing missing, nothing left over
    from PIL import Image

    for name, fresh in written.items():  # regenerate: python examples/gallery.py --out docs
        old = committed / name
        if name.endswith((".svg", ".html")):
            assert _normalised(fresh.read_text()) == _normalised(old.read_text()), f"docs/gallery/{name} is stale"
        else:
            with Image.open(fresh) as a, Image.open(old) as b:
                assert a.size == b.size and a.tobytes() == b.tobytes(), f"docs/gallery/{name} is stale"
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    docs = Path(__file__).resolve().parents[1] / "docs"
    pages = readme + "".join(p.read_text() for p in docs.rglob("*.md"))
    for name in re.findall(r"gallery/([\w.-]+\.(?:svg|png|gif))", pages):
        assert name in written, f"a page shows docs/gallery/{name}, which examples/gallery.py does not draw"


def test_edge_labels_local_write_each_ops_local_derivative():
    f = chain_rule_graph()
    dot = am.to_dot(f, edge_labels="local")
    assert "dq/dx = 1" in dot and "df/dq = -4" in dot and "df/dz = 3" in dot
    assert " * " not in dot.replace('label="*"', "")  # no products in "local" mode
    assert "dq/dx" not in am.to_dot(f)  # off by default


def test_edge_labels_product_show_upstream_times_local_and_fan_out_as_a_sum():
    f = chain_rule_graph()
    dot = am.to_dot(f, edge_labels="product")
    assert "-4 * 1 = -4" in dot and "1 * -4 = -4" in dot and "1 * 3 = 3" in dot
    a = am.Value(3.0, label="a")
    b = a * a
    b.label = "b"
    c = b + a
    c.label = "c"
    c.backward()
    texts = " ".join(svg_texts(am.draw_graph(c, edge_labels="product").pipe(format="svg")))
    assert "grad 1 + 3 + 3 = 7" in texts  # dc/da = 1 (via +) + 3 + 3 (a * a, two edges)
    with pytest.raises(ValueError, match="edge_labels"):
        am.to_dot(c, edge_labels="upstream")


def test_tensor_edge_labels_come_from_each_ops_backward():
    w = am.tensor([[2.0, -3.0], [0.5, 1.0]], requires_grad=True, name="W")
    x = am.tensor([-1.0, -2.0], name="x")
    h = am.tanh(w @ x)
    loss = (h * h).sum()
    dot = am.to_dot(loss, edge_labels="local")
    assert "Jacobian (2,) x (2, 2)" in dot  # matmul's local derivative: too big for cells
    assert "local d out/d in" in dot  # tanh's 2x2 Jacobian as cells
    d_tanh = 1 - np.tanh(w.data @ x.data) ** 2
    from autograd_mini.viz.format import fmt

    assert f">{fmt(d_tanh[0], 3)}<" in dot  # the diagonal of tanh's Jacobian
    loss.backward(retain_graph=True)
    dot = am.to_dot(loss, edge_labels="product")
    assert "upstream * local =" in dot
    contribution = 2 * h.data * d_tanh  # the upstream into tanh's input times its local derivative
    assert f">{fmt(contribution[1], 3)}<" in dot


def test_tensor_graphs_fit_a_slide_with_matrices_as_cells_and_named_inputs():
    loss, model = mlp_loss()
    loss.backward(retain_graph=True)
    dot = am.to_dot(loss)
    assert "rankdir=TB" in dot and "rankdir=LR" in am.to_dot(chain_rule_graph())  # tensors top-down
    assert 'label="dense (relu)"' in dot  # a fused node shows its activation
    assert re.search(r">x<.*\(2, 4\) float32", dot)  # the input, named by Dense's argument
    assert re.search(r">y<.*\(2, 3\) float32", dot)  # the targets, named by the loss op's argument
    assert dot.count("<td bgcolor=") >= 4 * 8  # the 4x8 kernel as cells
    svg = am.draw_graph(loss, fit="slide").pipe(format="svg").decode()
    width, height = (float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    assert width <= 13.33 * 72 + 30 and height <= 7.5 * 72 + 30  # scaled down to a 16:9 slide
    assert "rankdir=LR" in am.to_dot(loss, fit="slide")  # this model comes out larger left to right
    with pytest.raises(ValueError, match="fit"):
        am.to_dot(loss, fit="poster")


def test_gradient_legend_is_not_clipped_in_a_top_down_drawing():
    nn.utils.clear_session()
    nn.utils.set_random_seed(1)
    model = nn.Sequential([nn.Input((2,))] + [nn.Dense(2, activation="sigmoid") for _ in range(3)])
    loss = model(np.ones((1, 2), dtype=np.float32)).sum()
    loss.backward(retain_graph=True)
    import io

    from PIL import Image

    png = am.draw_graph(loss, grad_colors=True, legend=True, rankdir="TB").pipe(format="png")
    with Image.open(io.BytesIO(png)) as picture:
        ink = np.asarray(picture.convert("L")) < 200
    columns, rows = np.where(ink.any(axis=0))[0], np.where(ink.any(axis=1))[0]
    assert columns.max() < ink.shape[1] - 4 and rows.max() < ink.shape[0] - 4  # a white margin: nothing cut
