"""Pictures of tables in a web page (``<img>``), read by OCR as the page's table would be read.

A saved page keeps its pictures in a folder beside it (``page.html`` + ``page_files/t1.png``) or
inside it (``data:`` URIs). Linked files are found relative to the page by a resolver the caller
gives (the page's own folder, never above it); a result that read linked files depends on more than
the page's bytes and is not cached. A picture is read only when its ruling lines form a grid (logos,
QR codes and photos are left alone). Without Tesseract such pictures are counted in the notes and the
result is not cached either.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.ingest.readers import Cell, Document, ocr_engine

Resolver = Callable[[str], bytes | None]
MAX_PICTURES = 12  # table pictures read per page
MAX_PICTURE_BYTES = 20 * 2**20
_DATA_URI = re.compile(r"data:image/[\w.+-]+;base64,(.*)", re.S | re.I)


def folder_resolver(page: Path) -> Resolver:
    """Files linked by relative paths from a page, inside the page's folder (no ``..`` above it)."""
    root = page.resolve().parent

    def resolve(src: str) -> bytes | None:
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
            return None
        path = (root / unquote(parts.path)).resolve()
        if root not in path.parents or not path.is_file() or path.stat().st_size > MAX_PICTURE_BYTES:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    return resolve


class TablePictures:
    """Reads the table pictures of one page and says what it did."""

    def __init__(self, resolve: Resolver | None):
        self.resolve = resolve
        self.read_count = 0
        self.linked = 0
        self.unread = 0

    def _bytes(self, src: str) -> tuple[bytes | None, bool]:
        m = _DATA_URI.match(src.strip())
        if m:
            try:
                return base64.b64decode(m.group(1), validate=False), False
            except (binascii.Error, ValueError):
                return None, False
        return (self.resolve(src), True) if self.resolve is not None else (None, False)

    def read(self, src: str) -> list[Cell]:
        if self.read_count + self.unread >= MAX_PICTURES:
            return []
        data, linked = self._bytes(src)
        if not data:
            return []
        from pipeline.ingest.readers.ocr import (
            has_table,
            picture_array,
            read_table_picture,
        )

        picture = picture_array(data)
        if picture is None or not has_table(picture):
            return []
        self.linked += linked
        if ocr_engine.missing():
            self.unread += 1
            return []
        self.read_count += 1
        return read_table_picture(picture, ocr_engine.engines())

    def report(self, doc: Document) -> None:
        if self.read_count:
            doc.notes.append(f"{self.read_count} picture(s) of tables read by OCR (Tesseract)")
        if self.unread:
            doc.problems.append(f"{self.unread} picture(s) of tables not read: {ocr_engine.missing()}")
        doc.machine_dependent = doc.machine_dependent or bool(self.unread or self.linked)
