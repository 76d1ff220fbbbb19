"""A four-lane float32 register for Numba kernels, as OpenCV's ``v_float32x4``.

OpenCV's SIMD loops keep running sums in the four float32 lanes of a vector register and add
the lanes up at the end. To give the same result bit for bit, a kernel must add the same terms
into the same lanes in the same order. Four scalar float32 variables do that, but LLVM (with
Numba's defaults) keeps them scalar: every term is then loaded, converted and added one lane at a
time. :data:`float32x4` is a Numba type held in one LLVM ``<4 x float>`` register, with the few
operations the kernels need:

* :func:`f32x4_zeros` -- all four lanes 0;
* :func:`f32x4_add_i32` -- ``acc + float32(src[i:i + 4])``, lane by lane;
* :func:`f32x4_add_i32_pairs` -- ``acc + float32(src[i:i + 4] + src[i + 4:i + 8])``: the
  integers summed pairwise first, as OpenCV does before converting;
* :func:`f32x4_lane` -- one lane as a float32 scalar;
* :func:`f32x4_sum` -- ``(lane0 + lane2) + (lane1 + lane3)``, the order of OpenCV's
  ``v_reduce_sum`` on SSE.

``src`` is a 1-D C-contiguous int32 array and ``i`` an integer offset. There is no bounds check:
the caller keeps ``i + 4`` (``i + 8`` for pairs) within the array.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, models, register_model

from .._jit import kernel

__all__ = ["float32x4", "f32x4_zeros", "f32x4_add_i32", "f32x4_add_i32_pairs", "f32x4_lane",
           "f32x4_sum"]

_VEC_F32 = ir.VectorType(ir.FloatType(), 4)
_VEC_I32 = ir.VectorType(ir.IntType(32), 4)


class Float32x4(types.Type):
    """Numba type of a four-lane float32 vector register."""

    def __init__(self):
        super().__init__(name="float32x4")


float32x4 = Float32x4()


@register_model(Float32x4)
class _Float32x4Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VEC_F32)


def _check_source(src, index):
    if not (isinstance(src, types.Array) and src.ndim == 1 and src.layout == "C"
            and src.dtype == types.int32):
        raise TypeError(f"src must be a 1-D C-contiguous int32 array, got {src}")
    if not isinstance(index, types.Integer):
        raise TypeError(f"i must be an integer, got {index}")


def _load_i32x4(context, builder, src_type, src, index_type, index, offset):
    """Four int32 at ``src[index + offset:index + offset + 4]`` as one ``<4 x i32>``."""
    data = context.make_array(src_type)(context, builder, src).data
    i = context.cast(builder, index, index_type, types.intp)
    if offset:
        i = builder.add(i, ir.Constant(i.type, offset))
    return builder.load(builder.bitcast(builder.gep(data, [i]), _VEC_I32.as_pointer()), align=4)


def _lane_adder(pairs):
    def typer(typingctx, acc, src, i):
        _check_source(src, i)

        def codegen(context, builder, sig, args):
            acc_v, src_v, i_v = args
            _, src_t, i_t = sig.args
            terms = _load_i32x4(context, builder, src_t, src_v, i_t, i_v, 0)
            if pairs:
                terms = builder.add(terms, _load_i32x4(context, builder, src_t, src_v, i_t, i_v, 4))
            return builder.fadd(acc_v, builder.sitofp(terms, _VEC_F32))

        return float32x4(float32x4, src, i), codegen
    return typer


@intrinsic
def f32x4_zeros(typingctx):
    """A register with all four lanes 0."""
    def codegen(context, builder, sig, args):
        return ir.Constant(_VEC_F32, [0.0] * 4)
    return float32x4(), codegen


@intrinsic
def f32x4_add_i32(typingctx, acc, src, i):
    """``acc + float32(src[i:i + 4])``, lane by lane."""
    return _lane_adder(pairs=False)(typingctx, acc, src, i)


@intrinsic
def f32x4_add_i32_pairs(typingctx, acc, src, i):
    """``acc + float32(src[i:i + 4] + src[i + 4:i + 8])``, lane by lane."""
    return _lane_adder(pairs=True)(typingctx, acc, src, i)


@intrinsic
def f32x4_lane(typingctx, v, i):
    """Lane ``i`` (0..3) of ``v`` as a float32."""
    if not isinstance(i, types.Integer):
        raise TypeError(f"i must be an integer, got {i}")

    def codegen(context, builder, sig, args):
        return builder.extract_element(args[0], args[1])
    return types.float32(float32x4, i), codegen


@kernel
def f32x4_sum(v):
    """The four lanes added as ``(lane0 + lane2) + (lane1 + lane3)`` (OpenCV's order)."""
    return (f32x4_lane(v, 0) + f32x4_lane(v, 2)) + (f32x4_lane(v, 1) + f32x4_lane(v, 3))
