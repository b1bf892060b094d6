"""save/load: state dicts round-trip exactly, files are written atomically, and loading an
untrusted or damaged file raises a clear error and never runs code."""

import inspect
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Value, atomic, nn, optim, serialization
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


# ---- what a save does to the file system: modes, the umask, crashes ---------------------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604], ids=oct)
def test_saving_over_a_file_keeps_its_mode(tmp_path, mode):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(2)}, path)
    path.chmod(mode)
    tg.save({"w": np.zeros(2)}, path)
    assert path.stat().st_mode & 0o7777 == mode
    assert load(path)["w"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027], ids=oct)
def test_a_new_file_gets_the_mode_open_gives_under_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        tg.save({"w": np.ones(2)}, tmp_path / "new.npz")
        with open(tmp_path / "by_open", "wb"):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "new.npz").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "new.npz").stat().st_mode == (tmp_path / "by_open").stat().st_mode


def test_save_never_touches_the_process_umask(tmp_path, monkeypatch):
    """Setting the umask, even briefly, changes the mode of files other threads create."""
    def forbidden(mask):
        raise AssertionError(f"save() called os.umask({mask:#o})")

    monkeypatch.setattr(os, "umask", forbidden)
    tg.save({"w": np.ones(2)}, tmp_path / "a.npz")  # a new file
    tg.save({"w": np.ones(2)}, tmp_path / "a.npz")  # over an existing one


def test_a_symlinked_checkpoint_is_written_through(tmp_path):
    real = tmp_path / "store" / "real.npz"
    real.parent.mkdir()
    tg.save({"v": 1}, real)
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    tg.save({"v": 2}, link)
    assert link.is_symlink() and load(real) == {"v": 2}


_SLOW_WRITER = """
import sys, time
import numpy as np
import tinygrad_edu as tg

real = np.lib.format.write_array
def write_then_hang(fp, array, *args, **kwargs):  # the first array is written, then we hang
    real(fp, array, *args, **kwargs)
    fp.flush()
    print("mid-write", flush=True)
    time.sleep(120)

np.lib.format.write_array = write_then_hang
tg.save({"version": 2, "w": np.arange(1000.0)}, sys.argv[1])
"""


def test_a_writer_killed_mid_save_leaves_the_old_file_and_its_temp_is_cleaned(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"version": 1, "w": np.ones(3)}, path)
    (tmp_path / "other.npz").write_bytes(b"not ours")  # unrelated files are left alone
    child = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(path)],
                             stdout=subprocess.PIPE, text=True, env={**os.environ,
                             "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert child.stdout.readline().strip() == "mid-write"
        temps = [p.name for p in tmp_path.iterdir() if p.name.startswith(".ckpt.npz.")]
        assert len(temps) == 1 and str(child.pid) in temps[0], temps
    finally:
        child.send_signal(signal.SIGKILL)  # kill -9: no cleanup handler runs
        child.wait()
    assert load(path)["version"] == 1  # the old file, whole
    # the dead writer's temporary file is gone after the next load (or save) of that path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz", "other.npz"]


def test_a_live_writers_temporary_file_is_not_removed(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"v": 1}, path)
    parent = os.getppid()  # alive: it runs this test
    temp = tmp_path / f".ckpt.npz.{atomic._host()}-{parent}-0123abcd.tinygrad_edu-tmp"
    temp.write_bytes(b"in progress")
    tg.save({"v": 2}, path)
    assert temp.exists() and load(path) == {"v": 2}


# ---- what load reads: a memory bound, PyTorch's signature, messages ------------------------------


def _zip_bomb(path, nbytes: int) -> None:
    """An honest deflated .npz whose one array of zeros declares `nbytes` (a few KB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        desc = json.dumps({"format": "tinygrad_edu.save", "version": 1,
                           "tree": {"dict": [["w", {"array": "a0"}]]}}).encode()
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.frombuffer(desc, np.uint8))
        z.writestr("__tinygrad_edu__.npy", buf.getvalue())
        with z.open("a0.npy", "w") as member:
            header = {"descr": "<f8", "fortran_order": False, "shape": (nbytes // 8,)}
            np.lib.format.write_array_header_1_0(member, header)
            chunk = bytes(2**20)
            for start in range(0, nbytes, len(chunk)):
                member.write(chunk[:nbytes - start])


def test_load_refuses_a_file_declaring_more_than_max_bytes_before_inflating(tmp_path):
    path = tmp_path / "bomb.npz"
    _zip_bomb(path, 64 * 2**20)
    assert path.stat().st_size < 2**20 / 4  # 64 MiB of zeros in well under 256 KiB
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            load(path, max_bytes=16 * 2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    msg = str(info.value)
    assert msg.startswith("load: ") and "bomb.npz" in msg and "'a0.npy'" in msg
    assert "67,108,864 bytes" in msg and "max_bytes=16,777,216" in msg and "raise it" in msg
    assert peak < 4 * 2**20, f"load allocated {peak} bytes before refusing"
    assert load(path, max_bytes=None)["w"].nbytes == 64 * 2**20  # a trusted file: it loads


def test_max_bytes_counts_every_array_of_the_file(tmp_path):
    path = tmp_path / "two.npz"
    tg.save({"a": np.zeros(100), "b": np.zeros(100)}, path)  # 800 bytes each
    assert set(load(path, max_bytes=2000)) == {"a", "b"}
    with pytest.raises(ValueError, match=r"1,600 bytes of arrays so far, over the limit "
                                         r"max_bytes=1,500"):
        load(path, max_bytes=1500)
    with pytest.raises(ValueError, match="max_bytes must be a non-negative int or None"):
        load(path, max_bytes=-1)
    assert inspect.signature(load).parameters["max_bytes"].default == serialization.MAX_BYTES


def test_load_takes_pytorchs_arguments(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.arange(3.0)}, path)
    for kwargs in ({"map_location": None, "weights_only": True},
                   {"map_location": "cpu", "weights_only": False}, {"weights_only": None}):
        assert load(path, **kwargs)["w"].tolist() == [0.0, 1.0, 2.0]
    assert load(path, "cpu")["w"].tolist() == [0.0, 1.0, 2.0]


def test_a_description_with_a_100000_digit_integer_is_a_load_error(tmp_path):
    desc = ('{"format": "tinygrad_edu.save", "version": 1, "tree": ' + "7" * 100_000 + "}")
    buf = io.BytesIO()
    np.savez(buf, __tinygrad_edu__=np.frombuffer(desc.encode(), np.uint8))
    path = tmp_path / "digits.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match=r"^load: '.*digits\.npz' is not a valid tinygrad_edu "
                                         r"file: its description cannot be read.*4300"):
        load(path)


def test_saving_an_integer_too_long_for_json_is_a_save_error(tmp_path):
    with pytest.raises(ValueError, match=r"^save: obj\['n'\] is an integer of about 5001 digits"):
        tg.save({"n": 10**5000}, tmp_path / "big.npz")
    assert os.listdir(tmp_path) == []
