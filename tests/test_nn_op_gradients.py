"""nn's own differentiable ops (fused Dense, softmax cross-entropy, activations) against central
finite differences, float64, first and second order: the core's harness with nn's table."""

from nn_op_table import NN_OPS
from op_harness import gradient_tests

test_nn_gradients_match_finite_differences = gradient_tests(NN_OPS)
