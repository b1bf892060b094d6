"""save/load: state dicts round-trip exactly, files are written atomically, and loading an
untrusted or damaged file raises a clear error and never runs code."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Value, nn, optim
from tinygrad_edu.serialization import load, save


def test_nested_state_round_trips_exactly(tmp_path):
    obj = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "mask": np.array([True, False]),
        "count": np.int64(7),
        "zero_d": np.array(2.5),
        "strided": np.arange(12.0).reshape(3, 4).T,
        "n": 3,
        "lr": 0.1,
        "tiny": 1e-300,
        "nan": float("nan"),
        "inf": float("-inf"),
        "flag": False,
        "none": None,
        "name": "adam",
        "betas": (0.9, 0.999),
        "params": [0, 1, 2],
        "state": {0: {"step": 3.0, "exp_avg": np.array([1.5, -2.5])}},
        "empty": {},
    }
    path = tmp_path / "ckpt.npz"
    save(obj, path)
    got = load(path)
    assert set(got) == set(obj)
    assert got["w"].dtype == np.float32 and np.array_equal(got["w"], obj["w"])
    assert got["mask"].dtype == np.bool_ and got["mask"].tolist() == [True, False]
    assert got["zero_d"].shape == () and got["zero_d"] == 2.5
    assert np.array_equal(got["strided"], obj["strided"])
    assert got["count"] == 7 and got["n"] == 3 and got["lr"] == 0.1 and got["tiny"] == 1e-300
    assert np.isnan(got["nan"]) and got["inf"] == float("-inf")
    assert got["flag"] is False and got["none"] is None and got["name"] == "adam"
    assert got["betas"] == (0.9, 0.999) and isinstance(got["betas"], tuple)
    assert got["params"] == [0, 1, 2] and isinstance(got["params"], list)
    assert list(got["state"]) == [0]  # int keys stay ints, as optimizer state dicts need
    assert np.array_equal(got["state"][0]["exp_avg"], [1.5, -2.5])
    assert got["empty"] == {}


def test_scalar_model_and_optimizer_state_round_trip(tmp_path):
    tg.manual_seed(0)
    model = nn.MLP(2, [4, 1])
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    model([1.0, -1.0]).backward()
    opt.step()
    save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "m.npz")
    ckpt = load(tmp_path / "m.npz")
    tg.manual_seed(1)
    model2 = nn.MLP(2, [4, 1])
    model2.load_state_dict(ckpt["model"])
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["optim"])
    assert [p.data for p in model2.parameters()] == [p.data for p in model.parameters()]
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for o, m in ((opt, model), (opt2, model2)):
        o.zero_grad()
        m([0.5, 2.0]).backward()
        o.step()
    assert [p.data for p in model2.parameters()] == [p.data for p in model.parameters()]


def test_file_objects_work_too():
    buf = io.BytesIO()
    save({"a": np.ones(3)}, buf)
    buf.seek(0)
    assert load(buf)["a"].tolist() == [1.0, 1.0, 1.0]


def test_save_refuses_what_it_cannot_store_without_pickle(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['f'\] is a function"):
        save({"f": lambda: 0}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dtype object"):
        save({"o": np.array([{}, 1], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="Save model.state_dict"):
        save(nn.MLP(1, [1]), tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be str or int"):
        save({(1, 2): 0}, tmp_path / "x.npz")
    assert not os.path.exists(tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []  # and no temporary file left behind


def test_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"version": 1}, path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save({"version": 2}, path)
    monkeypatch.undo()
    assert load(path) == {"version": 1}
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]


def test_save_writes_through_a_temporary_file_and_renames(tmp_path, monkeypatch):
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.path.dirname(src), os.path.basename(src), dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    save({"x": 1}, tmp_path / "out.npz")
    [(folder, tmp_name, dst)] = calls
    assert folder == str(tmp_path) and tmp_name != "out.npz" and str(dst).endswith("out.npz")


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_file_needing_pickle_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    path = tmp_path / "evil.npz"
    manifest = json.dumps({"format": "tinygrad_edu.save", "version": 1,
                           "tree": {"array": "a0"}}).encode()
    np.savez(path, a0=np.array([Boom()], dtype=object),
             __tinygrad_edu__=np.frombuffer(manifest, dtype=np.uint8))
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps({"a": Boom()}))
    ran = []  # unpickling Boom would call os.system: catch it if it ever happens
    monkeypatch.setattr(os, "system", lambda cmd: ran.append(cmd))
    with pytest.raises(ValueError, match="needs pickle"):
        load(path)
    assert ran == []
    with pytest.raises(ValueError):
        load(raw)
    assert ran == []


def test_unexpected_members_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "x.npz"
    save({"a": np.zeros(2)}, path)
    with zipfile.ZipFile(path, "a") as z:
        with z.open("extra.npy", "w") as member:
            np.lib.format.write_array(member, np.ones(1))
    with pytest.raises(ValueError, match="unexpected members"):
        load(path)
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not written by tinygrad_edu.save"):
        load(tmp_path / "plain.npz")
    np.save(tmp_path / "one.npy", np.zeros(2))
    with pytest.raises(ValueError, match="single .npy array"):
        load(tmp_path / "one.npy")


def test_a_truncated_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": np.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="ckpt.npz"):
        load(path)


def test_a_tampered_description_is_an_error(tmp_path):
    path = tmp_path / "x.npz"
    for tree in ({"array": "a7"}, {"code": "os.system"}, {"dict": [[1.5, 2]]}):
        manifest = json.dumps({"format": "tinygrad_edu.save", "version": 1, "tree": tree})
        np.savez(path, __tinygrad_edu__=np.frombuffer(manifest.encode(), dtype=np.uint8))
        with pytest.raises(ValueError, match="not a valid tinygrad_edu file"):
            load(path)


def test_loaded_values_feed_value_modules(tmp_path):
    m = nn.Neuron(2)
    m.w[0].data = 0.25
    save(m.state_dict(), tmp_path / "n.npz")
    m2 = nn.Neuron(2)
    m2.load_state_dict(load(tmp_path / "n.npz"))
    assert m2.w[0].data == 0.25 and isinstance(m2.w[0], Value)


def test_tensor_model_and_adam_state_round_trip(tmp_path):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = tg.randn(8, 3)
    model(x).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pth"  # any name: nothing is appended
    tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    assert os.listdir(tmp_path) == ["ckpt.pth"]
    ckpt = tg.load(path)
    weight = ckpt["model"]["0.weight"]
    assert isinstance(weight, tg.Tensor) and weight.dtype == np.float32
    assert ckpt["model"]["1.num_batches_tracked"].dtype == np.int64
    assert ckpt["epoch"] == 3
    tg.manual_seed(1)
    model2 = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model2.load_state_dict(ckpt["model"])
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["optimizer"])
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy()), k


# ---- property: whatever nesting of supported things, it comes back equal ------------------------

leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-2**62, 2**62), st.floats(allow_nan=True),
    st.text(max_size=8),
    hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_]),
               hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(-5, 5)), inner, max_size=3)),
    max_leaves=12,
)


def same(a, b):
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, float):
        return isinstance(b, float) and (a == b or (np.isnan(a) and np.isnan(b)))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=60, deadline=None)
@given(trees)
def test_any_nesting_round_trips(obj):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    assert same(obj, load(buf))


def test_a_saved_file_gets_the_permissions_open_would_give_it(tmp_path):
    mask = os.umask(0o022)
    try:
        path = tmp_path / "model.npz"
        tg.save({"w": np.ones(2)}, path)
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)
