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
from .attention import MultiheadAttention
from .batchnorm import BatchNorm1d, BatchNorm2d
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .layers import Dropout, Dropout2d, Embedding, Flatten, Identity, Linear, Unflatten
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
from .normalization import GroupNorm, LayerNorm, RMSNorm
from .parameter import Parameter
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool2d,
    Upsample,
)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .scalar import MLP, Layer, Neuron
from .transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "Module", "IncompatibleKeys", "Parameter",
    "Neuron", "Layer", "MLP",
    "Linear", "Identity", "Flatten", "Unflatten", "Dropout", "Dropout2d", "BatchNorm1d",
    "Embedding",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "BatchNorm2d",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "MaxUnpool2d", "Upsample",
    "Sequential", "ModuleList",
    "LayerNorm", "GroupNorm", "RMSNorm",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax",
    "ModuleDict", "ParameterList", "ParameterDict",
    "SiLU", "ELU",
    "CELU", "SELU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "LogSigmoid",
    "Softsign", "Softplus", "Softmin", "GLU", "CosineSimilarity", "PairwiseDistance",
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
    "CrossEntropyLoss", "SmoothL1Loss", "KLDivLoss", "GaussianNLLLoss", "MarginRankingLoss",
    "CosineEmbeddingLoss",
    "functional", "init", "utils",
]
