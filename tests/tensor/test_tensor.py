"""Tensor semantics: construction, dtypes, broadcasting, indexing, errors, PyTorch's conventions."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- construction and dtypes --------------------------------------------------------------------


def test_python_floats_become_float32_and_ints_int64():
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor(3.5).dtype == np.float32
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([True, False]).dtype == np.bool_
    assert Tensor([[1.0]]).shape == (1, 1)


def test_ndarrays_keep_their_dtype_and_are_copied():
    a = np.ones(3)
    t = Tensor(a)
    assert t.dtype == np.float64
    a[0] = 5.0
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_from_numpy_shares_memory():
    a = np.ones(3, dtype=np.float32)
    t = tg.from_numpy(a)
    a[0] = 5.0
    assert t[0].item() == 5.0


def test_dtype_argument_accepts_names_numpy_and_library_dtypes():
    assert Tensor([1], dtype=tg.float64).dtype == np.float64
    assert Tensor([1], dtype="float64").dtype == np.float64
    assert Tensor([1], dtype=np.float16).dtype == np.float16
    assert tg.tensor([1, 0], dtype=tg.bool).dtype == np.bool_


def test_unsupported_data_is_a_clear_type_error():
    with pytest.raises(TypeError, match="Tensor"):
        Tensor("hello")
    with pytest.raises(TypeError, match="not supported"):
        Tensor([1.0], dtype=np.complex128)


@pytest.mark.parametrize("data", [[1, 2], [True, False]])
def test_integer_and_bool_tensors_cannot_require_grad(data):
    with pytest.raises(RuntimeError, match="floating-point"):
        tg.tensor(data, requires_grad=True)
    t = tg.tensor(data)
    with pytest.raises(RuntimeError, match="floating-point"):
        t.requires_grad_()


def test_basic_attributes():
    t = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.dim() == 2
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.numel() == 6 and len(t) == 2
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert t.T.shape == (3, 2) and t.T.tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    assert tg.tensor(2.5).item() == 2.5
    assert isinstance(t.numpy(), np.ndarray)
    with pytest.raises(RuntimeError, match="one-element"):
        t.item()


def test_conversions():
    t = tg.tensor([1.5, -2.5])
    assert t.double().dtype == np.float64
    assert t.long().dtype == np.int64 and t.long().tolist() == [1, -2]
    assert t.to(tg.float64).dtype == np.float64
    assert t.astype("float16").dtype == np.float16
    assert t.float() is t
    assert float(tg.tensor([3.0])) == 3.0 and int(tg.tensor(7)) == 7


def test_repr_is_readable():
    assert repr(tg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(tg.zeros(2, requires_grad=True))
    x = tg.ones(2, requires_grad=True)
    assert "grad_fn=<mul>" in repr(x * 2)
    assert "dtype=float64" in repr(tg.zeros(2, dtype=tg.float64))


def test_python_scalars_do_not_upcast_float32():
    x = tg.ones(3)
    for y in (x + 1, 2.0 * x, x / 3, 1 - x, x**2, 2**x, x * np.float64(2.0)):
        assert y.dtype == np.float32


def test_type_promotion_follows_pytorch():
    f32, f64, i64 = tg.ones(2), tg.ones(2, dtype=tg.float64), tg.tensor([1, 2])
    assert (f32 + f64).dtype == np.float64
    assert (f32 + i64).dtype == np.float32  # numpy would give float64
    assert (i64 + 1).dtype == np.int64
    assert (i64 + 0.5).dtype == np.float32
    assert (i64 / 2).dtype == np.float32 and (i64 / 2).tolist() == [0.5, 1.0]
    assert i64.exp().dtype == np.float32


def test_gradient_flows_through_a_dtype_cast_and_back_in_the_input_dtype():
    x = tg.ones(3, requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0, 2.0]


def test_comparisons_give_bool_tensors_without_grad():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert m.tolist() == [False, True, True]
    assert (x == 2.0).tolist() == [False, True, False]
    assert (~m).tolist() == [True, False, False]
    assert ((x > 1.5) & (x < 2.5)).tolist() == [False, True, False]


def test_tensors_hash_by_identity_so_graph_sets_work():
    a, b = tg.ones(2), tg.ones(2)
    assert len({a, b}) == 2


# ---- broadcasting -------------------------------------------------------------------------------


def test_broadcasting_gradient_is_summed_to_each_input_shape():
    a = Tensor(arr(3, 1, 4), requires_grad=True)
    b = Tensor(arr(5, 1, seed=1), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1, 4) and b.grad.shape == (5, 1)
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1, 4), b.numpy().sum()), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), np.full((5, 1), a.numpy().sum()), rtol=1e-6)


def test_broadcast_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        tg.ones(2, 3) + tg.ones(4)
    with pytest.raises(ValueError, match=r"mul: shapes \(2,\) and \(3,\)"):
        tg.ones(2) * tg.ones(3)


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        tg.ones(2, 3) @ tg.ones(4, 5)
    with pytest.raises(ValueError, match="at least 1 dim"):
        tg.ones(2) @ tg.tensor(2.0)


def test_reshape_error_is_clear():
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        tg.ones(2, 3).reshape(4)


def test_bad_dim_is_an_index_error():
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        tg.ones(2, 3).sum(2)


# ---- indexing -----------------------------------------------------------------------------------


def test_indexing_forms_match_numpy():
    a = arr(3, 4, 5)
    t = Tensor(a)
    for idx in [1, -1, (slice(None), 2), (Ellipsis, 1), (None, 0), (slice(1, None, 2), None, 3),
                ([0, 2],), (np.array([1, 1]), slice(None), np.array([0, 4]))]:
        np.testing.assert_array_equal(t[idx].numpy(), a[idx])
    np.testing.assert_array_equal(t[t > 0].numpy(), a[a > 0])
    np.testing.assert_array_equal(t[tg.tensor([2, 0])].numpy(), a[[2, 0]])


def test_repeated_indices_accumulate_their_gradient():
    x = tg.zeros(4, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0, 0.0]


def test_mask_indexing_scatters_gradient_back():
    x = tg.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    (x[x > 0] * tg.tensor([10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 10.0, 0.0, 100.0]


def test_float_index_is_refused():
    with pytest.raises(IndexError, match="integer or bool"):
        tg.ones(3)[tg.tensor([0.0])]


# ---- reductions ---------------------------------------------------------------------------------


def test_max_with_dim_returns_values_and_indices():
    x = tg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    values.sum().backward()  # only the returned index gets the gradient, as PyTorch
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    assert x.min(dim=0).indices.tolist() == [0, 1, 0]


def test_max_without_dim_splits_gradient_among_ties():
    x = tg.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


def test_axis_is_an_alias_of_dim():
    x = Tensor(arr(2, 3))
    np.testing.assert_allclose(x.sum(axis=1).numpy(), x.sum(dim=1).numpy())
    np.testing.assert_allclose(x.mean(axis=0).numpy(), x.numpy().mean(axis=0), rtol=1e-6)
    with pytest.raises(TypeError, match="not both"):
        x.sum(dim=0, axis=0)


def test_softmax_is_stable_for_huge_logits():
    x = tg.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    p = x.softmax(dim=1)
    assert np.isfinite(p.numpy()).all() and p.numpy()[0, 0] == 1.0
    ls = x.log_softmax(dim=1)
    assert np.isfinite(ls.numpy()).all() and ls.numpy()[0, 1] == -1e4
    ls[0, 0].backward()
    assert np.isfinite(x.grad.numpy()).all()
    lse = x.logsumexp(dim=1)
    assert lse.item() == 1e4


def test_mean_of_an_integer_tensor_is_refused_as_pytorch():
    with pytest.raises(RuntimeError, match="floating-point"):
        tg.tensor([1, 2]).mean()


def test_argmax_argmin():
    x = tg.tensor([[1.0, 5.0], [7.0, 0.0]])
    assert x.argmax().item() == 2 and x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(dim=0).tolist() == [0, 1]


# ---- shape ops ----------------------------------------------------------------------------------


def test_shape_ops_match_numpy():
    a = arr(2, 3, 4)
    t = Tensor(a)
    np.testing.assert_array_equal(t.reshape(6, -1).numpy(), a.reshape(6, -1))
    np.testing.assert_array_equal(t.view(4, 6).numpy(), a.reshape(4, 6))
    np.testing.assert_array_equal(t.permute(2, 0, 1).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.transpose(0, 2).numpy(), a.swapaxes(0, 2))
    np.testing.assert_array_equal(t.flatten().numpy(), a.reshape(-1))
    np.testing.assert_array_equal(t.flatten(1).numpy(), a.reshape(2, 12))
    assert t.unsqueeze(0).shape == (1, 2, 3, 4) and t.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert tg.ones(1, 3, 1).squeeze().shape == (3,) and tg.ones(1, 3, 1).squeeze(0).shape == (3, 1)
    assert tg.ones(3, 1).expand(2, 3, 4).shape == (2, 3, 4)
    assert tg.ones(3, 1).expand(-1, 5).shape == (3, 5)
    np.testing.assert_array_equal(t.repeat(2, 1, 3).numpy(), np.tile(a, (2, 1, 3)))
    assert [p.shape for p in t.split(2, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    assert [p.shape for p in t.chunk(2, dim=1)] == [(2, 2, 4), (2, 1, 4)]
    assert tg.cat([t, t], dim=1).shape == (2, 6, 4)
    assert tg.stack([t, t], dim=-1).shape == (2, 3, 4, 2)
    np.testing.assert_array_equal(
        t.pad((1, 2)).numpy(), np.pad(a, ((0, 0), (0, 0), (1, 2)))
    )


def test_expand_to_an_incompatible_shape_is_refused():
    with pytest.raises(ValueError, match="expand"):
        tg.ones(3, 2).expand(3, 4)


def test_cat_shape_mismatch_is_clear():
    with pytest.raises(ValueError, match="cat: shapes"):
        tg.cat([tg.ones(2, 3), tg.ones(3, 3)], dim=1)


# ---- data, detach, clone ------------------------------------------------------------------------


def test_detach_and_data_share_storage_without_history():
    x = tg.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    d.numpy()[0] = 10.0
    assert y[0].item() == 10.0
    assert not x.data.requires_grad and x.data.numpy() is x.numpy()


def test_assigning_data_swaps_storage():
    x = tg.ones(3, requires_grad=True)
    x.data = tg.zeros(3)
    assert x.tolist() == [0.0, 0.0, 0.0] and x.requires_grad


def test_clone_copies_but_stays_in_the_graph():
    x = tg.ones(3, requires_grad=True)
    c = x.clone()
    c.numpy()[0] = 5.0
    assert x[0].item() == 1.0
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]


def test_numpy_array_on_the_left_keeps_the_graph():
    x = tg.ones(2, requires_grad=True)
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, Tensor) and y.requires_grad


def test_deepcopy_and_pickle_keep_data_grad_and_label_but_not_history():
    import copy
    import pickle

    x = tg.ones(3, requires_grad=True)
    x.label = "x"
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    assert y.tolist() == [1.0, 1.0, 1.0] and y.requires_grad and y.label == "x"
    assert y.grad.tolist() == [2.0, 2.0, 2.0]
    assert not np.shares_memory(y.numpy(), x.numpy())
    z = pickle.loads(pickle.dumps(x * 3))
    assert z.is_leaf and z.tolist() == [3.0, 3.0, 3.0]


def test_device_calls_are_accepted_and_change_nothing():
    x = tg.ones(2)
    assert x.to("cpu") is x and x.cpu() is x and x.contiguous() is x and x.device == "cpu"
    assert x.to("cpu", dtype=tg.float64).dtype == np.float64
    assert x.to(tg.zeros(1, dtype=tg.float64)).dtype == np.float64


def test_rounding_values():
    x = tg.tensor([1.5, -1.5, 2.4], requires_grad=True)
    assert x.floor().tolist() == [1.0, -2.0, 2.0]
    assert x.ceil().tolist() == [2.0, -1.0, 3.0]
    assert x.round().tolist() == [2.0, -2.0, 2.0]
    assert x.trunc().tolist() == [1.0, -1.0, 2.0]


def test_gather_with_repeated_indices_accumulates():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.gather(1, tg.tensor([[0, 0], [1, 0]]))
    assert y.tolist() == [[1.0, 1.0], [4.0, 3.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0], [1.0, 1.0]]


def test_format_and_small_helpers_behave_as_pytorch():
    loss = tg.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123"
    assert f"{tg.ones(2)}" == repr(tg.ones(2))
    assert 2.0 in tg.tensor([1.0, 2.0]) and 3.0 not in tg.tensor([1.0, 2.0])
    x = tg.ones(2, dtype=tg.float64)
    assert x.new_zeros(3).dtype == np.float64 and x.new_ones((2, 2)).tolist() == [[1.0] * 2] * 2
    assert x.new_full((2,), 5.0).tolist() == [5.0, 5.0] and x.new_tensor([1]).dtype == np.float64
    assert x.is_floating_point() and not tg.tensor([1]).is_floating_point()
    assert x.nelement() == 2 and x.element_size() == 8


def test_where_with_only_a_condition_and_nonzero_give_indices():
    c = tg.tensor([[True, False], [False, True]])
    rows, cols = tg.where(c)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    assert c.nonzero().tolist() == [[0, 0], [1, 1]]
    assert [t.tolist() for t in c.nonzero(as_tuple=True)] == [[0, 1], [0, 1]]


def test_clone_keeps_every_value_exactly_and_the_dtype():
    x = tg.tensor([-0.0, np.inf, -np.inf, np.nan, 1e-30])
    c = x.clone()
    assert np.array_equal(np.signbit(c.numpy()), np.signbit(x.numpy()))
    np.testing.assert_array_equal(c.numpy(), x.numpy())
    assert tg.tensor([True, False]).clone().dtype == np.bool_
    assert tg.tensor([1, 2]).clone().dtype == np.int64
