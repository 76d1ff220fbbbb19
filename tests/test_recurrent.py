"""nn.LSTM and nn.GRU against torch.nn.LSTM / GRU through golden fixtures
(tests/fixtures/make_recurrent_fixtures.py): 50 steps, 1-2 layers, bidirectional, batch_first both
ways, with and without initial states and biases."""

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
from seeded_weights import recurrent_case_inputs, seeded_state_dict  # noqa: E402

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
