"""The tour notebook runs top to bottom; its executed copy in reports/ carries its outputs.

Executing it fits cross-validation models and retrains once (two to three minutes),
in a temporary folder: the stored notebook is not touched by the test.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
TOUR = NOTEBOOKS_DIR / "1.0-tour.ipynb"
EXECUTED = NOTEBOOKS_DIR.parent / "reports" / "1.0-tour.ipynb"


def _load_execute_module():
    """notebooks/execute.py is a script, not a package module: import it from its path."""
    spec = importlib.util.spec_from_file_location("notebook_execute", NOTEBOOKS_DIR / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs(notebook) -> list:
    """Every output of every code cell."""
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


@pytest.mark.slow
def test_tour_notebook_executes_without_error(tmp_path: Path) -> None:
    execute = _load_execute_module()
    written = execute.execute_notebook(TOUR, tmp_path / "tour.ipynb")  # raises if a cell fails
    executed = nbformat.read(written, as_version=4)
    assert not [o for o in _outputs(executed) if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in _outputs(executed))


def test_source_notebook_has_no_outputs_and_executed_copy_has_them() -> None:
    source = nbformat.read(TOUR, as_version=4)
    assert _outputs(source) == []  # so running it never dirties the tracked source
    notebook = nbformat.read(EXECUTED, as_version=4)
    assert [c.source for c in notebook.cells] == [c.source for c in source.cells]
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code_cells]
    assert counts == list(range(1, len(code_cells) + 1)), "run `make notebook` and commit it"
    outputs = _outputs(notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
