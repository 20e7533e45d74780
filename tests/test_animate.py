"""Backprop step by step: the steps follow the engine's order and carry its gradients; the
page is self-contained and, in a real headless browser, shows the engine's gradients."""

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import autograd_mini as am
from autograd_mini.animate import backward_steps

CHROMIUM = Path("/usr/bin/chromium")


def chain_rule():
    x, y, z = am.Value(-2.0, label="x"), am.Value(5.0, label="y"), am.Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    return f, {"x": x, "y": y, "z": z, "q": q, "f": f}


def neuron():
    """A sigmoid neuron on Tensors: sigmoid(w . x + b)."""
    x = am.tensor([1.0, -2.0, 0.5], name="x")
    w = am.tensor([0.3, 0.1, -0.7], requires_grad=True, name="w")
    b = am.tensor(0.2, requires_grad=True, name="b")
    out = am.sigmoid((w * x).sum() + b)
    out.name = "out"
    return out, w, b


def test_value_steps_follow_kahn_order_and_match_backward():
    f, named = chain_rule()
    _, steps = backward_steps(f)
    assert [s["name"] for s in steps] == [v.label for v in am.topological_order(f, lambda v: v._prev)]
    assert [s["name"] for s in steps][0] == "f"
    f.backward()
    for s in steps:
        assert s["values"] == [named[s["name"]].grad]


def test_tensor_steps_match_the_engine_and_touch_no_grad():
    out, w, b = neuron()
    _, steps = backward_steps(out)
    assert w.grad is None and b.grad is None
    by_name = {s["name"]: s["values"] for s in steps}
    out.backward(retain_graph=True)
    np.testing.assert_allclose(by_name["w"], w.grad.data)
    np.testing.assert_allclose(by_name["b"], [b.grad.item()])
    assert by_name["out"] == [1.0]
    assert len(steps) == 6  # out, sigmoid input (add), sum, mul, b, w: constants get no step


def test_page_is_self_contained(tmp_path):
    f, _ = chain_rule()
    page = am.animate_backward(f, tmp_path / "chain.html").read_text()
    assert "<svg" in page and "<script>" in page and "prev" in page and "play" in page
    assert not re.search(r"(src|href)=['\"]?(https?:|//)", page)  # nothing fetched


def test_released_graph_and_non_scalar_roots_are_refused(tmp_path):
    out, _, _ = neuron()
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        am.animate_backward(out, tmp_path / "x.html")
    x = am.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        am.animate_backward(x * 2.0, tmp_path / "x.html")


def chromium(args, tmp_path):
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_browser_shows_the_engines_gradients_at_the_last_step(tmp_path):
    out, w, b = neuron()
    page = am.animate_backward(out, tmp_path / "neuron.html")
    _, steps = backward_steps(out)
    out.backward(retain_graph=True)
    dom = chromium(["--dump-dom", f"{page.as_uri()}?step={len(steps)}"], tmp_path).stdout
    assert f'data-step="{len(steps)}"' in dom
    shown = {}
    for node_id, grad in re.findall(r'<g id="(n\d+)" class="node[^"]*"[^>]*data-grad="([^"]+)"', dom):
        shown[node_id] = json.loads(grad.replace("&quot;", '"'))
    ids = {s["name"]: s["node"] for s in steps}
    np.testing.assert_allclose(shown[ids["w"]], w.grad.data)
    np.testing.assert_allclose(shown[ids["b"]], [b.grad.item()])
    assert "step 6/6" in dom
    # the forward step shows no gradient yet
    dom0 = chromium(["--dump-dom", f"{page.as_uri()}?step=0"], tmp_path).stdout
    assert 'data-grad="' not in dom0 and "step 0/6" in dom0
    shot = tmp_path / "shot.png"
    chromium(["--window-size=900,500", f"--screenshot={shot}", f"{page.as_uri()}#step=3"], tmp_path)
    assert shot.read_bytes()[:4] == b"\x89PNG"


def test_status_names_nodes_by_label_and_writes_the_arithmetic():
    a = am.Value(3.0, label="a")
    b = a * a
    b.label = "b"
    c = b + a
    c.label = "c"
    _, steps = backward_steps(c)
    assert [s["name"] for s in steps] == ["c", "b", "a"]
    last = steps[-1]["arithmetic"]
    assert "upstream 1 * local 3 = 3" in last and "grad = 1 + 3 + 3 = 7" in last
    out, _, _ = neuron()
    names = [s["name"] for s in backward_steps(out)[1]]
    assert not any(re.fullmatch(r"n\d+", n) for n in names) and "sum(mul(w, x))" in names


def test_frames_export_svg_png_pdf_and_gif_for_a_16_9_slide(tmp_path):
    f, _ = chain_rule()
    am.animate_backward(f, tmp_path / "page.html", frames=tmp_path / "frames", mp4=False)
    frames = tmp_path / "frames"
    assert len(list(frames.glob("frame_*.svg"))) == 1 + 5 + 5  # blank, forward 5, backward 5
    from PIL import Image

    with Image.open(frames / "frame_010.png") as png:
        assert png.size == (1920, 1080)
    assert (frames / "frame_010.pdf").read_bytes()[:4] == b"%PDF"
    with Image.open(frames / "backprop.gif") as gif:
        assert gif.n_frames == 11
    svg = (frames / "frame_010.svg").read_text()
    assert "grad 3" in svg and "upstream" in svg  # the last step: z's gradient, with its arithmetic
    import html

    said = [html.unescape(p.read_text()) for p in sorted(frames.glob("frame_*.svg"))]
    assert any("forward: q = -2 + 5 = 3" in text for text in said[1:6])  # the forward pass comes first
    assert "1 * 3 = 3" in said[-1]  # the edge z -> * carries upstream * local = contribution
    boxes = {re.search(r'viewBox="([^"]+)"', text).group(1) for text in said}
    assert len(boxes) == 1  # one layout for every frame: nothing moves or rescales between steps


def test_tensor_frames_show_matrices_as_cells_and_contributions_as_values(tmp_path):
    w = am.tensor([[2.0, -3.0], [0.5, 1.0]], requires_grad=True, name="W")
    x = am.tensor([-1.0, -2.0], name="x")
    h = am.tanh(w @ x)
    h.name = "h"
    loss = (h * h).sum()
    am.animate_backward(loss, tmp_path / "p.html", frames=tmp_path, formats=("svg",), gif=False, mp4=False)
    import html

    last = html.unescape(sorted(tmp_path.glob("frame_*.svg"))[-1].read_text())
    w_grad = 2 * np.tanh(w.data @ x.data) * (1 - np.tanh(w.data @ x.data) ** 2)
    from autograd_mini.viz.format import fmt

    assert f">{fmt(np.outer(w_grad, x.data)[1, 1], 3)}<" in last  # W's gradient as cells
    assert "h is used 2 times" in html.unescape((tmp_path / "frame_008.svg").read_text())


def test_frames_as_mp4_when_imageio_ffmpeg_is_installed(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    import imageio.v2 as imageio

    a = am.Value(2.0, label="a")
    b = a * 3.0
    b.label = "b"
    am.animate_backward(b, tmp_path / "p.html", frames=tmp_path, formats=(), gif=False, mp4=True, forward=False)
    reader = imageio.get_reader(tmp_path / "backprop.mp4")
    frames = [frame for frame in reader]
    reader.close()
    assert len(frames) == 1 + 3 and frames[0].shape == (1080, 1920, 3)  # blank, b, a, the constant 3
    assert not list(tmp_path.glob("frame_*"))  # formats=(): no single frames
