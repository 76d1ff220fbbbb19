"""ReID networks: embeddings of a batch of 32 crops (DeepSORT's network at 128 x 64, OSNet x0.25 and
x1.0 at 256 x 128) beside torch, one and two threads; DeepSORT's identity switches and IDF1 with
each appearance source on the synthetic video with occlusions; frames per second of the whole
pipeline (crops, embeddings, tracking) at 10 detections a frame on 1080p frames."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from bench_nn import _child, _torch_python, timing_row

TITLE = "ReID networks: embedding time, NumPy + Numba vs torch (CPU); DeepSORT's identities by appearance source"

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"

_SCRIPT = r"""
import importlib.util
from pathlib import Path
fixtures = Path(sys.argv[5])
sys.path.insert(0, str(fixtures))
from seeded_weights import seeded_tf_variables
rng = np.random.default_rng(0)
shape = (32, 3, 128, 64) if name == "deepsort" else (32, 3, 256, 128)
x = rng.uniform(0, 1, shape).astype(np.float32)
if framework == "ours":
    from scratchvision import nn
    model = nn.deepsort_reid() if name == "deepsort" else getattr(nn, name)()
    if name == "deepsort":
        model.load_state_dict(seeded_tf_variables(53))
    model.prepare()  # batch norms folded, as after loading weights
    run = lambda: model(x)
else:
    import torch
    torch.set_num_threads(int(sys.argv[4]))
    spec = importlib.util.spec_from_file_location("fixtures_reid", fixtures / "make_reid_fixtures.py")
    fixture = importlib.util.module_from_spec(spec); spec.loader.exec_module(fixture)
    if name == "deepsort":
        weights = {k: v for k, v in seeded_tf_variables(53).items()}
        xt = torch.from_numpy(x)
        def run():
            with torch.no_grad():
                return fixture.deepsort_network(weights, xt)
    else:
        model = getattr(fixture.torchreid_osnet(), name)(num_classes=1000, pretrained=False).eval()
        xt = torch.from_numpy(x)
        def run():
            with torch.no_grad():
                return model(xt)
"""

NETWORKS = ("deepsort", "osnet_x0_25", "osnet_x1_0")


def _identities():
    """DeepSORT on the synthetic video with occlusions, appearance from each source: ID switches, IDF1."""
    from scratchvision import DeepSort, evaluate_mot, nn, synthetic_sequence
    from scratchvision.tracking import color_histogram_embeddings

    sys.path.insert(0, str(FIXTURES))
    from seeded_weights import seeded_state_dict, seeded_tf_variables

    seq = synthetic_sequence(n_frames=60, size=(240, 320), n_objects=8, seed=3, color=True)
    deepsort = nn.deepsort_reid()
    deepsort.load_state_dict(seeded_tf_variables(53))
    osnet = nn.osnet_x0_25()
    osnet.load_state_dict(seeded_state_dict([(k, list(v.shape)) for k, v in osnet.state_dict().items()], 51))
    sources = {"none (constant embedding)": lambda f, b: np.ones((len(b), 8), np.float32),
               "colour histogram": lambda f, b: color_histogram_embeddings(f, b[:, :4]) + 1e-6,
               "DeepSORT network (seeded weights)": lambda f, b: nn.embed(deepsort, f, b),
               "OSNet x0.25 (seeded weights)": lambda f, b: nn.embed(osnet, f, b) + 1e-6}
    gt = seq.gt[seq.gt[:, 6] > 0]
    rows = []
    for label, source in sources.items():
        tracker, hyp = DeepSort(n_init=1), []
        for t in range(len(seq.frames)):
            f = gt[gt[:, 0] == t]
            boxes = np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5], np.ones(len(f))])
            for x1, y1, x2, y2, tid, *_ in tracker.update(boxes, source(seq.frames[t], boxes)):
                hyp.append((t, tid, x1, y1, x2 - x1, y2 - y1, 1, -1, -1, -1))
        m = evaluate_mot(seq.gt, np.array(hyp).reshape(-1, 10))
        rows.append({"appearance": label, "IDSW": int(m["IDSW"]), "IDF1": float(m["IDF1"]),
                     "MOTA": float(m["MOTA"])})
    return rows


def _pipeline():
    """Frames per second of crops + embeddings + DeepSORT on 1080p frames with 10 detections each."""
    from scratchvision import DeepSort, nn

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (6, 1080, 1920, 3), dtype=np.uint8)
    xy = rng.uniform(0, 1700, (10, 2))
    rows = []
    for label, model in (("DeepSORT network", nn.deepsort_reid()), ("OSNet x0.25", nn.osnet_x0_25())):
        tracker = DeepSort()
        boxes = np.column_stack([xy, xy + [80, 200], np.ones(10)])
        tracker.update(boxes, nn.embed(model, frames[0], boxes) + 1e-6)  # warm-up
        t0 = time.perf_counter()
        for t in range(1, len(frames)):
            boxes[:, :4] += 2
            tracker.update(boxes, nn.embed(model, frames[t], boxes) + 1e-6)
        rows.append({"pipeline": label, "frames/s": (len(frames) - 1) / (time.perf_counter() - t0)})
    return rows


def run(threads, repeat, rounds=3):
    torch_python = _torch_python()
    rows = []
    for name in NETWORKS:
        for n in threads:
            ours, ref = [], []
            for _ in range(rounds):
                ours.append(_child(name, "ours", n, max(3, repeat), extra=(str(FIXTURES),), script=_SCRIPT))
                if torch_python:
                    ref.append(_child(name, "torch", n, max(3, repeat), torch_python, extra=(str(FIXTURES),),
                                      script=_SCRIPT))
            rows.append(timing_row({"network": name, "batch": 32, "threads": n}, ours, ref))
    rows += _identities() + _pipeline()
    notes = ("Embeddings of 32 crops in [0, 1] (DeepSORT's network 128 x 64, OSNet 256 x 128) in fresh processes, "
             f"median of repeated forwards after two warm-ups, {rounds} rounds of ours and torch in turn. torch side: "
             "DeepSORT's network as the golden-fixture script writes it in torch (float32), torchreid 0.2.5's OSNet "
             "module; " + (f"{torch_python}" if torch_python else "not measured (set TORCH_PYTHON)")
             + ". Identities: DeepSort(n_init=1) on the 60-frame colour synthetic video (8 objects, crossings and "
             "occlusions) fed its ground-truth boxes, scored by evaluate_mot; the networks have seeded random weights "
             "(no published weights are in the repository), so their rows show the machinery, not the trained "
             "networks' accuracy. Pipeline: 5 frames of 1920 x 1080 noise, 10 boxes of 80 x 200, one process, "
             "BLAS threads as set. Reproduce: TORCH_PYTHON=/path/to/torch/python python benchmarks/run.py reid")
    return rows, notes
