"""Flow accuracy measures of the Middlebury benchmark (Baker et al. 2011).

References
----------
S. Baker et al. "A Database and Evaluation Methodology for Optical Flow." IJCV 92(1), 2011.
doi:10.1007/s11263-010-0390-2
"""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_flow

__all__ = ["UNKNOWN_FLOW_THRESHOLD", "valid_flow_mask", "endpoint_error", "angular_error"]

#: Middlebury marks unknown ground truth with |u| or |v| above this.
UNKNOWN_FLOW_THRESHOLD = 1e9


def valid_flow_mask(flow) -> np.ndarray:
    """Pixels whose flow is known: finite, with |u| and |v| <= 1e9 (Middlebury convention).

    Parameters
    ----------
    flow : ndarray (H, W, 2)

    Returns
    -------
    ndarray (H, W) of bool
    """
    flow = check_flow(flow, allow_unknown=True)
    with np.errstate(invalid="ignore"):
        return np.isfinite(flow).all(axis=2) & (np.abs(flow) <= UNKNOWN_FLOW_THRESHOLD).all(axis=2)


def _pair(flow, gt, mask):
    flow = check_flow(flow)
    gt = check_flow(gt, "gt", allow_unknown=True)
    if flow.shape != gt.shape:
        raise ValueError(f"flow and gt must have one shape, got {flow.shape} and {gt.shape}")
    valid = valid_flow_mask(gt)
    if mask is not None:
        m = as_array(mask, "mask")
        if m.shape != gt.shape[:2]:
            raise ValueError(f"mask must have shape {gt.shape[:2]}, got {m.shape}")
        valid &= m.astype(bool)
    gt = np.where(valid[..., None], gt.astype(np.float64), 0.0)  # unknown markers would overflow
    return flow.astype(np.float64), gt, valid


def endpoint_error(flow, gt, *, mask=None, reduce: bool = True):
    """Endpoint error ``|f - f_gt|`` (Euclidean), averaged over pixels with known ground truth.

    Parameters
    ----------
    flow, gt : ndarray, (H, W, 2)
        Estimate and ground truth; gt may hold Middlebury unknown markers, which are skipped.
    mask : ndarray of bool, (H, W), optional
        Restrict the average to these pixels as well.
    reduce : bool
        Return the mean (float; NaN when no pixel is valid) or the per-pixel map (NaN where not
        counted).

    Returns
    -------
    float or ndarray (H, W)
        The mean endpoint error in pixels (``reduce``), or the per-pixel map.
    """
    flow, gt, valid = _pair(flow, gt, mask)
    err = np.where(valid, np.hypot(flow[..., 0] - gt[..., 0], flow[..., 1] - gt[..., 1]), np.nan)
    if not reduce:
        return err
    return float(np.nanmean(err)) if valid.any() else float("nan")


def angular_error(flow, gt, *, mask=None, reduce: bool = True):
    """Angular error in degrees between the space-time vectors (u, v, 1) and (u_gt, v_gt, 1).

    The measure of Barron et al. (1994) as used by Baker et al. (2011); same arguments as
    :func:`endpoint_error`.

    Parameters
    ----------
    flow, gt : ndarray, (H, W, 2)
        Estimate and ground truth (unknown markers in gt are skipped).
    mask : ndarray of bool, (H, W), optional
        Restrict the average to these pixels as well.
    reduce : bool
        Return the mean, or the per-pixel map.

    Returns
    -------
    float or ndarray (H, W)
        The mean angular error in degrees (``reduce``), or the per-pixel map.

    References
    ----------
    S. Baker, D. Scharstein, J. P. Lewis, S. Roth, M. J. Black, R. Szeliski. "A Database and
    Evaluation Methodology for Optical Flow." IJCV 92, 2011. doi:10.1007/s11263-010-0390-2
    """
    flow, gt, valid = _pair(flow, gt, mask)
    # angle between a = (u, v, 1) and b = (u_gt, v_gt, 1) as atan2(|a x b|, a . b): the same
    # value as arccos(a . b / |a||b|) but accurate for nearly parallel vectors.
    u, v, gu, gv = flow[..., 0], flow[..., 1], gt[..., 0], gt[..., 1]
    cross = np.sqrt((v - gv) ** 2 + (gu - u) ** 2 + (u * gv - v * gu) ** 2)
    ang = np.degrees(np.arctan2(cross, 1.0 + u * gu + v * gv))
    err = np.where(valid, ang, np.nan)
    if not reduce:
        return err
    return float(np.nanmean(err)) if valid.any() else float("nan")
