"""How a dataset job runs: one task per video on a scheduler, outputs written whole or not at all.

**Schedulers.** ``scheduler=None`` starts an in-process Dask ``LocalCluster`` (one worker process
per core, one thread each, Numba's on-disk cache shared through the file system) and closes it at
the end; a string ``"tcp://host:8786"`` connects to a running scheduler (within 5 s, or a
ValueError); a ``distributed.Client`` is used as it is; ``"serial"`` runs every task in this process
without Dask. Without Dask installed, the default falls back to ``"serial"`` and says once how to
get the parallel path. A worker that dies takes its running task with it; Dask gives the task to
another worker, so a job finishes as long as some worker lives.

**Outputs.** Each video's output (a folder, or a file) is written under
``out_dir/.partial/<name>.<random>`` and renamed into place only when complete; then a manifest,
``out_dir/.manifests/<name>.json``, records the job, the inputs' sizes and modification times, the
parameters and the library version. Running a job again skips each video whose output and
manifest are there with the same job, inputs and parameters (resuming is the default), removes the
leftovers of an interrupted run, and redoes the rest. An output that is there without a matching
manifest (other parameters, or not written by this library) is never touched: the video is
reported as failed, unless ``overwrite=True``. A task that fails (an unreadable video, say) is
reported with its error, and the other videos go on.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .._progress import progress

__all__ = ["ItemResult", "JobReport", "Scheduler", "collect_inputs", "commit_output", "output_dir"]

#: Suffixes read as videos; any folder holding images is a video of frames too.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif", ".mpg", ".mpeg", ".m4v")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
CONNECT_TIMEOUT = 5  # seconds to reach a scheduler given by address


@dataclass
class ItemResult:
    """One input's outcome: ``status`` is ``"done"``, ``"skipped"`` (finished by an earlier run)
    or ``"failed"`` (``error`` says why).

    Attributes
    ----------
    name : str
        The input's name (its file name without extension).
    source : str
        Its path.
    status : {"done", "skipped", "failed"}
    output : str
        Where its results were written.
    seconds : float
        Time spent on it.
    error : str
        Why it failed (one line).
    """

    name: str
    source: str
    status: str
    output: str = ""
    seconds: float = 0.0
    error: str = ""


@dataclass
class JobReport:
    """What a job did: one :class:`ItemResult` per input, in input order, the scheduler that ran
    it, the wall time, and (``track_dataset``) the evaluation.

    Attributes
    ----------
    job : str
        The job's name.
    out_dir : str
    scheduler : str
        Where it ran: a scheduler address, ``"local"`` or ``"serial"``.
    items : list of ItemResult
    seconds : float
        Wall time.
    metrics : dict
        ``track_dataset``'s evaluation (empty for the other jobs).
    """

    job: str
    out_dir: str
    scheduler: str
    items: list = field(default_factory=list)
    seconds: float = 0.0
    metrics: dict = field(default_factory=dict)

    def _with(self, status):
        return [r for r in self.items if r.status == status]

    @property
    def done(self):
        return self._with("done")

    @property
    def skipped(self):
        return self._with("skipped")

    @property
    def failed(self):
        return self._with("failed")

    def __str__(self) -> str:
        lines = [f"{self.job}: {len(self.done)} done, {len(self.skipped)} skipped (finished before), "
                 f"{len(self.failed)} failed, of {len(self.items)} in {self.seconds:.1f} s on {self.scheduler} "
                 f"-> {self.out_dir}"]
        lines += [f"  failed: {r.name} ({r.source}): {r.error}" for r in self.failed]
        return "\n".join(lines)


def _is_video(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in VIDEO_SUFFIXES
    return path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir())


def collect_inputs(inputs, name: str, accept=_is_video, what: str = "video files or frame folders") -> list:
    """The input paths of a job, sorted: a list of paths (each must exist), a folder (the items
    in it that ``accept``), or a glob pattern; a ValueError naming ``name`` when nothing is found."""
    if isinstance(inputs, (str, os.PathLike)):
        root = Path(inputs)
        if root.is_dir() and not accept(root):
            found = sorted(p for p in root.iterdir() if not p.name.startswith(".") and accept(p))
        elif root.exists():
            found = [root]
        else:
            found = sorted(Path(p) for p in glob.glob(str(inputs)) if accept(Path(p)))
        if not found:
            raise ValueError(f"{name}: no {what} in or matching {str(inputs)!r}")
        return found
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError(f"{name} must be a folder, a glob pattern or a non-empty list of paths, got {inputs!r}")
    found = []
    for item in inputs:
        if not isinstance(item, (str, os.PathLike)) or not Path(item).exists():
            raise ValueError(f"{name}: {item!r} does not exist")
        found.append(Path(item))
    return found


def output_dir(out_dir, name: str = "out_dir") -> Path:
    """``out_dir`` created if needed; a ValueError when it is a file."""
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path, got {type(out_dir).__name__}")
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} {str(path)!r} is a file, not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def fingerprint(path: Path) -> dict:
    """Size and modification time of a file, or of a folder's files (summed, latest)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stats = [p.stat() for p in files]
    return {"path": str(path.resolve()), "size": sum(s.st_size for s in stats),
            "mtime_ns": max((s.st_mtime_ns for s in stats), default=0)}


def commit_output(job: str, name: str, source: Path, out_dir: Path, output: str, params: dict, build,
                  overwrite: bool, extra_inputs=()) -> ItemResult:
    """Write one input's ``output`` (a path under ``out_dir``) with ``build(tmp_path)``, all or
    nothing, and its manifest; or skip it when an earlier run finished it with the same inputs
    and parameters (see the module notes)."""
    from .. import __version__

    start = time.perf_counter()
    final, manifests, partial = out_dir / output, out_dir / ".manifests", out_dir / ".partial"
    inputs = [fingerprint(source)] + [fingerprint(Path(p)) for p in extra_inputs]
    manifest = {"job": job, "inputs": inputs, "params": params, "output": output}
    record = manifests / f"{name}.json"
    result = ItemResult(name, str(source), "failed", str(final))
    _remove_leftovers(partial, name)  # an interrupted run's
    if final.exists() and not overwrite:
        try:
            previous = json.loads(record.read_text())
        except (OSError, ValueError):
            previous = None
        if previous is not None and {k: previous.get(k) for k in manifest} == manifest:
            result.status = "skipped"
            return result
        result.error = (f"{final} exists and was not written by this job with these inputs and parameters "
                        f"(overwrite=True replaces it)")
        return result
    manifests.mkdir(exist_ok=True)
    partial.mkdir(exist_ok=True)
    tmp = partial / f"{name}.{uuid.uuid4().hex}{final.suffix}"
    try:
        build(tmp)
        note = partial / f"{name}.{uuid.uuid4().hex}.json"
        note.write_text(json.dumps(dict(manifest, version=__version__), indent=1))
        if final.exists():  # overwrite: the old output goes only once the new one is complete
            old = partial / f"{name}.{uuid.uuid4().hex}.replaced"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        else:
            os.replace(tmp, final)
        os.replace(note, record)
    except Exception as exc:  # noqa: BLE001 - reported, and the other inputs go on
        result.error, result.seconds = _one_line(exc), time.perf_counter() - start
        _remove_leftovers(partial, name)
        return result
    result.status, result.seconds = "done", time.perf_counter() - start
    return result


def _remove_leftovers(partial: Path, name: str) -> None:
    """Delete ``name``'s temporary files and folders (``<name>.<32 hex digits>...``; not those of a
    video whose name merely starts with ``name.``)."""
    prefix = name + "."
    for stale in partial.glob(glob.escape(prefix) + "*"):
        token = stale.name[len(prefix):len(prefix) + 32]
        if len(token) == 32 and all(c in "0123456789abcdef" for c in token):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)


def _one_line(exc: BaseException, limit: int | None = None) -> str:
    """An exception as ``Type: message`` on one line (at most ``limit`` characters of message)."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:limit]}"


_TOLD_NO_DASK = []


class Scheduler:
    """Runs a job's tasks (see the module notes); a context manager that starts and stops a
    cluster it made itself.

    Parameters
    ----------
    scheduler : None, "serial", str address or distributed.Client
    workers : int, optional
        Worker processes of a cluster started here (default: one per core).
    """

    def __init__(self, scheduler=None, workers=None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        self.requested, self.workers = scheduler, workers
        self.client = self.cluster = None
        self.description = "serial (this process)"

    def __enter__(self):
        s = self.requested
        if isinstance(s, str) and s == "serial":
            return self
        if s is not None and not isinstance(s, str) and type(s).__name__ != "Client":
            raise TypeError(f"scheduler must be None, 'serial', an address such as 'tcp://host:8786' or a "
                            f"distributed.Client, got {type(s).__name__}")
        try:
            import distributed
        except ImportError:
            if s is not None:
                raise ValueError("scheduler: Dask is not installed (pip install 'scratchvision[dask]')") from None
            if not _TOLD_NO_DASK:
                print("scratchvision: Dask is not installed, so this job runs serially in this process; "
                      "pip install 'scratchvision[dask]' runs one worker per core", file=sys.stderr)
                _TOLD_NO_DASK.append(True)
            return self
        if s is None:
            dashboard = _has_bokeh()
            self.cluster = distributed.LocalCluster(
                n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=":0" if dashboard else None, env={"NUMBA_NUM_THREADS": "1"})
            self.client = distributed.Client(self.cluster)
            link = self.client.dashboard_link if dashboard else "none (pip install bokeh for it)"
            print(f"scratchvision: started a Dask cluster of {len(self.cluster.workers)} worker processes; "
                  f"dashboard: {link}", file=sys.stderr)
            self.description = f"a local Dask cluster of {len(self.cluster.workers)} workers"
        elif isinstance(s, str):
            try:
                self.client = distributed.Client(s, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ValueError(f"scheduler {s!r}: could not reach it within {CONNECT_TIMEOUT} s "
                                 f"({_one_line(exc, 200)})") from None
            self.description = f"the Dask scheduler at {s}"
        else:
            self.client = s
            self.description = f"the Dask scheduler at {s.scheduler.address}"
        return self

    def __exit__(self, *exc):
        if self.cluster is not None:
            self.client.close()
            self.cluster.close()
        elif self.client is not None and self.client is not self.requested:
            self.client.close()

    def map(self, task, items, desc: str = "", **shared) -> list:
        """``[task(item, **shared) for item in items]``, in input order, one task per item,
        with a progress bar over items; ``shared`` values go to every worker once."""
        if self.client is None:
            return [task(item, **shared) for item in progress(items, desc=desc)]
        import distributed

        shared = {k: self.client.scatter(v, broadcast=True) if _large(v) else v for k, v in shared.items()}
        futures = self.client.map(task, items, pure=False, **shared)
        order = {f.key: i for i, f in enumerate(futures)}
        results = [None] * len(futures)
        for future in progress(distributed.as_completed(futures), total=len(futures), desc=desc):
            i = order[future.key]
            try:
                results[i] = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the task killed every worker it ran on
                results[i] = ItemResult(str(items[i]), str(items[i]), "failed", error=_one_line(exc, 300))
        return results


def _large(value) -> bool:
    """Worth scattering once rather than shipping with every task (a network's weights)."""
    return type(value).__module__.startswith("scratchvision.nn")


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True

