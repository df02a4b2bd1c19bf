"""Scanned PDFs (pages that are pictures, no text layer) and table pictures, read by OCR.

A scanned page's picture is the largest image drawn on it, taken from the file as stored (JPEG,
JPEG 2000, or raw samples: grey, RGB, 1-bit), so no resampling changes what the OCR sees; its
resolution is its width in pixels over the page's width in inches. Without Tesseract the scan is
rejected with the command that installs it, and that verdict is not cached (it depends on the machine).
"""

from __future__ import annotations

import io
import time

import numpy as np

from pipeline.ingest.readers import Document, Unreadable, ocr_engine

OCR_TIME_BUDGET_S = 45.0  # per file; the pages with the tables come first
PAGE_LIMIT = 60
MIN_DPI, MAX_DPI = 50.0, 600.0


def _picture(image_stream) -> np.ndarray | None:
    """A PDF image XObject as a greyscale array, or None when its encoding is not read here."""
    from PIL import Image

    attrs = image_stream.attrs
    names = [getattr(f, "name", str(f)) for f, _ in image_stream.get_filters()]
    last = names[-1] if names else ""
    try:
        if last in ("DCTDecode", "DCT", "JPXDecode"):
            return np.asarray(Image.open(io.BytesIO(image_stream.get_rawdata())).convert("L"))
        width, height = int(attrs.get("Width", 0)), int(attrs.get("Height", 0))
        bits = int(attrs.get("BitsPerComponent", 8) or 8)
        data = image_stream.get_data()
        channels = 3 if "RGB" in str(attrs.get("ColorSpace", "")) else 1
        if bits == 8 and len(data) >= width * height * channels:
            mode = "RGB" if channels == 3 else "L"
            return np.asarray(Image.frombytes(mode, (width, height), data[: width * height * channels]).convert("L"))
        if bits == 1 and channels == 1 and len(data) >= ((width + 7) // 8) * height:
            img = Image.frombytes("1", (width, height), data[: ((width + 7) // 8) * height]).convert("L")
            return np.asarray(img)
    except Exception:  # a damaged or exotic image: the page is reported as not read
        return None
    return None


def page_pictures(data: bytes, page_limit: int) -> list[tuple[np.ndarray, float] | None]:
    """(grey picture, dpi) of each page's largest image, None where a page has none that can be read."""
    from pdfminer.pdftypes import resolve1

    from pipeline.ingest.readers.pdf import open_pdf

    _, pages = open_pdf(data)
    out = []
    for page in pages[:page_limit]:
        xobjects = resolve1((page.resources or {}).get("XObject")) or {}
        images = [resolve1(x) for x in xobjects.values()]
        images = [x for x in images if hasattr(x, "attrs") and str(x.attrs.get("Subtype")).endswith("Image'")]
        if not images:
            out.append(None)
            continue
        largest = max(images, key=lambda x: int(x.attrs.get("Width", 0)) * int(x.attrs.get("Height", 0)))
        gray = _picture(largest)
        x0, _, x1, _ = page.mediabox
        dpi = gray.shape[1] / ((x1 - x0) / 72.0) if gray is not None and x1 > x0 else 0.0
        out.append((gray, dpi) if gray is not None and MIN_DPI <= dpi <= MAX_DPI else None)
    return out


def read_scanned_pdf(data: bytes, n_pages: int, n_images: int, time_budget: float = OCR_TIME_BUDGET_S) -> Document:
    """The document of a PDF whose pages are pictures; :class:`Unreadable` when OCR cannot run here."""
    why = ocr_engine.missing()
    if why:
        raise Unreadable(f"scanned PDF without a text layer ({n_pages} page(s), {n_images} image(s)): {why}",
                         cacheable=False)
    from pipeline.ingest.readers.ocr import ocr_notes, read_pictures, to_document

    start = time.monotonic()
    pictures = page_pictures(data, PAGE_LIMIT)
    if not any(p is not None for p in pictures):
        raise Unreadable(f"scanned PDF without a text layer ({n_pages} page(s), {n_images} image(s)) whose "
                         f"page pictures cannot be read by OCR (an encoding it does not read, or below {MIN_DPI:g} dpi); "
                         "give an OCRed PDF or the text")
    pages, problems = read_pictures(pictures, ocr_engine.engines(), time_budget)
    doc = to_document(pages)
    doc.notes.insert(0, ocr_notes(pages, time.monotonic() - start))
    if n_pages > PAGE_LIMIT:
        problems.append(f"OCR page limit: only the first {PAGE_LIMIT} of {n_pages} pages read")
    doc.problems.extend(problems)
    doc.cut_short = any("limit" in p for p in problems)
    return doc
