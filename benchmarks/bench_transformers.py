"""Video transformers: forward time and peak memory of VideoMAE-base (classification, and
pre-training at 90 % tube masking), TimeSformer-base (divided attention) and ViViT-B (joint
attention) at their standard clip sizes, ours beside Hugging Face transformers on torch (CPU)."""

from __future__ import annotations

from bench_nn import _child, _torch_python, timing_row

TITLE = "Video transformers: forward time and peak memory, NumPy + Numba vs Hugging Face transformers (CPU)"

#: (case, clip (T, C, H, W), rounds)
CASES = [("videomae", (16, 3, 224, 224), 3), ("videomae_pretraining", (16, 3, 224, 224), 3),
         ("timesformer", (8, 3, 224, 224), 3), ("vivit", (32, 3, 224, 224), 2)]

_SCRIPT = r"""
shape = (1,) + tuple(int(v) for v in sys.argv[5].split("x"))
rng = np.random.default_rng(0)
x = rng.standard_normal(shape).astype(np.float32)
per_frame = np.concatenate([np.zeros(20, bool), np.ones(176, bool)])
rng.shuffle(per_frame)
mask = np.tile(per_frame, (8, 1)).reshape(1, -1)  # VideoMAE's 90 % tube mask: 160 of 1568 tokens visible
if framework == "ours":
    from scratchvision import nn
    build = {"videomae": lambda: nn.videomae(num_labels=400),
             "videomae_pretraining": lambda: nn.videomae_pretraining(use_mean_pooling=False),
             "timesformer": lambda: nn.timesformer(num_labels=400), "vivit": lambda: nn.vivit(num_labels=400)}
    model = build[name]()
    model.prepare()
    run = (lambda: model(x, mask)) if name == "videomae_pretraining" else (lambda: model(x))
else:
    import torch, transformers as T
    torch.set_num_threads(int(sys.argv[4]))
    build = {"videomae": lambda: T.VideoMAEForVideoClassification(T.VideoMAEConfig(num_labels=400)),
             "videomae_pretraining": lambda: T.VideoMAEForPreTraining(T.VideoMAEConfig(use_mean_pooling=False)),
             "timesformer": lambda: T.TimesformerForVideoClassification(T.TimesformerConfig(num_labels=400)),
             "vivit": lambda: T.VivitForVideoClassification(T.VivitConfig(num_labels=400))}
    model = build[name]().eval()
    xt, mt = torch.from_numpy(x), torch.from_numpy(mask)
    def run():
        with torch.no_grad():
            if name == "videomae_pretraining":
                return model(pixel_values=xt, bool_masked_pos=mt)
            return model(pixel_values=xt)
"""


def run(threads, repeat):
    torch_python = _torch_python()
    rows = []
    for name, clip, rounds in CASES:
        size = "x".join(map(str, clip))
        for n in threads:
            ours, ref = [], []
            for _ in range(rounds):  # ours and torch take turns
                ours.append(_child(name, "ours", n, 2, extra=(size,), script=_SCRIPT))
                if torch_python:
                    ref.append(_child(name, "torch", n, 2, torch_python, extra=(size,), script=_SCRIPT))
            rows.append(timing_row({"model": name, "clip (T, C, H, W)": size, "threads": n}, ours, ref))
    notes = ("Base-size models (ViT-B: 12 layers, 768 wide, 12 heads; VideoMAE's decoder 4 layers, 384 wide) with "
             "untrained weights (the work is the same), one N(0, 1) clip; pre-training with a 90 % tube mask (160 "
             "of 1568 tokens through the encoder, 1568 through the decoder). Each case in a fresh process (threads "
             "fixed before NumPy loads), median of 2 forwards after two warm-ups, rounds of ours and torch in turn; "
             "peak = the process's maximum resident set. torch side: Hugging Face transformers with its default "
             "attention (SDPA), "
             + (f"{torch_python}" if torch_python else "not measured (set TORCH_PYTHON to an interpreter with "
                                                        "torch==2.14.1 and transformers==5.25.0)")
             + ". Reproduce: TORCH_PYTHON=/path/to/torch/python python benchmarks/run.py transformers")
    return rows, notes
