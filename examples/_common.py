"""Shared plumbing for the examples: command-line options and the output folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def options(description: str, argv=None, quick_help: str = "a fast, reduced run"):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", default="autograd_mini_output", help="folder for graphs and plots")
    return parser


def out_dir(path, name: str) -> Path:
    folder = Path(path) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_plot(fig, path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
