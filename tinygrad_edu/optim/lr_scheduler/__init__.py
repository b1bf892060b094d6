"""Learning-rate schedules with PyTorch's names and chainable semantics.

    scheduler = StepLR(optimizer, step_size=10, gamma=0.5)
    for epoch in range(30):
        train_one_epoch()          # optimizer.step() inside
        scheduler.step()           # lr: 0.1 for epochs 0-9, 0.05 for 10-19, 0.025 after

Each step scales the group's current lr (see base.py), so schedules chain, a hand-set lr is
kept, and resuming from state dicts continues where training stopped. `ReduceLROnPlateau`
instead reacts to a metric passed to `step(metric)`.
"""

from .base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .plateau import ReduceLROnPlateau

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "SequentialLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "OneCycleLR",
    "CosineAnnealingWarmRestarts",
]
