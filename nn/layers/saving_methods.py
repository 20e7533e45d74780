"""The methods through which saving talks to a layer (Keras 3's ``Layer`` API), in one mixin.

``save_own_variables(store)`` writes the layer's weights into ``store`` under "0", "1", ...
(``layer.weights`` order: every variable the layer lists travels, a SeedGenerator's state
included); ``load_own_variables(store)`` checks the count and every shape first, then assigns
(a refused store changes nothing). ``get_build_config`` / ``build_from_config`` carry the input
shape a layer was built for. A layer overrides these to save something else, as in Keras.
"""

from __future__ import annotations

import numpy as np


class LayerSavingMethods:
    """Mixed into ``nn.layers.Layer``."""

    def save_own_variables(self, store) -> None:
        """``store[str(i)]`` = a copy of weight i (``self.weights`` order)."""
        for i, weight in enumerate(self.weights):
            store[str(i)] = np.array(weight.data, copy=True)

    def load_own_variables(self, store) -> None:
        """Assign ``store["0"]``, ``store["1"]``, ... to ``self.weights`` (count and shapes checked first)."""
        weights = self.weights
        if len(store.keys()) != len(weights):
            raise ValueError(
                f"Layer '{self.name}' expected {len(weights)} variables, but received {len(store.keys())} "
                f"variables during loading. Expected: {[w.name for w in weights]}"
            )
        values = [np.asarray(store[str(i)]) for i in range(len(weights))]
        for weight, value in zip(weights, values):
            if tuple(value.shape) != tuple(weight.shape):
                raise ValueError(
                    f"Layer '{self.name}': weight {weight.name} has shape {tuple(weight.shape)}, the stored "
                    f"value has shape {tuple(value.shape)}"
                )
        for weight, value in zip(weights, values):
            if value.dtype == weight.dtype:
                weight.mutable_data()[...] = value
            else:
                weight.data = np.array(value, dtype=weight.dtype, copy=True)

    def get_build_config(self):
        """``{"input_shape": [...]}`` of a built layer (Keras' form), else None."""
        shape = getattr(self, "input_shape", None)
        if not getattr(self, "built", False) or shape is None:
            return None
        if isinstance(shape, list):
            return {"input_shape": [list(s) for s in shape]}
        return {"input_shape": list(shape)}

    def build_from_config(self, config) -> None:
        """Build for ``config["input_shape"]`` (from ``get_build_config``)."""
        if not config or "input_shape" not in config or getattr(self, "built", False):
            return
        shape = config["input_shape"]
        if shape and isinstance(shape[0], (list, tuple)):
            self.build_for([tuple(s) for s in shape])
        else:
            self.build_for(tuple(shape))
