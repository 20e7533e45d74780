"""``model.summary()``: Keras 3's table (``keras/src/utils/summary_utils.py``), drawn with the
same box characters and column widths as its rich table, without needing rich.

Columns "Layer (type)", "Output Shape", "Param #" (and "Connected to" for functional models
that are not a chain); then the totals with thousands separators and their sizes in memory
(``Total params: 669,706 (2.55 MB)``), and the optimizer's variables once it is built.
"""

from __future__ import annotations

import math
import shutil

import numpy as np


def readable_memory_size(size: float) -> str:
    """Bytes as Keras prints them: '2.55 MB', '364.00 B' (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _count(weights) -> int:
    return int(sum(math.prod(w.shape) for w in weights))


def _memory(weights) -> float:
    unique = {id(w): w for w in weights}.values()
    return float(sum(math.prod(w.shape) * np.dtype(w.dtype).itemsize for w in unique))


def _ratio_reduce(total: int, widths: list[int]) -> list[int]:
    """rich's even reduction of column widths by ``total`` characters."""
    result, remaining, ratio_left = [], total, len(widths)
    for width in widths:
        cut = min(width, round(remaining / ratio_left))
        result.append(width - cut)
        remaining -= cut
        ratio_left -= 1
    return result


def _wrap(text: str, width: int) -> list[str]:
    """Word wrap as rich does; a word longer than the cell is cut with an ellipsis."""
    lines, line = [], ""
    for word in text.split(" "):
        if len(word) > width:
            word = word[: width - 1] + "…"
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _layer_shape(model, layer, index):
    shapes = getattr(model, "_layer_output_shapes", None)
    if shapes is not None and index is not None and index < len(shapes):
        return shapes[index]
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes:
        outputs = nodes[-1].flat_outputs
        return outputs[0].shape if len(outputs) == 1 else [t.shape for t in outputs]
    return getattr(layer, "output_shape", None)


def print_summary(
    model,
    line_length=None,
    positions=None,
    print_fn=None,
    expand_nested=False,
    show_trainable=False,
    layer_range=None,
):
    """Print (or hand to ``print_fn``) Keras 3's summary table of ``model``."""
    from .functional import Functional
    from .sequential import Sequential

    layers = model.layers
    sequential_like = True
    if isinstance(model, Functional) and not isinstance(model, Sequential):
        depth, per_depth = {}, {}
        for t in model._inputs:
            depth[id(t)] = 0
        per_depth[0] = len(model._inputs)
        for node in model._nodes:  # creation order: producers come first
            d = 1 + max((depth.get(id(t), 0) for t in node.inputs), default=0)
            for t in node.flat_outputs:
                depth[id(t)] = d
            per_depth[d] = per_depth.get(d, 0) + 1
            if len(node.inputs) > 1:
                sequential_like = False
        if any(count > 1 for count in per_depth.values()):
            sequential_like = False
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("summary: insufficient console width to print the summary")
        widths.append(width)
        current += width
    cells = [w + 2 for w in widths]  # content + one space of padding each side
    excess = sum(cells) - (line_length - len(cells) - 1)
    if excess > 0:
        cells = _ratio_reduce(excess, cells)
    content = [c - 2 for c in cells]

    start, stop = _layer_range(layers, layer_range)
    rows = []
    for index in range(start, stop):
        layer = layers[index]
        seq_index = index if isinstance(model, Sequential) else None
        built = getattr(layer, "built", True)
        params = f"{layer.count_params():,}" if built else "0 (unbuilt)"
        fields = [f"{layer.name} ({type(layer).__name__})", _shape_text(_layer_shape(model, layer, seq_index)), params]
        if not sequential_like:
            fields.append(_connections(model, layer))
        if show_trainable:
            fields.append(("Y" if getattr(layer, "trainable", True) else "N") if layer.parameters() else "-")
        rows.append(fields)

    def render(fields, left, bar):
        wrapped = [_wrap(text, width) for text, width in zip(fields, content)]
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = []
            for lines, width, how in zip(wrapped, content, align):
                text = lines[i] if i < len(lines) else ""
                text = (
                    text.rjust(width)
                    if how == "right"
                    else text.center(width)
                    if how == "center"
                    else text.ljust(width)
                )
                parts.append(f" {text} ")
            out.append(left + bar.join(parts) + left)
        return out

    def rule(left, fill, mid, right):
        return left + mid.join(fill * c for c in cells) + right

    lines = [f'Model: "{model.name}"', rule("┏", "━", "┳", "┓")]
    lines += render(header, "┃", "┃")
    lines.append(rule("┡", "━", "╇", "┩"))
    for i, fields in enumerate(rows):
        if i:
            lines.append(rule("├", "─", "┼", "┤"))
        lines += render(fields, "│", "│")
    lines.append(rule("└", "─", "┴", "┘"))

    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer = model.optimizer if getattr(model, "compiled", False) else None
    optimizer_vars = getattr(optimizer, "variables", None) if optimizer is not None else None
    optimizer_built = optimizer is not None and getattr(optimizer, "built", False) and optimizer_vars is not None
    counts = [_count(trainable), _count(non_trainable), _count(optimizer_vars) if optimizer_built else 0]
    sizes = [_memory(trainable), _memory(non_trainable), _memory(optimizer_vars) if optimizer_built else 0.0]
    lines.append(f" Total params: {sum(counts):,} ({readable_memory_size(sum(sizes))})")
    lines.append(f" Trainable params: {counts[0]:,} ({readable_memory_size(sizes[0])})")
    lines.append(f" Non-trainable params: {counts[1]:,} ({readable_memory_size(sizes[1])})")
    if optimizer_built:
        lines.append(f" Optimizer params: {counts[2]:,} ({readable_memory_size(sizes[2])})")
    (print_fn or print)("\n".join(lines) + "\n")


def _connections(model, layer) -> str:
    in_model = {id(n) for n in model._nodes}
    parts = []
    for node in getattr(layer, "_inbound_nodes", []):
        if id(node) not in in_model:
            continue
        for t in node.inputs:
            source, node_index, tensor_index = t._keras_history
            parts.append(f"{source.name}[{node_index}][{tensor_index}]")
    return ", ".join(parts) or "-"


def _layer_range(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    import re

    if len(layer_range) != 2 or not all(isinstance(s, str) for s in layer_range):
        raise ValueError(f"summary: layer_range must be two layer names (or regexes), got {layer_range!r}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"summary: layer_range {layer_range!r} matches no layer names")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1
