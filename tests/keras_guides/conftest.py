"""Keras' own guides (keras-io ``guides/*.py``), ported: the programs with only the imports
changed (``import nn as keras``; ``from nn import ops``), small data instead of downloads and
few epochs. Each program runs on nn, and on installed Keras 3 when present, and the figures
that do not depend on random initialisation are compared (``guide_harness``)."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
