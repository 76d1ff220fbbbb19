"""Dataset jobs: flow extraction over a folder of videos, serial vs a 2-worker Dask LocalCluster,
beside the multiprocessing.Pool script around cv2 that users write today; the scheduler's
overhead per task; and what a Kinetics-400-size extraction needs."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from common import set_threads

TITLE = "Dataset jobs on Dask: flow extraction, videos per minute (320x240 synthetic videos)"

KINETICS_CLIPS, KINETICS_PAIRS = 240_000, 250  # about 240k clips of 10 s at 25 fps
METHODS = {"farneback": (16, 25), "tvl1": (6, 16)}  # method -> (videos, frames per video)


def _videos(root: Path, n: int, frames: int):
    import scratchvision as sv

    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        clip = sv.synthetic_sequence(frames, (240, 320), 6, seed=i, color=True).frames
        sv.write_video(root / f"video{i:02d}.mp4", clip, fps=25)
    return root


def _cv2_one(args):
    """The script users write today: decode, gray, cv2 flow per pair, quantise, imwrite."""
    import cv2

    cv2.setNumThreads(1)
    video, out, method = args
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    folder = Path(out) / Path(video).stem
    folder.mkdir(parents=True, exist_ok=True)
    gray = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create() if method == "tvl1" else None
    for i, frame in enumerate(frames, 1):
        cv2.imwrite(str(folder / f"img_{i:05d}.jpg"), frame)
    for i in range(len(gray) - 1):
        if tvl1 is not None:
            flow = tvl1.calc(gray[i], gray[i + 1], None)
        else:
            flow = cv2.calcOpticalFlowFarneback(gray[i], gray[i + 1], None, 0.5, 3, 15, 3, 5, 1.2, 0)
        q = np.clip(np.rint(255 * (flow.astype(np.float64) + 20) / 40), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"flow_x_{i + 1:05d}.jpg"), q[..., 0])
        cv2.imwrite(str(folder / f"flow_y_{i + 1:05d}.jpg"), q[..., 1])


def _ours_one(args):
    """Our per-video work without Dask: the same job, one video per call, in a Pool worker."""
    import numba

    from scratchvision.batch import extract_flow

    numba.set_num_threads(1)
    video, out, method = args
    report = extract_flow(video, out, method, scheduler="serial")
    assert len(report.done) == 1, report


def _noop(i):
    return i


def run(threads, repeat):
    try:
        import distributed
    except ImportError:
        return [], "skipped: Dask is not installed (pip install 'scratchvision[dask]')"
    import multiprocessing

    from scratchvision.batch import extract_flow

    set_threads(1)  # the serial run on one core; each worker runs one thread
    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    rows = []
    try:
        start = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                           env={"NUMBA_NUM_THREADS": "1"})
        client = distributed.Client(cluster)
        startup = time.perf_counter() - start
        client.gather(client.map(_noop, range(20), pure=False))
        start = time.perf_counter()
        n_tasks = 400
        client.gather(client.map(_noop, range(n_tasks), pure=False))
        overhead = (time.perf_counter() - start) / n_tasks
        try:
            for method, (n, frames) in METHODS.items():
                videos = _videos(tmp / f"in_{method}", n, frames)
                warm = extract_flow(sorted(videos.iterdir())[:2], tmp / f"warm_{method}", method, scheduler=client)
                extract_flow(sorted(videos.iterdir())[:1], tmp / f"warm_serial_{method}", method, scheduler="serial")
                assert not warm.failed, warm
                times = {"serial": [], "dask": [], "pool": [], "cv2": [], "cv2 serial": []}
                jobs = sorted(videos.iterdir())
                with multiprocessing.get_context("spawn").Pool(2) as pool:
                    pool.map(_ours_one, [(v, tmp / f"warm_pool_{method}", method) for v in jobs[:2]])
                    pool.map(_cv2_one, [(v, tmp / f"warm_cv2_{method}", method) for v in jobs[:2]])
                    for r in range(max(1, repeat // 3)):
                        for key in times:  # alternate them in every round
                            out = tmp / f"out_{method}_{key.replace(' ', '_')}_{r}"
                            start = time.perf_counter()
                            if key == "cv2":
                                pool.map(_cv2_one, [(v, out, method) for v in jobs], chunksize=1)
                            elif key == "cv2 serial":
                                for v in jobs:
                                    _cv2_one((v, out, method))
                            elif key == "pool":
                                pool.map(_ours_one, [(v, out, method) for v in jobs], chunksize=1)
                            else:
                                report = extract_flow(videos, out, method,
                                                      scheduler="serial" if key == "serial" else client)
                                assert len(report.done) == n, report
                            times[key].append(time.perf_counter() - start)
                            shutil.rmtree(out)
                per_min = {k: 60 * n / float(np.median(v)) for k, v in times.items()}
                pair_seconds = float(np.median(times["serial"])) / (n * (frames - 1))
                cores = KINETICS_CLIPS * KINETICS_PAIRS * pair_seconds / 86400
                rows.append({"job": f"extract_flow {method}", "videos": f"{n} x {frames} frames",
                             "serial, 1 core (videos/min)": per_min["serial"],
                             "Dask, 2 workers (videos/min)": per_min["dask"],
                             "Dask / serial": per_min["dask"] / per_min["serial"],
                             "ours in Pool(2) (videos/min)": per_min["pool"],
                             "Dask / Pool(2)": per_min["dask"] / per_min["pool"],
                             "cv2, 1 process (videos/min)": per_min["cv2 serial"],
                             "cv2 + Pool(2) (videos/min)": per_min["cv2"],
                             "s per frame pair (1 core)": pair_seconds,
                             "cores for Kinetics-400 in a day": cores})
        finally:
            client.close()
            cluster.close()
        rows.append({"job": "scheduler", "videos": f"{n_tasks} empty tasks",
                     "overhead per task (ms)": 1e3 * overhead, "cluster start (s)": startup})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    notes = ("Synthetic 320x240 colour videos (6 moving objects over a panning background, MP4), written whole by "
             "scratchvision.batch.extract_flow in denseflow's layout (frames and quantised x / y flow as JPEG). "
             "Serial: scheduler='serial' in one process with one thread; Dask: a LocalCluster of 2 worker processes, "
             "1 thread each, started once (its start-up time is in the last row) and warmed on 2 videos; cv2: "
             "multiprocessing.Pool(2) around cv2.VideoCapture, cv2.calcOpticalFlowFarneback / "
             "cv2.optflow.DualTVL1OpticalFlow and cv2.imwrite, cv2.setNumThreads(1), and the same in one process. "
             "'ours in Pool(2)': the same per-video work (extract_flow of one video, serial) in a "
             "multiprocessing.Pool(2), one video per task: what two processes give on this machine without Dask, so "
             "'Dask / Pool(2)' is Dask's own cost. Rounds alternate them all; "
             "median of the rounds. Overhead per task: 400 empty tasks through the same cluster, wall time / 400. "
             "Kinetics-400: 240,000 clips x 250 frame pairs x (serial seconds per pair) / 86,400 s = the worker "
             "cores that finish the extraction in a day at this frame size (Kinetics is usually resized to 340x256, "
             "13 % more pixels). Reproduce: python benchmarks/run.py batch")
    return rows, notes
