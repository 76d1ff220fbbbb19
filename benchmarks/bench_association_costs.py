"""Association costs: MOTA, IDF1 and HOTA of each tracker on the MOT15 training sequences with
each overlap it can match on (IoU, GIoU, DIoU, CIoU)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import set_threads

TITLE = "Association costs: MOT15 accuracy of each tracker with IoU, GIoU, DIoU and CIoU"

MOT15 = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot15"


def run(threads, repeat):
    from scratchvision.batch import track_dataset

    if not MOT15.exists():
        return [], f"skipped: {MOT15} is absent"
    set_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for tracker in ("sort", "bytetrack", "ocsort", "botsort"):
            for cost in ("iou", "giou", "diou", "ciou"):
                report = track_dataset(MOT15, Path(tmp) / f"{tracker}_{cost}", tracker, {"cost": cost},
                                       scheduler="serial")
                overall = report.metrics["OVERALL"]
                rows.append({"tracker": tracker, "cost": cost, "MOTA": overall["MOTA"], "IDF1": overall["IDF1"],
                             "HOTA": overall["HOTA"], "IDSW": int(overall["IDSW"])})
    notes = ("Each tracker with its published defaults and the public detections shipped with SORT (det/det.txt), "
             "over the 11 MOT15 training sequences, scored together (OVERALL) by evaluate_mot_folder; only the "
             "overlap of the association changes (the thresholds stay as published, so GIoU / DIoU / CIoU, which "
             "are at most the IoU, match a little less readily). DeepSORT is left out: it needs the frames for its "
             "embeddings, which MOT15's folder here does not hold; BoT-SORT runs (ultralytics' defaults) without "
             "camera motion or appearance for the same reason. Reproduce: python benchmarks/run.py "
             "association_costs")
    return rows, notes
