"""Multi-object tracking evaluation: CLEAR MOT, identity (IDF1) and HOTA metrics.

Three families, one pass over a sequence (a Numba kernel per sequence):

* **CLEAR MOT** (Bernardin and Stiefelhagen 2008), as motmetrics computes it: in every frame a
  ground-truth object keeps the hypothesis it was last matched to if their IoU is still >=
  ``iou_threshold``; the rest are paired by a minimum-cost assignment on the distance ``1 - IoU``
  (as many pairs as possible, then the smallest total distance); a pair whose object was last
  matched to another hypothesis is an identity switch. MOTA = 1 - (FN + FP + IDSW) / GT.
  MOTP is reported as TrackEval defines it, the mean IoU of the matched pairs; motmetrics'
  ``motp`` is the mean distance ``1 - IoU``, given as ``MOTP_distance``. MT / PT / ML: objects
  tracked in >= 80 %, 20-80 %, < 20 % of the frames they appear in; Frag: times a track is
  resumed after being lost.
* **Identity metrics** (Ristani et al. 2016): ground-truth and hypothesis trajectories are
  paired one to one by a global assignment maximising the number of frames in which the paired
  boxes overlap by IoU >= ``iou_threshold`` (IDTP); IDF1 = 2 IDTP / (GT + predictions).
* **HOTA** (Luiten et al. 2021), as TrackEval computes it: per frame, detections are matched by
  an assignment maximising IoU weighted by how well their two trajectories align over the whole
  sequence; then, for each localisation threshold alpha = 0.05, 0.10, ..., 0.95, matches with
  IoU >= alpha are true positives; DetA = TP / (TP + FN + FP), AssA = the mean over true
  positives of their trajectories' association Jaccard index, HOTA = sqrt(DetA AssA). The
  reported values are the means over alpha.

MOTChallenge rules: ground-truth rows with confidence 0 are ignored; when the ground truth has
classes (MOT16/17/20 layout: column 7 class, column 8 visibility), hypotheses that match a
distractor (person on vehicle, static person, distractor, reflection; plus non-motorised vehicle
for MOT20) are removed first, then only pedestrians (class 1) are kept, as TrackEval's
preprocessing does.

References
----------
K. Bernardin, R. Stiefelhagen. "Evaluating Multiple Object Tracking Performance: The CLEAR MOT
Metrics." EURASIP JIVP 2008. doi:10.1155/2008/246309

E. Ristani, F. Solera, R. Zou, R. Cucchiara, C. Tomasi. "Performance Measures and a Data Set for
Multi-Target, Multi-Camera Tracking." ECCV Workshops 2016. doi:10.1007/978-3-319-48881-3_2

J. Luiten, A. Osep, P. Dendorfer, P. Torr, A. Geiger, L. Leal-Taixe, B. Leibe. "HOTA: A Higher
Order Metric for Evaluating Multi-Object Tracking." IJCV 129, 2021. doi:10.1007/s11263-020-01375-2
"""

from __future__ import annotations

import os

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_float, check_int, check_mot_rows
from ..assignment.lsa import lsa_kernel
from ..boxes import MODE_IOU, iou_kernel

__all__ = ["evaluate_mot", "evaluate_mot_folder", "combine_results", "format_table", "MOTResult", "SUMMARY_KEYS",
           "HOTA_ALPHAS", "TABLE_COLUMNS"]

#: Localisation thresholds of HOTA (TrackEval's ``np.arange(0.05, 0.99, 0.05)``).
HOTA_ALPHAS = np.arange(0.05, 0.99, 0.05)
#: The keys of :func:`evaluate_mot`'s result, in the order tables print them.
SUMMARY_KEYS = ("MOTA", "MOTP", "FP", "FN", "IDSW", "Frag", "MT", "PT", "ML", "num_frames", "IDF1", "IDP",
                "IDR", "HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr")
_COUNT_KEYS = ("FP", "FN", "IDSW", "Frag", "MT", "PT", "ML", "num_frames", "num_objects",
               "num_predictions", "num_matches", "num_unique_objects", "IDTP", "IDFP", "IDFN")
_DISTRACTORS = (2, 7, 8, 12)  # person_on_vehicle, static_person, distractor, reflection
_MOT20_DISTRACTORS = (6,)  # non_mot_vehicle
_EPS = float(np.finfo(np.float64).eps)

# indices of the integer counts the kernel returns
_MATCH, _SWITCH, _FP, _MISS, _FRAG, _MT, _PT, _ML = range(8)


@kernel
def _pair_iou(gt_boxes, hy_boxes, out):
    iou_kernel(gt_boxes, hy_boxes, False, MODE_IOU, out)


@kernel
def _clear_frame(g_ids, h_ids, iou, threshold, last_match, counts, dist_sum, present, tracked,
                 lost_after_track, seen_tracked):
    """One frame of motmetrics' CLEAR MOT accumulator (see the module notes)."""
    ng, nh = g_ids.shape[0], h_ids.shape[0]
    g_done = np.zeros(ng, np.bool_)
    h_done = np.zeros(nh, np.bool_)
    for i in range(ng):  # 1. keep last frame's pairs that still overlap enough
        prev = last_match[g_ids[i]]
        if prev < 0:
            continue
        for j in range(nh):
            if not h_done[j] and h_ids[j] == prev:
                if not (1.0 - iou[i, j] > threshold):
                    g_done[i] = True
                    h_done[j] = True
                    counts[_MATCH] += 1
                    dist_sum[0] += 1.0 - iou[i, j]
                break
    rows = np.nonzero(~g_done)[0]
    cols = np.nonzero(~h_done)[0]
    if rows.shape[0] > 0 and cols.shape[0] > 0:
        # 2. the others: most pairs, then least total distance (motmetrics puts a cost above any
        # combination of valid ones on the pairs it forbids)
        sub = np.empty((rows.shape[0], cols.shape[0]))
        largest = 0.0
        any_valid = False
        for a in range(rows.shape[0]):
            for b in range(cols.shape[0]):
                d = 1.0 - iou[rows[a], cols[b]]
                if d > threshold:
                    sub[a, b] = np.nan
                else:
                    sub[a, b] = d
                    largest = max(largest, abs(d))
                    any_valid = True
        if any_valid:
            forbidden = 2.0 * min(rows.shape[0], cols.shape[0]) * (largest + 1.0) + 1.0
            cost = np.where(np.isnan(sub), forbidden, sub)
            k = min(rows.shape[0], cols.shape[0])
            ra = np.empty(k, np.int64)
            ca = np.empty(k, np.int64)
            lsa_kernel(cost, False, ra, ca)
            for t in range(k):
                d = sub[ra[t], ca[t]]
                if np.isnan(d):
                    continue
                i = rows[ra[t]]
                j = cols[ca[t]]
                g = g_ids[i]
                if last_match[g] >= 0 and last_match[g] != h_ids[j]:
                    counts[_SWITCH] += 1
                else:
                    counts[_MATCH] += 1
                dist_sum[0] += d
                last_match[g] = h_ids[j]
                g_done[i] = True
                h_done[j] = True
    for i in range(ng):
        g = g_ids[i]
        present[g] += 1
        if g_done[i]:
            tracked[g] += 1
            if lost_after_track[g]:
                counts[_FRAG] += 1
                lost_after_track[g] = False
            seen_tracked[g] = True
        else:
            counts[_MISS] += 1
            if seen_tracked[g]:
                lost_after_track[g] = True
    for j in range(nh):
        if not h_done[j]:
            counts[_FP] += 1


@kernel
def _evaluate_kernel(frame_gt, frame_hy, g_ids, g_boxes, h_ids, h_boxes, n_gt_ids, n_hy_ids, threshold,
                     alphas, counts, dist_sum, id_overlap, hota_tp, hota_fn, hota_fp, loc_sum, match_counts):
    """CLEAR MOT, identity overlaps and HOTA over a sequence whose rows are grouped by frame
    (``frame_gt[f]:frame_gt[f+1]`` are frame f's ground-truth rows, likewise the hypotheses)."""
    n_frames = frame_gt.shape[0] - 1
    last_match = np.full(n_gt_ids, -1, np.int64)
    present = np.zeros(n_gt_ids, np.int64)
    tracked = np.zeros(n_gt_ids, np.int64)
    lost_after_track = np.zeros(n_gt_ids, np.bool_)
    seen_tracked = np.zeros(n_gt_ids, np.bool_)
    potential = np.zeros((n_gt_ids, n_hy_ids))
    gt_count = np.zeros(n_gt_ids)
    hy_count = np.zeros(n_hy_ids)
    for f in range(n_frames):
        g0, g1 = frame_gt[f], frame_gt[f + 1]
        h0, h1 = frame_hy[f], frame_hy[f + 1]
        gi, hi = g_ids[g0:g1], h_ids[h0:h1]
        iou = np.zeros((g1 - g0, h1 - h0))
        _pair_iou(g_boxes[g0:g1], h_boxes[h0:h1], iou)
        _clear_frame(gi, hi, iou, threshold, last_match, counts, dist_sum, present, tracked,
                     lost_after_track, seen_tracked)
        # identity: frames in which each trajectory pair overlaps enough; HOTA: soft overlaps
        for a in range(gi.shape[0]):
            gt_count[gi[a]] += 1.0
        for b in range(hi.shape[0]):
            hy_count[hi[b]] += 1.0
        if gi.shape[0] > 0 and hi.shape[0] > 0:
            row_sum = iou.sum(axis=1)
            col_sum = iou.sum(axis=0)
            for a in range(gi.shape[0]):
                for b in range(hi.shape[0]):
                    if not (1.0 - iou[a, b] > threshold):
                        id_overlap[gi[a], hi[b]] += 1.0
                    denom = col_sum[b] + row_sum[a] - iou[a, b]
                    if denom > _EPS:
                        potential[gi[a], hi[b]] += iou[a, b] / denom
    for g in range(n_gt_ids):
        if present[g] == 0:
            continue
        ratio = tracked[g] / present[g]
        if ratio >= 0.8:
            counts[_MT] += 1
        elif ratio >= 0.2:
            counts[_PT] += 1
        else:
            counts[_ML] += 1
    # HOTA: match each frame by IoU weighted with the trajectories' global alignment
    alignment = potential / (gt_count.reshape(-1, 1) + hy_count.reshape(1, -1) - potential)
    for f in range(n_frames):
        g0, g1 = frame_gt[f], frame_gt[f + 1]
        h0, h1 = frame_hy[f], frame_hy[f + 1]
        ng, nh = g1 - g0, h1 - h0
        if ng == 0 or nh == 0:
            for a in range(alphas.shape[0]):
                hota_fn[a] += ng
                hota_fp[a] += nh
            continue
        gi, hi = g_ids[g0:g1], h_ids[h0:h1]
        # the first pass's IoU again: recomputing a frame's small matrix costs less than keeping
        # every frame's matrix for the whole sequence
        iou = np.zeros((ng, nh))
        _pair_iou(g_boxes[g0:g1], h_boxes[h0:h1], iou)
        score = np.empty((ng, nh))
        for a in range(ng):
            for b in range(nh):
                score[a, b] = alignment[gi[a], hi[b]] * iou[a, b]
        k = min(ng, nh)
        ra = np.empty(k, np.int64)
        ca = np.empty(k, np.int64)
        lsa_kernel(score, True, ra, ca)
        for al in range(alphas.shape[0]):
            n_match = 0
            for t in range(k):
                s = iou[ra[t], ca[t]]
                if s >= alphas[al] - _EPS:
                    n_match += 1
                    loc_sum[al] += s
                    match_counts[al, gi[ra[t]], hi[ca[t]]] += 1.0
            hota_tp[al] += n_match
            hota_fn[al] += ng - n_match
            hota_fp[al] += nh - n_match
    return gt_count, hy_count


class MOTResult:
    """The raw counts of one evaluation (a sequence, or several combined), from which every
    metric follows; :meth:`summary` gives them as the dict :func:`evaluate_mot` returns.

    Attributes
    ----------
    counts : dict
        Integer counts: FP, FN, IDSW, Frag, MT, PT, ML, num_frames, num_objects (ground-truth
        boxes), num_predictions (hypothesis boxes), num_matches (matches + switches),
        num_unique_objects, IDTP, IDFP, IDFN.
    distance_sum : float
        Sum of ``1 - IoU`` over the CLEAR matches.
    hota : dict of ndarray
        Per alpha (:data:`HOTA_ALPHAS`): TP, FN, FP, AssA, AssRe, AssPr, LocA.
    """

    def __init__(self, counts, distance_sum, hota):
        self.counts = counts
        self.distance_sum = float(distance_sum)
        self.hota = hota

    def summary(self) -> dict:
        c = self.counts
        out = {}
        with np.errstate(divide="ignore", invalid="ignore"):
            n_obj = np.float64(c["num_objects"])
            out["MOTA"] = float(1.0 - np.float64(c["FN"] + c["FP"] + c["IDSW"]) / n_obj)
            motp_d = float(np.float64(self.distance_sum) / np.float64(c["num_matches"]))
            out["MOTP"] = 1.0 - motp_d
            for k in ("FP", "FN", "IDSW", "Frag", "MT", "PT", "ML", "num_frames"):
                out[k] = int(c[k])
            idtp, idfp, idfn = (np.float64(c[k]) for k in ("IDTP", "IDFP", "IDFN"))
            out["IDF1"] = float(2 * idtp / (n_obj + np.float64(c["num_predictions"])))
            out["IDP"] = float(idtp / (idtp + idfp))
            out["IDR"] = float(idtp / (idtp + idfn))
        h = self.hota
        tp, fn, fp = h["TP"], h["FN"], h["FP"]
        det_re = tp / np.maximum(1, tp + fn)
        det_pr = tp / np.maximum(1, tp + fp)
        det_a = tp / np.maximum(1, tp + fn + fp)
        curves = {"HOTA": np.sqrt(det_a * h["AssA"]), "DetA": det_a, "AssA": h["AssA"], "LocA": h["LocA"],
                  "DetRe": det_re, "DetPr": det_pr, "AssRe": h["AssRe"], "AssPr": h["AssPr"]}
        for k, v in curves.items():
            out[k] = float(np.mean(v))
        out["MOTP_distance"] = motp_d
        with np.errstate(divide="ignore", invalid="ignore"):
            out["recall"] = float(np.float64(c["num_matches"]) / n_obj)
            out["precision"] = float(np.float64(c["num_matches"]) / np.float64(c["num_matches"] + c["FP"]))
        for k in ("num_objects", "num_predictions", "num_matches", "num_unique_objects", "IDTP", "IDFP", "IDFN"):
            out[k] = int(c[k])
        out["HOTA_alpha"] = {k: v.copy() for k, v in curves.items()}
        return out


def _ids_to_index(ids):
    uniq, index = np.unique(ids.astype(np.int64), return_inverse=True)
    return index.astype(np.int64), uniq.shape[0]


def _load(source, what):
    """(rows float64 (K, C), line numbers (K,) or None, label) from a path or an array."""
    if isinstance(source, (str, os.PathLike)) or hasattr(source, "read"):
        from ..io.mot import read_mot_lines

        rows, lines, name = read_mot_lines(source)
        return rows, lines, name
    return check_mot_rows(source, what), None, what


def _where(label, lines, k):
    return f"{label}:{lines[k]}" if lines is not None else f"{label} row {k}"


def _check_rows(rows, lines, label, num_frames):
    if len(rows) == 0:
        return
    bad = (rows[:, 4] < 0) | (rows[:, 5] < 0)
    if bad.any():
        k = int(bad.argmax())
        raise ValueError(f"{_where(label, lines, k)}: negative box size (w {rows[k, 4]:g}, h {rows[k, 5]:g})")
    if num_frames is not None:
        bad = rows[:, 0] >= num_frames
        if bad.any():
            k = int(bad.argmax())
            raise ValueError(f"{_where(label, lines, k)}: frame {int(rows[k, 0]) + 1} is beyond the sequence's "
                             f"{num_frames} frames")
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    f, i = rows[order, 0], rows[order, 1]
    dup = (f[1:] == f[:-1]) & (i[1:] == i[:-1])
    if dup.any():
        k = int(order[int(dup.argmax()) + 1])
        raise ValueError(f"{_where(label, lines, k)}: id {int(rows[k, 1])} appears twice in frame "
                         f"{int(rows[k, 0]) + 1}")


def _has_classes(gt):
    """The MOT16/17/20 gt layout: 9 columns, column 7 a class id >= 1, column 8 a visibility in
    [0, 1] (MOT15 has 10 columns, the last three world coordinates or -1)."""
    if gt.shape[1] != 9 or len(gt) == 0:
        return False
    cls, vis = gt[:, 7], gt[:, 8]
    return bool(((cls >= 1) & (cls == np.round(cls))).all() and ((vis >= 0) & (vis <= 1)).all())


def _remove_distractor_matches(gt, hyp, benchmark):
    """TrackEval's MOTChallenge preprocessing: per frame, match all ground-truth boxes (any class,
    confidence 0 included) to the hypotheses by maximum total IoU among pairs with IoU >= 0.5,
    and drop the hypotheses matched to a distractor class. Returns the kept hypothesis rows."""
    distractors = _DISTRACTORS + (_MOT20_DISTRACTORS if benchmark == "MOT20" else ())
    keep = np.ones(len(hyp), bool)
    if len(gt) == 0 or len(hyp) == 0:
        return keep
    gt_by_frame = {f: np.nonzero(gt[:, 0] == f)[0] for f in np.unique(gt[:, 0])}
    for f in np.unique(hyp[:, 0]):
        gi = gt_by_frame.get(f)
        if gi is None:
            continue
        hi = np.nonzero(hyp[:, 0] == f)[0]
        iou = np.zeros((len(gi), len(hi)))
        _pair_iou(_xyxy(gt[gi]), _xyxy(hyp[hi]), iou)
        score = np.where(iou < 0.5 - _EPS, 0.0, iou)
        k = min(len(gi), len(hi))
        ra = np.empty(k, np.int64)
        ca = np.empty(k, np.int64)
        lsa_kernel(score, True, ra, ca)
        matched = score[ra, ca] > _EPS
        is_distractor = np.isin(gt[gi[ra[matched]], 7], distractors)
        keep[hi[ca[matched][is_distractor]]] = False
    return keep


def _xyxy(rows):
    b = np.ascontiguousarray(rows[:, 2:6], np.float64).copy()
    b[:, 2] += b[:, 0]
    b[:, 3] += b[:, 1]
    return b


def _grouped(rows, frames):
    """Rows sorted by frame (stable: file order within a frame) and the offsets of each of
    ``frames`` in them."""
    order = np.argsort(rows[:, 0], kind="stable")
    rows = rows[order]
    starts = np.searchsorted(rows[:, 0], frames, side="left")
    ends = np.searchsorted(rows[:, 0], frames, side="right")
    offsets = np.concatenate([starts, ends[-1:]]) if len(frames) else np.zeros(1, np.int64)
    return rows, offsets.astype(np.int64)


def _evaluate_rows(gt, hyp, threshold, num_frames=None):
    """Core evaluation of prepared rows (gt already filtered). Returns a MOTResult; its
    ``num_frames`` is ``num_frames`` when given (frames without any box count, as they do when
    motmetrics' accumulator is updated with empty lists), else the frames that have rows."""
    frames = np.union1d(gt[:, 0], hyp[:, 0])
    gt, frame_gt = _grouped(gt, frames)
    hyp, frame_hy = _grouped(hyp, frames)
    g_idx, n_g = _ids_to_index(gt[:, 1])
    h_idx, n_h = _ids_to_index(hyp[:, 1])
    n_alpha = len(HOTA_ALPHAS)
    counts = np.zeros(8, np.int64)
    dist_sum = np.zeros(1)
    id_overlap = np.zeros((n_g, n_h))
    tp, fn, fp, loc = (np.zeros(n_alpha) for _ in range(4))
    match_counts = np.zeros((n_alpha, n_g, n_h))
    gt_count, hy_count = _evaluate_kernel(frame_gt, frame_hy, g_idx, _xyxy(gt), h_idx, _xyxy(hyp), n_g, n_h,
                                          threshold, HOTA_ALPHAS, counts, dist_sum, id_overlap, tp, fn, fp, loc,
                                          match_counts)
    idtp = 0.0
    if n_g and n_h:
        k = min(n_g, n_h)
        ra = np.empty(k, np.int64)
        ca = np.empty(k, np.int64)
        lsa_kernel(id_overlap, True, ra, ca)
        idtp = float(id_overlap[ra, ca].sum())
    n_obj, n_pred = len(gt), len(hyp)
    c = {"FP": int(counts[_FP]), "FN": int(counts[_MISS]), "IDSW": int(counts[_SWITCH]), "Frag": int(counts[_FRAG]),
         "MT": int(counts[_MT]), "PT": int(counts[_PT]), "ML": int(counts[_ML]),
         "num_frames": len(frames) if num_frames is None else num_frames,
         "num_objects": n_obj, "num_predictions": n_pred, "num_matches": int(counts[_MATCH] + counts[_SWITCH]),
         "num_unique_objects": n_g, "IDTP": int(round(idtp)), "IDFP": n_pred - int(round(idtp)),
         "IDFN": n_obj - int(round(idtp))}
    hota = _hota_scores(tp, fn, fp, loc, match_counts, gt_count, hy_count, n_obj, n_pred)
    return MOTResult(c, dist_sum[0], hota)


def _hota_scores(tp, fn, fp, loc, match_counts, gt_count, hy_count, n_obj, n_pred):
    """TrackEval's association scores and LocA from the per-alpha match counts."""
    n_alpha = len(HOTA_ALPHAS)
    if n_pred == 0 or n_obj == 0:  # TrackEval's early returns
        zeros = np.zeros(n_alpha)
        return {"TP": zeros.copy(), "FN": np.full(n_alpha, float(n_obj if n_pred == 0 else 0)),
                "FP": np.full(n_alpha, float(n_pred if n_pred and n_obj == 0 else 0)), "AssA": zeros.copy(),
                "AssRe": zeros.copy(), "AssPr": zeros.copy(), "LocA": np.ones(n_alpha)}
    g = gt_count.reshape(-1, 1)
    h = hy_count.reshape(1, -1)
    ass_a, ass_re, ass_pr = (np.zeros(n_alpha) for _ in range(3))
    for a in range(n_alpha):
        m = match_counts[a]
        ass_a[a] = np.sum(m * (m / np.maximum(1, g + h - m))) / max(1.0, tp[a])
        ass_re[a] = np.sum(m * (m / np.maximum(1, g))) / max(1.0, tp[a])
        ass_pr[a] = np.sum(m * (m / np.maximum(1, h))) / max(1.0, tp[a])
    return {"TP": tp, "FN": fn, "FP": fp, "AssA": ass_a, "AssRe": ass_re, "AssPr": ass_pr,
            "LocA": np.maximum(1e-10, loc) / np.maximum(1e-10, tp)}


def _prepare(gt_source, hyp_source, num_frames, distractors):
    gt, gt_lines, gt_label = _load(gt_source, "gt")
    hyp, hyp_lines, hyp_label = _load(hyp_source, "hyp")
    _check_rows(gt, gt_lines, gt_label, num_frames)
    _check_rows(hyp, hyp_lines, hyp_label, num_frames)
    benchmark = _check_distractors(distractors)
    use_classes = benchmark in ("MOT16", "MOT17", "MOT20") or (benchmark == "auto" and _has_classes(gt))
    if use_classes:
        if gt.shape[1] < 8:
            raise ValueError(f"{gt_label}: distractor handling needs the class column (column 8 in the file)")
        hyp = hyp[_remove_distractor_matches(gt, hyp, benchmark)]
        keep = (gt[:, 6] >= 1) & (gt[:, 7] == 1)
    else:
        keep = gt[:, 6] >= 1 if gt.shape[1] > 6 else np.ones(len(gt), bool)
    return gt[keep], hyp


def _check_distractors(value):
    choices = ("auto", "none", "MOT15", "MOT16", "MOT17", "MOT20")
    if value not in choices:
        raise ValueError(f"distractors must be one of {choices}, got {value!r}")
    return "none" if value == "MOT15" else value


def evaluate_mot(gt, hyp, *, iou_threshold: float = 0.5, num_frames=None, distractors: str = "auto") -> dict:
    """CLEAR MOT, identity and HOTA metrics of one sequence (see the module notes).

    Parameters
    ----------
    gt, hyp : ndarray (K, >= 6) or path
        MOTChallenge rows ``frame, id, x, y, w, h, conf, ...`` (frames as :func:`~scratchvision.read_mot`
        gives them, 0-based; any common offset works) or files to read. Ground-truth rows with
        ``conf < 1`` are ignored.
    iou_threshold : float in (0, 1]
        A pair matches (CLEAR, identity) when ``IoU >= iou_threshold`` (motmetrics' ``distth`` is
        ``1 - iou_threshold``). HOTA uses its own thresholds.
    num_frames : int, optional
        Sequence length: the result's ``num_frames`` (frames without boxes count, as in a
        motmetrics accumulator updated on every frame); rows with a frame beyond it raise
        ValueError. Without it, the frames that have rows are counted.
    distractors : {"auto", "none", "MOT15", "MOT16", "MOT17", "MOT20"}
        MOTChallenge distractor handling: "auto" applies it when the ground truth has the
        MOT16/17/20 layout (9 columns: ..., conf, class, visibility).

    Returns
    -------
    dict
        ``MOTA, MOTP, FP, FN, IDSW, Frag, MT, PT, ML, num_frames, IDF1, IDP, IDR, HOTA, DetA,
        AssA, LocA, DetRe, DetPr, AssRe, AssPr`` (rates as fractions, counts as ints; MOTP the
        mean IoU of matches), then ``MOTP_distance`` (motmetrics' motp), ``num_objects``,
        ``num_predictions``, ``num_matches``, ``num_unique_objects``, ``IDTP``, ``IDFP``,
        ``IDFN`` and ``HOTA_alpha`` (each HOTA score per alpha of :data:`HOTA_ALPHAS`).
        Undefined ratios follow motmetrics for CLEAR/identity (no ground truth: MOTA is -inf
        with false positives, NaN without) and TrackEval for HOTA (0, LocA 1).
    """
    return _evaluate(gt, hyp, iou_threshold, num_frames, distractors).summary()


def _evaluate(gt, hyp, iou_threshold, num_frames, distractors, count_frames=True):
    """Check and prepare ``gt`` and ``hyp`` (rows or paths), then evaluate them; ``num_frames``
    bounds the frame numbers and, with ``count_frames``, is the result's frame count."""
    threshold = 1.0 - check_float(iou_threshold, "iou_threshold", low=0.0, high=1.0, low_open=True)
    if num_frames is not None:
        num_frames = check_int(num_frames, "num_frames", low=1)
    gt_rows, hyp_rows = _prepare(gt, hyp, num_frames, distractors)
    return _evaluate_rows(gt_rows, hyp_rows, threshold, num_frames if count_frames else None)


def combine_results(results) -> MOTResult:
    """Combine per-sequence :class:`MOTResult` as motmetrics (sums of counts) and TrackEval
    (HOTA: sums per alpha, association and localisation weighted by true positives) do.

    Parameters
    ----------
    results : iterable of MOTResult

    Returns
    -------
    MOTResult
    """
    try:
        results = list(results)
    except TypeError:
        raise TypeError(f"results must be an iterable of MOTResult, got {type(results).__name__}") from None
    for i, r in enumerate(results):
        if not isinstance(r, MOTResult):
            raise TypeError(f"results[{i}] must be a MOTResult (from evaluate_mot), got {type(r).__name__}")
    counts = {k: sum(r.counts[k] for r in results) for k in _COUNT_KEYS}
    dist = sum(r.distance_sum for r in results)
    tp = sum(r.hota["TP"] for r in results)
    hota = {"TP": tp, "FN": sum(r.hota["FN"] for r in results), "FP": sum(r.hota["FP"] for r in results)}
    for k in ("AssA", "AssRe", "AssPr"):
        hota[k] = sum(r.hota[k] * r.hota["TP"] for r in results) / np.maximum(1.0, tp)
    loc = sum(r.hota["LocA"] * r.hota["TP"] for r in results)
    hota["LocA"] = np.maximum(1e-10, loc) / np.maximum(1e-10, tp)
    return MOTResult(counts, dist, hota)


def evaluate_mot_folder(gt_root, result_root, *, sequences=None, iou_threshold: float = 0.5,
                        distractors: str = "auto", gt_file: str = "gt/gt.txt", missing: str = "empty") -> dict:
    """Evaluate a tracker over a MOTChallenge layout: ``gt_root/<seq>/gt/gt.txt`` (with
    ``seqinfo.ini`` giving the length when present) against ``result_root/<seq>.txt``.

    Parameters
    ----------
    gt_root, result_root : path
    sequences : list of str, optional
        Default: every sequence folder of ``gt_root`` holding ``gt_file``.
    iou_threshold, distractors
        As in :func:`evaluate_mot`.
    gt_file : str
        Ground-truth path inside a sequence folder.
    missing : {"empty", "skip"}
        A sequence without a result file counts as an empty hypothesis ("empty", as the
        MOTChallenge scripts score it) or is left out, of OVERALL too ("skip"); either way a
        ``UserWarning`` names it.

    Returns
    -------
    dict
        ``{sequence: metrics, ..., "OVERALL": combined metrics}``, each as :func:`evaluate_mot`
        returns (``num_frames`` counts the frames that have rows, as motmetrics does; the
        sequence length of ``seqinfo.ini`` only bounds the frame numbers).
    """
    import warnings

    from ..io.mot import read_seqinfo

    if missing not in ("empty", "skip"):
        raise ValueError(f"missing must be 'empty' or 'skip', got {missing!r}")
    gt_root, result_root = os.fspath(gt_root), os.fspath(result_root)
    if not os.path.isdir(gt_root):
        raise ValueError(f"gt_root {gt_root!r} is not a folder")
    if sequences is None:
        sequences = sorted(d for d in os.listdir(gt_root) if os.path.isfile(os.path.join(gt_root, d, gt_file)))
        if not sequences:
            raise ValueError(f"gt_root {gt_root!r} holds no <sequence>/{gt_file}")
    results = {}
    for seq in sequences:
        folder = os.path.join(gt_root, seq)
        length = None
        if os.path.isfile(os.path.join(folder, "seqinfo.ini")):
            length = read_seqinfo(folder).get("seqLength")
        hyp_path = os.path.join(result_root, f"{seq}.txt")
        if os.path.isfile(hyp_path):
            hyp = hyp_path
        else:
            warnings.warn(f"{hyp_path} is missing: sequence {seq} " + ("left out" if missing == "skip" else
                          "scored with no hypotheses"), UserWarning, stacklevel=2)
            if missing == "skip":
                continue
            hyp = np.zeros((0, 10))
        results[seq] = _evaluate(os.path.join(folder, gt_file), hyp, iou_threshold, length, distractors,
                                 count_frames=False)
    if not results:
        raise ValueError(f"result_root {result_root!r} holds no result file of the sequences {sequences}")
    out = {seq: r.summary() for seq, r in results.items()}
    out["OVERALL"] = combine_results(results.values()).summary()
    return out


#: Columns of :func:`format_table`: (header, key, kind) in motmetrics' MOTChallenge order, then HOTA.
TABLE_COLUMNS = (("IDF1", "IDF1", "%"), ("IDP", "IDP", "%"), ("IDR", "IDR", "%"), ("Rcll", "recall", "%"),
                 ("Prcn", "precision", "%"), ("GT", "num_unique_objects", "n"), ("MT", "MT", "n"), ("PT", "PT", "n"),
                 ("ML", "ML", "n"), ("FP", "FP", "n"), ("FN", "FN", "n"), ("IDs", "IDSW", "n"), ("FM", "Frag", "n"),
                 ("MOTA", "MOTA", "%"), ("MOTP", "MOTP", "%"), ("HOTA", "HOTA", "%"), ("DetA", "DetA", "%"),
                 ("AssA", "AssA", "%"), ("LocA", "LocA", "%"))


def format_table(results: dict) -> str:
    """A text table of ``{name: metrics}`` (as :func:`evaluate_mot_folder` returns), one row per
    name, in the column layout motmetrics users know (rates in percent, one decimal), plus HOTA,
    DetA, AssA and LocA.

    Parameters
    ----------
    results : dict
        ``{name: metrics dict}``.

    Returns
    -------
    str
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be a dict {{name: metrics}}, got {type(results).__name__}")
    header = [""] + [h for h, _, _ in TABLE_COLUMNS]
    rows = [header]
    for name, r in results.items():
        cells = [str(name)]
        for _, key, kind in TABLE_COLUMNS:
            try:
                v = float(r[key])
            except (KeyError, TypeError, IndexError, ValueError):
                raise ValueError(f"results[{name!r}] must map {key!r} to a number (as evaluate_mot_folder "
                                 f"returns)") from None
            cells.append(f"{100 * v:.1f}%" if kind == "%" else str(int(v)))
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(" ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
                     for row in rows)


@warmup_hook
def _warmup():
    gt = np.array([[0, 1, 0, 0, 10, 10, 1], [1, 1, 1, 0, 10, 10, 1]], np.float64)
    evaluate_mot(gt, gt)
