"""Keras-style MNIST: Flatten(28x28)-Dense(128, relu)-Dense(10, softmax) (101,770 params), Adam,
sparse categorical cross-entropy, batch 64, 5 epochs, validation_split 0.2 (lecture: test accuracy
about 0.973); then save_weights/load_weights and save/load_model give identical evaluate numbers,
and four test images are drawn with their predictions. --quick trains 1 epoch."""

from __future__ import annotations

import sys

import numpy as np

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir, pyplot, save_plot


def build():
    return nn.Sequential(
        [nn.Input((28, 28)), nn.Flatten(), nn.Dense(128, activation="relu"), nn.Dense(10, activation="softmax")]
    )


def draw(images, labels, probabilities, path):
    plt = pyplot()
    fig, axes = plt.subplots(1, len(images), figsize=(2.2 * len(images), 2.6))
    for ax, image, label, p in zip(axes, images, labels, probabilities):
        ax.imshow(image, cmap="gray_r")
        guess = int(p.argmax())
        ax.set_title(
            f"predicted {guess} ({p[guess]:.2f})\nlabel {label}", fontsize=8, color="black" if guess == label else "red"
        )
        ax.axis("off")
    return save_plot(fig, path)


def main(argv=None):
    parser = options(__doc__.splitlines()[0], argv, quick_help="1 epoch")
    parser.add_argument("--data", default=None, help="folder with the four MNIST .gz files")
    args = parser.parse_args(argv)
    folder = out_dir(args.out, "mnist_sequential")
    nn.utils.set_random_seed(1)
    (x_train, y_train), (x_test, y_test) = nn.datasets.mnist.load_data(args.data)
    x_train, x_test = x_train.astype(np.float32) / 255, x_test.astype(np.float32) / 255
    model = build()
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=1 if args.quick else 5, validation_split=0.2, verbose=2)
    scores = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {scores[0]:.4f}  Test accuracy: {scores[1]:.4f}")

    model.save_weights(folder / "weights.npz")
    same_architecture = build()
    same_architecture.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    same_architecture.load_weights(folder / "weights.npz")
    from_weights = same_architecture.evaluate(x_test, y_test, verbose=0)
    model.save(folder / "model.npz")
    reloaded = nn.load_model(folder / "model.npz")
    from_model = reloaded.evaluate(x_test, y_test, verbose=0)
    print(f"after save_weights/load_weights: {from_weights}; after save/load_model: {from_model}")
    print("identical" if from_weights == scores == from_model else "DIFFERENT")

    probabilities = reloaded.predict(x_test[:4])
    path = draw(x_test[:4], y_test[:4], probabilities, folder / "predictions.png")
    print(f"four test images and their predictions drawn to {path}")
    return {
        "scores": scores,
        "from_weights": from_weights,
        "from_model": from_model,
        "params": model.count_params(),
        "predictions": probabilities.argmax(axis=1),
        "labels": y_test[:4],
    }


if __name__ == "__main__":
    main()
