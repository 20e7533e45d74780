"""One backprop step of the 1-1-1 sigmoid network (w_h=0.2, b_h=0.1, w_o=0.3, b_o=0.2, x=1, y=0.8,
eta=0.5, Loss = (y - y_o)^2 / 2): every partial derivative, exact, beside the lecture's hand
computation with activations rounded to 2 decimals."""

from __future__ import annotations

import sys

from walkthroughs import one_neuron_step, one_neuron_step_lecture

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options


def main(argv=None):
    options(__doc__.splitlines()[0], argv).parse_args(argv)
    h, y_o, loss, grads, updated = one_neuron_step()
    hand_grads, hand_updated = one_neuron_step_lecture()
    print(f"forward: h = {h:.9f}, y_o = {y_o:.9f}, loss = {loss:.9f}")
    print(f"{'param':>6} {'dLoss/dparam (exact)':>22} {'updated (exact)':>16} {'lecture (2 dp)':>15}")
    for k in ("w_o", "b_o", "w_h", "b_h"):
        print(f"{k:>6} {grads[k]:>22.9f} {updated[k]:>16.9f} {hand_updated[k]:>15.9f}")
    print(
        "The lecture rounds h = 0.574 to 0.57 and y_o = 0.592 to 0.59 before applying the chain rule, so its "
        "updates differ from the exact ones in the 4th-5th decimal; the method is the same."
    )
    return {"exact": updated, "lecture": hand_updated, "grads": grads}


if __name__ == "__main__":
    main()
