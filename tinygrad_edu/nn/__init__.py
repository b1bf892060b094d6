"""Neural-net building blocks with PyTorch's names: `Module`, layers, losses, `init`, `functional`.

Scalar nets (`Neuron`, `Layer`, `MLP`) are made of `Value`s; the Tensor layers (`Linear`, ...)
of `Parameter` tensors. Both are `Module`s, so `parameters()`, `zero_grad()`, `state_dict()` and
the optimizers work the same on either.
"""

from . import functional, init, utils
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    CosineSimilarity,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PairwiseDistance,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import BatchNorm1d, Dropout, Embedding, Flatten, Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import IncompatibleKeys, Module
from .parameter import Parameter
from .scalar import MLP, Layer, Neuron

__all__ = [
    "Module", "IncompatibleKeys", "Parameter",
    "Neuron", "Layer", "MLP",
    "Linear", "Identity", "Flatten", "Dropout", "BatchNorm1d", "Embedding",
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax", "SiLU", "ELU",
    "CELU", "SELU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "LogSigmoid",
    "Softsign", "Softplus", "Softmin", "GLU", "CosineSimilarity", "PairwiseDistance",
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
    "CrossEntropyLoss", "SmoothL1Loss", "KLDivLoss", "GaussianNLLLoss", "MarginRankingLoss",
    "CosineEmbeddingLoss",
    "functional", "init", "utils",
]
