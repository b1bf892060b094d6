"""MNIST and Fashion-MNIST: the real files, torchvision's layout, corrupt copies, downloads."""

import gzip
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_edu.data import (
    MNIST,
    ChecksumError,
    DownloadError,
    FashionMNIST,
    IDXError,
    Resource,
    idx_digest,
    write_idx,
)

SHARED_MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
IN_CI = os.environ.get("CI", "").lower() == "true"

# Published facts about the MNIST test set (LeCun et al.), not computed by this library:
# the md5 of each file as distributed, and how many test images each digit has.
MNIST_TEST_GZ_MD5 = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def need(folder: Path, what: str) -> None:
    """Skip without the real data, with the reason; in CI the data must be there."""
    if not folder.is_dir():
        if IN_CI:
            pytest.fail(f"{what} missing in CI: {folder} does not exist")
        pytest.skip(f"{what} not available: {folder} does not exist")


@pytest.fixture(scope="module")
def mnist_test():
    need(SHARED_MNIST, "real MNIST test set (shared/data/mnist)")
    return MNIST(SHARED_MNIST, train=False)


# ---- the real MNIST test set -------------------------------------------------------------------


def test_shared_files_are_the_published_ones():
    need(SHARED_MNIST, "real MNIST test set (shared/data/mnist)")
    for name, md5 in MNIST_TEST_GZ_MD5.items():
        assert hashlib.md5((SHARED_MNIST / name).read_bytes()).hexdigest() == md5
        assert MNIST.resources["test"][0 if "images" in name else 1].md5 == md5


def test_mnist_test_set_reads_with_published_class_counts(mnist_test):
    assert len(mnist_test) == 10000
    assert mnist_test.data.shape == (10000, 28, 28) and mnist_test.data.dtype == np.uint8
    assert mnist_test.targets.dtype == np.int64
    assert np.bincount(mnist_test.targets).tolist() == MNIST_TEST_COUNTS
    assert mnist_test.classes[7] == "7 - seven"
    # every image has ink, and digits are centered: the mean image is dark at the border
    assert mnist_test.data.max(axis=(1, 2)).min() > 128
    mean_image = mnist_test.data.mean(axis=0)
    assert mean_image[10:18, 10:18].mean() > 20 * mean_image[:3].mean()


def test_getitem_gives_a_float_image_in_unit_range_and_an_int_label(mnist_test):
    image, label = mnist_test[-1]
    assert image.dtype == np.float32 and image.shape == (28, 28)
    np.testing.assert_allclose(image, mnist_test.data[-1] / 255, rtol=1e-6)
    assert type(label) is int and label == mnist_test.targets[-1]
    with pytest.raises(IndexError):
        mnist_test[10000]


def test_transforms_are_applied(mnist_test):
    ds = MNIST(
        SHARED_MNIST, train=False, transform=lambda x: x.sum(), target_transform=lambda y: -y
    )
    image, label = ds[0]
    assert image == pytest.approx(float(mnist_test[0][0].sum()))
    assert label == -int(mnist_test.targets[0])


def test_arrays_normalize_and_flatten(mnist_test):
    X, y = mnist_test.arrays(normalize=False)
    assert X.shape == (10000, 784) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    Xn, _ = mnist_test.arrays()  # the training statistics, applied to the test set
    np.testing.assert_allclose(Xn, (X - 0.1307) / 0.3081, rtol=1e-5, atol=1e-5)
    X3, _ = mnist_test.arrays(normalize=(0.5, 0.5), flatten=False)
    assert X3.shape == (10000, 28, 28)
    np.testing.assert_allclose(X3.reshape(10000, -1), 2 * X - 1, atol=1e-6)
    X[0, 0] = 7.0  # a copy: the dataset is untouched
    assert mnist_test.data[0, 0, 0] == 0


def test_torchvision_layout_and_uncompressed_files(tmp_path, mnist_test):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_TEST_GZ_MD5:
        content = gzip.decompress((SHARED_MNIST / name).read_bytes())
        (raw / name.removesuffix(".gz")).write_bytes(content)
    ds = MNIST(tmp_path, train=False)
    np.testing.assert_array_equal(ds.data, mnist_test.data)
    np.testing.assert_array_equal(ds.targets, mnist_test.targets)


def copy_test_set(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in MNIST_TEST_GZ_MD5:
        shutil.copy(SHARED_MNIST / name, folder / name)
    return folder


def test_truncated_copy_is_an_error_naming_the_file(tmp_path):
    need(SHARED_MNIST, "real MNIST test set (shared/data/mnist)")
    copy_test_set(tmp_path)
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:100_000])
    with pytest.raises(IDXError, match="t10k-images-idx3-ubyte.gz"):
        MNIST(tmp_path, train=False)


def test_a_flipped_bit_in_an_uncompressed_copy_fails_the_checksum(tmp_path):
    need(SHARED_MNIST, "real MNIST test set (shared/data/mnist)")
    copy_test_set(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[500] ^= 1  # label 1 <-> 0 or similar: a valid-looking file, wrong data
    labels.unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes(content))
    with pytest.raises(ChecksumError) as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte" in message
    assert "27ae3e4e09519cfbb04c329615203637" in message  # expected content md5
    assert hashlib.md5(bytes(content)).hexdigest() in message  # actual


def test_missing_files_say_where_they_were_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images.*MNIST[/\\]raw.*download=True"):
        MNIST(tmp_path, train=True)


def test_download_needs_a_root():
    with pytest.raises(ValueError, match="root"):
        MNIST(None, download=True)


# ---- Fashion-MNIST from the Debian package ---------------------------------------------------


@pytest.mark.parametrize("train, n", [(True, 60000), (False, 10000)])
def test_fashion_mnist_finds_the_debian_copy(train, n, tmp_path):
    need(DEBIAN_FASHION, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
    for root in (None, tmp_path):  # no root, or a root without the files
        ds = FashionMNIST(root, train=train)
        assert ds.data.shape == (n, 28, 28) and ds.data.dtype == np.uint8
        # Fashion-MNIST is balanced: n/10 images of each of the 10 classes
        assert np.bincount(ds.targets).tolist() == [n // 10] * 10
    assert ds.classes[9] == "Ankle boot" and ds.class_to_idx["Trouser"] == 1


def test_fashion_mnist_training_statistics():
    need(DEBIAN_FASHION, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
    X, _ = FashionMNIST(train=True).arrays(normalize=False)
    assert abs(X.mean() - FashionMNIST.mean) < 5e-4 and abs(X.std() - FashionMNIST.std) < 5e-4


def test_mnist_files_under_the_fashion_name_are_refused(tmp_path):
    need(SHARED_MNIST, "real MNIST test set (shared/data/mnist)")
    copy_test_set(tmp_path)
    with pytest.raises(ChecksumError, match="FashionMNIST.*t10k-images"):
        FashionMNIST(tmp_path, train=False)


# ---- downloads, from file:// mirrors the tests write --------------------------------------------


def make_tiny(folder: Path, seed: int = 0) -> dict:
    """A tiny MNIST-format split (gzipped, as published) and its resource table."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=12, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    table = []
    files = [("t10k-images-idx3-ubyte.gz", images), ("t10k-labels-idx1-ubyte.gz", labels)]
    for name, array in files:
        path = write_idx(folder / name, array)
        table.append(Resource(name, hashlib.md5(path.read_bytes()).hexdigest(), idx_digest(array)))
    return {"images": images, "labels": labels, "resources": {"test": tuple(table)}}


def tiny_class(mirrors, resources):
    attributes = {"name": "Tiny", "mirrors": tuple(mirrors), "resources": resources}
    return type("Tiny", (MNIST,), attributes)


def test_download_then_cache(tmp_path):
    tiny = make_tiny(tmp_path / "mirror")
    Tiny = tiny_class([(tmp_path / "mirror").as_uri() + "/"], tiny["resources"])
    ds = Tiny(tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(ds.data, tiny["images"])
    np.testing.assert_array_equal(ds.targets, tiny["labels"])
    raw = tmp_path / "root" / "Tiny" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    shutil.rmtree(tmp_path / "mirror")  # no mirror any more: a second load must not download
    again = Tiny(tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(again.data, tiny["images"])


def test_download_tries_the_next_mirror(tmp_path):
    tiny = make_tiny(tmp_path / "good")
    mirrors = [(tmp_path / "missing").as_uri() + "/", (tmp_path / "good").as_uri() + "/"]
    ds = tiny_class(mirrors, tiny["resources"])(tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(ds.targets, tiny["labels"])


def test_download_with_wrong_checksum_names_file_and_checksums(tmp_path):
    tiny = make_tiny(tmp_path / "mirror")
    images, labels = tiny["resources"]["test"]
    wrong = {"test": (images._replace(md5="f" * 32), labels)}
    Tiny = tiny_class([(tmp_path / "mirror").as_uri() + "/"], wrong)
    with pytest.raises(ChecksumError) as info:
        Tiny(tmp_path / "root", train=False, download=True)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "f" * 32 in message and images.md5 in message
    assert not (tmp_path / "root" / "Tiny" / "raw" / "t10k-images-idx3-ubyte.gz").exists()
    assert [p.name for p in (tmp_path / "root" / "Tiny" / "raw").iterdir()] == []


def test_no_reachable_mirror_is_a_download_error(tmp_path):
    tiny = make_tiny(tmp_path / "mirror")
    Tiny = tiny_class([(tmp_path / "nowhere").as_uri() + "/"], tiny["resources"])
    with pytest.raises(DownloadError, match="Tiny.*t10k-images-idx3-ubyte.gz"):
        Tiny(tmp_path / "root", train=False, download=True)


def test_a_corrupt_cached_file_is_downloaded_again(tmp_path):
    tiny = make_tiny(tmp_path / "mirror")
    Tiny = tiny_class([(tmp_path / "mirror").as_uri() + "/"], tiny["resources"])
    Tiny(tmp_path / "root", train=False, download=True)
    labels = tmp_path / "root" / "Tiny" / "raw" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-3])
    with pytest.raises(IDXError, match="t10k-labels"):
        Tiny(tmp_path / "root", train=False)
    ds = Tiny(tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(ds.targets, tiny["labels"])


def test_real_mnist_download_path_verifies_published_checksums(tmp_path, mnist_test):
    """The shared real files, served from a file:// mirror, pass MNIST's own checksum table."""
    Mirrored = type("MNIST", (MNIST,), {"mirrors": (SHARED_MNIST.resolve().as_uri() + "/",)})
    ds = Mirrored(tmp_path, train=False, download=True)
    np.testing.assert_array_equal(ds.data, mnist_test.data)
    assert (tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file()


def unchecked(tiny) -> dict:
    """The tiny resources without content checksums, so only the format checks guard."""
    return {"test": tuple(r._replace(content_md5=None) for r in tiny["resources"]["test"])}


def test_mismatched_images_and_labels_are_refused(tmp_path):
    tiny = make_tiny(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", tiny["labels"][:5])
    Tiny = tiny_class([], unchecked(tiny))
    with pytest.raises(IDXError, match=r"labels must be uint8 of shape \(12,\)"):
        Tiny(tmp_path, train=False)


def test_out_of_range_labels_are_refused(tmp_path):
    tiny = make_tiny(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.full(12, 10, np.uint8))
    Tiny = tiny_class([], unchecked(tiny))
    with pytest.raises(IDXError, match="label 10 is out of range"):
        Tiny(tmp_path, train=False)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")) // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    which=st.sampled_from(["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]),
    flips=st.lists(st.integers(0, 10**7), max_size=3),
    cut=st.integers(0, 64),
    gunzip=st.booleans(),
)
def test_fuzz_damaged_dataset_files_never_give_garbage(tmp_path, which, flips, cut, gunzip):
    """Flipped bits, cut tails, gzipped or not: the exact data, or an error naming the file."""
    folder = tmp_path / "fuzz"
    shutil.rmtree(folder, ignore_errors=True)  # tmp_path is shared by the examples
    tiny = make_tiny(folder, seed=1)
    path = folder / which
    content = bytearray(gzip.decompress(path.read_bytes()) if gunzip else path.read_bytes())
    for f in flips:
        content[f % len(content)] ^= 1 << (f % 8)
    content = content[: len(content) - cut % len(content)]
    path.unlink()
    path = path.with_name(which.removesuffix(".gz")) if gunzip else path
    path.write_bytes(bytes(content))
    Tiny = tiny_class([], tiny["resources"])
    try:
        ds = Tiny(folder, train=False)
    except (IDXError, ChecksumError) as e:
        assert path.name in str(e)
    else:
        np.testing.assert_array_equal(ds.data, tiny["images"])
        np.testing.assert_array_equal(ds.targets, tiny["labels"])
