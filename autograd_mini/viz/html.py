"""Graphviz HTML-like labels: small matrices as grids of cells with their values on a
diverging heat-map (blue negative, white zero, red positive), for nodes and edges."""

from __future__ import annotations

import html

import numpy as np

from . import format as F


def _cell_color(value: float, scale: float) -> tuple[str, str]:
    """Background and text colour of a cell: white at 0, deep blue at -scale, deep red at +scale."""
    if scale == 0 or not np.isfinite(value):
        return "#ffffff", "#000000"
    t = max(-1.0, min(1.0, value / scale))
    if t >= 0:
        r, g, b = 255, int(255 - 180 * t), int(255 - 200 * t)
    else:
        r, g, b = int(255 + 200 * t), int(255 + 150 * t), 255
    dark = abs(t) > 0.75
    return f"#{r:02x}{g:02x}{b:02x}", ("#ffffff" if dark else "#000000")


def text(s: str) -> str:
    """Plain text for an HTML-like label (escaped; newlines as line breaks)."""
    return "<br/>".join(html.escape(line, quote=False) for line in str(s).split("\n"))


def matrix(array, precision: int = 3, fontsize: int = 10, ink: str | None = None) -> str:
    """A 2-D array as a table of cells, each with its value on its heat-map colour. ``ink``:
    draw everything (cells, values, borders) in this one colour: the same footprint, unseen."""
    array = np.atleast_2d(np.asarray(array, dtype=np.float64))
    finite = array[np.isfinite(array)]
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    rows = []
    for row in array:
        cells = []
        for v in row:
            bg, fg = (ink, ink) if ink else _cell_color(float(v), scale)
            value = html.escape(F.fmt(v, precision))
            cells.append(f'<td bgcolor="{bg}"><font color="{fg}" point-size="{fontsize}">{value}</font></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    border = ink or "#999999"
    return (
        f'<table border="0" cellborder="1" cellspacing="0" cellpadding="2" color="{border}">'
        + "".join(rows)
        + "</table>"
    )


def stack(parts, fontsize: int = 10, fontcolor: str = "#000000") -> str:
    """Text lines and matrices one under the other, as one HTML-like label (without the <>)."""
    from .edges import Matrix

    rows = []
    for part in parts:
        if isinstance(part, Matrix):
            if part.title:
                rows.append(
                    f'<tr><td><font point-size="{fontsize}" color="{fontcolor}">{text(part.title)}</font></td></tr>'
                )
            rows.append(f"<tr><td>{matrix(part.array, part.precision, fontsize)}</td></tr>")
        else:
            rows.append(f'<tr><td><font point-size="{fontsize}" color="{fontcolor}">{text(part)}</font></td></tr>')
    return '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + "".join(rows) + "</table>"


def fields(parts, fontsize: int = 10, bgcolor: str = "#ffffff", fontcolor: str = "#000000", hidden=()) -> str:
    """A data node's fields (text and matrices) as rows of one bordered table. ``hidden``
    fields keep their place but are drawn in the background colour (frames that must not move)."""
    from .edges import Matrix

    rows = []
    for k, part in enumerate(parts):
        ink = bgcolor if k in hidden else None  # hidden: drawn in the background colour
        color = ink or fontcolor
        if isinstance(part, Matrix):
            inner = f"<tr><td>{matrix(part.array, part.precision, fontsize, ink=ink)}</td></tr>"
            if part.title:
                title = f'<font point-size="{fontsize - 1}" color="{color}">{text(part.title)}</font>'
                inner = f"<tr><td>{title}</td></tr>" + inner
            rows.append(f'<tr><td><table border="0" cellspacing="0" cellpadding="0">{inner}</table></td></tr>')
        else:
            rows.append(f'<tr><td><font point-size="{fontsize}" color="{color}">{text(part)}</font></td></tr>')
    table = f'<table border="1" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="{bgcolor}">'
    return table + "".join(rows) + "</table>"
