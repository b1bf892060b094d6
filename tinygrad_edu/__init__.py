"""tinygrad_edu: an autograd engine to learn deep learning on.

Two engines share one graph core: `Value`, a scalar small enough to read in one sitting, and
`Tensor`, the same idea on numpy arrays, fast enough to train real models. On top: `nn`,
`optim`, `data`, graph drawings (`viz`) and gradient checks (`testing`), all with PyTorch's
names, so what you learn here carries over.
"""

from .autograd import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .random import manual_seed
from .value import Value

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "Value",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "manual_seed",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]
