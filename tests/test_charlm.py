"""charlm: the same model code builds our model and torch's (same state-dict keys and outputs
given the same weights); training lowers the validation loss; `train --model charlm` saves a
model that `sample` reads back; sampling follows the model's distribution."""

from pathlib import Path

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import charlm
from tinygrad_edu.cli import main
from tinygrad_edu.data import CharDataset, Vocabulary

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn",
         "abigail", "emily", "ella", "elizabeth", "camila", "luna", "sofia", "avery", "mila"]


@pytest.mark.parametrize("arch, sizes", [("mlp", {}),
                                         ("transformer", {"context": 5, "layers": 2})])
def test_one_model_code_builds_twins_with_the_same_outputs(arch, sizes):
    ours = charlm.build_model(tg, arch, 27, **sizes).double()
    theirs = charlm.build_model(torch, arch, 27, **sizes).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    context = {**charlm.DEFAULTS[arch], **sizes}["context"]
    x = np.random.default_rng(0).integers(0, 27, (4, context))
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        np.testing.assert_allclose(ours(tg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("arch", charlm.ARCHS)
def test_training_lowers_the_validation_loss(arch):
    vocab = Vocabulary.from_words(WORDS)
    sizes = {"context": 3} if arch == "mlp" else {"context": 4, "layers": 1, "d_model": 16,
                                                  "ff": 32}
    data = CharDataset(WORDS, vocab, sizes["context"]).arrays()
    tg.manual_seed(0)
    model = charlm.build_model(tg, arch, len(vocab), **sizes)
    before = charlm.evaluate(tg, model, *data)
    history = charlm.train_model(tg, model, data, data, steps=150, batch_size=32, lr=1e-2)
    assert history["val_loss"][-1] < before - 0.5


def test_sampling_follows_the_model():
    vocab = Vocabulary.from_words(["ab"])

    class Fixed(tg.nn.Module):  # after '.', always 'a'; after 'a', 'b'; after 'b', the end
        def forward(self, x):
            table = np.full((3, 3), -1e9)
            table[0, 1] = table[1, 2] = table[2, 0] = 0.0
            return tg.tensor(table[x.numpy()[:, -1]])

    assert charlm.sample(Fixed(), vocab, context=2, n=3) == ["ab", "ab", "ab"]
    with pytest.raises(ValueError, match="temperature must be positive"):
        charlm.sample(Fixed(), vocab, 2, temperature=0)


def test_train_and_sample_commands(tmp_path, capsys, monkeypatch):
    words_file = tmp_path / "words.txt"
    words_file.write_text("\n".join(WORDS))
    out = tmp_path / "run"
    code = main(["train", "--model", "charlm", "--corpus", "words", "--root", str(words_file),
                 "--steps", "20", "--batch-size", "8", "--out", str(out), "--no-progress"])
    assert code == 0
    assert (out / "model.npz").is_file() and (out / "charlm.json").is_file()
    assert "Validation loss after 20 steps" in capsys.readouterr().out
    assert main(["sample", str(out), "-n", "4", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == 4 and all(set(w) <= set("abcdefghijklmnopqrstuvwxyz") for w in lines)
    assert main(["sample", str(tmp_path / "missing")]) == 2
    assert "no model saved by" in capsys.readouterr().err


def test_a_missing_corpus_is_a_clean_error(tmp_path, capsys):
    code = main(["train", "--model", "charlm", "--corpus", "words",
                 "--root", str(Path(tmp_path) / "nothing.txt"), "--out", str(tmp_path)])
    assert code == 2 and "apt-get install wamerican" in capsys.readouterr().err
