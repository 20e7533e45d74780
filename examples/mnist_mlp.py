"""The lecture's MNIST MLP: 784-512-Dropout(0.2)-512-Dropout(0.2)-10 softmax, RMSprop, batch 128,
categorical cross-entropy, 5 epochs with validation_data (lecture: test accuracy 0.9785).
--no-dropout drops the Dropout layers (lecture: 0.9825); --deep trains 2500-2000-1500-1000-500-10
tanh for 10 epochs (lecture: 0.9736); --quick trains 1 epoch (at least 0.96)."""

from __future__ import annotations

import sys

import numpy as np

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir


def build(dropout=True, deep=False):
    layers = [nn.Input((784,))]
    if deep:
        layers += [nn.Dense(units, activation="tanh") for units in (2500, 2000, 1500, 1000, 500)]
    else:
        for _ in range(2):
            layers.append(nn.Dense(512, activation="relu"))
            if dropout:
                layers.append(nn.Dropout(0.2))
    layers.append(nn.Dense(10, activation="softmax"))
    return nn.Sequential(layers)


def load(path=None):
    (x_train, y_train), (x_test, y_test) = nn.datasets.mnist.load_data(path)
    x_train = x_train.reshape(-1, 784).astype(np.float32) / 255
    x_test = x_test.reshape(-1, 784).astype(np.float32) / 255
    eye = np.eye(10, dtype=np.float32)
    return x_train, eye[y_train], x_test, eye[y_test]


def run(epochs=5, dropout=True, deep=False, data=None, seed=1, verbose=2):
    nn.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = load(data)
    model = build(dropout, deep)
    model.summary()
    model.compile(optimizer=nn.optimizers.RMSprop(), loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, batch_size=128, epochs=epochs, verbose=verbose, validation_data=(x_test, y_test)
    )
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {accuracy:.4f}")
    return model, history, accuracy


def main(argv=None):
    parser = options(__doc__.splitlines()[0], argv, quick_help="1 epoch")
    parser.add_argument("--no-dropout", action="store_true")
    parser.add_argument("--deep", action="store_true")
    parser.add_argument("--data", default=None, help="folder with the four MNIST .gz files")
    args = parser.parse_args(argv)
    epochs = 1 if args.quick else (10 if args.deep else 5)
    model, history, accuracy = run(epochs, dropout=not args.no_dropout, deep=args.deep, data=args.data)
    print(f"curves written to {nn.plot_history(history, out_dir(args.out, 'mnist_mlp') / 'history.png')}")
    return accuracy


if __name__ == "__main__":
    main()
