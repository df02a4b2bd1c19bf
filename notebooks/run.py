"""Execute every notebook in this folder headless (``make notebooks``).

The percent scripts (``NN_name.py``) are the reviewed source; each is paired with ``NN_name.ipynb``
(jupytext). This checks that the pair is in sync, runs the notebook with nbclient in this folder (so
the charts land beside the dataset they show, in ``<dataset>-figures/``), and writes the executed copy to
``<dataset>-figures/executed/``. It exits non-zero
when a pair is out of sync, a cell fails, or a notebook wrote no chart.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
TIMEOUT_SECONDS = 300


def _sources(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def check_pair(script: Path) -> str | None:
    paired = script.with_suffix(".ipynb")
    if not paired.exists():
        return f"{paired.name} is missing: run `jupytext --sync {script.name}` in notebooks/"
    if _sources(jupytext.read(script)) != _sources(nbformat.read(paired, as_version=4)):
        return f"{paired.name} and {script.name} differ: run `jupytext --sync {script.name}` in notebooks/"
    return None


def figures_folder() -> Path:
    """Beside the dataset the charts are drawn from: ``<dataset>-figures`` (or $OGI_FIGURES)."""
    dataset = Path(os.environ.get("OGI_DATASET", HERE.parent / "data" / "dataset")).absolute()
    return Path(os.environ.get("OGI_FIGURES", dataset.parent / f"{dataset.name}-figures")).absolute()


def run(script: Path, figures: Path) -> list[Path]:
    """Execute one notebook; return the charts it wrote."""
    before = {p: p.stat().st_mtime_ns for p in figures.glob("*.png")}
    notebook = jupytext.read(script)
    NotebookClient(notebook, timeout=TIMEOUT_SECONDS, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    executed = figures / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, executed / f"{script.stem}.ipynb")
    return sorted(p for p in figures.glob("*.png") if before.get(p) != p.stat().st_mtime_ns)


def main() -> int:
    scripts = sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))
    problems = [problem for script in scripts if (problem := check_pair(script))]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    figures = figures_folder()
    os.environ["OGI_FIGURES"] = str(figures)  # the kernels inherit it: charts.save writes there
    for script in scripts:
        charts = run(script, figures)
        if not charts:
            print(f"{script.name}: ran, but wrote no chart", file=sys.stderr)
            return 1
        print(f"{script.name}: ok, {len(charts)} chart(s) in {figures}: " + ", ".join(p.name for p in charts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
