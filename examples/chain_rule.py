"""The chain rule on f = (x + y) * z with x=-2, y=5, z=-4: values, gradients, and the graph."""

from __future__ import annotations

import sys

from walkthroughs import chain_rule

import autograd_mini as am

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv).parse_args(argv)
    x, y, z, q, f = chain_rule()
    print(f"{q.data:g} {f.data:g}")
    print(f"[{x.grad:g}, {y.grad:g}, {z.grad:g}]")
    path = am.draw_graph(f).render(out_dir(args.out, "chain_rule") / "chain_rule", format="svg")
    print(f"graph written to {path}")
    return {"q": q.data, "f": f.data, "grads": [x.grad, y.grad, z.grad], "graph": path}


if __name__ == "__main__":
    main()
