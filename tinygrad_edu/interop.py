"""Move models to and from PyTorch: the road for users who outgrow this library.

    from tinygrad_edu.interop import to_torch, from_torch
    torch_model = to_torch(model)         # same architecture, same weights, same outputs
    model = from_torch(torch_model)

Works for Sequential-style models made of the layers both libraries share (Linear,
activations, Dropout, Flatten, Identity, BatchNorm1d, Embedding, Sequential, ModuleList, and
the sequence layers: LayerNorm, RMSNorm, GroupNorm, RNN, LSTM, GRU and their cells,
MultiheadAttention, TransformerEncoderLayer and TransformerEncoder). For
your own Module subclasses, write the same class in PyTorch and move the weights with
`state_dict_to_torch` / `state_dict_from_torch`: the keys and layouts are already PyTorch's.
torch is imported only when one of these functions runs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from . import nn
from .tensor import Tensor

__all__ = ["to_torch", "from_torch", "state_dict_to_torch", "state_dict_from_torch"]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("interop needs PyTorch: pip install torch") from None
    return torch


# One row per layer type: (our class, torch class name, our layer from torch's, torch's from ours).
# Weights are copied separately, through the state dicts.
_Row = tuple[type, str, Callable[[Any], Any], Callable[[Any, Any], Any]]


def _torch_dtype(torch: Any, m: nn.Module) -> Any:
    w = next(iter(m.parameters()), None)
    if w is None:
        return None
    return torch.float64 if w.dtype == np.float64 else torch.float32


def _np_dtype(t: Any) -> Any:
    p = next(iter(t.parameters()), None)
    return None if p is None else str(p.dtype).replace("torch.", "")


_ROWS: list[_Row] = [
    (nn.Linear, "Linear",
     lambda t: nn.Linear(t.in_features, t.out_features, t.bias is not None, dtype=_np_dtype(t)),
     lambda torch, m: torch.nn.Linear(m.in_features, m.out_features, m.bias is not None,
                                      dtype=_torch_dtype(torch, m))),
    (nn.ReLU, "ReLU", lambda t: nn.ReLU(), lambda torch, m: torch.nn.ReLU()),
    (nn.LeakyReLU, "LeakyReLU", lambda t: nn.LeakyReLU(t.negative_slope),
     lambda torch, m: torch.nn.LeakyReLU(m.negative_slope)),
    (nn.Sigmoid, "Sigmoid", lambda t: nn.Sigmoid(), lambda torch, m: torch.nn.Sigmoid()),
    (nn.Tanh, "Tanh", lambda t: nn.Tanh(), lambda torch, m: torch.nn.Tanh()),
    (nn.GELU, "GELU", lambda t: nn.GELU(t.approximate),
     lambda torch, m: torch.nn.GELU(m.approximate)),
    (nn.Softmax, "Softmax", lambda t: nn.Softmax(t.dim), lambda torch, m: torch.nn.Softmax(m.dim)),
    (nn.LogSoftmax, "LogSoftmax", lambda t: nn.LogSoftmax(t.dim),
     lambda torch, m: torch.nn.LogSoftmax(m.dim)),
    (nn.Dropout, "Dropout", lambda t: nn.Dropout(t.p), lambda torch, m: torch.nn.Dropout(m.p)),
    (nn.Flatten, "Flatten", lambda t: nn.Flatten(t.start_dim, t.end_dim),
     lambda torch, m: torch.nn.Flatten(m.start_dim, m.end_dim)),
    (nn.Identity, "Identity", lambda t: nn.Identity(), lambda torch, m: torch.nn.Identity()),
    (nn.BatchNorm1d, "BatchNorm1d",
     lambda t: nn.BatchNorm1d(t.num_features, t.eps, t.momentum, t.affine,
                              t.track_running_stats, dtype=_np_dtype(t),
                              bias=t.bias is not None or not t.affine),
     lambda torch, m: torch.nn.BatchNorm1d(m.num_features, m.eps, m.momentum, m.affine,
                                           m.track_running_stats, dtype=_torch_dtype(torch, m),
                                           bias=m.bias is not None or not m.affine)),
    (nn.Embedding, "Embedding",
     lambda t: nn.Embedding(t.num_embeddings, t.embedding_dim, t.padding_idx,
                            dtype=_np_dtype(t)),
     lambda torch, m: torch.nn.Embedding(m.num_embeddings, m.embedding_dim, m.padding_idx,
                                         dtype=_torch_dtype(torch, m))),
]


# ---- sequence-model layers: norms, recurrent layers and cells, attention, transformer ----------


def _recurrent(cls_name: str) -> _Row:
    """A row for RNN / LSTM / GRU: same constructor arguments on both sides."""
    def args(m: Any) -> dict[str, Any]:
        kw = dict(num_layers=m.num_layers, bias=m.bias, batch_first=m.batch_first,
                  dropout=float(m.dropout), bidirectional=m.bidirectional)
        if cls_name == "RNN":
            kw["nonlinearity"] = m.nonlinearity
        return kw

    return (getattr(nn, cls_name), cls_name,
            lambda t: getattr(nn, cls_name)(t.input_size, t.hidden_size, **args(t),
                                            dtype=_np_dtype(t)),
            lambda torch, m: getattr(torch.nn, cls_name)(m.input_size, m.hidden_size, **args(m),
                                                         dtype=_torch_dtype(torch, m)))


def _cell(cls_name: str) -> _Row:
    def args(m: Any) -> dict[str, Any]:
        return {"nonlinearity": m.nonlinearity} if cls_name == "RNNCell" else {}

    return (getattr(nn, cls_name), cls_name,
            lambda t: getattr(nn, cls_name)(t.input_size, t.hidden_size, t.bias, **args(t),
                                            dtype=_np_dtype(t)),
            lambda torch, m: getattr(torch.nn, cls_name)(m.input_size, m.hidden_size, m.bias,
                                                         **args(m),
                                                         dtype=_torch_dtype(torch, m)))


def _activation_name(fn: Any) -> str:
    name = getattr(fn, "__name__", "")
    if name not in ("relu", "gelu"):
        raise TypeError(f"TransformerEncoderLayer: only the 'relu' and 'gelu' activations can be "
                        f"converted, got {fn!r}")
    return name


def _encoder_layer_args(m: Any, activation: str) -> dict[str, Any]:
    attn = m.self_attn
    return dict(d_model=attn.embed_dim, nhead=attn.num_heads,
                dim_feedforward=m.linear1.out_features, dropout=float(m.dropout.p),
                activation=activation, layer_norm_eps=m.norm1.eps,
                batch_first=m.self_attn.batch_first,
                norm_first=m.norm_first, bias=m.linear1.bias is not None)


def _encoder_from_torch(t: Any) -> Any:
    torch = _torch()
    norm = None if t.norm is None else _convert_from_torch(torch, t.norm)
    return nn.TransformerEncoder(_convert_from_torch(torch, t.layers[0]), t.num_layers, norm)


def _encoder_to_torch(torch: Any, m: Any) -> Any:
    norm = None if m.norm is None else _convert_to_torch(torch, m.norm)
    return torch.nn.TransformerEncoder(_convert_to_torch(torch, m.layers[0]), m.num_layers, norm,
                                       enable_nested_tensor=False)


_ROWS += [
    (nn.LayerNorm, "LayerNorm",
     lambda t: nn.LayerNorm(t.normalized_shape, t.eps, t.elementwise_affine,
                            t.bias is not None or not t.elementwise_affine, dtype=_np_dtype(t)),
     lambda torch, m: torch.nn.LayerNorm(m.normalized_shape, m.eps, m.elementwise_affine,
                                         m.bias is not None or not m.elementwise_affine,
                                         dtype=_torch_dtype(torch, m))),
    (nn.RMSNorm, "RMSNorm",
     lambda t: nn.RMSNorm(t.normalized_shape, t.eps, t.elementwise_affine, dtype=_np_dtype(t)),
     lambda torch, m: torch.nn.RMSNorm(m.normalized_shape, m.eps, m.elementwise_affine,
                                       dtype=_torch_dtype(torch, m))),
    (nn.GroupNorm, "GroupNorm",
     lambda t: nn.GroupNorm(t.num_groups, t.num_channels, t.eps, t.affine, dtype=_np_dtype(t)),
     lambda torch, m: torch.nn.GroupNorm(m.num_groups, m.num_channels, m.eps, m.affine,
                                         dtype=_torch_dtype(torch, m))),
    _recurrent("RNN"), _recurrent("LSTM"), _recurrent("GRU"),
    _cell("RNNCell"), _cell("LSTMCell"), _cell("GRUCell"),
    (nn.MultiheadAttention, "MultiheadAttention",
     lambda t: nn.MultiheadAttention(t.embed_dim, t.num_heads, t.dropout,
                                     t.in_proj_bias is not None, batch_first=t.batch_first,
                                     dtype=_np_dtype(t)),
     lambda torch, m: torch.nn.MultiheadAttention(m.embed_dim, m.num_heads, m.dropout,
                                                  m.in_proj_bias is not None,
                                                  batch_first=m.batch_first,
                                                  dtype=_torch_dtype(torch, m))),
    (nn.TransformerEncoderLayer, "TransformerEncoderLayer",
     lambda t: nn.TransformerEncoderLayer(**_encoder_layer_args(
         t, _activation_name(t.activation)), dtype=_np_dtype(t)),
     lambda torch, m: torch.nn.TransformerEncoderLayer(**_encoder_layer_args(
         m, _activation_name(m.activation)), dtype=_torch_dtype(torch, m))),
    (nn.TransformerEncoder, "TransformerEncoder", _encoder_from_torch, _encoder_to_torch),
]
_SUPPORTED = ", ".join(["Sequential", "ModuleList"] + [r[1] for r in _ROWS])


def _unsupported(m: Any, direction: str) -> TypeError:
    return TypeError(
        f"{direction}: no {type(m).__name__} counterpart (supported: {_SUPPORTED}). For your own "
        "Module subclass, write the same class on the other side and copy the weights with "
        "state_dict_to_torch / state_dict_from_torch."
    )


def _convert_to_torch(torch: Any, m: nn.Module) -> Any:
    if isinstance(m, (nn.Sequential, nn.ModuleList)):
        children = OrderedDict((name, _convert_to_torch(torch, c))
                               for name, c in m.named_children())
        if isinstance(m, nn.Sequential):
            return torch.nn.Sequential(children)
        return torch.nn.ModuleList(children.values())
    for ours, _, _, make_torch in _ROWS:
        if type(m) is ours:
            return make_torch(torch, m)
    raise _unsupported(m, "to_torch")


def _convert_from_torch(torch: Any, t: Any) -> nn.Module:
    if isinstance(t, (torch.nn.Sequential, torch.nn.ModuleList)):
        children = OrderedDict((name, _convert_from_torch(torch, c))
                               for name, c in t.named_children())
        if isinstance(t, torch.nn.Sequential):
            return nn.Sequential(children)
        return nn.ModuleList(children.values())
    for _, name, make_ours, _ in _ROWS:
        if type(t) is getattr(torch.nn, name):
            return make_ours(t)
    raise _unsupported(t, "from_torch")


def state_dict_to_torch(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Our state dict as torch tensors (copies), ready for `torch_model.load_state_dict`."""
    torch = _torch()
    out = {}
    for k, v in state_dict.items():
        arr = v._data if isinstance(v, Tensor) else np.asarray(v)
        out[k] = torch.from_numpy(np.array(arr, copy=True))
    return out


def state_dict_from_torch(state_dict: dict[str, Any]) -> dict[str, np.ndarray]:
    """A torch state dict as numpy arrays (copies), ready for our `load_state_dict`."""
    return {k: v.detach().cpu().numpy().copy() for k, v in state_dict.items()}


def to_torch(module: nn.Module) -> Any:
    """A torch.nn module with the same layers, weights, buffers and train/eval mode."""
    torch = _torch()
    out = _convert_to_torch(torch, module)
    out.load_state_dict(state_dict_to_torch(module.state_dict()))
    for (_, ours), (_, theirs) in zip(module.named_modules(), out.named_modules()):
        theirs.training = ours.training
    return out


def from_torch(module: Any) -> nn.Module:
    """One of our modules with the same layers, weights, buffers and train/eval mode."""
    torch = _torch()
    out = _convert_from_torch(torch, module)
    out.load_state_dict(state_dict_from_torch(module.state_dict()))
    for (_, ours), (_, theirs) in zip(out.named_modules(), module.named_modules()):
        ours.training = theirs.training
    return out
