"""The four-pixel camera: classify 2x2 images as solid, vertical, diagonal or horizontal with a
4-4(tanh)-4(tanh)-8(relu)-4(softmax) network (116 params), first with hand-set weights, then trained.

Pixels are read row by row, a = top-left, b = top-right, c = bottom-left, d = bottom-right, each
in [-1, 1]. The hand-set network follows the lecture's construction:
  layer 1 (tanh) compares pixels: a+c (left column), b+d (right column), a-c, b-d;
  layer 2 (tanh) combines them:  solid a+b+c+d, vertical (a+c)-(b+d), diagonal (a-c)-(b-d),
                                  horizontal (a-c)+(b-d);
  layer 3 (relu) splits each of those into its positive and its negative part;
  the output (softmax) adds the two parts of each pattern.
For [[1, 1], [-1, -1]] only the horizontal path is active: its logit is tanh(2 tanh 2) = 0.9586,
the others 0, so the softmax gives [0.17831734, 0.17831734, 0.17831734, 0.465048].
"""

from __future__ import annotations

import sys

import numpy as np

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir, pyplot, save_plot

CLASSES = ("solid", "vertical", "diagonal", "horizontal")
# one sign pattern per class (a, b, c, d); its negation belongs to the same class
PATTERNS = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, -1, -1, 1], [1, 1, -1, -1]], dtype=np.float32)


def build():
    return nn.Sequential(
        [
            nn.Input((2, 2)),
            nn.Flatten(),
            nn.Dense(4, activation="tanh"),
            nn.Dense(4, activation="tanh"),
            nn.Dense(8, activation="relu"),
            nn.Dense(4, activation="softmax"),
        ]
    )


def hand_set_weights():
    """The kernels (inputs x units) and zero biases of the construction in the module docstring."""
    layer1 = np.array(
        [
            [1, 0, 1, 0],  # a
            [0, 1, 0, 1],  # b
            [1, 0, -1, 0],  # c
            [0, 1, 0, -1],
        ]
    )  # d
    layer2 = np.array(
        [
            [1, 1, 0, 0],  # a+c
            [1, -1, 0, 0],  # b+d
            [0, 0, 1, 1],  # a-c
            [0, 0, -1, 1],
        ]
    )  # b-d
    layer3 = np.zeros((4, 8))
    for unit in range(4):
        layer3[unit, 2 * unit], layer3[unit, 2 * unit + 1] = 1, -1
    output = np.repeat(np.eye(4), 2, axis=0)  # both parts of pattern k feed class k
    weights = []
    for kernel in (layer1, layer2, layer3, output):
        weights += [kernel.astype(np.float32), np.zeros(kernel.shape[1], np.float32)]
    return weights


def clean_images():
    """The eight noiseless images: each pattern and its negation, with their class labels."""
    images = np.concatenate([PATTERNS, -PATTERNS]).reshape(-1, 2, 2)
    return images, np.tile(np.arange(4), 2)


def noisy_images(n, rng):
    """n random images: a random class, a random sign, each pixel's brightness drawn from [0.5, 1]."""
    labels = rng.integers(0, 4, size=n)
    signs = rng.choice([-1.0, 1.0], size=(n, 1))
    brightness = rng.uniform(0.5, 1.0, size=(n, 4))
    images = (PATTERNS[labels] * signs * brightness).astype(np.float32)
    return images.reshape(n, 2, 2), labels


def train(epochs=8, n_train=10000, n_test=1000, seed=7):
    """RMSprop (Keras defaults), batch 32. Seeds 0-9 reach 1.0 test accuracy except seed 2 (0.84): a
    network this narrow can lose a whole relu path early, so the seed is fixed."""
    nn.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x_train, y_train = noisy_images(n_train, rng)
    x_test, y_test = noisy_images(n_test, rng)
    model = build()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0, validation_data=(x_test, y_test))
    return model, model.evaluate(x_test, y_test, verbose=0)[1]


def draw(images, labels, predictions, path):
    plt = pyplot()
    fig, axes = plt.subplots(1, len(images), figsize=(1.6 * len(images), 2.0))
    for ax, image, label, prediction in zip(axes, images, labels, predictions):
        ax.imshow(image, cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"{CLASSES[prediction]}", fontsize=8, color="black" if prediction == label else "red")
        ax.set_xticks([])
        ax.set_yticks([])
    return save_plot(fig, path)


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv, quick_help="accepted; the full run takes a second").parse_args(argv)
    np.set_printoptions(precision=8, suppress=True)
    model = build()
    model.summary()
    model.set_weights(hand_set_weights())
    horizontal = np.array([[[1, 1], [-1, -1]]], dtype=np.float32)
    probabilities = model.predict(horizontal)[0]
    print(f"hand-set weights, [[1, 1], [-1, -1]] -> {probabilities}  ({CLASSES[int(probabilities.argmax())]})")
    images, labels = clean_images()
    hand_accuracy = float(np.mean(model.predict(images).argmax(axis=1) == labels))
    print(f"hand-set weights, accuracy on the 8 clean images: {hand_accuracy}")
    trained, trained_accuracy = train()
    print(f"trained with RMSprop for 8 epochs on noisy images: test accuracy {trained_accuracy:.4f}")
    folder = out_dir(args.out, "four_pixel_camera")
    path = draw(images, labels, trained.predict(images).argmax(axis=1), folder / "predictions.png")
    print(f"predictions drawn to {path}")
    return {
        "hand_set": probabilities,
        "hand_set_accuracy": hand_accuracy,
        "trained_accuracy": trained_accuracy,
        "params": model.count_params(),
    }


if __name__ == "__main__":
    main()
