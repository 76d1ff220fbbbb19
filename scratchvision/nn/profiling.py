"""What a network costs, layer by layer: :func:`profile`, this library's torchinfo / fvcore.

While the model runs, every module call is recorded with its output shape, its parameters, the
multiply-adds of the operations inside it (each convolution, linear layer, attention, recurrence
and correlation counts the multiply-adds its shapes imply, as torch's ``FlopCounterMode`` counts;
its "FLOPs" are twice these) and its measured time. Rows nest as the modules do, and a parent's
figures include its children's.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_array, check_int
from . import _scratch
from ._split import whole_batch
from ._tally import counting
from .modules import Module

__all__ = ["profile", "Profile", "LayerProfile"]

#: state-dict entries that are statistics, not learned parameters (torch's buffers)
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


@dataclass
class LayerProfile:
    """One module call: dotted name (the state-dict prefix; the model's class name for the whole),
    class, nesting depth, output shape, parameters held, multiply-adds and seconds (median over
    the timed runs), the last two including the module's children.

    Attributes
    ----------
    name, kind : str
    depth : int
    output_shape : tuple
    params, macs : int
    seconds : float
    """

    name: str
    kind: str
    depth: int
    output_shape: tuple
    params: int
    macs: int
    seconds: float


@dataclass
class Profile:
    """:func:`profile`'s answer: the rows in call order, and the totals of the whole model.

    Attributes
    ----------
    model : str
    input_shape : tuple
    layers : list of LayerProfile
    params, macs : int
        Totals.
    seconds : float
        The whole forward's median time.
    peak_bytes : int
        Peak memory allocated during the forward.
    """

    model: str
    input_shape: tuple
    layers: list = field(default_factory=list)
    params: int = 0
    macs: int = 0
    seconds: float = 0.0
    peak_bytes: int = 0

    def table(self, max_depth: int | None = None) -> str:
        """The rows down to ``max_depth`` (0: the model alone; None: all) as aligned text, then the
        totals."""
        rows = [r for r in self.layers if max_depth is None or r.depth <= max_depth]
        cells = [("layer", "type", "output", "params", "MACs", "ms")]
        cells += [("  " * r.depth + r.name, r.kind, "x".join(map(str, r.output_shape)), f"{r.params:,}",
                   f"{r.macs:,}", f"{1e3 * r.seconds:.2f}") for r in rows]
        widths = [max(len(c[i]) for c in cells) for i in range(6)]
        lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                 for row in cells]
        lines.insert(1, "-" * len(lines[0]))
        lines += ["-" * len(lines[0]),
                  f"{self.model} on {'x'.join(map(str, self.input_shape))}: {self.params:,} parameters, "
                  f"{self.macs / 1e9:.3f} GMACs, {1e3 * self.seconds:.1f} ms, "
                  f"peak memory {self.peak_bytes / 2**20:.1f} MiB"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_csv(self, path=None) -> str:
        """The rows as CSV text (one header line, one line per row, seconds in full precision);
        also written to ``path`` when given."""
        lines = ["name,type,depth,output_shape,params,macs,seconds"]
        lines += [f"{r.name},{r.kind},{r.depth},{'x'.join(map(str, r.output_shape))},{r.params},{r.macs},{r.seconds!r}"
                  for r in self.layers]
        text = "\n".join(lines) + "\n"
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text


def parameter_count(module: Module) -> int:
    """Learned values held by ``module`` and its children (batch-norm statistics excluded)."""
    return sum(v.size for k, v in module.state_dict().items() if not k.endswith(BUFFERS))


def _first_array(output):
    """The array a module returned (the first one of a tuple, e.g. an LSTM's output, a
    classifier's logits)."""
    while isinstance(output, (tuple, list)) and output:
        output = output[0]
    return output if isinstance(output, np.ndarray) else np.empty(0)


class _Recorder:
    """Wraps ``Module.__call__`` for one run: a record per call (its name, depth, output shape,
    multiply-adds and seconds)."""

    def __init__(self, model):
        self.names = {id(m): name.rstrip(".") or type(model).__name__ for name, m in model.named_modules()}
        self.records = []
        self.depth = 0

    def __enter__(self):
        self.original = Module.__call__
        recorder = self

        def call(module, *args, **kwargs):
            record = [recorder.names.get(id(module), type(module).__name__), module, recorder.depth]
            recorder.records.append(record)
            recorder.depth += 1
            macs, start = counting.total(), time.perf_counter()
            try:
                output = recorder.original(module, *args, **kwargs)
            finally:
                recorder.depth -= 1
            record += [time.perf_counter() - start, counting.total() - macs, _first_array(output).shape]
            return output

        Module.__call__ = call
        return self

    def __exit__(self, *exc):
        Module.__call__ = self.original


def profile(model, input_shape=None, *, input_data=None, repeat: int = 3, seed: int = 0) -> Profile:
    """Per layer: output shape, parameters, multiply-adds and time, and the model's totals with
    its peak memory (what torchinfo's ``summary`` and fvcore's counters give torch users).

    The model runs once untimed (kernels compile, buffers grow), ``repeat`` times timed (each row's
    time is the median, including its children), and once more with ``tracemalloc`` for the peak
    memory: the most that NumPy held at once during the forward, above the input, with the
    reused scratch buffers counted as freshly allocated. Multiply-adds are counted from each
    operation's shapes (a convolution's ``N C_out T' H' W' (C_in / groups) kT kH kW``, a linear
    layer's ``rows in out``, attention's two products, an LSTM's ``T B 4H (I + H)`` per layer and
    direction, RAFT's correlation); element-wise layers (norms, activations, pooling) count 0, as
    in torch's ``FlopCounterMode``, whose FLOPs are twice these counts. A network that shares a
    batch among threads (the ReID networks) runs it whole on this thread here, so that each layer
    is called, and recorded, once per run; loops inside the layers run on this thread too.

    Parameters
    ----------
    model : Module
        Any network of :mod:`scratchvision.nn`, weights loaded or not (the counts do not depend on
        them).
    input_shape : tuple of int, optional
        The input's shape in the model's layout (e.g. (1, 3, 16, 112, 112) for r3d_18, (T, B, I)
        for an LSTM); the input is seeded standard-normal float32. Give this or ``input_data``.
    input_data : ndarray, optional
        The input itself, for a model whose values matter (e.g. RAFT's pair as a tuple
        ``(image1, image2)``, unpacked into the call).
    repeat : int
        Timed runs.
    seed : int
        Seed of the random input.

    Returns
    -------
    Profile
        ``layers`` (one :class:`LayerProfile` per module call, in call order; a module called
        twice has two rows; where a module multiplies in its own code beside its children, a
        row "NAME (own operations)" after them holds the rest, so children add up to their
        parent), totals ``params``, ``macs``, ``seconds``, ``peak_bytes``;
        ``table(max_depth)`` and ``str()`` print it, ``to_csv(path)`` writes it.

    References
    ----------
    Multiply-adds of convolutions as counted by He & Sun, "Convolutional neural networks at
    constrained time cost", CVPR 2015, doi:10.1109/CVPR.2015.7299173.

    Examples
    --------
    >>> from scratchvision import nn
    >>> p = nn.profile(nn.LSTM(8, 16), (10, 2, 8), repeat=1)
    >>> p.params, p.macs  # 4 gates x 16 x (8 + 16 + 2 biases); 10 x 2 x 64 x (8 + 16)
    (1664, 30720)
    >>> print(p.to_csv().splitlines()[1].rsplit(",", 1)[0])
    LSTM,LSTM,0,10x2x16,1664,30720
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a scratchvision.nn Module, got {type(model).__name__}")
    repeat = check_int(repeat, "repeat", low=1)
    if (input_shape is None) == (input_data is None):
        raise ValueError("give one of input_shape (a random input of that shape) and input_data")
    if input_data is None:
        if not isinstance(input_shape, (tuple, list)) or not input_shape:
            raise ValueError(f"input_shape must be a tuple of sizes, got {type(input_shape).__name__}"
                             + (f" of shape {input_shape.shape} (pass the input as input_data)"
                                if isinstance(input_shape, np.ndarray) else f" {input_shape!r}"))
        shape = tuple(check_int(s, "input_shape", low=1) for s in input_shape)
        rng = np.random.default_rng(check_int(seed, "seed"))
        inputs = (rng.standard_normal(shape, dtype=np.float32),)
    else:
        inputs = tuple(as_array(a, "input_data") for a in input_data) if isinstance(input_data, tuple) \
            else (as_array(input_data, "input_data"),)
    with whole_batch():  # every layer called once per run, on this thread
        model(*inputs)  # compile and grow the scratch buffers, untimed
        runs = []
        for _ in range(repeat):
            with _Recorder(model) as recorder, counting():
                model(*inputs)
            runs.append(recorder.records)
        peak = _peak_bytes(model, inputs)
    rows = [LayerProfile(name, type(module).__name__, depth, tuple(shape), parameter_count(module), macs,
                         float(np.median([run[i][3] for run in runs])))
            for i, (name, module, depth, _, macs, shape) in enumerate(runs[0])]
    rows = _with_own_operations(rows)
    return Profile(type(model).__name__, inputs[0].shape, rows, parameter_count(model), rows[0].macs,
                   rows[0].seconds, peak)


def _with_own_operations(rows):
    """``rows`` with, after the children of each module that also multiplies in its own code (a
    transformer's attention products, RAFT's correlation), a row "NAME (own operations)" holding
    the multiply-adds and time outside its children: so that every module's children add up to it."""
    out, open_rows = [], []  # open_rows: (row, children's MACs, children's seconds), the current ancestry

    def close(until_depth):
        while open_rows and open_rows[-1][0].depth >= until_depth:
            row, macs, seconds = open_rows.pop()
            if row.macs > macs and (macs or seconds):  # work of its own beside its children
                out.append(LayerProfile(f"{row.name} (own operations)", "-", row.depth + 1, (), 0, row.macs - macs,
                                        max(row.seconds - seconds, 0.0)))

    for row in rows:
        close(row.depth)
        if open_rows:
            parent = open_rows[-1]
            open_rows[-1] = (parent[0], parent[1] + row.macs, parent[2] + row.seconds)
        out.append(row)
        open_rows.append((row, 0, 0.0))
    close(0)
    return out


def _peak_bytes(model, inputs) -> int:
    """The most NumPy holds at once while ``model`` runs on ``inputs`` (scratch buffers included)."""
    _scratch.release()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    model(*inputs)
    peak = tracemalloc.get_traced_memory()[1] - base
    if not tracing:
        tracemalloc.stop()
    return int(peak)
