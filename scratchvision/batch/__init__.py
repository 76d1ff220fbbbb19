"""Whole datasets on Dask: flow extraction for two-stream training, tracking and evaluation of
benchmark folders, video classification; from one laptop to a cluster, resumable, losing nothing.

Each job is a function over a list of inputs (one task per video or sequence) that returns a
:class:`JobReport`. ``scheduler=None`` (the default) starts a local Dask cluster with one worker
process per core; ``"tcp://host:8786"`` uses a running cluster (its workers must see the same
paths); ``"serial"`` runs in this process. Outputs are written whole or not at all, with a
manifest each, so running a job again skips what is finished (see :mod:`.runner`). Dask is an
optional extra: ``pip install 'scratchvision[dask]'``; without it jobs run serially.
"""

from .jobs import (FLOW_FORMATS, FLOW_METHODS, classify_videos, dequantise_flow, extract_flow, quantise_flow,
                   read_flow_folder, track_dataset)
from .runner import ItemResult, JobReport, Scheduler

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = []
__all__ += ["extract_flow", "track_dataset", "classify_videos", "read_flow_folder", "quantise_flow",
            "dequantise_flow", "JobReport", "ItemResult", "Scheduler", "FLOW_METHODS", "FLOW_FORMATS"]
