"""The names / words corpora as (context, next character) examples: parsing the census files,
the vocabulary, reproducible splits, the examples of a word, and what a missing corpus says."""

from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu.data import names
from tinygrad_edu.data.names import (
    CharDataset,
    NamesDataset,
    Vocabulary,
    load_words,
    split_words,
)

WORDS = Path("/usr/share/dict/american-english")


@pytest.fixture
def census(tmp_path):
    """A folder laid out as the `names` package: three files of NAME freq cum rank lines."""
    rows = {"dist.male.first": ["JAMES 3.318 3.318 1", "JOHN 3.271 6.589 2"],
            "dist.female.first": ["MARY 2.629 2.629 1", "JAMES 0.001 9.0 900"],
            "dist.all.last": ["SMITH 1.006 1.006 1", "O'NEIL 0.1 2.0 2", ""]}
    for name, lines in rows.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    return tmp_path


def test_census_files_give_lower_case_names_once_each(census):
    assert load_words("names", census) == ["james", "john", "mary", "smith"]  # no "o'neil"


def test_the_installed_names_package_is_found_without_importing_it(census, monkeypatch):
    monkeypatch.setattr(names, "_names_folder", lambda: census)
    assert load_words("names")[:2] == ["james", "john"]


def test_a_missing_corpus_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(names, "_names_folder", lambda: None)
    with pytest.raises(FileNotFoundError, match=r"`pip install names`"):
        load_words("names")
    with pytest.raises(FileNotFoundError, match="dist.all.last not found"):
        load_words("names", tmp_path)
    with pytest.raises(FileNotFoundError, match="apt-get install wamerican"):
        load_words("words", tmp_path / "none.txt")
    with pytest.raises(ValueError, match="corpus must be one of"):
        load_words("poems")


@pytest.mark.skipif(not WORDS.is_file(), reason="wamerican is not installed")
def test_the_debian_word_list_keeps_plain_lower_case_words():
    words = load_words("words")
    assert len(words) > 50_000 and len(set(words)) == len(words)
    assert all(w.isalpha() and w.islower() and w.isascii() for w in words)


def test_vocabulary_puts_the_boundary_first_and_round_trips():
    v = Vocabulary.from_words(["emma", "ava"])
    assert v.itos == [".", "a", "e", "m", "v"] and len(v) == 5
    assert v.decode(v.encode("mave")) == "mave"
    with pytest.raises(ValueError, match="character 'z' of 'zoe' is not in the vocabulary"):
        v.encode("zoe")


def test_every_word_gives_its_context_windows_and_the_end_mark():
    v = Vocabulary.from_words(["emma"])
    ds = CharDataset(["emma"], v, context=3)
    X, y = ds.arrays()
    assert [v.decode(x) for x in X] == ["...", "..e", ".em", "emm", "mma"]
    assert v.decode(y) == "emma."
    assert X.dtype == y.dtype == np.int64 and len(ds) == 5 and ds[1][1] == v.stoi["m"]


def test_splits_are_reproducible_disjoint_and_complete():
    words = [f"w{i}" for i in range(1000)]
    a, b = split_words(words, seed=3), split_words(words, seed=3)
    assert a == b and [len(p) for p in a] == [800, 100, 100]
    assert sorted(sum(a, [])) == sorted(words)
    assert split_words(words, seed=4)[0] != a[0]
    with pytest.raises(ValueError, match="sum to 1"):
        split_words(words, (0.5, 0.2))


def test_names_dataset_splits_share_one_vocabulary(census):
    train = NamesDataset("train", context=2, root=census)
    val = NamesDataset("val", context=2, root=census)
    assert train.vocab.itos == val.vocab.itos == Vocabulary.from_words(
        ["james", "john", "mary", "smith"]).itos
    assert not set(train.words) & set(val.words)
    with pytest.raises(ValueError, match="split must be"):
        NamesDataset("dev", root=census)
