"""``scratchvision demo``: the main job, run on the built-in synthetic sequence.

It renders :func:`scratchvision.data.synthetic_sequence`, runs each available stage on it, writes
images, GIFs and MOT/.flo files into an output folder, and writes ``summary.txt`` with each
stage's accuracy against the ground truth. Stages are plain functions listed in :data:`STAGES`;
each algorithm adds its own.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ._progress import progress

__all__ = ["run_demo", "STAGES", "FILES"]


def _flow_arrows_figure(frame, flow, path, step=16):
    """The flow as arrows every ``step`` pixels, lengthened so that the fastest tenth of them
    are about ``step`` pixels long (a 1 px motion would be a dot), the factor in the title."""
    from .viz import plot_flow_quiver

    magnitude = np.hypot(flow[step // 2::step, step // 2::step, 0], flow[step // 2::step, step // 2::step, 1])
    fast = float(np.percentile(magnitude, 90)) if magnitude.size else 0.0
    scale = max(1.0, round(step / fast)) if fast > 0 else 1.0
    plot_flow_quiver(frame, flow, step=step, scale=scale, path=path,
                     title=f"exact flow, frame 0 -> 1: arrows {scale:g}x the motion (a {step} px arrow = "
                           f"{step / scale:.1f} px)")


def _stage_ground_truth(seq, gray, out, show_progress):
    """Ground truth itself: what the sequence holds, and how well the exact flow explains it."""
    from .flow import endpoint_error, warp
    from .io import write_flo, write_mot, write_video
    from .viz import caption, draw_tracks, flow_to_color, plot_track_timeline

    n = len(seq.frames)
    write_video(os.path.join(out, "frames.gif"),
                [caption(f, f"synthetic video: frame {t} of {n - 1}") for t, f in enumerate(seq.frames)], fps=10)
    write_mot(os.path.join(out, "gt.txt"), seq.gt)
    write_flo(os.path.join(out, "gt_flow_0000.flo"), seq.flow[0])
    max_flow = float(np.hypot(seq.flow[..., 0], seq.flow[..., 1]).max())
    write_video(os.path.join(out, "gt_flow.gif"),
                [caption(flow_to_color(f, max_flow=max_flow),
                         f"exact flow {t} -> {t + 1}: hue = direction, saturation = speed ({max_flow:.1f} px full)")
                 for t, f in enumerate(seq.flow)], fps=10)
    visible = seq.gt[seq.gt[:, 6] > 0]
    write_video(os.path.join(out, "gt_tracks.gif"),
                [caption(draw_tracks(f, visible, t), f"ground truth: boxes, ids and trails, frame {t} of {n - 1}")
                 for t, f in enumerate(seq.frames)], fps=10)
    _flow_arrows_figure(seq.frames[0], seq.flow[0], os.path.join(out, "gt_flow_arrows_0000.png"))
    plot_track_timeline(seq.gt[seq.gt[:, 6] > 0], path=os.path.join(out, "gt_timeline.png"),
                        title="ground-truth tracks (visible frames)")

    warped_err, still_err, zero_epe = [], [], []
    for t in progress(range(len(seq.flow)), desc="ground truth", enabled=show_progress):
        # Pixels whose surface is seen in both frames: the label at the flow target is unchanged.
        h, w = gray.shape[1:]
        yy, xx = np.mgrid[0:h, 0:w]
        tx = np.rint(xx + seq.flow[t][..., 0]).astype(int)
        ty = np.rint(yy + seq.flow[t][..., 1]).astype(int)
        inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
        same = inside.copy()
        same[inside] = seq.labels[t + 1][ty[inside], tx[inside]] == seq.labels[t][inside]
        residual = np.abs(warp(gray[t + 1], seq.flow[t]) - gray[t])
        warped_err.append(residual[same].mean())
        still_err.append(np.abs(gray[t + 1].astype(np.float32) - gray[t])[same].mean())
        zero_epe.append(endpoint_error(np.zeros_like(seq.flow[t]), seq.flow[t]))
    n_ids = len(np.unique(seq.gt[:, 1]))
    return [
        f"sequence: {seq.frames.shape[0]} frames of {seq.frames.shape[2]}x{seq.frames.shape[1]}, "
        f"{n_ids} objects, {int((seq.gt[:, 6] > 0).sum())} visible ground-truth boxes",
        f"ground-truth flow: mean |frame[t] - warp(frame[t+1], flow[t])| = {np.mean(warped_err):.2f} "
        f"gray levels on co-visible pixels (no warp: {np.mean(still_err):.2f})",
        f"zero-flow baseline: mean endpoint error {np.mean(zero_epe):.3f} px",
    ]


def _stage_corner_tracks(seq, gray, out, show_progress):
    """Shi-Tomasi corners followed by pyramidal Lucas-Kanade with the forward-backward check
    (OpenCV's lk_track loop), scored against the exact flow."""
    from .flow import track_features
    from .imgproc import remap
    from .io import write_video
    from .viz import caption, draw_lines, draw_points, id_colors

    history = {}
    errors, interior, lost, frames_out = [], [], 0, []
    h, w = gray.shape[1:]
    previous = None
    tracker = track_features(gray, max_corners=300, quality_level=0.01, min_distance=7, block_size=3)
    for tp in progress(tracker, total=len(gray), desc="corner tracks", enabled=show_progress):
        if previous is not None:
            before = dict(zip(previous.ids.tolist(), previous.points))
            carried = [k for k, i in enumerate(tp.ids.tolist()) if i in before and not tp.new[k]]
            lost += len(previous.ids) - len(carried)
            if carried:
                start = np.array([before[i] for i in tp.ids[carried].tolist()], np.float32)
                f = seq.flow[tp.frame - 1]
                gt = np.column_stack([remap(f[..., 0], start[:, 0:1], start[:, 1:2])[:, 0],
                                      remap(f[..., 1], start[:, 0:1], start[:, 1:2])[:, 0]])
                errors.append(np.hypot(*(tp.points[carried] - (start + gt)).T))
                # away from object boundaries: one surface over the whole 7x7 neighbourhood
                labels = seq.labels[tp.frame - 1]
                cx = np.clip(np.rint(start[:, 0]).astype(int), 3, w - 4)
                cy = np.clip(np.rint(start[:, 1]).astype(int), 3, h - 4)
                patches = np.stack([labels[cy + dy, cx + dx] for dy in range(-3, 4) for dx in range(-3, 4)])
                interior.append((patches == patches[0]).all(axis=0))
        for i, p in zip(tp.ids.tolist(), tp.points):
            history.setdefault(i, []).append(p)
        live = set(tp.ids.tolist())
        segments, colours = [], []
        for i in live:
            trail = np.array(history[i][-10:])
            if len(trail) > 1:
                segments.append(np.column_stack([trail[:-1], trail[1:]]))
                colours.append(np.repeat(id_colors([i]), len(trail) - 1, axis=0))
        canvas = seq.frames[tp.frame]
        if segments:
            canvas = draw_lines(canvas, np.concatenate(segments), np.concatenate(colours))
        frames_out.append(caption(draw_points(canvas, tp.points, id_colors(tp.ids), radius=1),
                                  f"Shi-Tomasi corners + pyramidal Lucas-Kanade: frame {tp.frame}, "
                                  f"{len(tp.ids)} points, 10-frame trails"))
        previous = tp
    write_video(os.path.join(out, "corner_tracks.gif"), np.stack(frames_out), fps=10)
    err = np.concatenate(errors) if errors else np.zeros(0)
    inside = np.concatenate(interior) if interior else np.zeros(0, bool)
    lines = [f"{len(history)} corner tracks, {len(err)} frame-to-frame steps, {lost} dropped by the "
             f"forward-backward check or lost"]
    for label, e in (("all steps", err), ("steps away from object boundaries", err[inside])):
        if len(e):
            lines.append(f"{label}: error against the exact flow median {np.median(e):.3f} px, "
                         f"mean {e.mean():.3f} px, {(e < 0.5).mean():.1%} under 0.5 px ({len(e)} steps)")
    return lines


def _stage_dense_flow(seq, gray, out, show_progress):
    """Farneback (OpenCV's sample settings), Horn-Schunck and TV-L1 on the first frame pairs,
    scored against the exact flow; the Farneback flow's colour image and its forward-backward
    occlusion mask."""
    from .flow import (calc_optical_flow_farneback, calc_optical_flow_horn_schunck, calc_optical_flow_tvl1,
                       endpoint_error, flow_consistency)
    from .io import write_video
    from .viz import caption, flow_to_color

    methods = {"Farneback": calc_optical_flow_farneback,
               "Horn-Schunck": calc_optical_flow_horn_schunck, "TV-L1": calc_optical_flow_tvl1}
    n_pairs = min(5, len(gray) - 1)
    epe = {name: [] for name in methods}
    tiles, occluded = [], []
    max_flow = float(np.hypot(seq.flow[:n_pairs, ..., 0], seq.flow[:n_pairs, ..., 1]).max())
    for t in progress(range(n_pairs), desc="dense flow", enabled=show_progress):
        row = [caption(flow_to_color(seq.flow[t], max_flow=max_flow), "ground truth")]
        for name, method in methods.items():
            flow = method(gray[t], gray[t + 1])
            epe[name].append(endpoint_error(flow, seq.flow[t]))
            row.append(caption(flow_to_color(flow, max_flow=max_flow), f"{name}: EPE {epe[name][-1]:.3f} px"))
            if name == "Farneback":
                occluded.append(flow_consistency(flow, method(gray[t + 1], gray[t]))[1].mean())
        grid = np.concatenate([np.concatenate(row[:2], axis=1), np.concatenate(row[2:], axis=1)], axis=0)
        tiles.append(caption(grid, f"dense flow {t} -> {t + 1}, one colour wheel for all ({max_flow:.1f} px full "
                                   f"saturation)"))
    write_video(os.path.join(out, "dense_flow.gif"), np.stack(tiles), fps=2)
    zero = np.mean([endpoint_error(np.zeros_like(seq.flow[t]), seq.flow[t]) for t in range(n_pairs)])
    lines = [f"mean endpoint error over {n_pairs} frame pairs (zero flow: {zero:.3f} px):"]
    lines += [f"  {name}: {np.mean(v):.3f} px" for name, v in epe.items()]
    lines.append(f"Farneback forward-backward check flags {np.mean(occluded):.1%} of the pixels "
                 f"(occluded, leaving the view, or unreliable)")
    return lines


#: Box colours of the single-object trackers in the demo's GIF.
_SOT_COLOURS = {"ground truth": (255, 255, 255), "CSRT": (0, 220, 0), "KCF": (255, 140, 0), "MOSSE": (255, 0, 255)}


def _least_occluded_object(seq):
    """The object whose visible fraction, averaged over the frames it is in view, is highest
    among those in view for at least half the sequence (ties: the lower id)."""
    gt = seq.gt[seq.gt[:, 6] > 0]
    best, best_score = int(seq.gt[0, 1]), -1.0
    for oid in np.unique(gt[:, 1]).astype(int):
        rows = gt[gt[:, 1] == oid]
        score = rows[:, 8].mean() if len(rows) >= len(seq.frames) / 2 else -1.0 + len(rows) / len(seq.frames)
        if score > best_score:
            best, best_score = oid, score
    return best


def _occlusion_note(seq, oid, first):
    """Where the object is partly hidden (visible fraction below 0.8), in words."""
    rows = seq.gt[(seq.gt[:, 1] == oid) & (seq.gt[:, 0] >= first)]
    hidden = rows[rows[:, 8] < 0.8, 0].astype(int)
    if not len(hidden):
        return f"never more than 20 % hidden (least visible: {rows[:, 8].min():.0%})"
    runs = np.split(hidden, np.flatnonzero(np.diff(hidden) > 1) + 1)
    spans = ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)
    return (f"partly hidden by other objects (under 80 % visible) in frames {spans}; least visible "
            f"{rows[:, 8].min():.0%}")


def _stage_single_object(seq, gray, out, show_progress):
    """CSRT, KCF and MOSSE following the least occluded object from its first box, OTB success
    AUC and precision, and a GIF of the three boxes beside the ground truth."""
    from .io import write_video
    from .sot import TrackerCSRT, TrackerKCF, TrackerMOSSE, object_track, otb_scores, run_tracker
    from .viz import caption, draw_boxes

    oid = _least_occluded_object(seq)
    frames, gt = object_track(seq, oid)
    if len(frames) < 2:
        return [f"object {oid} is in view for fewer than 2 frames: skipped"]
    first = int(np.flatnonzero((seq.gt[:, 1] == oid) & (seq.gt[:, 6] > 0)).min())
    lines = [f"object {oid} (the least occluded) over {len(frames)} frames from frame {int(seq.gt[first, 0])}: "
             f"{_occlusion_note(seq, oid, int(seq.gt[first, 0]))}"]
    results, boxes = {}, {"ground truth": gt}
    for name, make in (("CSRT", TrackerCSRT), ("KCF", TrackerKCF), ("MOSSE", TrackerMOSSE)):
        run_tracker(make(), frames[:3], gt[0])  # compiles its kernels on a first run, so frames/s is the tracker's
        pred, ok, fps = run_tracker(make(), frames, gt[0])
        results[name] = (pred, gt)
        boxes[name] = pred
        s = otb_scores(pred, gt)
        lines.append(f"  {name}: success AUC {s['AUC']:.3f}, precision@20 {s['precision@20']:.3f}, "
                     f"{ok.mean():.0%} of frames reported tracked, {fps:.0f} frames/s")
    lines.append("  ('tracked' is each tracker's own failure test: a filter that has drifted onto the background "
                 "keeps a sharp response peak, so it can report success while the AUC shows the drift)")
    drawn = []
    for i, f in enumerate(frames):
        canvas = f
        for name, b in boxes.items():
            xyxy = np.column_stack([b[i:i + 1, :2], b[i:i + 1, :2] + b[i:i + 1, 2:]])
            canvas = draw_boxes(canvas, xyxy, color=_SOT_COLOURS[name], thickness=1 if name == "ground truth" else 2,
                                label=False)
        drawn.append(caption(canvas, f"single-object tracking of object {oid}: frame {i} of {len(frames) - 1}",
                             legend=list(_SOT_COLOURS.items())))
    write_video(os.path.join(out, "single_object_tracks.gif"), np.stack(drawn), fps=10)
    from .viz import plot_otb

    plot_otb(results, os.path.join(out, "otb_curves.png"))  # success and precision plots
    return lines


def _stage_sort(seq, gray, out, show_progress):
    """SORT on detections made from the ground truth (jittered, 10 % missed, a few false
    alarms), scored per frame by optimal IoU matching against the ground truth."""
    from .assignment import linear_sum_assignment
    from .boxes import iou_matrix
    from .io import write_mot, write_video
    from .tracking import Sort
    from .viz import caption, draw_tracks

    rng = np.random.default_rng(7)
    tracker = Sort()
    rows, matched, n_gt, n_out = [], [], 0, 0
    ids_per_object = {}
    h, w = gray.shape[1:]
    for t in progress(range(len(seq.frames)), desc="SORT", enabled=show_progress):
        gt = seq.gt[(seq.gt[:, 0] == t) & (seq.gt[:, 8] > 0.3)]
        keep = rng.random(len(gt)) > 0.1
        boxes = np.column_stack([gt[:, 2], gt[:, 3], gt[:, 2] + gt[:, 4], gt[:, 3] + gt[:, 5]])[keep]
        size = np.repeat(boxes[:, 2:] - boxes[:, :2], 2, axis=0).reshape(-1, 4)
        boxes = boxes + rng.normal(0, 0.02, boxes.shape) * size
        false = rng.uniform([0, 0], [w - 30, h - 30], (rng.poisson(0.3), 2))
        boxes = np.concatenate([boxes, np.column_stack([false, false + 30])])
        dets = np.column_stack([boxes, rng.uniform(0.5, 1.0, len(boxes))])
        tracks = tracker.update(dets)
        for x1, y1, x2, y2, tid, *_ in tracks:
            rows.append((t, tid, x1, y1, x2 - x1, y2 - y1, 1, -1, -1, -1))
        gt_boxes = np.column_stack([gt[:, 2], gt[:, 3], gt[:, 2] + gt[:, 4], gt[:, 3] + gt[:, 5]])
        iou = iou_matrix(gt_boxes, tracks[:, :4])
        r, c = linear_sum_assignment(-iou)
        good = iou[r, c] >= 0.5
        matched.append(good.sum())
        for g, k in zip(gt[r[good], 1].astype(int), tracks[c[good], 4].astype(int)):
            ids_per_object.setdefault(g, set()).add(k)
        n_gt += len(gt)
        n_out += len(tracks)
    result = np.array(rows, np.float64).reshape(-1, 10)
    write_mot(os.path.join(out, "sort_tracks.txt"), result)
    write_video(os.path.join(out, "sort_tracks.gif"),
                [caption(draw_tracks(f, result, t), f"SORT on jittered detections: frame {t}, "
                                                    f"{int((result[:, 0] == t).sum())} tracks (id on each box)")
                 for t, f in enumerate(seq.frames)], fps=10)
    hits = int(np.sum(matched))
    fragments = np.mean([len(v) for v in ids_per_object.values()]) if ids_per_object else 0.0
    from .metrics import evaluate_mot

    m = evaluate_mot(seq.gt[:, :7], result[:, :7], distractors="none")
    return [
        f"{len(np.unique(result[:, 1]))} track ids over {len(seq.frames)} frames for "
        f"{len(np.unique(seq.gt[:, 1]))} objects",
        f"ground-truth boxes found at IoU >= 0.5: {hits / max(n_gt, 1):.1%} (recall), "
        f"{hits / max(n_out, 1):.1%} of reported boxes (precision); "
        f"{fragments:.2f} track ids per object on average (1 is perfect)",
        f"MOT metrics against every visible ground-truth box: MOTA {m['MOTA']:.3f}, IDF1 {m['IDF1']:.3f}, "
        f"HOTA {m['HOTA']:.3f} (DetA {m['DetA']:.3f}, AssA {m['AssA']:.3f}), {m['IDSW']} identity switches",
    ]


#: (name, function) pairs run in order by :func:`run_demo`.
STAGES = [("ground truth", _stage_ground_truth),
          ("corner tracks (Shi-Tomasi + pyramidal Lucas-Kanade)", _stage_corner_tracks),
          ("dense flow (Farneback, Horn-Schunck, TV-L1)", _stage_dense_flow),
          ("multi-object tracks (SORT on jittered ground-truth detections)", _stage_sort),
          ("single-object tracks (CSRT, KCF, MOSSE)", _stage_single_object)]


#: What each file the demo writes shows (``{stem}`` files: one per method or frame).
FILES = {
    "frames.gif": "the synthetic video itself",
    "gt.txt": "ground-truth boxes and ids, MOTChallenge format (1-based frames)",
    "gt_flow_0000.flo": "exact flow from frame 0 to frame 1, Middlebury .flo",
    "gt_flow.gif": "exact flow of every frame pair, Middlebury colour wheel (hue: direction, saturation: speed)",
    "gt_flow_arrows_0000.png": "exact flow of frame 0 drawn as arrows (their scale is in the picture's title)",
    "gt_tracks.gif": "ground-truth boxes with their ids on the frames",
    "gt_timeline.png": "when each ground-truth object is visible",
    "corner_tracks.gif": "Shi-Tomasi corners followed by pyramidal Lucas-Kanade, with 10-frame trails",
    "dense_flow.gif": "ground truth beside Farneback, Horn-Schunck and TV-L1 on the first frame pairs (colour wheel)",
    "sort_tracks.txt": "SORT's tracks, MOTChallenge result format",
    "sort_tracks.gif": "SORT's tracks with their ids on the frames",
    "single_object_tracks.gif": "CSRT, KCF and MOSSE following the least occluded object, beside its "
                                "ground-truth box (white)",
    "otb_curves.png": "OTB success and precision plots of CSRT, KCF and MOSSE",
    "summary.txt": "this summary",
}


def run_demo(out_dir="scratchvision-demo", *, n_frames: int = 40, size=(240, 320), n_objects: int = 6,
             seed: int = 0, show_progress: bool | None = None, report=None) -> dict:
    """Render the synthetic sequence, run every stage, write outputs and ``summary.txt``.

    Parameters
    ----------
    out_dir : path
    n_frames, size, n_objects, seed
        The synthetic sequence's (see :func:`~scratchvision.data.synthetic_sequence`).
    show_progress : bool, optional
        Progress bars on stderr (default: when it is a terminal).
    report : callable, optional
        Called with each summary line as soon as it is known (each stage's as it finishes).

    Returns
    -------
    dict
        ``{"out_dir": absolute path, "summary": list of lines, "files": list of file names}``.
    """
    from .data import synthetic_sequence
    from .imgproc import rgb_to_gray

    from ._validate import check_int

    if check_int(n_objects, "n_objects") < 1:  # checked before any work is done
        raise ValueError(f"n_objects must be at least 1 (the tracking stages follow the objects), got {n_objects}")
    out = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    seq = synthetic_sequence(n_frames=n_frames, size=size, n_objects=n_objects, seed=seed, color=True)
    gray = np.stack([rgb_to_gray(f) for f in seq.frames])
    summary = []

    def say(*lines):
        summary.extend(lines)
        for line in lines:
            if report is not None:
                report(line)

    say(f"scratchvision demo (seed {seed})")
    for name, stage in STAGES:
        t_stage = time.perf_counter()
        lines = stage(seq, gray, out, show_progress)
        say(f"\n[{name}] ({time.perf_counter() - t_stage:.1f} s)", *("  " + line for line in lines))
    say(f"\ntotal {time.perf_counter() - t0:.1f} s")
    written = sorted(set(os.listdir(out)) | {"summary.txt"})
    summary.append(f"\nfiles in {out}:")
    summary.extend(f"  {name}: {FILES.get(name, '')}".rstrip(": ") for name in written)
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(summary) + "\n")
    return {"out_dir": out, "summary": summary, "files": written}


#: The stages :func:`precompile_later_stages` runs; the demo reaches them last.
BACKGROUND_STAGES = 2


def precompile_later_stages() -> None:
    """Run the demo's last stages on a tiny sequence and throw the outputs away: on a first run,
    ``scratchvision demo`` starts this in a second process, which compiles (and caches) their
    kernels on the second core while the first runs the early stages."""
    import tempfile

    from .data import synthetic_sequence
    from .imgproc import rgb_to_gray

    seq = synthetic_sequence(n_frames=6, size=(80, 112), n_objects=2, seed=0, color=True)
    gray = np.stack([rgb_to_gray(f) for f in seq.frames])
    with tempfile.TemporaryDirectory() as out:
        for _, stage in STAGES[-BACKGROUND_STAGES:]:
            stage(seq, gray, out, False)
