"""Generated scans: the report of ``report_documents`` drawn as page pictures (Pillow, a CJK font of the
machine), with optional skew and noise, at any dpi; saved as a PDF of JPEG pages (a scanned report)
or as PNG pictures of the tables (a web page with table pictures)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from report_documents import Table, grid_size, placed, report_blocks

FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
         "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
A4_IN = (8.27, 11.69)
FONT_PT = 10.5
PAGE_BREAK = "\f"  # a block of its own: the next block starts a new page


def cjk_font() -> str | None:
    return next((f for f in FONTS if Path(f).is_file()), None)


def _font(dpi: float, pt: float = FONT_PT):
    from PIL import ImageFont

    return ImageFont.truetype(cjk_font(), max(8, int(round(pt * dpi / 72))))


def _wrap(draw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if line and draw.textlength(line + ch, font=font) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line else lines


def draw_table(table: Table, dpi: float, width_in: float = 6.2):
    """One table as a picture: ruling lines and centred (wrapped) text, label columns wider."""
    from PIL import Image, ImageDraw

    n_rows, n_cols = grid_size(table)
    weights = [3.0 if c < 3 and n_cols == 10 else (2.2 if c == 0 and n_cols == 4 else 1.0) for c in range(n_cols)]
    unit = width_in * dpi / sum(weights)
    xs = [0.0]
    for w in weights:
        xs.append(xs[-1] + w * unit)
    font = _font(dpi)
    probe = ImageDraw.Draw(Image.new("L", (10, 10)))
    line_h = int(FONT_PT * dpi / 72 * 1.35)
    heights = [line_h + int(0.1 * dpi)] * n_rows
    cells = placed(table)
    for r, c, span in cells:
        lines = _wrap(probe, span.text, font, int(xs[c + span.colspan] - xs[c] - 0.08 * dpi))
        need = len(lines) * line_h + int(0.1 * dpi)
        if span.rowspan == 1:
            heights[r] = max(heights[r], need)
    ys = [0]
    for h in heights:
        ys.append(ys[-1] + h)
    img = Image.new("L", (int(xs[-1]) + 4, ys[-1] + 4), 255)
    draw = ImageDraw.Draw(img)
    thick = max(1, int(round(dpi / 150)))
    for r, c, span in cells:
        x0, x1, y0, y1 = int(xs[c]), int(xs[c + span.colspan]), ys[r], ys[r + span.rowspan]
        draw.rectangle([x0, y0, x1, y1], outline=0, width=thick)
        lines = _wrap(draw, span.text, font, x1 - x0 - int(0.08 * dpi))
        top = (y0 + y1 - len(lines) * line_h) // 2
        for i, text in enumerate(lines):
            draw.text(((x0 + x1 - draw.textlength(text, font=font)) / 2, top + i * line_h), text, font=font, fill=0)
    return img, ys


def _parts(img, ys: list[int], room: int, full: int, thick: int):
    """The table cut at row boundaries into parts that fit the room left and then whole pages; a cut
    is closed by a line on both sides, as a word processor prints a table going on on the next page."""
    from PIL import ImageDraw

    parts, top = [], 0
    while top < ys[-1]:
        limit = top + (room if not parts else full)
        cut = max((y for y in ys if top < y <= limit), default=None)
        if cut is None:
            if not parts:
                parts.append(None)  # nothing fits here: start on the next page
                continue
            cut = next(y for y in ys if y > top)
        part = img.crop((0, top, img.width, min(img.height, cut + thick + 1))).copy()
        ImageDraw.Draw(part).line([(0, 0), (part.width, 0)], fill=0, width=thick)
        parts.append(part)
        top = cut
    return parts


def draw_pages(dpi: float, blocks=None) -> list:
    """The report on A4 pages: each table starts a new page when it does not fit."""
    from PIL import Image, ImageDraw

    blocks = blocks or report_blocks()
    width, height = int(A4_IN[0] * dpi), int(A4_IN[1] * dpi)
    margin = int(0.9 * dpi)
    font = _font(dpi)
    pages = [Image.new("L", (width, height), 255)]
    y = margin
    thick = max(1, int(round(dpi / 150)))
    for block in blocks:
        if block == PAGE_BREAK:
            pages.append(Image.new("L", (width, height), 255))
            y = margin
            continue
        if isinstance(block, str):
            need = int(FONT_PT * dpi / 72 * 1.8)
            if y + need > height - margin:
                pages.append(Image.new("L", (width, height), 255))
                y = margin
            ImageDraw.Draw(pages[-1]).text((margin, y), block, font=font, fill=0)
            y += need
            continue
        img, ys = draw_table(block, dpi)
        for i, part in enumerate(_parts(img, ys, height - margin - y, height - 2 * margin, thick)):
            if i:
                pages.append(Image.new("L", (width, height), 255))
                y = margin
            if part is not None:
                pages[-1].paste(part, (margin, y))
                y += part.height
        y += int(0.15 * dpi)
    return pages


def broken_row_blocks(at: int, keep: int, numbers_after: bool = False, blocks=None) -> list:
    """The report with Table 3's row ``at`` broken by a page break, as a word processor prints it: the
    first ``keep`` characters of its label before the break and the rest after it, its numbers on
    one side (before, top-aligned; or after) and empty cells on the other."""
    from report_documents import Span, break_row

    blocks = list(blocks or report_blocks())
    index = next(i for i, b in enumerate(blocks) if not isinstance(b, str) and len(b) > 20)
    top, bottom = break_row(blocks[index], at, keep)
    if numbers_after:
        k = sum(1 for span in top[-1] if span.text.replace(".", "").isdigit())
        values = top[-1][-k:]
        top[-1] = top[-1][:-k] + [Span("") for _ in values]
        bottom[0] = bottom[0][:-k] + values
    blocks[index:index + 1] = [top, PAGE_BREAK, bottom]
    return blocks


def spoil(img, skew_deg: float = 0.0, noise: float = 0.0, seed: int = 0):
    """A scanner's defects: the page turned a little, grey noise."""
    from PIL import Image

    if skew_deg:
        img = img.rotate(skew_deg, resample=Image.BICUBIC, fillcolor=255)
    if noise:
        a = np.asarray(img).astype(np.float64) + np.random.default_rng(seed).normal(0, noise, img.size[::-1])
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return img


def scanned_pdf(dpi: float, skew_deg: float = 0.0, noise: float = 0.0, blocks=None) -> bytes:
    pages = [spoil(p, skew_deg, noise, i) for i, p in enumerate(draw_pages(dpi, blocks))]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=dpi, save_all=True, append_images=pages[1:], quality=90)
    return buffer.getvalue()


def png(img) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()
