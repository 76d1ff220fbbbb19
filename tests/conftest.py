"""Shared fixtures: the reference libraries and ../shared/data, which skip with a reason when
absent on a developer's machine but fail under CI=true (where they must be present)."""

from __future__ import annotations

import importlib
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

IN_CI = os.environ.get("CI", "").lower() == "true"
SHARED_DATA = Path(os.environ.get("SCRATCHVISION_SHARED_DATA",
                                  Path(__file__).resolve().parents[1].parent / "shared" / "data"))

# Kernels compile on first call; a deadline would measure the compiler, not the code.
# HYPOTHESIS_PROFILE=thorough runs ten times the examples (for hunting, not for CI).
settings.register_profile("scratchvision", deadline=None, max_examples=40, print_blob=True)
settings.register_profile("thorough", deadline=None, max_examples=400, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "scratchvision"))


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must be present in CI)")
    pytest.skip(reason)


def require(module: str):
    """Import a reference library, or skip (locally) / fail (in CI) naming it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        _missing(f"reference library {module!r} is not installed ({exc}); pip install -e '.[test]'")


def shared_path(*parts) -> Path:
    """A path under ../shared/data, or skip (locally) / fail (in CI) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        _missing(f"shared data {path} is absent")
    return path


def write_detections_and_frames(folder: Path, seq):
    """A synthetic sequence as the track command reads it: ``det.txt`` (its ground-truth boxes that
    are seen, ids -1) and a folder of PNG frames. Returns (the detection rows, det.txt, frames/)."""
    import imageio.v3 as iio

    from scratchvision import write_mot

    dets = seq.gt[seq.gt[:, 6] > 0].copy()
    dets[:, 1] = -1
    write_mot(folder / "det.txt", dets)
    frames = folder / "frames"
    frames.mkdir()
    for t, f in enumerate(seq.frames):
        iio.imwrite(frames / f"{t:04d}.png", f)
    return dets, folder / "det.txt", frames


@pytest.fixture(scope="session")
def cv2():
    return require("cv2")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


FLOW_PAIRS = ["RubberWhale", "Hydrangea", "Sintel_alley_1_clean", "Sintel_cave_2_clean",
              "Sintel_market_5_clean", "Sintel_market_5_final"]
MOT15_SEQUENCES = ["ADL-Rundle-6", "ADL-Rundle-8", "ETH-Bahnhof", "ETH-Pedcross2", "ETH-Sunnyday",
                   "KITTI-13", "KITTI-17", "PETS09-S2L1", "TUD-Campus", "TUD-Stadtmitte", "Venice-2"]


def write_safetensors(path, tensors):
    """A minimal safetensors writer for the test (the format: u64 header length, JSON, buffer)."""
    header, chunks, offset = {}, [], 0
    for k, v in tensors.items():
        code = "I64" if v.dtype == np.int64 else "F32"
        raw = np.ascontiguousarray(v, np.int64 if code == "I64" else np.float32).tobytes()
        header[k] = {"dtype": code, "shape": list(v.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))
