"""Tables as grids: ruling lines to (merged) cells, glyphs placed in cells, glyphs to text.

Pure geometry, shared by every reader that sees a page as glyph boxes and lines (the PDF reader, and
OCR of scanned pages): lines that touch each other form a table; the distinct x and y positions of its
lines form the elementary grid, and two neighbouring elementary cells with no line drawn between them
are one merged cell (a colspan or rowspan). Each glyph goes to the cell that holds its centre.
Positions are in points from the top-left corner of the page.
"""

from __future__ import annotations

import bisect
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.ingest.normalize import without_spaces

# Geometry, in points (1/72 inch).
SNAP = 2.0  # two ruling lines closer than this are one line (rounding, pieces of one border)
MIN_CELL = 4.0  # grid boundaries closer than this are one boundary (a double border is not a cell)
MIN_RULE = 3.0  # shorter segments are ticks or glyph parts, not table borders
EDGE_COVERAGE = 0.6  # share of a cell edge a line must cover to separate two cells
MAX_GRID_CELLS = 20_000  # elementary cells of one grid; a report table has a few hundred
SPACE_GAP = 0.25  # gap between glyphs (in line heights) that is a space
FIELD_GAP = 1.0  # gap (in line heights) that separates two fields of a line without ruling lines
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
NUMERIC_ONLY = re.compile(r"[\d\s.,+\-]+")


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


def cluster(values: Iterable[float], tol: float = SNAP) -> list[float]:
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


class DisjointSets:
    """Union-find over 0..n-1 (path halving): which lines touch, which grid cells are one."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _touch(h: Rule, v: Rule, tol: float) -> bool:
    return h.start - tol <= v.pos <= h.end + tol and v.start - tol <= h.pos <= v.end + tol


def _components(rules: list[Rule], tol: float) -> list[list[Rule]]:
    """Groups of lines connected through crossings: each group is one drawn table (or box)."""
    sets = DisjointSets(len(rules))

    hs = [i for i, r in enumerate(rules) if r.horizontal]
    vs = sorted((i for i, r in enumerate(rules) if not r.horizontal), key=lambda i: rules[i].pos)
    v_pos = [rules[i].pos for i in vs]
    for i in hs:
        h = rules[i]
        lo = bisect.bisect_left(v_pos, h.start - tol)
        hi = bisect.bisect_right(v_pos, h.end + tol)
        for j in vs[lo:hi]:
            if _touch(h, rules[j], tol):
                sets.join(i, j)
    groups: dict[int, list[Rule]] = {}
    for i, r in enumerate(rules):
        groups.setdefault(sets.find(i), []).append(r)
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
        xs = cluster([r.pos for r in vs] + [min(r.start for r in hs), max(r.end for r in hs)], MIN_CELL)
        ys = cluster([r.pos for r in hs] + [min(r.start for r in vs), max(r.end for r in vs)], MIN_CELL)
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
    sets = DisjointSets(n_rows * n_cols)

    for r in range(n_rows):
        for c in range(n_cols):
            here = r * n_cols + c
            if c + 1 < n_cols and not _covered(v_at[c + 1], ys[r], ys[r + 1]):
                sets.join(here, here + 1)
            if r + 1 < n_rows and not _covered(h_at[r + 1], xs[c], xs[c + 1]):
                sets.join(here, here + n_cols)
    members: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            members.setdefault(sets.find(r * n_cols + c), []).append((r, c))
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


def line_height(line: list[Glyph]) -> float:
    # statistics.median's own arithmetic without its generic checks (called for every line, often twice)
    heights = sorted([g.bottom - g.top for g in line])
    middle = len(heights) // 2
    return max(1.0, heights[middle] if len(heights) % 2 else (heights[middle - 1] + heights[middle]) / 2)


def split_fields(line: list[Glyph], field_gap: float = FIELD_GAP) -> list[list[Glyph]]:
    """A line's glyphs cut at gaps wider than ``field_gap`` line heights (columns without lines)."""
    height = line_height(line)
    fields = [[line[0]]]
    for prev, g in zip(line, line[1:]):
        if g.x0 - prev.x1 > field_gap * height:
            fields.append([g])
        else:
            fields[-1].append(g)
    return fields


def line_text(line: list[Glyph]) -> str:
    height = line_height(line)
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
        if text and not (CJK.match(text[-1]) and CJK.match(piece[0])):
            text += " "
        text += piece
    if NUMERIC_ONLY.fullmatch(text):
        text = without_spaces(text)  # one number wrapped in a narrow cell
    return text


def nested_in(inner: Grid, outer: Grid) -> bool:
    """A grid drawn inside a cell of another (a nested table) is read as part of the outer one."""
    return (inner.x0 >= outer.x0 - SNAP and inner.x1 <= outer.x1 + SNAP and inner.top >= outer.top - SNAP
            and inner.bottom <= outer.bottom + SNAP and (inner.xs, inner.ys) != (outer.xs, outer.ys))


def outermost(grids: list[Grid]) -> list[Grid]:
    """The grids that are not nested in another one (a nested table is read as part of its outer one)."""
    return [g for g in grids if not any(nested_in(g, other) for other in grids if other is not g)]
