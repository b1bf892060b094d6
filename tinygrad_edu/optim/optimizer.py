"""`Optimizer`: what every optimizer shares (param groups, zero_grad, state dicts, step).

An optimizer only reads `.grad` and writes `.data` of its parameters. Each subclass writes its
update rule once, as `_update(param, grad, state, group, scratch)` on numpy arrays, changing
`param` and the state arrays in place (this is on the training hot path, so no new arrays per
step). The same rule serves both engines:

    Tensor parameters   the rule runs on the parameter's own ndarray, in place;
    Value parameters    the Values of a param group are packed into one float64 array, the
                        rule runs on it, and the numbers are written back into the Values.

A step first checks every group's settings and every gradient, and only then changes anything,
so a step that fails leaves all parameters as they were.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.mode import enable_grad
from ..tensor import Tensor
from ..tensor.versions import _bump
from ..value import Value

__all__ = ["Optimizer"]

State = dict[str, Any]


def _is_tensor(p: Any) -> bool:
    return isinstance(p, Tensor)


class Optimizer:
    """Base class: holds `param_groups` (dicts of settings + 'params') and per-parameter `state`."""

    defaults: dict[str, Any]
    _scalar_state: tuple[str, ...] = ("step",)  # state entries that are one number, not arrays

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = _tensor_lr_as_float(dict(defaults), type(self).__name__)
        self._check_settings(self.defaults, type(self).__name__)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Any, State] = {}  # Tensor parameter -> its state
        self._packs: list[State] = []  # per group: the state of its packed Value parameters
        if _is_tensor(params) or isinstance(params, Value):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of parameters "
                            "(e.g. model.parameters()), not a single "
                            f"{type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list: pass "
                             "model.parameters() of a model that has parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- settings
    def _check_settings(self, group: dict[str, Any], where: str) -> None:
        """Raise ValueError for settings the update rule cannot use (subclasses add theirs)."""
        lr = group.get("lr")
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr >= 0:
            raise ValueError(f"{where}: invalid learning rate lr={lr!r}; it must be a number >= 0")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add parameters with their own settings (the rest come from the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: expected a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError("add_param_group: the group has no 'params'")
        params = [params] if _is_tensor(params) or isinstance(params, Value) else list(params)
        name = type(self).__name__
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                          for p in params):  # model.named_parameters()
            param_group = {**param_group, "param_names": [n for n, _ in params]}
            params = [p for _, p in params]
        for i, p in enumerate(params):
            if not (isinstance(p, Value) or _is_tensor(p)):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}; optimizers "
                                "take Values and Tensors (nn.Parameter)")
            if _is_tensor(p) and getattr(p, "_op", None) is not None:
                raise ValueError(f"{name}: parameter {i} is not a leaf (it was computed from "
                                 "other tensors); optimize the tensors it came from")
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError(f"{name}: a parameter appears twice in one param group")
        for group in self.param_groups:
            if ids & {id(p) for p in group["params"]}:
                raise ValueError(f"{name}: some parameters appear in more than one param group")
        group = _tensor_lr_as_float({**self.defaults, **param_group, "params": params}, name)
        self._check_settings(group, name)
        self.param_groups.append(group)
        self._packs.append({})

    # ---- gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (Values back to 0.0)."""
        for group in self.param_groups:
            for p in group["params"]:
                p._clear_grad(set_to_none)

    # ---- the step
    def _update(self, param: np.ndarray, grad: np.ndarray, state: State,
                group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        raise NotImplementedError

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> State:
        """Fresh state for a parameter of this shape (before its first step)."""
        return {}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns `closure()`'s loss if given."""
        self._stepped = True  # lr schedulers check that this comes before their first step
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        name = type(self).__name__
        work = []
        for gi, group in enumerate(self.param_groups):  # check everything first ...
            self._check_settings(group, f"{name}.step (param group {gi})")
            tensors, values = [], []
            for i, p in enumerate(group["params"]):
                if isinstance(p, Value):
                    values.append(p)
                    continue
                g = p.grad
                if g is None:
                    continue
                ga = g._data if _is_tensor(g) else g
                if not isinstance(ga, np.ndarray) or ga.shape != p._data.shape:
                    raise RuntimeError(
                        f"{name}.step: parameter {i} of group {gi} has shape {p._data.shape} "
                        f"but its .grad is {getattr(ga, 'shape', type(ga).__name__)}; "
                        "nothing was updated")
                tensors.append((p, ga))
            packed = _gather(values, name, gi) if values else None
            work.append((group, gi, tensors, values, packed))
        for group, gi, tensors, values, packed in work:  # ... then change things
            for p, ga in tensors:
                entry = self.state.get(p)
                if entry is None:
                    entry = self.state[p] = self._init_state(p._data, group)
                self._update(p._data, ga, entry, group, _scratch(entry, p._data))
                _bump(p)  # a graph that saved the old value must not use it in backward
            if packed is not None:
                data, grad = packed
                pack = self._packs[gi]
                if pack.get("_n") != len(values):
                    pack.clear()
                    pack.update(self._init_state(data, group), _n=len(values))
                self._update(data, grad, pack, group, _scratch(pack, data))
                for v, x in zip(values, data.tolist()):
                    v.data = x
        return loss

    # ---- state dicts: plain data (numbers, lists, ndarrays), saveable with tinygrad_edu.save
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {name: array or number}}, 'param_groups': [settings + 'params']},
        with parameters numbered in order across groups, as in PyTorch."""
        state: dict[int, State] = {}
        groups = []
        index = 0
        for gi, group in enumerate(self.param_groups):
            settings = {k: v for k, v in group.items() if k != "params"}
            settings["params"] = list(range(index, index + len(group["params"])))
            groups.append(settings)
            j = 0  # position among the group's Values, i.e. in its pack
            pack = self._packs[gi]
            for p in group["params"]:
                if isinstance(p, Value):
                    if "_n" in pack:
                        state[index] = {k: (v[j].item() if isinstance(v, np.ndarray) else v)
                                        for k, v in pack.items() if not k.startswith("_")}
                    j += 1
                elif p in self.state:
                    state[index] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                    for k, v in self.state[p].items() if not k.startswith("_")}
                index += 1
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore settings and state saved by `state_dict()` (groups must match in size)."""
        name = type(self).__name__
        if not (isinstance(state_dict, dict) and isinstance(state_dict.get("state"), dict)
                and isinstance(state_dict.get("param_groups"), list)):
            keys = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else []
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups' (from optimizer.state_dict()), got "
                             f"{type(state_dict).__name__} with keys {keys[:5]}")
        groups = state_dict["param_groups"]
        saved_state = {int(k): v for k, v in state_dict["state"].items()}
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(groups)} param "
                             f"groups, the optimizer {len(self.param_groups)}")
        new_groups, new_state, new_packs = [], {}, []
        for gi, (saved, group) in enumerate(zip(groups, self.param_groups)):
            ids = [int(i) for i in saved["params"]]
            if len(ids) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: param group {gi} has "
                                 f"{len(group['params'])} parameters, the state dict {len(ids)}")
            settings = {k: _plain(v) for k, v in saved.items() if k != "params"}
            if isinstance(settings.get("betas"), list):
                settings["betas"] = tuple(settings["betas"])
            new_group = {**group, **settings, "params": group["params"]}
            self._check_settings(new_group, f"{name}.load_state_dict (param group {gi})")
            new_groups.append(new_group)
            value_entries = []
            for idx, p in zip(ids, group["params"]):
                entry = saved_state.get(idx)
                if isinstance(p, Value):
                    value_entries.append(entry)
                elif entry is not None:
                    new_state[p] = _tensor_state(entry, p._data, name, idx, self._scalar_state)
            new_packs.append(_pack_state(value_entries, name, gi, self._scalar_state))
        self.param_groups, self.state, self._packs = new_groups, new_state, new_packs

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


def _tensor_lr_as_float(settings: dict[str, Any], name: str) -> dict[str, Any]:
    """PyTorch also takes lr as a one-element Tensor; here it is read once, as a float."""
    lr = settings.get("lr")
    if _is_tensor(lr):
        if lr._data.size != 1:
            raise ValueError(f"{name}: a Tensor lr must have one element, got shape "
                             f"{lr._data.shape}")
        settings["lr"] = float(lr._data.reshape(()))
    return settings


def _gather(values: list[Value], name: str, gi: int) -> tuple[np.ndarray, np.ndarray]:
    """The data and gradients of a group's Values as two float64 arrays."""
    n = len(values)
    data = np.fromiter((v.data for v in values), np.float64, n)
    try:
        grad = np.fromiter((float(v.grad) for v in values), np.float64, n)
    except (TypeError, ValueError) as err:
        raise RuntimeError(f"{name}.step: a Value in param group {gi} has a gradient that is not "
                           f"a number ({err}); nothing was updated") from None
    return data, grad


def _scratch(state: State, like: np.ndarray) -> list[np.ndarray]:
    """Two work arrays per parameter, made once and reused every step."""
    s = state.get("_scratch")
    if s is None or s[0].shape != like.shape or s[0].dtype != like.dtype:
        s = state["_scratch"] = [np.empty_like(like), np.empty_like(like)]
    return s


def _plain(v: Any) -> Any:
    """A saved setting back as a Python number, bool or list (not a numpy array)."""
    if isinstance(v, (np.ndarray, np.generic)):
        return v.tolist()
    return v


def _tensor_state(entry: State, like: np.ndarray, name: str, idx: int,
                  scalars: tuple[str, ...]) -> State:
    """A saved per-parameter state, checked against the parameter: 'step' (and the other
    `scalars`) are numbers, everything else an array of the parameter's shape (its dtype)."""
    out: State = {}
    for k, v in entry.items():
        if k.startswith("_"):
            continue
        if k in scalars:
            out[k] = float(_plain(getattr(v, "_data", v)))
            continue
        arr = np.asarray(getattr(v, "_data", v))
        if arr.dtype.kind not in "biuf" or arr.shape != like.shape:
            raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {idx} has "
                             f"shape {arr.shape}, but the parameter has shape {like.shape}")
        out[k] = arr.astype(like.dtype, copy=True)
    return out


def _pack_state(entries: list[State | None], name: str, gi: int,
                scalars: tuple[str, ...]) -> State:
    """Per-Value states (numbers) back into the group's packed arrays."""
    if not entries or all(e is None for e in entries):
        return {}
    if any(e is None for e in entries):
        raise ValueError(f"{name}.load_state_dict: param group {gi} has state for only some of "
                         "its Value parameters")
    pack: State = {"_n": len(entries)}
    for k in entries[0]:
        if k.startswith("_"):
            continue
        try:
            numbers = [float(_plain(e[k])) for e in entries]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{name}.load_state_dict: state {k!r} in param group {gi} is not "
                             "one number per Value parameter") from None
        pack[k] = numbers[0] if k in scalars else np.array(numbers, dtype=np.float64)
    return pack


def _as_betas(betas: Any) -> Any:
    """betas given as a list become a tuple (the form the lr schedulers rewrite)."""
    return tuple(betas) if isinstance(betas, list) else betas


def _check_betas(group: dict[str, Any], where: str) -> None:
    betas = group.get("betas")
    ok = isinstance(betas, (tuple, list)) and len(betas) == 2
    if not ok or not all(isinstance(b, (int, float)) and 0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"{where}: invalid betas={betas!r}; need two numbers in [0, 1)")


def _check_nonneg(group: dict[str, Any], where: str, *keys: str) -> None:
    for key in keys:
        v = group.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not (v >= 0) \
                or math.isinf(v):
            raise ValueError(f"{where}: invalid {key}={v!r}; it must be a finite number >= 0")


def _effective_grad(param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                    out: np.ndarray) -> np.ndarray:
    """The gradient the rule follows: negated with `maximize`, plus `weight_decay * param`
    (L2 penalty). Returns `grad` itself when neither applies (no copy)."""
    wd, maximize = group.get("weight_decay", 0), group.get("maximize", False)
    if not wd and not maximize:
        return grad
    if wd:
        np.multiply(param, wd, out=out)
        if maximize:
            out -= grad
        else:
            out += grad
    else:
        np.negative(grad, out=out)
    return out


def _decayed_grad(param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                  out: np.ndarray) -> np.ndarray:
    """`_effective_grad`, except that with `decoupled_weight_decay` the decay shrinks the
    parameter itself, `p *= 1 - lr * weight_decay` (AdamW's rule), instead of joining the
    gradient."""
    if not group.get("decoupled_weight_decay"):
        return _effective_grad(param, grad, group, out)
    if group["weight_decay"]:
        param *= 1 - group["lr"] * group["weight_decay"]
    return _effective_grad(param, grad, {"maximize": group.get("maximize", False)}, out)
