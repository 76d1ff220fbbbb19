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

from scratchvision.nn import (calc_optical_flow_raft, correlation_pyramid, lookup_correlation,
                              lookup_correlation_on_demand, pooled_features, raft_large, raft_small)

import naive

FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
from seeded_weights import raft_frames, raft_inputs, seeded_state_dict  # noqa: E402

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


@pytest.mark.parametrize("mode", ["volume", "on_demand"])
def test_flows_equal_torchvisions(seeded, mode):
    """torchvision's list of flows for its weights and inputs, 12 updates, in both correlation
    modes: the 1/8-resolution flow within 1e-4 px after the first update (measured 1.2e-5) and
    5e-3 px after the twelfth (measured 2.1e-3 to 2.8e-3); the upsampled flow within 2e-4 px
    after the first (measured 3.6e-5 to 9.1e-5) and 0.05 px after the twelfth (1.0e-2 to
    2.0e-2, on flows of 195-247 px). These random-weight networks amplify rounding: torch
    itself, given inputs perturbed by 1e-6, moves its twelfth flow by 9.5e-2 px (raft_small) and
    1.6e-2 px (raft_large)."""
    name, model, ref = seeded
    model.corr_mode = mode
    image1, image2 = raft_inputs(MANIFEST["input_seed"])
    flows = model(image1, image2, num_flow_updates=MANIFEST["updates"])
    assert len(flows) == MANIFEST["updates"] == 12 and flows[-1].shape == (1, 2, 128, 160)
    assert model.last_step["corr_mode"] == mode
    low = np.stack(model.last_step["flows_low"])
    assert np.abs(low[0] - ref["flows_low"][0]).max() <= 1e-4
    assert np.abs(low[-1] - ref["flows_low"][-1]).max() <= 5e-3
    assert np.abs(flows[0] - ref["flow_first"]).max() <= 2e-4
    assert np.abs(flows[-1] - ref["flow"]).max() <= 0.05


def test_pyramid_and_first_lookup_equal_torchvisions(seeded):
    """From the model's own feature maps: the correlation pyramid's maps of the first two rows
    of cells, and the first lookup's features there, against torchvision's (relative 1e-5 of
    their largest values)."""
    name, model, ref = seeded
    model.corr_mode = "volume"
    image1, image2 = raft_inputs(MANIFEST["input_seed"])
    model(image1, image2, num_flow_updates=1)
    step = model.last_step
    h, w = step["fmap1"].shape[1:]
    pyramid = correlation_pyramid(step["fmap1"], step["fmap2"])
    for level, volume in enumerate(pyramid):
        want = ref[f"level{level}"]
        np.testing.assert_allclose(volume[:2 * w], want, rtol=0, atol=1e-5 * np.abs(want).max())
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))
    corr = lookup_correlation(pyramid, grid, model.radius)
    np.testing.assert_allclose(corr[:, :2], ref["corr_rows"], rtol=0, atol=1e-5 * np.abs(ref["corr_rows"]).max())


def test_calc_optical_flow_raft_pads_and_crops_as_the_original_raft():
    """A 131x161 pair: padded by repeated edges to 136x168 (2 rows top, 3 bottom, 3 columns left,
    4 right), flow cropped back; equal to torchvision on the padded pair to 1e-3 of the largest
    flow after 12 updates (flows of 221 px: 0.22 px). The seeded weights amplify float32 rounding
    over the updates, differently on each CPU (0.050 px with OpenBLAS's Sandybridge kernels, 0.071
    with its Haswell ones on one machine), while a flow cropped one pixel off is 23 px away. Also
    the trace holding every update and the pyramid's shapes."""
    info = MANIFEST["models"]["raft_small"]
    model = raft_small()
    model.load_state_dict(seeded_state_dict(info["layout"], info["seed"]))
    f0, f1 = raft_frames(MANIFEST["frames_seed"])
    flow, trace = calc_optical_flow_raft(f0, f1, model, trace=True)
    ref = np.load(FIXTURES / "torch_golden" / "raft_small_padded.npz")["flow"]
    assert flow.shape == (131, 161, 2) and flow.dtype == np.float32
    assert np.abs(flow - ref).max() <= 1e-3 * np.abs(ref).max()
    assert trace.padding == (2, 3, 3, 4) and len(trace.flows) == 12 and trace.flows[-1].shape == flow.shape
    np.testing.assert_array_equal(trace.flows[-1], flow)
    assert trace.pyramid_shapes == [(17 * 21, 17, 21), (357, 8, 10), (357, 4, 5), (357, 2, 2)]
    assert calc_optical_flow_raft(f0, f1, model, num_flow_updates=2).shape == (131, 161, 2)


def test_wrong_checkpoint_is_refused_naming_keys():
    small = raft_small().state_dict()
    with pytest.raises(ValueError, match="Missing key"):
        raft_large().load_state_dict(small)
    large = raft_large().state_dict()
    with pytest.raises(ValueError, match="size mismatch for feature_encoder"):
        raft_small().load_state_dict({k: large[k] if k in large else v for k, v in small.items()}, strict=False)


def test_load_raft_reads_the_size_from_the_keys(tmp_path):
    from scratchvision.nn import load_raft, save_safetensors

    for name, builder in BUILDERS.items():
        info = MANIFEST["models"][name]
        state = seeded_state_dict(info["layout"], info["seed"])
        save_safetensors(tmp_path / f"{name}.safetensors", state)
        model = load_raft(tmp_path / f"{name}.safetensors")
        assert model.radius == (4 if name == "raft_large" else 3)
        np.testing.assert_array_equal(model.state_dict()["feature_encoder.convnormrelu.0.weight"],
                                      state["feature_encoder.convnormrelu.0.weight"])
    with pytest.raises(ValueError, match="Missing key"):
        load_raft(tmp_path / "raft_small.safetensors", "large")
    with pytest.raises(ValueError, match="size"):
        load_raft(tmp_path / "raft_small.safetensors", "medium")


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
                        want = naive.bilinear_zero_padded(volume[p], cx + a - radius, cy + b - radius)
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
    rgb = np.zeros((128, 128, 3), np.uint8)
    with pytest.raises(ValueError, match="prev is a gray image"):
        calc_optical_flow_raft(np.zeros((128, 128), np.uint8), rgb, model)
    with pytest.raises(ValueError, match="at least 128x128"):
        calc_optical_flow_raft(rgb[:100], rgb[:100], model)
    with pytest.raises(ValueError, match="one shape"):
        calc_optical_flow_raft(rgb, rgb[:, :120], model)
    with pytest.raises(ValueError, match="next must be finite"):
        calc_optical_flow_raft(rgb, np.full((128, 128, 3), np.nan, np.float32), model)
    with pytest.raises(TypeError, match="model"):
        calc_optical_flow_raft(rgb, rgb, "raft_small")


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
    assert np.abs(flows[-1] - ref["flow"]).max() <= 0.05
    model.corr_mode = "auto"
    model(image1, image2, num_flow_updates=1)
    assert model.last_step["corr_mode"] == "volume"  # 320 cells: a 0.5 MB pyramid
    monkeypatch.setattr(type(model), "corr_memory_limit", 1000)
    model(image1, image2, num_flow_updates=1)
    assert model.last_step["corr_mode"] == "on_demand"
    with pytest.raises(ValueError, match="corr_mode"):
        raft_small(corr_mode="sparse")


def test_flow_command_runs_raft_from_a_checkpoint(tmp_path, capsys):
    """`scratchvision flow A B --method raft --weights FILE`: the model chosen from the keys (no
    mask head: raft_small), the flow equal to calc_optical_flow_raft's, written as .flo."""
    import imageio.v3 as iio

    from conftest import write_safetensors
    from scratchvision.cli import main
    from scratchvision.io import read_flo

    info = MANIFEST["models"]["raft_small"]
    weights = seeded_state_dict(info["layout"], info["seed"])
    write_safetensors(tmp_path / "raft_small.safetensors", weights)
    f0, f1 = raft_frames(MANIFEST["frames_seed"])
    iio.imwrite(tmp_path / "a.png", f0)
    iio.imwrite(tmp_path / "b.png", f1)
    assert main(["flow", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--method", "raft", "--weights",
                 str(tmp_path / "raft_small.safetensors"), "--iters", "3", "--out", str(tmp_path / "f.flo")]) == 0
    model = raft_small()
    model.load_state_dict(weights)
    np.testing.assert_array_equal(read_flo(tmp_path / "f.flo"),
                                  calc_optical_flow_raft(f0, f1, model, num_flow_updates=3))
    assert "raft flow" in capsys.readouterr().out
    assert main(["flow", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--method", "raft"]) == 2
    assert "--weights" in capsys.readouterr().err


def test_a_torch_saved_raft_state_dict_loads(tmp_path):
    """raft_small's state dict written by torch.save (fixture, gzipped): every key and value read
    back by nn.load_checkpoint, loaded strictly into nn.raft_small."""
    import gzip

    from scratchvision.nn import load_checkpoint
    from seeded_weights import pattern_state_dict_value

    path = tmp_path / "raft_small.pth"
    path.write_bytes(gzip.decompress((FIXTURES / "torch_golden" / "raft_small_pattern.pth.gz").read_bytes()))
    state = load_checkpoint(path)
    model = raft_small()
    expected = [(k, v.shape) for k, v in model.state_dict().items()]
    assert [(k, v.shape) for k, v in state.items()] == expected
    for i, (k, shape) in enumerate(expected):
        np.testing.assert_array_equal(state[k], pattern_state_dict_value(i, shape), err_msg=k)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model.state_dict()["update_block.flow_head.conv2.bias"],
                                  state["update_block.flow_head.conv2.bias"])


@given(seed=st.integers(0, 10_000), n=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 11),
       spread=st.sampled_from([0.1, 3.0, 40.0]))
def test_convex_upsampling_equals_its_definition(seed, n, h, w, spread):
    """Each output pixel (8i + a, 8j + b) is the softmax over the nine cells around (i, j) of the
    mask's logits (channel k 64 + a 8 + b) weighing 8 x their flow (zero outside), as
    torchvision's upsample_flow: in float64 loops, for logits spread up to 40 (softmax weights
    of e^-80)."""
    from scratchvision.nn.raft import _upsample_convex

    rng = np.random.default_rng(seed)
    flow = (5 * rng.standard_normal((n, 2, h, w))).astype(np.float32)
    mask = (spread * rng.standard_normal((n, 576, h, w))).astype(np.float32)
    logits = mask.reshape(n, 9, 64, h, w).astype(np.float64)
    padded = np.pad(8 * flow.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.empty((n, 2, 8 * h, 8 * w))
    for b, i, j, s in np.ndindex(n, h, w, 64):
        weights = np.exp(logits[b, :, s, i, j] - logits[b, :, s, i, j].max())
        cells = padded[b, :, i:i + 3, j:j + 3].reshape(2, 9)
        ref[b, :, 8 * i + s // 8, 8 * j + s % 8] = cells @ (weights / weights.sum())
    np.testing.assert_allclose(_upsample_convex(flow, mask), ref, rtol=0, atol=1e-5 * np.abs(ref).max() + 1e-6)
