"""Normalize text: one place for every character-level repair.

Order matters: pinyin annotations are removed first (they follow the *traditional* characters they
annotate), then NFKC (full-width digits and brackets, ideographic spaces), then OpenCC t2s when the
document is written in traditional script. Newlines are never added or removed, so line numbers stay
valid for provenance; :func:`raw_span` maps a span of normalized text back to the original text.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from functools import cache, lru_cache

import opencc

# A romanization in brackets right after a Han character: 務(wù), 公(gong)(gong), truncated 發(f at
# the end of a line. Tone-marked vowels and ü included.
_PINYIN = r"[a-zA-Zü\u00e0-\u00fc\u0101-\u01dc\u0144\u0148\u01f9\u1e3f]{1,8}"
PINYIN_JUNK = re.compile(
    rf"(?<=[\u4e00-\u9fff])(?:\({_PINYIN}\))+|(?<=[\u4e00-\u9fff])\({_PINYIN}$", re.MULTILINE)
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NEEDS_NFKC = re.compile(r"[^\u0000-\u007f\u4e00-\u9fff\u3001\u3002\u201c\u201d\u2018\u2019\u300a\u300b]")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _traditional_only() -> re.Pattern:
    """Characters that OpenCC t2s changes: written only in traditional script (from OpenCC's own data)."""
    block = "".join(chr(c) for c in range(0x4E00, 0xA000))
    converted = _t2s().convert(block)
    chars = sorted({a for a, b in zip(block, converted) if a != b}) if len(converted) == len(block) else []
    return re.compile("[" + "".join(chars) + "]") if chars else re.compile(r"(?!x)x")


def is_traditional(text: str, sample: int = 20000) -> bool:
    """True when a noticeable share of the Han characters are traditional-only.

    Converting text that is already simplified is not harmless (t2s maps 乾 to 干 in some phrases),
    so conversion is decided once per document.
    """
    chunk = text[:sample]
    changed = len(_traditional_only().findall(chunk))
    if changed < 5:  # most reports: decided without counting every Han character
        return False
    return changed / len(_HAN.findall(chunk)) > 0.01  # traditional-only characters are Han characters


def without_spaces(text: str) -> str:
    """The text with every whitespace character removed (what ``\\s`` matches), the fast way."""
    return "".join(text.split())


def normalize_text(raw: str, traditional: bool) -> str:
    """Normalize a text (a line, a cell or a whole document). Never raises; keeps every newline."""
    text = PINYIN_JUNK.sub("", raw) if "(" in raw else raw
    if _NEEDS_NFKC.search(text):
        text = unicodedata.normalize("NFKC", text)
        text = _PRIVATE_USE.sub("", text)
    if traditional:
        text = _t2s().convert(text)
    return text


def _same_length_nfkc(raw: str) -> bool:
    """NFKC that maps every character to one (full-width to ASCII) leaves offsets in place."""
    normalized = _PRIVATE_USE.sub("", unicodedata.normalize("NFKC", raw))
    return len(normalized) == len(raw) and not _PRIVATE_USE.search(raw)


@lru_cache(maxsize=64)
def _offset_map(raw: str) -> array | None:
    """For each character of the normalized text, its index in ``raw``; None when they line up.

    (t2s keeps lengths, so only pinyin removal and NFKC move characters.)
    """
    if not PINYIN_JUNK.search(raw) and (not _NEEDS_NFKC.search(raw) or _same_length_nfkc(raw)):
        return None
    out = array("l")
    kept_from = 0  # the text between pinyin annotations, which normalization removes
    for start, end in [*(m.span() for m in PINYIN_JUNK.finditer(raw)), (len(raw), len(raw))]:
        # a character _NEEDS_NFKC does not match is kept as it is (ASCII, Han, a few marks): one for one
        plain_from = kept_from
        for m in _NEEDS_NFKC.finditer(raw, kept_from, start):
            out.extend(range(plain_from, m.start()))
            piece = _PRIVATE_USE.sub("", unicodedata.normalize("NFKC", m.group()))
            out.extend([m.start()] * len(piece))
            plain_from = m.end()
        out.extend(range(plain_from, start))
        kept_from = end
    return out


def raw_span(raw: str, traditional: bool, start: int, end: int) -> str:
    """The part of ``raw`` that normalizes to ``normalize_text(raw)[start:end]``."""
    if start >= end:
        return ""
    offsets = _offset_map(raw)
    if offsets is None:
        return raw[start:end]
    if start >= len(offsets):
        return ""
    return raw[offsets[start] : offsets[min(end, len(offsets)) - 1] + 1]
