"""Bytes to text: detect the encoding and the format of one input file."""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from dataclasses import dataclass

from charset_normalizer import from_bytes


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str | None  # None when the bytes are not text we can read
    encoding: str | None
    format: str  # text / markdown / html / pdf / docx / doc / binary / empty
    problem: str | None = None  # why text is None, in words a person can act on
    note: str | None = None  # what decoding had to do (replacement characters), for reports.notes


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HTML_SNIFF = re.compile(r"<(?:!doctype\s+html|html|body|table|meta|div|p)[\s>]", re.IGNORECASE)


def _sniff_binary_format(data: bytes, name: str) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        if name.lower().endswith((".docx", ".docm")) or b"word/" in data[:4096]:
            return "docx"
        if _zip_holds(data, "word/document.xml"):
            return "docx"
        return "xlsx" if _zip_holds(data, "xl/workbook.xml") else "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: legacy .doc / .wps / .xls
        return "doc"
    if data.startswith(_PICTURE_MAGIC) or (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        return "picture"
    return None


# PNG, JPEG, GIF, TIFF (both byte orders): a web page's pictures saved beside it
_PICTURE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")


def starts_as_binary(head: bytes) -> bool:
    """Whether a file whose first bytes are ``head`` (a dozen are enough) is a PDF, an office file, an
    archive or a picture rather than text: what the build needs to guess how long it takes to read."""
    return _sniff_binary_format(head, "") is not None


def _zip_holds(data: bytes, member: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return member in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _text_format(text: str, name: str) -> str:
    lower = name.lower()
    if lower.endswith((".html", ".htm", ".xhtml", ".shtml")) or _HTML_SNIFF.search(text[:5000]):
        return "html"
    if lower.endswith((".md", ".markdown")):
        return "markdown"
    return "text"


def decode(data: bytes, name: str) -> Decoded:
    if not data.strip():
        return Decoded(None, None, "empty", "empty file: nothing to read")
    binary = _sniff_binary_format(data, name)
    if binary is not None:
        return Decoded(None, None, binary, None)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                break
            return Decoded(text, encoding.replace("-sig", "") + ("-bom" if bom == codecs.BOM_UTF8 else ""),
                           _text_format(text, name))
    try:
        text = data.decode("utf-8")
        if "\x00" not in text[:10000]:  # NUL bytes decode as UTF-8 but are not text
            return Decoded(text, "utf-8", _text_format(text, name))
    except UnicodeDecodeError:
        pass
    if b"\x00" not in data[:10000]:  # UTF-16 without a BOM is left to the statistical guess
        strict = _strict_decodes(data)
        if strict:
            encoding, text = strict
            return Decoded(text, encoding, _text_format(text, name))
    return _guess(data, name)


# Chinese encodings whose byte structure is checked by a strict decode: a file that decodes without
# error in one of them is taken as it, whatever its length (a statistical guess on a short line is
# a coin toss: a one-line GBK title was once guessed as UTF-16).
_STRICT_CANDIDATES = ("gb18030", "big5")


def _strict_decodes(data: bytes) -> tuple[str, str] | None:
    decoded = {}
    for encoding in _STRICT_CANDIDATES:
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if len(decoded) <= 1:
        return next(iter(decoded.items()), None)
    # Both fit (Big5's byte ranges lie inside GB18030's): let the statistics choose between the two.
    best = from_bytes(data[:200_000], cp_isolation=list(decoded)).best()
    choice = best.encoding if best is not None and best.encoding in decoded else _STRICT_CANDIDATES[0]
    return choice, decoded[choice]


# A file in one of these encodings with a few damaged bytes (a download cut, a copy error) is still
# that file: up to this share of byte sequences may be replaced before the encoding is doubted.
_LENIENT_CANDIDATES = ("utf-8", "gb18030")
_MAX_REPLACED_SHARE = 0.002


def _replacement_note(encoding: str, replaced: int, how: str) -> str:
    return (f"encoding {encoding} {how}; {replaced} byte sequence(s) did not fit it and were replaced by U+FFFD: "
            "check the file's encoding")


def _replaced(data: bytes, text: str, encoding: str) -> int:
    return text.count("\ufffd") - data.decode(encoding, errors="ignore").count("\ufffd")


def _guess(data: bytes, name: str) -> Decoded:
    if b"\x00" not in data[:10000]:
        for encoding in _LENIENT_CANDIDATES:
            text = data.decode(encoding, errors="replace")
            replaced = _replaced(data, text, encoding)
            if replaced <= max(2, _MAX_REPLACED_SHARE * len(text)):
                return Decoded(text, encoding, _text_format(text, name),
                               note=_replacement_note(encoding, replaced, "fits all but a few bytes"))
    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        return Decoded(None, None, "binary", "binary file: no text encoding fits its bytes")
    try:
        text = data.decode(best.encoding, errors="replace")
    except LookupError:
        return Decoded(None, None, "binary", f"unknown encoding {best.encoding!r}")
    if "\x00" in text[:10000]:
        return Decoded(None, best.encoding, "binary", "binary file: contains NUL bytes, not text")
    replaced = _replaced(data, text, best.encoding)
    note = _replacement_note(best.encoding, replaced, "guessed from the bytes") if replaced else None
    return Decoded(text, best.encoding, _text_format(text, name), note=note)
