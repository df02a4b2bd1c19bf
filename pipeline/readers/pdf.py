"""PDF input, read from the page's own structure: character boxes and ruling lines.

A text dump of a PDF loses the table (numbers land before their labels, a vertical stub is spread
one character per line). Here every page gives its glyphs (with their boxes) and its ruling lines
(stroked segments and thin filled rectangles) through PDFium. Lines that touch each other form a
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

Limits: a page limit and a time budget per file (checked between pages and inside the per-page
loops); a single PDFium call is not interruptible, but PDFium is the parser Chrome uses on hostile
files. Scanned pages (no text layer), encrypted and corrupt files raise :class:`Unreadable` with a
reason a person can act on.
"""

from __future__ import annotations

import bisect
import ctypes
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline import domain
from pipeline.normalize import is_traditional, normalize_text
from pipeline.readers import Cell, Document, Unreadable

PAGE_LIMIT = 300  # annual reports run to a few dozen pages; the tables come early
TIME_BUDGET_S = 30.0

# Geometry, in points (1/72 inch).
SNAP = 2.0  # two ruling lines closer than this are one line (double borders, rounding)
THIN_FILL = 2.5  # a filled rectangle thinner than this is drawn as a ruling line
MIN_RULE = 3.0  # shorter segments are ticks or glyph parts, not table borders
EDGE_COVERAGE = 0.6  # share of a cell edge a line must cover to separate two cells
CONTINUATION_EDGE = 4.0  # outer edges of two table parts on consecutive pages within this are one table
SPACE_GAP = 0.25  # gap between glyphs (in line heights) that is a space
FIELD_GAP = 1.0  # gap (in line heights) that separates two fields of a line without ruling lines
VISIBLE_MAX = 235  # a colour whose r, g and b are all above this is white paper, not ink
MAX_SEGMENTS_PER_PAGE = 200_000  # beyond this the page is a drawing: its paths are not read

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_NUMERIC_ONLY = re.compile(r"[\d\s.,+\-]+")
_SEGMENT_LINE, _SEGMENT_BEZIER, _SEGMENT_MOVE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Glyph:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float

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


def _covered(rules: list[Rule], pos: float, a: float, b: float, tol: float) -> bool:
    """Does a line at ``pos`` cover enough of the edge from a to b?"""
    length = b - a
    if length <= 0:
        return True
    spans = sorted((max(a, r.start), min(b, r.end)) for r in rules if abs(r.pos - pos) <= tol)
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
        xs = _cluster([r.pos for r in vs] + [min(r.start for r in hs), max(r.end for r in hs)], tol)
        ys = _cluster([r.pos for r in hs] + [min(r.start for r in vs), max(r.end for r in vs)], tol)
        if len(xs) < 3 or len(ys) < 2:
            continue
        grids.append(_grid_from_lines(xs, ys, hs, vs, tol))
    grids.sort(key=lambda g: (g.top, g.x0))
    return grids


def _grid_from_lines(xs: list[float], ys: list[float], hs: list[Rule], vs: list[Rule], tol: float) -> Grid:
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        for c in range(n_cols):
            here = r * n_cols + c
            if c + 1 < n_cols and not _covered(vs, xs[c + 1], ys[r], ys[r + 1], tol):
                parent[find(here)] = find(here + 1)
            if r + 1 < n_rows and not _covered(hs, ys[r + 1], xs[c], xs[c + 1], tol):
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


def cell_text(glyphs: list[Glyph]) -> str:
    """The text of one table cell: its lines joined; a line break between CJK characters is nothing."""
    if not glyphs:
        return ""
    text = ""
    for line in group_lines(glyphs):
        piece = line_text(line)
        if text and not (_CJK.match(text[-1]) and _CJK.match(piece[0])):
            text += " "
        text += piece
    if _NUMERIC_ONLY.fullmatch(text):
        text = re.sub(r"\s+", "", text)  # one number wrapped in a narrow cell
    return text


# --- PDFium extraction -----------------------------------------------------------------------------


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() > self.end


class _BudgetExceeded(Exception):
    pass


def _matrix(obj) -> tuple[float, ...]:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(inner: tuple[float, ...], outer: tuple[float, ...]) -> tuple[float, ...]:
    """The matrix that applies ``inner`` and then ``outer`` (PDF row-vector convention)."""
    a1, b1, c1, d1, e1, f1 = inner
    a2, b2, c2, d2, e2, f2 = outer
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _visible(getter, obj) -> bool:
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    if not getter(obj, r, g, b, a):
        return True
    if a.value == 0:
        return False
    return not (r.value > VISIBLE_MAX and g.value > VISIBLE_MAX and b.value > VISIBLE_MAX)


class _PageGeometry:
    """Page space (PDF units, origin bottom-left, unrotated) to display space (top-left, rotated)."""

    def __init__(self, page):
        left, bottom, right, top = page.get_cropbox()
        self.left, self.bottom, self.width, self.height = left, bottom, right - left, top - bottom
        self.rotation = page.get_rotation() % 360

    def point(self, x: float, y: float) -> tuple[float, float]:
        u, v = x - self.left, self.height - (y - self.bottom)  # unrotated display coordinates
        if self.rotation == 90:
            return self.height - v, u
        if self.rotation == 180:
            return self.width - u, self.height - v
        if self.rotation == 270:
            return v, self.width - u
        return u, v

    def box(self, left: float, bottom: float, right: float, top: float) -> tuple[float, float, float, float]:
        xa, ya = self.point(left, bottom)
        xb, yb = self.point(right, top)
        return min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)


@dataclass
class PageContent:
    glyphs: list[Glyph]
    rules: list[Rule]
    unmapped: int  # glyphs whose font has no Unicode mapping
    images: int


def _page_glyphs(page, geometry: _PageGeometry, deadline: _Deadline) -> tuple[list[Glyph], int]:
    """The page's characters with their boxes.

    The loose box (the font's advance width and height) is what spacing is measured on: tight ink
    boxes would put a gap inside ``11``. Some fonts report absurd loose boxes (200 points for a
    character in vertical text); those characters keep their tight box.
    """
    textpage = page.get_textpage()
    try:
        found, unmapped = [], 0
        for i in range(textpage.count_chars()):
            if i % 2000 == 0 and deadline.passed():
                raise _BudgetExceeded
            if pdfium_c.FPDFText_IsGenerated(textpage, i):
                continue  # spaces and line breaks PDFium inserts; their boxes are not on the page
            code = pdfium_c.FPDFText_GetUnicode(textpage, i)
            if code == 0 or code > 0x10FFFF or chr(code).isspace():
                continue
            if pdfium_c.FPDFText_HasUnicodeMapError(textpage, i):
                unmapped += 1
            found.append((chr(code), geometry.box(*textpage.get_charbox(i, loose=True)),
                          geometry.box(*textpage.get_charbox(i))))
    finally:
        textpage.close()
    if not found:
        return [], unmapped
    usual = statistics.median(loose[3] - loose[1] for _, loose, _ in found)
    glyphs = []
    for text, loose, tight in found:
        cx, cy = (tight[0] + tight[2]) / 2, (tight[1] + tight[3]) / 2
        plausible = (loose[3] - loose[1] <= 3 * usual and loose[2] - loose[0] <= 3 * usual
                     and loose[0] <= cx <= loose[2] and loose[1] <= cy <= loose[3])
        box = loose if plausible or tight[2] - tight[0] <= 0 else tight
        glyphs.append(Glyph(text, *box))
    return glyphs, unmapped


def _path_rules(obj, matrix, geometry: _PageGeometry, out: list[Rule]) -> int:
    """Ruling lines drawn by one path object: its axis-aligned stroked segments, and its filled
    rectangles thin enough to be lines. Returns the number of segments read."""
    fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, fill_mode, stroke):
        return 0
    stroked = bool(stroke.value) and _visible(pdfium_c.FPDFPageObj_GetStrokeColor, obj)
    filled = fill_mode.value != 0 and _visible(pdfium_c.FPDFPageObj_GetFillColor, obj)
    n = pdfium_c.FPDFPath_CountSegments(obj)
    if not (stroked or filled) or n <= 0:
        return max(n, 0)
    a, b, c, d, e, f = matrix
    x, y = ctypes.c_float(), ctypes.c_float()
    subpaths: list[list[tuple[float, float]]] = []
    straight: list[list[bool]] = []  # per subpath: is each piece a straight line
    for k in range(n):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, k)
        if not seg or not pdfium_c.FPDFPathSegment_GetPoint(seg, x, y):
            continue
        point = geometry.point(a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == _SEGMENT_MOVE or not subpaths:
            subpaths.append([point])
            straight.append([])
        else:
            subpaths[-1].append(point)
            straight[-1].append(kind == _SEGMENT_LINE)
        if pdfium_c.FPDFPathSegment_GetClose(seg) and subpaths[-1][0] != point:
            subpaths[-1].append(subpaths[-1][0])
            straight[-1].append(True)
    for points, lines in zip(subpaths, straight):
        if stroked:
            for (xa, ya), (xb, yb), is_line in zip(points, points[1:], lines):
                if not is_line:
                    continue
                if abs(ya - yb) < 0.5:
                    out.append(Rule(True, (ya + yb) / 2, min(xa, xb), max(xa, xb)))
                elif abs(xa - xb) < 0.5:
                    out.append(Rule(False, (xa + xb) / 2, min(ya, yb), max(ya, yb)))
        if filled and len(points) >= 4 and all(lines):
            xs_, ys_ = [p[0] for p in points], [p[1] for p in points]
            width, height = max(xs_) - min(xs_), max(ys_) - min(ys_)
            axis_aligned = all(abs(p[0] - q[0]) < 0.5 or abs(p[1] - q[1]) < 0.5 for p, q in zip(points, points[1:]))
            if axis_aligned and height <= THIN_FILL < width:
                out.append(Rule(True, (max(ys_) + min(ys_)) / 2, min(xs_), max(xs_)))
            elif axis_aligned and width <= THIN_FILL < height:
                out.append(Rule(False, (max(xs_) + min(xs_)) / 2, min(ys_), max(ys_)))
    return n


def _page_rules(page, geometry: _PageGeometry, deadline: _Deadline) -> tuple[list[Rule], int]:
    rules: list[Rule] = []
    images = 0
    budget = [MAX_SEGMENTS_PER_PAGE]

    def walk(container, is_form: bool, ctm: tuple[float, ...], depth: int) -> None:
        nonlocal images
        count = (pdfium_c.FPDFFormObj_CountObjects if is_form else pdfium_c.FPDFPage_CountObjects)(container)
        get = pdfium_c.FPDFFormObj_GetObject if is_form else pdfium_c.FPDFPage_GetObject
        for i in range(max(count, 0)):
            if i % 500 == 0 and deadline.passed():
                raise _BudgetExceeded
            obj = get(container, i)
            if not obj:
                continue
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                images += 1
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 12:
                walk(obj, True, _compose(_matrix(obj), ctm), depth + 1)
            elif kind == pdfium_c.FPDF_PAGEOBJ_PATH and budget[0] > 0:
                budget[0] -= _path_rules(obj, _compose(_matrix(obj), ctm), geometry, rules)

    walk(page, False, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), 0)
    return rules, images


def read_page(page, deadline: _Deadline) -> PageContent:
    geometry = _PageGeometry(page)
    glyphs, unmapped = _page_glyphs(page, geometry, deadline)
    rules, images = _page_rules(page, geometry, deadline)
    return PageContent(glyphs, rules, unmapped, images)


# --- pages to a document ---------------------------------------------------------------------------


@dataclass
class _Block:
    """One thing on a page, in reading order: a table (grid) or a line of text."""

    top: float
    grid: Grid | None = None
    line: list[Glyph] | None = None


def page_blocks(content: PageContent) -> list[_Block]:
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


def join_continued_tables(pages: list[list[_Block]]) -> int:
    """Tables that go on at the top of the next page become one grid. Returns the number of joins.

    A table continues when it is the last thing on a page (page numbers aside), the next page
    starts with a table, and the two have the same outer left and right edges.
    """
    page_number = domain.noise_patterns("page_number")
    joins = 0
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
            chain.append(first)
            joins += 1
        else:
            finish()
        if last is None or last is not first:
            finish()
        if last is not None and not chain:
            chain.append(last)
    finish()
    return joins


def _box_tag(page: int, x0: float, top: float, x1: float, bottom: float) -> str:
    return f" @p{page}:{x0:.0f},{top:.0f},{x1:.0f},{bottom:.0f}"


def blocks_to_document(pages: list[list[_Block]]) -> Document:
    page_number = domain.noise_patterns("page_number")
    sample = "".join(g.text for blocks in pages for b in blocks for g in (b.line or []))[:20000]
    traditional = is_traditional(sample)
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
                    for cell in sorted(by_row[r], key=lambda c: c.col):
                        raw = cell_text(cell.glyphs)
                        tag = _box_tag(page_no, cell.x0, cell.top, cell.x1, cell.bottom)
                        doc.cells.append(Cell(normalize_text(raw, traditional), raw + tag, page_no, next_row,
                                              cell.col, True, traditional))
                    next_row += 1
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


_PASSWORD_ERRORS = {pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY}


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in _PASSWORD_ERRORS:
            raise Unreadable("encrypted PDF: it needs a password to open; give an unprotected copy "
                             "(or its text or HTML version)") from exc
        raise Unreadable(f"corrupt or unsupported PDF: PDFium cannot open it ({exc}); "
                         "check that the download is complete, or give the text or HTML version") from exc


def read_pdf(data: bytes, page_limit: int = PAGE_LIMIT, time_budget: float = TIME_BUDGET_S) -> Document:
    """The document of one PDF, or :class:`Unreadable` with the reason it cannot be read."""
    deadline = _Deadline(time_budget)
    pdf = open_pdf(data)
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise Unreadable("PDF without pages: nothing to read")
        contents: list[PageContent] = []
        limit_note = None
        for index in range(min(n_pages, page_limit)):
            try:
                page = pdf[index]
                try:
                    contents.append(read_page(page, deadline))
                finally:
                    page.close()
            except _BudgetExceeded:
                limit_note = (f"PDF time limit ({time_budget:g} s) reached on page {index + 1} of {n_pages}: "
                              f"pages {index + 1}-{n_pages} not read")
                break
            except pdfium.PdfiumError as exc:
                raise Unreadable(f"corrupt PDF: page {index + 1} of {n_pages} cannot be read ({exc})") from exc
        if limit_note is None and n_pages > page_limit:
            limit_note = f"PDF page limit: only the first {page_limit} of {n_pages} pages read"
    finally:
        pdf.close()
    _check_text_layer(contents, n_pages, limit_note)
    pages = [page_blocks(c) for c in contents]
    joins = join_continued_tables(pages)
    doc = blocks_to_document(pages)
    doc.pages = len(contents)
    if joins:
        doc.notes.append(f"{joins} table(s) continued on the next page joined")
    if limit_note:
        doc.problems.append(limit_note)
    return doc


def _check_text_layer(contents: list[PageContent], n_pages: int, limit_note: str | None) -> None:
    glyphs = sum(len(c.glyphs) for c in contents)
    images = sum(c.images for c in contents)
    if glyphs == 0:
        if limit_note:
            raise Unreadable(f"no text read from the PDF before its limit: {limit_note}")
        what = f"{images} image(s) and no text" if images else "no text and no images"
        raise Unreadable(f"scanned PDF without a text layer ({n_pages} page(s), {what}): OCR is not supported; "
                         "give the text or HTML version of the report, or an OCRed PDF")
    unmapped = sum(c.unmapped for c in contents)
    if unmapped > glyphs / 2:
        raise Unreadable(f"PDF text layer is unusable: {unmapped} of {glyphs} characters have no Unicode "
                         "mapping in their font (garbled on copy); give the text or HTML version")


def pdf_page_count(data: bytes) -> int:
    pdf = open_pdf(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


def measure_pages_per_second(files: Iterable[bytes], clock: Callable[[], float] = time.perf_counter) -> tuple[int, float]:
    """Pages read and seconds spent by :func:`read_pdf` over some PDFs (for ``make bench``)."""
    pages, seconds = 0, 0.0
    for data in files:
        start = clock()
        doc = read_pdf(data)
        seconds += clock() - start
        pages += doc.pages or 0
    return pages, seconds
