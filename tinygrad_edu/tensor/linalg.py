"""Linear algebra beyond matmul: einsum, and the diagonal family (diag, diagonal, diag_embed,
trace).

`einsum` is one primitive (ops.py: its VJP for each operand is another einsum); the diagonal
ops are indexing with index arrays (`diagonal` a row of its own, since PyTorch's is a view),
so their gradients come from index_add's rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .dims import _norm_dim
from .ops import _LETTERS, OPS
from .tensor import Tensor, _pair, apply, tensor

__all__ = ["einsum", "diagonal", "diag_embed", "diag", "trace"]


def _parse(equation: str, shapes: Sequence[tuple[int, ...]]) -> tuple[list[str], str]:
    """The subscripts of each operand and of the output, with '...' spelled out in letters
    and an implicit output ("ij,jk") made explicit, as numpy and PyTorch read it."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} has {len(subs)} operand subscripts "
                         f"but {len(shapes)} operands were given")
    used = set(eq) - set(".,->")
    bad = used - set(_LETTERS)
    if bad:
        raise ValueError(f"einsum: subscripts must be letters, got {sorted(bad)} in {equation!r}")
    spare = [c for c in _LETTERS if c not in used]
    ell_n = 0
    for sub, shape in zip(subs, shapes):
        if "..." in sub:
            ell_n = max(ell_n, len(shape) - (len(sub) - 3))
    ell = "".join(spare[:ell_n])
    out_subs = []
    for sub, shape in zip(subs, shapes):
        if "..." in sub:
            k = len(shape) - (len(sub) - 3)
            sub = sub.replace("...", ell[ell_n - k:] if k else "")
        if len(sub) != len(shape):
            raise ValueError(f"einsum: operand with shape {tuple(shape)} has subscripts "
                             f"{sub!r} of the wrong length ({len(sub)} for {len(shape)} dims)")
        out_subs.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {c: "".join(out_subs).count(c) for c in set("".join(out_subs))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    for c in out:
        if c not in "".join(out_subs):
            raise ValueError(f"einsum: output subscript {c!r} appears in no operand of "
                             f"{equation!r}")
    sizes: dict[str, int] = {}
    for sub, shape in zip(out_subs, shapes):
        for c, n in zip(sub, shape):
            if sizes.setdefault(c, n) != n and n != 1 and sizes[c] != 1:
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n} in "
                                 f"{equation!r}; each letter must name one size")
    return out_subs, out


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over the letters of `equation`, as torch.einsum:
    `einsum("ij,jk->ik", a, b)` is a @ b, `einsum("ii", a)` its trace, `"bij,bjk->bik"` bmm."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: give at least one operand")
    ts = [o if isinstance(o, Tensor) else tensor(o) for o in operands]
    if len(ts) > 1:  # one dtype for all, as the other binary ops
        ref = ts[0]
        for t in ts[1:]:
            ref, _ = _pair(ref, t)
        ts = [t.to(ref.dtype) for t in ts]
    subs, out = _parse(equation, [t.shape for t in ts])
    return apply(OPS.einsum, tuple(ts), (tuple(subs), out))


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims (dim1, dim2), moved to the last dim; offset > 0 is above it."""
    d1, d2 = _norm_dim(dim1, x.ndim, "diagonal"), _norm_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {d1}")
    rest = [a for a in range(x.ndim) if a not in (d1, d2)]
    y = x.permute(*rest, d1, d2)
    n1, n2 = y.shape[-2], y.shape[-1]
    i = np.arange(max(0, min(n1 + min(offset, 0), n2 - max(offset, 0))))
    rows, cols = i - min(offset, 0), i + max(offset, 0)
    return apply(OPS.diagonal, (y,), ((Ellipsis, rows, cols), y.shape))


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with x's last dim on their diagonal (offset above it), in dims (dim1, dim2)."""
    n = x.shape[-1] + abs(offset)
    shape = (*x.shape[:-1], n, n)
    i = np.arange(x.shape[-1])
    idx = (Ellipsis, i - min(offset, 0), i + max(offset, 0))
    out = apply(OPS.index_add, (x,), (idx, shape))  # zeros with x added at idx
    nd = len(shape)
    d1, d2 = _norm_dim(dim1, nd, "diag_embed"), _norm_dim(dim2, nd, "diag_embed")
    if (d1, d2) == (nd - 2, nd - 1):
        return out
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, both are {d1}")
    order = [None] * nd
    order[d1], order[d2] = nd - 2, nd - 1
    rest = iter(range(nd - 2))
    return out.permute(*[a if a is not None else next(rest) for a in order])


_diagonal = diagonal  # diag's argument takes the name


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor's square diagonal matrix, or a 2-D tensor's diagonal, as torch.diag."""
    if x.ndim == 1:
        return diag_embed(x, diagonal)
    if x.ndim == 2:
        return _diagonal(x, diagonal).clone()  # new memory, as torch.diag (not a view)
    raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")


def trace(x: Tensor) -> Tensor:
    """The sum of a matrix's diagonal."""
    if x.ndim != 2:
        raise ValueError(f"trace: expected a matrix (2-D), got shape {x.shape}")
    return diagonal(x).sum()
