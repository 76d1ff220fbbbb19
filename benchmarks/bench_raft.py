"""RAFT: forward time and peak memory of raft_small and raft_large with 12 flow updates, ours (both
correlation modes at Sintel's size) beside torchvision's on the CPU."""

from __future__ import annotations

from bench_nn import _child, _torch_python, timing_row

TITLE = "RAFT: forward time and peak memory, NumPy + Numba vs torchvision (CPU), 12 flow updates"

#: (network, image size, our correlation modes, rounds): torchvision's documented 368x496 for
#: speed, and Sintel's 436x1024 padded to 440x1024 for the memory of the two modes.
CASES = [("raft_small", "368x496", ("volume",), 2), ("raft_large", "368x496", ("volume",), 2),
         ("raft_large", "440x1024", ("volume", "on_demand"), 1)]


def run(threads, repeat):
    torch_python = _torch_python()
    rows = []
    for name, size, modes, rounds in CASES:
        for n in threads:
            results = {mode: [] for mode in modes}
            ref = []
            for _ in range(rounds):  # ours and torch take turns
                for mode in modes:
                    results[mode].append(_child(name, "ours", n, 2, extra=(size, mode)))
                if torch_python:
                    ref.append(_child(name, "torch", n, 2, torch_python, extra=(size, "volume")))
            for mode in modes:
                rows.append(timing_row({"network": name, "size": size, "threads": n, "correlation": mode},
                                       results[mode], ref))
    notes = ("Two random frames in [-1, 1], 12 updates; each case in a fresh process (threads fixed before NumPy "
             "loads), median of 2 forwards after two warm-ups, rounds of ours and torch in turn; peak = the "
             "process's maximum resident set. Weights untrained (zeros on our side, torchvision's initialisation "
             "on torch's): the work done is the same. 'volume' builds the all-pairs correlation pyramid as "
             "torchvision does; 'on_demand' computes each level's correlation only where it is sampled "
             "(RAFT.corr_mode; 'auto' picks it above 1 GiB of pyramid). torch side: "
             + (f"{torch_python}" if torch_python else "not measured (set TORCH_PYTHON to an interpreter with "
                                                        "torch==2.14.1 and torchvision==0.29.1)")
             + ". Reproduce: TORCH_PYTHON=/path/to/torch/python python benchmarks/run.py raft")
    return rows, notes
