"""Tesseract 5, through tesserocr (its C API: one call per cell crop costs milliseconds, not a process).

The recognition models are the Debian packages' (``tesseract-ocr``, ``tesseract-ocr-chi-sim``:
``chi_sim`` and ``eng`` in ``/usr/share/tesseract-ocr/5/tessdata``); nothing is downloaded. tesserocr's
wheel carries its own libtesseract, so the models are named explicitly. Without them (or without
tesserocr) :func:`missing` says what to install, and scans are rejected with that reason.

One engine set per process (loading ``chi_sim`` takes a third of a second); OpenMP is held to one
thread, so that each worker of a build uses one core.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before libtesseract loads: one core per worker

TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata")
LANGUAGES = ("chi_sim", "eng")
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
DIGITS = "0123456789.-+"


@cache
def tessdata() -> Path | None:
    """The folder holding the Debian traineddata of every language used, or None.

    ``OGI_TESSDATA`` names another folder (tests, other distributions)."""
    folders = [os.environ["OGI_TESSDATA"]] if os.environ.get("OGI_TESSDATA") else list(TESSDATA_DIRS)
    for folder in folders:
        path = Path(folder)
        if all((path / f"{lang}.traineddata").is_file() for lang in LANGUAGES):
            return path
    return None


@cache
def missing() -> str | None:
    """Why OCR cannot run on this machine (what to install), or None when it can."""
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return "the tesserocr package is not installed (pip install tesserocr)"
    if tessdata() is None:
        return f"install Tesseract to read it by OCR: {INSTALL}"
    return None


@cache
def version() -> str:
    """What decides OCR output here: tesserocr's and libtesseract's versions and the models' hashes
    (part of the cache key)."""
    if missing():
        return "absent"
    from importlib import metadata

    import tesserocr

    parts = [f"tesserocr {metadata.version('tesserocr')}", tesserocr.tesseract_version().split()[1]]
    for lang in LANGUAGES:
        digest = hashlib.sha256((tessdata() / f"{lang}.traineddata").read_bytes()).hexdigest()[:16]
        parts.append(f"{lang} {digest}")
    return ", ".join(parts)


class Engines:
    """The Tesseract handles the reader uses: chi_sim for text (a block, and a page region with
    layout analysis) and two digit readers (eng and chi_sim restricted to digits, one line)."""

    def __init__(self) -> None:
        from tesserocr import OEM, PSM, PyTessBaseAPI

        path = str(tessdata())

        def api(lang: str, psm, digits: bool = False):
            handle = PyTessBaseAPI(path=path, lang=lang, psm=psm, oem=OEM.LSTM_ONLY)
            handle.SetVariable("debug_file", "/dev/null")
            if digits:
                handle.SetVariable("tessedit_char_whitelist", DIGITS)
            return handle

        self.text = api("chi_sim", PSM.SINGLE_BLOCK)
        self.region = api("chi_sim", PSM.AUTO)
        self.eng_digits = api("eng", PSM.SINGLE_LINE, digits=True)
        self.eng_line = api("eng", PSM.SINGLE_LINE)  # all its characters: is a cell plainly a number?
        self.chi_digits = api("chi_sim", PSM.SINGLE_LINE, digits=True)

    def read(self, handle, image, ppi: int = 300) -> tuple[str, float]:
        """Text and mean confidence (0–100) of one image (a PIL image)."""
        _set_image(handle, image)
        handle.SetSourceResolution(ppi)
        return handle.GetUTF8Text().strip(), float(handle.MeanTextConf())

    def lines(self, image, ppi: int) -> list[tuple[str, float, tuple[int, int, int, int]]]:
        """Text lines of a region with layout analysis: (text, confidence, box in pixels)."""
        from tesserocr import RIL

        handle = self.region
        _set_image(handle, image)
        handle.SetSourceResolution(ppi)
        handle.Recognize()
        out = []
        iterator = handle.GetIterator()
        if iterator is None:
            return out
        while True:
            try:
                text = iterator.GetUTF8Text(RIL.TEXTLINE)
            except RuntimeError:
                text = ""
            if text and text.strip():
                out.append((text.strip(), float(iterator.Confidence(RIL.TEXTLINE)),
                            tuple(iterator.BoundingBox(RIL.TEXTLINE))))
            if not iterator.Next(RIL.TEXTLINE):
                break
        return out


def _set_image(handle, image) -> None:
    """A greyscale picture handed over as its pixels (no encoding to BMP on the way)."""
    if image.mode != "L":
        image = image.convert("L")
    handle.SetImageBytes(image.tobytes(), image.width, image.height, 1, image.width)


@cache
def engines() -> Engines:
    """The process's engines (made on first use)."""
    return Engines()
