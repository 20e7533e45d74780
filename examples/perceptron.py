"""The perceptron: its training rule learns AND and OR and never converges on XOR; the lecture's
hand-set two-layer step network computes XOR; a trained sigmoid MLP learns XOR."""

from __future__ import annotations

import sys

import numpy as np

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
TARGETS = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1]), "XOR": np.array([0, 1, 1, 0])}


def step(z):
    """The threshold unit: 1 where z >= 0, else 0 (not differentiable: no gradient is involved)."""
    return (np.asarray(z) >= 0).astype(int)


def train_perceptron(x, t, learning_rate=0.1, max_epochs=100):
    """Rosenblatt's rule w <- w + eta (t - o) x, one example at a time.

    Returns (weights, bias, epochs, converged): converged means one whole epoch without a mistake.
    """
    w = np.zeros(x.shape[1])
    b = 0.0
    for epoch in range(1, max_epochs + 1):
        mistakes = 0
        for xi, ti in zip(x, t):
            error = ti - step(xi @ w + b)
            if error:
                w += learning_rate * error * xi
                b += learning_rate * error
                mistakes += 1
        if mistakes == 0:
            return w, b, epoch, True
    return w, b, max_epochs, False


def xor_by_hand(x):
    """The lecture's network: h1 = step(2x1+2x2-3) (AND), h2 = step(-2x1-2x2+1) (NOR), y = step(-2h1-2h2+1)."""
    h1 = step(2 * x[:, 0] + 2 * x[:, 1] - 3)
    h2 = step(-2 * x[:, 0] - 2 * x[:, 1] + 1)
    return step(-2 * h1 - 2 * h2 + 1)


def train_xor_mlp(epochs=500, seed=0):
    """A 2-4-1 sigmoid network trained on the four XOR points with Adam and binary cross-entropy."""
    nn.utils.set_random_seed(seed)
    model = nn.Sequential([nn.Input((2,)), nn.Dense(4, activation="sigmoid"), nn.Dense(1, activation="sigmoid")])
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(X, TARGETS["XOR"], batch_size=4, epochs=epochs, verbose=0)
    return model


def main(argv=None):
    options(__doc__.splitlines()[0], argv, quick_help="accepted; the full run takes a second").parse_args(argv)
    result = {}
    for name, t in TARGETS.items():
        w, b, epochs, converged = train_perceptron(X, t)
        outputs = step(X @ w + b)
        state = f"converged after {epochs} epochs" if converged else f"did not converge in {epochs} epochs"
        print(
            f"perceptron {name:<3}: w = {np.round(w, 2).tolist()}, b = {b:.2f}, {state}; "
            f"outputs {outputs.tolist()} vs targets {t.tolist()}"
        )
        result[name] = {"converged": converged, "outputs": outputs.tolist()}
    print("XOR is not linearly separable: no single line splits {(0,1), (1,0)} from {(0,0), (1,1)}.")
    by_hand = xor_by_hand(X)
    print(f"hand-set two-layer step network on {X.astype(int).tolist()}: {by_hand.tolist()}")
    result["xor_by_hand"] = by_hand.tolist()
    model = train_xor_mlp()
    probabilities = model.predict(X)[:, 0]
    print(
        f"trained 2-4-1 sigmoid MLP on XOR: [{', '.join(f'{p:.3f}' for p in probabilities)}] -> "
        f"{(probabilities > 0.5).astype(int).tolist()}"
    )
    result["xor_mlp"] = (probabilities > 0.5).astype(int).tolist()
    return result


if __name__ == "__main__":
    main()
