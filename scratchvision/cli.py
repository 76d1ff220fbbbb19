"""The ``scratchvision`` command line: ``scratchvision <command> --help`` for each command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _size(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 320x240 (width x height), got {text!r}") from None
    return h, w


def _cmd_demo(args):
    from .demo import run_demo

    helper = None
    if args.cold:  # compile the last stages' kernels on the other core meanwhile
        helper = subprocess.Popen([sys.executable, "-c", "from scratchvision.demo import precompile_later_stages; "
                                   "precompile_later_stages()"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = run_demo(args.out, n_frames=args.frames, size=args.size, n_objects=args.objects,
                          seed=args.seed, report=lambda line: print(line, flush=True))
    finally:
        if helper is not None:
            helper.kill()  # done long before, unless the demo failed early
            helper.wait()
    print(f"\noutputs ({len(result['files'])} files, each described in summary.txt) in: {result['out_dir']}")
    return 0


def _raft_flow(frames, args):
    """RAFT between two RGB frames with the weights of ``--weights`` (the model from ``--model``,
    or from the checkpoint's keys: a mask head means raft_large)."""
    from . import nn

    if not args.weights:
        raise ValueError("--method raft needs --weights FILE (a torchvision RAFT checkpoint such as "
                         "raft_large_C_T_SKHT_V2-ff5fadd5.pth)")
    model = nn.load_raft(args.weights, args.model)
    return nn.calc_optical_flow_raft(frames[0], frames[1], model, num_flow_updates=args.iters)


def _read_image(iio, path):
    """An image file, or a one-line error naming it (a text file, a folder, an unknown format)."""
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder; an image file is expected")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # imageio's plugins warn as they try the file in turn
        try:
            return iio.imread(path)
        except (OSError, ValueError, RuntimeError):
            raise ValueError(f"{path} could not be read as an image (no imageio plugin reads it)") from None


FLOW_METHODS = {"farneback": "calc_optical_flow_farneback", "horn_schunck": "calc_optical_flow_horn_schunck",
                "tvl1": "calc_optical_flow_tvl1", "raft": "calc_optical_flow_raft"}


def _cmd_flow(args):
    import numpy as np

    from . import flow as flow_mod
    from .flow import angular_error, endpoint_error, valid_flow_mask
    from .io import read_flo, write_flo
    from .viz import flow_to_color

    if len(args.inputs) not in (1, 2):
        raise ValueError("give one .flo file, or two image files to compute the flow between")
    for path in (args.out, args.color):
        if path and not os.path.splitext(path)[1]:
            raise ValueError(f"{path}: give the output file an extension (.flo for --out, .png for --color)")
    gt = read_flo(args.gt) if args.gt else None  # read before the work, so a bad file fails first
    if len(args.inputs) == 1:
        name = args.inputs[0]
        flow = read_flo(name)
    else:
        import imageio.v3 as iio

        from .io import to_frame

        frames = [to_frame(_read_image(iio, path), gray=args.method != "raft") for path in args.inputs]
        if frames[0].shape != frames[1].shape:
            raise ValueError(f"{args.inputs[0]} is {frames[0].shape[1]}x{frames[0].shape[0]} but {args.inputs[1]} "
                             f"is {frames[1].shape[1]}x{frames[1].shape[0]}")
        if gt is not None and gt.shape[:2] != frames[0].shape:
            raise ValueError(f"--gt {args.gt} is {gt.shape[1]}x{gt.shape[0]}, the images "
                             f"{frames[0].shape[1]}x{frames[0].shape[0]}")
        if args.method == "raft":
            flow = _raft_flow(frames, args)
        else:
            method = getattr(flow_mod, FLOW_METHODS[args.method])
            flow = method(frames[0], frames[1])
        name = f"{args.method} flow {args.inputs[0]} -> {args.inputs[1]}"
        if args.out:
            write_flo(args.out, flow)
            print(f"flow file: {os.path.abspath(args.out)}")
    if gt is not None and gt.shape != flow.shape:
        raise ValueError(f"--gt {args.gt} is {gt.shape[1]}x{gt.shape[0]}, the flow {flow.shape[1]}x{flow.shape[0]}")
    known = valid_flow_mask(flow)
    mag = np.hypot(flow[..., 0], flow[..., 1])[known]
    print(f"{name}: {flow.shape[1]}x{flow.shape[0]}, known {known.mean():.1%}, "
          f"magnitude mean {mag.mean() if mag.size else float('nan'):.3f} "
          f"max {mag.max() if mag.size else float('nan'):.3f} px")
    if gt is not None:
        print(f"against {args.gt}: EPE {endpoint_error(np.where(known[..., None], flow, 0), gt):.4f} px, "
              f"AE {angular_error(np.where(known[..., None], flow, 0), gt):.3f} deg")
    if args.color:
        import imageio.v3 as iio

        iio.imwrite(args.color, flow_to_color(flow, max_flow=args.max_flow))
        print(f"colour image: {os.path.abspath(args.color)}")
    return 0


def _cmd_eval(args):
    import json

    from .metrics import evaluate_mot, evaluate_mot_folder, format_table

    if os.path.isdir(args.gt):
        if not os.path.isdir(args.result):
            raise ValueError(f"{args.result} must be a folder of <sequence>.txt files when the ground truth is a "
                             "folder")
        results = evaluate_mot_folder(args.gt, args.result, iou_threshold=args.iou, distractors=args.distractors,
                                      missing="skip" if args.skip_missing else "empty")
    else:
        name = os.path.splitext(os.path.basename(args.result))[0]
        results = {name: evaluate_mot(args.gt, args.result, iou_threshold=args.iou, distractors=args.distractors)}
    print(format_table(results))
    if args.csv:
        from .metrics import SUMMARY_KEYS

        with open(args.csv, "w", encoding="utf-8") as f:
            f.write("name," + ",".join(SUMMARY_KEYS) + "\n")
            for seq, r in results.items():
                f.write(seq + "," + ",".join(repr(r[k]) for k in SUMMARY_KEYS) + "\n")
        print(f"csv: {os.path.abspath(args.csv)}")
    if args.json:
        plain = {seq: {k: (v.tolist() if hasattr(v, "tolist") else
                          {kk: vv.tolist() for kk, vv in v.items()} if isinstance(v, dict) else v)
                       for k, v in r.items()} for seq, r in results.items()}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(plain, f, indent=1)
        print(f"json: {os.path.abspath(args.json)}")
    return 0


def _classifier(model_arg, weights):
    """The network of ``--model`` / ``--weights`` and the keyword arguments its classify call
    takes beyond the clip options: ``(model, extra)``."""
    from . import nn

    if os.path.isdir(model_arg):  # a Hugging Face folder: VideoMAE, TimeSformer, ViViT
        model, info = nn.from_pretrained(model_arg)
        return model, {"class_names": info.labels, "preprocessing": info.preprocessing}
    builders = {"r3d_18": nn.r3d_18, "mc3_18": nn.mc3_18, "r2plus1d_18": nn.r2plus1d_18}
    if model_arg not in builders and model_arg != "two_stream":
        raise ValueError(f"--model must be one of r3d_18, mc3_18, r2plus1d_18, two_stream or a Hugging Face model "
                         f"folder, got {model_arg!r}")
    if weights is None:
        raise ValueError(f"--weights is required with --model {model_arg}")
    state = nn.load_checkpoint(weights)
    if model_arg == "two_stream":
        if "spatial.fc.weight" not in state or "temporal.conv1.weight" not in state:
            raise ValueError(f"{weights}: a two-stream checkpoint needs spatial.* and temporal.* ResNet-18 weights")
        model = nn.TwoStream(num_classes=state["spatial.fc.weight"].shape[0],
                             flow_length=state["temporal.conv1.weight"].shape[1] // 2,
                             fusion="linear" if "fusion.weight" in state else "average")
    else:
        model = builders[model_arg](state["fc.weight"].shape[0] if "fc.weight" in state else 400)
    model.load_state_dict(state)
    return model, {}


def _cmd_classify(args):
    from . import nn

    model, extra = _classifier(args.model, args.weights)
    if isinstance(model, nn.TwoStream):
        top = nn.classify_video_two_stream(args.video, model, num_clips=args.clips, top_k=args.top)
    else:
        top = nn.classify_video(args.video, model, clip_len=args.clip_len, stride=args.stride, num_clips=args.clips,
                                top_k=args.top, **extra)
    for rank, (name, p) in enumerate(top, 1):
        print(f"{rank}. {name}: {p:.3f}")
    return 0


def _job_status(report):
    """Print a dataset job's report; the exit status is the number of inputs that failed (capped)."""
    print(report)
    return min(len(report.failed), 125)


def _cmd_extract_flow(args):
    from .batch import extract_flow

    size = None if args.new_size is None else args.new_size[::-1]
    return _job_status(extract_flow(args.videos, args.out, args.method, bound=args.bound, step=args.step,
                                    new_size=size, write=args.write, frames=not args.no_frames,
                                    raft_weights=args.weights, scheduler=args.scheduler, workers=args.workers,
                                    overwrite=args.overwrite))


def _cmd_track_dataset(args):
    from .batch import track_dataset
    from .metrics import format_table

    report = track_dataset(args.sequences, args.out, args.tracker, dict(_tracker_params(args), cost=args.cost),
                           min_score=args.min_score,
                           iou_threshold=args.iou, scheduler=args.scheduler, workers=args.workers,
                           overwrite=args.overwrite)
    if report.metrics:
        print(format_table(report.metrics))
    return _job_status(report)


def _cmd_classify_dataset(args):
    from .batch import classify_videos

    model, extra = _classifier(args.model, args.weights)
    report = classify_videos(args.videos, model, args.out, clip_len=args.clip_len, stride=args.stride,
                             num_clips=args.clips, top_k=args.top, scheduler=args.scheduler, workers=args.workers,
                             overwrite=args.overwrite, **extra)
    print(f"predictions: {os.path.abspath(os.path.join(args.out, 'predictions.csv'))}")
    return _job_status(report)


def _numbers(line):
    """The numbers of a line separated by commas, tabs or spaces (OTB's files use each)."""
    return [float(v) for v in line.replace(",", " ").split()]


def _box_from_text(text):
    """--bbox: x,y,w,h as OTB's groundtruth_rect.txt writes a line (commas, tabs or spaces)."""
    try:
        box = _numbers(text)
    except ValueError:
        box = []
    if len(box) != 4:
        raise ValueError(f"--bbox must be four numbers x,y,w,h (commas, tabs or spaces), got {text!r}")
    return tuple(box)


def _read_boxes(path, one_based):
    """A ground-truth file of x,y,w,h lines (OTB's groundtruth_rect.txt), as an (N, 4) array."""
    import numpy as np

    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                values = _numbers(line)
            except ValueError:
                values = []
            if len(values) < 4:
                raise ValueError(f"--gt {path}, line {number}: expected x,y,w,h numbers, got {line.strip()!r}")
            rows.append(values[:4])
    if not rows:
        raise ValueError(f"--gt {path} holds no boxes")
    gt = np.array(rows)
    if one_based:
        gt[:, :2] -= 1
    return gt


def _cmd_track_object(args):
    import numpy as np

    from ._progress import progress
    from .io import read_video, write_video
    from .sot import TrackerCSRT, TrackerKCF, TrackerMOSSE, otb_scores
    from .viz import draw_boxes

    box = _box_from_text(args.bbox)
    gt = _read_boxes(args.gt, args.gt_one_based) if args.gt else None  # checked before the work
    frames = read_video(args.video)
    tracker = {"mosse": TrackerMOSSE, "kcf": TrackerKCF, "csrt": TrackerCSRT}[args.tracker]()
    tracker.init(frames[0], box)
    boxes, oks = [box], [True]
    for frame in progress(frames[1:], total=len(frames) - 1, desc="track-object"):
        ok, b = tracker.update(frame)
        boxes.append(b)
        oks.append(ok)
    rows = np.column_stack([np.arange(1, len(boxes) + 1), np.array(boxes), np.array(oks, int)])
    np.savetxt(args.out, rows, fmt=["%d", "%.2f", "%.2f", "%.2f", "%.2f", "%d"], delimiter=",",
               header="frame,x,y,w,h,ok", comments="")
    print(f"boxes: {os.path.abspath(args.out)} ({sum(oks)} of {len(oks)} frames tracked)")
    if gt is not None:
        s = otb_scores(np.array(boxes), gt)
        print(f"against {args.gt}: success AUC {s['AUC']:.3f}, precision@20 {s['precision@20']:.3f}")
    if not args.no_gif:
        xyxy = np.array([[b[0], b[1], b[0] + b[2], b[1] + b[3]] for b in boxes])
        write_video(args.gif, [draw_boxes(f, xyxy[i:i + 1], ids=[1]) for i, f in enumerate(frames)])
        print(f"annotated frames: {os.path.abspath(args.gif)}")
    return 0


#: ``--tracker`` names (tracking.make_tracker's) -> the parameters ``--param`` may set
TRACKERS = {"sort": ("max_age", "min_hits", "iou_threshold"),
            "bytetrack": ("track_thresh", "match_thresh", "track_buffer", "frame_rate"),
            "ocsort": ("det_thresh", "max_age", "min_hits", "iou_threshold", "delta_t", "inertia"),
            "deepsort": ("max_cosine_distance", "nn_budget", "max_iou_distance", "max_age", "n_init"),
            "botsort": ("track_high_thresh", "track_low_thresh", "new_track_thresh", "track_buffer", "match_thresh",
                        "fuse_score", "proximity_thresh", "appearance_thresh", "frame_rate")}


def _tracker_params(args):
    """``--param NAME=VALUE`` options as keyword arguments of ``--tracker``."""
    params = TRACKERS[args.tracker]
    kwargs = {}
    for item in args.param or []:
        key, _, value = item.partition("=")
        if key not in params:
            raise ValueError(f"--param {key}: {args.tracker} takes {', '.join(params)}")
        try:
            kwargs[key] = float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            raise ValueError(f"--param {key}={value}: the value must be a number") from None
    return kwargs


def _tracker_from_args(args):
    from .tracking import make_tracker

    params = dict(_tracker_params(args), cost=args.cost)
    if args.tracker == "botsort" and getattr(args, "reid", None):
        params["with_reid"] = True
    try:
        return make_tracker(args.tracker, params)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"--param: {exc}") from None


def _check_frames_fit(frames, det, n_frames, path):
    """The video must have a frame for every frame of the detections, and every detection must
    start inside its frame (else the detections belong to another video)."""
    if len(frames) < n_frames:
        raise ValueError(f"--video {path} has {len(frames)} frames; the detections go to frame {n_frames} "
                         f"(1-based)")
    import numpy as np

    if len(det):
        h, w = frames.shape[1:3]
        outside = (det[:, 2] >= w) | (det[:, 3] >= h)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise ValueError(f"--video {path} has {w}x{h} frames, but a detection of frame {int(det[i, 0]) + 1} "
                             f"starts at ({float(det[i, 2]):g}, {float(det[i, 3]):g}), outside it: are these the "
                             f"detections of this video?")


#: ``track --reid`` choices -> builder in scratchvision.nn
REID_NETWORKS = {"osnet_x0_25": "osnet_x0_25", "osnet_x0_5": "osnet_x0_5", "osnet_x1_0": "osnet_x1_0",
                 "deepsort": "deepsort_reid"}


def _reid_network(name, weights):
    """The --reid network with its --weights loaded (a checkpoint's classifier, whose size depends
    on the training set, is left out)."""
    import numpy as np

    from . import nn

    if weights is None:
        raise ValueError(f"--reid {name} needs --weights FILE")
    if weights.endswith(".npz"):
        with np.load(weights) as f:
            state = {k: f[k] for k in f.files}
    else:
        state = nn.load_checkpoint(weights)
    model = getattr(nn, REID_NETWORKS[name])()
    state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("classifier.")]
    if missing or unexpected:
        first = (missing or unexpected)[0]
        raise ValueError(f"--weights {weights} is not a {name} checkpoint: {len(missing)} missing and "
                         f"{len(unexpected)} unexpected keys (first: {first})")
    return model


def _cmd_track(args):
    import numpy as np

    from . import nn
    from .io import read_mot, read_video, write_mot, write_video
    from .tracking import CameraMotion, color_histogram_embeddings, track_detections
    from .viz import draw_tracks

    det = read_mot(args.detections)
    if args.min_score is not None:
        det = det[det[:, 6] >= args.min_score]
    n_frames = int(det[:, 0].max()) + 1 if len(det) else 0
    if args.frames_count:
        n_frames = max(n_frames, args.frames_count)
    tracker = _tracker_from_args(args)
    if args.reid and args.tracker not in ("deepsort", "botsort"):
        raise ValueError(f"--reid is for --tracker deepsort or botsort (--tracker {args.tracker} takes no "
                         "embeddings)")
    reid = _reid_network(args.reid, args.weights) if args.reid else None
    frames = None
    if args.video or args.tracker == "deepsort" or reid is not None:
        if not args.video:
            raise ValueError(f"--tracker {args.tracker} with appearance needs the video the detections come from "
                             "(--video PATH: a video file or image folder) for its embeddings")
        frames = read_video(args.video, end=n_frames)
        _check_frames_fit(frames, det, n_frames, args.video)
    if reid is not None:
        def embed(t, boxes):
            return nn.embed(reid, frames[t], boxes) + 1e-6
    elif args.tracker == "deepsort":
        def embed(t, boxes):
            # + 1e-6: a box wholly outside the frame has an all-zero histogram, which DeepSort refuses
            return color_histogram_embeddings(frames[t], boxes[:, :4]) + 1e-6
    else:
        embed = None
    warp = None
    if args.cmc:
        if frames is None:
            raise ValueError("--cmc needs the frames: give --video PATH")
        cmc = CameraMotion(args.cmc, args.cmc_model or ("euclidean" if args.cmc == "ecc" else "similarity"))

        def warp(t, boxes):
            return cmc(frames[t], boxes)
    result = track_detections(tracker, det, num_frames=n_frames, embed=embed, warp=warp, desc=args.tracker)
    write_mot(args.out, result, precision=7)
    print(f"{args.tracker}: {n_frames} frames, {len(result)} track boxes, "
          f"{len(np.unique(result[:, 1]))} ids -> {os.path.abspath(args.out)}")
    if args.video:
        drawn = np.stack([draw_tracks(f, result, t) for t, f in enumerate(frames)])
        path = os.path.splitext(args.out)[0] + ".gif"
        write_video(path, drawn, fps=10)
        print(f"tracks drawn on the frames: {os.path.abspath(path)}")
    return 0


def _cmd_warmup(args):
    from .cache import cache_info, clear_cache, mark_warm, warmup

    if args.clear:
        print(f"removed {clear_cache()} cached files")
    times = warmup(verbose=True)
    mark_warm(COLD_SECONDS)  # the commands' first runs need not announce a compilation any more
    info = cache_info()
    print(f"warm-up: {sum(times.values()):.2f} s for {len(times)} modules; cache: {info['files']} files, "
          f"{info['bytes'] / 1e6:.1f} MB in {info['cache_dir']}")
    return 0


def _find_benchmarks(explicit):
    candidates = [explicit] if explicit else [
        os.path.join(os.getcwd(), "benchmarks"),
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"),
    ]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "run.py")):
            return c
    raise SystemExit("scratchvision bench: no benchmarks/run.py found; run it from a source checkout "
                     "or pass --dir path/to/benchmarks")


def _benchmark_names():
    """The benchmarks of the source checkout, for the help text."""
    try:
        folder = _find_benchmarks(None)
    except SystemExit:
        return "the bench_*.py files of a source checkout's benchmarks folder"
    return ", ".join(sorted(f[6:-3] for f in os.listdir(folder) if f.startswith("bench_") and f.endswith(".py")))


def _cmd_bench(args):
    bench_dir = _find_benchmarks(args.dir)
    cmd = [sys.executable, os.path.join(bench_dir, "run.py"), *args.names,
           "--threads", *map(str, args.threads), "--repeat", str(args.repeat)]
    if args.no_write:
        cmd.append("--no-write")
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchvision", description=__doc__.splitlines()[0])
    from . import __version__

    parser.add_argument("--version", action="version", version=f"scratchvision {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="run the main job on the built-in synthetic sequence",
                       description="Render the synthetic sequence with ground truth, run every "
                                   "available algorithm on it, write images/GIFs and summary.txt "
                                   "(accuracy against the ground truth) into OUT and print where.")
    p.add_argument("--out", default="scratchvision-demo", help="output folder (default: %(default)s)")
    p.add_argument("--frames", type=int, default=40, help="number of frames (default: %(default)s)")
    p.add_argument("--size", type=_size, default=(240, 320), help="WIDTHxHEIGHT (default: 320x240)")
    p.add_argument("--objects", type=int, default=6, help="number of objects (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("flow", help="dense flow between two images, or inspect a .flo file: statistics, "
                                     "error against ground truth, colour image",
                       description="With two images, compute the dense flow from the first to the second "
                                   "(Farneback, Horn-Schunck or TV-L1 with their defaults; RAFT with a torchvision "
                                   "checkpoint given by --weights); with one Middlebury .flo "
                                   "file, read it. Print the size and magnitudes, optionally the "
                                   "endpoint/angular error against a ground-truth .flo, and write the "
                                   "Middlebury colour-wheel image.")
    p.add_argument("inputs", nargs="+", metavar="FILE", help="FRAME0 FRAME1 (images), or one .flo file")
    p.add_argument("--method", choices=sorted(FLOW_METHODS), default="farneback",
                   help="dense flow method for two images (default: %(default)s)")
    p.add_argument("--weights", help="RAFT checkpoint (torchvision's .pth, or .safetensors), for --method raft")
    p.add_argument("--model", choices=["small", "large"], help="RAFT network (default: from the checkpoint's keys)")
    p.add_argument("--iters", type=int, default=12, help="RAFT flow updates (default: %(default)s)")
    p.add_argument("--out", help="write the computed flow to this .flo file")
    p.add_argument("--gt", help="ground-truth .flo to compare against")
    p.add_argument("--color", help="write the colour-coded flow to this PNG")
    p.add_argument("--max-flow", type=float, default=None, help="magnitude of full saturation")
    p.set_defaults(func=_cmd_flow)

    def detection_options(p):
        p.add_argument("--cost", default="iou", choices=["iou", "giou", "diou", "ciou"],
                       help="the overlap the association matches on (default: %(default)s, as the papers)")
        p.add_argument("--min-score", type=float, default=None, help="drop detections scoring below this")

    p = sub.add_parser("track", help="run a multi-object tracker over a MOTChallenge detection file",
                       description="Read detections (MOTChallenge det.txt: frame, -1, x, y, w, h, "
                                   "score, ...), run the tracker on every frame (frames without "
                                   "detections included), write the tracks as a MOTChallenge "
                                   "result file.")
    p.add_argument("detections", help="det.txt")
    p.add_argument("--out", default="tracks.txt", help="result file (default: %(default)s)")
    p.add_argument("--tracker", default="sort", choices=sorted(TRACKERS), help="tracker (default: %(default)s)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="tracker parameter, repeatable (sort: max_age, min_hits, iou_threshold; "
                        "bytetrack: track_thresh, match_thresh, track_buffer, frame_rate; "
                        "ocsort: det_thresh, max_age, min_hits, iou_threshold, delta_t, inertia; "
                        "deepsort: max_cosine_distance, nn_budget, max_iou_distance, max_age, n_init; "
                        "botsort: track_high_thresh, track_low_thresh, new_track_thresh, track_buffer, "
                        "match_thresh, fuse_score, proximity_thresh, appearance_thresh, frame_rate)")
    detection_options(p)
    p.add_argument("--frames-count", type=int, default=0, help="number of frames if the last ones have no detections")
    p.add_argument("--video", "--show", dest="video", metavar="PATH",
                   help="the video the detections come from (a video file or an image folder): the tracks are "
                        "drawn into OUT.gif, and deepsort takes its embeddings from it (colour histograms, "
                        "or --reid) (--show is the former name)")
    p.add_argument("--reid", choices=sorted(REID_NETWORKS),
                   help="the appearance network of deepsort (instead of colour histograms) or botsort (which "
                        "then uses appearance) (with --weights: a torchreid "
                        "OSNet checkpoint, or the DeepSORT network's variables as .npz/.safetensors)")
    p.add_argument("--weights", help="the --reid network's weights")
    p.add_argument("--cmc", choices=["sparse", "ecc"], help="camera-motion compensation from the --video frames "
                   "(sparse: corners, Lucas-Kanade, RANSAC; ecc: ECC alignment), applied to the tracks before matching")
    p.add_argument("--cmc-model", default=None,
                   choices=["translation", "similarity", "euclidean", "affine", "homography"],
                   help="the camera's motion model (default: similarity for sparse, euclidean for ecc)")
    p.set_defaults(func=_cmd_track)

    p = sub.add_parser("eval", help="CLEAR MOT, IDF1 and HOTA of tracker results against MOTChallenge ground truth",
                       description="Evaluate a result file against a gt.txt, or a folder of <sequence>.txt "
                                   "results against a MOTChallenge ground-truth folder (<sequence>/gt/gt.txt, "
                                   "seqinfo.ini), and print the table motmetrics users know (plus HOTA, "
                                   "DetA, AssA, LocA) with an OVERALL row; counts equal motmetrics', "
                                   "HOTA equals TrackEval's.")
    p.add_argument("gt", help="gt.txt, or the ground-truth root folder")
    p.add_argument("result", help="result file, or the folder of <sequence>.txt results")
    p.add_argument("--iou", type=float, default=0.5, help="IoU for a match (default: %(default)s)")
    p.add_argument("--distractors", default="auto", choices=["auto", "none", "MOT15", "MOT16", "MOT17", "MOT20"],
                   help="MOTChallenge distractor handling (default: %(default)s: when gt has classes)")
    p.add_argument("--skip-missing", action="store_true",
                   help="leave sequences without a result file out of the table and OVERALL (default: they "
                        "count with no hypotheses, as the MOTChallenge scripts score them)")
    p.add_argument("--csv", help="also write the table's metrics to this CSV file")
    p.add_argument("--json", help="also write every metric (HOTA per alpha included) to this JSON file")
    p.set_defaults(func=_cmd_eval)

    def clip_options(p):
        p.add_argument("--clip-len", type=int, default=16,
                       help="frames per clip for the ResNets (default: %(default)s; a folder's model takes its "
                            "config's num_frames)")
        p.add_argument("--stride", type=int, default=1, help="take every N-th frame (default: %(default)s)")
        p.add_argument("--clips", type=int, default=1, help="clips averaged (default: %(default)s)")
        p.add_argument("--top", type=int, default=5, help="classes kept (default: %(default)s)")

    p = sub.add_parser("classify", help="action recognition of a video (3-D ResNet, Two-Stream, or a VideoMAE / "
                                        "TimeSformer / ViViT folder; top-5 classes)",
                       description="Run R3D-18, MC3-18 or R(2+1)D-18 with the given weights (a torchvision "
                                   "checkpoint such as r3d_18-b3b3357e.pth, or .safetensors) on clips "
                                   "sampled from the video (resize 128x171, centre crop 112, Kinetics "
                                   "normalisation), or a Hugging Face model folder (config.json + weights, "
                                   "e.g. MCG-NJU/videomae-base-finetuned-kinetics) with its own frame count and "
                                   "preprocessing, and print the top classes of the averaged softmax.")
    p.add_argument("video", help="video file or image folder")
    p.add_argument("--model", default="r3d_18",
                   help="r3d_18 (default), mc3_18, r2plus1d_18, two_stream (RGB + Farneback flow ResNet-18s, "
                        "weights spatial.* / temporal.*), or the path of a Hugging Face VideoMAE / TimeSformer / "
                        "ViViT folder (no --weights then)")
    p.add_argument("--weights", help="checkpoint file (.pth, .pt, .safetensors) for the ResNets")
    clip_options(p)
    p.set_defaults(func=_cmd_classify)

    def job_options(p):
        p.add_argument("--out", required=True, metavar="DIR", help="output folder")
        p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a running Dask scheduler (tcp://host:8786), or 'serial' to run in this process "
                            "(default: a local Dask cluster, one worker process per core)")
        p.add_argument("--workers", type=int, default=None, help="worker processes of the local cluster "
                                                                  "(default: one per core)")
        p.add_argument("--overwrite", action="store_true",
                       help="replace finished outputs (default: skip them and redo only what is missing)")

    p = sub.add_parser("extract-flow", help="optical flow of every video of a folder for two-stream training "
                                            "(denseflow's layout), on Dask",
                       description="For each video (file or frame folder), write OUT/<name>/img_00001.jpg ..., "
                                   "flow_x_00001.jpg, flow_y_00001.jpg ... (the flow clipped to +-BOUND and "
                                   "quantised to 0..255, as open-mmlab's denseflow and MMAction2's raw-frame "
                                   "loaders have it), or raw .flo / .npz flow. One task per video; finished "
                                   "videos are skipped when run again; the exit status is the number that failed.")
    p.add_argument("videos", help="a folder of videos, a glob pattern (quoted), or one video")
    job_options(p)
    p.add_argument("--method", default="tvl1", choices=["tvl1", "farneback", "horn_schunck", "raft"],
                   help="flow method (default: %(default)s)")
    p.add_argument("--bound", type=float, default=20.0, help="quantisation bound in pixels (default: %(default)s)")
    p.add_argument("--step", type=int, default=1, help="frames between the two of a pair (default: %(default)s)")
    p.add_argument("--new-size", type=_size, default=None, metavar="WxH", help="resize the frames first")
    p.add_argument("--write", default="jpg", choices=["jpg", "png", "flo", "npz"], help="flow files (default: jpg)")
    p.add_argument("--no-frames", action="store_true", help="do not write the frames (img_*.jpg)")
    p.add_argument("--weights", help="torchvision RAFT checkpoint, for --method raft")
    p.set_defaults(func=_cmd_extract_flow)

    p = sub.add_parser("track-dataset", help="run a tracker over every sequence of a MOTChallenge folder and "
                                             "evaluate it, on Dask",
                       description="For each sequence (<seq>/det/det.txt, or a detection file) write "
                                   "OUT/<seq>.txt, then print CLEAR MOT, IDF1 and HOTA over the sequences with "
                                   "gt/gt.txt. The exit status is the number of sequences that failed.")
    p.add_argument("sequences", help="a folder of sequences, a glob pattern (quoted), or one sequence")
    job_options(p)
    p.add_argument("--tracker", default="bytetrack", choices=["sort", "bytetrack", "ocsort", "botsort"],
                   help="tracker (default: %(default)s)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="tracker parameter, repeatable "
                                                                           "(as for track)")
    detection_options(p)
    p.add_argument("--iou", type=float, default=0.5, help="IoU for a match in the evaluation (default: %(default)s)")
    p.set_defaults(func=_cmd_track_dataset)

    p = sub.add_parser("classify-dataset", help="action recognition of every video of a folder, on Dask",
                       description="Classify each video as 'classify' does; write OUT/<name>.csv (rank, label, "
                                   "score) per video and OUT/predictions.csv for all. The exit status is the "
                                   "number of videos that failed.")
    p.add_argument("videos", help="a folder of videos, a glob pattern (quoted), or one video")
    job_options(p)
    p.add_argument("--model", default="r3d_18", help="as for classify")
    p.add_argument("--weights", help="checkpoint file for the ResNets")
    clip_options(p)
    p.set_defaults(func=_cmd_classify_dataset)

    p = sub.add_parser("track-object", help="follow one object through a video (CSRT, KCF or MOSSE correlation filter)",
                       description="Initialise a single-object tracker on the first frame's box and follow it; "
                                   "write the boxes (frame,x,y,w,h,ok) and an annotated GIF, and the OTB scores "
                                   "against a ground-truth file when one is given.")
    p.add_argument("video", help="video file or image folder")
    p.add_argument("--bbox", required=True, help="x,y,w,h of the object in the first frame (0-based pixels)")
    p.add_argument("--tracker", default="csrt", choices=["csrt", "kcf", "mosse"], help="tracker (default: %(default)s)")
    p.add_argument("--out", default="boxes.txt", help="boxes file (default: %(default)s)")
    p.add_argument("--gif", default="track.gif", help="the frames with the tracked box (default: %(default)s)")
    p.add_argument("--no-gif", action="store_true", help="do not write the GIF")
    p.add_argument("--gt", help="ground-truth boxes x,y,w,h per line (OTB groundtruth_rect.txt)")
    p.add_argument("--gt-one-based", action="store_true", help="the ground truth uses OTB's 1-based corners")
    p.set_defaults(func=_cmd_track_object)

    p = sub.add_parser("warmup", help="compile every kernel into Numba's on-disk cache",
                       description="Compile the standard signatures of every kernel (honours "
                                   "NUMBA_CACHE_DIR) and report the time and the cache size.")
    p.add_argument("--clear", action="store_true", help="delete the cached kernels first")
    p.set_defaults(func=_cmd_warmup)

    p = sub.add_parser("bench", help="run the benchmarks against the references, write benchmarks/RESULTS.md",
                       description="Run benchmarks/run.py: ours and the reference in one process, "
                                   "same inputs and thread count, median of repeated runs after "
                                   "warm-up; compile time reported separately.")
    p.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {_benchmark_names()}")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)")
    p.add_argument("--repeat", type=int, default=9, help="timed runs per measurement (default: %(default)s)")
    p.add_argument("--dir", help="the benchmarks folder (default: ./benchmarks or the source checkout's)")
    p.add_argument("--no-write", action="store_true", help="print only, do not update RESULTS.md")
    p.set_defaults(func=_cmd_bench)
    return parser


#: About how long each command's first run takes on a 2-core machine, mostly compiling (s;
#: measured with an empty NUMBA_CACHE_DIR: demo 80, track on MOT15 ADL-Rundle-6 33, flow 18
#: (Farneback) to 23 (TV-L1) on RubberWhale, track-object on OTB Crossing 17, eval 16, classify 4).
COLD_SECONDS = {"demo": 80, "track": 35, "flow": 25, "track-object": 20, "eval": 15, "classify": 5}


def _error_text(exc):
    """One line for a user's mistake: an OS error by its file and reason, anything else by its
    message with its lines joined."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or type(exc).__name__}"
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None) -> int:
    import warnings

    args = build_parser().parse_args(argv)
    prefix = f"scratchvision {args.command}"

    def show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"{prefix}: warning: {message}", file=sys.stderr)  # no Python source line

    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        try:
            if args.command not in COLD_SECONDS:
                return args.func(args)
            from .cache import first_run

            with first_run(args.command, COLD_SECONDS[args.command]) as args.cold:
                return args.func(args)
        except KeyboardInterrupt:
            print(f"{prefix}: interrupted", file=sys.stderr)
            return 130
        except (ValueError, TypeError, OSError) as exc:
            print(f"{prefix}: error: {_error_text(exc)}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
