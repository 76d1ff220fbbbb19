"""nn.LSTM and nn.GRU against torch.nn.LSTM / GRU through golden fixtures
(tests/fixtures/make_recurrent_fixtures.py): 50 steps, 1-2 layers, bidirectional, batch_first both
ways, with and without initial states and biases; CNNLSTM and TSN against torch modules written
from their papers in the fixture script; sample_indices against its definition."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchvision import nn

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "torch_golden"
sys.path.insert(0, str(FIXTURES))
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from seeded_weights import recurrent_case_inputs, seeded_state_dict, video_input  # noqa: E402

MODELS = json.loads((GOLDEN / "recurrent_manifest.json").read_text())["models"]
MANIFEST = json.loads((GOLDEN / "recurrent_manifest.json").read_text())["cases"]
REF = np.load(GOLDEN / "recurrent.npz")


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_recurrent_layers_equal_torch(name):
    case = MANIFEST[name]
    model = getattr(nn, case["class"])(**case["kwargs"])
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == [tuple(x) for x in case["layout"]]
    model.load_state_dict(seeded_state_dict(case["layout"], case["seed"]))
    x, states = recurrent_case_inputs(case["class"], case["kwargs"], case["batch"], case["with_states"],
                                      case["input_seed"])
    hx = (tuple(states) if case["class"] == "LSTM" else states[0]) if states else None
    out, final = model(x, hx)
    np.testing.assert_allclose(out, REF[f"{name}/output"], rtol=1e-5, atol=1e-6)  # 50 steps, the rtol
    for j, s in enumerate(final if case["class"] == "LSTM" else (final,)):
        np.testing.assert_allclose(s, REF[f"{name}/state{j}"], rtol=1e-5, atol=1e-6)


def test_unbatched_input_and_bad_input():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    out, (h, c) = lstm(x)
    batched, (hb, cb) = lstm(x[:, None])
    np.testing.assert_array_equal(out, batched[:, 0])
    assert h.shape == (2, 4) and c.shape == (2, 4)
    with pytest.raises(ValueError, match="input must have shape"):
        lstm(np.zeros((6, 2, 5), np.float32))
    with pytest.raises(ValueError, match=r"hx\[0\] \(h_0\) must have shape"):
        lstm(x[:, None], (np.zeros((1, 1, 4), np.float32), np.zeros((2, 1, 4), np.float32)))
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRU(3, 0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cnn_lstm_and_tsn_equal_torch(name):
    entry = MODELS[name]
    kwargs = dict(entry["kwargs"])
    model = nn.CNNLSTM(**kwargs) if name.startswith("cnnlstm") else nn.TSN(**kwargs)
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == [tuple(x) for x in entry["layout"]]
    model.load_state_dict(seeded_state_dict(entry["layout"], entry["seed"]))
    ref = REF[f"{name}/logits"]
    ours = model(video_input(entry["seed"] + 1000, tuple(entry["input_shape"])))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4 * np.abs(ref).max())


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 120), st.integers(1, 20), st.integers(1, 6), st.sampled_from(nn.clips.SAMPLING_MODES),
       st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_sample_indices_follow_their_definition(num_frames, clip_len, stride, mode, num_clips, seed):
    s = nn.sample_indices(num_frames, clip_len, stride, mode, num_clips, rng=seed)
    idx = s.indices
    assert idx.shape == (num_clips, clip_len) and ((idx >= 0) & (idx < num_frames)).all()
    assert (s.spans == idx[:, -1] - idx[:, 0] + 1).all() and (np.diff(idx, axis=1) >= 0).all()
    span = (clip_len - 1) * stride + 1
    if mode == "segments":  # one frame in each of clip_len equal segments
        lo = np.floor(np.arange(clip_len) * num_frames / clip_len)
        hi = np.maximum(np.ceil(np.arange(1, clip_len + 1) * num_frames / clip_len) - 1, lo)
        assert ((idx >= lo) & (idx <= hi)).all()
    else:
        for row, spanned in zip(idx, s.spans):
            if row[0] + span <= num_frames:  # a whole clip: stride apart, the span as asked
                assert (np.diff(row) == stride).all() and spanned == span
            else:  # past the end (a short video, or dense clips beyond it): padded with the last frame
                assert row[-1] == num_frames - 1
        if mode == "dense":
            assert (idx[:, 0] == np.minimum(np.arange(num_clips) * span, num_frames - 1)).all()
        if mode == "uniform" and num_clips > 1 and span <= num_frames:
            assert idx[0, 0] == 0 and idx[-1, -1] == num_frames - 1
        if span > num_frames:
            with pytest.raises(ValueError, match="pad=True"):
                nn.sample_indices(num_frames, clip_len, stride, mode, num_clips, pad=False)
