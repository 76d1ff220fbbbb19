"""RAFT: raft_small and raft_large against torchvision's (golden fixtures made by
tests/fixtures/make_raft_fixtures.py with the same seeded weights), the correlation pyramid and
its lookup against their definitions, and the refusals."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchvision.nn import (correlation_pyramid, lookup_correlation, lookup_correlation_on_demand, pooled_features,
                              raft_flow, raft_large, raft_small)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
from seeded_weights import raft_inputs, seeded_state_dict  # noqa: E402

MANIFEST = json.loads((FIXTURES / "torch_golden" / "raft_manifest.json").read_text())
BUILDERS = {"raft_small": raft_small, "raft_large": raft_large}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def seeded(request):
    """(name, our model with the fixture's seeded weights, torchvision's outputs)."""
    name = request.param
    info = MANIFEST["models"][name]
    model = BUILDERS[name]()
    model.load_state_dict(seeded_state_dict(info["layout"], info["seed"]))
    return name, model, np.load(FIXTURES / "torch_golden" / f"{name}.npz")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_state_dict_keys_and_shapes_are_torchvisions(name):
    ours = [(k, list(v.shape)) for k, v in BUILDERS[name]().state_dict().items()]
    assert ours == [tuple(x) for x in MANIFEST["models"][name]["layout"]]


def test_flows_equal_torchvisions(seeded):
    """Every update's 1/8-resolution flow and the final upsampled flow, from torchvision's
    weights and inputs; tolerance relative to the flow's size (float32 through three recurrent
    updates; observed errors are printed by pytest on failure)."""
    name, model, ref = seeded
    image1, image2 = raft_inputs(MANIFEST["input_seed"])
    flows = model(image1, image2, num_flow_updates=MANIFEST["updates"])
    assert len(flows) == MANIFEST["updates"] and flows[-1].shape == (1, 2, 128, 160)
    scale = np.abs(ref["flow"]).max()
    np.testing.assert_allclose(np.stack(model.last_step["flows_low"]), ref["flows_low"],
                               rtol=0, atol=2e-5 * scale)
    np.testing.assert_allclose(flows[-1], ref["flow"], rtol=0, atol=2e-5 * scale)


def test_first_lookup_equals_torchvisions(seeded):
    """The correlation features of the first lookup (on the first two rows of cells), from our
    pyramid of the model's own feature maps, against torchvision's grid_sample lookup."""
    name, model, ref = seeded
    image1, image2 = raft_inputs(MANIFEST["input_seed"])
    model(image1, image2, num_flow_updates=1)
    step = model.last_step
    h, w = step["fmap1"].shape[1:]
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))
    corr = lookup_correlation(correlation_pyramid(step["fmap1"], step["fmap2"]), grid, model.radius)
    np.testing.assert_allclose(corr[:, :2], ref["corr_rows"], rtol=1e-4, atol=1e-4 * np.abs(ref["corr_rows"]).max())


def _bilinear_zero_padded(image, x, y):
    """grid_sample's definition: the four taps around (x, y), each left out when outside."""
    h, w = image.shape
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    total = 0.0
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                total += image[yy, xx] * wx * wy
    return total


@settings(deadline=None, max_examples=25)
@given(h=st.integers(2, 7), w=st.integers(2, 7), radius=st.integers(1, 3), levels=st.integers(1, 3),
       seed=st.integers(0, 2**31 - 1))
def test_lookup_equals_its_definition(h, w, radius, levels, seed):
    """Level l samples the pixel's map at coords / 2^l + (dx, dy), channel l n^2 + (dx + r) n +
    (dy + r) (x-major, torchvision's order), zero outside; coordinates spread well past the
    borders."""
    rng = np.random.default_rng(seed)
    f1, f2 = rng.standard_normal((2, 5, h, w)).astype(np.float32)
    pyramid = correlation_pyramid(f1, f2, levels)
    coords = rng.uniform(-3, max(h, w) + 3, (2, h, w)).astype(np.float32)
    out = lookup_correlation(pyramid, coords, radius)
    n = 2 * radius + 1
    assert out.shape == (levels * n * n, h, w)
    for level, volume in enumerate(pyramid):
        for i in range(h):
            for j in range(w):
                p = i * w + j
                cx, cy = coords[0, i, j] / 2**level, coords[1, i, j] / 2**level
                for a in range(n):
                    for b in range(n):
                        want = _bilinear_zero_padded(volume[p], cx + a - radius, cy + b - radius)
                        assert out[level * n * n + a * n + b, i, j] == pytest.approx(want, abs=1e-4)


@settings(deadline=None, max_examples=20)
@given(h=st.integers(1, 9), w=st.integers(1, 9), levels=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_pyramid_equals_its_definition(h, w, levels, seed):
    """Level 0 is f1(p) . f2(q) / sqrt(C); each next level averages 2x2 blocks over q, an odd
    last row or column dropped (torch's avg_pool2d)."""
    rng = np.random.default_rng(seed)
    f1, f2 = rng.standard_normal((2, 6, h, w)).astype(np.float32)
    want = np.einsum("cp,cq->pq", f1.reshape(6, -1).astype(np.float64), f2.reshape(6, -1)).reshape(h * w, h, w)
    want /= np.sqrt(6.0)
    for level, got in enumerate(correlation_pyramid(f1, f2, levels)):
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        hh, ww = want.shape[1] // 2, want.shape[2] // 2
        want = want[:, :2 * hh, :2 * ww].reshape(h * w, hh, 2, ww, 2).mean(axis=(2, 4))


def test_raft_flow_is_the_last_update_in_this_librarys_convention(seeded):
    name, model, _ = seeded
    rng = np.random.default_rng(1)
    f0, f1 = rng.integers(0, 256, (2, 128, 136, 3), dtype=np.uint8)
    flow = raft_flow(model, f0, f1, num_flow_updates=2)
    scaled = [(f.astype(np.float32) * np.float32(2 / 255) - 1).transpose(2, 0, 1)[None] for f in (f0, f1)]
    np.testing.assert_array_equal(flow, model(*scaled, num_flow_updates=2)[-1][0].transpose(1, 2, 0))
    assert flow.shape == (128, 136, 2) and flow.dtype == np.float32


def test_bad_inputs_are_refused_with_the_argument_named():
    model = raft_small()
    ok = np.zeros((1, 3, 128, 128), np.float32)
    for bad, fragment in ((np.zeros((1, 3, 128, 132), np.float32), "divisible by 8"),
                          (np.zeros((1, 3, 120, 120), np.float32), "at least 128"),
                          (np.zeros((1, 3, 128, 128)), "float32"),
                          (np.zeros((3, 128, 128), np.float32), "(N, 3, H, W)")):
        with pytest.raises(ValueError, match=re.escape(fragment)) as error:
            model(bad, bad)
        assert "image1" in str(error.value)
    with pytest.raises(ValueError, match="one shape"):
        model(ok, np.zeros((1, 3, 128, 136), np.float32))
    with pytest.raises(ValueError, match="num_flow_updates"):
        model(ok, ok, num_flow_updates=0)
    with pytest.raises(ValueError, match="frame0"):
        raft_flow(model, np.zeros((128, 128), np.uint8), np.zeros((128, 128, 3), np.uint8))


@settings(deadline=None, max_examples=25)
@given(h=st.integers(2, 9), w=st.integers(2, 9), radius=st.integers(0, 4), levels=st.integers(1, 4),
       seed=st.integers(0, 2**31 - 1))
def test_on_demand_lookup_equals_the_volume_lookup(h, w, radius, levels, seed):
    """Without building the (h w)^2 volume: the same features to float rounding, inside and
    outside the maps."""
    rng = np.random.default_rng(seed)
    f1, f2 = rng.standard_normal((2, 7, h, w)).astype(np.float32)
    coords = rng.uniform(-4, max(h, w) + 4, (2, h, w)).astype(np.float32)
    want = lookup_correlation(correlation_pyramid(f1, f2, levels), coords, radius)
    got = lookup_correlation_on_demand(f1, pooled_features(f2, levels), coords, radius)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_on_demand_model_equals_torchvisions_and_auto_chooses_by_memory(seeded, monkeypatch):
    name, _, ref = seeded
    info = MANIFEST["models"][name]
    model = BUILDERS[name](corr_mode="on_demand")
    model.load_state_dict(seeded_state_dict(info["layout"], info["seed"]))
    image1, image2 = raft_inputs(MANIFEST["input_seed"])
    flows = model(image1, image2, num_flow_updates=MANIFEST["updates"])
    assert model.last_step["corr_mode"] == "on_demand"
    np.testing.assert_allclose(flows[-1], ref["flow"], rtol=0, atol=2e-5 * np.abs(ref["flow"]).max())
    model.corr_mode = "auto"
    model(image1, image2, num_flow_updates=1)
    assert model.last_step["corr_mode"] == "volume"  # 320 cells: a 0.5 MB pyramid
    monkeypatch.setattr(type(model), "corr_memory_limit", 1000)
    model(image1, image2, num_flow_updates=1)
    assert model.last_step["corr_mode"] == "on_demand"
    with pytest.raises(ValueError, match="corr_mode"):
        raft_small(corr_mode="sparse")
