"""SGD and its variants on one problem: the iris 4-8-3 network trained from the same initial weights
with SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta, Adam, and SGD with an exponentially
decaying learning rate; the training-loss curves share one plot.

Learning rates are the usual ones for each method on this problem (Keras' defaults are tuned
for larger networks: Adadelta's 0.001, for example, barely moves in 60 epochs).
--quick trains 20 epochs instead of 60. --tune runs the optimizers as a Ray Tune experiment (a trial
each, on every core here, or on a cluster with --address); the numbers are the same."""

from __future__ import annotations

import sys

import numpy as np

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
import _tune
from _common import options, out_dir, pyplot, save_plot


def contenders(steps_per_epoch: int) -> dict:
    """Name -> a factory of the optimizer (a fresh one for each run)."""
    o = nn.optimizers
    decay = nn.optimizers.schedules.ExponentialDecay(0.5, decay_steps=10 * steps_per_epoch, decay_rate=0.5)
    return {
        "SGD": lambda: o.SGD(learning_rate=0.1),
        "momentum 0.9": lambda: o.SGD(learning_rate=0.1, momentum=0.9),
        "Nesterov 0.9": lambda: o.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
        "Adagrad": lambda: o.Adagrad(learning_rate=0.1),
        "RMSprop": lambda: o.RMSprop(learning_rate=0.01),
        "Adadelta": lambda: o.Adadelta(learning_rate=1.0),
        "Adam": lambda: o.Adam(learning_rate=0.01),
        "SGD, lr 0.5 halved every 10 epochs": lambda: o.SGD(learning_rate=decay),
    }


def standardized_iris():
    (x_train, y_train), (x_test, y_test) = nn.datasets.iris.load_data()
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


def build():
    return nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(3, activation="softmax")])


def initial_weights():
    """The starting point every optimizer shares: the network seeded with 3."""
    nn.utils.set_random_seed(3)
    return build().get_weights()


def train_one(name, epochs=60, batch_size=16, data=None, initial=None, callbacks=()):
    """One optimizer from the shared initial weights: {"loss": per-epoch losses, "test_accuracy"}.
    A Tune trial calls exactly this, so its numbers are the serial run's."""
    x_train, y_train, x_test, y_test = data if data is not None else standardized_iris()
    initial = initial if initial is not None else initial_weights()
    make = contenders(-(-len(x_train) // batch_size))[name]
    nn.utils.set_random_seed(3)  # the same shuffling for every optimizer
    model = build()
    model.set_weights(initial)  # the same starting point for every optimizer
    model.compile(optimizer=make(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=list(callbacks))
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return {"loss": history.history["loss"], "test_accuracy": accuracy}


def run(epochs=60, batch_size=16):
    data, initial = standardized_iris(), initial_weights()
    return {name: train_one(name, epochs, batch_size, data, initial) for name in contenders(1)}


def optimizer_trial(config):
    """The Tune trial of one optimizer: each epoch's loss reported by TuneReportCallback, then the curve."""
    from ray import tune

    result = train_one(config["optimizer"], config["epochs"], callbacks=[nn.callbacks.TuneReportCallback(["loss"])])
    tune.report({"test_accuracy": result["test_accuracy"], "loss_curve": result["loss"]})


def run_tune(epochs=60, address=None, storage=None):
    """The same runs as one Ray Tune experiment (a trial per optimizer); the same results as run()."""
    import ray
    from ray import tune

    started = _tune.start_ray(address)
    try:
        space = {"optimizer": tune.grid_search(list(contenders(1))), "epochs": epochs}
        results = _tune.run_grid(optimizer_trial, space, name="optimizers", storage=storage)
    finally:
        if started:
            ray.shutdown()
    metrics = _tune.by_config(results, "optimizer")
    return {
        name: {"loss": metrics[name]["loss_curve"], "test_accuracy": metrics[name]["test_accuracy"]}
        for name in contenders(1)
    }


def plot(results, folder):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, result in results.items():
        ax.semilogy(np.arange(1, len(result["loss"]) + 1), result["loss"], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("iris 4-8-3, the same initial weights", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return save_plot(fig, folder / "loss_curves.png")


def main(argv=None):
    args = _tune.add_options(options(__doc__.splitlines()[0], argv, quick_help="20 epochs")).parse_args(argv)
    epochs = 20 if args.quick else 60
    if args.tune:
        storage = args.storage or out_dir(args.out, "ray_results")
        results = run_tune(epochs, address=args.address, storage=storage)
    else:
        results = run(epochs)
    print(f"{'optimizer':<36}{'first loss':>11}{'last loss':>11}{'test acc':>10}")
    for name, result in results.items():
        print(f"{name:<36}{result['loss'][0]:>11.4f}{result['loss'][-1]:>11.4f}{result['test_accuracy']:>10.3f}")
    print(f"loss curves written to {plot(results, out_dir(args.out, 'optimizers'))}")
    return results


if __name__ == "__main__":
    main()
