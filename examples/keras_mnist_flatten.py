"""TensorFlow's beginner MNIST: Flatten(input_shape=(28, 28))-Dense(128, relu)-Dense(10, softmax),
Adam, sparse categorical cross-entropy; then save_weights / load_weights into a fresh model gives
the same evaluation. Keras code with only the imports changed. --quick: 5,000 samples, 1 epoch."""

from __future__ import annotations

import argparse
from pathlib import Path

import nn as keras


def build():
    return keras.models.Sequential(
        [
            keras.layers.Flatten(input_shape=(28, 28)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 samples, 1 epoch")
    parser.add_argument("--data", default=None, help="folder with the four MNIST .gz files")
    parser.add_argument("--out", default="autograd_mini_output", help="folder for the weights file")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    mnist = keras.datasets.mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data(args.data)
    if args.quick:
        x_train, y_train, x_test, y_test = x_train[:5000], y_train[:5000], x_test[:1000], y_test[:1000]
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=1 if args.quick else 5)
    scores = model.evaluate(x_test, y_test, verbose=2)

    folder = Path(args.out) / "keras_mnist_flatten"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mnist.weights.h5"
    model.save_weights(path)
    restored = build()
    restored.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    restored.load_weights(path)
    restored_scores = restored.evaluate(x_test, y_test, verbose=0)
    print("restored model, test accuracy:", restored_scores[1])
    return {"model": model, "scores": scores, "restored_scores": restored_scores}


if __name__ == "__main__":
    main()
