"""NumPy inference of the video networks against PyTorch (golden fixtures made by
tests/fixtures/make_torch_fixtures.py; live torch where installed), layers against direct loops,
and checkpoint loading (torch-written files, malicious and corrupted ones)."""

from __future__ import annotations

import io
import json
import pickle
import struct
import sys
import zipfile
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scratchvision import nn
from scratchvision.nn import functional as F

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TORCH = FIXTURES / "torch_golden"
sys.path.insert(0, str(FIXTURES))
from seeded_weights import seeded_state_dict  # noqa: E402

from conftest import write_safetensors  # noqa: E402
import naive  # noqa: E402

MANIFEST = json.loads((TORCH / "manifest.json").read_text())


def _close_to_torch(ours, ref):
    """rtol 1e-4 against torch's logits, relative to their largest magnitude (logits near zero
    carry the rounding of the large ones)."""
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


@contextmanager
def conv_path(path):
    """Force every convolution that is not pointwise onto one lowering ("im2col", "shifted", or
    "winograd" wherever the kernel is 3x3 with stride 1, whatever the channel count); "auto" keeps
    the rule of F.conv_lowering."""
    rule = F.conv_lowering

    def forced(shape, stride, padding, dilation):
        how = rule(shape, stride, padding, dilation)
        if path == "auto" or how == "pointwise":
            return how
        if path == "winograd":
            ok = tuple(shape[3:]) == (3, 3) and tuple(stride) == (1, 1, 1) and tuple(dilation[1:]) == (1, 1)
            return "winograd" if ok else how
        return path

    with mock.patch.object(F, "conv_lowering", forced):
        yield


@pytest.mark.parametrize("path", ["auto", "im2col", "shifted", "winograd"])
@pytest.mark.parametrize("name", sorted(MANIFEST["networks"]))
def test_networks_equal_torchvision(name, path):
    """Same state_dict names, shapes and order as torchvision; same logits for the same weights,
    whichever way the convolutions are lowered."""
    info = MANIFEST["networks"][name]
    model = getattr(nn, name)(**info["kwargs"])
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == [(k, s) for k, s in info["layout"]]
    data = np.load(TORCH / f"{name}.npz")
    with conv_path(path):  # loading lays the weights out for the lowering
        model.load_state_dict(seeded_state_dict(info["layout"], info["seed"]))
        _close_to_torch(model(data["input"]), data["logits"])


def test_two_stream_equals_torch_and_cross_modality_init():
    info = MANIFEST["networks"]["resnet18"]
    ts = nn.TwoStream(num_classes=10, flow_length=5)
    ts.spatial.load_state_dict(seeded_state_dict(info["layout"], MANIFEST["two_stream"]["spatial_seed"]))
    rgb_weights = seeded_state_dict(info["layout"], MANIFEST["two_stream"]["temporal_seed"])
    ts.temporal.load_state_dict(nn.cross_modality_conv1(rgb_weights, 10))
    data = np.load(TORCH / "two_stream.npz")
    scores = ts((data["rgb"], data["flow"]))
    _close_to_torch(scores, data["scores"])
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-6)
    assert ts.state_dict()["temporal.conv1.weight"].shape == (64, 10, 7, 7)
    linear = nn.TwoStream(num_classes=10, flow_length=5, fusion="linear")
    assert "fusion.weight" in linear.state_dict() and linear((data["rgb"], data["flow"])).shape == (1, 10)


def test_checkpoints_written_by_torch_read_back_bit_exact():
    expected = np.load(TORCH / "checkpoints_expected.npz")
    for name in ("small_zip.pth", "small_legacy.pth", "small_wrapped.pth"):
        sd = nn.load_checkpoint(TORCH / name)
        assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                            "1.num_batches_tracked", "4.weight", "4.bias"]
        for k, v in sd.items():
            assert v.dtype == expected[k].dtype
            np.testing.assert_array_equal(v, expected[k])
        model = nn.Sequential(nn.Conv3d(3, 4, 3), nn.BatchNorm3d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2))
        model.load_state_dict(sd)
        assert int(model.state_dict()["1.num_batches_tracked"]) == 7
    st_dict = nn.load_checkpoint(TORCH / "small.safetensors")
    for k in ("f32", "f16", "bf16", "i64"):
        np.testing.assert_array_equal(st_dict[k], expected[f"st.{k}"])
    assert st_dict["bf16"].dtype == np.float32 and st_dict["i64"].dtype == np.int64


def _malicious_pickle(marker: Path) -> bytes:
    class Payload:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))
    return pickle.dumps({"weight": Payload()}, protocol=2)


def test_malicious_pickles_are_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    zipped = tmp_path / "evil.pth"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("archive/data.pkl", _malicious_pickle(marker))
    legacy = tmp_path / "evil_legacy.pth"
    legacy.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C) + _malicious_pickle(marker))
    bare = tmp_path / "evil.pt"
    bare.write_bytes(_malicious_pickle(marker))
    for path in (zipped, legacy, bare):
        with pytest.raises(ValueError, match="refusing to load (posix|os|nt).system|not a torch checkpoint"):
            nn.load_checkpoint(path)
    assert not marker.exists()


def test_corrupted_and_truncated_checkpoints(tmp_path):
    for name in ("small_zip.pth", "small_legacy.pth", "small.safetensors"):
        data = (TORCH / name).read_bytes()
        for cut in (len(data) // 2, len(data) - 7, 5):
            bad = tmp_path / f"cut_{cut}_{name}"
            bad.write_bytes(data[:cut])
            with pytest.raises(ValueError, match=bad.name):
                nn.load_checkpoint(bad)
    header = json.dumps({"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}}).encode()
    bad = tmp_path / "short.safetensors"
    bad.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 32)
    with pytest.raises(ValueError, match="does not fit its byte range"):
        nn.load_checkpoint(bad)
    with pytest.raises(FileNotFoundError):
        nn.load_checkpoint(tmp_path / "missing.pth")


def test_load_state_dict_reports_keys_and_shapes_like_torch():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    sd = {k: np.ones(v.shape, v.dtype) for k, v in model.state_dict().items()}
    extra = dict(sd, **{"2.weight": np.zeros(3)})
    del extra["1.running_var"]
    with pytest.raises(ValueError, match=r'Missing key\(s\) in state_dict: "1.running_var".*\n.*Unexpected key\(s\) '
                                         r'in state_dict: "2.weight"'):
        model.load_state_dict(extra)
    assert model.load_state_dict(extra, strict=False) == (["1.running_var"], ["2.weight"])
    with pytest.raises(ValueError, match=r"size mismatch for 0.weight: the checkpoint has shape \(4, 3, 5, 5\)"):
        model.load_state_dict(dict(sd, **{"0.weight": np.zeros((4, 3, 5, 5))}))
    with pytest.raises(ValueError, match="1.weight: contains NaN"):
        model.load_state_dict(dict(sd, **{"1.weight": np.full(4, np.nan)}))


@given(seed=st.integers(0, 10_000), groups=st.sampled_from([1, 2]), k=st.tuples(*[st.integers(1, 3)] * 3),
       stride=st.tuples(*[st.integers(1, 3)] * 3), pad=st.tuples(*[st.integers(0, 2)] * 3),
       dil=st.tuples(*[st.integers(1, 2)] * 3), bias=st.booleans(), channels=st.sampled_from([4, 6, 40]),
       path=st.sampled_from(["auto", "im2col", "shifted", "winograd"]),
       layout=st.sampled_from(["torch", "offset_major"]), relu=st.booleans())
@example(seed=0, groups=1, k=(1, 1, 1), stride=(1, 1, 2), pad=(0, 0, 0), dil=(1, 1, 1), bias=False, channels=4,
         path="auto", layout="torch", relu=False)  # pointwise, strided along W only: the sampled input is not one row
@example(seed=1, groups=1, k=(1, 1, 1), stride=(1, 1, 1), pad=(0, 0, 0), dil=(1, 1, 1), bias=True, channels=6,
         path="auto", layout="offset_major", relu=True)  # pointwise with few channels: its own loop
@example(seed=2, groups=1, k=(1, 1, 1), stride=(1, 1, 1), pad=(0, 0, 0), dil=(1, 1, 1), bias=True, channels=40,
         path="auto", layout="torch", relu=True)  # pointwise with many channels: BLAS, then bias and ReLU
def test_conv3d_equals_its_definition(seed, groups, k, stride, pad, dil, bias, channels, path, layout, relu):
    """Each lowering (im2col, shifted windows over polyphase components, Winograd, pointwise by
    BLAS or, with few channels, by its own loop) against the definition, float64 loops, for
    strides up to 3 (several components), dilation, padding, groups, with and without the fused
    ReLU."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, channels, 5, 7, 6)).astype(np.float32)
    out_channels = 6 if channels < 40 else 34
    w = rng.standard_normal((out_channels, channels // groups) + k).astype(np.float32)
    b = rng.standard_normal(out_channels).astype(np.float32) if bias else None
    try:
        ref = naive.conv(x, w, b, stride, pad, dil, groups)
    except ValueError:
        return
    if layout == "offset_major":
        w = F.offset_major(w)
    with conv_path(path):
        if min(ref.shape[2:]) < 1:
            with pytest.raises(ValueError, match="too small"):
                F.conv3d(x, w, b, stride, pad, dil, groups)
            return
        ours = F.conv3d(x, w, b, stride, pad, dil, groups, relu=relu)
        np.testing.assert_allclose(ours, np.maximum(ref, 0) if relu else ref, rtol=1e-5, atol=1e-5 * channels)


@given(seed=st.integers(0, 10_000), channels=st.integers(1, 4), out_channels=st.integers(1, 9),
       frames=st.integers(1, 3), k=st.tuples(st.integers(1, 7), st.integers(1, 7)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), pad=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       size=st.tuples(st.integers(1, 12), st.integers(1, 12)), bias=st.booleans(), relu=st.booleans())
def test_first_layer_loop_equals_its_definition(seed, channels, out_channels, frames, k, stride, pad, size, bias, relu):
    """A convolution with few input channels and one temporal tap (a first layer: OSNet's 7x7/2
    stem, RAFT's, DeepSORT's 3x3) runs as its own loop over polyphase components: against the
    definition for kernels up to 7x7, strides up to 3, paddings up to 3, clips of 1-3 frames."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, channels, frames) + size).astype(np.float32)
    w = rng.standard_normal((out_channels, channels, 1) + k).astype(np.float32)
    b = rng.standard_normal(out_channels).astype(np.float32) if bias else None
    if min(n + 2 * p - kk for n, p, kk in zip(size, pad, k)) < 0 or (k == (1, 1) and pad == (0, 0)):
        return  # no output, or a pointwise convolution (its own path)
    ref = naive.conv(x, w, b, (1, *stride), (0, *pad), (1, 1, 1), 1)
    assert F.conv_lowering(w.shape, (1, *stride), (0, *pad)) == "im2col"
    ours = F.conv3d(x, w, b, (1, *stride), (0, *pad), relu=relu)
    np.testing.assert_allclose(ours, np.maximum(ref, 0) if relu else ref, rtol=1e-5, atol=1e-4)


@given(seed=st.integers(0, 10_000), kt=st.integers(1, 3), pad=st.tuples(*[st.integers(0, 2)] * 3),
       dil_t=st.integers(1, 2), size=st.tuples(st.integers(3, 6), st.integers(1, 9), st.integers(1, 9)),
       groups=st.sampled_from([1, 2]))
def test_winograd_equals_its_definition(seed, kt, pad, dil_t, size, groups):
    """3x3 (x kT) convolutions through Winograd's F(2x2, 3x3): odd and even maps (partial edge
    tiles), maps smaller than a tile, padding 0-2, temporal dilation, groups, weights transformed
    on the fly or in advance."""
    from scratchvision.nn.winograd import winograd_weights

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 4 * groups) + size).astype(np.float32)
    w = rng.standard_normal((3 * groups, 4, kt, 3, 3)).astype(np.float32)
    try:
        ref = naive.conv(x, w, None, (1, 1, 1), pad, (dil_t, 1, 1), groups)
    except ValueError:
        return
    if min(ref.shape[2:]) < 1:
        return
    with conv_path("winograd"):
        assert F.conv_lowering(w.shape, (1, 1, 1), pad, (dil_t, 1, 1)) == "winograd"
        ours = F.conv3d(x, w, None, (1, 1, 1), pad, (dil_t, 1, 1), groups)
        again = F.conv3d(x, w, None, (1, 1, 1), pad, (dil_t, 1, 1), groups, winograd=winograd_weights(w))
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    assert np.array_equal(ours, again)


def test_winograd_transforms_are_the_papers():
    """B^T d B, G g G^T and A^T M A as matrices: the transforms of the package reproduce a direct
    3x3 correlation of a 4x4 tile, and the kernels equal the matrix formulas."""
    from scratchvision.nn import winograd as W

    rng = np.random.default_rng(0)
    d = rng.standard_normal((4, 4))
    g = rng.standard_normal((3, 3))
    direct = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(2)] for i in range(2)])
    u = W.G.astype(np.float64) @ g @ W.G.T
    v = W.BT.astype(np.float64) @ d @ W.BT.T
    np.testing.assert_allclose(W.AT @ (u * v) @ W.AT.T, direct, atol=1e-12)
    np.testing.assert_allclose(W.winograd_weights(g[None, None])[:, 0, 0, 0].reshape(4, 4), u, rtol=1e-6)
    x = rng.standard_normal((2, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(W.input_tiles(x, padding=(0, 0))[:, :, 0].T.reshape(2, 4, 4),
                               [W.BT @ xc @ W.BT.T for xc in x], rtol=1e-6, atol=1e-6)
    m = rng.standard_normal((16, 3, 1)).astype(np.float32)
    np.testing.assert_allclose(W.output_tiles(m, (2, 2)), [W.AT @ m[:, o, 0].reshape(4, 4) @ W.AT.T for o in range(3)],
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="weight must be"):
        W.winograd_weights(np.zeros((2, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="x must be"):
        W.input_tiles(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="smaller than a 3x3"):
        W.input_tiles(np.zeros((1, 1, 4), np.float32), padding=(0, 0))
    with pytest.raises(ValueError, match="m must be"):
        W.output_tiles(np.zeros((16, 3, 2), np.float32), (2, 2))
    with pytest.raises(ValueError, match="weight_shape must be"):
        F.conv_lowering((2, 3, 3))


def test_offset_major_is_the_same_weights_stored_for_the_products():
    w = np.arange(2 * 3 * 2 * 3 * 4, dtype=np.float32).reshape(2, 3, 2, 3, 4)
    wk = F.offset_major(w)
    assert wk.shape == w.shape and np.array_equal(wk, w)
    assert wk.transpose(2, 3, 4, 0, 1).flags.c_contiguous
    w2 = F.offset_major(w[:, :, 0])
    assert np.array_equal(w2, w[:, :, 0]) and w2.transpose(2, 3, 0, 1).flags.c_contiguous


@given(seed=st.integers(0, 10_000), m=st.integers(0, 7), k=st.integers(0, 6), n=st.integers(0, 9),
       ta=st.booleans(), tb=st.booleans(), pad=st.integers(0, 3), accumulate=st.booleans())
def test_blas_matmul_on_views(seed, m, k, n, ta, tb, pad, accumulate):
    """nn._blas.matmul against NumPy: transposed operands, windows of larger arrays (row strides
    beyond the row length), output columns written in place, accumulation."""
    from scratchvision.nn._blas import matmul

    rng = np.random.default_rng(seed)
    big_a = rng.standard_normal((k, m + pad) if ta else (m, k + pad)).astype(np.float32)
    a = big_a[:, pad:].T if ta else big_a[:, pad:]
    big_b = rng.standard_normal((n, k + pad) if tb else (k, n + pad)).astype(np.float32)
    b = big_b[:, pad:].T if tb else big_b[:, :n]
    big_out = rng.standard_normal((m, n + pad)).astype(np.float32)
    before = big_out.copy()
    out = big_out[:, pad:]
    expected = a.astype(np.float64) @ b.astype(np.float64) + (before[:, pad:] if accumulate else 0.0)
    assert matmul(a, b, out, accumulate=accumulate) is out
    np.testing.assert_allclose(big_out[:, pad:], expected, rtol=1e-5, atol=1e-5)
    assert np.array_equal(big_out[:, :pad], before[:, :pad])  # nothing written outside the window


def test_blas_matmul_refuses_what_blas_cannot_read():
    from scratchvision.nn._blas import matmul

    a = np.ones((4, 4), np.float32)
    with pytest.raises(TypeError, match="a must be a 2-D float32"):
        matmul(a.astype(np.float64), a, np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="shapes do not agree"):
        matmul(a, a[:3], np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="unit stride"):
        matmul(np.ones((8, 8), np.float32)[::2, ::2], a, np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="out needs unit stride"):
        matmul(a, a, np.empty((4, 4), np.float32).T)
    with pytest.raises(ValueError, match="negative strides"):
        matmul(a[::-1], a, np.empty((4, 4), np.float32))


@given(seed=st.integers(0, 10_000), k=st.tuples(*[st.integers(1, 3)] * 3), stride=st.tuples(*[st.integers(1, 3)] * 3),
       pad=st.tuples(*[st.integers(0, 1)] * 3), size=st.tuples(*[st.integers(1, 7)] * 3))
def test_pooling_3d_equals_its_definition(seed, k, stride, pad, size):
    """Max pooling (padding never wins) and average pooling (padding counted, torch's default) over
    windows cut at the borders, against loops over the padded input."""
    pad = tuple(min(p, kk // 2) for p, kk in zip(pad, k))
    x = np.random.default_rng(seed).standard_normal((2, 3) + size).astype(np.float32)
    out = [(n + 2 * p - kk) // s + 1 for n, p, kk, s in zip(size, pad, k, stride)]
    if min(out) < 1:
        with pytest.raises(ValueError, match="too small"):
            F.max_pool3d(x, k, stride, pad)
        return
    widths = [(0, 0), (0, 0)] + [(p, p) for p in pad]
    for padded, ours, reduce in ((np.pad(x, widths, constant_values=-np.inf), F.max_pool3d(x, k, stride, pad), np.max),
                                 (np.pad(x.astype(np.float64), widths), F.avg_pool3d(x, k, stride, pad), np.mean)):
        ref = np.empty(x.shape[:2] + tuple(out))
        for i, j, m in np.ndindex(*out):
            window = padded[:, :, i * stride[0]:i * stride[0] + k[0], j * stride[1]:j * stride[1] + k[1],
                            m * stride[2]:m * stride[2] + k[2]]
            ref[:, :, i, j, m] = reduce(window, axis=(2, 3, 4))
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)


def test_add_relu_and_sequential_fusion_equal_their_definition():
    """add_relu is max(x + residual, 0) in place (NaN passes, as torch's ReLU); a Sequential of
    convolution, folded batch norm and ReLU runs the ReLU inside the convolution, with the
    result of the three layers applied one by one."""
    rng = np.random.default_rng(3)
    x, r = rng.standard_normal((2, 3, 5, 7)).astype(np.float32), rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    expected = np.maximum(x + r, 0)
    out = F.add_relu(x, r)
    assert out is x
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="residual"):
        F.add_relu(x, r[:1])
    with pytest.raises(TypeError, match="x must be"):
        F.add_relu(x.astype(np.float64), r)
    seq = nn.Sequential(nn.Conv2d(3, 4, 3, 1, 1), nn.BatchNorm2d(4), nn.ReLU())
    seq.load_state_dict({k: rng.uniform(0.5, 1.5, v.shape).astype(np.float32) if k.endswith("var")
                         else rng.standard_normal(v.shape).astype(np.float32) for k, v in seq.state_dict().items()})
    conv, bn, _ = seq
    y = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    calls = []
    relu_forward = nn.ReLU.forward
    with mock.patch.object(nn.ReLU, "forward", lambda self, v: calls.append(1) or relu_forward(self, v)):
        fused = seq(y)
    assert calls == []  # the ReLU ran inside the convolution
    scale = bn.weight / np.sqrt(bn.running_var + bn.eps)
    ref = naive.conv(y[:, :, None], conv.weight[:, :, None], conv.bias, (1, 1, 1), (0, 1, 1), (1, 1, 1), 1)[:, :, 0]
    ref = (ref - bn.running_mean[:, None, None]) * scale[:, None, None] + bn.bias[:, None, None]
    np.testing.assert_allclose(fused, np.maximum(ref, 0), rtol=1e-5, atol=1e-5)


def test_pooling_equals_its_definition():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 10)).astype(np.float32)
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)], constant_values=-np.inf)
    ref = np.array([[[[xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(5)] for i in range(5)]
                     for c in range(3)] for n in range(2)])
    np.testing.assert_array_equal(F.max_pool2d(x, (3, 3), (2, 2), (1, 1)), ref)
    ref = x[:, :, :8, :10].reshape(2, 3, 4, 2, 5, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(F.avg_pool2d(x, (2, 2)), ref, rtol=1e-6, atol=1e-6)
    out = F.adaptive_avg_pool2d(x, (4, 3))  # torch's bins: floor(i*in/out) .. ceil((i+1)*in/out)
    np.testing.assert_allclose(out[..., 1, 2], x[..., 2:5, 6:10].mean(axis=(2, 3)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(F.adaptive_avg_pool3d(x[:, :, None], (1, 1, 1))[..., 0, 0, 0], x.mean(axis=(2, 3)),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: nn.r3d_18(10)(np.zeros((1, 3, 8, 32), np.float32)), r"clips \(N, 3, T, H, W\)"),
    (lambda: nn.mc3_18(10)(np.zeros((1, 1, 4, 32, 32), np.float32)), r"clips \(N, 3, T, H, W\)"),
    (lambda: nn.resnet18(10)(np.zeros((1, 4, 32, 32), np.float32)), r"images \(N, 3, H, W\)"),
    (lambda: F.conv3d(np.zeros((1, 2, 2, 4, 4), np.float32), np.zeros((2, 2, 3, 3, 3), np.float32)), "too small"),
    (lambda: F.conv3d(np.zeros((1, 2, 4, 8, 8), np.float32), np.zeros((2, 2, 3, 5, 5), np.float32), padding=(1, 2, 2),
                      winograd=np.zeros((16, 3, 2, 2), np.float32)), "computed as im2col"),
    (lambda: nn.sample_clips(10, 16), "the video has 10 frames; a clip of 16 frames every 1 needs 16"),
    (lambda: nn.sample_clips(20, 8, 3), "needs 22"),
    (lambda: nn.cross_modality_conv1({"conv1.weight": np.zeros((64, 2, 7, 7))}, 10), "conv1.weight"),
    (lambda: nn.TwoStream(fusion="max"), "fusion"),
])
def test_bad_input(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def test_r3d_rejects_float64():
    with pytest.raises(TypeError, match="float32"):
        nn.r3d_18(10)(np.zeros((1, 3, 4, 32, 32)))


def test_classify_video_and_cli(tmp_path, capsys):
    """A seeded MC3-18 with 400 outputs on a synthetic RGB clip: top-5 Kinetics names with
    probabilities from the averaged softmax; the CLI prints the same."""
    from scratchvision import synthetic_sequence
    from scratchvision.cli import main

    model = nn.mc3_18(400)
    layout = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    weights = seeded_state_dict(layout, 5)
    model.load_state_dict(weights)
    frames = synthetic_sequence(20, size=(64, 80), n_objects=2, seed=1, color=True).frames
    top = nn.classify_video(frames, model, clip_len=8, stride=2, num_clips=2)
    names = nn.kinetics400_classes()
    assert len(top) == 5 and all(n in names for n, _ in top)
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6  # float32 probabilities
    clips = np.stack([nn.preprocess_frames(frames[i]) for i in nn.sample_clips(20, 8, 2, 2)])
    assert clips.shape == (2, 3, 8, 112, 112)
    manual = F.softmax(model(clips), 1).mean(axis=0)
    assert top[0] == (names[int(np.argmax(manual))], pytest.approx(float(manual.max())))
    from scratchvision import read_video, write_video
    video = tmp_path / "clip.gif"
    write_video(video, frames)
    ckpt = tmp_path / "mc3.safetensors"
    write_safetensors(ckpt, weights)
    assert main(["classify", str(video), "--model", "mc3_18", "--weights", str(ckpt), "--clip-len", "8",
                 "--stride", "2", "--clips", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = nn.classify_video(read_video(video), model, clip_len=8, stride=2, num_clips=2)
    assert lines == [f"{i}. {n}: {p:.3f}" for i, (n, p) in enumerate(expected, 1)]
    partial = tmp_path / "partial.safetensors"
    write_safetensors(partial, {k: v for k, v in weights.items() if v.dtype == np.float32})
    assert main(["classify", str(video), "--model", "mc3_18", "--weights", str(partial)]) == 2
    assert "Missing key(s)" in capsys.readouterr().err  # num_batches_tracked absent: the strict load refuses


def test_two_stream_classification_and_cli(tmp_path, capsys):
    """A seeded Two-Stream network over clips of a synthetic video: top classes from the averaged
    fused scores of each window's RGB frame and Farneback flow stack; the CLI prints the same."""
    from scratchvision import synthetic_sequence, write_video
    from scratchvision.cli import main

    ts = nn.TwoStream(num_classes=7, flow_length=3)
    weights = seeded_state_dict([(k, list(v.shape)) for k, v in ts.state_dict().items()], 9)
    ts.load_state_dict(weights)
    frames = synthetic_sequence(12, size=(60, 80), n_objects=2, seed=4, color=True).frames
    top = nn.classify_video_two_stream(frames, ts, num_clips=2, size=64, top_k=3)
    manual = []
    for s in nn.sample_clips(12, 4, 1, 2)[:, 0]:
        rgb, flow = nn.two_stream_inputs(frames[s:s + 4], 3, 64)
        manual.append(ts((rgb[None], flow[None]))[0])
    scores = np.mean(manual, axis=0)
    assert [n for n, _ in top] == [str(i) for i in np.argsort(-scores)[:3]]
    assert top[0][1] == pytest.approx(float(scores.max()))
    write_video(tmp_path / "v.gif", frames)
    write_safetensors(tmp_path / "ts.safetensors", weights)
    assert main(["classify", str(tmp_path / "v.gif"), "--model", "two_stream", "--weights",
                 str(tmp_path / "ts.safetensors"), "--top", "2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    write_safetensors(tmp_path / "r3d.safetensors", {"fc.weight": np.zeros((4, 512), np.float32)})
    assert main(["classify", str(tmp_path / "v.gif"), "--model", "two_stream", "--weights",
                 str(tmp_path / "r3d.safetensors")]) == 2
    assert "two-stream checkpoint" in capsys.readouterr().err


def test_two_stream_inputs_use_our_farneback():
    from scratchvision import calc_optical_flow_farneback, rgb_to_gray, synthetic_sequence
    from scratchvision.imgproc import resize

    frames = synthetic_sequence(6, size=(60, 80), n_objects=2, seed=3, color=True).frames
    rgb, stack = nn.two_stream_inputs(frames, flow_length=5, size=64)
    assert rgb.shape == (3, 64, 64) and stack.shape == (10, 64, 64)
    g = [resize(rgb_to_gray(f), (64, 64)) for f in frames]
    f2 = calc_optical_flow_farneback(g[2], g[3], None, 0.5, 3, 15, 3, 5, 1.2, 0)
    np.testing.assert_array_equal(stack[4], f2[..., 0])
    np.testing.assert_array_equal(stack[5], f2[..., 1])


def test_live_torch_if_installed():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    m = torchvision.models.video.r3d_18(num_classes=7).eval()
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf)
    path = Path(pytest.importorskip("tempfile").mkdtemp()) / "r3d.pth"
    path.write_bytes(buf.getvalue())
    ours = nn.r3d_18(7)
    ours.load_state_dict(nn.load_checkpoint(path))
    x = np.random.default_rng(0).standard_normal((1, 3, 4, 32, 32)).astype(np.float32)
    with torch.no_grad():
        ref = m(torch.from_numpy(x)).numpy()
    _close_to_torch(ours(x), ref)
