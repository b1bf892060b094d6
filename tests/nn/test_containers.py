"""ModuleDict, ParameterList and ParameterDict: their entries are the parent's parameters,
under PyTorch's state-dict keys."""

import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn


def Heads(lib):  # noqa: N802  (builds the same model class on either library)
    class Heads(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(2, 3), "b": lib.nn.Linear(2, 1)})
            self.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(3)),
                                                lib.nn.Parameter(lib.zeros(1))])
            self.named = lib.nn.ParameterDict({"bias": lib.nn.Parameter(lib.zeros(2))})

    return Heads()


def test_state_dict_keys_are_torchs():
    ours = Heads(tg).state_dict()
    theirs = Heads(torch).state_dict()
    assert sorted(ours) == sorted(theirs)
    assert {k: tuple(v.shape) for k, v in ours.items()} == {
        k: tuple(v.shape) for k, v in theirs.items()}


def test_entries_are_trained():
    m = Heads(tg)
    loss = (m.heads["a"](tg.ones(1, 2)) * m.scales[0]).sum() + m.named["bias"].sum()
    loss.backward()
    assert m.scales[0].grad is not None and m.named["bias"].grad.tolist() == [1.0, 1.0]
    assert len(list(m.parameters())) == 7


def test_dict_and_list_behaviour():
    d = nn.ModuleDict()
    d["x"] = nn.Identity()
    d.update([("y", nn.ReLU())])
    assert list(d) == ["x", "y"] and "x" in d and len(d) == 2
    assert isinstance(d.pop("x"), nn.Identity) and list(d.keys()) == ["y"]
    with pytest.raises(KeyError, match="no module 'z'"):
        d["z"]
    p = nn.ParameterList()
    p.append(tg.zeros(2))  # a plain tensor becomes a Parameter, as in torch
    assert isinstance(p[0], nn.Parameter) and p[-1] is p[0] and len(p) == 1
    with pytest.raises(IndexError):
        p[1]
    pd = nn.ParameterDict({"w": tg.ones(2)})
    assert isinstance(pd["w"], nn.Parameter) and pd["w"].requires_grad
