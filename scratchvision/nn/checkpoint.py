"""Reading PyTorch and safetensors checkpoints without torch.

* ``.pth`` / ``.pt`` in torch's zip format (``torch.save`` since 1.6): ``<archive>/data.pkl`` is a
  pickle whose tensors point, through persistent ids ``('storage', type, key, location, numel)``,
  at raw little-endian buffers ``<archive>/data/<key>``;
* the legacy format (``_use_new_zipfile_serialization=False``): a magic-number pickle, the protocol
  version, system info, the main pickle, the list of storage keys, then each storage as an int64
  element count followed by its bytes;
* ``.safetensors``: an 8-byte little-endian header length, a JSON header ``{name: {dtype, shape,
  data_offsets}}`` and the buffer.

Pickles are read by a restricted unpickler: it resolves only the names a state_dict needs
(``collections.OrderedDict``, torch's tensor-rebuild helpers and storage types, all mapped to
stand-ins here) and refuses any other global, so a malicious file cannot run code. Checkpoints
that wrap the weights (``{"state_dict": ...}``, ``{"model": ...}``) and ``module.`` prefixes left by
DataParallel are unwrapped.

The torchvision files this package's networks load: ``r3d_18-b3b3357e.pth``,
``mc3_18-a90a0ba3.pth``, ``r2plus1d_18-91a641e6.pth`` (Kinetics-400), ``resnet18-f37072fd.pth``,
``resnet50-0676ba61.pth`` / ``resnet50-11ad3fa6.pth`` (ImageNet); their keys are exactly the
models' ``state_dict()`` keys (e.g. ``stem.0.weight``, ``layer1.0.conv1.0.weight``,
``layer1.0.conv1.1.running_var``, ``fc.weight``).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np

__all__ = ["load_checkpoint", "unwrap_state_dict"]

_STORAGE_DTYPES = {"FloatStorage": np.float32, "HalfStorage": np.float16, "BFloat16Storage": "bfloat16",
                   "DoubleStorage": np.float64, "LongStorage": np.int64, "IntStorage": np.int32,
                   "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
                   "BoolStorage": np.bool_}
_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": "bfloat16", "F64": np.float64, "I64": np.int64,
                       "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Storage:
    """A storage read from the file (``flat``: its elements as a 1-D array), filled lazily."""

    def __init__(self, key, storage_type):
        self.key = key
        self.type = storage_type
        self.flat = None


class _PendingTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    return _PendingTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, *_ignored):
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only what a state_dict holds; any other global is refused."""

    _ALLOWED = {("collections", "OrderedDict"): OrderedDict,
                ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
                ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
                ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
                ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter}

    def __init__(self, file, name, storages):
        super().__init__(file)
        self.name = name
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return self._ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"{self.name}: refusing to load {module}.{name}: a state_dict needs only "
                                     "tensors, storages and OrderedDict")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"{self.name}: unsupported persistent id {pid!r}")
        key = str(pid[2])
        if key not in self.storages:
            self.storages[key] = _Storage(key, pid[1])
        return self.storages[key]


def _as_array(raw: bytes, dtype):
    if dtype == "bfloat16":  # the top 16 bits of a float32
        bits = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
        return bits.view(np.float32)
    return np.frombuffer(raw, np.dtype(dtype).newbyteorder("<")).astype(dtype)


def _materialise(obj, name):
    """Replace pending tensors (recursively in dicts, lists, tuples) by arrays."""
    if isinstance(obj, _PendingTensor):
        flat = obj.storage.flat
        if flat is None:
            raise ValueError(f"{name}: storage {obj.storage.key} has no data (truncated file?)")
        if not obj.size:
            return flat[obj.offset:obj.offset + 1].reshape(()).copy()
        extent = obj.offset + sum((s - 1) * st for s, st in zip(obj.size, obj.stride)) + 1
        if obj.offset < 0 or any(st < 0 for st in obj.stride) or extent > flat.size:
            raise ValueError(f"{name}: a tensor of shape {obj.size} reaches past its storage "
                             f"{obj.storage.key} ({flat.size} elements): corrupted or truncated file")
        view = np.lib.stride_tricks.as_strided(flat[obj.offset:], obj.size,
                                               [s * flat.itemsize for s in obj.stride])
        return np.array(view)
    if isinstance(obj, dict):
        return type(obj)((k, _materialise(v, name)) for k, v in obj.items()) if isinstance(obj, OrderedDict) \
            else {k: _materialise(v, name) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(v, name) for v in obj)
    return obj


def _load_zip(path, name):
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("data.pkl")]
        if not pkl:
            raise ValueError(f"{name}: a zip file without data.pkl is not a torch checkpoint")
        prefix = pkl[0][:-len("data.pkl")]
        storages = {}
        obj = _RestrictedUnpickler(io.BytesIO(zf.read(pkl[0])), name, storages).load()
        for key, st in storages.items():
            try:
                raw = zf.read(f"{prefix}data/{key}")
            except KeyError:
                raise ValueError(f"{name}: storage {key} is missing from the archive") from None
            st.flat = _as_array(raw[:len(raw) - len(raw) % np.dtype(_itemsize_dtype(st.type.dtype)).itemsize],
                                st.type.dtype)
    return _materialise(obj, name)


def _itemsize_dtype(dtype):
    return np.uint16 if dtype == "bfloat16" else dtype


def _load_legacy(path, name):
    with open(path, "rb") as f:
        storages = {}

        def load():
            return _RestrictedUnpickler(f, name, storages).load()

        if load() != _LEGACY_MAGIC:
            raise ValueError(f"{name}: not a torch checkpoint (no zip archive, no legacy magic number)")
        load()  # protocol version
        load()  # system info
        obj = load()
        keys = load()
        for key in keys:
            st = storages.get(str(key))
            if st is None:
                raise ValueError(f"{name}: storage {key} is listed but never used")
            header = f.read(8)
            if len(header) < 8:
                raise ValueError(f"{name}: truncated before storage {key}")
            (count,) = struct.unpack("<q", header)
            size = np.dtype(_itemsize_dtype(st.type.dtype)).itemsize
            raw = f.read(count * size)
            if count < 0 or len(raw) != count * size:
                raise ValueError(f"{name}: storage {key} is truncated ({len(raw)} of {count * size} bytes)")
            st.flat = _as_array(raw, st.type.dtype)
    return _materialise(obj, name)


def _load_safetensors(path, name):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{name}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"{name}: header length {n} exceeds the file")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{name}: unreadable safetensors header ({exc})") from None
    buf = data[8 + n:]
    out = OrderedDict()
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype = _SAFETENSORS_DTYPES[info["dtype"]]
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(v) for v in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{name}: tensor {key!r} has an unsupported or malformed entry {info!r}") from None
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(_itemsize_dtype(dtype)).itemsize
        if not (0 <= begin <= end <= len(buf)) or end - begin != size:
            raise ValueError(f"{name}: tensor {key!r} ({shape}, {info['dtype']}) does not fit its byte range "
                             f"[{begin}, {end}) of a {len(buf)}-byte buffer: corrupted or truncated file")
        out[key] = _as_array(buf[begin:end], dtype).reshape(shape)
    return out


def unwrap_state_dict(obj) -> OrderedDict:
    """The state_dict inside a loaded checkpoint: the object itself, or its ``state_dict`` /
    ``model`` / ``model_state_dict`` entry; ``module.`` prefixes removed; non-array entries dropped.
    Floating arrays become float32, integer ones (``num_batches_tracked``) stay integers.

    Parameters
    ----------
    obj : dict
        What a checkpoint file held.

    Returns
    -------
    OrderedDict of str -> ndarray
    """
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise ValueError(f"obj (the checkpoint) holds a {type(obj).__name__}, not a state_dict")
    arrays = OrderedDict((str(k), v) for k, v in obj.items() if isinstance(v, np.ndarray))
    if arrays and all(k.startswith("module.") for k in arrays):
        arrays = OrderedDict((k[len("module."):], v) for k, v in arrays.items())
    return OrderedDict((k, v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in arrays.items())


def save_safetensors(path, state_dict) -> None:
    """Write ``{name: array}`` as a ``.safetensors`` file (float32, float16 and int64 arrays kept as
    they are, other floats as float32): an 8-byte little-endian header length, the JSON header
    ``{name: {dtype, shape, data_offsets}}`` and the raw little-endian data, in the order given.

    Parameters
    ----------
    path : str or os.PathLike
    state_dict : dict of str -> array-like

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from scratchvision.nn import save_safetensors, load_checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_safetensors(path, {"fc.weight": np.eye(2, dtype=np.float32)})
    >>> load_checkpoint(path)["fc.weight"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    codes = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}
    header, chunks, offset = {}, [], 0
    for key, value in state_dict.items():
        a = np.asarray(value)
        if a.dtype not in codes:
            if a.dtype.kind != "f":
                raise ValueError(f"state_dict[{key!r}]: dtype {a.dtype} is not float32, float16 or int64")
            a = a.astype(np.float32)
        raw = np.ascontiguousarray(a, a.dtype.newbyteorder("<")).tobytes()
        header[key] = {"dtype": codes[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for chunk in chunks:
            f.write(chunk)


def load_checkpoint(path) -> OrderedDict:
    """Read a checkpoint into ``{name: ndarray}`` (float32; integer buffers as integers).

    Parameters
    ----------
    path : str or os.PathLike
        A torch ``.pth``/``.pt`` (zip or legacy format) or a ``.safetensors`` file.

    Returns
    -------
    OrderedDict of str -> ndarray

    Raises
    ------
    ValueError
        Naming the file: not a checkpoint, corrupted or truncated, or a pickle that asks for
        anything but tensors (which is refused without running it).
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f"checkpoint {name!r} does not exist")
    try:
        if zipfile.is_zipfile(name):
            obj = _load_zip(name, name)
        elif name.endswith(".safetensors"):
            obj = _load_safetensors(name, name)
        else:
            obj = _load_legacy(name, name)
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, struct.error, AttributeError, ImportError,
            IndexError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: unreadable checkpoint ({type(exc).__name__}: {exc})") from None
    return unwrap_state_dict(obj)
