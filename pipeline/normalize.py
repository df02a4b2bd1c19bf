"""Normalize text: one place for every character-level repair.

Order matters: pinyin annotations are removed first (they follow the *traditional* characters they
annotate), then NFKC (full-width digits and brackets, ideographic spaces), then OpenCC t2s when the
document is written in traditional script. Line structure is preserved so that provenance (line
numbers) stays valid; :func:`raw_span` maps a span of normalized text back to the original text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

# A romanization in brackets right after a Han character: 務(wù), 公(gong)(gong), truncated 發(f at
# the end of a line. Tone-marked vowels and ü included.
_PINYIN = r"[a-zA-Zü\u00e0-\u00fc\u0101-\u01dc\u0144\u0148\u01f9\u1e3f]{1,8}"
PINYIN_JUNK = re.compile(rf"(?<=[\u4e00-\u9fff])(?:\({_PINYIN}\))+|(?<=[\u4e00-\u9fff])\({_PINYIN}$")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def is_traditional(text: str, sample: int = 20000) -> bool:
    """True when converting to simplified script changes a noticeable share of the Han characters.

    Converting text that is already simplified is not harmless (t2s maps 乾 to 干 in some phrases),
    so conversion is decided once per document.
    """
    chunk = text[:sample]
    han = len(_HAN.findall(chunk))
    if han == 0:
        return False
    converted = _t2s().convert(chunk)
    changed = sum(1 for a, b in zip(chunk, converted) if a != b)
    return changed >= 5 and changed / han > 0.01


def normalize_text(raw: str, traditional: bool) -> str:
    """Normalize one line (or cell) of text. Never raises; keeps newlines as they are."""
    text = PINYIN_JUNK.sub("", raw)
    text = unicodedata.normalize("NFKC", text)
    text = _PRIVATE_USE.sub("", text)
    if traditional:
        text = _t2s().convert(text)
    return text


def raw_span(raw: str, traditional: bool, start: int, end: int) -> str:
    """The part of ``raw`` that normalizes to ``normalize_text(raw)[start:end]``.

    Rebuilt character by character, so only used for short snippets of long lines.
    """
    junk = [m.span() for m in PINYIN_JUNK.finditer(raw)]
    j = 0
    produced = 0
    raw_start = raw_end = None
    for i, ch in enumerate(raw):
        while j < len(junk) and junk[j][1] <= i:
            j += 1
        if j < len(junk) and junk[j][0] <= i < junk[j][1]:
            continue
        piece = unicodedata.normalize("NFKC", ch)
        piece = _PRIVATE_USE.sub("", piece)
        if raw_start is None and produced + len(piece) > start:
            raw_start = i
        produced += len(piece)
        if produced >= end:
            raw_end = i + 1
            break
    if raw_start is None:
        return ""
    return raw[raw_start : raw_end if raw_end is not None else len(raw)]
