"""Plots: training curves (matplotlib, an optional extra) and layer diagrams (graphviz).

Results display inline in Jupyter (IPython's rich display protocol): ``plot_model`` and
``plot_history`` return a ``PlotFile`` (a ``pathlib.Path`` to the written file that also has
``_repr_png_`` / ``_repr_svg_``), or a ``Picture`` (in-memory image) when no file is asked for.
"""

from __future__ import annotations

import html
from pathlib import Path

_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg")


class PlotFile(type(Path())):
    """The path of a written picture; shown inline in Jupyter (PNG or SVG files)."""

    def _repr_png_(self):
        return self.read_bytes() if self.suffix.lower() == ".png" else None

    def _repr_svg_(self):
        return self.read_text() if self.suffix.lower() == ".svg" else None


class Picture:
    """An in-memory picture (``data`` bytes in ``format`` png/svg), shown inline in Jupyter."""

    def __init__(self, data: bytes, format: str):
        self.data, self.format = data, format

    def _repr_png_(self):
        return self.data if self.format == "png" else None

    def _repr_svg_(self):
        return self.data.decode() if self.format == "svg" else None

    def save(self, path) -> PlotFile:
        """Write the picture to ``path`` (atomically) and return its ``PlotFile``."""
        from .saving.atomic import atomic_write

        with atomic_write(path, "wb") as f:
            f.write(self.data)
        return PlotFile(path)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'autograd_mini[plot]'") from None
    return plt


def plot_history(history, path=None, title: str | None = None):
    """Loss and val_loss (log scale) and each metric per epoch. Written to ``path`` (PNG,
    SVG, ...) and returned as a ``PlotFile``; without ``path`` an in-memory PNG ``Picture``.
    Both display inline in Jupyter."""
    import io

    plt = _pyplot()
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or "loss" not in logs:
        raise ValueError(f"plot_history: expected a History or a dict with a 'loss' list, got {type(logs).__name__}")
    metric_names = [k for k in logs if k != "loss" and not k.startswith("val_") and k != "learning_rate"]
    fig, axes = plt.subplots(1, 1 + len(metric_names), figsize=(5 * (1 + len(metric_names)), 3.6), squeeze=False)
    for ax, name in zip(axes[0], ["loss"] + metric_names):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            if key in logs:
                epochs = range(1, len(logs[key]) + 1)
                ax.plot(epochs, logs[key], style, marker="o", markersize=3, label=key)
        if name == "loss":
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        return Picture(buffer.getvalue(), "png")
    from .saving.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return PlotFile(path)


# ---- model diagrams ----------------------------------------------------------------------------


def _activation_name(layer) -> str | None:
    name = getattr(layer, "activation_name", None)
    if name is None and getattr(layer, "activation", None) is not None:
        activation = layer.activation
        name = getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(activation)
    return name


def _layer_label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable, show_params):
    """Keras' table: a black title row, an activation row, a row of shape/dtype/trainable cells."""
    class_name = type(layer).__name__
    title = f"<b>{html.escape(layer.name)}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    cells = []
    if show_shapes:
        if class_name != "InputLayer":
            cells.append(
                ("white", f"Input shape: <b>{html.escape(str(getattr(layer, 'input_shape', None) or '?'))}</b>")
            )
        cells.append(("white", f"Output shape: <b>{html.escape(str(getattr(layer, 'output_shape', None) or '?'))}</b>"))
    if show_dtype:
        cells.append(("white", f"Output dtype: <b>{html.escape(str(getattr(layer, 'dtype', None) or '?'))}</b>"))
    if show_params and hasattr(layer, "count_params"):
        cells.append(("white", f"Params: <b>{layer.count_params():,}</b>"))
    if show_trainable and getattr(layer, "weights", None):
        trainable = getattr(layer, "trainable", True)
        cells.append(("forestgreen" if trainable else "firebrick", "Trainable" if trainable else "Non-trainable"))
    span = max(1, len(cells))
    rows = [f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">{title}</font></td></tr>']
    activation = _activation_name(layer) if show_layer_activations else None
    if activation is not None:
        rows.append(
            f'<tr><td colspan="{span}" bgcolor="white"><font point-size="14">'
            f"Activation: <b>{html.escape(str(activation))}</b></font></td></tr>"
        )
    if cells:
        row = "".join(
            f'<td bgcolor="{color}"><font point-size="14"'
            + (' color="white"' if color != "white" else "")
            + f">{text}</font></td>"
            for color, text in cells
        )
        rows.append(f"<tr>{row}</tr>")
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(rows) + "</table>>"


def _edges(model, layers) -> list[tuple[int, int]]:
    """(source, destination) layer indices: ``model._graph_edges()`` (pairs of layers) for a
    functional model, else the Sequential chain."""
    getter = getattr(model, "_graph_edges", None)
    if getter is None:
        return [(i, i + 1) for i in range(len(layers) - 1)]
    position = {id(layer): i for i, layer in enumerate(layers)}
    return [(position[id(a)], position[id(b)]) for a, b in getter() if id(a) in position and id(b) in position]


def model_to_dot(
    model,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    subgraph: bool = False,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    *,
    show_params: bool = False,
    **kwargs,
):
    """A ``graphviz.Digraph`` of the model's layers (Keras 3's ``model_to_dot``: one table per
    layer, edges from ``model._graph_edges()`` or the Sequential order; a nested model is one
    node, or a dashed cluster with ``expand_nested``). ``splines`` is Graphviz's edge style
    (Keras' default ``"ortho"``; also ``"polyline"``, ``"spline"``, ``"line"``, ``"curved"``).
    ``show_params`` (an nn extension, keyword only; Keras raises on it) adds each layer's
    parameter count. Other keywords raise ValueError as in Keras (``layer_range``: no longer
    supported)."""
    import graphviz

    from autograd_mini.viz import ensure_renderer

    _check_kwargs(kwargs)
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"plot_model: rankdir must be one of TB, LR, BT, RL, got {rankdir!r}")
    if not isinstance(splines, str) or splines not in SPLINES:
        raise ValueError(f"plot_model: splines must be one of {', '.join(SPLINES)}, got {splines!r}")
    if not isinstance(dpi, (int, float)) or isinstance(dpi, bool) or dpi <= 0:
        raise ValueError(f"plot_model: dpi must be a positive number, got {dpi!r}")
    if not hasattr(model, "layers"):
        raise TypeError(f"plot_model: expected a model with .layers, got {type(model).__name__}")
    ensure_renderer()
    options = (show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable, show_params)
    graph = graphviz.Digraph(("cluster_" if subgraph else "") + str(getattr(model, "name", "model")), format="png")
    if subgraph:
        graph.attr(label=str(getattr(model, "name", "model")), style="dashed", labeljust="l")
    else:
        graph.attr(rankdir=rankdir, dpi=str(dpi), concentrate="true", splines=splines)
        graph.attr("node", shape="plain", fontname="Helvetica")
    layers = list(model.layers)
    for i, layer in enumerate(layers):
        if expand_nested and hasattr(layer, "layers"):
            graph.subgraph(
                model_to_dot(
                    layer, *options[:3], rankdir, True, dpi, True, *options[3:5], splines, show_params=options[5]
                )
            )
        else:
            graph.node(f"{graph.name}_{i}", label=_layer_label(layer, *options))
    for a, b in _edges(model, layers):
        graph.edge(f"{graph.name}_{a}", f"{graph.name}_{b}", penwidth="2")
    return graph


def plot_model(
    model,
    to_file="model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    *,
    show_params: bool = False,
    **kwargs,
):
    """Keras 3's ``keras.utils.plot_model``: draw the model's layers to ``to_file`` (the format
    from its suffix; none: PNG; also .svg, .pdf, .jpg, .dot) with Keras' arguments and defaults
    (``splines="ortho"``; unknown keywords raise ValueError, ``layer_range`` too, as in Keras);
    ``dpi`` sets the PNG resolution. nn's extra, keyword only: ``show_params`` (each layer's
    parameter count; Keras raises on it). Returns a ``PlotFile`` (a Path) that Jupyter shows
    inline."""
    _check_kwargs(kwargs)
    graph = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        splines=splines,
        show_params=show_params,
    )
    return render_to(graph, to_file)


#: Graphviz's edge styles (``splines``); Keras passes the string to pydot unchecked
SPLINES = ("ortho", "polyline", "spline", "line", "curved", "true", "false", "none", "compound")


def _check_kwargs(kwargs: dict) -> None:
    """Keras' rule: ``layer_range`` is no longer supported; any other unknown keyword raises."""
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("plot_model: argument `layer_range` is no longer supported (as in Keras 3).")
    if kwargs:
        raise ValueError(f"plot_model: unrecognized keyword arguments: {kwargs}")


def render_to(graph, path) -> PlotFile:
    """Write ``graph`` (a ``graphviz.Digraph``) to ``path``, atomically; the format comes from
    the suffix (svg, png, pdf, jpg, dot; none: png)."""
    from autograd_mini.viz import ensure_renderer

    from .saving.atomic import atomic_write

    path = Path(path)
    suffix = path.suffix.lstrip(".").lower() or "png"
    if suffix in ("dot", "gv"):
        data = graph.source.encode()
    elif suffix in _FORMATS:
        ensure_renderer()
        data = graph.pipe(format=suffix)
    else:
        raise ValueError(f"plot_model: unsupported file suffix {path.suffix!r}; use .png, .svg, .pdf, .jpg or .dot")
    with atomic_write(path, "wb") as f:
        f.write(data)
    return PlotFile(path)
