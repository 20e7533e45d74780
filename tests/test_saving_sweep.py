"""Damaged files never crash the process nor escape as anything but the documented error.

Every format nn reads gets sampled one-byte flips (fixed seed) and truncations, loaded in a
subprocess that is restarted after a crash (``tests/saving_sweep.py``): every variant must load
or be refused with a ``ValueError`` naming the file. The full sweep (every byte) is slow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("h5py")

sys.path.insert(0, str(Path(__file__).parent))
import saving_sweep

ROOT = Path(__file__).resolve().parents[1]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _check(fmt, flips):
    results = saving_sweep.run_sweep(fmt, flips=flips, seed=0, env=_env())
    bad = {v: o for v, o in results.items() if o not in ("ok", "refused")}
    assert not bad, f"{fmt}: {len(bad)} of {len(results)} damaged files escaped or crashed: {bad}"
    assert sum(o == "refused" for o in results.values()) > 0


@pytest.mark.parametrize("fmt", saving_sweep.FORMATS)
def test_sampled_flips_and_truncations(fmt):
    _check(fmt, flips=40)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", saving_sweep.FORMATS)
def test_every_byte_flipped(fmt):
    _check(fmt, flips=None)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", saving_sweep.KERAS_FORMATS)
def test_damaged_files_written_by_keras(fmt):
    pytest.importorskip("keras")
    _check(fmt, flips=300)
