"""Neural-net building blocks with PyTorch's names: `Module`, layers, losses, `init`, `functional`.

Scalar nets (`Neuron`, `Layer`, `MLP`) are made of `Value`s; the Tensor layers (`Linear`, ...)
of `Parameter` tensors. Both are `Module`s, so `parameters()`, `zero_grad()`, `state_dict()` and
the optimizers work the same on either.
"""

from . import functional, init, utils
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .containers import ModuleList, Sequential
from .layers import BatchNorm1d, Dropout, Embedding, Flatten, Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from .module import IncompatibleKeys, Module
from .normalization import GroupNorm, LayerNorm, RMSNorm
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .scalar import MLP, Layer, Neuron
from .transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "Module", "IncompatibleKeys", "Parameter",
    "Neuron", "Layer", "MLP",
    "Linear", "Identity", "Flatten", "Dropout", "BatchNorm1d", "Embedding",
    "Sequential", "ModuleList",
    "LayerNorm", "GroupNorm", "RMSNorm",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
    "CrossEntropyLoss",
    "functional", "init", "utils",
]
