"""PDF input, read from the page's own structure: character boxes and ruling lines.

A text dump of a PDF loses the table (numbers land before their labels, a vertical stub is spread
one character per line). Here every page gives its glyphs (with their boxes) and its ruling lines
(stroked segments and thin filled rectangles) through pdfminer.six. Lines that touch each other form a
table; the distinct x and y positions of its lines form the elementary grid, and two neighbouring
elementary cells with no line drawn between them are one merged cell (a colspan or rowspan). Each
glyph goes to the cell that holds its centre. A table that runs off the bottom of a page and
continues at the top of the next one with the same outer edges is one logical table: its cells are
numbered on one grid.

The result is the same :class:`Document` as HTML gives: every table cell a structured cell on its
grid (empty cells included, a merged cell once at its top-left position), text outside tables as
lines. Where a page has a text layer but no ruling lines, its lines are split into fields at wide
gaps between glyphs (position-based columns), as the text reader splits on tabs.

Provenance: ``Cell.line`` is the 1-based page number; ``Cell.raw`` is the cell's text followed by
`` @p<page>:<x0>,<top>,<x1>,<bottom>``, its box in points from the top-left corner of the page as
displayed (rotation applied).

Limits: a page limit and a time budget per file (an alarm interrupts the parse where signals are
available, and the budget is checked between pages everywhere); what was not read is said in
``Document.problems``. Scanned PDFs (no text layer), encrypted and corrupt files raise
:class:`Unreadable` with a reason a person can act on; a damaged page is skipped with a note.
"""

from __future__ import annotations

import bisect
import io
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTCurve, LTFigure, LTImage, LTPage, LTRect
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser

from pipeline.knowledge import domain
from pipeline.ingest.normalize import is_traditional, normalize_text
from pipeline.timelimit import TimeLimitExceeded, time_limit
from pipeline.ingest.readers import Cell, Document, Unreadable

PAGE_LIMIT = 300  # annual reports run to a few dozen pages; the tables come early
TIME_BUDGET_S = 30.0

# Geometry, in points (1/72 inch).
SNAP = 2.0  # two ruling lines closer than this are one line (rounding, pieces of one border)
MIN_CELL = 4.0  # grid boundaries closer than this are one boundary (a double border is not a cell)
DUPLICATE = 1.5  # the same character drawn again within this distance is one (fake bold)
THIN_FILL = 2.5  # a filled rectangle thinner than this is drawn as a ruling line
MIN_RULE = 3.0  # shorter segments are ticks or glyph parts, not table borders
EDGE_COVERAGE = 0.6  # share of a cell edge a line must cover to separate two cells
MAX_RULES_PER_PAGE = 2_000  # more (joined) ruling lines than this: the page is a drawing (a chart, a map)
MAX_GRID_CELLS = 20_000  # elementary cells of one grid; a report table has a few hundred
CONTINUATION_EDGE = 4.0  # outer edges of two table parts on consecutive pages within this are one table
SPACE_GAP = 0.25  # gap between glyphs (in line heights) that is a space
FIELD_GAP = 1.0  # gap (in line heights) that separates two fields of a line without ruling lines
WHITE = 0.92  # a grey or RGB colour with every component above this is paper, not ink
# Text decorations (in glyph heights): an underline lies at most UNDERLINE_BELOW under the glyph boxes
# (a strike-through inside them), reaches at most DECORATION_OVERHANG beyond the text it marks, and
# the text covers DECORATION_COVER of it (gaps narrower than WORD_GAP between glyphs count as covered).
UNDERLINE_BELOW = 0.25
DECORATION_OVERHANG = 0.3
DECORATION_COVER = 0.8
WORD_GAP = 0.6
# A cell's text wrapped over lines without ruling lines: the next line of the cell starts at the same
# left edge (WRAP_ALIGN points) within WRAP_GAP line heights below; at most WRAP_CHAIN lines are joined.
WRAP_ALIGN = 2.0
WRAP_GAP = 1.5
WRAP_CHAIN = 6
# Columns of a table without ruling lines whose texts touch: a left edge where at least COLUMN_EDGE_SUPPORT
# fields start (within COLUMN_EDGE_TOL points) splits a field that runs across it, inside the table
# (the lines between the first and the last with at least TABLE_LINE_FIELDS fields).
COLUMN_EDGE_SUPPORT = 3
COLUMN_EDGE_TOL = 1.0
COLUMN_EDGE_WINDOW = 10  # lines above and below whose fields show the edges (a page has other tables)
TABLE_LINE_FIELDS = 3
_NUMBER_CHARS = frozenset("0123456789.,+-%")

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_NUMERIC_ONLY = re.compile(r"[\d\s.,+\-]+")


@dataclass(frozen=True, slots=True)
class Glyph:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    turn: int = 0  # text turned a quarter: +1 reads upwards (rotated anticlockwise), -1 downwards

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True, slots=True)
class Rule:
    """An axis-aligned ruling line: ``pos`` is its y (horizontal) or x (vertical), from start to end."""

    horizontal: bool
    pos: float
    start: float
    end: float


@dataclass(slots=True)
class GridCell:
    row: int
    col: int
    rowspan: int
    colspan: int
    x0: float
    top: float
    x1: float
    bottom: float
    glyphs: list[Glyph] = field(default_factory=list)
    # a row broken by a page break: the same cell's rest at the top of the next page, and on that
    # cell the mark that it was read with the part before the break
    continuation: GridCell | None = None
    continues_previous: bool = False


@dataclass(slots=True)
class Grid:
    xs: list[float]  # column boundaries, left to right
    ys: list[float]  # row boundaries, top to bottom
    cells: list[GridCell]
    # elementary (row, col) -> the (possibly merged) cell covering it
    index: dict[tuple[int, int], GridCell] = field(default_factory=dict, repr=False)

    @property
    def x0(self) -> float:
        return self.xs[0]

    @property
    def x1(self) -> float:
        return self.xs[-1]

    @property
    def top(self) -> float:
        return self.ys[0]

    @property
    def bottom(self) -> float:
        return self.ys[-1]


# --- ruling lines to grids (pure geometry) ------------------------------------------------------


def _cluster(values: Iterable[float], tol: float = SNAP) -> list[float]:
    """Sorted representatives of values, where values within ``tol`` of their neighbour are one."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(group) / len(group) for group in out]


def merge_rules(rules: Iterable[Rule], tol: float = SNAP) -> list[Rule]:
    """Collinear pieces joined: lines at (nearly) the same position whose extents touch or overlap."""
    merged: list[Rule] = []
    for horizontal in (True, False):
        same = sorted((r for r in rules if r.horizontal == horizontal), key=lambda r: r.pos)
        groups: list[list[Rule]] = []
        for r in same:
            if groups and r.pos - groups[-1][-1].pos <= tol:
                groups[-1].append(r)
            else:
                groups.append([r])
        for group in groups:
            pos = statistics.fmean(r.pos for r in group)
            spans = sorted((min(r.start, r.end), max(r.start, r.end)) for r in group)
            start, end = spans[0]
            for a, b in spans[1:]:
                if a <= end + tol:
                    end = max(end, b)
                else:
                    merged.append(Rule(horizontal, pos, start, end))
                    start, end = a, b
            merged.append(Rule(horizontal, pos, start, end))
    return [r for r in merged if r.end - r.start >= MIN_RULE]


def _touch(h: Rule, v: Rule, tol: float) -> bool:
    return h.start - tol <= v.pos <= h.end + tol and v.start - tol <= h.pos <= v.end + tol


def _components(rules: list[Rule], tol: float) -> list[list[Rule]]:
    """Groups of lines connected through crossings: each group is one drawn table (or box)."""
    parent = list(range(len(rules)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    hs = [i for i, r in enumerate(rules) if r.horizontal]
    vs = sorted((i for i, r in enumerate(rules) if not r.horizontal), key=lambda i: rules[i].pos)
    v_pos = [rules[i].pos for i in vs]
    for i in hs:
        h = rules[i]
        lo = bisect.bisect_left(v_pos, h.start - tol)
        hi = bisect.bisect_right(v_pos, h.end + tol)
        for j in vs[lo:hi]:
            if _touch(h, rules[j], tol):
                parent[find(i)] = find(j)
    groups: dict[int, list[Rule]] = {}
    for i, r in enumerate(rules):
        groups.setdefault(find(i), []).append(r)
    return list(groups.values())


def _covered(rules_at_pos: list[Rule], a: float, b: float) -> bool:
    """Do the lines at one boundary position cover enough of the edge from a to b?"""
    length = b - a
    if length <= 0:
        return True
    spans = sorted((max(a, r.start), min(b, r.end)) for r in rules_at_pos)
    covered, reach = 0.0, a
    for s, e in spans:
        s = max(s, reach)
        if e > s:
            covered += e - s
            reach = e
    return covered >= EDGE_COVERAGE * length


def build_grids(rules: Iterable[Rule], tol: float = SNAP) -> list[Grid]:
    """Tables drawn by ruling lines, each as a grid of (possibly merged) cells, top to bottom.

    A group of touching lines needs at least two column boundaries and two row boundaries; groups
    with a single column (a box around a paragraph) are not tables and are left to the text.
    """
    grids = []
    for group in _components(merge_rules(rules, tol), tol):
        hs = [r for r in group if r.horizontal]
        vs = [r for r in group if not r.horizontal]
        if not hs or not vs:
            continue
        xs = _cluster([r.pos for r in vs] + [min(r.start for r in hs), max(r.end for r in hs)], MIN_CELL)
        ys = _cluster([r.pos for r in hs] + [min(r.start for r in vs), max(r.end for r in vs)], MIN_CELL)
        if len(xs) < 3 or len(ys) < 2 or (len(xs) - 1) * (len(ys) - 1) > MAX_GRID_CELLS:
            continue
        grids.append(_grid_from_lines(xs, ys, hs, vs, tol))
    grids.sort(key=lambda g: (g.top, g.x0))
    return grids


def _grid_from_lines(xs: list[float], ys: list[float], hs: list[Rule], vs: list[Rule], tol: float) -> Grid:
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    near = max(tol, MIN_CELL)
    v_at = [[r for r in vs if abs(r.pos - x) <= near] for x in xs]
    h_at = [[r for r in hs if abs(r.pos - y) <= near] for y in ys]
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        for c in range(n_cols):
            here = r * n_cols + c
            if c + 1 < n_cols and not _covered(v_at[c + 1], ys[r], ys[r + 1]):
                parent[find(here)] = find(here + 1)
            if r + 1 < n_rows and not _covered(h_at[r + 1], xs[c], xs[c + 1]):
                parent[find(here)] = find(here + n_cols)
    members: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            members.setdefault(find(r * n_cols + c), []).append((r, c))
    grid = Grid(xs, ys, [])
    for spots in members.values():
        r0, r1 = min(r for r, _ in spots), max(r for r, _ in spots)
        c0, c1 = min(c for _, c in spots), max(c for _, c in spots)
        cell = GridCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1])
        grid.cells.append(cell)
        for spot in spots:
            grid.index[spot] = cell
    grid.cells.sort(key=lambda cell: (cell.row, cell.col))
    return grid


def place_glyphs(grids: list[Grid], glyphs: Iterable[Glyph], tol: float = SNAP) -> list[Glyph]:
    """Put every glyph whose centre lies in a grid into its cell; return the glyphs outside grids."""
    outside = []
    for g in glyphs:
        for grid in grids:
            if grid.x0 - tol <= g.cx <= grid.x1 + tol and grid.top - tol <= g.cy <= grid.bottom + tol:
                r = min(max(bisect.bisect_right(grid.ys, g.cy) - 1, 0), len(grid.ys) - 2)
                c = min(max(bisect.bisect_right(grid.xs, g.cx) - 1, 0), len(grid.xs) - 2)
                grid.index[(r, c)].glyphs.append(g)
                break
        else:
            outside.append(g)
    return outside


# --- glyphs to text -------------------------------------------------------------------------------


def group_lines(glyphs: Iterable[Glyph]) -> list[list[Glyph]]:
    """Glyphs in reading order: lines top to bottom (vertical overlap), each left to right."""
    lines: list[tuple[float, float, list[Glyph]]] = []  # top, bottom, glyphs
    for g in sorted(glyphs, key=lambda g: (g.top, g.x0)):
        if lines:
            top, bottom, members = lines[-1]
            overlap = min(bottom, g.bottom) - max(top, g.top)
            if overlap >= 0.5 * min(bottom - top, g.bottom - g.top):
                members.append(g)
                lines[-1] = (min(top, g.top), max(bottom, g.bottom), members)
                continue
        lines.append((g.top, g.bottom, [g]))
    return [sorted(members, key=lambda g: g.x0) for _, _, members in lines]


def _line_height(line: list[Glyph]) -> float:
    return max(1.0, statistics.median(g.bottom - g.top for g in line))


def split_fields(line: list[Glyph], field_gap: float = FIELD_GAP) -> list[list[Glyph]]:
    """A line's glyphs cut at gaps wider than ``field_gap`` line heights (columns without lines)."""
    height = _line_height(line)
    fields = [[line[0]]]
    for prev, g in zip(line, line[1:]):
        if g.x0 - prev.x1 > field_gap * height:
            fields.append([g])
        else:
            fields[-1].append(g)
    return fields


def line_text(line: list[Glyph]) -> str:
    height = _line_height(line)
    parts = [line[0].text]
    for prev, g in zip(line, line[1:]):
        if g.x0 - prev.x1 > SPACE_GAP * height:
            parts.append(" ")
        parts.append(g.text)
    return "".join(parts)


def _turned_lines(glyphs: list[Glyph], turn: int) -> list[str]:
    """Lines of text turned a quarter (a header set sideways in a narrow column): columns of glyphs,
    read upwards from the left column for text rotated anticlockwise, downwards from the right one
    for text rotated clockwise."""
    columns: list[tuple[float, float, list[Glyph]]] = []
    for g in sorted(glyphs, key=lambda g: g.x0):
        if columns and min(columns[-1][1], g.x1) - max(columns[-1][0], g.x0) >= 0.5 * min(
                columns[-1][1] - columns[-1][0], g.x1 - g.x0):
            x0, x1, members = columns[-1]
            members.append(g)
            columns[-1] = (min(x0, g.x0), max(x1, g.x1), members)
        else:
            columns.append((g.x0, g.x1, [g]))
    ordered = columns if turn > 0 else columns[::-1]
    return ["".join(g.text for g in sorted(members, key=lambda g: g.top, reverse=turn > 0))
            for _, _, members in ordered]


def cell_text(glyphs: list[Glyph]) -> str:
    """The text of one table cell: its lines joined; a line break between CJK characters is nothing."""
    if not glyphs:
        return ""
    turned = sum(g.turn for g in glyphs)
    if abs(turned) * 2 > len(glyphs):
        pieces = _turned_lines(glyphs, 1 if turned > 0 else -1)
    else:
        pieces = [line_text(line) for line in group_lines(glyphs)]
    text = ""
    for piece in pieces:
        if text and not (_CJK.match(text[-1]) and _CJK.match(piece[0])):
            text += " "
        text += piece
    if _NUMERIC_ONLY.fullmatch(text):
        text = re.sub(r"\s+", "", text)  # one number wrapped in a narrow cell
    return text


# --- extraction (pdfminer.six) ---------------------------------------------------------------------


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


# --- pages to a document ---------------------------------------------------------------------------


@dataclass
class _Block:
    """One thing on a page, in reading order: a table (grid) or a line of text."""

    top: float
    grid: Grid | None = None
    line: list[Glyph] | None = None
    # the line's fields when they differ from its gaps' (cut at a column's edge, or wrapped text joined
    # into them or taken out of them): each field is its pieces, one per line of text
    fields: list[list[list[Glyph]]] | None = None
    structured: bool = False  # the line had several fields


def page_blocks(content: PageContent) -> list[_Block]:
    """The page's tables (with their glyphs placed in cells) and its other lines, top to bottom."""
    grids = build_grids(content.rules)
    grids = [g for g in grids if not any(_inside(g, other) for other in grids if other is not g)]
    rest = place_glyphs(grids, content.glyphs)
    blocks = [_Block(g.top, grid=g) for g in grids if any(c.glyphs for c in g.cells)]
    blocks += [_Block(min(x.top for x in line), line=line) for line in group_lines(rest)]
    blocks.sort(key=lambda b: b.top)
    return blocks


def _inside(inner: Grid, outer: Grid) -> bool:
    """A grid drawn inside a cell of another (a nested table) is read as part of the outer one."""
    return (inner.x0 >= outer.x0 - SNAP and inner.x1 <= outer.x1 + SNAP and inner.top >= outer.top - SNAP
            and inner.bottom <= outer.bottom + SNAP and (inner.xs, inner.ys) != (outer.xs, outer.ys))


def _continues(previous: Grid, following: Grid) -> bool:
    return (abs(previous.x0 - following.x0) <= CONTINUATION_EDGE
            and abs(previous.x1 - following.x1) <= CONTINUATION_EDGE)


def _renumber_columns(parts: list[Grid]) -> None:
    """Cells of a table split over pages on one set of grid columns (the union of the parts')."""
    xs = _cluster([x for g in parts for x in g.xs], CONTINUATION_EDGE)
    for grid in parts:
        for cell in grid.cells:
            first = min(range(len(xs)), key=lambda i: abs(xs[i] - cell.x0))
            last = min(range(len(xs)), key=lambda i: abs(xs[i] - cell.x1))
            cell.col, cell.colspan = first, max(1, last - first)


def _is_noise(line: list[Glyph], page_number: re.Pattern) -> bool:
    return bool(page_number.match(normalize_text(line_text(line), False)))


def join_continued_tables(pages: list[list[_Block]]) -> list[tuple[Grid, Grid]]:
    """Tables that go on at the top of the next page become one grid. Returns the joined pairs.

    A table continues when it is the last thing on a page (page numbers aside), the next page
    starts with a table, and the two have the same outer left and right edges.
    """
    page_number = domain.noise_patterns("page_number")
    joins: list[tuple[Grid, Grid]] = []
    chain: list[Grid] = []

    def finish() -> None:
        if len(chain) > 1:
            _renumber_columns(chain)
        chain.clear()

    for blocks in pages:
        blocks = [b for b in blocks if b.grid is not None or not _is_noise(b.line, page_number)]
        if not blocks:
            finish()
            continue
        first, last = blocks[0].grid, blocks[-1].grid
        if chain and first is not None and _continues(chain[-1], first):
            joins.append((chain[-1], first))
            chain.append(first)
        else:
            finish()
        if last is None or last is not first:
            finish()
        if last is not None and not chain:
            chain.append(last)
    finish()
    return joins


@cache
def _row_labels() -> tuple[re.Pattern, ...]:
    return tuple(lab.regex for section in domain.SECTIONS for kind in ("row", "group")
                 for lab in domain.labels(section, kind))


def _compact(glyphs: list[Glyph]) -> str:
    return re.sub(r"\s+", "", normalize_text(cell_text(glyphs), False))


def _label_across(before: str, after: str) -> bool:
    """Does a row label of the tables (labels.csv) run from one text into the other?"""
    joined = before + after
    return any(m.start() < len(before) < m.end() for regex in _row_labels() for m in regex.finditer(joined))


def merge_split_rows(previous: Grid, following: Grid) -> bool:
    """A row broken by the page break: its cells before and after the break read as one row.

    Geometry cannot tell a broken row from a new one (both are closed by a line at the page end), so
    the text decides: the last row before the break and the first row after it must have the same
    cells (empty cells after the break aside, those are merged cells going on from above), and a row
    label of the tables must run from a cell before the break into the same cell after it. Without
    that proof the rows stay apart: a broken label then leaves its row ambiguous, never wrong.
    """
    last = max(c.row for c in previous.cells)
    before = {(c.col, c.colspan): c for c in previous.cells if c.row == last}
    after = [c for c in following.cells if c.row == 0]
    pairs = [(before.get((c.col, c.colspan)), c) for c in after]
    if any(a is None and b.glyphs for a, b in pairs) or len([a for a, _ in pairs if a]) != len(before):
        return False
    if not any(a is not None and a.glyphs and b.glyphs and _label_across(_compact(a.glyphs), _compact(b.glyphs))
               for a, b in pairs):
        return False
    for a, b in pairs:
        if a is not None:
            a.continuation = b
        b.continues_previous = True
    return True


def join_wrapped_fields(pages: list[list[_Block]], traditional: bool) -> int:
    """Text drawn without ruling lines: a label wrapped over several lines of a narrow cell read as one.

    Without lines, each line of text is read on its own, so a label wrapped in its cell (``1.属于国家秘``
    / ``密``) is cut by the row's numbers, which are centred between its two lines, and a wrapped stub
    (``三、本`` / ``年度办`` / ``理结果``) falls between other rows' labels and numbers. Geometry alone
    cannot tell the next line of a cell from the next row's cell when cells have no padding, so, as for
    a row broken by a page break, the text decides: a field takes in the field below it when that one
    starts at the same left edge, is the next text of that column (nothing else between them in its
    width, within :data:`WRAP_GAP` line heights) and a row label of the tables (labels.csv) runs from
    the one into the other. The joined text stays where its first line is, before the row's numbers.
    Without that proof nothing moves. Returns the number of lines joined.
    """
    joined = 0
    for blocks in pages:
        run: list[_Block] = []
        for block in [*blocks, None]:
            if block is not None and block.grid is None:
                run.append(block)
                continue
            if len(run) > 1:
                joined += _join_wrapped_in_run(run, traditional)
            run = []
    return joined


def _compact_text(glyphs: list[Glyph], traditional: bool) -> str:
    return re.sub(r"\s+", "", normalize_text(line_text(glyphs), traditional))


def column_fields(lines: list[list[Glyph]]) -> list[list[list[Glyph]]]:
    """The fields of consecutive lines of text: cut at wide gaps (:func:`split_fields`), and inside a
    table without ruling lines also where a field runs across a column's left edge (the texts of two
    cells without padding touch: ``(三)不`` and ``合法权益``). A column's left edge is a position where
    several fields of the nearby lines start. A number is never cut (nor cut from its unit)."""
    gaps = [split_fields(line) for line in lines]
    wide = [i for i, f in enumerate(gaps) if len(f) >= TABLE_LINE_FIELDS]
    if not wide:
        return gaps
    first, last = wide[0], wide[-1]
    fields = list(gaps)
    for i in range(first, last + 1):
        near = gaps[max(first, i - COLUMN_EDGE_WINDOW):min(last, i + COLUMN_EDGE_WINDOW) + 1]
        starts = sorted(f[0].x0 for line in near for f in line)
        edges = [group[0] for group in _groups(starts, COLUMN_EDGE_TOL) if len(group) >= COLUMN_EDGE_SUPPORT]
        if not edges:
            continue
        cut = []
        for field in gaps[i]:
            piece = [field[0]]
            for prev, g in zip(field, field[1:]):
                if prev.text not in _NUMBER_CHARS and any(
                        abs(g.x0 - e) <= COLUMN_EDGE_TOL and prev.x1 <= e + COLUMN_EDGE_TOL for e in edges):
                    cut.append(piece)
                    piece = []
                piece.append(g)
            cut.append(piece)
        fields[i] = cut
    return fields


def _groups(values: list[float], tol: float) -> list[list[float]]:
    """Sorted values in groups of neighbours within ``tol``."""
    out: list[list[float]] = []
    for v in values:
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return out


def _join_wrapped_in_run(run: list[_Block], traditional: bool) -> int:
    fields = [[[f] for f in line] for line in column_fields([block.line for block in run])]
    taken: set[tuple[int, int]] = set()
    joined = 0
    for i in range(len(run)):
        for fi, field in enumerate(fields[i]):
            if (i, fi) in taken or _NUMERIC_ONLY.fullmatch(line_text(field[0])):
                continue
            chain = [(i, fi)]
            while len(chain) < WRAP_CHAIN:
                below = _next_in_column(fields, chain[-1], field[0], taken)
                if below is None:
                    break
                chain.append(below)
            if len(chain) == 1:
                continue
            texts = [_compact_text(fields[j][fj][0], traditional) for j, fj in chain]
            text, ends = "", []
            for piece in texts:
                text += piece
                ends.append(len(text))
            crossed = {b for regex in _row_labels() for m in regex.finditer(text)
                       for b in ends[:-1] if m.start() < b < m.end()}
            for (j, fj), end in zip(chain[1:], ends):
                if end not in crossed:
                    break
                field.extend(fields[j][fj])
                taken.add((j, fj))
                joined += 1
    for j, block in enumerate(run):
        cut = len(fields[j]) != len(split_fields(block.line))
        if cut or any((j, fj) in taken for fj in range(len(fields[j]))) or any(len(f) > 1 for f in fields[j]):
            block.fields = [f for fj, f in enumerate(fields[j]) if (j, fj) not in taken]
            block.structured = len(fields[j]) > 1
    return joined


def _next_in_column(fields: list[list[list[Glyph]]], at: tuple[int, int], first: list[Glyph],
                    taken: set[tuple[int, int]]) -> tuple[int, int] | None:
    """The field on a following line that goes on from the field ``at`` (its last piece) in its column:
    the first text below it within the column's width, when it starts at the same left edge."""
    i, fi = at
    last = fields[i][fi][-1]
    height = _line_height(last)
    bottom = max(g.bottom for g in last)
    x0, x1 = first[0].x0, max(first[-1].x1, last[-1].x1)
    for j in range(i + 1, len(fields)):
        if not fields[j]:
            continue
        top = min(g.top for f in fields[j] for g in f[0])
        if top > bottom + WRAP_GAP * height:
            return None
        for fj, field in enumerate(fields[j]):
            glyphs = field[0]
            if glyphs[-1].x1 <= x0 or glyphs[0].x0 >= x1:
                continue  # another column
            if ((j, fj) in taken or abs(glyphs[0].x0 - x0) > WRAP_ALIGN
                    or _NUMERIC_ONLY.fullmatch(line_text(glyphs))):
                return None  # other text in the column: a cell of its own
            return j, fj
    return None


def _pieces_text(pieces: list[list[Glyph]]) -> str:
    """The text of a field joined from lines: a line break between CJK characters is nothing."""
    text = ""
    for piece in (line_text(p) for p in pieces):
        if text and not (_CJK.match(text[-1]) and _CJK.match(piece[0])):
            text += " "
        text += piece
    return text


def _box_tag(page: int, x0: float, top: float, x1: float, bottom: float) -> str:
    return f" @p{page}:{x0:.0f},{top:.0f},{x1:.0f},{bottom:.0f}"


def _table_cell(cell: GridCell, page: int, row: int, traditional: bool) -> Cell:
    """One structured cell; a cell of a row broken by a page break carries the text of both parts."""
    parts = [(page, cell)] + ([(page + 1, cell.continuation)] if cell.continuation is not None else [])
    texts = [(p, c, cell_text(c.glyphs)) for p, c in parts]
    written = [(p, c, t) for p, c, t in texts if t] or texts[:1]
    raw = ""
    for _, _, text in written:
        if raw and text and not (_CJK.match(raw[-1]) and _CJK.match(text[0])):
            raw += " "
        raw += text
    tags = ",".join(_box_tag(p, c.x0, c.top, c.x1, c.bottom).strip() for p, c, _ in written)
    return Cell(normalize_text(raw, traditional), f"{raw} {tags}", written[0][0], row, cell.col, True, traditional)


def pages_traditional(pages: list[list[_Block]]) -> bool:
    sample = "".join(g.text for blocks in pages for b in blocks
                     for g in (b.line if b.grid is None else [x for c in b.grid.cells for x in c.glyphs]))[:20000]
    return is_traditional(sample)


def blocks_to_document(pages: list[list[_Block]], traditional: bool | None = None) -> Document:
    """Table cells row by row (a merged cell once, at its first row), other lines as lines or fields."""
    page_number = domain.noise_patterns("page_number")
    traditional = pages_traditional(pages) if traditional is None else traditional
    doc = Document(format="pdf", traditional=traditional)
    next_row = 0
    for page_no, blocks in enumerate(pages, start=1):
        for block in blocks:
            if block.grid is not None:
                grid = block.grid
                by_row: dict[int, list[GridCell]] = {}
                for cell in grid.cells:
                    by_row.setdefault(cell.row, []).append(cell)
                for r in sorted(by_row):
                    cells = [c for c in sorted(by_row[r], key=lambda c: c.col) if not c.continues_previous]
                    for cell in cells:
                        doc.cells.append(_table_cell(cell, page_no, next_row, traditional))
                    next_row += 1 if cells else 0
                continue
            if block.fields is not None:
                next_row += _joined_line_cells(doc, block, page_no, next_row, traditional, page_number)
                continue
            line = block.line
            text = normalize_text(line_text(line), traditional)
            if not text.strip() or page_number.match(text):
                continue
            doc.lines.append(text)
            fields = split_fields(line)
            if len(fields) == 1:
                raw = line_text(line)
                tag = _box_tag(page_no, line[0].x0, min(g.top for g in line), line[-1].x1,
                               max(g.bottom for g in line))
                doc.cells.append(Cell(text, raw + tag, page_no, next_row, None, False, traditional))
            else:
                for index, glyphs in enumerate(fields):
                    raw = line_text(glyphs)
                    tag = _box_tag(page_no, glyphs[0].x0, min(g.top for g in glyphs), glyphs[-1].x1,
                                   max(g.bottom for g in glyphs))
                    doc.cells.append(Cell(normalize_text(raw, traditional), raw + tag, page_no, next_row, index,
                                          True, traditional))
            next_row += 1
    return doc


def _joined_line_cells(doc: Document, block: _Block, page_no: int, row: int, traditional: bool,
                       page_number: re.Pattern) -> int:
    """The cells of a line whose fields were cut at column edges or took in (or gave up) wrapped lines."""
    texts = [_pieces_text(pieces) for pieces in block.fields]
    text = normalize_text(" ".join(texts), traditional)
    if not text.strip() or page_number.match(text):
        return 0
    doc.lines.append(text)
    structured = block.structured
    for index, (raw, pieces) in enumerate(zip(texts, block.fields)):
        glyphs = [g for piece in pieces for g in piece]
        tag = _box_tag(page_no, min(g.x0 for g in glyphs), min(g.top for g in glyphs), max(g.x1 for g in glyphs),
                       max(g.bottom for g in glyphs))
        doc.cells.append(Cell(normalize_text(raw, traditional), raw + tag, page_no, row,
                              index if structured else None, structured, traditional))
    return 1


def open_pdf(data: bytes) -> tuple[PDFDocument, list[PDFPage]]:
    """The parsed document and its pages, or :class:`Unreadable` saying why it cannot be opened."""
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        pages = list(PDFPage.create_pages(document))
    except PDFPasswordIncorrect as exc:
        raise Unreadable("encrypted PDF: it needs a password to open; give an unprotected copy "
                         "(or the text or HTML version of the report)") from exc
    except PDFEncryptionError as exc:
        raise Unreadable(f"encrypted PDF with an unsupported protection ({exc}); give an unprotected copy "
                         "(or the text or HTML version of the report)") from exc
    except RecursionError as exc:
        raise Unreadable("corrupt PDF: its object tree loops; give the text or HTML version") from exc
    except Exception as exc:  # pdfminer raises many kinds on damaged files
        raise Unreadable(f"corrupt or unsupported PDF: it cannot be parsed ({type(exc).__name__}: {exc}); "
                         "check that the download is complete, or give the text or HTML version") from exc
    return document, pages


def read_pdf(data: bytes, page_limit: int | None = None, time_budget: float | None = None) -> Document:
    """The document of one PDF, or :class:`Unreadable` with the reason it cannot be read.

    ``page_limit`` and ``time_budget`` default to :data:`PAGE_LIMIT` and :data:`TIME_BUDGET_S`.
    """
    page_limit = PAGE_LIMIT if page_limit is None else page_limit
    time_budget = TIME_BUDGET_S if time_budget is None else time_budget
    start = time.monotonic()
    pages: list[PDFPage] | None = None
    contents: list[PageContent] = []
    problems: list[str] = []
    notes: list[str] = []
    deadline = None
    try:
        with time_limit(time_budget) as deadline:
            _, pages = open_pdf(data)
            if not pages:
                raise Unreadable("PDF without pages: nothing to read")
            resources = PDFResourceManager(caching=True)
            device = PDFPageAggregator(resources, laparams=None)  # characters and paths, no layout analysis
            interpreter = PDFPageInterpreter(resources, device)
            for index, page in enumerate(pages[:page_limit]):
                if time.monotonic() - start > time_budget:
                    raise TimeLimitExceeded(deadline)
                try:
                    interpreter.process_page(page)
                    content = page_content(device.get_result())
                    content.rules = merge_rules(content.rules)
                    if len(content.rules) > MAX_RULES_PER_PAGE:
                        notes.append(f"PDF page {index + 1}: {len(content.rules)} lines, a drawing: read as text")
                        content.rules = []
                    contents.append(content)
                except Exception as exc:  # one damaged page does not lose the others
                    problems.append(f"PDF page {index + 1} could not be read ({type(exc).__name__}: {exc})")
                    contents.append(PageContent([], [], 0, 0))
    except TimeLimitExceeded as exc:
        if exc.deadline != deadline:
            raise  # the caller's limit (the build's per-file limit), not this parse budget
        if pages is None:
            raise Unreadable(f"PDF time limit ({time_budget:g} s) reached while opening the file; "
                             "give the text or HTML version", cacheable=False) from None
        if len(contents) < min(len(pages), page_limit):
            problems.append(f"PDF time limit ({time_budget:g} s) reached on page {len(contents) + 1} of "
                            f"{len(pages)}: pages {len(contents) + 1}-{len(pages)} not read")
    n_pages = len(pages)
    if n_pages > page_limit and len(contents) == page_limit:
        problems.append(f"PDF page limit: only the first {page_limit} of {n_pages} pages read")
    cut_short = len(contents) < n_pages
    check_text_layer(contents, n_pages, problems)
    blocks = [page_blocks(c) for c in contents]
    joins = join_continued_tables(blocks)
    broken_rows = sum(merge_split_rows(previous, following) for previous, following in joins)
    traditional = pages_traditional(blocks)
    wrapped = join_wrapped_fields(blocks, traditional)
    doc = blocks_to_document(blocks, traditional)
    doc.pages = len(contents)
    doc.cut_short = cut_short
    if joins:
        notes.append(f"{len(joins)} table(s) continued on the next page joined")
    if broken_rows:
        notes.append(f"{broken_rows} row(s) broken by a page break read as one")
    if wrapped:
        notes.append(f"{wrapped} line(s) of text without ruling lines joined to the wrapped label they continue")
    doc.notes.extend(notes)
    doc.problems.extend(problems)
    return doc


def check_text_layer(contents: list[PageContent], n_pages: int, problems: list[str]) -> None:
    """:class:`Unreadable` when the pages read give no usable text: scanned, or fonts without Unicode."""
    glyphs = sum(len(c.glyphs) for c in contents)
    unmapped = sum(c.unmapped for c in contents)
    if unmapped > glyphs:
        raise Unreadable(f"PDF text layer is unusable: {unmapped} of {unmapped + glyphs} characters have no "
                         "Unicode mapping in their font (garbled on copy); give the text or HTML version")
    if glyphs == 0:
        if problems:
            raise Unreadable(f"no text read from the PDF: {'; '.join(problems)}", cacheable=False)
        images = sum(c.images for c in contents)
        what = f"{images} image(s) and no text" if images else "no text and no images"
        raise Unreadable(f"scanned PDF without a text layer ({n_pages} page(s), {what}): OCR is not supported; "
                         "give the text or HTML version of the report, or an OCRed PDF")


def measure_pages_per_second(files: Iterable[bytes], clock: Callable[[], float] = time.perf_counter) -> tuple[int, float]:
    """Pages read and seconds spent by :func:`read_pdf` over some PDFs (for ``make bench``)."""
    pages, seconds = 0, 0.0
    for data in files:
        begin = clock()
        doc = read_pdf(data)
        seconds += clock() - begin
        pages += doc.pages or 0
    return pages, seconds
