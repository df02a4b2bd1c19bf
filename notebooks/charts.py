"""Small helpers the notebooks share: open the dataset they are pointed at, draw "no data" honestly, save
PNGs next to the notebook, and romanize agency names for chart titles.

Needs the ``notebooks`` extra (matplotlib, pypinyin); nothing else in the pipeline imports this module.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the notebooks run under nbclient and in CI

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from pypinyin import lazy_pinyin  # noqa: E402

DATASET_VARIABLE = "OGI_DATASET"
DEFAULT_DATASET = Path("../data/dataset")  # the notebooks run with notebooks/ as working folder
FIGURES_VARIABLE = "OGI_FIGURES"
FLAG_COLOUR = "#c92a2a"

# Colours by meaning, so that the same outcome has the same colour in every chart.
OUTCOME_COLOURS = {
    "granted": "#2b8a3e", "partially_granted": "#8ce99a", "denied": "#e03131", "unable": "#f59f00",
    "ignored": "#868e96", "other_processing": "#4dabf7",
}


def dataset_path() -> Path:
    """The dataset the notebooks read: $OGI_DATASET, else the one `make dataset` built."""
    return Path(os.environ.get(DATASET_VARIABLE, DEFAULT_DATASET))


def romanize(text: str | None) -> str:
    """Pinyin of a Chinese name, syllable by syllable (a fresh machine has no CJK font for the charts)."""
    if not text:
        return "unknown agency"
    return " ".join(s.capitalize() for s in lazy_pinyin(text) if s.strip())


def no_data(ax, message: str = "no data") -> None:
    """Mark an empty chart as such instead of drawing empty axes."""
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=13, color="#868e96", wrap=True,
            transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#dee2e6")


def year_axis(ax, years: list[int], label: str = "Report year") -> None:
    """Categorical year ticks; with few years the bars keep a sensible width instead of filling the chart."""
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    pad = max(0.6, (3 - len(years)) / 2 + 0.4)
    ax.set_xlim(-pad, len(years) - 1 + pad)
    ax.set_xlabel(label)


def count_axis(ax, label: str, axis: str = "y") -> None:
    """An axis of counts: whole-number ticks only."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(integer=True))
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(label)


def figures_path() -> Path:
    """Where the charts go: $OGI_FIGURES, else ``<dataset>-figures`` beside the dataset they show."""
    default = dataset_path().parent / f"{dataset_path().name}-figures"
    return Path(os.environ.get(FIGURES_VARIABLE, default))


def save(fig, name: str) -> Path:
    """Write ``NAME.png`` to the figures folder beside the dataset and return its path."""
    folder = figures_path()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


FLAG_LABEL = "total contradicts its own parts"


def flag_bars(bars, flagged: list[bool]) -> bool:
    """Hatch and outline in red the bars whose value is a total that fails its own rule
    (report_summary's *_fails_parts flags); True when any was marked (then call ``legend``)."""
    marked = False
    for bar, flag in zip(bars, flagged):
        if flag:
            bar.set_hatch("///")
            bar.set_edgecolor(FLAG_COLOUR)
            bar.set_linewidth(1.5)
            marked = True
    return marked


def legend(ax, flagged: bool = False, **options) -> None:
    """The axes' legend, with the mark of flagged totals when some bar carries it."""
    handles, names = ax.get_legend_handles_labels()
    if flagged:
        handles.append(Patch(facecolor="white", edgecolor=FLAG_COLOUR, hatch="///", label=FLAG_LABEL))
        names.append(FLAG_LABEL)
    ax.legend(handles, names, **options)


def figure(width: float = 8.0, height: float = 4.5):
    return plt.subplots(figsize=(width, height), layout="constrained")


def paired_bars(ax, left, right, left_label: str, right_label: str, left_color: str, right_color: str,
                left_flagged=None, right_flagged=None) -> None:
    """Two bars per x position, each labelled with its value; flagged bars are marked (flag_bars)."""
    x = range(len(left))
    bars = (ax.bar([i - 0.2 for i in x], left, width=0.4, color=left_color, label=left_label),
            ax.bar([i + 0.2 for i in x], right, width=0.4, color=right_color, label=right_label))
    marked = False
    for bar, flagged in zip(bars, (left_flagged, right_flagged)):
        ax.bar_label(bar, fmt="%g", fontsize=8)
        if flagged is not None:
            marked = flag_bars(bar, list(flagged)) or marked
    ax.margins(y=0.15)
    legend(ax, marked, fontsize=8)
