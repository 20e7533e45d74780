"""plot_model: Keras 3's options and defaults, dpi, inline display, functional edges."""

import inspect
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
from nn.plot import PlotFile, model_to_dot, plot_history, plot_model


def svg_text(svg: str) -> str:
    return " ".join(t.text or "" for t in ET.fromstring(svg).iter() if t.tag.endswith("text"))


def mlp():
    nn.utils.clear_session()
    return nn.Sequential([nn.Input((784,)), nn.Dense(16, activation="relu"), nn.Dense(10, activation="softmax")])


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def test_signature_and_defaults_are_keras_3s():
    params = inspect.signature(plot_model).parameters
    expected = {
        "to_file": "model.png",
        "show_shapes": False,
        "show_dtype": False,
        "show_layer_names": False,
        "rankdir": "TB",
        "expand_nested": False,
        "dpi": 200,
        "show_layer_activations": False,
        "show_trainable": False,
    }
    assert list(params)[: len(expected) + 1] == ["model", *expected]
    assert {k: params[k].default for k in expected} == expected
    assert getattr(nn.utils, "plot_model", plot_model) is plot_model


def test_defaults_show_class_names_only(tmp_path):
    text = svg_text(plot_model(mlp(), tmp_path / "m.svg")._repr_svg_())
    assert text.count("Dense") == 2 and "dense_1" not in text and "shape" not in text


def test_every_option_shows_what_keras_shows(tmp_path):
    path = plot_model(
        mlp(),
        tmp_path / "m.svg",
        show_shapes=True,
        show_dtype=True,
        show_layer_names=True,
        show_layer_activations=True,
        show_trainable=True,
        show_params=True,
    )
    text = svg_text(path.read_text())
    for expected in ("dense_1", "(Dense)", "relu", "softmax", "(None, 784)", "(None, 16)", "(None, 10)"):
        assert expected in text
    assert "float32" in text and "Trainable" in text and "12,560" in text and "170" in text


def test_dpi_sets_the_png_resolution(tmp_path):
    model = mlp()
    small = png_size(plot_model(model, tmp_path / "a.png", dpi=50).read_bytes())
    large = png_size(plot_model(model, tmp_path / "b.png", dpi=100).read_bytes())
    assert large[0] == pytest.approx(2 * small[0], abs=3) and large[1] == pytest.approx(2 * small[1], abs=3)


def test_result_displays_inline_and_is_a_path(tmp_path):
    png = plot_model(mlp(), tmp_path / "m.png")
    assert isinstance(png, PlotFile) and png.read_bytes()[:4] == b"\x89PNG"
    assert png._repr_png_()[:4] == b"\x89PNG" and png._repr_svg_() is None
    assert "digraph" in plot_model(mlp(), tmp_path / "m.dot").read_text()
    assert plot_model(mlp(), tmp_path / "noext").read_bytes()[:4] == b"\x89PNG"  # no suffix: png, as Keras
    with pytest.raises(ValueError, match="suffix"):
        plot_model(mlp(), tmp_path / "model.bmp")


def test_bad_options_raise_before_writing(tmp_path):
    with pytest.raises(ValueError, match="rankdir"):
        plot_model(mlp(), tmp_path / "m.png", rankdir="XY")
    with pytest.raises(ValueError, match="dpi"):
        plot_model(mlp(), tmp_path / "m.png", dpi=0)
    assert not (tmp_path / "m.png").exists()


class Branching:
    """A functional-style model: two branches joining (edges from ``_graph_edges``)."""

    name = "branching"

    def __init__(self):
        self.a, self.b, self.c = nn.Dense(4), nn.Dense(4), nn.Dense(2)
        self.a.name, self.b.name, self.c.name = "left", "right", "head"
        self.layers = [self.a, self.b, self.c]

    def _graph_edges(self):
        return [(self.a, self.c), (self.b, self.c)]


def test_functional_models_are_drawn_from_their_edges():
    source = model_to_dot(Branching(), show_layer_names=True).source
    assert "branching_0 -> branching_2" in source and "branching_1 -> branching_2" in source
    assert "branching_0 -> branching_1" not in source


def test_expand_nested_draws_a_cluster():
    nn.utils.clear_session()
    inner = nn.Sequential([nn.Input((3,)), nn.Dense(2)])

    class Outer:
        name = "outer"
        layers = [inner]

    assert "subgraph cluster_" in model_to_dot(Outer(), expand_nested=True).source


def test_plot_history_inline_and_to_file(tmp_path):
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.5, 0.7]}
    picture = plot_history(history)
    assert picture._repr_png_()[:4] == b"\x89PNG"
    path = plot_history(history, tmp_path / "h.png")
    assert isinstance(path, PlotFile) and path._repr_png_()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="loss"):
        plot_history({"acc": np.ones(2)})


def test_functional_model_draws_its_branches():
    inputs = nn.Input((4,), name="features")
    a = nn.layers.Dense(3, name="left")(inputs)
    b = nn.layers.Dense(3, name="right")(inputs)
    out = nn.layers.Dense(2, name="head")(nn.layers.Concatenate(name="join")([a, b]))
    model = nn.Model(inputs, out)
    edges = {(src.name, dst.name) for src, dst in model._graph_edges()}
    assert edges == {("features", "left"), ("features", "right"), ("left", "join"), ("right", "join"), ("join", "head")}
    source = nn.plot.model_to_dot(model, show_layer_names=True).source
    assert source.count("->") == 5


def test_plot_model_takes_every_keras_argument_and_only_those(tmp_path):
    keras = pytest.importorskip("keras")

    theirs = inspect.signature(keras.utils.plot_model).parameters
    ours = inspect.signature(plot_model).parameters
    for name, p in theirs.items():
        assert name in ours and ours[name].default == p.default, name
    extras = [n for n, p in ours.items() if n not in theirs]
    assert extras == ["show_params"] and ours["show_params"].kind == inspect.Parameter.KEYWORD_ONLY
    model = nn.Sequential([nn.Input((3,)), nn.Dense(2), nn.Dense(1)])
    for splines in ("polyline", "ortho", "spline"):
        assert f"splines={splines}" in model_to_dot(model, splines=splines).source
        ET.fromstring(plot_model(model, tmp_path / f"m_{splines}.svg", splines=splines).read_bytes())  # renders
    with pytest.raises(ValueError, match="layer_range"):
        plot_model(model, tmp_path / "m.png", layer_range=["a", "b"])
    with pytest.raises(ValueError, match="unrecognized keyword"):
        plot_model(model, tmp_path / "m.png", show_parms=True)
    with pytest.raises(ValueError, match="splines"):
        plot_model(model, tmp_path / "m.png", splines="wavy")
