"""Optimizers with PyTorch's names and exact update rules; they step Values and Tensors alike.

    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    optimizer.zero_grad(); loss.backward(); optimizer.step()
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
