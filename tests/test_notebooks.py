"""The notebooks in notebooks/ run top to bottom on this install (nbclient, a fresh kernel each,
working directory notebooks/), and are committed without outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED_DATA, require, shared_path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: the ../shared/data folders each notebook reads
NEEDS = {"01_dense_vs_sparse_flow": "flow", "03_temporal_stride": "video", "04_deepsort_step_by_step": "mot15"}


def test_there_are_five_notebooks_without_outputs():
    nbformat = require("nbformat")
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.stem[:2] for p in paths] == ["01", "02", "03", "04", "05"]
    for path in paths:
        cells = nbformat.read(path, as_version=4).cells
        code = [c for c in cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code), path.name
        assert cells[-2].cell_type == "markdown" and "measured answer" in cells[-2].source, path.name


@pytest.mark.parametrize("name", sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs(name, monkeypatch):
    nbformat, nbclient = require("nbformat"), require("nbclient")
    if name in NEEDS:
        shared_path(NEEDS[name])
    monkeypatch.setenv("SCRATCHVISION_SHARED_DATA", str(SHARED_DATA))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError on any error
    last = notebook.cells[-1]
    text = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream")
    assert text.strip(), f"{name}: the measured answer printed nothing"
