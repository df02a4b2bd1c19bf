"""One PDF page's content through pdfminer.six: its glyphs (boxes from the top-left corner, rotation
applied) and its ruling lines (visible stroked segments and filled rectangles thin enough to be lines),
without the underlines and strike-throughs of text and without characters printed twice for fake bold.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass

from pdfminer.layout import LTChar, LTCurve, LTFigure, LTImage, LTPage, LTRect

from pipeline.ingest.readers.grid import Glyph, Rule, merge_rules

DUPLICATE = 1.5  # the same character drawn again within this distance is one (fake bold)
THIN_FILL = 2.5  # a filled rectangle thinner than this is drawn as a ruling line
WHITE = 0.92  # a grey or RGB colour with every component above this is paper, not ink
# Text decorations (in glyph heights): an underline lies at most UNDERLINE_BELOW under the glyph boxes
# (a strike-through inside them), reaches at most DECORATION_OVERHANG beyond the text it marks, and
# the text covers DECORATION_COVER of it (gaps narrower than WORD_GAP between glyphs count as covered).
UNDERLINE_BELOW = 0.25
DECORATION_OVERHANG = 0.3
DECORATION_COVER = 0.8
WORD_GAP = 0.6


def _visible(color) -> bool:
    """False for white (or unset alpha-free paper colour) fills and strokes, which draw nothing."""
    if isinstance(color, (int, float)):
        color = (color,)
    if not isinstance(color, (tuple, list)) or not all(isinstance(v, (int, float)) for v in color):
        return True  # a pattern or an unknown colour space: assume ink
    if len(color) in (1, 3):
        return not all(v >= WHITE for v in color)
    if len(color) == 4:  # CMYK: white is no ink at all
        return not all(v <= 1 - WHITE for v in color)
    return True


def _straight_pieces(item: LTCurve) -> list[tuple[tuple[float, float], tuple[float, float], bool]]:
    """(start, end, straight) for each piece of one subpath, closing it when it is closed."""
    path = item.original_path or [("m", item.pts[0]), *(("l", p) for p in item.pts[1:])]
    pieces = []
    start = current = None
    for op, *points in path:
        if op == "m":
            start = current = points[-1]
        elif op == "h":
            if current is not None and start is not None and current != start:
                pieces.append((current, start, True))
            current = start
        elif points and current is not None:
            pieces.append((current, points[-1], op == "l"))
            current = points[-1]
    if isinstance(item, LTRect) and pieces and pieces[-1][1] != pieces[0][0]:
        pieces.append((pieces[-1][1], pieces[0][0], True))
    return pieces


def path_rules(item: LTCurve, page_height: float) -> list[Rule]:
    """Ruling lines drawn by one subpath: its visible axis-aligned strokes, or the whole shape when
    it is a visible filled rectangle thin enough to be a line. Coordinates from the top of the page."""
    stroked = bool(item.stroke) and _visible(item.stroking_color)
    filled = bool(item.fill) and _visible(item.non_stroking_color)
    if not (stroked or filled):
        return []
    flip = lambda p: (p[0], page_height - p[1])  # noqa: E731
    pieces = [(flip(a), flip(b), straight) for a, b, straight in _straight_pieces(item)]
    rules = []
    if stroked:
        for (xa, ya), (xb, yb), straight in pieces:
            if not straight:
                continue
            if abs(ya - yb) < 0.5:
                rules.append(Rule(True, (ya + yb) / 2, min(xa, xb), max(xa, xb)))
            elif abs(xa - xb) < 0.5:
                rules.append(Rule(False, (xa + xb) / 2, min(ya, yb), max(ya, yb)))
    if filled and pieces and all(straight for _, _, straight in pieces):
        xs = [p[0] for piece in pieces for p in piece[:2]]
        ys = [p[1] for piece in pieces for p in piece[:2]]
        width, height = max(xs) - min(xs), max(ys) - min(ys)
        axis_aligned = all(abs(a[0] - b[0]) < 0.5 or abs(a[1] - b[1]) < 0.5 for a, b, _ in pieces)
        if axis_aligned and height <= THIN_FILL < width:
            rules.append(Rule(True, (max(ys) + min(ys)) / 2, min(xs), max(xs)))
        elif axis_aligned and width <= THIN_FILL < height:
            rules.append(Rule(False, (max(xs) + min(xs)) / 2, min(ys), max(ys)))
    return rules


@dataclass
class PageContent:
    glyphs: list[Glyph]
    rules: list[Rule]
    unmapped: int  # characters whose font gives no Unicode text ("(cid:12)")
    images: int


def page_content(layout: LTPage) -> PageContent:
    """Glyphs (boxes from the top-left corner, rotation applied) and ruling lines of one page."""
    height = layout.height
    content = PageContent([], [], 0, 0)

    def walk(container) -> None:
        for item in container:
            if isinstance(item, LTChar):
                text = item.get_text()
                if text.startswith("(cid:"):
                    content.unmapped += 1
                elif text.strip():
                    a, b = item.matrix[0], item.matrix[1]
                    turn = (1 if b > 0 else -1) if abs(b) > 2 * abs(a) else 0
                    content.glyphs.append(Glyph(text, item.x0, height - item.y1, item.x1, height - item.y0, turn))
            elif isinstance(item, LTCurve):
                content.rules.extend(path_rules(item, height))
            elif isinstance(item, LTImage):
                content.images += 1
            elif isinstance(item, LTFigure):
                walk(item)

    walk(layout)
    content.glyphs = drop_duplicate_glyphs(content.glyphs)
    content.rules = drop_text_decorations(content.rules, content.glyphs)
    return content


def drop_text_decorations(rules: list[Rule], glyphs: list[Glyph]) -> list[Rule]:
    """The ruling lines without the underlines and strike-throughs of text.

    Word processors draw underlined text (links, ``<u>``) as stroked segments just under the
    glyphs. In a narrow cell whose text starts at the cell's border, such a segment touches the
    border and covers most of the cell's width, so it would cut the cell after every wrapped line
    (``1.属于国家秘`` / ``密`` as two rows). A horizontal line (its collinear pieces joined first) is
    a decoration when it lies across or just under a line of glyphs, those glyphs cover it, and it
    reaches no further than they do. A cell edge under text that fills its cell goes on into the
    next cells (or is drawn there too), so once joined it reaches beyond the text and stays.
    """
    rules = merge_rules(rules)
    if not glyphs or not any(r.horizontal for r in rules):
        return rules
    by_bottom = sorted(glyphs, key=lambda g: g.bottom)
    bottoms = [g.bottom for g in by_bottom]
    tallest = max(g.bottom - g.top for g in glyphs)
    decorations = set()
    for index, rule in enumerate(rules):
        if not rule.horizontal:
            continue
        lo = bisect.bisect_left(bottoms, rule.pos - UNDERLINE_BELOW * tallest)
        hi = bisect.bisect_right(bottoms, rule.pos + tallest)
        marked = sorted((g for g in by_bottom[lo:hi] if g.x1 > rule.start and g.x0 < rule.end and _marks(rule, g)),
                        key=lambda g: g.x0)
        if not marked:
            continue
        height = statistics.median(g.bottom - g.top for g in marked)
        if rule.start < marked[0].x0 - DECORATION_OVERHANG * height:
            continue
        if rule.end > max(g.x1 for g in marked) + DECORATION_OVERHANG * height:
            continue
        covered, reach = 0.0, rule.start
        for g in marked:
            a, b = max(g.x0, reach), min(g.x1, rule.end)
            if a - reach <= WORD_GAP * height:
                a = reach  # the space between two words is underlined too
            if b > a:
                covered += b - a
                reach = b
        if covered < DECORATION_COVER * (rule.end - rule.start):
            continue
        decorations.add(index)
    return [r for i, r in enumerate(rules) if i not in decorations] if decorations else rules


def _marks(rule: Rule, g: Glyph) -> bool:
    """Could the horizontal line be drawn on this glyph: through its lower part or just under it?"""
    height = g.bottom - g.top
    return g.top + 0.3 * height < rule.pos <= g.bottom + UNDERLINE_BELOW * height


def drop_duplicate_glyphs(glyphs: list[Glyph]) -> list[Glyph]:
    """One of each character drawn twice at (almost) the same place, as fake bold is printed."""
    kept: list[Glyph] = []
    by_text: dict[str, list[Glyph]] = {}
    for g in sorted(glyphs, key=lambda g: (g.x0, g.top)):
        same = by_text.setdefault(g.text, [])
        duplicate = False
        for other in reversed(same):  # sorted by x0: only the last few can be close enough
            if g.x0 - other.x0 > DUPLICATE:
                break
            if abs(g.top - other.top) <= DUPLICATE:
                duplicate = True
                break
        if not duplicate:
            same.append(g)
            kept.append(g)
    return kept
