"""The toy data sets: shapes, dtypes, the geometry each one promises, and reproducibility."""

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu.data import (
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spirals,
    make_xor,
)

CLASSIFIERS = [
    (make_moons, {}),
    (make_circles, {}),
    (make_spirals, {"n_classes": 3}),
    (make_xor, {}),
    (make_blobs, {"centers": 4}),
]


@pytest.mark.parametrize("make, kwargs", CLASSIFIERS)
@pytest.mark.parametrize("n", [1, 7, 100])
def test_classification_sets_have_public_shapes_and_dtypes(make, kwargs, n):
    X, y = make(n, noise=0.1, **kwargs) if make is not make_blobs else make(n, **kwargs)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))


def test_moons_lie_on_their_half_circles_without_noise():
    X, y = make_moons(101, seed=0)
    top, bottom = X[y == 0], X[y == 1]
    assert len(top) == 50 and len(bottom) == 51
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0, atol=1e-6)
    assert np.all(top[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1.0, bottom[:, 1] - 0.5), 1.0, atol=1e-6)
    assert np.all(bottom[:, 1] <= 0.5 + 1e-6)


def test_moons_for_the_svm_demo_map_to_plus_minus_one():
    X, y = make_moons(100, noise=0.1, seed=3)
    y_svm = 2 * y - 1
    assert set(np.unique(y_svm)) == {-1, 1}
    assert (y_svm == 1).sum() == 50


def test_circles_have_radius_one_and_factor():
    X, y = make_circles(40, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)


def test_spirals_split_classes_evenly_and_stay_in_the_unit_disk():
    X, y = make_spirals(10, n_classes=3, seed=0)
    assert np.bincount(y).tolist() == [4, 3, 3]
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1 + 1e-6)
    # arm c ends on the unit circle at angle 2*pi*c/3 (turns=1 brings it back round)
    for c in range(3):
        end = X[y == c][np.argmax(np.hypot(*X[y == c].T))]
        angle = 2 * np.pi * c / 3
        np.testing.assert_allclose(end, [np.cos(angle), np.sin(angle)], atol=1e-6)


def test_xor_default_is_the_truth_table():
    X, y = make_xor(shuffle=False)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_noisy_xor_labels_follow_the_nearest_corner():
    X, y = make_xor(400, noise=0.05, seed=1)
    nearest = np.round(np.clip(X, 0, 1))
    np.testing.assert_array_equal(y, nearest[:, 0] != nearest[:, 1])
    assert np.bincount(y).tolist() == [200, 200]


def test_blobs_with_zero_std_sit_on_their_centers():
    centers = np.array([[0.0, 0.0, 1.0], [5.0, 5.0, 5.0]])
    X, y = make_blobs([3, 5], centers=centers, cluster_std=0.0, seed=0)
    assert X.shape == (8, 3)
    assert np.bincount(y).tolist() == [3, 5]
    np.testing.assert_allclose(X, centers[y])


def test_blobs_spread_by_cluster_std():
    X, y, centers = make_blobs(4000, centers=2, cluster_std=[0.5, 2.0], seed=0, return_centers=True)
    assert centers.shape == (2, 2)
    assert np.all((centers >= -10) & (centers <= 10))
    for c, std in enumerate([0.5, 2.0]):
        np.testing.assert_allclose(X[y == c].std(axis=0), std, rtol=0.1)
        np.testing.assert_allclose(X[y == c].mean(axis=0), centers[c], atol=0.2)


def test_regression_is_linear_without_noise():
    X, y, w = make_regression(50, 8, n_informative=3, bias=2.0, coef=True, seed=0)
    assert X.shape == (50, 8) and y.shape == (50,) and w.shape == (8,)
    assert X.dtype == y.dtype == np.float32
    assert np.count_nonzero(w) == 3
    np.testing.assert_allclose(y, X.astype(np.float64) @ w + 2.0, rtol=1e-4, atol=1e-3)


def test_regression_noise_has_the_requested_std():
    X, y, w = make_regression(20000, 3, n_informative=3, noise=1.5, coef=True, seed=0)
    residual = y - X.astype(np.float64) @ w
    assert abs(residual.std() - 1.5) < 0.05


def test_regression_with_several_targets():
    X, y, w = make_regression(10, 4, n_targets=3, coef=True, seed=0)
    assert y.shape == (10, 3) and w.shape == (4, 3)


ALL_MAKERS = [make_moons, make_circles, make_spirals, make_xor, make_blobs, make_regression]


@pytest.mark.parametrize("make", ALL_MAKERS)
def test_manual_seed_makes_sets_reproducible(make):
    tinygrad_edu.manual_seed(123)
    first = make(30)
    tinygrad_edu.manual_seed(123)
    second = make(30)
    third = make(30)  # the generator moved on: a new draw
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(first, third))


@pytest.mark.parametrize("make", ALL_MAKERS)
def test_an_int_seed_ignores_the_global_generator(make):
    tinygrad_edu.manual_seed(1)
    first = make(30, seed=7)
    tinygrad_edu.manual_seed(2)
    second = make(30, seed=7)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", ALL_MAKERS)
@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True])
def test_bad_sample_counts_are_refused_by_name(make, bad):
    with pytest.raises(ValueError, match=make.__name__ + ".*n_samples"):
        make(bad)


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals, make_xor])
def test_negative_noise_is_refused(make):
    with pytest.raises(ValueError, match=make.__name__ + ".*noise"):
        make(10, noise=-0.1)


def test_bad_seed_is_refused():
    with pytest.raises(ValueError, match="make_moons.*seed"):
        make_moons(10, seed=-1)


def test_circles_factor_must_be_below_one():
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, factor=1.0)
