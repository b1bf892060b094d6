"""Multi-head attention as torch.nn.MultiheadAttention: the layer behind transformers.

    mha = nn.MultiheadAttention(embed_dim=64, num_heads=4, batch_first=True)
    out, weights = mha(x, x, x, attn_mask=causal)    # self-attention; weights (N, L, S)

Each head attends with its own slice of the projected queries, keys and values; the heads'
outputs are concatenated and projected back. Parameters are PyTorch's (`in_proj_weight`
(3E, E) holding W_q, W_k, W_v stacked, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`),
so state dicts move between the two. Masks follow PyTorch's MultiheadAttention convention:
a boolean True means "may NOT attend" (the opposite of scaled_dot_product_attention's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor, empty, from_numpy
from . import functional as F
from . import init
from .layers import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


def _additive(mask: Any, dtype: Any, what: str) -> Tensor | None:
    """A PyTorch MHA mask as an additive float mask: True (bool) -> -inf, floats as they are."""
    if mask is None:
        return None
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype.kind == "b":
        return from_numpy(np.where(m, -math.inf, 0.0).astype(dtype))
    if m.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: {what} must be boolean or floating, got {m.dtype}")
    return mask.to(dtype) if isinstance(mask, Tensor) else from_numpy(m.astype(dtype))


class MultiheadAttention(Module):
    """Attention with `num_heads` heads of embed_dim / num_heads features each.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None).
    Shapes (L, N, E), or (N, L, E) with batch_first, or unbatched (L, E). attn_mask is
    (L, S) or (N * num_heads, L, S); key_padding_mask (N, S), True at keys to ignore.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 dtype: Any = None) -> None:
        super().__init__()
        if add_bias_kv or add_zero_attn or kdim not in (None, embed_dim) or \
                vdim not in (None, embed_dim):
            raise NotImplementedError("MultiheadAttention: add_bias_kv, add_zero_attn and "
                                      "kdim/vdim other than embed_dim are not supported")
        if num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by "
                             f"num_heads {num_heads}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = F._check_p(dropout, "MultiheadAttention")
        self.batch_first = batch_first
        self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
        self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """As PyTorch: xavier_uniform in-projection, zero biases, the out_proj's Linear init."""
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Any = None, need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        E, H, d = self.embed_dim, self.num_heads, self.head_dim
        if query.ndim not in (2, 3) or query.shape[-1] != E:
            raise ValueError(f"MultiheadAttention: expected a query of shape (L, N, {E}), "
                             f"(N, L, {E}) with batch_first, or (L, {E}); got {query.shape}")
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is a hint that attn_mask is "
                             "the causal mask; pass that mask too")
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = np.asarray(getattr(key_padding_mask, "_data",
                                                      key_padding_mask))[None]
        seq = 1 if self.batch_first and not unbatched else 0  # the sequence dim
        L, N, S = query.shape[seq], query.shape[1 - seq], key.shape[seq]
        w, b = self.in_proj_weight, self.in_proj_bias
        if query is key and key is value:  # self-attention: one product for q, k and v
            q, k, v = F.linear(query, w, b).chunk(3, -1)
        else:
            ws, bs = w.chunk(3, 0), (b.chunk(3, 0) if b is not None else (None,) * 3)
            q, k, v = (F.linear(x, wi, bi) for x, wi, bi in zip((query, key, value), ws, bs))
        # (L, N, E) or (N, L, E) -> (N, H, L, d): the heads become a batch dim
        order = (1, 2, 0, 3) if seq == 0 else (0, 2, 1, 3)
        q, k, v = (t.reshape(*t.shape[:2], H, d).permute(order) for t in (q, k, v))
        mask = _additive(attn_mask, q.dtype, "attn_mask")
        if mask is not None:
            if mask.ndim == 3:
                mask = mask.reshape(N, H, L, S)
            elif mask.shape != (L, S):
                raise ValueError(f"MultiheadAttention: attn_mask must be ({L}, {S}) or "
                                 f"({N * H}, {L}, {S}), got {mask.shape}")
        pad = _additive(key_padding_mask, q.dtype, "key_padding_mask")
        if pad is not None:
            if pad.shape != (N, S):
                raise ValueError(f"MultiheadAttention: key_padding_mask must be ({N}, {S}), "
                                 f"got {pad.shape}")
            pad = pad.reshape(N, 1, 1, S)
            mask = pad if mask is None else mask + pad
        weights = F._attention_weights(q, k, mask)
        dropped = F.dropout(weights, self.dropout, self.training) if self.dropout else weights
        out = dropped.matmul(v).permute([order.index(i) for i in range(4)])  # back in place
        out = self.out_proj(out.reshape(*out.shape[:2], E))  # the heads side by side
        if unbatched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights.squeeze(0) if unbatched else weights)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"

