"""The four-lane float32 register against the same lane sums done one float32 at a time in NumPy."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchvision.imgproc.simd import (f32x4_add_i32, f32x4_add_i32_pairs, f32x4_lane, f32x4_sum,
                                 f32x4_zeros)

import naive


@numba.njit
def _accumulate(src, step, pairs):
    v = f32x4_zeros()
    for i in range(0, src.shape[0] - 7, step):
        if pairs:
            v = f32x4_add_i32_pairs(v, src, np.uint64(i))
        else:
            v = f32x4_add_i32(v, src, i)
    return (f32x4_lane(v, 0), f32x4_lane(v, 1), f32x4_lane(v, 2), f32x4_lane(v, 3)), f32x4_sum(v)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 200), pairs=st.booleans(),
       scale=st.sampled_from([10, 2**20, 2**29]))
def test_lane_sums_equal_float32_one_add_at_a_time(seed, n, pairs, scale):
    src = np.random.default_rng(seed).integers(-scale, scale, n, dtype=np.int32)
    step = 8 if pairs else 4
    lanes, total = _accumulate(src, step, pairs)
    ref_lanes, ref_total = naive.lane_sums(src, step, pairs)
    assert np.array_equal(np.array(lanes, np.float32), ref_lanes)  # bit for bit
    assert np.float32(total) == ref_total


def test_lane_sums_round_like_float32():
    # 2^24 + 1 is not a float32: adding 1 to 2^24 one lane at a time leaves 2^24
    src = np.array([2**24, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], np.int32)
    lanes, _ = _accumulate(src, 4, False)
    assert lanes[0] == 2.0**24


def test_source_must_be_int32():
    with pytest.raises(TypeError, match="int32"):
        _accumulate(np.zeros(16, np.int64), 4, False)
