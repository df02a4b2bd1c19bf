"""pdfminer's page aggregator with the work per character done in one place, to the same float.

For every character pdfminer's device calls a dozen small functions (``render_char``, the font's
``to_unichr``, ``char_width``, ``char_disp``, ``is_vertical`` twice, ``get_descent``, ``LTChar``'s
constructor, ``apply_matrix_rect`` with four ``apply_matrix_pt``, ``set_bbox``), which on a page of
text costs more than reading the content stream. :class:`GlyphAggregator` writes the same steps out
in one loop for horizontal fonts: a character's text and width are looked up once per font and code
(both depend on nothing else), and its box is computed by the same expressions in the same order,
so every ``LTChar`` has the attributes pdfminer's constructor gives it, bit for bit. Vertical fonts
go through pdfminer's own code.
"""

from __future__ import annotations

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar
from pdfminer.pdffont import PDFUnicodeNotDefined


class GlyphAggregator(PDFPageAggregator):
    """``PDFPageAggregator`` (no layout analysis) with :meth:`render_string_horizontal` in one loop."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._glyphs: dict[int, tuple[object, dict]] = {}  # id(font) -> (the font, code -> (text, width))

    def _glyph(self, font, cid: int) -> tuple[str, float]:
        """A code's text and width in ``font``, as ``render_char`` finds them (read once each)."""
        entry = self._glyphs.get(id(font))
        if entry is None or entry[0] is not font:
            entry = self._glyphs[id(font)] = (font, {})
        known = entry[1]
        found = known.get(cid)
        if found is None:
            try:
                text = font.to_unichr(cid)
                assert isinstance(text, str), str(type(text))
            except PDFUnicodeNotDefined:
                text = self.handle_undefined_char(font, cid)
            found = known[cid] = (text, font.char_width(cid))
        return found

    def render_string_horizontal(self, seq, matrix, pos, font, fontsize, scaling, charspace, wordspace, rise,
                                 dxscale, ncs, graphicstate):
        if font.is_vertical() or not all(isinstance(obj, (int, float, bytes)) for obj in seq):
            # pdfminer's own path: LTChar computes a vertical box; it warns about anything else in seq
            return super().render_string_horizontal(seq, matrix, pos, font, fontsize, scaling, charspace,
                                                     wordspace, rise, dxscale, ncs, graphicstate)
        (x, y) = pos
        (a, b, c, d, e, f) = matrix
        upright = a * d * scaling > 0 and b * c <= 0
        fontname = font.fontname
        descent = font.get_descent() * fontsize
        bottom, top = descent + rise, descent + rise + fontsize
        add = self.cur_item.add
        glyph = self._glyph
        needcharspace = False
        for obj in seq:
            if isinstance(obj, (int, float)):
                x -= obj * dxscale
                needcharspace = True
            else:
                for cid in font.decode(obj):
                    if needcharspace:
                        x += charspace
                    text, textwidth = glyph(font, cid)
                    # utils.translate_matrix, LTChar.__init__, apply_matrix_rect and apply_matrix_pt
                    # as pdfminer writes them
                    e1, f1 = x * a + y * c + e, x * b + y * d + f
                    adv = textwidth * fontsize * scaling
                    left1, bottom1 = a * 0 + c * bottom + e1, b * 0 + d * bottom + f1
                    right1, bottom2 = a * adv + c * bottom + e1, b * adv + d * bottom + f1
                    right2, top1 = a * adv + c * top + e1, b * adv + d * top + f1
                    left2, top2 = a * 0 + c * top + e1, b * 0 + d * top + f1
                    x0, y0 = min(left1, left2, right1, right2), min(bottom1, bottom2, top1, top2)
                    x1, y1 = max(left1, left2, right1, right2), max(bottom1, bottom2, top1, top2)
                    item = LTChar.__new__(LTChar)
                    item._text = text
                    item.matrix = (a, b, c, d, e1, f1)
                    item.fontname = fontname
                    item.ncs = ncs
                    item.graphicstate = graphicstate
                    item.adv = adv
                    item.upright = upright
                    item.x0, item.y0, item.x1, item.y1 = x0, y0, x1, y1
                    item.width, item.height = x1 - x0, y1 - y0
                    item.bbox = (x0, y0, x1, y1)
                    item.size = item.height
                    add(item)
                    x += adv
                    if cid == 32 and wordspace:
                        x += wordspace
                    needcharspace = True
        return (x, y)
