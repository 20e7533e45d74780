"""Depth on MNIST: the lecture's construct_model(h) (h hidden Dense(64, relu) layers, softmax output,
SGD 0.01, batch 128) trained for each depth, test accuracy against depth; then the gradient norm
of every layer's kernel at initialization for sigmoid, tanh and relu networks of 8 hidden layers,
showing the gradients vanishing towards the input with sigmoid (tanh and relu keep them level at
Glorot initialization).

--quick trains on 12,000 images for 1 epoch at depths 1, 4 and 8."""

from __future__ import annotations

import sys

import numpy as np

import autograd_mini as am
import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir, pyplot, save_plot


def construct_model(
    h: int, activation: str = "relu", units: int = 64, kernel_initializer="glorot_uniform"
) -> nn.Sequential:
    layers = [nn.Input((784,))] + [
        nn.Dense(units, activation=activation, kernel_initializer=kernel_initializer) for _ in range(h)
    ]
    return nn.Sequential(layers + [nn.Dense(10, activation="softmax")])


def load(path=None, limit=None):
    (x_train, y_train), (x_test, y_test) = nn.datasets.mnist.load_data(path)
    x_train = x_train.reshape(-1, 784).astype(np.float32) / 255
    x_test = x_test.reshape(-1, 784).astype(np.float32) / 255
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    return x_train, y_train, x_test, y_test


def sweep(data, depths, epochs, seed=0):
    x_train, y_train, x_test, y_test = data
    accuracies = {}
    for h in depths:
        nn.utils.set_random_seed(seed)
        model = construct_model(h)
        model.compile(
            optimizer=nn.optimizers.SGD(learning_rate=0.01),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=0)
        accuracies[h] = model.evaluate(x_test, y_test, verbose=0)[1]
        print(f"  h = {h:>2} hidden layers ({model.count_params():>7,} params): test accuracy {accuracies[h]:.4f}")
    return accuracies


def gradient_norms(data, activation, initializer="glorot_uniform", depth=8, batch=256, seed=0):
    """||dL/dW|| of each Dense kernel (input side first) on one batch, at initialization."""
    x_train, y_train = data[0][:batch], data[1][:batch]
    nn.utils.set_random_seed(seed)
    model = construct_model(depth, activation, kernel_initializer=initializer)
    loss = nn.losses.SparseCategoricalCrossentropy()(y_train, model(am.tensor(x_train), training=True))
    loss.backward()
    return [float(np.linalg.norm(layer.kernel.grad.data)) for layer in model.layers]


def plot(accuracies, norms, folder):
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(list(accuracies), list(accuracies.values()), "o-")
    left.set_xlabel("hidden layers h (64 relu units each)")
    left.set_ylabel("test accuracy")
    for activation, values in norms.items():
        right.semilogy(np.arange(1, len(values) + 1), values, "o-", label=activation)
    right.set_xlabel("layer (1 = next to the input)")
    right.set_ylabel("||dL/dW|| at initialization")
    right.legend()
    return save_plot(fig, folder / "depth_sweep.png")


def main(argv=None):
    parser = options(__doc__.splitlines()[0], argv, quick_help="12,000 images, 1 epoch, depths 1, 4, 8")
    parser.add_argument("--data", default=None, help="folder with the four MNIST .gz files")
    args = parser.parse_args(argv)
    data = load(args.data, limit=12_000 if args.quick else None)
    depths, epochs = ((1, 4, 8), 1) if args.quick else ((1, 2, 3, 4, 6, 8, 10), 3)
    print(f"construct_model(h), SGD 0.01, batch 128, {epochs} epoch(s) on {len(data[0]):,} images:")
    accuracies = sweep(data, depths, epochs)
    norms = {activation: gradient_norms(data, activation) for activation in ("sigmoid", "tanh", "relu")}
    print("gradient norm of each kernel at initialization, 8 hidden layers of 64 (input side first, output last):")
    for activation, values in norms.items():
        print(
            f"  {activation:<8}"
            + " ".join(f"{v:9.2e}" for v in values)
            + f"   first/last hidden = {values[0] / values[-2]:.2g}"
        )
    print(
        "sigmoid's derivative is at most 1/4, so the gradient shrinks layer after layer towards the input. "
        "tanh (derivative 1 at 0) and relu keep them level at Glorot initialization, which is scaled for that; "
        "tanh's vanish once its units saturate."
    )
    print(f"plots written to {plot(accuracies, norms, out_dir(args.out, 'depth_sweep'))}")
    return {"accuracies": accuracies, "norms": norms}


if __name__ == "__main__":
    main()
