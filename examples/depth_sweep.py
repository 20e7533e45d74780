"""Depth on MNIST: the lecture's construct_model(h) (h hidden Dense(64, relu) layers, softmax output,
SGD 0.01, batch 128) trained for each depth, test accuracy against depth; then the gradient norm
of every layer's kernel at initialization for sigmoid, tanh and relu networks of 8 hidden layers,
showing the gradients vanishing towards the input with sigmoid (tanh and relu keep them level at
Glorot initialization).

--quick trains on 12,000 images for 1 epoch at depths 1, 4 and 8. --tune runs the depths as a Ray Tune
experiment (a trial each, on every core here, or on a cluster with --address); the numbers are the same."""

from __future__ import annotations

import sys

import numpy as np

import autograd_mini as am
import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
import _tune
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


def train_depth(data, h, epochs, seed=0, optimizer=None, callbacks=()):
    """One point of the sweep: seed, build construct_model(h), train, evaluate; (model, test accuracy).
    A Tune trial calls exactly this, so its numbers are the serial run's."""
    x_train, y_train, x_test, y_test = data
    nn.utils.set_random_seed(seed)
    model = construct_model(h)
    model.compile(
        optimizer=optimizer if optimizer is not None else nn.optimizers.SGD(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=0, callbacks=list(callbacks))
    return model, model.evaluate(x_test, y_test, verbose=0)[1]


def print_point(h, params, accuracy):
    print(f"  h = {h:>2} hidden layers ({params:>7,} params): test accuracy {accuracy:.4f}")


def sweep(data, depths, epochs, seed=0):
    accuracies = {}
    for h in depths:
        model, accuracies[h] = train_depth(data, h, epochs, seed)
        print_point(h, model.count_params(), accuracies[h])
    return accuracies


def depth_trial(config, data=None):
    """The Tune trial of one depth: each epoch's logs reported by TuneReportCallback, then the test accuracy."""
    from ray import tune

    model, accuracy = train_depth(
        data, config["h"], config["epochs"], config["seed"], callbacks=[nn.callbacks.TuneReportCallback()]
    )
    tune.report({"test_accuracy": accuracy, "params": model.count_params()})


def tune_sweep(data, depths, epochs, seed=0, address=None, storage=None):
    """The same sweep as one Ray Tune experiment (a trial per depth); prints the same lines."""
    import ray
    from ray import tune

    started = _tune.start_ray(address)
    try:
        space = {"h": tune.grid_search(list(depths)), "epochs": epochs, "seed": seed}
        results = _tune.run_grid(depth_trial, space, name="depth_sweep", storage=storage, data=data)
    finally:
        if started:
            ray.shutdown()
    metrics = _tune.by_config(results, "h")
    accuracies = {}
    for h in depths:
        accuracies[h] = metrics[h]["test_accuracy"]
        print_point(h, metrics[h]["params"], accuracies[h])
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
    args = _tune.add_options(parser).parse_args(argv)
    data = load(args.data, limit=12_000 if args.quick else None)
    depths, epochs = ((1, 4, 8), 1) if args.quick else ((1, 2, 3, 4, 6, 8, 10), 3)
    print(f"construct_model(h), SGD 0.01, batch 128, {epochs} epoch(s) on {len(data[0]):,} images:")
    if args.tune:
        storage = args.storage or out_dir(args.out, "ray_results")
        accuracies = tune_sweep(data, depths, epochs, address=args.address, storage=storage)
    else:
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
