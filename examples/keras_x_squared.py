"""The Stack Overflow answer on learning y = x^2 with Keras: one linear unit
(``Dense(units=1, input_shape=[1])``), MSE, Adam, then ``predict([4, 11, 20])``. A single linear
unit can only fit a line, which the predictions show; a hidden layer fixes it. Keras code with
only the imports changed. --quick: fewer epochs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import nn
from nn.layers import Dense
from nn.models import Sequential


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument(
        "--out", default="autograd_mini_output", help="folder for the predictions (DIR/keras_x_squared/)"
    )
    args = parser.parse_args(argv)
    nn.utils.set_random_seed(0)

    x = list(range(-20, 21))
    y = [v**2 for v in x]

    model = Sequential()
    model.add(Dense(units=1, input_shape=[1]))
    model.compile(loss="mean_squared_error", optimizer="adam")
    model.fit(x, y, epochs=50 if args.quick else 500, verbose=0)
    linear = model.predict([4, 11, 20], verbose=0)
    print("one linear unit: predict([4, 11, 20]) =", linear.ravel().round(2).tolist(), "(true: 16, 121, 400)")

    deeper = Sequential()
    deeper.add(Dense(units=64, activation="relu", input_shape=[1]))
    deeper.add(Dense(units=64, activation="relu"))
    deeper.add(Dense(units=1))
    deeper.compile(loss="mean_squared_error", optimizer=nn.optimizers.Adam(learning_rate=0.01))
    deeper.fit(np.array(x, dtype=float), np.array(y, dtype=float), epochs=100 if args.quick else 1000, verbose=0)
    hidden = deeper.predict([4, 11, 20], verbose=0)
    print("two hidden layers: predict([4, 11, 20]) =", hidden.ravel().round(2).tolist())
    folder = Path(args.out) / "keras_x_squared"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "history.json").write_text(
        json.dumps({"linear": linear.ravel().tolist(), "hidden": hidden.ravel().tolist()}, indent=1)
    )
    return {"linear": linear, "hidden": hidden}


if __name__ == "__main__":
    main()
