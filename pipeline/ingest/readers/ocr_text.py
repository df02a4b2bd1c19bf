"""OCR text with the model's confusions undone where a label proves them (``ocr_confusions.csv``).

Tesseract's Chinese model misreads some label characters (``年`` as ``竺``, ``数`` as ``效``, ``行`` as
``全``). Replacing them everywhere would break real text (``全`` is a character of its own, as in
``三安全``), so a confusion is undone only where that makes a label of ``labels.csv`` (or a title pattern)
match that did not match before, and only the replacements that match needs are kept.
"""

from __future__ import annotations

from pipeline.knowledge.confusions import guiding_patterns, label_confusions


def undo_confusions(text: str) -> str:
    """``text`` with the confusions undone that make a label or title pattern match."""
    confusions = label_confusions()
    spots = [i for i, ch in enumerate(text) if ch in confusions]
    if not spots:
        return text
    chars = list(text)
    rounds = max(len(confusions[text[i]]) for i in spots)
    for regex in guiding_patterns():
        current = "".join(chars)
        if regex.search(_compact(current)) is not None:
            continue
        for k in range(rounds):
            trial = list(chars)
            changed = [i for i in spots if chars[i] == text[i]]
            for i in changed:
                options = confusions[text[i]]
                trial[i] = options[min(k, len(options) - 1)]
            if regex.search(_compact("".join(trial))) is None:
                continue
            for i in changed:  # keep only the replacements the match needs
                kept = trial[i]
                trial[i] = text[i]
                if regex.search(_compact("".join(trial))) is None:
                    trial[i] = kept
            chars = trial
            break
    return "".join(chars)


def _compact(text: str) -> str:
    return "".join(text.split())
