"""`tinygrad-edu train`: the tutorial MLP learns Fashion-MNIST, saves itself and its curves."""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import train

IN_CI = os.environ.get("CI", "").lower() == "true"
FASHION = Path("/usr/share/datasets/fashion-mnist")
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def fashion():
    """Fashion-MNIST as arrays, read once: skipped without the data, except in CI."""
    try:
        return train.load_arrays("fashion-mnist")
    except FileNotFoundError as err:
        if IN_CI:
            pytest.fail(f"Fashion-MNIST missing in CI ({FASHION}): {err}")
        pytest.skip(f"Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): {err}")


@pytest.fixture
def cached(fashion, monkeypatch):
    """`run` reads the arrays from memory instead of decompressing the files again."""
    monkeypatch.setattr(train, "load_arrays", lambda *args, **kwargs: fashion)
    return fashion


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tinygrad-edu")
    train.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["train", *argv])


def test_the_arrays_are_standardized_images_and_labels(fashion):
    (X, y), (Xt, yt) = fashion
    assert X.shape == (60000, 784) and Xt.shape == (10000, 784)
    assert X.dtype == np.float32 and y.dtype == np.int64
    sample = X[::10]  # every 10th image: the statistics without a pass over 47M floats
    assert abs(float(sample.mean())) < 0.02 and abs(float(sample.std()) - 1) < 0.02
    assert set(np.unique(yt)) == set(range(10))


def test_a_small_run_learns_and_writes_model_history_and_plot(cached, tmp_path, capsys):
    out = tmp_path / "run"
    args = parse("--limit", "4000", "--epochs", "2", "--seed", "1", "--out", str(out))
    assert train.run(args) == 0

    printed = capsys.readouterr()
    for name in ("model.npz", "history.json", "training.png"):
        assert (out / name).is_file()
        assert str(out / name) in printed.out, "the command says where it wrote each file"
    assert "epoch 2/2" in printed.err, "a progress bar per epoch"

    history = json.loads((out / "history.json").read_text())["history"]
    assert len(history["test_acc"]) == 2
    # chance is 10%; a model with a wrong gradient or no update stays far below this
    assert history["test_acc"][-1] >= 0.75
    assert history["train_loss"][1] < history["train_loss"][0]
    assert (out / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the saved weights, loaded into a fresh model, give the same outputs in eval mode
    (_, _), (Xt, _) = cached
    fresh = train.build_model()
    x = tg.tensor(Xt[:256])
    fresh.eval()
    before = fresh(x).numpy()
    fresh.load_state_dict(tg.load(out / "model.npz"))
    with tg.no_grad():
        logits = fresh(x).numpy()
    assert not np.allclose(before, logits), "loading replaced the fresh weights"
    loss, acc = train.evaluate(fresh, *cached[1])
    assert acc == pytest.approx(history["test_acc"][-1], abs=1e-12)
    assert loss == pytest.approx(history["test_loss"][-1], rel=1e-6)


def test_the_same_seed_gives_the_same_run_and_another_seed_does_not(fashion):
    (X, y), test = fashion
    small = (X[:640], y[:640])
    test = (test[0][:500], test[1][:500])

    def history(seed):
        tg.manual_seed(seed)
        return train.fit(train.build_model(), small, test, epochs=1, seed=seed,
                         show_progress=False)

    first, again, other = history(3), history(3), history(4)
    assert first["train_loss"] == again["train_loss"] and first["test_acc"] == again["test_acc"]
    assert first["train_loss"] != other["train_loss"]


def test_evaluate_turns_dropout_off_and_restores_the_mode(fashion):
    (_, _), (Xt, yt) = fashion
    tg.manual_seed(0)
    model = train.build_model()
    model.train()
    assert train.evaluate(model, Xt[:300], yt[:300]) == train.evaluate(model, Xt[:300], yt[:300])
    assert model.training
    model.eval()
    train.evaluate(model, Xt[:10], yt[:10])
    assert not model.training


def test_without_matplotlib_the_plot_is_skipped_with_a_note(cached, tmp_path, capsys,
                                                            monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    args = parse("--limit", "256", "--epochs", "1", "--no-progress", "--out", str(tmp_path))
    assert train.run(args) == 0
    assert "skipped: matplotlib is not installed" in capsys.readouterr().out
    assert (tmp_path / "model.npz").is_file() and not (tmp_path / "training.png").exists()


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--epochs", "0", "argument --epochs: expected a positive integer, got 0"),
    ("--batch-size", "-64", "argument --batch-size: expected a positive integer, got -64"),
    ("--limit", "ten", "argument --limit: expected a positive integer, got 'ten'"),
    ("--lr", "0", "argument --lr: expected a positive finite number, got 0"),
    ("--lr", "nan", "argument --lr: expected a positive finite number, got nan"),
    ("--seed", "-1", "argument --seed: expected an integer >= 0, got -1"),
    ("--dataset", "cifar10", "argument --dataset: invalid choice: 'cifar10'"),
])
def test_bad_arguments_are_usage_errors_naming_the_option(option, value, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(option, value)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_batch_larger_than_the_training_set_is_refused(cached, tmp_path, capsys):
    args = parse("--limit", "100", "--batch-size", "128", "--out", str(tmp_path))
    assert train.run(args) == 2
    assert "--batch-size 128 is larger than the 100 training images" in capsys.readouterr().err


def test_download_needs_a_root(capsys):
    assert train.run(parse("--dataset", "mnist", "--download")) == 2
    assert "--download needs --root DIR" in capsys.readouterr().err


@pytest.mark.parametrize("folder", ["empty", "shared test-only MNIST"])
def test_mnist_without_its_training_split_says_so(folder, tmp_path, capsys):
    root = tmp_path if folder == "empty" else SHARED_MNIST
    if not root.is_dir():
        pytest.skip(f"{SHARED_MNIST} is not there (it lives next to the repository)")
    args = parse("--dataset", "mnist", "--root", str(root), "--out", str(tmp_path / "out"))
    assert train.run(args) == 2
    err = capsys.readouterr().err
    assert "the training split of MNIST is not available" in err
    assert "train-images-idx3-ubyte.gz" in err and str(root) in err
    only_tests = "The folder has only the t10k-* test files"
    assert (only_tests in err) == (folder != "empty"), "t10k files are named only when there"
    assert "--root DIR --download" in err
    assert not (tmp_path / "out").exists(), "nothing is written when there is nothing to train"


def test_mnist_with_no_root_says_where_it_looked_and_what_to_pass(capsys):
    assert train.run(parse("--dataset", "mnist")) == 2
    err = capsys.readouterr().err
    assert "looked in: nowhere (no root was given" in err and "(no folder)" not in err
    assert "t10k-* test files" not in err and "Pass --root DIR" in err


def test_the_cnn_trains_step_for_step_as_its_pytorch_twin(fashion):
    """`build_cnn()` and `build_cnn(torch.nn)` are one recipe: from the same weights (float64,
    so that rounding stays out of the way), on the same batches, Adam steps give the same
    losses, gradients and weights."""
    import torch

    from tinygrad_edu.interop import to_torch

    tg.manual_seed(0)
    model = train.build_cnn().double()
    twin = to_torch(model)
    assert repr(twin) == repr(train.build_cnn(torch.nn).double())
    opt, t_opt = tg.optim.Adam(model.parameters()), torch.optim.Adam(twin.parameters())
    loss_fn, t_loss_fn = tg.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    (X, y), _ = fashion
    for start in range(0, 48, 16):
        xb, yb = X[start:start + 16].astype(np.float64), y[start:start + 16]
        opt.zero_grad()
        t_opt.zero_grad()
        loss = loss_fn(model(tg.from_numpy(xb)), tg.from_numpy(yb))
        t_loss = t_loss_fn(twin(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        t_loss.backward()
        np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-9)
        for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-9,
                                       err_msg=name)
        opt.step()
        t_opt.step()
    for (name, p), (_, q) in zip(model.state_dict().items(), twin.state_dict().items()):
        np.testing.assert_allclose(np.asarray(p), q.numpy(), rtol=1e-6, atol=1e-9, err_msg=name)
