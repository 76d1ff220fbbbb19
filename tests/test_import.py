"""import scratchvision is cheap: it imports no heavy library and compiles no kernel."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout


def test_import_loads_no_heavy_module():
    code = (
        "import sys, json, scratchvision\n"
        "heavy = ['cv2', 'matplotlib', 'imageio', 'torch', 'scipy', 'numba']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    assert json.loads(_run(code)) == []


def test_submodules_compile_nothing_and_import_no_plotting():
    """Importing every module (as warm-up does) defines kernels without compiling any."""
    code = (
        "import sys, json, importlib, pkgutil, numba, scratchvision\n"
        "from numba.core.registry import CPUDispatcher\n"
        "compiled, kernels = [], 0\n"
        "for m in pkgutil.walk_packages(scratchvision.__path__, 'scratchvision.'):\n"
        "    mod = importlib.import_module(m.name)\n"
        "    for name, obj in vars(mod).items():\n"
        "        if isinstance(obj, CPUDispatcher):\n"
        "            kernels += 1\n"
        "            if obj.signatures: compiled.append(m.name + '.' + name)\n"
        "print(json.dumps({'compiled': compiled, 'kernels': kernels,\n"
        "                  'heavy': [h for h in ('cv2', 'matplotlib', 'imageio') if h in sys.modules]}))\n"
    )
    result = json.loads(_run(code))
    assert result["kernels"] > 0
    assert result["compiled"] == []
    assert result["heavy"] == []


def test_import_time_budget():
    """scratchvision adds < 0.3 s to numpy + numba's own import (best of 5 fresh interpreters)."""
    code = (
        "import time; t0 = time.perf_counter(); import numpy, numba; t1 = time.perf_counter()\n"
        "import scratchvision, scratchvision.data, scratchvision.flow, scratchvision.io, scratchvision.viz\n"
        "t2 = time.perf_counter(); print(t1 - t0, t2 - t1)\n"
    )
    extra = min(float(_run(code).split()[1]) for _ in range(5))
    assert extra < 0.3, f"importing scratchvision took {extra:.3f} s beyond numpy + numba"


def test_lazy_namespace_resolves_every_export():
    import scratchvision

    for name in scratchvision.__all__:
        assert getattr(scratchvision, name) is not None, name
    assert set(scratchvision.__all__) <= set(dir(scratchvision))
    with pytest.raises(AttributeError, match="no attribute"):
        scratchvision.not_a_function


def test_top_level_names_are_the_subpackages_first_all_list():
    """The public names are written once, in the subpackages: the top level exports exactly the
    first ``__all__`` list of each (the user-level names), each the same object as in its
    subpackage; the names a subpackage adds after it stay there."""
    import scratchvision

    exports = scratchvision._exports()
    for name, sub in exports.items():
        module = importlib.import_module(f"scratchvision.{sub}")
        assert name in module.__all__, (sub, name)
        assert getattr(scratchvision, name) is getattr(module, name), name
    assert sorted(scratchvision.__all__) == sorted(set(exports) | {"__version__"})
    for sub, internal in (("kalman", "xyah_process_noise"), ("kalman", "CHI2INV95"), ("flow", "poly_expansion_basis"),
                          ("imgproc", "reflect101"), ("boxes", "convert_kernel")):
        assert internal in importlib.import_module(f"scratchvision.{sub}").__all__
        assert internal not in scratchvision.__all__


def test_no_module_is_hidden_by_a_name():
    """Every module is reachable as the attribute of its package that its name says: no function
    or class of the package has a module's name (``sot.fhog`` the function would hide
    ``sot/fhog.py``)."""
    import pkgutil

    import scratchvision

    for info in pkgutil.walk_packages(scratchvision.__path__, "scratchvision."):
        parent, _, child = info.name.rpartition(".")
        module = importlib.import_module(info.name)
        assert getattr(importlib.import_module(parent), child) is module, info.name
