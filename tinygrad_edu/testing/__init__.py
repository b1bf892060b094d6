"""Gradient checks and hypothesis strategies: the tools the project's own tests are built with.

    from tinygrad_edu.testing import gradcheck, gradgradcheck
    gradcheck(lambda x: x.tanh() * x, [Value(0.7)])        # True, or GradcheckError

`gradcheck` compares backward() with central finite differences, names the op whose derivative
is wrong, and `tinygrad_edu.testing.strategies` generates inputs that stay where a function is
differentiable (but on both sides of every kink).
"""

from .gradcheck import (
    GradcheckError,
    GradcheckWarning,
    assert_grads_close,
    check_module_gradients,
    gradcheck,
    gradgradcheck,
    numeric_grad,
)

__all__ = [
    "GradcheckError",
    "GradcheckWarning",
    "assert_grads_close",
    "check_module_gradients",
    "gradcheck",
    "gradgradcheck",
    "numeric_grad",
]
