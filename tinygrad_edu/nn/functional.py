"""`nn.functional` (import it as `F`): activations, dropout, linear, one_hot, embedding, the
losses, normalization (batch, layer, group, RMS), attention, and convolution, pooling and
resampling (defined in tensor/window.py).

    import tinygrad_edu.nn.functional as F
    loss = F.cross_entropy(model(x), y)

Everything here is built from Tensor ops, so autograd needs no new rules; the one exception is
`binary_cross_entropy`, whose PyTorch gradient (with its clamp against division by zero) is
not the derivative of any composition of ops, and gets a row of its own below.
The activations also take a `Value`, or a list of Values, and apply themselves elementwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.mode import no_grad
from ..random import uniform_at_least
from ..tensor import Tensor, apply, from_numpy
from ..tensor.fused import batch_stats
from ..tensor.ops import OPS, make_op
from ..tensor.tensor import tensor as _tensor
from ..tensor.window import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    interpolate,
    max_pool1d,
    max_pool2d,
    max_unpool2d,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
)
from ..value import Value
from .normalization import group_norm, layer_norm, rms_norm

__all__ = [
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "gelu",
    "softmax",
    "log_softmax",
    "dropout",
    "dropout2d",
    "linear",
    "one_hot",
    "embedding",
    "layer_norm",
    "group_norm",
    "rms_norm",
    "scaled_dot_product_attention",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "nll_loss",
    "cross_entropy",
    # convolution, pooling, resampling (tensor/window.py), and batch_norm
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold", "pad",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "max_unpool2d", "interpolate",
    "pixel_shuffle", "pixel_unshuffle", "batch_norm",
    "silu", "elu", "celu", "selu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "mish",
    "logsigmoid", "softsign", "softplus", "softmin", "glu", "normalize", "cosine_similarity",
    "pairwise_distance", "smooth_l1_loss", "kl_div", "gaussian_nll_loss", "margin_ranking_loss",
    "cosine_embedding_loss",
]


# ---- activations (Tensors, Values, lists of Values) ---------------------------------------------


def _elementwise(x: Any, on_value: Callable[[Value], Value], on_tensor: Callable[[Tensor], Any],
                 name: str) -> Any:
    if isinstance(x, Tensor):
        return on_tensor(x)
    if isinstance(x, Value):
        return on_value(x)
    if isinstance(x, (list, tuple)) and all(isinstance(v, Value) for v in x):
        return [on_value(v) for v in x]
    raise TypeError(f"{name}: expected a Tensor, a Value or a list of Values, "
                    f"got {type(x).__name__}")


def relu(input: Any, inplace: bool = False) -> Any:
    """max(x, 0) elementwise."""
    return _elementwise(input, Value.relu, Tensor.relu, "relu")


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    """x for x > 0, negative_slope * x otherwise."""
    return _elementwise(input, lambda v: v.leaky_relu(negative_slope),
                        lambda t: t.leaky_relu(negative_slope), "leaky_relu")


def sigmoid(input: Any) -> Any:
    """1 / (1 + exp(-x)), computed without overflow."""
    return _elementwise(input, Value.sigmoid, Tensor.sigmoid, "sigmoid")


def tanh(input: Any) -> Any:
    return _elementwise(input, Value.tanh, Tensor.tanh, "tanh")


def gelu(input: Any, approximate: str = "none") -> Any:
    """x * Phi(x), Phi the standard normal CDF (approximate='tanh': the tanh formula)."""
    if approximate != "none" and not isinstance(input, Tensor):
        raise ValueError(f"gelu: approximate={approximate!r} is offered for Tensors only")
    return _elementwise(input, Value.gelu, lambda t: t.gelu(approximate), "gelu")


def _value_softmax(xs: list[Value], log: bool) -> list[Value]:
    shift = max(v.data for v in xs)  # a constant: softmax does not change, exp cannot overflow
    exps = [(v - shift).exp() for v in xs]
    total = sum(exps[1:], exps[0])
    if log:
        log_total = total.log()
        return [v - shift - log_total for v in xs]
    return [e / total for e in exps]


def softmax(input: Any, dim: int | None = None) -> Any:
    """exp(x) / sum(exp(x)) along `dim` (stable). A list of Values is one distribution."""
    if isinstance(input, Tensor):
        return input.softmax(dim=_dim(dim, input, "softmax"))
    return _value_softmax(_values(input, "softmax"), log=False)


def log_softmax(input: Any, dim: int | None = None) -> Any:
    """x - logsumexp(x) along `dim` (stable: logits of 1e4 give no inf or nan)."""
    if isinstance(input, Tensor):
        return input.log_softmax(dim=_dim(dim, input, "log_softmax"))
    return _value_softmax(_values(input, "log_softmax"), log=True)


def _dim(dim: int | None, x: Tensor, name: str) -> int:
    if dim is None:  # PyTorch's legacy default, without its warning
        return 0 if x.ndim in (0, 1, 3) else 1
    return dim


def _values(xs: Any, name: str) -> list[Value]:
    if isinstance(xs, (list, tuple)) and xs and all(isinstance(v, Value) for v in xs):
        return list(xs)
    raise TypeError(f"{name}: expected a Tensor or a non-empty list of Values, "
                    f"got {type(xs).__name__}")


# ---- dropout, linear, one_hot -------------------------------------------------------------------


def _check_p(p: float, name: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"{name}: dropout probability must be in [0, 1), got {p!r}"
                         + (" (p=1 would zero everything)" if p == 1 else ""))
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) ("inverted"
    dropout: the expected value is unchanged, so evaluation needs no rescaling).
    Identity when not training or p == 0."""
    p = _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    arr = input._data
    keep = uniform_at_least(arr.shape, p)
    mask = keep.astype(arr.dtype if arr.dtype.kind == "f" else np.float32)
    mask *= 1.0 / (1.0 - p)
    return input * _const(mask)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels (dim 1 of (N, C, H, W)) with probability p, scale the rest by
    1/(1-p): neighbouring pixels are correlated, so dropping single ones would barely help."""
    p = _check_p(p, "dropout2d")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D or 4-D input, got shape {input.shape}")
    if not training or p == 0.0:
        return input
    shape = input.shape[:-2] + (1, 1) if input.ndim == 4 else input.shape[:-1] + (1,)
    keep = uniform_at_least(shape, p)
    mask = keep.astype(input.dtype) * (1.0 / (1.0 - p))
    return input * _const(mask.astype(input.dtype))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1), as torch's batch_norm.

    training: the batch's mean and biased variance, and the running estimates (if given) move
    toward them by `momentum` (the variance's unbiased estimate, as PyTorch), in place.
    Otherwise: the running estimates.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {input.shape}")
    c = input.shape[1]
    axes = (0, *range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    x = input._data
    if training:
        n = input.numel() // c if c else 0
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {input.shape}")
        mean, inv_std, var = batch_stats(x, axes, eps)
        if running_mean is not None and running_var is not None:
            with no_grad():
                m = momentum
                unbiased = var.reshape(-1) * (n / (n - 1))
                rm, rv = running_mean._data, running_var._data
                running_mean.copy_(from_numpy(((1 - m) * rm + m * mean.reshape(-1))
                                              .astype(rm.dtype)))
                running_var.copy_(from_numpy(((1 - m) * rv + m * unbiased).astype(rv.dtype)))
        op = OPS.batch_norm
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not "
                             "training")
        for name, t in (("running_mean", running_mean), ("running_var", running_var)):
            if t.shape != (c,):
                raise ValueError(f"batch_norm: {name} must have shape ({c},) for an input of "
                                 f"shape {input.shape}, got {t.shape}")
        rv = running_var._data
        mean = running_mean._data.reshape(shape).copy()  # as they are now: constants
        inv_std = (1 / np.sqrt(rv + np.asarray(eps, rv.dtype))).reshape(shape)
        op = OPS.batch_norm_eval
    dtype = np.result_type(x.dtype, mean.dtype)
    w = _per_channel(weight, 1, shape, dtype, "weight")
    b = _per_channel(bias, 0, shape, dtype, "bias")
    return apply(op, (input, w, b), (axes, eps, mean, inv_std))


def _per_channel(v: Tensor | None, fill: float, shape: tuple[int, ...], dtype: Any,
                 name: str) -> Tensor:
    """batch_norm's weight or bias as (1, C, 1, ...), or a constant `fill` when it is None."""
    if v is None:
        return from_numpy(np.full(shape, fill, dtype=dtype))
    if v.shape != (shape[1],):
        raise ValueError(f"batch_norm: {name} must have shape ({shape[1]},), got {v.shape}")
    return v.reshape(shape)


_const = from_numpy  # an ndarray as a constant Tensor, without a copy


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, with weight of shape (out_features, in_features)."""
    if input.shape[-1:] != weight.shape[1:]:
        raise ValueError(f"linear: input has {input.shape[-1] if input.ndim else 0} features "
                         f"(shape {input.shape}) but the weight expects {weight.shape[1]} "
                         f"(weight shape {weight.shape}, i.e. (out_features, in_features))")
    if bias is not None and input._data.dtype == weight._data.dtype == bias._data.dtype and \
            input._data.dtype.kind == "f" and bias.shape == weight.shape[:1] and input.ndim >= 2:
        return apply(OPS.linear, (input, weight, bias))  # one node, the bias added in place
    out = input.matmul(weight.mT)
    return out if bias is None else out + bias


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices -> an int64 tensor with a trailing dim of 0s and a 1 per index."""
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: class indices must be an integer tensor, got {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got "
                         f"{int(idx.min())}..{int(idx.max())}")
    out = np.zeros((*idx.shape, num_classes), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return _const(out)


# ---- sequence-model ops: embedding, attention ------------------------------------------------


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) picked by the integer `input`, as torch's.

    padding_idx: the entries that pick that row pass no gradient to it. max_norm: every row
    that is looked up and whose norm_type-norm exceeds max_norm is first scaled down to it,
    in place in `weight` (as PyTorch does).
    """
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
                         f"got shape {weight.shape}")
    n = weight.shape[0]
    idx = _embedding_indices(input, n, "embedding")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not "
                                  "supported; gradients are dense and unscaled")
    if max_norm is not None:
        _renorm_rows(weight, np.unique(idx), max_norm, norm_type)
    out = weight[idx]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {n} "
                             "embeddings")
        pad = idx == padding_idx % n
        if pad.any():  # the same values, but the padding entries come from a detached copy
            out = out.where(~pad[..., None], weight.detach()[idx])
    return out


def _embedding_indices(input: Any, n: int, name: str) -> np.ndarray:
    """The lookup indices as an array, checked: integers in [0, n)."""
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be an integer tensor, got {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise IndexError(f"{name}: index {bad} is out of range for {n} embeddings "
                         f"(valid: 0..{n - 1})")
    return idx


def _renorm_rows(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    w = weight._data[rows]
    norms = np.linalg.norm(w, ord=norm_type, axis=1, keepdims=True)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    with no_grad():
        weight[rows] = _const(w * scale)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) V over (..., L, E) queries and (..., S, E) keys.

    attn_mask: boolean (True = may attend) or additive (added to the scores), broadcasting to
    (..., L, S); is_causal: query i sees keys 0..i. A query that may attend to nothing gets
    zero weights (and output 0), as PyTorch 2.13. scale defaults to 1/sqrt(E).
    """
    name = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"{name}: query, key and value need shape (..., seq, features), got "
                         f"{query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{name}: query {query.shape} and key {key.shape} must share the last "
                         f"dim, key and value {value.shape} the sequence dim")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{name}: give attn_mask or is_causal=True, not both")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    attn = _attention_weights(query, key, attn_mask, is_causal, scale)
    if dropout_p:
        attn = dropout(attn, dropout_p)
    return attn.matmul(value)


def _attention_weights(query: Tensor, key: Tensor, attn_mask: Any = None, is_causal: bool = False,
                      scale: float | None = None) -> Tensor:
    """softmax(Q K^T * scale + mask) over the keys: the (..., L, S) weights of
    `scaled_dot_product_attention` (same masks), which MultiheadAttention also returns.
    One row of the op table (`attention`); a mask that is itself learned (a Tensor that
    requires grad) takes the composed ops instead, so that it gets its gradient."""
    L, S = query.shape[-2], key.shape[-2]
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    for name, t in (("query", query), ("key", key)):
        if t.dtype.kind != "f":
            raise TypeError(f"scaled_dot_product_attention: {name} must be floating point, got "
                            f"{t.dtype}; convert it with .float()")
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    if isinstance(attn_mask, Tensor) and attn_mask.requires_grad:
        return _learned_mask_weights(query.matmul(key.mT) * s + attn_mask)
    m = None if attn_mask is None else np.asarray(getattr(attn_mask, "_data", attn_mask))
    if m is not None and m.dtype.kind not in "bf":
        raise TypeError(f"scaled_dot_product_attention: attn_mask must be boolean (True: may "
                        f"attend) or floating (added to the scores), got {m.dtype}")
    scores_shape = (*np.broadcast_shapes(query.shape[:-2], key.shape[:-2]), L, S)
    if m is not None and _broadcast_or_none(scores_shape, m.shape) != scores_shape:
        raise ValueError(f"scaled_dot_product_attention: attn_mask of shape {m.shape} must "
                         f"broadcast to the scores' shape {scores_shape} (query {query.shape}, "
                         f"key {key.shape})")
    return apply(OPS.attention, (query, key), (m, s))


def _broadcast_or_none(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def _learned_mask_weights(scores: Tensor) -> Tensor:
    """softmax over the keys of scores that a learned additive mask is in; a row that may
    attend to nothing gets zero weights, as the attention row gives."""
    blocked = np.max(scores._data, axis=-1, keepdims=True) == -math.inf
    if not blocked.any():
        return scores.softmax(-1)
    return scores.where(~blocked, 0.0).softmax(-1).where(~blocked, 0.0)


def _repeat_heads(x: Tensor, heads: int) -> Tensor:
    """(..., h, S, E) -> (..., heads, S, E), each of the h heads repeated heads/h times."""
    h = x.shape[-3]
    if heads % h:
        raise ValueError(f"scaled_dot_product_attention: {heads} query heads cannot share "
                         f"{h} key/value heads (enable_gqa needs a multiple)")
    lead, (S, E) = x.shape[:-3], x.shape[-2:]
    wide = x.unsqueeze(-3).expand(*lead, h, heads // h, S, E)
    return wide.reshape(*lead, heads, S, E)


# ---- losses -------------------------------------------------------------------------------------


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(input: Tensor, target: Any, name: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(target, Tensor):
        target = _tensor(target, dtype=input.dtype)
    if target.shape != input.shape:
        raise ValueError(f"{name}: target shape {target.shape} differs from input shape "
                         f"{input.shape}; they must match (reshape the target, e.g. "
                         "y.reshape(-1, 1) for a (N, 1) output)")
    if target.dtype.kind not in "fb" and input.dtype.kind == "f":
        target = target.to(input.dtype)
    return target


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: (input - target)^2, averaged (or summed, or per element)."""
    target = _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error |input - target|."""
    target = _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def huber_loss(input: Tensor, target: Any, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): quadratic near 0, linear far."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _same_shape(input, target, "huber_loss")
    d = (input - target).abs()
    small = d._data < delta
    loss = (0.5 * d * d).where(small, delta * (d - 0.5 * delta))
    return _reduce(loss, reduction, "huber_loss")


def _bce_forward(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100.0)  # PyTorch clamps the logs at -100
        log_1mx = np.maximum(np.log1p(-x), -100.0)
    return -(t * log_x + (1 - t) * log_1mx)


_BCE_EPS = float(np.float32(1e-12))  # PyTorch's constant is a float32 1e-12


def _bce_grad(g, out, x, t):
    """PyTorch's gradient: (x - t) / max(x (1 - x), 1e-12), finite even where x is 0 or 1."""
    denom = x * (1 - x)
    if isinstance(denom, Tensor):
        denom = denom.clamp(min=_BCE_EPS)
    else:
        denom = np.maximum(denom, _BCE_EPS)
    return g * (x - t) / denom


def _bce_target_grad(g, out, x, t):
    """d/dt = log(1 - x) - log(x), with the same clamp at -100 as the forward."""
    if isinstance(x, Tensor):
        return g * ((1 - x).log().clamp(min=-100.0) - x.log().clamp(min=-100.0))
    with np.errstate(divide="ignore"):
        return g * (np.maximum(np.log1p(-x), -100.0) - np.maximum(np.log(x), -100.0))


BINARY_CROSS_ENTROPY = make_op("binary_cross_entropy", _bce_forward, _bce_grad, _bce_target_grad)


def binary_cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """-(t log(p) + (1 - t) log(1 - p)) for probabilities p, each log clamped at -100 as in
    PyTorch. Prefer `binary_cross_entropy_with_logits` on raw scores: it is stable."""
    target = _same_shape(input, target, "binary_cross_entropy")
    x = input._data
    if x.size and not (x.min() >= 0 and x.max() <= 1):  # also catches nan
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1], got "
                         f"values from {x.min():.4g} to {x.max():.4g}; apply sigmoid first, or "
                         "use binary_cross_entropy_with_logits on the raw scores")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    loss = apply(BINARY_CROSS_ENTROPY, (input, target))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Tensor | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable formula on logits x:
    softplus(x) - t x, i.e. log(1 + e^x) - t x, exact for any x (no exp overflow)."""
    target = _same_shape(input, target, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = input.softplus() - target * input
    else:  # (1 - t) x + (1 + (pw - 1) t) softplus(-x), with softplus(-x) = softplus(x) - x
        log_weight = 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + log_weight * (input.softplus() - input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _class_targets(input: Tensor, target: Any, name: str, ignore_index: int) -> np.ndarray:
    """Check class-index targets: integer dtype, shape = input without its class dim, and
    every index in [0, C) (or the ignore_index)."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: class-index targets must be an integer tensor (int64), got "
                        f"{t.dtype}; for class probabilities pass a float target of the "
                        "input's shape")
    want = input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()
    if t.shape != want:
        raise ValueError(f"{name}: input of shape {input.shape} (classes in dim "
                         f"{1 if input.ndim >= 2 else 0}) needs a target of shape {want}, "
                         f"got {t.shape}")
    n_classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if t.size and (t.min() < 0 or t.max() >= n_classes):  # rare: look closer
        valid = t[t != ignore_index] if ignore_index is not None else t
        if valid.size and (valid.min() < 0 or valid.max() >= n_classes):
            bad = int(valid.max()) if valid.max() >= n_classes else int(valid.min())
            raise IndexError(f"{name}: target {bad} is out of bounds for {n_classes} classes "
                             f"(valid: 0..{n_classes - 1})")
    return t


def _as_rows(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N*d1*..., C) and (C,) -> (1, C): classes in the last dim of rows."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x.reshape(1, -1)
    dims = (0, *range(2, x.ndim), 1)
    return x.permute(*dims).reshape(-1, x.shape[1])


def _nll_rows(logp: Tensor, t: np.ndarray, weight: Tensor | None, ignore_index: int,
              reduction: str, name: str) -> Tensor:
    """-w[t] logp[i, t_i] per row, reduced as PyTorch does (mean divides by the sum of the
    weights of the rows that are not ignored)."""
    rows = np.arange(t.shape[0])
    keep = t != ignore_index
    everything = bool(keep.all())
    safe_t = t if everything else np.where(keep, t, 0)
    picked = logp[rows, safe_t]
    w = None
    if weight is not None:
        w = weight._data[safe_t] if everything else weight._data[safe_t] * keep
    elif not everything:
        w = keep.astype(logp.dtype)
    if w is not None:
        picked = picked * _const(w.astype(logp.dtype))
    if reduction == "none":
        return -picked
    if reduction == "sum":
        return -picked.sum()
    if reduction == "mean":  # one multiply instead of a negation and a division
        count = t.shape[0] if w is None else float(w.sum())
        return _per_row(picked.sum(), count, -1.0)  # one multiply: no negation, no division
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _per_row(total: Tensor, count: float, sign: float = 1.0) -> Tensor:
    """sign * total / count; with no row counted (all ignored) nan with a zero gradient, as
    PyTorch, not 0/0 in backward too, which would turn every weight into nan."""
    if not count:
        return total * 0.0 + float("nan")
    return total * (sign / count)


def nll_loss(input: Tensor, target: Any, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of the target class, from log-probabilities (N, C)."""
    t = _class_targets(input, target, "nll_loss", ignore_index)
    loss = _nll_rows(_as_rows(input), t.reshape(-1), weight, ignore_index, reduction, "nll_loss")
    return loss.reshape(t.shape) if reduction == "none" else loss


def cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax + nll_loss on raw scores (N, C). The target is class indices (int, shape
    (N,)) or class probabilities (float, shape (N, C)). label_smoothing mixes the target
    with the uniform distribution; ignore_index rows count for nothing."""
    name = "cross_entropy"
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor of scores, got {type(input).__name__}")
    if input.ndim == 0:
        raise ValueError(f"{name}: input needs a class dim, got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    t_arr = target._data if isinstance(target, Tensor) else np.asarray(target)
    logp = _as_rows(input).log_softmax(dim=1)
    n_classes = logp.shape[1]
    if t_arr.dtype.kind == "f":  # class probabilities
        if t_arr.shape != input.shape:
            raise ValueError(f"{name}: probability targets must have the input's shape "
                             f"{input.shape}, got {t_arr.shape}")
        probs = _as_rows(target if isinstance(target, Tensor) else _const(t_arr))
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / n_classes
        if probs.dtype != logp.dtype:
            probs = probs.to(logp.dtype)
        terms = logp * probs
        if weight is not None:
            terms = terms * weight
        loss = -terms.sum(dim=1)
        if reduction == "none":
            return loss.reshape(input.shape[:1] + input.shape[2:] if input.ndim > 1 else ())
        return loss.sum() if reduction == "sum" else loss.mean()
    t = _class_targets(input, target, name, ignore_index)
    flat = t.reshape(-1)
    loss = _nll_rows(logp, flat, weight, ignore_index, reduction, name)
    if label_smoothing:
        smooth = -(logp * weight).sum(dim=1) if weight is not None else -logp.sum(dim=1)
        keep = flat != ignore_index
        if not keep.all():
            smooth = smooth * _const(keep.astype(logp.dtype))
        if reduction == "sum":
            smooth = smooth.sum()
        elif reduction == "mean":
            denom = float(weight._data[flat[keep]].sum()) if weight is not None else \
                float(keep.sum())
            smooth = _per_row(smooth.sum(), denom)
        loss = (1 - label_smoothing) * loss + smooth * (label_smoothing / n_classes)
    if reduction == "none":
        return loss.reshape(t.shape)
    return loss



# ---- more activations (Tensors): compositions of Tensor ops -------------------------------------


def _tensor_in(x: Any, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    return x


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    x = _tensor_in(input, "silu")
    return x * x.sigmoid()


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    x = _tensor_in(input, "elu")
    return x.where(x > 0, alpha * x.expm1())


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    x = _tensor_in(input, "celu")
    return x.where(x > 0, alpha * (x / alpha).expm1())


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return _SELU_SCALE * elu(input, _SELU_ALPHA)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    return _tensor_in(input, "hardtanh").clamp(min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """A piecewise-linear sigmoid: 0 below -3, 1 above 3, x/6 + 1/2 between."""
    x = _tensor_in(input, "hardsigmoid")
    return (x / 6 + 0.5).clamp(0.0, 1.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * hardsigmoid(x)."""
    return input * hardsigmoid(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    x = _tensor_in(input, "mish")
    return x * x.softplus().tanh()


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -(-_tensor_in(input, "logsigmoid")).softplus()


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    x = _tensor_in(input, "softsign")
    return x / (1 + x.abs())


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta; linear where beta x > threshold, as PyTorch."""
    x = _tensor_in(input, "softplus")
    soft = (x * beta).softplus() / beta if beta != 1 else x.softplus()
    return soft.where(~(x * beta > threshold), x)


def softmin(input: Tensor, dim: int | None = None) -> Tensor:
    """softmax(-x): weights that favour the smallest entries."""
    return softmax(-_tensor_in(input, "softmin"), dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: the first half of dim times sigmoid of the second."""
    x = _tensor_in(input, "glu")
    n = x.shape[dim] if x.ndim else 0
    if n % 2:
        raise ValueError(f"glu: dim {dim} has odd size {n} (shape {x.shape}); it must split "
                         "in two halves")
    a, b = x.chunk(2, dim)
    return a * b.sigmoid()


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along `dim`: unit vectors (zero vectors stay zero)."""
    x = _tensor_in(input, "normalize")
    return x / x.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1, x2> / max(||x1|| ||x2||, eps) along `dim` (inputs broadcast)."""
    a, b = _tensor_in(x1, "cosine_similarity"), _tensor_in(x2, "cosine_similarity")
    dot = (a * b).sum(dim)
    n = (a.norm(dim=dim) * b.norm(dim=dim)).clamp(min=eps)
    return dot / n


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim, as PyTorch (eps keeps the gradient finite)."""
    a, b = _tensor_in(x1, "pairwise_distance"), _tensor_in(x2, "pairwise_distance")
    d = a - b + eps
    return d.norm(p, -1, keepdim=keepdim)


# ---- more losses ------------------------------------------------------------------------------


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (Huber's loss divided by beta)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    target = _same_shape(input, target, "smooth_l1_loss")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction, "smooth_l1_loss")
    loss = (0.5 * d * d / beta).where(d._data < beta, d - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def kl_div(input: Tensor, target: Any, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: target (log target - input), input being
    log-probabilities; reduction 'batchmean' divides the sum by the batch size (the true KL)."""
    target = _same_shape(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        t = target._data
        # t log t, with 0 log 0 = 0 (as PyTorch's xlogy); log never sees the 0
        loss = (target * target.where(t > 0, 1).log()).where(t > 0, 0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


def gaussian_nll_loss(input: Tensor, target: Any, var: Any, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 (log max(var, eps) + (input - target)^2 / max(var, eps)) (+ 0.5 log 2pi if full):
    the negative log-likelihood of target under N(input, var)."""
    target = _same_shape(input, target, "gaussian_nll_loss")
    v = var if isinstance(var, Tensor) else _tensor(var, dtype=input.dtype)
    if v.ndim < input.ndim and v.shape == input.shape[:v.ndim]:
        v = v.reshape(*v.shape, *([1] * (input.ndim - v.ndim)))
    elif v.shape != input.shape and v.shape[:-1] == input.shape[:-1] and v.shape[-1:] == (1,):
        pass  # one variance per sample, broadcast over the last dim
    elif v.shape != input.shape:
        raise ValueError(f"gaussian_nll_loss: var of shape {v.shape} does not fit input of "
                         f"shape {input.shape}")
    if (v._data < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entries")
    with_eps = v.clamp(min=eps)
    # the clamp only guards the value: its gradient passes to var as PyTorch's (no_grad clamp)
    v = v + (with_eps - v).detach()
    loss = 0.5 * (v.log() + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target (input1 - input2) + margin): input1 should rank above input2 where
    target is 1, below where it is -1."""
    y = target if isinstance(target, Tensor) else _tensor(target, dtype=input1.dtype)
    loss = (-y * (input1 - input2) + margin).relu()
    return _reduce(loss, reduction, "margin_ranking_loss")


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    if not np.isin(y, (-1, 1)).all():
        raise ValueError("cosine_embedding_loss: target must hold only 1 and -1")
    eps = 1e-12  # PyTorch's: guards the norms' product
    dot = (input1 * input2).sum(-1)
    n = ((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)
    cos = dot / n.sqrt()
    loss = (1 - cos).where(y == 1, (cos - margin).relu())
    return _reduce(loss, reduction, "cosine_embedding_loss")
