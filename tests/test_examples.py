"""Every docstring's Examples section runs and prints what it shows (doctest over the package)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import scratchvision

MODULES = sorted(m.name for m in pkgutil.walk_packages(scratchvision.__path__, "scratchvision.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
                                  raise_on_error=False, verbose=False)
    assert failures == 0, f"{name}: {failures} example(s) failed (run python -m doctest -v on it)"
