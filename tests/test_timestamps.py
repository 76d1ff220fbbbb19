"""Variable frame rate: ``update(..., timestamp=)`` on every tracker. Regular timestamps give the
outputs of no timestamps bit for bit (MOT15); on a stream whose frames arrive 1-4 frame periods
apart, the filters predict over the elapsed time and keep every identity, which a tracker counting
one frame per update loses; the clock's bad input."""

from __future__ import annotations

import numpy as np
import pytest

import scratchvision as sv
from scratchvision.tracking import FrameClock

from conftest import shared_path

MAKERS = {"sort": lambda **kw: sv.Sort(min_hits=1, **kw), "bytetrack": lambda **kw: sv.ByteTrack(**kw),
          "ocsort": lambda **kw: sv.OCSort(min_hits=1, **kw), "deepsort": lambda **kw: sv.DeepSort(n_init=1, **kw),
          "botsort": lambda **kw: sv.BoTSORT(**kw)}
TAKE_EMBEDDINGS = ("deepsort",)


def _update(tracker, name, dets, **kw):
    if name in TAKE_EMBEDDINGS:
        return tracker.update(dets, np.ones((len(dets), 4)), **kw)
    return tracker.update(dets, **kw)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_regular_timestamps_change_nothing(name):
    det = sv.read_mot(shared_path("mot15", "TUD-Stadtmitte", "det", "det.txt"))
    frames = [np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5], f[:, 6]])
              for f in (det[det[:, 0] == t] for t in range(int(det[:, 0].max()) + 1))]
    plain, timed = MAKERS[name](), MAKERS[name](frame_rate=25)
    for t, dets in enumerate(frames):
        a = _update(plain, name, dets)
        b = _update(timed, name, dets, timestamp=1000.0 + t * 0.04)  # 25 frames/s, not exact in binary
        np.testing.assert_array_equal(a, b)


def irregular_stream(seed=0, n_updates=40):
    """Five boxes moving right at 10 px a frame period (300 px/s at 30 frames/s), 100 px apart,
    seen at times 1-4 frame periods apart (with a little jitter)."""
    rng = np.random.default_rng(seed)
    gaps = rng.integers(1, 5, n_updates)
    gaps[:3] = 1
    times = np.cumsum(gaps) / 30.0 + rng.uniform(-0.002, 0.002, n_updates)
    streams = []
    for t in times:
        x = 20 + 300.0 * t
        streams.append(np.array([[x, 20 + 100 * k, x + 40, 100 + 100 * k, 0.9] for k in range(5)]))
    return times, streams


def ids_per_object(outputs):
    """The set of track ids reported for each object (objects told apart by their row)."""
    seen = {}
    for out in outputs:
        for row in out:
            seen.setdefault(int(row[1] // 100), set()).add(int(row[4]))
    return seen


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_elapsed_time_keeps_identities_at_a_variable_frame_rate(name):
    times, stream = irregular_stream()
    timed, counted = MAKERS[name](), MAKERS[name]()
    with_time = ids_per_object([_update(timed, name, d, timestamp=t) for t, d in zip(times, stream)])
    without = ids_per_object([_update(counted, name, d) for d in stream])
    assert len(with_time) == 5 and all(len(ids) == 1 for ids in with_time.values())
    assert sum(map(len, without.values())) >= sum(map(len, with_time.values()))
    if name in ("sort", "botsort"):  # their IoU gates cannot bridge a 30 px lag: tracks break
        assert sum(map(len, without.values())) > 5


def test_frame_clock():
    clock = FrameClock(30)
    assert clock.advance(10.0) == (1, 1.0)
    assert clock.advance(10.0 + 3 / 30) == (3, 3.0)  # snapped: within 1e-6 of 3 frames
    steps, dt = clock.advance(10.0 + 3 / 30 + 0.05)
    assert (steps, round(dt, 9)) == (2, 1.5)
    with pytest.raises(ValueError, match="timestamp must increase"):
        clock.advance(10.0)
    with pytest.raises(ValueError, match="timestamp is required"):
        clock.advance(None)
    with pytest.raises(ValueError, match="timestamp"):
        clock.advance(float("nan"))
    fresh = FrameClock(30)
    fresh.advance(None)
    with pytest.raises(ValueError, match="from the first update on"):
        fresh.advance(1.0)
    with pytest.raises(ValueError, match="frame_rate"):
        FrameClock(0)
    tracker = sv.Sort()
    tracker.update(None, timestamp=5.0)
    tracker.reset()  # a reset forgets the clock
    tracker.update(None, timestamp=1.0)


def test_kalman_predicts_over_the_elapsed_time():
    """One update 3 frame periods on predicts the box where three one-frame predicts put it."""
    timed, counted = sv.ByteTrack(), sv.ByteTrack()
    for k in range(6):
        det = np.array([[10.0 * k, 0, 10.0 * k + 40, 80, 0.9]])
        timed.update(det, timestamp=k / 30)
        counted.update(det)
    timed.update(np.zeros((0, 5)), timestamp=8 / 30)
    for _ in range(3):
        counted.update(np.zeros((0, 5)))
    np.testing.assert_allclose(timed.boxes[0, [0, 2]], counted.boxes[0, [0, 2]], rtol=0, atol=1e-9)
    assert timed.boxes[0, 0] > 70.0  # moved on from the last detection (x1 = 50)
