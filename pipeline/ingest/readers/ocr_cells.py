"""One table cell's picture to its text: each cell is recognised on its own.

A first pass reads the crop as Chinese text (chi_sim, one block). A one-line crop that reads as a
number, or as a few uncertain characters, is then read as digits by two independent readings:

* A: eng, digits only, one line, the greyscale crop scaled so the text is :data:`DIGIT_PX_A` high;
* B: the same model on another picture: scaled to :data:`DIGIT_PX_B`, then thresholded.

A reading counts only when its width fits its number of digits. The number is *confirmed* when A and
B agree on a well-formed number and no glyph touches a ruling line (a glyph cut by the line reads
as another digit, and both readings then agree on the wrong one). Otherwise the cell keeps all its
readings (A, or when A reads nothing that fits, A again at :data:`DIGIT_PX_A_AGAIN`; B; C: chi_sim
digits only; and the first pass) for the table stage, which confirms a
value only when a sum rule holds with it and at least two readings gave it; until then it is ambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pipeline.ingest.normalize import normalize_text
from pipeline.ingest.readers.ocr_engine import Engines
from pipeline.ingest.readers.ocr_pixels import paint, runs
from pipeline.knowledge.confusions import digit_lookalikes

EMPTY_INK = 6  # dark pixels (at 150 dpi, scaled with the area) below which a crop is empty
DIGIT_PX_A = 24  # text height in pixels for each digit reading
DIGIT_PX_B = 32
DIGIT_PX_A_AGAIN = 28  # reading A again when it reads nothing that fits
DIGIT_PX_C = 32
THRESHOLD_B = 160
ONE_LINE_IN = 0.13  # two lines of text (each at least 6 pt, and a gap) are taller than this
QUICK_CONFIDENCE = 80  # the English model's confidence that a cell is plainly a number (see _quick_number)
TEXT_PPI = 300  # Chinese text is read at this resolution, blurred a little (thin 150-dpi strokes)
# (scale of TEXT_PPI, padding in text heights, blur) of the Chinese readings of a cell, tried in turn
# while they find less than 0.4 characters per text height of ink
TEXT_TRIES = ((1.0, 0.5, 1.0), (1.5, 0.8, 1.5), (0.75, 0.8, 1.0))
NUMBERISH = re.compile(r"^[+\-]?[\d.,]+$")
WELL_FORMED = re.compile(r"^[+\-]?(?:0|[1-9]\d*)(?:\.\d+)?$")  # no leading zeros, one decimal point
_LIST_NUMBER = re.compile(r"^\(?\d{1,2}[.)]")
_DIGIT_RUN = re.compile(r"\d+(?:\.\d+)?")
_HAN = re.compile(r"[\u3400-\u9fff]")
_HAN_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +(?=[\u3000-\u9fff\uff00-\uffef])")



@dataclass(frozen=True)
class CellReading:
    kind: str  # empty | number | text
    text: str  # the cell's text; a number's value when confirmed, else its likeliest reading
    readings: tuple[str, ...] | None = None  # a number that is not confirmed: A, B, C, first pass
    candidates: tuple[str, ...] | None = None  # values two independent readings give (see candidates)
    confidence: float | None = None  # the digit readings' mean confidence (0-100)
    touches: bool = False


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    ys = np.nonzero(ink.any(axis=1))[0]
    if len(ys) == 0:
        return None
    xs = np.nonzero(ink.any(axis=0))[0]
    return int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1


def _padded(gray: np.ndarray, pad: int) -> np.ndarray:
    out = np.full((gray.shape[0] + 2 * pad, gray.shape[1] + 2 * pad), 255, dtype=np.uint8)
    out[pad:pad + gray.shape[0], pad:pad + gray.shape[1]] = gray
    return out


def _scaled(gray: np.ndarray, height: int, target: float, threshold: int | None = None):
    """The crop with half a text height of paper around it, scaled so the text is ``target`` px high."""
    from PIL import Image

    img = Image.fromarray(_padded(gray, max(4, height // 2 + 4)))
    s = target / max(1, height)
    img = img.resize((max(1, int(img.width * s)), max(1, int(img.height * s))), Image.BICUBIC)
    if threshold is not None:
        img = Image.fromarray(np.where(np.asarray(img) < threshold, 0, 255).astype(np.uint8))
    return img


def _text_pass(engines: Engines, gray: np.ndarray, height: int, scale: float, pad: float,
               blur: float) -> tuple[str, float]:
    """chi_sim on the crop padded by ``pad`` text heights, scaled and blurred: on thin, broken strokes
    Tesseract otherwise finds no text line at all, erratically with the scale."""
    from PIL import Image, ImageFilter

    img = Image.fromarray(_padded(gray, int(pad * height) + 4))
    img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.LANCZOS)
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    text, conf = engines.read(engines.text, img, TEXT_PPI)
    return join_han(text), conf


def join_han(text: str) -> str:
    """Tesseract's Chinese model puts spaces between Han characters: dropped (kept between numbers)."""
    return _HAN_GAP.sub("", re.sub(r"\s+", " ", text)).strip()


def _plausible(reading: str, width: int, height: int) -> bool:
    """Is a number of this many digits as wide as the ink (a digit is 0.26-0.85 text heights wide)?"""
    n = sum(ch.isdigit() for ch in reading) + 0.3 * reading.count(".") + 0.5 * sum(ch in "+-" for ch in reading)
    return n > 0 and 0.18 * n * height <= width <= (0.95 * n + 0.35) * height


def _lines_of_text(ink: np.ndarray, dpi: float) -> int:
    """Bands of pixel rows holding ink; ink shorter than :data:`ONE_LINE_IN` is one line whatever its
    gaps (the grey diagonal of a 2 eight pixels high is no ink, and splits it in two)."""
    rows = ink.any(axis=1).astype(np.int8)
    box = ink_box(ink)
    if box is not None and box[1] - box[0] < ONE_LINE_IN * dpi:
        return 1
    return int((np.diff(np.concatenate([[0], rows])) == 1).sum())


def _drop_bottom_underline(gray: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel rows at the bottom of the ink dark across most of its width (an underlined number or
    link, at most 4 rows) painted white, when they are apart from the glyphs (:func:`_apart`)."""
    y0, y1, x0, x1 = ink_box(ink)
    if x1 - x0 < 6:
        return gray, ink
    fill = ink[:, x0:x1].mean(axis=1)
    y, removed = y1 - 1, 0
    while y >= y0 and fill[y] >= 0.85 and removed < 4:
        y, removed = y - 1, removed + 1
    if not removed or not _apart(ink[y0:y + 1, x0:x1], ink[y + 1:y1, x0:x1], y1 - y0):
        return gray, ink
    gray, ink = gray.copy(), ink.copy()
    gray[y + 1:y1], ink[y + 1:y1] = 255, False
    return gray, ink


def _apart(above: np.ndarray, bar: np.ndarray, height: int) -> bool:
    """Is a dark bar under the ink an underline rather than the foot of the glyphs (the base of a 2,
    the serif of a 1)? It is when a blank pixel row lies between them, or when it runs on past the
    glyphs' ink by a fifth of the ink's height on one side (a link's underline from the cell's border)."""
    if not above.any() or not above[-1].any():
        return True
    columns = np.nonzero(above.any(axis=0))[0]
    reach = np.nonzero(bar.any(axis=0))[0]
    past = max(2, round(0.2 * height))
    return bool(reach[0] <= columns[0] - past or reach[-1] >= columns[-1] + past)


def _drop_underlines(gray: np.ndarray, ink: np.ndarray, line_h: int) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal ink runs longer than 1.6 text heights and at most 3 px thick (an underline; a Han
    stroke is at most one character wide) painted white."""
    r, s, e = runs(ink, 1)
    keep = (e - s) >= max(8, int(1.6 * line_h))
    if not keep.any():
        return gray, ink
    m = paint(ink.shape, r[keep], s[keep], e[keep])
    rt, st, et = runs(m.T, 0)
    fat = (et - st) > 3
    m &= ~paint(m.T.shape, rt[fat], st[fat], et[fat]).T
    return np.where(m, 255, gray).astype(np.uint8), ink & ~m


def read_cell(engines: Engines, gray: np.ndarray, ink: np.ndarray, dpi: float, touches: bool,
              number: bool = False) -> CellReading:
    """The reading of one cell crop (inside its ruling lines, their pixels painted white). With
    ``number`` (a short cell in a column of numbers) it is a number, confirmed or not, never text."""
    if ink.sum() < EMPTY_INK * (dpi / 150.0) ** 2 or ink_box(ink) is None:
        return CellReading("empty", "")
    gray, ink = _drop_bottom_underline(gray, ink)
    if ink_box(ink) is None:
        return CellReading("empty", "")
    y0, y1, x0, x1 = ink_box(ink)
    margin = max(2, int(0.01 * dpi))
    y0, x0 = max(0, y0 - margin), max(0, x0 - margin)
    gray, ink = gray[y0:y1 + margin, x0:x1 + margin], ink[y0:y1 + margin, x0:x1 + margin]
    top, bottom, left, right = ink_box(ink)
    ink_h, ink_w = bottom - top, right - left
    lines = _lines_of_text(ink, dpi)
    line_h = max(1, ink_h // lines) if lines > 1 else max(1, ink_h)
    gray, ink = _drop_underlines(gray, ink, line_h)
    if lines <= 1 and not touches and ink_w <= 12 * max(1, ink_h):
        quick = _quick_number(engines, gray, ink)
        if quick is not None:
            return quick
    text, conf = _first_pass(engines, gray, line_h, ink_w, lines, dpi)
    compact = digit_lookalikes(normalize_text(text, False).replace(" ", ""))
    numberish = bool(NUMBERISH.match(compact)) and any(c.isdigit() for c in compact)
    unsure = len(compact) <= 3 and (not _HAN.search(compact) or conf < 70)
    if lines <= 1 and (numberish or unsure or number) and ink_w <= 12 * max(1, ink_h):
        found = _read_number(engines, gray, ink, compact, touches, number)
        if found is not None:
            return found
    return CellReading("text", _check_digits_in_text(engines, gray, line_h, dpi, text), touches=touches)


def _first_pass(engines: Engines, gray: np.ndarray, line_h: int, ink_w: int, lines: int,
                dpi: float) -> tuple[str, float]:
    if lines >= 2 and ink_w <= 1.6 * line_h:  # one character per line (a narrow header): read as a row
        gray, lines, ink_w = _stack_to_row(gray), 1, ink_w * lines
    expected = ink_w * lines / max(1, line_h)  # characters, if square
    best = ("", 0.0)
    for scale, pad, blur in TEXT_TRIES:
        text, conf = _text_pass(engines, gray, line_h, scale * TEXT_PPI / dpi, pad, blur)
        if len(text.replace(" ", "")) > len(best[0].replace(" ", "")):
            best = (text, conf)
        if len(best[0].replace(" ", "")) >= 0.4 * expected or expected < 2.5:
            break  # a text line found (else: none found, erratically with the scale and blur: retry)
    return best


def _stack_to_row(gray: np.ndarray) -> np.ndarray:
    """The lines of text of a crop set side by side, left to right, bottom-aligned."""
    rows = (gray < 160).any(axis=1).astype(np.int8)
    edges = np.diff(np.concatenate([[0], rows, [0]]))
    bands = list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]))
    height = max(b - a for a, b in bands)
    gap = max(2, height // 3)
    out = np.full((height, sum(gray.shape[1] + gap for _ in bands)), 255, dtype=np.uint8)
    x = 0
    for a, b in bands:
        out[height - (b - a):, x:x + gray.shape[1]] = gray[a:b]
        x += gray.shape[1] + gap
    return out


def _read_number(engines: Engines, gray: np.ndarray, ink: np.ndarray, first: str,
                 touches: bool, forced: bool = False) -> CellReading | None:
    box = ink_box(ink)
    height, width = box[1] - box[0], box[3] - box[2]
    a, conf_a = engines.read(engines.eng_digits, _scaled(gray, height, DIGIT_PX_A))
    b, conf_b = engines.read(engines.eng_digits, _scaled(gray, height, DIGIT_PX_B, THRESHOLD_B))
    a, b = a.replace(" ", ""), b.replace(" ", "")
    fits = [bool(NUMBERISH.match(r)) and _plausible(r, width, height) for r in (a, b)]
    if not any(fits) and not forced and (_HAN.search(first) or not any(ch.isdigit() for ch in first)):
        return None  # text after all
    confidence = round((conf_a + conf_b) / 2, 1)
    if all(fits) and a == b and WELL_FORMED.match(a) and not touches:
        return CellReading("number", a, None, None, confidence, touches)
    if not fits[0]:  # A read nothing that fits (a lone glyph at one scale): A again at another scale,
        # for the candidates only (a sum rule must still hold with it)
        a, _ = engines.read(engines.eng_digits, _scaled(gray, height, DIGIT_PX_A_AGAIN))
        a = a.replace(" ", "")
        fits[0] = bool(NUMBERISH.match(a)) and _plausible(a, width, height)
    c, _ = engines.read(engines.chi_digits, _scaled(gray, height, DIGIT_PX_C))
    c = c.replace(" ", "")
    readings = tuple(r if ok else "" for r, ok in zip((a, b), fits)) + (
        c if NUMBERISH.match(c) and _plausible(c, width, height) else "", first)
    return CellReading("number", likeliest(readings), readings, candidates(readings), confidence, touches)


def _quick_number(engines: Engines, gray: np.ndarray, ink: np.ndarray) -> CellReading | None:
    """A one-line cell that is plainly a number, without the Chinese first pass (the slow reading of
    every cell): the English model with all its characters reads only a well-formed number there,
    confidently, and both digit readings give the same number at a width that fits it."""
    box = ink_box(ink)
    height, width = box[1] - box[0], box[3] - box[2]
    picture = _scaled(gray, height, DIGIT_PX_A)
    a, conf_a = engines.read(engines.eng_digits, picture)
    a = a.replace(" ", "")
    if not WELL_FORMED.match(a) or not _plausible(a, width, height):
        return None
    seen, conf = engines.read(engines.eng_line, picture)
    if conf < QUICK_CONFIDENCE or seen.replace(" ", "") != a:
        return None
    b, conf_b = engines.read(engines.eng_digits, _scaled(gray, height, DIGIT_PX_B, THRESHOLD_B))
    if b.replace(" ", "") == a:
        return CellReading("number", a, None, None, round((conf_a + conf_b) / 2, 1), False)
    return None


def candidates(readings: tuple[str, ...]) -> tuple[str, ...]:
    """Values two independent readings give: A and B (one model, two pictures), or one of them and one
    of C and the first pass (the other model). C and the first pass alone share a model and its
    confusions (at 96 dpi chi_sim reads a 2 as 7 in both), so they never make a candidate together."""
    a, b, c, first = readings
    values = {a} if a and a == b else set()
    values |= {v for v in (a, b) if v and v in (c, first)}
    return tuple(sorted(v for v in values if WELL_FORMED.match(v)))


def likeliest(readings: tuple[str, ...]) -> str:
    """The well-formed reading most readings give (the first of them on a tie)."""
    formed = [r for r in readings if WELL_FORMED.match(r)]
    if formed:
        return max(formed, key=formed.count)
    # none: a text that still reads as a value, so a row label's tail never runs on over this cell
    return next((r for r in readings if NUMBERISH.match(r) and r[0].isdigit()), "-")


def _check_digits_in_text(engines: Engines, gray: np.ndarray, line_h: int, dpi: float, text: str) -> str:
    """Digits inside a text cell (other than a list number such as ``1.``) read again at another scale;
    digit runs the two passes do not share are written ``?``."""
    compact = _LIST_NUMBER.sub("", text.replace(" ", ""))
    found = _DIGIT_RUN.findall(compact)
    if not found or sum(len(f) for f in found) < 0.3 * len(compact):
        return text  # a label with a stray digit, not a value
    again, _ = _text_pass(engines, gray, line_h, 1.5 * TEXT_PPI / dpi, 0.8, 1.5)
    if _DIGIT_RUN.findall(_LIST_NUMBER.sub("", again.replace(" ", ""))) != found:
        return _DIGIT_RUN.sub("?", text)
    return text
