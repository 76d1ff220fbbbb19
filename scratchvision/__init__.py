"""scratchvision: video and temporal vision algorithms from scratch in NumPy + Numba.

Every algorithm is checked against a trusted reference (OpenCV, SciPy, filterpy, the original
trackers, motmetrics/TrackEval, PyTorch). The user-level names are re-exported here lazily (PEP
562): the first list of each subpackage's ``__all__``, the names a user reaches for (model
internals and kernel-level helpers, added to ``__all__`` after it, stay in the subpackage).
``import scratchvision`` imports no submodule, compiles no kernel and imports none of matplotlib,
imageio or cv2; each name is imported on first access, and each kernel compiles on first call
(then comes from Numba's on-disk cache). ``scratchvision.warmup()`` compiles everything ahead.
"""

from __future__ import annotations

import ast
import functools
import importlib
import pathlib

__version__ = "0.1.0"

#: The subpackages (and the three single-module ones: data, boxes, cache), in the layering order.
_SUBMODULES = ("data", "imgproc", "features", "flow", "io", "viz", "assignment", "kalman", "boxes", "tracking", "sot",
               "metrics", "nn", "batch", "cache", "cli")


def _top_level(path: pathlib.Path) -> list[str]:
    """The user-level names of a subpackage: the first ``__all__ = [...]`` list of its source (the
    names it adds with ``__all__ += [...]`` stay in the subpackage)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            return ast.literal_eval(node.value)
    return []


@functools.cache
def _exports() -> dict[str, str]:
    """Top-level name -> the subpackage that defines it, read from the sources so that no
    subpackage is imported before one of its names is used."""
    here = pathlib.Path(__file__).parent
    exports = {}
    for sub in _SUBMODULES:
        for name in _top_level(here / sub / "__init__.py" if (here / sub).is_dir() else here / f"{sub}.py"):
            if name in exports:
                raise ImportError(f"scratchvision.{name} is exported by both {exports[name]} and {sub}")
            exports[name] = sub
    return exports


def __getattr__(name):
    if name == "__all__":
        return sorted(_exports()) + ["__version__"]
    if name in _exports():
        value = getattr(importlib.import_module(f".{_exports()[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'scratchvision' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_exports()) | set(_SUBMODULES))
