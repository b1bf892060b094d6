"""Words as character-level language-model data: (context, next character) examples.

    words = load_words("names")            # ~94,000 US-census names, lower case
    vocab = Vocabulary.from_words(words)   # '.' (start and end) then the letters, sorted
    train, val, test = split_words(words, seed=0)
    ds = CharDataset(train, vocab, context=3)
    ds[0]                                  # (array([0, 0, 0]), 13): "..." -> 'm'

Two offline corpora:
- "names": the first names (male and female) and surnames of the US census lists that PyPI's
  `names` package ships (`pip install names`; its files `dist.male.first`, `dist.female.first`
  and `dist.all.last`);
- "words": Debian's English word list `/usr/share/dict/american-english`
  (`apt-get install wamerican`), keeping the words of letters a-z only.

Every word becomes len(word) + 1 examples: the `context` characters before each position
(padded with '.') and the character there, the last one being the end mark '.'.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .loader import Dataset

__all__ = ["CORPORA", "load_words", "Vocabulary", "split_words", "CharDataset", "NamesDataset"]

NAMES_FILES = ("dist.male.first", "dist.female.first", "dist.all.last")
WORDS_FILE = Path("/usr/share/dict/american-english")
CORPORA = ("names", "words")
BOUNDARY = "."


def _names_folder() -> Path | None:
    """Where the `names` package's data files are, without importing the package."""
    spec = importlib.util.find_spec("names")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _clean(words: Sequence[str]) -> list[str]:
    """Lower case, letters a-z only, each word once, in first-seen order."""
    seen: dict[str, None] = {}
    for w in words:
        w = w.strip().lower()
        if w and w.isascii() and w.isalpha():
            seen.setdefault(w, None)
    return list(seen)


def load_words(corpus: str = "names", root: str | Path | None = None) -> list[str]:
    """The words of `corpus` ("names" or "words"), lower case, without repeats.

    `root`: a folder holding the names files, or the word-list file itself, instead of the
    installed copy. A missing corpus is a FileNotFoundError that says what to install.
    """
    if corpus not in CORPORA:
        raise ValueError(f"load_words: corpus must be one of {CORPORA}, got {corpus!r}")
    if corpus == "words":
        path = Path(root) if root is not None else WORDS_FILE
        if not path.is_file():
            raise FileNotFoundError(
                f"the 'words' corpus needs the word list {path}; install it with "
                "`apt-get install wamerican` (Debian/Ubuntu), or pass root=<a file with one "
                "word per line>. The 'names' corpus is the other choice: `pip install names`.")
        return _clean(path.read_text(encoding="utf-8", errors="replace").splitlines())
    folder = Path(root) if root is not None else _names_folder()
    missing = [f for f in NAMES_FILES if folder is None or not (folder / f).is_file()]
    if missing:
        where = "the `names` package is not installed" if folder is None else \
            f"{', '.join(missing)} not found in {folder}"
        raise FileNotFoundError(
            f"the 'names' corpus needs the US-census name lists of PyPI's `names` package, and "
            f"{where}. Install it with `pip install names` (a small sdist, no dependencies), "
            "or pass root=<a folder with dist.male.first, dist.female.first and dist.all.last>. "
            "The 'words' corpus is the other choice: `apt-get install wamerican`.")
    words: list[str] = []
    for name in NAMES_FILES:  # each line: NAME  frequency  cumulative  rank
        lines = (folder / name).read_text(encoding="ascii", errors="replace").splitlines()
        words += [line.split()[0] for line in lines if line.strip()]
    return _clean(words)


class Vocabulary:
    """Characters <-> indices, with '.' at index 0 marking both the start and the end."""

    def __init__(self, chars: Sequence[str]) -> None:
        chars = [c for c in chars if c != BOUNDARY]
        self.itos = [BOUNDARY, *sorted(set(chars))]
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    @classmethod
    def from_words(cls, words: Sequence[str]) -> Vocabulary:
        return cls(sorted({c for w in words for c in w}))

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, word: str) -> list[int]:
        try:
            return [self.stoi[c] for c in word]
        except KeyError as err:
            raise ValueError(f"Vocabulary: character {err.args[0]!r} of {word!r} is not in the "
                             f"vocabulary {''.join(self.itos)!r}") from None

    def decode(self, indices: Sequence[int]) -> str:
        return "".join(self.itos[int(i)] for i in indices)


def split_words(words: Sequence[str], fractions: Sequence[float] = (0.8, 0.1, 0.1),
                seed: int = 0) -> list[list[str]]:
    """The words shuffled with `seed` and cut into parts of the given fractions (same seed,
    same parts): train, validation and test by default."""
    if not np.isclose(sum(fractions), 1.0) or any(f < 0 for f in fractions):
        raise ValueError(f"split_words: fractions must be >= 0 and sum to 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(len(words))
    cuts = np.round(np.cumsum(fractions)[:-1] * len(words)).astype(int)
    return [[words[i] for i in part] for part in np.split(order, cuts)]


class CharDataset(Dataset):
    """The (context, next character) examples of `words`: `X` int64 (n, context), `y` (n,)."""

    def __init__(self, words: Sequence[str], vocab: Vocabulary, context: int = 3) -> None:
        if context < 1:
            raise ValueError(f"CharDataset: context must be at least 1, got {context}")
        self.vocab, self.context = vocab, context
        xs, ys = [], []
        for w in words:
            padded = [0] * context + vocab.encode(w) + [0]
            codes = np.asarray(padded, dtype=np.int64)
            windows = np.lib.stride_tricks.sliding_window_view(codes[:-1], context)
            xs.append(windows)
            ys.append(codes[context:])
        self.X = np.concatenate(xs) if xs else np.zeros((0, context), np.int64)
        self.y = np.concatenate(ys) if ys else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.X[i], int(self.y[i])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X, self.y


class NamesDataset(CharDataset):
    """One split ("train", "val" or "test", 80/10/10 by `seed`) of a corpus as CharDataset,
    with the vocabulary of the whole corpus (so every split shares it)."""

    def __init__(self, split: str = "train", context: int = 3, corpus: str = "names",
                 root: str | Path | None = None, seed: int = 0) -> None:
        parts = {"train": 0, "val": 1, "test": 2}
        if split not in parts:
            raise ValueError(f"NamesDataset: split must be 'train', 'val' or 'test', got "
                             f"{split!r}")
        words = load_words(corpus, root)
        self.words = split_words(words, seed=seed)[parts[split]]
        super().__init__(self.words, Vocabulary.from_words(words), context)
