"""Word documents: ``.docx`` through python-docx; legacy ``.doc`` / ``.wps`` converted by LibreOffice.

Paragraphs are lines (agency and year come from them); every table cell is one structured cell on
the table's grid: ``w:gridSpan`` is a colspan, a ``w:vMerge`` run is a rowspan (the merged cell is
given once, at its first row), ``w:gridBefore`` shifts a row to the right, and a cell holding a
nested table gives that table's cells, as in HTML. Tables that follow each other with nothing but
empty paragraphs (a page break) between them and that have the same number of grid columns are one
logical table: a vertical merge goes on across the break.

Provenance: Word has no lines, so ``Cell.line`` numbers the body's blocks in order, each paragraph
and each table row one line (1-based); ``Cell.raw`` is the cell's text as written.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path

from docx import Document as open_docx
from docx.oxml.ns import qn
from lxml import etree

from pipeline.ingest.normalize import is_traditional, normalize_text
from pipeline.ingest.readers import Cell, Document, Unreadable

MAX_XML_BYTES = 50_000_000  # uncompressed document.xml; a report's is a few MB, beyond this a zip bomb
CONVERT_TIMEOUT_S = 120.0
_WS = re.compile(r"\s+")
_NUMERIC_ONLY = re.compile(r"[\d\s.,+\-]+")
_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT, _CUSTOM_XML = (
    qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml"))
_WRAPPERS = (_SDT, _CUSTOM_XML)
_ENCRYPTED_OLE = "EncryptedPackage".encode("utf-16-le")


def _children(element, wanted: str):
    """Child elements of one kind, looking through content controls and custom XML wrappers."""
    for child in element:
        if child.tag == wanted:
            yield child
        elif child.tag in _WRAPPERS:
            content = child.find(_SDT_CONTENT) if child.tag == _SDT else child
            if content is not None:
                yield from _children(content, wanted)


def _blocks(element):
    """Paragraphs and tables of a body or cell, in document order."""
    for child in element:
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag in _WRAPPERS:
            content = child.find(_SDT_CONTENT) if child.tag == _SDT else child
            if content is not None:
                yield from _blocks(content)


_TEXT = qn("w:t")
_SPECIAL = {qn("w:tab"): "\t", qn("w:br"): "\n", qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-"}
# text that is not part of the paragraph as printed: deleted revisions, text boxes (their own story),
# and the fallback copy of a drawing that Word writes next to its preferred form
_NOT_PRINTED = frozenset({qn("w:del"), qn("w:txbxContent"),
                          "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"})


def _paragraph_text(p) -> str:
    """The paragraph's text, including runs inside insertions, smart tags, fields and content controls
    (python-docx's ``Paragraph.text`` reads only direct runs and hyperlinks)."""
    out = []
    for el in p.iter(_TEXT, *_SPECIAL):
        if any(ancestor.tag in _NOT_PRINTED for ancestor in el.iterancestors()):
            continue
        out.append(el.text or "" if el.tag == _TEXT else _SPECIAL[el.tag])
    return "".join(out)


def _cell_text(tc) -> str:
    text = _WS.sub(" ", "\n".join(_paragraph_text(p) for p in _children(tc, _P))).strip()
    if _NUMERIC_ONLY.fullmatch(text):
        text = _WS.sub("", text)  # one number split over runs or lines
    return text


def _int_attr(element, path: str, default: int) -> int:
    found = element.find(path)
    if found is None:
        return default
    try:
        return max(0, int(found.get(qn("w:val"), default)))
    except ValueError:
        return default


def _grid_columns(tbl) -> int:
    grid = tbl.find(qn("w:tblGrid"))
    return len(grid.findall(qn("w:gridCol"))) if grid is not None else 0


class _Reader:
    def __init__(self) -> None:
        self.items: list[tuple[str, int, int | None, int | None]] = []  # raw, line, row, col
        self.line = 0
        self.row = 0
        self.joins = 0
        # columns where a vertical merge is open, carried over when the next table continues this one
        self.open_merges: set[int] = set()
        self.last_table_columns: int | None = None

    def body(self, element) -> None:
        for block in _blocks(element):
            if block.tag == _P:
                self.line += 1
                text = _paragraph_text(block)
                if text.strip():
                    self.items.append((text, self.line, None, None))
                    self.last_table_columns = None  # text between two tables: not one table
            else:
                self.table(block)

    def table(self, tbl) -> None:
        columns = _grid_columns(tbl)
        if self.last_table_columns is not None and columns == self.last_table_columns:
            self.joins += 1  # only empty paragraphs since the previous table, same grid: one table
        else:
            self.open_merges = set()
        for tr in _children(tbl, _TR):
            self.line += 1
            row_id = self.row
            self.row += 1
            col = _int_attr(tr, f"{qn('w:trPr')}/{qn('w:gridBefore')}", 0)
            merging: set[int] = set()
            for tc in _children(tr, _TC):
                span = max(1, min(_int_attr(tc, f"{qn('w:tcPr')}/{qn('w:gridSpan')}", 1), 200))
                merge = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
                restart = merge is not None and merge.get(qn("w:val")) == "restart"
                continues = merge is not None and not restart and col in self.open_merges
                if merge is not None:
                    merging.update(range(col, col + span))
                if not continues:
                    if tc.find(f".//{_TBL}") is not None:
                        # a nested table: its own cells, and the text around it as lines
                        outer = (self.open_merges, self.last_table_columns)
                        self.last_table_columns = None
                        self.body(tc)
                        self.open_merges, self.last_table_columns = outer
                    else:
                        self.items.append((_cell_text(tc), self.line, row_id, col))
                col += span
            self.open_merges = merging
        self.last_table_columns = columns


def read_docx(data: bytes) -> Document:
    """The document of one .docx file; :class:`Unreadable` when it is not a readable Word file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_XML_BYTES:
                raise Unreadable(f"Word file too large: its text part unpacks to {info.file_size:,} bytes "
                                 f"(limit {MAX_XML_BYTES:,}); is it a report?")
        word = open_docx(io.BytesIO(data))
    except Unreadable:
        raise
    except (zipfile.BadZipFile, KeyError) as exc:
        raise Unreadable(f"corrupt .docx: not a complete Word package ({exc}); check the download, "
                         "or give the text or HTML version") from exc
    except (ValueError, etree.XMLSyntaxError) as exc:
        raise Unreadable(f"not a Word document or a damaged one ({exc}); save it again as .docx") from exc
    reader = _Reader()
    reader.body(word.element.body)
    traditional = is_traditional("".join(raw for raw, _, _, _ in reader.items[:2000]))
    doc = Document(format="docx", traditional=traditional)
    for raw, line, row, col in reader.items:
        norm = normalize_text(raw, traditional)
        if col is None:
            doc.lines.append(norm)
            doc.cells.append(Cell(norm, raw, line, -line, None, False, traditional))
        else:
            doc.cells.append(Cell(norm, raw, line, row, col, True, traditional))
    if reader.joins:
        doc.notes.append(f"{reader.joins} Word table(s) continued after a break joined to the one before")
    created = word.core_properties.created
    if created is not None:
        doc.properties["created"] = created.date().isoformat()
    return doc


def office_converter() -> str | None:
    """The LibreOffice command on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def read_doc(data: bytes, timeout: float = CONVERT_TIMEOUT_S) -> Document:
    """Legacy binary Word / WPS: converted to .docx by LibreOffice (headless), then read as .docx."""
    if _ENCRYPTED_OLE in data[:1_000_000] or _ENCRYPTED_OLE in data[-1_000_000:]:
        raise Unreadable("encrypted Word document: it needs a password to open; give an unprotected copy")
    command = office_converter()
    if command is None:
        raise Unreadable("legacy Word/WPS binary document (.doc/.wps) and LibreOffice (soffice) is not "
                         "installed to convert it: convert it to .docx (or install LibreOffice)", cacheable=False)
    with tempfile.TemporaryDirectory(prefix="ogi-doc-") as tmp:
        source = Path(tmp) / "report.doc"
        source.write_bytes(data)
        profile = Path(tmp) / "profile"
        args = [command, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                "--nologo", "--convert-to", "docx", "--outdir", tmp, str(source)]
        env = {**os.environ, "HOME": tmp}
        try:
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                    start_new_session=True)
        except OSError as exc:
            raise Unreadable(f"legacy Word/WPS document: LibreOffice could not be started ({exc}); "
                             "convert it to .docx", cacheable=False) from exc
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the converter and any helper it started
            proc.communicate()
            raise Unreadable(f"legacy Word/WPS document: conversion by LibreOffice took longer than "
                             f"{timeout:g} s and was stopped; convert it to .docx", cacheable=False) from None
        converted = Path(tmp) / "report.docx"
        if proc.returncode != 0 or not converted.exists():
            detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            raise Unreadable(f"legacy Word/WPS document: LibreOffice could not convert it ({detail[0]}); "
                             "convert it to .docx")
        doc = read_docx(converted.read_bytes())
    doc.format = "doc"
    doc.notes.append("converted from .doc/.wps to .docx with LibreOffice")
    return doc
