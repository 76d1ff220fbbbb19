"""Video networks in NumPy: forward time of R3D-18, MC3-18, R(2+1)D-18 on 1x3x16x112x112 and of a
Two-Stream ResNet-18 at 224x224, one and two BLAS threads, beside torch when it is installed."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

TITLE = "Video networks: forward time and peak memory, NumPy + Numba vs PyTorch (CPU)"

#: a child process's start (malloc thresholds pinned, arguments read) and end (two warm-ups, the
#: median of ``repeat`` timed calls of ``run``, peak memory, as one JSON line): every benchmark
#: script defines ``run`` between them (``_child`` joins the three)
CHILD_HEAD = r"""
import ctypes, json, resource, sys, time
import numpy as np
try:
    ctypes.CDLL("libc.so.6").mallopt(-3, 32 << 20); ctypes.CDLL("libc.so.6").mallopt(-1, 128 << 20)
except OSError:
    pass
name, framework, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
"""
CHILD_TAIL = r"""
run(); run()
times = []
for _ in range(repeat):
    t0 = time.perf_counter(); run(); times.append(time.perf_counter() - t0)
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": float(np.median(times)), "peak_mib": peak_mib}))
"""

_CHILD = r"""
rng = np.random.default_rng(0)
if name.startswith("raft"):  # bench_raft.py: argv 5 the image size HxW, argv 6 our correlation mode
    RAFT_SHAPE = (1, 3) + tuple(int(v) for v in sys.argv[5].split("x"))
if framework == "ours":
    from scratchvision import nn
    if name.startswith("raft"):
        model = getattr(nn, name)(corr_mode=sys.argv[6])
        model.prepare()
        x = tuple(rng.uniform(-1, 1, RAFT_SHAPE).astype(np.float32) for _ in range(2))
        run = lambda: model(*x, num_flow_updates=12)
    elif name == "two_stream":
        model = nn.TwoStream(num_classes=101, flow_length=10)
        x = (rng.standard_normal((1, 3, 224, 224)).astype(np.float32),
             rng.standard_normal((1, 20, 224, 224)).astype(np.float32))
    else:
        model = getattr(nn, name)(400)
        x = rng.standard_normal((1, 3, 16, 112, 112)).astype(np.float32)
    if not name.startswith("raft"):
        model.prepare()
        run = lambda: model(x)
else:
    import torch, torchvision
    torch.set_num_threads(int(sys.argv[4]))
    if name.startswith("raft"):
        m = getattr(torchvision.models.optical_flow, name)().eval()
        a, b = (torch.from_numpy(rng.uniform(-1, 1, RAFT_SHAPE).astype(np.float32)) for _ in range(2))
        def run():
            with torch.no_grad():
                return m(a, b, num_flow_updates=12)
    elif name == "two_stream":
        s, t = torchvision.models.resnet18(num_classes=101).eval(), torchvision.models.resnet18(num_classes=101).eval()
        t.conv1 = torch.nn.Conv2d(20, 64, 7, 2, 3, bias=False)
        a = torch.from_numpy(rng.standard_normal((1, 3, 224, 224)).astype(np.float32))
        b = torch.from_numpy(rng.standard_normal((1, 20, 224, 224)).astype(np.float32))
        def run():
            with torch.no_grad():
                return (torch.softmax(s(a), 1) + torch.softmax(t(b), 1)) / 2
    else:
        m = getattr(torchvision.models.video, name)(num_classes=400).eval()
        xt = torch.from_numpy(rng.standard_normal((1, 3, 16, 112, 112)).astype(np.float32))
        def run():
            with torch.no_grad():
                return m(xt)
"""


def _torch_python():
    """An interpreter with torch: this one, or the one TORCH_PYTHON names (torch is not a
    dependency; a separate venv with torch==2.14.1 torchvision==0.29.1 works)."""
    try:
        import torch  # noqa: F401
        return sys.executable
    except ImportError:
        return os.environ.get("TORCH_PYTHON")


def _child(name, framework, threads, repeat, python=sys.executable, extra=(), script=_CHILD):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               NUMBA_NUM_THREADS=str(threads))
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    out = subprocess.run([python, "-c", CHILD_HEAD + script + CHILD_TAIL, name, framework, str(repeat), str(threads),
                          *extra],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def timing_row(row, ours, ref):
    """``row`` with the median seconds and the peak memory of our runs and of torch's (when
    there are any), and their ratio."""
    seconds = statistics.median(r["seconds"] for r in ours)
    row.update({"ours (s)": seconds, "ours peak (MiB)": max(r["peak_mib"] for r in ours)})
    if ref:
        ref_seconds = statistics.median(r["seconds"] for r in ref)
        row.update({"torch (s)": ref_seconds, "torch peak (MiB)": max(r["peak_mib"] for r in ref),
                    "ratio": seconds / ref_seconds})
    return row


def run(threads, repeat, rounds=3):
    torch_python = _torch_python()
    rows = []
    for name in ("r3d_18", "mc3_18", "r2plus1d_18", "two_stream"):
        for n in threads:
            ours, ref = [], []
            for _ in range(rounds):  # ours and torch take turns, so a slow spell of the machine hits both
                ours.append(_child(name, "ours", n, max(3, repeat)))
                if torch_python:
                    ref.append(_child(name, "torch", n, max(3, repeat), torch_python))
            rows.append(timing_row({"network": name, "threads": n}, ours, ref))
    notes = ("Each case in a fresh process (threads fixed before NumPy loads: OPENBLAS_NUM_THREADS / "
             "torch.set_num_threads), malloc thresholds pinned, median of repeated forwards after two "
             f"warm-ups; {rounds} rounds, ours and torch in turn, median of the rounds; "
             "peak = the process's maximum resident set. Inputs 1x3x16x112x112 (Kinetics clip) and 224x224 + 20 flow "
             "channels (Two-Stream ResNet-18) (RAFT: bench_raft.py). Our convolutions: Winograd F(2x2, 3x3) for 3x3 "
             "stride-1 kernels, shifted windows for the strided ones, im2col for the 3-channel stems "
             "(nn.conv_lowering); every product on SciPy's OpenBLAS.")
    notes += (" torch side: " + (f"{torch_python} (the same child script, in turn with ours)" if torch_python
                                 else "not measured (install torch, or set TORCH_PYTHON to an interpreter with it)."))
    return rows, notes
