"""Peak memory (whole-process max RSS) of one epoch of the seed MNIST MLP, one implementation per
process so that nothing is shared:

    python benchmarks/peak_memory.py autograd_mini|numpy|torch [mnist_dir]

prints ``peak_rss_mib <number>``. benchmarks/run.py (section ``memory``) runs all three."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load(data):
    import nn

    (x, y), _ = nn.datasets.mnist.load_data(data)
    return x.reshape(-1, 784).astype(np.float32) / 255, y


def main(which, data):
    if which == "torch":
        import torch  # imported first so that the data is not the only difference
    x, y = load(data)
    one_hot = np.eye(10, dtype=np.float32)[y]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from mnist_reference import numpy_epoch, seed_model, torch_epoch

    if which == "autograd_mini":
        import nn

        model = seed_model(nn)
        model.fit(x, one_hot, batch_size=128, epochs=1, verbose=0)
    elif which == "numpy":
        numpy_epoch(x, one_hot)
    elif which == "torch":
        torch_epoch(torch, x, y)
    else:
        raise SystemExit(f"unknown implementation {which!r}: expected autograd_mini, numpy or torch")
    print(f"peak_rss_mib {peak_rss_mib():.1f}")


def peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM (getrusage's ru_maxrss would report the parent's
    peak when the parent was bigger: Linux keeps it across fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else str(ROOT.parent / "shared" / "data" / "mnist"))
