"""Run a notebook headless, top to bottom, and store it with its outputs and figures.

Usage::

    python notebooks/execute.py notebooks/1.0-tour.ipynb [--output PATH]

Without ``--output`` the notebook is rewritten in place. Cells run with
``notebooks/`` as the working directory, in a ``python3`` kernel started with
the interpreter that runs this script (jupyter_client swaps the kernelspec's
``python`` for ``sys.executable``), so ``.venv/bin/python notebooks/execute.py``
runs the notebook in the project venv. If a cell fails, nothing is written and
the script exits with status 1 and a one-line error naming the cell.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

NOTEBOOKS_DIR = Path(__file__).resolve().parent
CELL_TIMEOUT_SECONDS = 600


class NotebookFailed(Exception):
    """A cell of the notebook raised, timed out or killed the kernel."""


def execute_notebook(path: Path, output: Path | None = None) -> Path:
    """Execute every cell of ``path`` and write the result to ``output`` (default: ``path``).

    Returns the path written. Raises :class:`NotebookFailed` naming the failing cell.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        record_timing=False,  # no timestamps in the stored notebook: reruns give clean diffs
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},  # the kernel's working directory
    )
    running: dict[str, int] = {}
    client.on_cell_start = lambda cell, cell_index: running.update(index=cell_index)
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        raise NotebookFailed(_describe_failure(path, notebook, running.get("index"), exc)) from exc
    output = output or path
    nbformat.write(notebook, output)
    return output


def _describe_failure(path: Path, notebook, index: int | None, exc: Exception) -> str:
    """One line: which cell failed (number and first source line) and why."""
    if isinstance(exc, CellExecutionError):
        reason = f"{exc.ename}: {exc.evalue}"
    elif isinstance(exc, CellTimeoutError):
        reason = f"timed out after {CELL_TIMEOUT_SECONDS} s"
    else:
        reason = f"kernel died ({exc})"
    if index is None:
        return f"{path}: {reason}"
    first_line = next((line for line in notebook.cells[index].source.splitlines() if line), "")
    return f"{path}: cell {index} ({first_line.strip()[:60]!r}) failed: {' '.join(reason.split())}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute a notebook headless and store outputs.")
    parser.add_argument("notebook", type=Path, help="the .ipynb file to run")
    parser.add_argument("--output", type=Path, help="where to write it (default: in place)")
    args = parser.parse_args(argv)
    try:
        written = execute_notebook(args.notebook, args.output)
    except NotebookFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"executed {args.notebook} -> {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
