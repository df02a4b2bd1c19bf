"""OCR text with the model's confusions undone where a label proves them (``ocr_confusions.csv``).

Tesseract's Chinese model misreads some label characters (``年`` as ``竺``, ``数`` as ``效``, ``行`` as
``全``). Replacing them everywhere would break real text (``全`` is a character of its own, as in
``三安全``), so a confusion is undone only where that makes a label of ``labels.csv`` (or a title pattern)
match that did not match before, and only the replacements that match needs are kept.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from pipeline.ingest.normalize import normalize_text, without_spaces
from pipeline.knowledge import domain
from pipeline.knowledge.confusions import (
    guiding_patterns,
    label_confusions,
    printed_label_patterns,
    row_label_patterns,
)

_HAN = re.compile(r"[\u4e00-\u9fff]")


def undo_confusions(text: str) -> str:
    """``text`` with the confusions undone that make a label or title pattern match, or match more of
    it (``生政诉讼``: the header word ``诉讼`` matched, ``行政诉讼`` matches more)."""
    confusions = label_confusions()
    spots = [i for i, ch in enumerate(text) if ch in confusions]
    if not spots:
        return text
    chars = list(text)
    rounds = max(len(confusions[text[i]]) for i in spots)
    for regex in guiding_patterns():
        before = _longest(regex, "".join(chars))
        for k in range(rounds):
            trial = list(chars)
            changed = [i for i in spots if chars[i] == text[i]]
            for i in changed:
                options = confusions[text[i]]
                trial[i] = options[min(k, len(options) - 1)]
            after = _longest(regex, "".join(trial))
            if after <= before:
                continue
            for i in changed:  # keep only the replacements the longer match needs
                kept = trial[i]
                trial[i] = text[i]
                if _longest(regex, "".join(trial)) < after:
                    trial[i] = kept
            chars = trial
            break
    return "".join(chars)


def _longest(regex, text: str) -> int:
    """The length of the pattern's longest match in the text (whitespace removed), -1 for none."""
    return max((m.end() - m.start() for m in regex.finditer(without_spaces(text))), default=-1)


SNAP_RATIO = 0.6  # similarity (difflib ratio) a garbled label needs to its printed label ...
SNAP_MARGIN = 0.1  # ... and its lead over the next printed label
SNAP_LENGTH = (0.75, 1.34)  # its length over the printed label's (a label cut by a page break is not snapped)


def snap_label(text: str) -> str:
    """A table cell's OCR text, replaced by the printed label it is a garbled copy of (printed_labels.csv).

    Only when it is clearly that label: similar enough, clearly more similar than to any other label,
    of about the same length, and not already matched by the label's pattern in labels.csv.
    """
    compact = without_spaces(text)
    if len(compact) < 2 or not _HAN.search(compact):
        return text
    scored = []
    for label, pattern in printed_label_patterns():
        share = len(compact) / len(label)
        if SNAP_LENGTH[0] <= share <= SNAP_LENGTH[1]:
            scored.append((SequenceMatcher(None, compact, label, autojunk=False).ratio(), label, pattern))
    if not scored:
        return text
    scored.sort(key=lambda s: s[0], reverse=True)
    ratio, label, pattern = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if ratio < SNAP_RATIO or ratio - runner_up < SNAP_MARGIN or ratio == 1.0:
        return text
    if _starts_other_label(compact, label, ratio) or _other_number(compact, label):
        return text
    if pattern is not None and pattern.search(compact):
        return text
    return label


def _starts_other_label(compact: str, label: str, ratio: float) -> bool:
    """Is the text at least as much like the start of another, longer printed label (a label cut by a
    page break or a short cell: ``2.申请人逾期`` is no garbled ``2.重复申请``)?"""
    for other, _ in printed_label_patterns():
        if other != label and len(other) > len(compact) and SequenceMatcher(
                None, compact, other[:len(compact)], autojunk=False).ratio() >= ratio:
            return True
    return False


_VALUE_CHARS = domain.pattern("ocr_value_char")


def clean_label_tail(text: str) -> str:
    """A row label cell's OCR text (its row's numbers stand in cells of their own) with the characters
    that could start a value taken out of the text after its label's pattern: a garbled tail
    (``2.没有现成信息需要另 1JmJ1F``, ``3危及"三安全-稳定``) is not read as the row's first values."""
    compact = without_spaces(normalize_text(text, False))
    for regex in row_label_patterns():
        m = regex.match(compact)
        if m and m.end() > 0:
            tail = _VALUE_CHARS.sub("", compact[m.end():])
            return compact[:m.end()] + tail if tail != compact[m.end():] else text
    return text


def _other_number(compact: str, label: str) -> bool:
    """Do the text and the label start with different row numbers (``2.`` is no garbled ``1.``)?"""
    row_start = domain.pattern("row_start")
    mine, theirs = row_start.match(compact), row_start.match(label)
    return bool(mine and theirs and mine.group() != theirs.group())
