"""Synthetic video with exact ground truth, generated on the fly (nothing is downloaded).

:func:`synthetic_sequence` renders textured rectangles that translate, rotate and scale with
sub-pixel motion over a textured background that itself translates (a panning camera). Because
every pixel's surface and motion are known analytically, the sequence comes with

* the exact forward optical flow between consecutive frames (the motion of the surface seen at
  each pixel, including where that surface becomes hidden in the next frame),
* the label map (which object, if any, is seen at each pixel),
* MOTChallenge-style ground-truth boxes with identities and visibility.

Objects occlude one another (pairs are sent through the same point at the same time), some enter
the view during the sequence and some leave it. The same seed gives the same sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ._jit import kernel, warmup_hook
from ._validate import check_float, check_int, check_int_pair
from .imgproc import remap, sample_bilinear, to_uint8

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["synthetic_sequence", "SyntheticSequence", "texture"]

#: Column names of :attr:`SyntheticSequence.gt` (MOTChallenge gt layout, frame 0-based in memory).
GT_COLUMNS = ("frame", "id", "x", "y", "w", "h", "conf", "class", "visibility")


@dataclass(frozen=True)
class SyntheticSequence:
    """A rendered sequence and its ground truth.

    Attributes
    ----------
    frames : ndarray, (T, H, W) or (T, H, W, 3), uint8
        The video (gray or RGB).
    flow : ndarray, (T-1, H, W, 2), float32
        ``flow[t]`` is the forward flow from frame ``t`` to ``t+1`` in (dx, dy):
        the surface seen at pixel ``p`` in frame ``t`` is at ``p + flow[t][p]`` in frame ``t+1``.
    labels : ndarray, (T, H, W), int32
        The id of the object seen at each pixel, 0 for the background.
    gt : ndarray, (K, 9), float64
        MOTChallenge rows ``frame, id, x, y, w, h, conf, class, visibility`` with 0-based frames
        (:func:`scratchvision.io.write_mot` adds 1). ``x, y, w, h`` is the axis-aligned box of
        the rotated, scaled rectangle (pixel centres at integer coordinates); ``visibility`` is
        the fraction of the object's area seen in the frame; ``conf`` is 1 when some of it is
        seen and 0 when it is entirely hidden or outside (MOTChallenge evaluators ignore conf-0
        rows). A row is written for every frame in which the box overlaps the image.
    """

    frames: np.ndarray
    flow: np.ndarray
    labels: np.ndarray
    gt: np.ndarray

    def boxes(self, t: int, *, visible_only: bool = True):
        """Ground-truth boxes of frame ``t`` as ``(xyxy (M, 4) float64, ids (M,) int64)``."""
        t = check_int(t, "t", low=0, high=len(self.frames) - 1)
        rows = self.gt[self.gt[:, 0] == t]
        if visible_only:
            rows = rows[rows[:, 6] > 0]
        xyxy = np.column_stack([rows[:, 2], rows[:, 3], rows[:, 2] + rows[:, 4], rows[:, 3] + rows[:, 5]])
        return xyxy, rows[:, 1].astype(np.int64)


def texture(size, seed: int = 0, *, channels: int = 1, cell_sizes=(24, 12, 6, 3)) -> np.ndarray:
    """A random multi-scale texture in [0, 1], rich in corners (value noise).

    A coarse grid of random values is bilinearly upsampled for each cell size in ``cell_sizes``
    and the octaves are summed with amplitude proportional to ``cell ** 0.6``, then stretched to
    [0, 1] between the 1st and 99th percentiles.

    Parameters
    ----------
    size : (int, int)
        (height, width).
    seed : int
        Seed of ``numpy.random.default_rng``.
    channels : int
        1 for (H, W), 3 for (H, W, 3).
    cell_sizes : sequence of int
        Grid spacings of the octaves in pixels (>= 2).

    Returns
    -------
    ndarray, float32

    Examples
    --------
    >>> from scratchvision import texture
    >>> t = texture((32, 48), seed=1)
    >>> t.shape, t.dtype.name
    ((32, 48), 'float64')
    """
    h, w = _check_size(size)
    channels = check_int(channels, "channels", low=1, high=3)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    return _texture(rng, h, w, channels, cell_sizes)


def _texture(rng, h, w, channels, cell_sizes):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros((h, w, channels), np.float32)
    for cell in cell_sizes:
        cell = check_int(cell, "cell_sizes", low=2)
        grid = rng.random((h // cell + 2, w // cell + 2, channels), dtype=np.float32)
        offset = rng.random(2) * cell
        out += cell ** 0.6 * remap(grid, (xx + offset[0]) / cell, (yy + offset[1]) / cell,
                                   border_mode="replicate").reshape(h, w, channels)
    lo, hi = np.percentile(out, [1, 99])
    out = np.clip((out - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    return out[:, :, 0] if channels == 1 else out


@kernel(parallel=True)
def _render_frame(background, shift_x, shift_y, bg_flow_x, bg_flow_y, atlas, tex_hw, pose, pose_next,
                  depth_order, out_image, out_flow, out_label):
    """Render one frame, its forward flow and its label map.

    ``pose[k] = (cx, cy, angle, scale)``: texture point ``u`` (relative to the texture centre)
    of object ``k`` is seen at ``c + scale * R(angle) u``. Background pixel ``p`` shows canvas
    point ``p + shift``.
    """
    h, w = out_image.shape[0], out_image.shape[1]
    n_channels = out_image.shape[2]
    for i in numba.prange(h):
        for j in range(w):
            x = np.float64(j)
            y = np.float64(i)
            seen = -1
            for k in depth_order:
                cx, cy, angle, scale = pose[k, 0], pose[k, 1], pose[k, 2], pose[k, 3]
                ca, sa = np.cos(angle), np.sin(angle)
                ux = (ca * (x - cx) + sa * (y - cy)) / scale
                uy = (-sa * (x - cx) + ca * (y - cy)) / scale
                th, tw = tex_hw[k, 0], tex_hw[k, 1]
                if abs(ux) <= 0.5 * tw and abs(uy) <= 0.5 * th:
                    seen = k
                    for c in range(n_channels):
                        out_image[i, j, c] = sample_bilinear(atlas[k], ux + 0.5 * tw - 0.5,
                                                             uy + 0.5 * th - 0.5, c, 1, 0.0)
                    nx, ny, na, ns = pose_next[k, 0], pose_next[k, 1], pose_next[k, 2], pose_next[k, 3]
                    cb, sb = np.cos(na), np.sin(na)
                    out_flow[i, j, 0] = nx + ns * (cb * ux - sb * uy) - x
                    out_flow[i, j, 1] = ny + ns * (sb * ux + cb * uy) - y
                    break
            out_label[i, j] = seen + 1
            if seen < 0:
                for c in range(n_channels):
                    out_image[i, j, c] = sample_bilinear(background, x + shift_x, y + shift_y, c, 1, 0.0)
                out_flow[i, j, 0] = bg_flow_x
                out_flow[i, j, 1] = bg_flow_y


def synthetic_sequence(n_frames: int = 30, size=(240, 320), n_objects: int = 6, seed: int = 0, *,
                       color: bool = False, max_speed: float = 3.0, max_rotation: float = 0.03,
                       max_scale_rate: float = 0.01, background_speed: float = 1.0,
                       noise: float = 0.0) -> SyntheticSequence:
    """Render a synthetic video of moving textured objects with exact ground truth.

    The scene: a textured background translating at ``background_speed`` pixels per frame in a
    random direction (sub-pixel), and ``n_objects`` textured rectangles, each with a constant
    velocity (up to ``max_speed`` px/frame), angular velocity (up to ``max_rotation`` rad/frame)
    and scale rate (up to ``max_scale_rate`` per frame). Objects come in a fixed pattern of four
    roles so that every sequence exercises trackers: objects 0 and 1 (4 and 5, ...) cross the same
    point mid-sequence, so the nearer one occludes the other; object 2 (6, ...) enters the view
    after the first frame; object 3 (7, ...) leaves it before the last frame. Depth order is
    random. Frames are rendered by bilinear sampling of the textures at each pixel centre, then
    optional Gaussian noise of standard deviation ``noise`` (gray levels) is added and the result
    is rounded to uint8.

    Parameters
    ----------
    n_frames : int
        Number of frames T (>= 2).
    size : (int, int)
        (height, width) of the frames, each >= 16.
    n_objects : int
        Number of objects (>= 0).
    seed : int
        Seed; the same seed and arguments give the same sequence.
    color : bool
        RGB frames (H, W, 3) instead of gray (H, W).
    max_speed, max_rotation, max_scale_rate, background_speed, noise : float
        Motion bounds (px/frame, rad/frame, relative/frame, px/frame) and noise level (>= 0).

    Returns
    -------
    SyntheticSequence
        ``frames``, ``flow`` (T-1 forward flows), ``labels`` and ``gt`` rows.

    Examples
    --------
    >>> seq = synthetic_sequence(n_frames=5, size=(64, 96), n_objects=2, seed=1)
    >>> seq.frames.shape, seq.flow.shape
    ((5, 64, 96), (4, 64, 96, 2))
    """
    n_frames = check_int(n_frames, "n_frames", low=2)
    h, w = _check_size(size, minimum=16)
    n_objects = check_int(n_objects, "n_objects", low=0)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    max_speed = check_float(max_speed, "max_speed", low=0.0)
    max_rotation = check_float(max_rotation, "max_rotation", low=0.0)
    max_scale_rate = check_float(max_scale_rate, "max_scale_rate", low=0.0, high=0.2)
    background_speed = check_float(background_speed, "background_speed", low=0.0)
    noise = check_float(noise, "noise", low=0.0)
    channels = 3 if color else 1
    t_axis = np.arange(n_frames, dtype=np.float64)

    # Background canvas large enough for the whole pan.
    bg_angle = rng.uniform(0, 2 * np.pi)
    bg_velocity = background_speed * np.array([np.cos(bg_angle), np.sin(bg_angle)])
    margin = int(np.ceil(background_speed * n_frames)) + 4
    background = _texture(rng, h + 2 * margin, w + 2 * margin, channels, (32, 16, 8, 4))
    background = (40.0 + 150.0 * background).astype(np.float32).reshape(h + 2 * margin, w + 2 * margin, channels)

    # Object textures, packed in one atlas; sizes relative to the frame.
    tex_hw = np.zeros((n_objects, 2), np.float64)
    side = min(h, w)
    for k in range(n_objects):
        area = (rng.uniform(0.14, 0.24) * side) ** 2
        aspect = rng.uniform(0.5, 2.0)
        tex_hw[k] = np.sqrt(area * aspect), np.sqrt(area / aspect)
    tex_hw = np.maximum(np.round(tex_hw), 4)
    atlas_h, atlas_w = (int(tex_hw[:, 0].max()), int(tex_hw[:, 1].max())) if n_objects else (1, 1)
    atlas = np.zeros((max(n_objects, 1), atlas_h, atlas_w, channels), np.float32)
    for k in range(n_objects):
        th, tw = int(tex_hw[k, 0]), int(tex_hw[k, 1])
        tint = rng.uniform(0.4, 1.0, channels) if color else np.ones(1)
        base = rng.uniform(20, 110)
        tex = _texture(rng, th, tw, channels, (12, 6, 3)).reshape(th, tw, channels)
        atlas[k, :th, :tw] = base + 140.0 * tex * tint

    # Trajectories: pose[t, k] = (cx, cy, angle, scale).
    pose = np.zeros((n_frames, n_objects, 4), np.float64)
    mid = (n_frames - 1) / 2.0
    partner = None  # (heading, meeting point, meeting time) of the last role-0 object
    for k in range(n_objects):
        speed = rng.uniform(0.4, 1.0) * max_speed
        omega = rng.uniform(-max_rotation, max_rotation)
        angle0 = rng.uniform(-0.3, 0.3)
        log_rate = np.log1p(rng.uniform(-max_scale_rate, max_scale_rate))
        role = k % 4
        if role == 1:  # crosses its partner's meeting point at the same time, another heading
            heading = partner[0] + rng.uniform(0.6, 1.0) * np.pi * rng.choice([-1, 1])
            meet, t_meet = partner[1], partner[2]
        else:
            heading = rng.uniform(0, 2 * np.pi)
            meet = np.array([rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h])
            t_meet = rng.uniform(0.35, 0.65) * (n_frames - 1)
        velocity = speed * np.array([np.cos(heading), np.sin(heading)])
        if role == 0:
            partner = (heading, meet, t_meet)
        scale = np.exp(log_rate * (t_axis - mid))
        half_diag = 0.5 * np.hypot(*tex_hw[k]) * scale.max()
        if role in (2, 3):
            # Enter (2): start just outside the left/right edge and move in; leave (3): the reverse.
            velocity = np.array([max(speed, 1.0), rng.uniform(-0.3, 0.3) * speed])
            from_left = rng.random() < 0.5
            start_x = -half_diag - 2.0 if from_left else w - 1 + half_diag + 2.0
            sign = 1.0 if from_left else -1.0
            velocity[0] *= sign
            y0 = rng.uniform(0.25, 0.75) * h
            if role == 2:
                meet, t_meet = np.array([start_x, y0]), 0.0
            else:
                velocity = -velocity
                meet, t_meet = np.array([start_x, y0]), float(n_frames - 1)
                if n_frames > 1 and abs(velocity[0]) * (n_frames - 1) < half_diag + 4:
                    velocity[0] = -sign * (half_diag + 4) / (n_frames - 1)
        pose[:, k, 0] = meet[0] + velocity[0] * (t_axis - t_meet)
        pose[:, k, 1] = meet[1] + velocity[1] * (t_axis - t_meet)
        pose[:, k, 2] = angle0 + omega * (t_axis - mid)
        pose[:, k, 3] = scale
    depth_order = rng.permutation(n_objects).astype(np.int64)

    frames = np.empty((n_frames, h, w, channels), np.float32)
    flow = np.empty((n_frames, h, w, 2), np.float32)
    labels = np.empty((n_frames, h, w), np.int32)
    for t in range(n_frames):
        nxt = pose[min(t + 1, n_frames - 1)]
        # The canvas point shown at p is p + margin - bg_velocity * t, so content moves by +v.
        _render_frame(background, margin - bg_velocity[0] * t, margin - bg_velocity[1] * t,
                      bg_velocity[0], bg_velocity[1], atlas, tex_hw, pose[t], nxt, depth_order,
                      frames[t], flow[t], labels[t])
    if noise > 0:
        frames += rng.normal(0.0, noise, frames.shape).astype(np.float32)
    frames = to_uint8(frames)
    if not color:
        frames = frames[..., 0]
    gt = _ground_truth_rows(pose, tex_hw, labels, h, w)
    return SyntheticSequence(frames=frames, flow=flow[:-1], labels=labels, gt=gt)


def _ground_truth_rows(pose, tex_hw, labels, h, w):
    rows = []
    for t in range(pose.shape[0]):
        counts = np.bincount(labels[t].ravel(), minlength=pose.shape[1] + 1)
        for k in range(pose.shape[1]):
            cx, cy, angle, scale = pose[t, k]
            th, tw = tex_hw[k]
            ca, sa = abs(np.cos(angle)), abs(np.sin(angle))
            ex = scale * 0.5 * (ca * tw + sa * th)
            ey = scale * 0.5 * (sa * tw + ca * th)
            if cx + ex < -0.5 or cx - ex > w - 0.5 or cy + ey < -0.5 or cy - ey > h - 0.5:
                continue
            visibility = min(1.0, counts[k + 1] / (scale * scale * th * tw))
            rows.append((t, k + 1, cx - ex, cy - ey, 2 * ex, 2 * ey, float(visibility > 0), 1.0, visibility))
    return np.array(rows, np.float64).reshape(-1, len(GT_COLUMNS))


def _check_size(size, minimum: int = 1):
    return check_int_pair(size, "size", low=minimum, labels=("height", "width"))


@warmup_hook
def _warmup():
    synthetic_sequence(n_frames=2, size=(16, 16), n_objects=2, seed=0)
