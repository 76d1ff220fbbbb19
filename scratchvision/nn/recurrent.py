"""Recurrent layers equal to torch's ``nn.LSTM`` and ``nn.GRU`` (inference): the temporal half of a
2-D CNN + LSTM video model (Donahue et al. 2015).

Per layer and direction, the input projection of every time step is one BLAS product
(``x @ W_ih^T + b_ih`` for all T x B rows at once); only the part that depends on the previous
state, ``h @ W_hh^T``, runs step by step, in a Numba kernel with the gate arithmetic:

* LSTM (gates in torch's order i, f, g, o): ``c = sigmoid(f) * c + sigmoid(i) * tanh(g)``,
  ``h = sigmoid(o) * tanh(c)``;
* GRU (r, z, n): ``n = tanh(x_n + sigmoid(r) * (W_hn h + b_hn))``, ``h = (1 - sigmoid(z)) * n +
  sigmoid(z) * h`` (the reset gate multiplies the recurrent term including its bias, as torch).

A bidirectional layer runs a second pass from the last step to the first (``_reverse`` weights)
and concatenates the two outputs per step; the next layer reads them. State-dict keys are
torch's: ``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}[_reverse]``, ``bias_ih_l{k}[_reverse]``,
``bias_hh_l{k}[_reverse]``. Not supported: ``proj_size`` and dropout between layers (inference).

References
----------
Hochreiter, S. & Schmidhuber, J. "Long Short-Term Memory." Neural Computation 9(8), 1997.
doi:10.1162/neco.1997.9.8.1735
Cho, K. et al. "Learning Phrase Representations using RNN Encoder-Decoder for Statistical
Machine Translation." EMNLP 2014. doi:10.3115/v1/D14-1179
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import DTypeError, as_array, check_bool, check_int
from ._blas import matmul
from ._tally import tally
from .modules import Module

__all__ = ["LSTM", "GRU"]


@kernel(fastmath=True)
def _lstm_steps(xproj, w_hh_t, b_hh, h, c, reverse, out):
    """LSTM recurrence of one layer and direction: xproj (T, B, 4H) the projected inputs, h and c
    (B, H) the initial states (updated to the final ones), out (T, B, H) the hidden states."""
    steps, batch, gates = xproj.shape
    hidden = gates // 4
    for step in range(steps):
        t = steps - 1 - step if reverse else step
        pre = xproj[t] + np.dot(h, w_hh_t) + b_hh
        for b in range(batch):
            for j in range(hidden):
                i = 1.0 / (1.0 + math.exp(-pre[b, j]))
                f = 1.0 / (1.0 + math.exp(-pre[b, hidden + j]))
                g = math.tanh(pre[b, 2 * hidden + j])
                o = 1.0 / (1.0 + math.exp(-pre[b, 3 * hidden + j]))
                c[b, j] = f * c[b, j] + i * g
                h[b, j] = o * math.tanh(c[b, j])
        out[t] = h


@kernel(fastmath=True)
def _gru_steps(xproj, w_hh_t, b_hh, h, reverse, out):
    """GRU recurrence of one layer and direction: xproj (T, B, 3H) the projected inputs (with
    b_ih), h (B, H) the initial state (updated to the final one), out (T, B, H)."""
    steps, batch, gates = xproj.shape
    hidden = gates // 3
    for step in range(steps):
        t = steps - 1 - step if reverse else step
        rec = np.dot(h, w_hh_t) + b_hh
        for b in range(batch):
            for j in range(hidden):
                r = 1.0 / (1.0 + math.exp(-(xproj[t, b, j] + rec[b, j])))
                z = 1.0 / (1.0 + math.exp(-(xproj[t, b, hidden + j] + rec[b, hidden + j])))
                n = math.tanh(xproj[t, b, 2 * hidden + j] + r * rec[b, 2 * hidden + j])
                h[b, j] = (1.0 - z) * n + z * h[b, j]
        out[t] = h


class _Recurrent(Module):
    """What LSTM and GRU share: the parameters per layer and direction, input checks, the input
    projection as one product, the direction passes and the stacking of layers."""

    gates = 0  # 4 for LSTM, 3 for GRU

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", low=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", low=1)
        self.num_layers = check_int(num_layers, "num_layers", low=1)
        self.bias = check_bool(bias, "bias")
        self.batch_first = check_bool(batch_first, "batch_first")
        self.bidirectional = check_bool(bidirectional, "bidirectional")
        self.dropout = dropout  # training only
        directions = 2 if self.bidirectional else 1
        g, hs = self.gates * self.hidden_size, self.hidden_size
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else hs * directions
            for suffix in ("", "_reverse")[:directions]:
                self.register(f"weight_ih_l{layer}{suffix}", np.zeros((g, width), np.float32))
                self.register(f"weight_hh_l{layer}{suffix}", np.zeros((g, hs), np.float32))
                if self.bias:
                    self.register(f"bias_ih_l{layer}{suffix}", np.zeros(g, np.float32))
                    self.register(f"bias_hh_l{layer}{suffix}", np.zeros(g, np.float32))

    def _state(self, value, name, batch):
        shape = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if value is None:
            return np.zeros(shape, np.float32)
        a = as_array(value, name)
        if a.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (layers x directions, batch, hidden_size), got {a.shape}")
        if a.dtype != np.float32:
            raise DTypeError(f"{name} must be float32, got {a.dtype}")
        return a

    def _input(self, x):
        x = as_array(x, "input")
        if x.dtype != np.float32:
            raise DTypeError(f"input must be float32, got {x.dtype}")
        if x.ndim == 2:  # unbatched (T, input_size), as torch accepts
            x = x[:, None] if not self.batch_first else x[None]
        if x.ndim != 3 or x.shape[2] != self.input_size:
            layout = "(B, T, input_size)" if self.batch_first else "(T, B, input_size)"
            raise ValueError(f"input must have shape {layout} with input_size {self.input_size}, got {x.shape}")
        return np.ascontiguousarray(x.transpose(1, 0, 2) if self.batch_first else x)

    def _run(self, x, states):
        """Every layer on x (T, B, I): the last layer's output (T, B, D H) and the final states
        (one array per state kind, (layers x directions, B, H))."""
        steps, batch, _ = x.shape
        directions = 2 if self.bidirectional else 1
        finals = [s.copy() for s in states]
        for layer in range(self.num_layers):
            out = np.empty((steps, batch, directions * self.hidden_size), np.float32)
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                w_ih = self._params[f"weight_ih_l{layer}{suffix}"]
                xproj = np.empty((steps * batch, w_ih.shape[0]), np.float32)
                matmul(x.reshape(steps * batch, -1), w_ih.T, xproj)
                tally(xproj.size * (x.shape[2] + self.hidden_size))  # x W_ih^T now, h W_hh^T step by step
                if self.bias:
                    xproj += self._params[f"bias_ih_l{layer}{suffix}"]
                b_hh = self._params[f"bias_hh_l{layer}{suffix}"] if self.bias else np.zeros(w_ih.shape[0], np.float32)
                w_hh_t = np.ascontiguousarray(self._params[f"weight_hh_l{layer}{suffix}"].T)
                index = layer * directions + d
                hidden = np.empty((steps, batch, self.hidden_size), np.float32)
                self._steps(xproj.reshape(steps, batch, -1), w_hh_t, b_hh, [f[index] for f in finals], d == 1, hidden)
                out[:, :, d * self.hidden_size:(d + 1) * self.hidden_size] = hidden
            x = out
        return x, finals

    def _output(self, out, unbatched):
        out = out.transpose(1, 0, 2) if self.batch_first else out
        return np.ascontiguousarray(out[0] if unbatched and self.batch_first else out[:, 0] if unbatched else out)


class LSTM(_Recurrent):
    """torch.nn.LSTM (inference): ``LSTM(input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``.

    ``model(input, (h_0, c_0)=None)`` -> ``(output, (h_n, c_n))``: input (T, B, input_size), or
    (B, T, input_size) with ``batch_first``, or unbatched (T, input_size); output (T, B, D *
    hidden_size) in the same layout; h_n and c_n (num_layers * D, B, hidden_size).

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int
    bias : bool
    batch_first : bool
        Input and output (B, T, features) instead of (T, B, features).
    dropout : float
        Kept for torch's signature (inactive at inference).
    bidirectional : bool

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import LSTM
    >>> out, (h, c) = LSTM(4, 3, num_layers=2, bidirectional=True)(np.zeros((5, 2, 4), np.float32))
    >>> out.shape, h.shape
    ((5, 2, 6), (4, 2, 3))
    """

    gates = 4

    def _steps(self, xproj, w_hh_t, b_hh, states, reverse, out):
        h, c = (np.ascontiguousarray(s) for s in states)
        _lstm_steps(xproj, w_hh_t, b_hh, h, c, reverse, out)
        states[0][...], states[1][...] = h, c

    def forward(self, input, hx=None):
        unbatched = as_array(input, "input").ndim == 2
        x = self._input(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"hx must be a pair (h_0, c_0) for an LSTM, got {type(hx).__name__}")
        h0, c0 = (None, None) if hx is None else hx
        states = [self._state(h0, "hx[0] (h_0)", x.shape[1]), self._state(c0, "hx[1] (c_0)", x.shape[1])]
        out, (h, c) = self._run(x, states)
        if unbatched:
            h, c = h[:, 0], c[:, 0]
        return self._output(out, unbatched), (h, c)


class GRU(_Recurrent):
    """torch.nn.GRU (inference), arguments as :class:`LSTM`; ``model(input, h_0=None)`` ->
    ``(output, h_n)``.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int
    bias : bool
    batch_first : bool
        Input and output (B, T, features) instead of (T, B, features).
    dropout : float
        Kept for torch's signature (inactive at inference).
    bidirectional : bool

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import GRU
    >>> out, h = GRU(4, 3, batch_first=True)(np.zeros((2, 5, 4), np.float32))
    >>> out.shape, h.shape
    ((2, 5, 3), (1, 2, 3))
    """

    gates = 3

    def _steps(self, xproj, w_hh_t, b_hh, states, reverse, out):
        h = np.ascontiguousarray(states[0])
        _gru_steps(xproj, w_hh_t, b_hh, h, reverse, out)
        states[0][...] = h

    def forward(self, input, hx=None):
        unbatched = as_array(input, "input").ndim == 2
        x = self._input(input)
        out, (h,) = self._run(x, [self._state(hx, "hx", x.shape[1])])
        return self._output(out, unbatched), (h[:, 0] if unbatched else h)


@warmup_hook
def _warmup():
    x = np.zeros((2, 1, 3), np.float32)
    LSTM(3, 2, bidirectional=True)(x)
    GRU(3, 2)(x)
