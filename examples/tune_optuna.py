"""Learning rate and width of the iris 4-h-3 network searched with Optuna inside Ray Tune: OptunaSearch
(Optuna's TPE sampler) proposes (learning rate, hidden units), ASHA stops the trials whose validation loss
trails the others' at the same epoch, and each trial reports its epochs with nn.callbacks.TuneReportCallback.

Needs the tune extra (pip install 'autograd_mini[tune]'). --quick runs 4 trials of 8 epochs instead of
16 trials of 40; --address runs them on a Ray cluster (default: Ray started here on every core)."""

from __future__ import annotations

import sys

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
import _tune
from _common import options, out_dir


def iris_split():
    """Standardized iris: 120 training rows, of which the last 24 validate; the 30 test rows stay unseen."""
    (x_train, y_train), (x_test, y_test) = nn.datasets.iris.load_data()
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return x_train[:96], y_train[:96], x_train[96:], y_train[96:], x_test, y_test


def train(config, callbacks=()):
    """One trial: Adam at config["lr"], a hidden layer of config["units"] relu units, seeded by config["seed"]."""
    x_train, y_train, x_val, y_val, x_test, y_test = iris_split()
    nn.utils.set_random_seed(config["seed"])
    model = nn.Sequential(
        [nn.Input((4,)), nn.Dense(config["units"], activation="relu"), nn.Dense(3, activation="softmax")]
    )
    model.compile(
        optimizer=nn.optimizers.Adam(learning_rate=config["lr"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        batch_size=16,
        epochs=config["epochs"],
        validation_data=(x_val, y_val),
        verbose=0,
        callbacks=list(callbacks),
    )
    return model


def trial(config):
    train(config, callbacks=[nn.callbacks.TuneReportCallback(["val_loss", "val_accuracy", "loss"])])


def search(num_samples, epochs, address=None, storage=None, seed=0):
    """The Optuna + ASHA search as one Tune experiment; returns the ResultGrid."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    started = _tune.start_ray(address)
    try:
        space = {
            "lr": tune.loguniform(1e-3, 0.3),
            "units": tune.randint(2, 33),
            "epochs": epochs,
            "seed": seed,
        }
        tuner = tune.Tuner(
            trial,
            param_space=space,
            tune_config=tune.TuneConfig(
                metric="val_loss",
                mode="min",
                search_alg=OptunaSearch(seed=seed),
                scheduler=ASHAScheduler(max_t=epochs, grace_period=max(1, epochs // 8), reduction_factor=2),
                num_samples=num_samples,
            ),
            run_config=tune.RunConfig(name="tune_optuna", storage_path=str(storage), verbose=1),
        )
        results = tuner.fit()
    finally:
        if started:
            ray.shutdown()
    if results.errors:
        raise RuntimeError(f"{len(results.errors)} trial(s) failed: {results.errors[0]}")
    return results


def main(argv=None):
    parser = options(__doc__.splitlines()[0], argv, quick_help="4 trials of 8 epochs")
    parser.add_argument("--address", default=None, help="Ray cluster address (default: $RAY_ADDRESS, else Ray here)")
    parser.add_argument("--storage", default=None, help="folder for Tune's results (default: OUT/ray_results)")
    args = parser.parse_args(argv)
    num_samples, epochs = (4, 8) if args.quick else (16, 40)
    storage = args.storage or out_dir(args.out, "ray_results")
    results = search(num_samples, epochs, address=args.address, storage=storage)
    rows = sorted(results, key=lambda r: r.metrics["val_loss"])
    print(f"{'lr':>9}{'units':>7}{'epochs run':>12}{'val loss':>10}{'val acc':>9}")
    for r in rows:
        c, m = r.config, r.metrics
        print(
            f"{c['lr']:>9.4f}{c['units']:>7}{m['training_iteration']:>12}{m['val_loss']:>10.4f}{m['val_accuracy']:>9.3f}"
        )
    best = results.get_best_result()
    x_test, y_test = iris_split()[4:]
    model = train(best.config)  # retrained from its seed: the same weights as in its trial
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(
        f"best: lr {best.config['lr']:.4f}, {best.config['units']} units, val loss {best.metrics['val_loss']:.4f}; "
        f"test accuracy {accuracy:.3f}"
    )
    return {"results": results, "best": best.config, "test_accuracy": accuracy}


if __name__ == "__main__":
    main()
