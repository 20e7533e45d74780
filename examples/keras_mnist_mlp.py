"""The Keras MNIST MLP (keras/examples mnist_mlp.py): 784-512-Dropout(0.2)-512-Dropout(0.2)-10,
RMSprop, categorical cross-entropy on to_categorical labels, batch 128, validation on the test
set. Keras code with only the imports changed. --quick: 3,000 training samples, 1 epoch."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nn as keras
from nn.datasets import mnist
from nn.layers import Dense, Dropout
from nn.models import Sequential
from nn.optimizers import RMSprop


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 samples, 1 epoch")
    parser.add_argument("--data", default=None, help="folder with the four MNIST .gz files")
    parser.add_argument(
        "--out", default="autograd_mini_output", help="folder for the training history (DIR/keras_mnist_mlp/)"
    )
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    batch_size = 128
    num_classes = 10
    epochs = 1 if args.quick else 20

    (x_train, y_train), (x_test, y_test) = mnist.load_data(args.data)
    if args.quick:
        x_train, y_train, x_test, y_test = x_train[:3000], y_train[:3000], x_test[:1000], y_test[:1000]
    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = Sequential()
    model.add(Dense(512, activation="relu", input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(num_classes, activation="softmax"))

    model.summary()

    model.compile(loss="categorical_crossentropy", optimizer=RMSprop(), metrics=["accuracy"])

    history = model.fit(
        x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=1, validation_data=(x_test, y_test)
    )
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    folder = Path(args.out) / "keras_mnist_mlp"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "history.json").write_text(json.dumps(history.history, indent=1))
    return {"model": model, "history": history.history, "score": score}


if __name__ == "__main__":
    main()
