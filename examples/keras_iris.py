"""The TF2 course's iris classifier: Sequential 4-8(relu)-4(relu)-3(softmax) (91 params), SGD,
sparse categorical cross-entropy, sparse_categorical_accuracy, batch 32, validation_split 0.2.
Keras code with only the imports changed (``tf.keras`` -> ``nn``). --quick: 30 epochs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import nn as keras


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 epochs")
    parser.add_argument(
        "--out", default="autograd_mini_output", help="folder for the training history (DIR/keras_iris/)"
    )
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    (x, y), (x_test, y_test) = keras.datasets.iris.load_data()
    mean, std = x.mean(axis=0), x.std(axis=0)
    x, x_test = (x - mean) / std, (x_test - mean) / std

    model = keras.Sequential(
        [
            keras.layers.Dense(8, activation="relu", input_shape=(4,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.summary()
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    history = model.fit(x, y, batch_size=32, epochs=30 if args.quick else 200, validation_split=0.2, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    predictions = np.argmax(model.predict(x_test[:5], verbose=0), axis=1)
    print("predicted classes of the first 5 test flowers:", predictions.tolist(), "labels:", y_test[:5].tolist())
    folder = Path(args.out) / "keras_iris"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "history.json").write_text(json.dumps(history.history, indent=1))
    return {"model": model, "history": history.history, "loss": loss, "accuracy": accuracy}


if __name__ == "__main__":
    main()
