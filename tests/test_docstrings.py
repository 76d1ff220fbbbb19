"""Every public function and class documents its parameters, numpydoc style, as its signature has
them (the same names; numpydoc's grouped lines ``a, b : int`` may list them out of order), and
says what it returns (unless annotated ``-> None``): the check stumpy runs on its docstrings."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

import scratchvision as sv

SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}\s*$", re.M)


def _sections(doc: str) -> dict[str, str]:
    """numpydoc sections of a (dedented) docstring, by title."""
    heads = list(SECTION.finditer(doc))
    return {m.group(1).strip(): doc[m.end():heads[i + 1].start() if i + 1 < len(heads) else len(doc)]
            for i, m in enumerate(heads)}


def _documented(section: str) -> list[str]:
    """Parameter names of a Parameters section: the unindented lines ``name : type`` (or
    ``a, b : type``, or a bare name)."""
    names = []
    for line in section.splitlines():
        if not line.strip() or line.startswith((" ", "\t")):
            continue
        head = line.split(" : ")[0].strip()
        names += [n.strip().lstrip("*") for n in head.split(",") if n.strip()]
    return names


def _public():
    """(qualified name, object) of every public function and class of the subpackages."""
    seen = set()
    for sub in sv._SUBMODULES:
        if sub == "cli":
            continue
        module = importlib.import_module(f"scratchvision.{sub}")
        for name in module.__all__:
            obj = getattr(module, name)
            obj = getattr(obj, "py_func", obj)  # a Numba kernel's Python function
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{sub}.{name}", obj


def _parameters(obj) -> list[str]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [p for p in signature.parameters if p not in ("self", "cls")]


def _problem(obj) -> str | None:
    """What the docstring lacks, or None."""
    doc = inspect.getdoc(obj) or ""
    sections = _sections(doc)
    params = _parameters(obj)
    if inspect.isclass(obj) and (obj.__init__ is object.__init__ or issubclass(obj, BaseException)):
        params = []
    if params and "Parameters" not in sections and not (inspect.isclass(obj) and "Attributes" in sections):
        return "no Parameters section"
    returns_none = not inspect.isclass(obj) and inspect.signature(obj).return_annotation in (None, "None")
    if not inspect.isclass(obj) and not returns_none and not ({"Returns", "Yields"} & set(sections)):
        return "no Returns section"
    return None


PUBLIC = dict(_public())


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_documented_parameters_match_the_signature(name):
    obj = PUBLIC[name]
    section = _sections(inspect.getdoc(obj) or "").get("Parameters")
    if section is None:
        return
    documented = _documented(section)
    actual = _parameters(obj)
    assert len(documented) == len(set(documented)), f"{name}: a parameter is documented twice: {documented}"
    assert set(documented) == set(actual), \
        f"{name}: documented {sorted(set(documented) - set(actual))} not in the signature, " \
        f"undocumented {sorted(set(actual) - set(documented))}"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_functions_have_parameters_and_returns(name):
    problem = _problem(PUBLIC[name])
    assert problem is None, f"{name}: {problem}"
