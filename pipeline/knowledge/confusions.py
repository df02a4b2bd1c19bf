"""What OCR writes for what was printed (``data/ocr_confusions.csv``), as data.

Two kinds: ``digit`` look-alikes (``O`` for ``0``) that only tell whether a cell holds a number, and
``label`` confusions of the Chinese model (``竺`` for ``年``) that may be undone in OCR text where that
makes a label of ``labels.csv`` or a title pattern of ``patterns.csv`` match (see
:mod:`pipeline.ingest.readers.ocr_text`).
"""

from __future__ import annotations

import re
from functools import cache

from pipeline.knowledge import domain

# the patterns.csv patterns that OCR text must match to give the report's agency and year
TITLE_PATTERNS = ("title", "title_year_first", "statistics_period")


@cache
def _rows(kind: str) -> tuple[tuple[str, str], ...]:
    return tuple((r["seen"], r["intended"]) for r in domain.read_table("ocr_confusions.csv") if r["kind"] == kind)


@cache
def _digit_table() -> dict[int, str]:
    return str.maketrans(dict(_rows("digit")))


def digit_lookalikes(text: str) -> str:
    """The text with look-alikes of digits written as digits (only to tell a number cell)."""
    return text.translate(_digit_table())


@cache
def label_confusions() -> dict[str, tuple[str, ...]]:
    """OCR glyph -> the characters it may stand for, in file order."""
    out: dict[str, list[str]] = {}
    for seen, intended in _rows("label"):
        out.setdefault(seen, []).append(intended)
    return {seen: tuple(intended) for seen, intended in out.items()}


@cache
def guiding_patterns() -> tuple[re.Pattern, ...]:
    """Every label of labels.csv and the title patterns: what a corrected OCR text must match."""
    labels = [re.compile(r["pattern"]) for r in domain.read_table("labels.csv")]
    return tuple(labels) + tuple(domain.pattern(name) for name in TITLE_PATTERNS)


@cache
def printed_label_patterns() -> tuple[tuple[str, re.Pattern | None], ...]:
    """Each label as the templates print it (printed_labels.csv), with the labels.csv pattern of its
    code (None when the code has none): what a garbled OCR label may be snapped to."""
    patterns = {(r["section"], r["kind"], r["code"]): re.compile(r["pattern"]) for r in domain.read_table("labels.csv")}
    out = {}
    for r in domain.read_table("printed_labels.csv"):
        out.setdefault(r["label"], patterns.get((r["section"], r["kind"], r["code"])))
    return tuple(out.items())


@cache
def row_label_patterns() -> tuple[re.Pattern, ...]:
    """The row labels of labels.csv (every table): what a table row's label cell starts with."""
    return tuple(re.compile(r["pattern"]) for r in domain.read_table("labels.csv") if r["kind"] == "row")


@cache
def printed_row_labels() -> frozenset[str]:
    """The row labels as the templates print them: each is printed once in its table."""
    return frozenset(r["label"] for r in domain.read_table("printed_labels.csv") if r["kind"] == "row")
