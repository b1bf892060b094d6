"""Move models to and from PyTorch: the road for users who outgrow this library.

    from tinygrad_edu.interop import to_torch, from_torch
    torch_model = to_torch(model)         # same architecture, same weights, same outputs
    model = from_torch(torch_model)

Works for Sequential-style models made of the layers both libraries share (Linear,
activations, Dropout, Flatten, Identity, BatchNorm1d, Embedding, Sequential, ModuleList), the
convolutional ones (Conv1d/2d, ConvTranspose1d/2d, MaxPool1d/2d, AvgPool1d/2d,
AdaptiveAvgPool1d/2d, BatchNorm2d, Dropout2d, Unflatten, Upsample) and the sequence layers
(LayerNorm, RMSNorm, GroupNorm, RNN, LSTM, GRU and their cells, MultiheadAttention,
TransformerEncoderLayer and TransformerEncoder), nested as deep as you like.
Whatever the model shares stays shared in the copy: a ReLU used twice, a Linear applied twice, a
weight tied between two layers (one Parameter, whose gradient collects both uses); frozen
parameters stay frozen and each module keeps its train/eval mode. For
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
from .autograd.mode import no_grad
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
    # convolutional networks
    *[(ours, ours.__name__,
       lambda t, ours=ours: ours(t.in_channels, t.out_channels, t.kernel_size, t.stride,
                                 t.padding, t.dilation, t.groups, t.bias is not None,
                                 t.padding_mode, dtype=_np_dtype(t)),
       lambda torch, m: getattr(torch.nn, type(m).__name__)(
           m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
           m.groups, m.bias is not None, m.padding_mode, dtype=_torch_dtype(torch, m)))
      for ours in (nn.Conv1d, nn.Conv2d)],
    *[(ours, ours.__name__,
       lambda t, ours=ours: ours(t.in_channels, t.out_channels, t.kernel_size, t.stride,
                                 t.padding, t.output_padding, t.groups, t.bias is not None,
                                 t.dilation, dtype=_np_dtype(t)),
       lambda torch, m: getattr(torch.nn, type(m).__name__)(
           m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
           m.output_padding, m.groups, m.bias is not None, m.dilation,
           dtype=_torch_dtype(torch, m)))
      for ours in (nn.ConvTranspose1d, nn.ConvTranspose2d)],
    *[(ours, ours.__name__,
       lambda t, ours=ours: ours(t.kernel_size, t.stride, t.padding, t.dilation,
                                 t.return_indices, t.ceil_mode),
       lambda torch, m: getattr(torch.nn, type(m).__name__)(
           m.kernel_size, m.stride, m.padding, m.dilation, m.return_indices, m.ceil_mode))
      for ours in (nn.MaxPool1d, nn.MaxPool2d)],
    (nn.AvgPool1d, "AvgPool1d",
     lambda t: nn.AvgPool1d(t.kernel_size, t.stride, t.padding, t.ceil_mode,
                            t.count_include_pad),
     lambda torch, m: torch.nn.AvgPool1d(m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                         m.count_include_pad)),
    (nn.AvgPool2d, "AvgPool2d",
     lambda t: nn.AvgPool2d(t.kernel_size, t.stride, t.padding, t.ceil_mode,
                            t.count_include_pad, t.divisor_override),
     lambda torch, m: torch.nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                         m.count_include_pad, m.divisor_override)),
    *[(ours, ours.__name__, lambda t, ours=ours: ours(t.output_size),
       lambda torch, m: getattr(torch.nn, type(m).__name__)(m.output_size))
      for ours in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)],
    *[(ours, ours.__name__,
       lambda t, ours=ours: ours(t.num_features, t.eps, t.momentum, t.affine,
                                 t.track_running_stats, dtype=_np_dtype(t),
                                 bias=t.bias is not None or not t.affine),
       lambda torch, m: getattr(torch.nn, type(m).__name__)(
           m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats,
           dtype=_torch_dtype(torch, m), bias=m.bias is not None or not m.affine))
      for ours in (nn.BatchNorm1d, nn.BatchNorm2d)],
    (nn.Dropout2d, "Dropout2d", lambda t: nn.Dropout2d(t.p),
     lambda torch, m: torch.nn.Dropout2d(m.p)),
    (nn.Unflatten, "Unflatten", lambda t: nn.Unflatten(t.dim, tuple(t.unflattened_size)),
     lambda torch, m: torch.nn.Unflatten(m.dim, m.unflattened_size)),
    (nn.Upsample, "Upsample",
     lambda t: nn.Upsample(t.size, t.scale_factor, t.mode, t.align_corners,
                           t.recompute_scale_factor),
     lambda torch, m: torch.nn.Upsample(m.size, m.scale_factor, m.mode, m.align_corners,
                                        m.recompute_scale_factor)),
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
    norm = None if t.norm is None else _layer_from_torch(t.norm)
    return nn.TransformerEncoder(_layer_from_torch(t.layers[0]), t.num_layers, norm)


def _encoder_to_torch(torch: Any, m: Any) -> Any:
    norm = None if m.norm is None else _layer_to_torch(torch, m.norm)
    return torch.nn.TransformerEncoder(_layer_to_torch(torch, m.layers[0]), m.num_layers, norm,
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


def _layer_to_torch(torch: Any, m: nn.Module) -> Any:
    """A new torch layer of m's type and settings (its weights are copied afterwards)."""
    row = next((r for r in _ROWS if type(m) is r[0]), None)
    if row is None:
        raise _unsupported(m, "to_torch")
    return row[3](torch, m)


def _layer_from_torch(t: Any) -> nn.Module:
    """A new layer of our own for torch's layer t (its weights are copied afterwards)."""
    torch = _torch()
    row = next((r for r in _ROWS if type(t) is getattr(torch.nn, r[1])), None)
    if row is None:
        raise _unsupported(t, "from_torch")
    return row[2](t)


def _owner(m: Any, path: str) -> tuple[Any, str]:
    """The submodule holding the dotted name `path` (e.g. 'self_attn.out_proj.weight')."""
    *mods, leaf = path.split(".")
    for name in mods:
        m = getattr(m, name)
    return m, leaf


def _unsupported(m: Any, direction: str) -> TypeError:
    return TypeError(
        f"{direction}: no {type(m).__name__} counterpart (supported: {_SUPPORTED}). For your own "
        "Module subclass, write the same class on the other side and copy the weights with "
        "state_dict_to_torch / state_dict_from_torch."
    )


class _Copier:
    """One conversion: each module and each parameter or buffer is converted once and the
    copy reused wherever the original appears again, so a ReLU used twice in a Sequential, a
    Linear applied twice and a weight shared by two layers stay shared in the copy."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.modules: dict[int, Any] = {}
        self.tensors: dict[int, Any] = {}
        self.originals: list[Any] = []  # kept alive, so that their ids stay theirs

    def to_torch(self, m: nn.Module) -> Any:
        if id(m) in self.modules:
            return self.modules[id(m)]
        torch = self.torch
        if isinstance(m, (nn.Sequential, nn.ModuleList)):
            children = OrderedDict((name, self.to_torch(c)) for name, c in _held_modules(m))
            out = (torch.nn.Sequential(children) if isinstance(m, nn.Sequential)
                   else torch.nn.ModuleList(children.values()))
        else:
            out = _layer_to_torch(torch, m)
            for name, ours in [*m.named_parameters(), *m.named_buffers()]:
                owner, leaf = _owner(out, name)  # a layer may hold layers (attention, encoder)
                setattr(owner, leaf, self.tensor_to_torch(ours, getattr(owner, leaf)))
        out.training = m.training
        self.remember(m, out)
        return out

    def from_torch(self, t: Any) -> nn.Module:
        if id(t) in self.modules:
            return self.modules[id(t)]
        torch = self.torch
        if isinstance(t, (torch.nn.Sequential, torch.nn.ModuleList)):
            children = OrderedDict((name, self.from_torch(c)) for name, c in t._modules.items())
            out = (nn.Sequential(children) if isinstance(t, torch.nn.Sequential)
                   else nn.ModuleList(children.values()))
        else:
            out = _layer_from_torch(t)
            for name, theirs in [*t.named_parameters(), *t.named_buffers()]:
                owner, leaf = _owner(out, name)
                setattr(owner, leaf, self.tensor_from_torch(theirs, getattr(owner, leaf)))
        out.training = t.training
        self.remember(t, out)
        return out

    def remember(self, original: Any, copy: Any) -> None:
        self.modules[id(original)] = copy
        self.originals.append(original)

    def tensor_to_torch(self, ours: Tensor, fresh: Any) -> Any:
        """The torch copy of one of our parameters or buffers (`fresh`: the new layer's)."""
        if id(ours) not in self.tensors:
            with self.torch.no_grad():
                fresh.copy_(self.torch.from_numpy(np.array(ours._data, copy=True)))
            if isinstance(fresh, self.torch.nn.Parameter):
                fresh.requires_grad_(ours.requires_grad)
            self.tensors[id(ours)] = fresh
            self.originals.append(ours)
        return self.tensors[id(ours)]

    def tensor_from_torch(self, theirs: Any, fresh: Tensor) -> Tensor:
        """Our copy of one of torch's parameters or buffers (`fresh`: the new layer's)."""
        if id(theirs) not in self.tensors:
            with no_grad():
                fresh.copy_(theirs.detach().cpu().numpy().astype(fresh.dtype, copy=True))
            if isinstance(fresh, nn.Parameter):
                fresh.requires_grad = theirs.requires_grad
            self.tensors[id(theirs)] = fresh
            self.originals.append(theirs)
        return self.tensors[id(theirs)]


def _held_modules(m: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every module a container holds, in order, repeats included (named_children, as
    PyTorch's, lists a module held twice once: it is for visiting, not for copying)."""
    return [(name, v) for name, v in m._members() if isinstance(v, nn.Module)]


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
    """A torch.nn module with the same layers, weights, buffers and train/eval mode; what is
    shared (a module used twice, a tied weight) is shared in the copy too."""
    return _Copier(_torch()).to_torch(module)


def from_torch(module: Any) -> nn.Module:
    """One of our modules with the same layers, weights, buffers and train/eval mode; what is
    shared (a module used twice, a tied weight) is shared in the copy too."""
    return _Copier(_torch()).from_torch(module)
