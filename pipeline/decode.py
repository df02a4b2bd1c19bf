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
    return None


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
    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        return Decoded(None, None, "binary", "binary file: no text encoding fits its bytes")
    try:
        text = data.decode(best.encoding, errors="replace")
    except LookupError:
        return Decoded(None, None, "binary", f"unknown encoding {best.encoding!r}")
    if "\x00" in text[:10000]:
        return Decoded(None, best.encoding, "binary", "binary file: contains NUL bytes, not text")
    return Decoded(text, best.encoding, _text_format(text, name))
