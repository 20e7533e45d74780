"""Plots: training curves (matplotlib, an optional extra) and layer diagrams (graphviz)."""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'autograd_mini[plot]'") from None
    return plt


def plot_history(history, path, title: str | None = None):
    """Loss and val_loss (log scale) and each metric per epoch, written to ``path`` (PNG, SVG, ...)."""
    plt = _pyplot()
    logs = getattr(history, "history", history)
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
    fig.savefig(Path(path), dpi=110)
    plt.close(fig)
    return Path(path)


def plot_model(
    model,
    to_file="model.png",
    show_shapes: bool = True,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    dpi: int = 96,
):
    """A layer-level diagram like ``keras.utils.plot_model``; the format comes from the suffix."""
    from autograd_mini.viz import model_digraph, render_to

    graph = model_digraph(model, show_shapes=show_shapes, show_layer_names=show_layer_names, rankdir=rankdir)
    return render_to(graph, to_file)
